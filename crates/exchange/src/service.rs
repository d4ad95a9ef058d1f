//! The rules of the catalogue: who publishes, how resources are validated and searched,
//! how requests become agreements, and the DCAT export. No HTTP here.

use std::collections::HashMap;

use kernel::api::{Page, PageQuery, text};
use kernel::audit::{AuditEvent, Basis, commit_audited};
use kernel::auth::{Principal, Role};
use kernel::db::is_unique_violation;
use kernel::ids::{is_uuid, new_id};
use kernel::time::Timestamp;
use kernel::{ApiError, ApiResult, AppState};
use serde_json::{Map, Value, json};

use crate::model::*;
use crate::store::{self, AgreementRow, RequestRow, ResourceRow};

/// A reference in the body that names nothing is the body's fault (400 on that field);
/// other failures pass through.
fn not_found_as_invalid(error: ApiError, field: &str, detail: &str) -> ApiError {
    match error {
        ApiError::NotFound(_) => ApiError::invalid(field, detail),
        other => other,
    }
}

/// Has the gateway look resources and agreements up afresh (after one changed).
fn forget_terms(state: &AppState) {
    if let Ok(gateway) = crate::gateway::Gateway::of(state) {
        gateway.forget_terms();
    }
}

/// Codes a resource may not take: they are path words of `/api/v1/exchange/…`.
const RESERVED_CODES: &[&str] = &[
    "resources",
    "requests",
    "agreements",
    "dcat",
    "keys",
    "traffic",
];

/// Default calls per minute of a new agreement.
pub const DEFAULT_RATE_PER_MINUTE: i64 = 600;
const YEAR_MINUTES: i64 = 365 * 24 * 60;

fn json_list(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".into())
}

fn parse_list(raw: &str) -> Vec<String> {
    serde_json::from_str(raw).unwrap_or_default()
}

pub(crate) fn resource_view(row: ResourceRow) -> Resource {
    Resource {
        fields: serde_json::from_str(&row.fields).unwrap_or_default(),
        sharing_class: SharingClass::parse(&row.sharing_class).unwrap_or(SharingClass::NotShared),
        update_frequency: UpdateFrequency::parse(&row.update_frequency)
            .unwrap_or(UpdateFrequency::Daily),
        serving: Serving::parse(&row.serving).unwrap_or(Serving::Hosted),
        subject_kind: SubjectKind::parse(&row.subject_kind).unwrap_or(SubjectKind::Person),
        keywords: parse_list(&row.keywords),
        id: row.id,
        code: row.code,
        name: row.name,
        description: row.description,
        provider_org_id: row.provider_org_id,
        provider_name: row.provider_name,
        legal_reason: row.legal_reason,
        endpoint_url: row.endpoint_url,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

fn request_view(row: RequestRow) -> SharingRequest {
    SharingRequest {
        fields: parse_list(&row.fields),
        status: RequestStatus::parse(&row.status).unwrap_or(RequestStatus::Pending),
        id: row.id,
        resource_id: row.resource_id,
        resource_name: row.resource_name,
        consumer_org_id: row.consumer_org_id,
        consumer_name: row.consumer_name,
        purpose: row.purpose,
        legal_basis: row.legal_basis,
        expected_calls_per_day: row.expected_calls_per_day,
        decision_reason: row.decision_reason,
        agreement_id: row.agreement_id,
        created_at: row.created_at,
        decided_at: row.decided_at,
    }
}

fn agreement_view(row: AgreementRow) -> Agreement {
    Agreement {
        fields: parse_list(&row.fields),
        id: row.id,
        request_id: row.request_id,
        resource_id: row.resource_id,
        resource_name: row.resource_name,
        provider_org_id: row.provider_org_id,
        consumer_org_id: row.consumer_org_id,
        consumer_name: row.consumer_name,
        purpose: row.purpose,
        legal_basis: row.legal_basis,
        statutory: row.statutory,
        rate_limit_per_minute: row.rate_limit_per_minute,
        expires_at: row.expires_at,
        revoked_at: row.revoked_at,
        created_at: row.created_at,
    }
}

/// The organisation `actor` acts for in the exchange: `requested` if she is its data
/// officer (org admin or reviewer) or a platform admin, else her own organisation.
pub(crate) fn officer_of(actor: &Principal, requested: Option<&str>) -> ApiResult<String> {
    let org = match requested {
        Some(org) => {
            if !is_uuid(org) {
                return Err(ApiError::invalid(
                    "organisation",
                    "not a valid organisation id",
                ));
            }
            org.to_string()
        }
        None => actor
            .organisation_id()
            .ok_or_else(|| {
                ApiError::Forbidden("only an organisation's data officer can do this".into())
            })?
            .to_string(),
    };
    if actor.is_platform_admin()
        || actor.has_role_in(Role::OrgAdmin, &org)
        || actor.has_role_in(Role::Reviewer, &org)
    {
        Ok(org)
    } else {
        Err(ApiError::Forbidden(
            "this needs the administrator or reviewer role of that organisation".into(),
        ))
    }
}

fn check_fields(fields: &[FieldSpec]) -> ApiResult<()> {
    if fields.is_empty() || fields.len() > 100 {
        return Err(ApiError::invalid(
            "fields",
            "a resource has 1 to 100 fields",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, f) in fields.iter().enumerate() {
        let name_ok = (1..=48).contains(&f.name.len())
            && f.name.as_bytes()[0].is_ascii_lowercase()
            && f.name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !name_ok {
            return Err(ApiError::invalid(
                format!("fields[{i}].name"),
                "a field name has 1-48 of a-z, 0-9 and _, starting with a letter",
            ));
        }
        if !seen.insert(f.name.as_str()) {
            return Err(ApiError::invalid(
                format!("fields[{i}].name"),
                format!("the field '{}' appears twice", f.name),
            ));
        }
        text(&format!("fields[{i}].title"), &f.title, 64, true)?;
    }
    Ok(())
}

/// Publishes a resource in the catalogue.
pub async fn publish(state: &AppState, actor: &Principal, new: NewResource) -> ApiResult<Resource> {
    let provider = officer_of(actor, new.provider_org_id.as_deref())?;
    identity::service::get_organisation(state, &provider)
        .await
        .map_err(|_| ApiError::invalid("provider_org_id", "no organisation with that id"))?;
    let code = new.code.trim().to_string();
    if !(3..=64).contains(&code.len())
        || !code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        || code.starts_with('-')
    {
        return Err(ApiError::invalid(
            "code",
            "a resource code has 3-64 of a-z, 0-9 and -",
        ));
    }
    if RESERVED_CODES.contains(&code.as_str()) {
        return Err(ApiError::invalid(
            "code",
            format!("'{code}' is a word of the exchange's own addresses; choose another code"),
        ));
    }
    let name = text("name", &new.name, 64, true)?;
    let description = text("description", &new.description, 1000, true)?;
    check_fields(&new.fields)?;
    let legal_reason = new
        .legal_reason
        .as_deref()
        .map(|r| text("legal_reason", r, 500, false))
        .transpose()?
        .filter(|r| !r.is_empty());
    if new.sharing_class == SharingClass::NotShared && legal_reason.is_none() {
        return Err(ApiError::invalid(
            "legal_reason",
            "a resource that is not shared must cite the legal reason",
        ));
    }
    let endpoint_url = new
        .endpoint_url
        .as_deref()
        .map(|u| text("endpoint_url", u, 500, false))
        .transpose()?
        .filter(|u| !u.is_empty());
    match (new.serving, &endpoint_url) {
        (Serving::Proxied, None) => {
            return Err(ApiError::invalid(
                "endpoint_url",
                "a proxied resource needs the provider's endpoint URL",
            ));
        }
        (Serving::Proxied, Some(u)) if !(u.starts_with("http://") || u.starts_with("https://")) => {
            return Err(ApiError::invalid(
                "endpoint_url",
                "the endpoint URL starts with http:// or https://",
            ));
        }
        _ => {}
    }
    if new.keywords.len() > 20 {
        return Err(ApiError::invalid("keywords", "at most 20 keywords"));
    }
    let keywords = new
        .keywords
        .iter()
        .enumerate()
        .map(|(i, k)| text(&format!("keywords[{i}]"), k, 32, true))
        .collect::<ApiResult<Vec<_>>>()?;
    let now = Timestamp::now();
    let row = ResourceRow {
        id: new_id(),
        code,
        name,
        description,
        provider_org_id: provider,
        provider_name: String::new(),
        fields: serde_json::to_string(&new.fields).map_err(|e| ApiError::Unexpected(e.into()))?,
        sharing_class: new.sharing_class.as_str().into(),
        legal_reason,
        update_frequency: new.update_frequency.as_str().into(),
        serving: new.serving.as_str().into(),
        subject_kind: new.subject_kind.as_str().into(),
        endpoint_url,
        keywords: json_list(&keywords),
        created_at: now,
        updated_at: now,
    };
    let mut tx = state.db.begin().await?;
    store::insert_resource(&mut tx, &row).await.map_err(|e| {
        if is_unique_violation(&e) {
            ApiError::Conflict(format!(
                "a resource with code '{}' already exists",
                row.code
            ))
        } else {
            e.into()
        }
    })?;
    let event = AuditEvent::by(actor, "resource.publish", format!("resource:{}", row.code));
    state.audit.record_in(&mut tx, event).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    forget_terms(state);
    get_resource(state, &row.id).await
}

/// One resource, by id or code.
pub async fn get_resource(state: &AppState, id_or_code: &str) -> ApiResult<Resource> {
    if id_or_code.is_empty() || id_or_code.len() > 64 {
        return Err(ApiError::NotFound("no such resource".into()));
    }
    store::get_resource(&state.db, id_or_code)
        .await?
        .map(resource_view)
        .ok_or_else(|| ApiError::NotFound(format!("no resource '{id_or_code}' in the catalogue")))
}

/// Searches the catalogue (anyone may).
pub async fn search(
    state: &AppState,
    q: Option<&str>,
    page: &PageQuery,
) -> ApiResult<Page<Resource>> {
    let q = q
        .map(|q| text("q", q, 64, false))
        .transpose()?
        .filter(|q| !q.is_empty());
    let rows = store::list_resources(&state.db, q.as_deref(), page.cursor()?, page.limit()).await?;
    let items = rows.into_iter().map(resource_view).collect();
    Ok(Page::from_rows(items, page.limit(), |r: &Resource| {
        r.code.clone()
    }))
}

fn frequency_iri(f: UpdateFrequency) -> &'static str {
    match f {
        UpdateFrequency::Realtime => "http://purl.org/cld/freq/continuous",
        UpdateFrequency::Daily => "http://purl.org/cld/freq/daily",
        UpdateFrequency::Weekly => "http://purl.org/cld/freq/weekly",
        UpdateFrequency::Monthly => "http://purl.org/cld/freq/monthly",
        UpdateFrequency::Yearly => "http://purl.org/cld/freq/annual",
    }
}

fn access_rights_iri(c: SharingClass) -> &'static str {
    match c {
        SharingClass::Unconditional => {
            "http://publications.europa.eu/resource/authority/access-right/PUBLIC"
        }
        SharingClass::Conditional => {
            "http://publications.europa.eu/resource/authority/access-right/RESTRICTED"
        }
        SharingClass::NotShared => {
            "http://publications.europa.eu/resource/authority/access-right/NON_PUBLIC"
        }
    }
}

/// The whole catalogue as DCAT 3 in JSON-LD.
pub async fn dcat(state: &AppState) -> ApiResult<Value> {
    let base = state.config.public_base_url();
    let datasets: Vec<Value> = store::all_resources(&state.db)
        .await?
        .into_iter()
        .map(resource_view)
        .map(|r| {
            json!({
                "@id": format!("{base}/api/v1/exchange/resources/{}", r.code),
                "@type": "dcat:Dataset",
                "dct:identifier": r.code,
                "dct:title": r.name,
                "dct:description": r.description,
                "dct:publisher": {"@type": "foaf:Organization", "foaf:name": r.provider_name},
                "dcat:keyword": r.keywords,
                "dct:accrualPeriodicity": {"@id": frequency_iri(r.update_frequency)},
                "dct:accessRights": {"@id": access_rights_iri(r.sharing_class)},
                "dct:issued": {"@value": r.created_at.rfc3339(), "@type": "xsd:dateTime"},
                "dct:modified": {"@value": r.updated_at.rfc3339(), "@type": "xsd:dateTime"},
                "civitas:sharingClass": r.sharing_class.as_str(),
                "civitas:fields": r.fields.iter().map(|f| json!({
                    "name": f.name, "title": f.title, "type": f.field_type.as_str(),
                    "sensitivity": f.sensitivity.as_str(),
                })).collect::<Vec<_>>(),
                "dcat:distribution": [{
                    "@type": "dcat:Distribution",
                    "dcat:accessURL": {"@id": format!("{base}/api/v1/exchange/{}/records/{{subject}}", r.code)},
                    "dcat:mediaType": "application/json",
                }],
            })
        })
        .collect();
    Ok(json!({
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/",
            "xsd": "http://www.w3.org/2001/XMLSchema#",
            "civitas": format!("{base}/ns#"),
        },
        "@id": format!("{base}/api/v1/exchange/dcat"),
        "@type": "dcat:Catalog",
        "dct:title": "Civitas data resource catalogue (数据资源目录)",
        "dcat:dataset": datasets,
    }))
}

fn check_field_names(field: &str, wanted: &[String], allowed: &[String]) -> ApiResult<Vec<String>> {
    if wanted.is_empty() || wanted.len() > 100 {
        return Err(ApiError::invalid(field, "choose 1 to 100 fields"));
    }
    let mut out = Vec::with_capacity(wanted.len());
    for (i, f) in wanted.iter().enumerate() {
        if !allowed.iter().any(|a| a == f) {
            return Err(ApiError::invalid(
                format!("{field}[{i}]"),
                format!(
                    "'{}' is not one of the fields here",
                    f.chars().take(48).collect::<String>()
                ),
            ));
        }
        if !out.contains(f) {
            out.push(f.clone());
        }
    }
    Ok(out)
}

/// Files a sharing request; requests for unconditional resources are approved at once.
pub async fn file_request(
    state: &AppState,
    actor: &Principal,
    new: NewRequest,
) -> ApiResult<SharingRequest> {
    let consumer = officer_of(actor, new.consumer_org_id.as_deref())?;
    identity::service::get_organisation(state, &consumer)
        .await
        .map_err(|e| not_found_as_invalid(e, "consumer_org_id", "no organisation with that id"))?;
    let resource = get_resource(state, new.resource.trim())
        .await
        .map_err(|e| not_found_as_invalid(e, "resource", "no such resource in the catalogue"))?;
    if resource.sharing_class == SharingClass::NotShared {
        return Err(ApiError::Conflict(format!(
            "'{}' is not shared: {}",
            resource.name,
            resource.legal_reason.clone().unwrap_or_default()
        )));
    }
    let all: Vec<String> = resource.fields.iter().map(|f| f.name.clone()).collect();
    let fields = check_field_names("fields", &new.fields, &all)?;
    let purpose = text("purpose", &new.purpose, 500, true)?;
    let legal_basis = text("legal_basis", &new.legal_basis, 500, true)?;
    if !(1..=100_000_000).contains(&new.expected_calls_per_day) {
        return Err(ApiError::invalid(
            "expected_calls_per_day",
            "expected calls per day are between 1 and 100,000,000",
        ));
    }
    let id = new_id();
    let mut tx = state.db.begin().await?;
    store::insert_request(
        &mut tx,
        &id,
        &resource.id,
        &consumer,
        &json_list(&fields),
        &purpose,
        &legal_basis,
        new.statutory,
        new.expected_calls_per_day,
        &actor.account_id,
    )
    .await?;
    let event = AuditEvent::by(
        actor,
        "request.file",
        format!("request:{id} resource:{}", resource.code),
    )
    .because(purpose.clone(), Basis::NotApplicable);
    state.audit.record_in(&mut tx, event).await?;
    let consumer_kind = identity::service::get_organisation(state, &consumer)
        .await?
        .kind;
    if resource.sharing_class == SharingClass::Unconditional
        && consumer_kind == identity::model::OrgKind::GovernmentDepartment
    {
        // Unconditional sharing is between government departments: they get an agreement
        // at once, so every call has a named basis. Others wait for the provider.
        let row = RequestRow {
            id: id.clone(),
            resource_id: resource.id.clone(),
            resource_name: resource.name.clone(),
            provider_org_id: resource.provider_org_id.clone(),
            consumer_org_id: consumer.clone(),
            consumer_name: String::new(),
            fields: json_list(&fields),
            purpose,
            legal_basis,
            statutory: new.statutory,
            expected_calls_per_day: new.expected_calls_per_day,
            status: "pending".into(),
            decision_reason: None,
            agreement_id: None,
            created_at: Timestamp::now(),
            decided_at: None,
        };
        approve_in(
            state,
            &mut tx,
            actor,
            &row,
            &fields,
            Timestamp::now().plus_minutes(YEAR_MINUTES),
            DEFAULT_RATE_PER_MINUTE,
            Some("unconditional resource: approved automatically"),
        )
        .await?;
    }
    commit_audited(state.audit.as_ref(), tx).await?;
    forget_terms(state);
    get_request(state, &id).await
}

#[allow(clippy::too_many_arguments)]
async fn approve_in(
    state: &AppState,
    tx: &mut kernel::db::Tx,
    actor: &Principal,
    request: &RequestRow,
    fields: &[String],
    expires_at: Timestamp,
    rate: i64,
    note: Option<&str>,
) -> ApiResult<String> {
    if !store::decide_request(tx, &request.id, "approved", note, &actor.account_id).await? {
        return Err(ApiError::Conflict(
            "this request was already decided".into(),
        ));
    }
    let agreement = new_id();
    store::insert_agreement(
        tx,
        &agreement,
        request,
        &json_list(fields),
        rate,
        expires_at,
    )
    .await?;
    let event = AuditEvent::by(
        actor,
        "request.approve",
        format!(
            "request:{} agreement:{agreement} fields:{}",
            request.id,
            fields.join(",")
        ),
    );
    state.audit.record_in(tx, event).await?;
    Ok(agreement)
}

/// One request, to its provider or consumer (or a platform admin).
pub async fn get_request(state: &AppState, id: &str) -> ApiResult<SharingRequest> {
    if !is_uuid(id) {
        return Err(ApiError::NotFound("no such request".into()));
    }
    store::get_request(&state.db, id)
        .await?
        .map(request_view)
        .ok_or_else(|| ApiError::NotFound("no such request".into()))
}

/// One request, if the actor is an officer of its provider or its consumer.
pub async fn request_for(
    state: &AppState,
    actor: &Principal,
    id: &str,
) -> ApiResult<SharingRequest> {
    let not_found = || ApiError::NotFound("no such request".into());
    if !is_uuid(id) {
        return Err(not_found());
    }
    let row = store::get_request(&state.db, id)
        .await?
        .ok_or_else(not_found)?;
    if officer_of(actor, Some(&row.provider_org_id)).is_err()
        && officer_of(actor, Some(&row.consumer_org_id)).is_err()
    {
        return Err(not_found());
    }
    Ok(request_view(row))
}

/// The provider decides a pending request: approve (optionally narrowing the fields,
/// setting an expiry and a rate limit) or reject with a reason.
pub async fn decide(
    state: &AppState,
    actor: &Principal,
    id: &str,
    decision: Decision,
) -> ApiResult<SharingRequest> {
    if !is_uuid(id) {
        return Err(ApiError::NotFound("no such request".into()));
    }
    let request = store::get_request(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such request".into()))?;
    officer_of(actor, Some(&request.provider_org_id))?;
    if request.status != "pending" {
        return Err(ApiError::Conflict(format!(
            "this request is already {}",
            request.status
        )));
    }
    let reason = decision
        .reason
        .as_deref()
        .map(|r| text("reason", r, 500, false))
        .transpose()?
        .filter(|r| !r.is_empty());
    let mut tx = state.db.begin().await?;
    if decision.approve {
        let asked = parse_list(&request.fields);
        let fields = match &decision.fields {
            Some(narrowed) => check_field_names("fields", narrowed, &asked)?,
            None => asked,
        };
        let now = Timestamp::now();
        let expires_at = decision
            .expires_at
            .unwrap_or(now.plus_minutes(YEAR_MINUTES));
        if expires_at <= now || expires_at > now.plus_minutes(5 * YEAR_MINUTES + 2 * 24 * 60) {
            return Err(ApiError::invalid(
                "expires_at",
                "the expiry is in the future, at most five years ahead",
            ));
        }
        let rate = decision
            .rate_limit_per_minute
            .unwrap_or(DEFAULT_RATE_PER_MINUTE);
        if !(1..=1_000_000).contains(&rate) {
            return Err(ApiError::invalid(
                "rate_limit_per_minute",
                "between 1 and 1,000,000 calls per minute",
            ));
        }
        approve_in(
            state,
            &mut tx,
            actor,
            &request,
            &fields,
            expires_at,
            rate,
            reason.as_deref(),
        )
        .await?;
    } else {
        let reason =
            reason.ok_or_else(|| ApiError::invalid("reason", "say why the request is rejected"))?;
        if !store::decide_request(&mut tx, id, "rejected", Some(&reason), &actor.account_id).await?
        {
            return Err(ApiError::Conflict(
                "this request was already decided".into(),
            ));
        }
        let event = AuditEvent::by(actor, "request.reject", format!("request:{id}"))
            .because(reason, Basis::NotApplicable);
        state.audit.record_in(&mut tx, event).await?;
    }
    commit_audited(state.audit.as_ref(), tx).await?;
    forget_terms(state);
    get_request(state, id).await
}

/// Requests to (`incoming`) or from the actor's organisation.
pub async fn list_requests(
    state: &AppState,
    actor: &Principal,
    organisation: Option<&str>,
    incoming: bool,
) -> ApiResult<Vec<SharingRequest>> {
    let org = officer_of(actor, organisation)?;
    Ok(store::list_requests(&state.db, &org, incoming)
        .await?
        .into_iter()
        .map(request_view)
        .collect())
}

/// Agreements of the actor's organisation, as provider or consumer.
pub async fn list_agreements(
    state: &AppState,
    actor: &Principal,
    organisation: Option<&str>,
) -> ApiResult<Vec<Agreement>> {
    let org = officer_of(actor, organisation)?;
    Ok(store::list_agreements(&state.db, &org)
        .await?
        .into_iter()
        .map(agreement_view)
        .collect())
}

/// One agreement, to its provider, its consumer or a platform admin.
pub async fn get_agreement(state: &AppState, actor: &Principal, id: &str) -> ApiResult<Agreement> {
    let not_found = || ApiError::NotFound("no such agreement".into());
    if !is_uuid(id) {
        return Err(not_found());
    }
    let row = store::get_agreement(&state.db, id)
        .await?
        .ok_or_else(not_found)?;
    if officer_of(actor, Some(&row.provider_org_id)).is_err()
        && officer_of(actor, Some(&row.consumer_org_id)).is_err()
    {
        return Err(not_found());
    }
    Ok(agreement_view(row))
}

/// The provider revokes an agreement; calls under it stop at once.
pub async fn revoke_agreement(
    state: &AppState,
    actor: &Principal,
    id: &str,
) -> ApiResult<Agreement> {
    let agreement = get_agreement(state, actor, id).await?;
    officer_of(actor, Some(&agreement.provider_org_id))?;
    let mut tx = state.db.begin().await?;
    if !store::revoke_agreement(&mut tx, id).await? {
        return Err(ApiError::Conflict(
            "this agreement was already revoked".into(),
        ));
    }
    let event = AuditEvent::by(actor, "agreement.revoke", format!("agreement:{id}"));
    state.audit.record_in(&mut tx, event).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    forget_terms(state);
    get_agreement(state, actor, id).await
}

// ---- hosted records ----

/// Most records in one import.
pub const MAX_IMPORT_RECORDS: usize = 100_000;

/// The formats an import accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ImportFormat {
    /// CSV with a header row: `subject` and field names.
    Csv,
    /// One JSON object per line: `subject` and field names.
    JsonLines,
}

/// Checks one value against its field's type and returns it typed; `None` for blank.
fn typed_value(field: &FieldSpec, raw: &Value) -> Result<Value, &'static str> {
    let text = match raw {
        Value::Null => return Ok(Value::Null),
        Value::String(s) if s.trim().is_empty() => return Ok(Value::Null),
        Value::String(s) => Some(s.trim()),
        _ => None,
    };
    match field.field_type {
        FieldType::String => match raw {
            Value::String(s) if s.chars().count() <= 2000 => Ok(Value::String(s.trim().into())),
            Value::String(_) => Err("is longer than 2,000 characters"),
            Value::Number(n) => Ok(Value::String(n.to_string())),
            _ => Err("is not text"),
        },
        FieldType::Integer => match (raw, text) {
            (Value::Number(n), _) if n.is_i64() => Ok(raw.clone()),
            (_, Some(t)) => t
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| "is not a whole number"),
            _ => Err("is not a whole number"),
        },
        FieldType::Number => match (raw, text) {
            (Value::Number(_), _) => Ok(raw.clone()),
            (_, Some(t)) => t
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .map(Value::from)
                .ok_or("is not a number"),
            _ => Err("is not a number"),
        },
        FieldType::Boolean => match (raw, text) {
            (Value::Bool(_), _) => Ok(raw.clone()),
            (_, Some("true" | "1" | "是" | "yes")) => Ok(Value::Bool(true)),
            (_, Some("false" | "0" | "否" | "no")) => Ok(Value::Bool(false)),
            _ => Err("is not true or false"),
        },
        FieldType::Date => match text {
            Some(t)
                if time::Date::parse(
                    t,
                    time::macros::format_description!("[year]-[month]-[day]"),
                )
                .is_ok() =>
            {
                Ok(Value::String(t.into()))
            }
            _ => Err("is not a date (YYYY-MM-DD)"),
        },
    }
}

/// One record as read from an import: (line number, subject, untyped fields).
type RawRecord = (usize, String, Map<String, Value>);

/// Reads an import body into (subject, raw fields) per record, checking the columns.
fn read_import(format: ImportFormat, body: &str, resource: &Resource) -> ApiResult<Vec<RawRecord>> {
    let known = |name: &str| resource.fields.iter().any(|f| f.name == name);
    let mut out = Vec::new();
    match format {
        ImportFormat::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .trim(csv::Trim::All)
                .from_reader(body.as_bytes());
            let headers = reader
                .headers()
                .map_err(|_| ApiError::invalid("line 1", "the header row cannot be read as CSV"))?
                .clone();
            if !headers.iter().any(|h| h == "subject") {
                return Err(ApiError::invalid(
                    "line 1",
                    "the header row needs a 'subject' column (resident ID or credit code)",
                ));
            }
            for h in headers.iter().filter(|h| *h != "subject") {
                if !known(h) {
                    return Err(ApiError::invalid(
                        "line 1",
                        format!(
                            "column '{}' is not a field of this resource",
                            h.chars().take(48).collect::<String>()
                        ),
                    ));
                }
            }
            for (i, row) in reader.records().enumerate() {
                let line = i + 2;
                let row = row.map_err(|_| {
                    ApiError::invalid(
                        format!("line {line}"),
                        "this line is not valid CSV, or has the wrong number of columns",
                    )
                })?;
                let mut subject = String::new();
                let mut fields = Map::new();
                for (h, v) in headers.iter().zip(row.iter()) {
                    if h == "subject" {
                        subject = v.to_string();
                    } else {
                        fields.insert(h.to_string(), Value::String(v.to_string()));
                    }
                }
                out.push((line, subject, fields));
                if out.len() > MAX_IMPORT_RECORDS {
                    break;
                }
            }
        }
        ImportFormat::JsonLines => {
            for (i, text) in body.lines().enumerate() {
                let line = i + 1;
                if text.trim().is_empty() {
                    continue;
                }
                let mut object: Map<String, Value> = serde_json::from_str(text).map_err(|_| {
                    ApiError::invalid(format!("line {line}"), "this line is not a JSON object")
                })?;
                let subject = match object.remove("subject") {
                    Some(Value::String(s)) => s,
                    _ => {
                        return Err(ApiError::invalid(
                            format!("line {line}"),
                            "each line needs \"subject\": the resident ID or credit code",
                        ));
                    }
                };
                if let Some(unknown) = object.keys().find(|k| !known(k)) {
                    return Err(ApiError::invalid(
                        format!("line {line}"),
                        format!(
                            "'{}' is not a field of this resource",
                            unknown.chars().take(48).collect::<String>()
                        ),
                    ));
                }
                out.push((line, subject, object));
                if out.len() > MAX_IMPORT_RECORDS {
                    break;
                }
            }
        }
    }
    if out.is_empty() {
        return Err(ApiError::bad_request("the import holds no records"));
    }
    if out.len() > MAX_IMPORT_RECORDS {
        return Err(ApiError::PayloadTooLarge(format!(
            "an import holds at most {MAX_IMPORT_RECORDS} records; split it"
        )));
    }
    Ok(out)
}

/// Loads records of a hosted resource (its provider's officers only). All or nothing:
/// the first bad line is named and nothing is written.
pub async fn import_records(
    state: &AppState,
    actor: &Principal,
    resource_ref: &str,
    format: ImportFormat,
    body: &str,
) -> ApiResult<ImportReport> {
    let resource = get_resource(state, resource_ref).await?;
    officer_of(actor, Some(&resource.provider_org_id))?;
    if resource.serving != Serving::Hosted {
        return Err(ApiError::Conflict(
            "this resource is proxied: its records stay with the provider's own system".into(),
        ));
    }
    let raw = read_import(format, body, &resource)?;
    let mut seen = std::collections::HashSet::new();
    let mut rows = Vec::with_capacity(raw.len());
    for (line, subject, fields) in raw {
        let hash = crate::gateway::subject_hash(state, resource.subject_kind, subject.trim())
            .map_err(|why| {
                ApiError::invalid(
                    format!("line {line}.subject"),
                    format!("line {line}: the subject is not valid: {why}"),
                )
            })?;
        if !seen.insert(hash.clone()) {
            return Err(ApiError::invalid(
                format!("line {line}.subject"),
                format!("line {line}: this subject appears earlier in the import"),
            ));
        }
        let mut typed = Map::new();
        for (name, value) in fields {
            let Some(spec) = resource.fields.iter().find(|f| f.name == name) else {
                continue;
            };
            let value = typed_value(spec, &value).map_err(|why| {
                ApiError::invalid(
                    format!("line {line}.{name}"),
                    format!("line {line}: '{name}' {why}"),
                )
            })?;
            typed.insert(name, value);
        }
        rows.push((hash, typed));
    }
    let persons = if resource.subject_kind == SubjectKind::Person {
        let hashes: Vec<String> = rows.iter().map(|(h, _)| h.clone()).collect();
        identity::service::person_ids_by_hashes(state, &hashes).await?
    } else {
        Default::default()
    };
    let mut records = Vec::with_capacity(rows.len());
    for (hash, typed) in rows {
        let json = serde_json::to_string(&typed).map_err(|e| ApiError::Unexpected(e.into()))?;
        let data = state
            .vault
            .seal(&json, &crate::gateway::record_context(&resource.id, &hash))
            .map_err(ApiError::Unexpected)?;
        records.push(store::RecordRow {
            person_id: persons.get(&hash).cloned(),
            subject_hash: hash,
            data,
        });
    }
    let linked = records.iter().filter(|r| r.person_id.is_some()).count() as u64;
    let mut tx = state.db.begin().await?;
    let replaced = store::upsert_records(&mut tx, &resource.id, &records).await?;
    // What the register knows about these persons changed: the benefit policies look again.
    let changed: Vec<String> = records.iter().filter_map(|r| r.person_id.clone()).collect();
    identity::store::record_changes(&mut tx, &changed, "exchange", Timestamp::now()).await?;
    let event = AuditEvent::by(
        actor,
        "records.import",
        format!("exchange:{} records:{}", resource.code, records.len()),
    );
    state.audit.record_in(&mut tx, event).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    Ok(ImportReport {
        records: records.len() as u64,
        replaced,
        linked_to_persons: linked,
        total: store::count_records(&state.db, &resource.id).await?,
    })
}

/// Fields of a hosted person resource for many persons at once, read by `consumer` (a
/// department running a benefit policy over the register): the provider itself, or a
/// consumer holding an agreement in force for every field asked that needs no one's
/// consent (a statutory duty, or shared without conditions). Persons without a record are
/// left out. One audit record names the consumer, the resource, the fields, how many
/// persons and `purpose` under `basis`.
pub async fn fields_of_persons(
    state: &AppState,
    consumer: &str,
    resource_code: &str,
    fields: &[String],
    persons: &[String],
    purpose: &str,
    basis: Basis,
) -> ApiResult<HashMap<String, Map<String, Value>>> {
    let resource = get_resource(state, resource_code).await?;
    if resource.serving != Serving::Hosted || resource.subject_kind != SubjectKind::Person {
        return Err(ApiError::Conflict(format!(
            "{resource_code} is not a hosted resource about persons: a run cannot read it"
        )));
    }
    if let Some(unknown) = fields
        .iter()
        .find(|f| !resource.fields.iter().any(|s| &s.name == *f))
    {
        return Err(ApiError::Conflict(format!(
            "{resource_code} has no field {unknown}"
        )));
    }
    if resource.provider_org_id != consumer {
        let now = Timestamp::now();
        let agreements = store::agreements_for(&state.db, consumer, &resource.id).await?;
        let in_force = agreements.iter().find(|a| {
            let granted: Vec<String> = serde_json::from_str(&a.fields).unwrap_or_default();
            a.revoked_at.is_none()
                && a.expires_at > now
                && fields.iter().all(|f| granted.contains(f))
        });
        let Some(agreement) = in_force else {
            return Err(ApiError::Forbidden(format!(
                "no agreement in force lets this department read {} of {resource_code}",
                fields.join(", ")
            )));
        };
        if resource.sharing_class == SharingClass::Conditional && !agreement.statutory {
            return Err(ApiError::Forbidden(format!(
                "reading {resource_code} needs each person's consent under its agreement: a run over the register cannot"
            )));
        }
    }
    if persons.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = store::records_of_persons(&state.db, &resource.id, persons).await?;
    let mut out = HashMap::with_capacity(rows.len());
    for (person, hash, data) in rows {
        let json = state
            .vault
            .open(&data, &crate::gateway::record_context(&resource.id, &hash))
            .map_err(ApiError::Unexpected)?;
        let record: Map<String, Value> =
            serde_json::from_str(&json).map_err(|e| ApiError::Unexpected(e.into()))?;
        let picked = record
            .into_iter()
            .filter(|(k, _)| fields.contains(k))
            .collect();
        out.insert(person, picked);
    }
    let mut event = AuditEvent::by(
        &Principal::system(),
        "records.read",
        format!(
            "exchange:{resource_code} fields:{} persons:{} consumer:{consumer}",
            fields.join(","),
            persons.len()
        ),
    );
    event.purpose = purpose.to_string();
    event.basis = basis;
    state.audit.record(event).await?;
    Ok(out)
}

/// How many records a hosted resource holds.
pub async fn record_count(state: &AppState, resource_id: &str) -> ApiResult<i64> {
    Ok(store::count_records(&state.db, resource_id).await?)
}

// ---- consents ----

/// A resident (or her proxy) consents to a consumer receiving fields of a resource about
/// her.
pub async fn grant_consent(
    state: &AppState,
    actor: &Principal,
    new: NewConsent,
) -> ApiResult<trust::model::Consent> {
    let person = actor
        .subject_person_id()
        .ok_or_else(|| ApiError::Forbidden("only a resident gives consent".into()))?
        .to_string();
    let resource = get_resource(state, new.resource.trim())
        .await
        .map_err(|e| not_found_as_invalid(e, "resource", "no such resource in the catalogue"))?;
    if resource.subject_kind != SubjectKind::Person {
        return Err(ApiError::invalid(
            "resource",
            "this resource holds organisations' records, not persons'",
        ));
    }
    if resource.sharing_class == SharingClass::NotShared {
        return Err(ApiError::invalid("resource", "this resource is not shared"));
    }
    if !is_uuid(&new.consumer_org_id) {
        return Err(ApiError::invalid(
            "consumer_org_id",
            "not a valid organisation id",
        ));
    }
    identity::service::get_organisation(state, &new.consumer_org_id)
        .await
        .map_err(|e| not_found_as_invalid(e, "consumer_org_id", "no organisation with that id"))?;
    let agreement = store::agreements_for(&state.db, &new.consumer_org_id, &resource.id)
        .await?
        .into_iter()
        .find(|a| a.revoked_at.is_none() && a.expires_at > Timestamp::now());
    let all: Vec<String> = resource.fields.iter().map(|f| f.name.clone()).collect();
    let fields = match &new.fields {
        Some(wanted) => check_field_names("fields", wanted, &all)?,
        None => {
            let agreed = agreement
                .as_ref()
                .map(|a| parse_list(&a.fields))
                .unwrap_or_else(|| all.clone());
            let personal: Vec<String> = resource
                .fields
                .iter()
                .filter(|f| {
                    matches!(
                        f.sensitivity,
                        Sensitivity::Personal | Sensitivity::SensitivePersonal
                    )
                })
                .map(|f| f.name.clone())
                .filter(|f| agreed.contains(f))
                .collect();
            if personal.is_empty() {
                agreed
            } else {
                personal
            }
        }
    };
    let purpose = match (&new.purpose, &agreement) {
        (Some(p), _) => text("purpose", p, 500, true)?,
        (None, Some(a)) => a.purpose.clone(),
        (None, None) => {
            return Err(ApiError::invalid(
                "purpose",
                "say for what purpose you consent",
            ));
        }
    };
    let fetch_type = new.fetch_type.unwrap_or(trust::model::FetchType::Once);
    let per_day = match fetch_type {
        trust::model::FetchType::Once => 1,
        trust::model::FetchType::Periodic => new.max_fetches_per_day.unwrap_or(10),
    };
    if !(1..=1000).contains(&per_day) {
        return Err(ApiError::invalid(
            "max_fetches_per_day",
            "between 1 and 1,000 fetches a day",
        ));
    }
    let now = Timestamp::now();
    let valid_from = new.valid_from.unwrap_or(now);
    let valid_until = new
        .valid_until
        .unwrap_or(valid_from.plus_minutes(90 * 24 * 60));
    if valid_until <= valid_from || valid_until <= now {
        return Err(ApiError::invalid(
            "valid_until",
            "the consent must end after it starts, and in the future",
        ));
    }
    if valid_until > now.plus_minutes(5 * YEAR_MINUTES + 2 * 24 * 60) {
        return Err(ApiError::invalid(
            "valid_until",
            "a consent lasts at most five years",
        ));
    }
    trust::service::grant_consent(
        state,
        actor,
        trust::model::ConsentGrant {
            person_id: person,
            consumer_org_id: new.consumer_org_id,
            provider_org_id: resource.provider_org_id,
            resource_id: resource.id,
            resource_name: resource.name,
            fields,
            purpose,
            fetch_type,
            max_fetches_per_day: per_day,
            valid_from,
            valid_until,
        },
    )
    .await
}

/// Organisations that hold an agreement in force for a resource (whom a resident may
/// consent to).
pub async fn consumers_of(state: &AppState, resource_id: &str) -> ApiResult<Vec<(String, String)>> {
    let sql_rows = store::agreements_of_resource(&state.db, resource_id).await?;
    let now = Timestamp::now();
    let mut out: Vec<(String, String)> = sql_rows
        .into_iter()
        .filter(|a| a.revoked_at.is_none() && a.expires_at > now)
        .map(|a| (a.consumer_org_id, a.consumer_name))
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

// ---- traffic ----

fn day_string(day: i64) -> String {
    Timestamp(day * 86_400_000_000)
        .rfc3339()
        .chars()
        .take(10)
        .collect()
}

/// An organisation's gateway traffic over the last 30 days, as provider and consumer.
pub async fn traffic(
    state: &AppState,
    actor: &Principal,
    organisation: Option<&str>,
) -> ApiResult<Traffic> {
    let org = officer_of(actor, organisation)?;
    if let Ok(gateway) = crate::gateway::Gateway::of(state) {
        // Show what was counted up to now, not up to the last flush.
        if let Err(error) = gateway.flush_usage(&state.db).await {
            tracing::warn!(%error, "usage counts not written yet; showing what is stored");
        }
    }
    let from = Timestamp::now().0.div_euclid(86_400_000_000) - 30;
    let line = |r: store::UsageRow| UsageLine {
        resource: r.resource_code,
        resource_name: r.resource_name,
        provider: r.provider_name,
        consumer: r.consumer_name,
        calls: r.calls,
        denied: r.denied,
        last_day: day_string(r.last_day),
    };
    Ok(Traffic {
        as_provider: store::usage(&state.db, &org, true, from)
            .await?
            .into_iter()
            .map(line)
            .collect(),
        as_consumer: store::usage(&state.db, &org, false, from)
            .await?
            .into_iter()
            .map(line)
            .collect(),
        organisation_id: org,
    })
}
