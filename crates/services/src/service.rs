//! The rules of one-stop services: what a service item must say, how an application is
//! pre-filled and its materials attached (once-only), how it is submitted, how cases move
//! through their workflow on working-day clocks, and the figures. No HTTP here.

use std::collections::{BTreeMap, HashMap, HashSet};

use identity::model::{PersonDetail, RegionCode};
use kernel::api::{Page, PageQuery, text};
use kernel::audit::{AuditEvent, Basis, commit_audited};
use kernel::auth::{Principal, Role};
use kernel::crypto::mask_name;
use kernel::error::FieldError;
use kernel::ids::{is_uuid, new_id};
use kernel::time::Timestamp;
use kernel::{ApiError, ApiResult, AppState};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::blobs::Blobs;
use crate::calendar::{Calendar, format_day, parse_day, today};
use crate::model::*;
use crate::store::{self, ApplicationRow, CaseRow, EventRow, ItemRow, MaterialRow, QueueView};

/// Most materials an item may require.
pub const MAX_MATERIALS: usize = 30;
/// Most workflow steps an item may have.
pub const MAX_STEPS: usize = 8;
/// Most form fields an item may have.
pub const MAX_FIELDS: usize = 100;
/// Profile fields a form may be pre-filled from.
pub const PROFILE_FIELDS: [&str; 6] = [
    "name",
    "resident_id",
    "phone",
    "address",
    "birth_date",
    "region_code",
];
/// Upload types accepted (sniffed from the bytes, not the name).
pub const UPLOAD_TYPES: [&str; 3] = ["application/pdf", "image/jpeg", "image/png"];

fn internal(e: impl Into<anyhow::Error>) -> ApiError {
    ApiError::Unexpected(e.into())
}

fn code(field: &str, value: &str) -> ApiResult<String> {
    let value = value.trim();
    if (3..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        Ok(value.to_string())
    } else {
        Err(ApiError::invalid(
            field,
            "a code has 3-64 of a-z, 0-9 and -",
        ))
    }
}

// ---- sources ----

/// Where a form field or a certificate claim takes its value from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// The applicant's own record (`profile.address`).
    Profile(String),
    /// A field of an exchange resource (`resource.household-registration.household_number`).
    Resource(String, String),
    /// A claim of a certificate in her wallet (`certificate.resident-card.address`).
    Certificate(String, String),
    /// A form field (`form.child_name`), for result certificates.
    Form(String),
    /// A literal (`'一级'`), for result certificates.
    Literal(String),
    /// The application's number (`case.number`), for result certificates.
    CaseNumber,
}

/// Parses a source.
pub fn parse_source(raw: &str) -> Result<Source, String> {
    let raw = raw.trim();
    if let Some(literal) = raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return Ok(Source::Literal(literal.to_string()));
    }
    if raw == "case.number" {
        return Ok(Source::CaseNumber);
    }
    let parts: Vec<&str> = raw.split('.').collect();
    match parts.as_slice() {
        ["profile", field] if PROFILE_FIELDS.contains(field) => Ok(Source::Profile(field.to_string())),
        ["profile", _] => Err(format!("a profile source is one of {}", PROFILE_FIELDS.join(", "))),
        ["resource", code, field] => Ok(Source::Resource(code.to_string(), field.to_string())),
        ["certificate", code, claim] => Ok(Source::Certificate(code.to_string(), claim.to_string())),
        ["form", field] => Ok(Source::Form(field.to_string())),
        _ => Err(
            "a source is profile.FIELD, resource.CODE.FIELD, certificate.TYPE.CLAIM, form.FIELD, case.number or 'text'"
                .into(),
        ),
    }
}

// ---- the catalogue ----

fn item_view(
    row: &ItemRow,
    definition: ServiceDefinition,
    names: &HashMap<String, String>,
) -> ApiResult<ServiceItem> {
    let department_names = definition
        .departments
        .iter()
        .map(|d| names.get(d).cloned().unwrap_or_default())
        .collect();
    let satisfiable = definition
        .materials
        .iter()
        .filter(|m| m.certificate.is_some() || m.resource.is_some())
        .count();
    let materials_without_upload = if definition.materials.is_empty() {
        1.0
    } else {
        satisfiable as f64 / definition.materials.len() as f64
    };
    Ok(ServiceItem {
        id: row.id.clone(),
        definition,
        department_names,
        materials_without_upload,
        updated_at: row.updated_at,
    })
}

async fn item_views(state: &AppState, rows: &[ItemRow]) -> ApiResult<Vec<ServiceItem>> {
    let definitions: Vec<ServiceDefinition> = rows
        .iter()
        .map(|r| serde_json::from_str(&r.definition).map_err(internal))
        .collect::<ApiResult<_>>()?;
    let mut orgs: Vec<String> = definitions
        .iter()
        .flat_map(|d| d.departments.iter().cloned())
        .collect();
    orgs.sort_unstable();
    orgs.dedup();
    let names = identity::service::organisation_names(state, &orgs).await?;
    rows.iter()
        .zip(definitions)
        .map(|(r, d)| item_view(r, d, &names))
        .collect()
}

/// Checks a definition against the registers it names and returns its row.
async fn check_definition(
    state: &AppState,
    actor: &Principal,
    def: &mut ServiceDefinition,
) -> ApiResult<ItemRow> {
    def.code = code("code", &def.code)?;
    def.name = text("name", &def.name, 100, true)?;
    def.summary = text("summary", &def.summary, 1_000, true)?;
    def.legal_basis = text("legal_basis", &def.legal_basis, 500, true)?;
    if def.keywords.len() > 20 || def.situations.len() > 10 {
        return Err(ApiError::invalid(
            "keywords",
            "at most 20 keywords and 10 situations",
        ));
    }
    for (i, k) in def.keywords.iter_mut().enumerate() {
        *k = text(&format!("keywords[{i}]"), k, 30, true)?;
    }
    for (i, s) in def.situations.iter_mut().enumerate() {
        *s = text(&format!("situations[{i}]"), s, 30, true)?;
    }
    if def.departments.is_empty() || def.departments.len() > 10 {
        return Err(ApiError::invalid("departments", "name 1 to 10 departments"));
    }
    let mut seen = HashSet::new();
    for (i, d) in def.departments.iter().enumerate() {
        let field = format!("departments[{i}]");
        if !is_uuid(d) {
            return Err(ApiError::invalid(field, "not a valid organisation id"));
        }
        if !seen.insert(d.clone()) {
            return Err(ApiError::invalid(field, "named twice"));
        }
        identity::service::get_organisation(state, d)
            .await
            .map_err(|_| ApiError::invalid(field, "no such organisation"))?;
    }
    let lead = def.departments[0].clone();
    actor.require_org_admin(&lead)?;
    let e = &def.eligibility;
    for (field, age) in [
        ("eligibility.min_age", e.min_age),
        ("eligibility.max_age", e.max_age),
    ] {
        if let Some(age) = age
            && !(0..=150).contains(&age)
        {
            return Err(ApiError::invalid(field, "an age from 0 to 150"));
        }
    }
    if let (Some(min), Some(max)) = (e.min_age, e.max_age)
        && min > max
    {
        return Err(ApiError::invalid(
            "eligibility.max_age",
            "below the lowest age",
        ));
    }
    if let Some(region) = &e.region {
        RegionCode::parse(region).map_err(|m| ApiError::invalid("eligibility.region", m))?;
    }
    if let Some(t) = &e.holds_certificate {
        credentials::service::get_type(state, t)
            .await
            .map_err(|_| {
                ApiError::invalid("eligibility.holds_certificate", "no such certificate type")
            })?;
    }
    if !(1..=365).contains(&def.statutory_days) {
        return Err(ApiError::invalid("statutory_days", "1 to 365 working days"));
    }
    if !(1..=def.statutory_days).contains(&def.committed_days) {
        return Err(ApiError::invalid(
            "committed_days",
            "1 working day up to the statutory limit",
        ));
    }
    if !def.fee_yuan.is_finite() || def.fee_yuan < 0.0 || def.fee_yuan > 1_000_000.0 {
        return Err(ApiError::invalid(
            "fee_yuan",
            "a fee from 0 to 1,000,000 yuan",
        ));
    }
    // The form.
    let properties = def
        .form
        .get("properties")
        .and_then(Value::as_object)
        .filter(|_| def.form.get("type") == Some(&json!("object")))
        .ok_or_else(|| {
            ApiError::invalid("form", "the form is a JSON Schema object with properties")
        })?
        .clone();
    if properties.is_empty() || properties.len() > MAX_FIELDS {
        return Err(ApiError::invalid("form.properties", "1 to 100 fields"));
    }
    for (name, spec) in &properties {
        let field = format!("form.properties.{name}");
        if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            || name.is_empty()
            || name.len() > 40
        {
            return Err(ApiError::invalid(
                field,
                "field names are 1-40 of a-z, 0-9 and _",
            ));
        }
        let kind = spec.get("type").and_then(Value::as_str).unwrap_or("");
        if !["string", "integer", "number", "boolean"].contains(&kind) {
            return Err(ApiError::invalid(
                field,
                "a field's type is string, integer, number or boolean",
            ));
        }
        if spec.get("title").and_then(Value::as_str).is_none() {
            return Err(ApiError::invalid(
                field,
                "a field needs a title (its label)",
            ));
        }
    }
    jsonschema::options()
        .build(&def.form)
        .map_err(|e| ApiError::invalid("form", format!("not a valid JSON Schema: {e}")))?;
    for (field, source) in &def.field_sources {
        let at = format!("field_sources.{field}");
        if !properties.contains_key(field) {
            return Err(ApiError::invalid(at, "not a field of the form"));
        }
        match parse_source(source).map_err(|m| ApiError::invalid(&at, m))? {
            Source::Profile(_) => {}
            Source::Resource(code, f) => check_resource(state, &at, &code, &[f]).await?,
            Source::Certificate(t, _) => {
                credentials::service::get_type(state, &t)
                    .await
                    .map_err(|_| ApiError::invalid(&at, "no such certificate type"))?;
            }
            Source::Form(_) | Source::Literal(_) | Source::CaseNumber => {
                return Err(ApiError::invalid(
                    at,
                    "a form is filled from a profile, resource or certificate",
                ));
            }
        }
    }
    // Materials.
    if def.materials.len() > MAX_MATERIALS {
        return Err(ApiError::invalid("materials", "at most 30 materials"));
    }
    let mut keys = HashSet::new();
    for (i, m) in def.materials.iter_mut().enumerate() {
        let at = format!("materials[{i}]");
        m.key = code(&format!("{at}.key"), &m.key)?;
        if !keys.insert(m.key.clone()) {
            return Err(ApiError::invalid(
                format!("{at}.key"),
                "two materials have this key",
            ));
        }
        m.name = text(&format!("{at}.name"), &m.name, 100, true)?;
        if m.certificate.is_none() && m.resource.is_none() && !m.upload {
            return Err(ApiError::invalid(
                at,
                "say how it can be satisfied: a certificate, a resource, or an upload",
            ));
        }
        if let Some(t) = &m.certificate {
            credentials::service::get_type(state, t)
                .await
                .map_err(|_| {
                    ApiError::invalid(format!("{at}.certificate"), "no such certificate type")
                })?;
        }
        if let Some(r) = &m.resource {
            check_resource(state, &format!("{at}.resource"), &r.code, &r.fields).await?;
        }
    }
    // Steps.
    if def.steps.is_empty() || def.steps.len() > MAX_STEPS {
        return Err(ApiError::invalid("steps", "1 to 8 steps"));
    }
    if def.steps.last().map(|s| s.kind) != Some(StepKind::Finish) {
        return Err(ApiError::invalid("steps", "the last step is finish (办结)"));
    }
    let (departments, step_count) = (def.departments.clone(), def.steps.len());
    for (i, step) in def.steps.iter_mut().enumerate() {
        let at = format!("steps[{i}]");
        if step.kind == StepKind::Finish && i + 1 != step_count {
            return Err(ApiError::invalid(at, "only the last step finishes"));
        }
        if !["clerk", "reviewer"].contains(&step.role.as_str()) {
            return Err(ApiError::invalid(format!("{at}.role"), "clerk or reviewer"));
        }
        let org = step.organisation_id.get_or_insert_with(|| lead.clone());
        if !departments.contains(org) {
            return Err(ApiError::invalid(
                format!("{at}.organisation_id"),
                "a step belongs to one of the item's departments",
            ));
        }
    }
    if let Some(result) = &def.result {
        credentials::service::get_type(state, &result.certificate_type)
            .await
            .map_err(|_| {
                ApiError::invalid("result.certificate_type", "no such certificate type")
            })?;
        for (claim, source) in &result.claims {
            let at = format!("result.claims.{claim}");
            match parse_source(source).map_err(|m| ApiError::invalid(&at, m))? {
                Source::Form(f) if !properties.contains_key(&f) => {
                    return Err(ApiError::invalid(at, "not a field of the form"));
                }
                Source::Resource(..) | Source::Certificate(..) | Source::Profile(_) => {
                    return Err(ApiError::invalid(
                        at,
                        "a claim comes from the form (pre-fill it from the profile) or a literal",
                    ));
                }
                _ => {}
            }
        }
    }
    let mut search = vec![def.name.clone(), def.summary.clone()];
    search.extend(def.keywords.iter().cloned());
    search.extend(def.situations.iter().map(|s| format!("#{s}#")));
    let now = Timestamp::now();
    Ok(ItemRow {
        id: new_id(),
        code: def.code.clone(),
        name: def.name.clone(),
        search_text: search.join(" ").to_lowercase(),
        lead_org_id: lead,
        definition: serde_json::to_string(&def).map_err(internal)?,
        statutory_days: def.statutory_days,
        committed_days: def.committed_days,
        created_at: now,
        updated_at: now,
    })
}

async fn check_resource(
    state: &AppState,
    at: &str,
    code: &str,
    fields: &[String],
) -> ApiResult<()> {
    let resource = exchange::service::get_resource(state, code)
        .await
        .map_err(|_| ApiError::invalid(at, format!("no resource '{code}' in the catalogue")))?;
    for f in fields {
        if !resource.fields.iter().any(|spec| &spec.name == f) {
            return Err(ApiError::invalid(
                at,
                format!("'{}' has no field '{f}'", resource.name),
            ));
        }
    }
    Ok(())
}

/// Adds a service item (a platform administrator, or the lead department's administrator).
pub async fn define_item(
    state: &AppState,
    actor: &Principal,
    mut def: ServiceDefinition,
) -> ApiResult<ServiceItem> {
    let row = check_definition(state, actor, &mut def).await?;
    if store::item_by_code(&state.db, &row.code).await?.is_some() {
        return Err(ApiError::Conflict(format!(
            "an item '{}' exists: PUT it to change it",
            row.code
        )));
    }
    store::insert_item(&state.db, &row).await.map_err(|e| {
        if kernel::db::is_unique_violation(&e) {
            ApiError::Conflict(format!("an item '{}' exists", row.code))
        } else {
            e.into()
        }
    })?;
    audit_admin(state, actor, "service.define", &row.code).await?;
    get_item(state, &row.code).await
}

/// Replaces a service item's definition; applications already submitted keep the
/// workflow they started with only in so far as their step index still exists.
pub async fn update_item(
    state: &AppState,
    actor: &Principal,
    item_code: &str,
    mut def: ServiceDefinition,
) -> ApiResult<ServiceItem> {
    let existing = store::item_by_code(&state.db, item_code.trim())
        .await?
        .ok_or_else(|| ApiError::NotFound("no such service item".into()))?;
    if def.code.trim() != existing.code {
        return Err(ApiError::invalid(
            "code",
            "the code in the body differs from the one in the path",
        ));
    }
    let old: ServiceDefinition = serde_json::from_str(&existing.definition).map_err(internal)?;
    actor.require_org_admin(&old.departments[0])?;
    let mut row = check_definition(state, actor, &mut def).await?;
    row.id = existing.id;
    store::update_item(&state.db, &row).await?;
    audit_admin(state, actor, "service.update", &row.code).await?;
    get_item(state, &row.code).await
}

async fn audit_admin(
    state: &AppState,
    actor: &Principal,
    action: &str,
    what: &str,
) -> ApiResult<()> {
    state
        .audit
        .record(
            AuditEvent::by(actor, action, format!("service:{what}"))
                .because("maintain the service catalogue", Basis::NotApplicable),
        )
        .await?;
    Ok(())
}

/// One service item.
pub async fn get_item(state: &AppState, item_code: &str) -> ApiResult<ServiceItem> {
    let row = store::item_by_code(&state.db, item_code.trim())
        .await?
        .ok_or_else(|| ApiError::NotFound("no such service item".into()))?;
    Ok(item_views(state, &[row]).await?.remove(0))
}

/// The catalogue, searched by plain words and/or a life situation.
pub async fn catalogue(state: &AppState, query: &CatalogueQuery) -> ApiResult<Vec<ServiceItem>> {
    let mut words: Vec<String> = query
        .q
        .as_deref()
        .unwrap_or("")
        .split_whitespace()
        .take(8)
        .map(|w| w.chars().take(30).collect::<String>().to_lowercase())
        .collect();
    if let Some(s) = query
        .situation
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        words.push(format!(
            "#{}#",
            s.chars().take(30).collect::<String>().to_lowercase()
        ));
    }
    let rows = store::search_items(&state.db, &words).await?;
    item_views(state, &rows).await
}

/// Every life situation named in the catalogue, with how many items each has.
pub async fn situations(state: &AppState) -> ApiResult<Vec<(String, usize)>> {
    let items = catalogue(state, &CatalogueQuery::default()).await?;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for item in &items {
        for s in &item.definition.situations {
            *counts.entry(s.clone()).or_default() += 1;
        }
    }
    Ok(counts.into_iter().collect())
}

/// Adds a life event bundling items (a platform administrator).
pub async fn define_life_event(
    state: &AppState,
    actor: &Principal,
    new: NewLifeEvent,
) -> ApiResult<LifeEvent> {
    actor.require_platform_admin()?;
    let code = code("code", &new.code)?;
    let name = text("name", &new.name, 100, true)?;
    let summary = text("summary", &new.summary, 1_000, true)?;
    if !(2..=10).contains(&new.items.len()) {
        return Err(ApiError::invalid(
            "items",
            "a life event bundles 2 to 10 items",
        ));
    }
    let mut codes = Vec::new();
    for (i, c) in new.items.iter().enumerate() {
        let c = c.trim().to_string();
        if store::item_by_code(&state.db, &c).await?.is_none() {
            return Err(ApiError::invalid(
                format!("items[{i}]"),
                "no such service item",
            ));
        }
        if codes.contains(&c) {
            return Err(ApiError::invalid(format!("items[{i}]"), "named twice"));
        }
        codes.push(c);
    }
    let row = store::LifeEventRow {
        id: new_id(),
        code: code.clone(),
        name,
        summary,
        item_codes: serde_json::to_string(&codes).map_err(internal)?,
        created_at: Timestamp::now(),
    };
    store::insert_life_event(&state.db, &row)
        .await
        .map_err(|e| {
            if kernel::db::is_unique_violation(&e) {
                ApiError::Conflict(format!("a life event '{code}' exists"))
            } else {
                e.into()
            }
        })?;
    audit_admin(state, actor, "service.life_event", &code).await?;
    get_life_event(state, &code).await
}

async fn life_event_view(state: &AppState, row: store::LifeEventRow) -> ApiResult<LifeEvent> {
    let codes: Vec<String> = serde_json::from_str(&row.item_codes).map_err(internal)?;
    let mut rows = Vec::new();
    for c in &codes {
        if let Some(r) = store::item_by_code(&state.db, c).await? {
            rows.push(r);
        }
    }
    Ok(LifeEvent {
        id: row.id,
        code: row.code,
        name: row.name,
        summary: row.summary,
        items: item_views(state, &rows).await?,
    })
}

/// One life event with its items.
pub async fn get_life_event(state: &AppState, event_code: &str) -> ApiResult<LifeEvent> {
    let row = store::life_event_by(&state.db, "code", event_code.trim())
        .await?
        .ok_or_else(|| ApiError::NotFound("no such life event".into()))?;
    life_event_view(state, row).await
}

/// Every life event.
pub async fn life_events(state: &AppState) -> ApiResult<Vec<LifeEvent>> {
    let mut out = Vec::new();
    for row in store::life_events(&state.db).await? {
        out.push(life_event_view(state, row).await?);
    }
    Ok(out)
}

// ---- the calendar ----

/// The holiday calendar in force.
pub async fn load_calendar(state: &AppState) -> ApiResult<Calendar> {
    let rows = store::holidays(&state.db).await?;
    Ok(Calendar::new(rows.into_iter().filter_map(
        |(day, _, working)| parse_day(&day).map(|d| (d, working == 1)),
    )))
}

/// The calendar's exceptions in a year.
pub async fn calendar(state: &AppState, year: Option<i32>) -> ApiResult<Vec<CalendarDay>> {
    let year = year.unwrap_or_else(|| today().year());
    let prefix = format!("{year:04}-");
    Ok(store::holidays(&state.db)
        .await?
        .into_iter()
        .filter(|(day, _, _)| day.starts_with(&prefix))
        .map(|(day, name, working)| CalendarDay {
            day,
            name,
            working: working == 1,
        })
        .collect())
}

fn check_day(day: &str) -> ApiResult<String> {
    parse_day(day)
        .map(format_day)
        .ok_or_else(|| ApiError::invalid("day", "a date as YYYY-MM-DD"))
}

/// Sets a day of the calendar (a platform administrator).
pub async fn set_day(
    state: &AppState,
    actor: &Principal,
    day: &str,
    entry: CalendarEntry,
) -> ApiResult<CalendarDay> {
    actor.require_platform_admin()?;
    let day = check_day(day)?;
    let name = text("name", &entry.name, 50, true)?;
    store::put_holiday(&state.db, &day, &name, entry.working).await?;
    audit_admin(state, actor, "service.calendar", &day).await?;
    Ok(CalendarDay {
        day,
        name,
        working: entry.working,
    })
}

/// Removes a day from the calendar (a platform administrator).
pub async fn delete_day(state: &AppState, actor: &Principal, day: &str) -> ApiResult<()> {
    actor.require_platform_admin()?;
    let day = check_day(day)?;
    if !store::delete_holiday(&state.db, &day).await? {
        return Err(ApiError::NotFound("that day is not in the calendar".into()));
    }
    audit_admin(state, actor, "service.calendar", &day).await
}

// ---- applications ----

/// What the applicant's own records say, read once per request.
struct Known {
    person: PersonDetail,
    /// Certificate type → (credential id, issuer name, claims), certificates in force only.
    certificates: HashMap<String, (String, String, Map<String, Value>)>,
}

/// Whose application `principal` works on: her own, or (as a proxy with `services`) the
/// person's.
fn applicant(principal: &Principal) -> ApiResult<String> {
    principal.require_scope("services")?;
    principal
        .subject_person_id()
        .map(str::to_string)
        .ok_or_else(|| {
            ApiError::Forbidden("only a resident (or her proxy) applies for services".into())
        })
}

async fn known(
    state: &AppState,
    principal: &Principal,
    person: &str,
    purpose: &str,
) -> ApiResult<Known> {
    let detail = identity::service::read_person(state, principal, person, Some(purpose)).await?;
    let now = Timestamp::now();
    let mut certificates = HashMap::new();
    for c in credentials::service::my_credentials(state, principal).await? {
        let in_force = c.status == credentials::model::CredentialStatus::Active
            && c.valid_until.is_none_or(|u| u > now);
        if !in_force || certificates.contains_key(&c.type_code) {
            continue;
        }
        let claims = c
            .document
            .get("credentialSubject")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        certificates.insert(
            c.type_code.clone(),
            (c.id.clone(), c.issuer_name.clone(), claims),
        );
    }
    Ok(Known {
        person: detail,
        certificates,
    })
}

fn profile_value(person: &PersonDetail, field: &str) -> Value {
    match field {
        "name" => json!(person.summary.name),
        "resident_id" => json!(person.resident_id),
        "phone" => person
            .phone
            .clone()
            .map(Value::String)
            .unwrap_or(Value::Null),
        "address" => person
            .address
            .clone()
            .map(Value::String)
            .unwrap_or(Value::Null),
        "birth_date" => json!(person.birth_date),
        "region_code" => json!(person.summary.region_code),
        _ => Value::Null,
    }
}

/// Why the applicant may not apply, in plain words (None: she may).
fn ineligible(item: &ServiceDefinition, known: &Known) -> Option<String> {
    let e = &item.eligibility;
    let age = identity::service::age_on(&known.person.birth_date, today());
    if let Some(min) = e.min_age
        && age < min
    {
        return Some(format!(
            "「{}」is for residents aged {min} or over",
            item.name
        ));
    }
    if let Some(max) = e.max_age
        && age > max
    {
        return Some(format!(
            "「{}」is for residents aged {max} or under",
            item.name
        ));
    }
    if let Some(region) = &e.region
        && let Ok(code) = RegionCode::parse(region)
        && !known
            .person
            .summary
            .region_code
            .starts_with(&messaging::service::region_prefix(&code))
    {
        return Some(format!(
            "「{}」is for residents of region {region}",
            item.name
        ));
    }
    if let Some(t) = &e.holds_certificate
        && !known.certificates.contains_key(t)
    {
        return Some(format!(
            "「{}」needs a certificate of type '{t}' in force in your wallet",
            item.name
        ));
    }
    None
}

/// The items an application covers, in order.
async fn items_of(
    state: &AppState,
    ids_json: &str,
) -> ApiResult<Vec<(ItemRow, ServiceDefinition)>> {
    let ids: Vec<String> = serde_json::from_str(ids_json).map_err(internal)?;
    let rows = store::items_by_ids(&state.db, &ids).await?;
    let mut out = Vec::new();
    for id in &ids {
        if let Some(row) = rows.iter().find(|r| &r.id == id) {
            let def: ServiceDefinition = serde_json::from_str(&row.definition).map_err(internal)?;
            out.push((row.clone(), def));
        }
    }
    Ok(out)
}

/// One form for several items: each field asked once (the first item's spec wins), every
/// item's required fields required.
pub fn combined_schema(items: &[&ServiceDefinition]) -> Value {
    let mut properties = Map::new();
    let mut required: Vec<Value> = Vec::new();
    for item in items {
        if let Some(props) = item.form.get("properties").and_then(Value::as_object) {
            for (k, v) in props {
                properties.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        if let Some(req) = item.form.get("required").and_then(Value::as_array) {
            for r in req {
                if !required.contains(r) {
                    required.push(r.clone());
                }
            }
        }
    }
    json!({"type": "object", "properties": properties, "required": required})
}

/// The materials of several items, each key once.
fn combined_materials(items: &[&ServiceDefinition]) -> Vec<(Material, usize)> {
    let mut out: Vec<(Material, usize)> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        for m in &item.materials {
            match out.iter_mut().find(|(o, _)| o.key == m.key) {
                Some((o, _)) => o.required |= m.required,
                None => out.push((m.clone(), i)),
            }
        }
    }
    out
}

fn form_context(id: &str) -> String {
    format!("services.application:{id}")
}

fn material_context(id: &str, key: &str) -> String {
    format!("services.material:{id}:{key}")
}

fn seal_json(state: &AppState, value: &Value, context: &str) -> ApiResult<Vec<u8>> {
    state
        .vault
        .seal(&value.to_string(), context)
        .map_err(ApiError::Unexpected)
}

fn open_json(state: &AppState, sealed: &[u8], context: &str) -> ApiResult<Value> {
    let text = state
        .vault
        .open(sealed, context)
        .map_err(ApiError::Unexpected)?;
    serde_json::from_str(&text).map_err(internal)
}

fn event(
    application_id: &str,
    case_id: Option<&str>,
    kind: &str,
    step: Option<&str>,
    actor: &str,
    note: Option<String>,
) -> EventRow {
    EventRow {
        id: new_id(),
        application_id: application_id.to_string(),
        case_id: case_id.map(str::to_string),
        kind: kind.to_string(),
        step_name: step.map(str::to_string),
        actor_name: actor.to_string(),
        note,
        created_at: Timestamp::now(),
    }
}

/// A record fetched through the exchange for the application.
struct Fetched {
    call_id: String,
    description: String,
    fields: Map<String, Value>,
}

const CONSENT_CODES: [&str; 6] = [
    "no_consent",
    "consent_revoked",
    "consent_expired",
    "consent_used",
    "consent_exhausted",
    "consent_fields",
];

/// Fetches a resource for the applicant through `consumer`'s agreement. When the resource
/// needs her consent, her request to fetch it is that consent: a one-time consent for
/// exactly these fields is recorded, then the fetch is made.
async fn fetch_resource(
    state: &AppState,
    principal: &Principal,
    consumer: &str,
    resident_id: &str,
    resource: &str,
    fields: &[String],
    purpose: &str,
) -> Result<Fetched, String> {
    let wanted = (!fields.is_empty()).then(|| fields.to_vec());
    let mut result = exchange::gateway::fetch_for(
        state,
        principal,
        consumer,
        resource,
        resident_id,
        wanted.clone(),
    )
    .await;
    if let Err(ApiError::Refused { code, .. }) = &result
        && CONSENT_CODES.contains(code)
    {
        let consent = exchange::service::grant_consent(
            state,
            principal,
            exchange::model::NewConsent {
                resource: resource.to_string(),
                consumer_org_id: consumer.to_string(),
                fields: wanted.clone(),
                purpose: Some(purpose.chars().take(500).collect()),
                fetch_type: Some(trust::model::FetchType::Once),
                max_fetches_per_day: None,
                valid_from: None,
                valid_until: Some(Timestamp::now().plus_minutes(60)),
            },
        )
        .await;
        if let Err(e) = consent {
            return Err(e.public_detail());
        }
        result =
            exchange::gateway::fetch_for(state, principal, consumer, resource, resident_id, wanted)
                .await;
    }
    match result {
        Ok(record) => {
            let name = exchange::service::get_resource(state, resource)
                .await
                .map(|r| r.name)
                .unwrap_or_else(|_| resource.to_string());
            Ok(Fetched {
                call_id: record.call_id,
                description: name,
                fields: record.fields,
            })
        }
        Err(e) => Err(e.public_detail()),
    }
}

/// Starts an application (a draft): the form is pre-filled and the materials the
/// government holds are attached — each fetch through the exchange under the department's
/// agreement, audited into her footprint — when she lets it (`fetch`).
pub async fn start(
    state: &AppState,
    principal: &Principal,
    new: NewApplication,
) -> ApiResult<Application> {
    let person = applicant(principal)?;
    let (rows, life_event) = match (new.item.as_deref(), new.life_event.as_deref()) {
        (Some(item), None) => {
            let row = store::item_by_code(&state.db, item.trim())
                .await?
                .ok_or_else(|| ApiError::invalid("item", "no such service item"))?;
            (vec![row], None)
        }
        (None, Some(code)) => {
            let event = store::life_event_by(&state.db, "code", code.trim())
                .await?
                .ok_or_else(|| ApiError::invalid("life_event", "no such life event"))?;
            let codes: Vec<String> = serde_json::from_str(&event.item_codes).map_err(internal)?;
            let mut rows = Vec::new();
            for c in &codes {
                if let Some(r) = store::item_by_code(&state.db, c).await? {
                    rows.push(r);
                }
            }
            (rows, Some(event))
        }
        _ => return Err(ApiError::bad_request("name either an item or a life_event")),
    };
    let defs: Vec<ServiceDefinition> = rows
        .iter()
        .map(|r| serde_json::from_str(&r.definition).map_err(internal))
        .collect::<ApiResult<_>>()?;
    let title = life_event
        .as_ref()
        .map(|e| e.name.clone())
        .unwrap_or_else(|| defs[0].name.clone());
    let purpose = format!("办理「{title}」");
    let known = known(state, principal, &person, &purpose).await?;
    if let Some(reason) = defs.iter().find_map(|d| ineligible(d, &known)) {
        return Err(ApiError::Refused {
            code: "not_eligible",
            detail: reason,
        });
    }
    let id = new_id();
    let now = Timestamp::now();
    let refs: Vec<&ServiceDefinition> = defs.iter().collect();
    let mut form = Map::new();
    let mut prefilled: BTreeMap<String, String> = BTreeMap::new();
    let mut events: Vec<EventRow> = vec![event(
        &id,
        None,
        "created",
        None,
        &principal.display_name,
        None,
    )];
    let mut materials: Vec<MaterialRow> = Vec::new();
    if new.fetch {
        // Which resources are needed, and which department may fetch each.
        let mut fetched: HashMap<String, Result<Fetched, String>> = HashMap::new();
        let mut wanted: Vec<(String, Vec<String>, String)> = Vec::new();
        let mut want = |code: &str, field: Option<&str>, consumer: &str| match wanted
            .iter_mut()
            .find(|(c, _, _)| c == code)
        {
            Some((_, fields, _)) => {
                if let Some(f) = field
                    && !fields.contains(&f.to_string())
                    && !fields.is_empty()
                {
                    fields.push(f.to_string());
                }
            }
            None => wanted.push((
                code.to_string(),
                field.map(|f| vec![f.to_string()]).unwrap_or_default(),
                consumer.to_string(),
            )),
        };
        for (row, def) in rows.iter().zip(&defs) {
            for source in def.field_sources.values() {
                if let Ok(Source::Resource(code, field)) = parse_source(source) {
                    want(&code, Some(&field), &row.lead_org_id);
                }
            }
            for m in &def.materials {
                if let Some(r) = &m.resource
                    && m.certificate
                        .as_ref()
                        .is_none_or(|t| !known.certificates.contains_key(t))
                {
                    if r.fields.is_empty() {
                        want(&r.code, None, &row.lead_org_id);
                    } else {
                        for f in &r.fields {
                            want(&r.code, Some(f), &row.lead_org_id);
                        }
                    }
                }
            }
        }
        for (code, fields, consumer) in wanted {
            let result = fetch_resource(
                state,
                principal,
                &consumer,
                &known.person.resident_id,
                &code,
                &fields,
                &purpose,
            )
            .await;
            match &result {
                Ok(f) => events.push(event(
                    &id,
                    None,
                    "prefilled",
                    None,
                    "一网通办",
                    Some(format!("{}（调用记录 {}）", f.description, f.call_id)),
                )),
                Err(why) => events.push(event(
                    &id,
                    None,
                    "prefilled",
                    None,
                    "一网通办",
                    Some(format!("未能调取 {code}：{why}")),
                )),
            }
            fetched.insert(code, result);
        }
        for def in &defs {
            for (field, source) in &def.field_sources {
                if form.contains_key(field) {
                    continue;
                }
                let (value, from) = match parse_source(source) {
                    Ok(Source::Profile(f)) => {
                        (profile_value(&known.person, &f), "本人信息".to_string())
                    }
                    Ok(Source::Resource(code, f)) => match fetched.get(&code) {
                        Some(Ok(r)) => (
                            r.fields.get(&f).cloned().unwrap_or(Value::Null),
                            r.description.clone(),
                        ),
                        _ => (Value::Null, String::new()),
                    },
                    Ok(Source::Certificate(t, claim)) => match known.certificates.get(&t) {
                        Some((_, _, claims)) => (
                            claims.get(&claim).cloned().unwrap_or(Value::Null),
                            t.clone(),
                        ),
                        None => (Value::Null, String::new()),
                    },
                    _ => (Value::Null, String::new()),
                };
                if !value.is_null() {
                    form.insert(field.clone(), value);
                    prefilled.insert(field.clone(), from);
                }
            }
        }
        for (m, _) in combined_materials(&refs) {
            let found = m
                .certificate
                .as_ref()
                .and_then(|t| known.certificates.get(t))
                .map(|(cid, issuer, claims)| {
                    (
                        "certificate",
                        cid.clone(),
                        format!("电子证照（{issuer}）"),
                        Value::Object(claims.clone()),
                    )
                })
                .or_else(|| {
                    m.resource
                        .as_ref()
                        .and_then(|r| match fetched.get(&r.code) {
                            Some(Ok(f)) => Some((
                                "exchange",
                                f.call_id.clone(),
                                f.description.clone(),
                                Value::Object(f.fields.clone()),
                            )),
                            _ => None,
                        })
                });
            if let Some((source, reference, description, values)) = found {
                materials.push(MaterialRow {
                    application_id: id.clone(),
                    material_key: m.key.clone(),
                    source: source.into(),
                    reference,
                    detail_enc: seal_json(
                        state,
                        &json!({"description": description, "values": values}),
                        &material_context(&id, &m.key),
                    )?,
                    created_at: now,
                });
                events.push(event(
                    &id,
                    None,
                    "material",
                    None,
                    "一网通办",
                    Some(format!("{}：{}", m.name, description)),
                ));
            }
        }
    } else {
        // Without fetching, her own record still fills her own particulars.
        for def in &defs {
            for (field, source) in &def.field_sources {
                if let Ok(Source::Profile(f)) = parse_source(source) {
                    let value = profile_value(&known.person, &f);
                    if !value.is_null() && !form.contains_key(field) {
                        form.insert(field.clone(), value);
                        prefilled.insert(field.clone(), "本人信息".into());
                    }
                }
            }
        }
    }
    let item_ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let stored_form = json!({"values": form, "prefilled": prefilled});
    let row = ApplicationRow {
        number: application_number(&id),
        id: id.clone(),
        person_id: person.clone(),
        account_id: principal.account_id.clone(),
        proxy_authorisation_id: principal
            .acting_for
            .as_ref()
            .map(|a| a.authorisation_id.clone()),
        life_event_id: life_event.as_ref().map(|e| e.id.clone()),
        title,
        item_ids: serde_json::to_string(&item_ids).map_err(internal)?,
        state: ApplicationState::Draft.as_str().into(),
        form_enc: seal_json(state, &stored_form, &form_context(&id))?,
        version: 0,
        created_at: now,
        updated_at: now,
        submitted_at: None,
    };
    let mut tx = state.db.begin().await?;
    store::insert_application(&mut tx, &row).await?;
    for m in &materials {
        store::put_material(&mut tx, m).await?;
    }
    for e in &events {
        store::insert_event(&mut tx, e).await?;
    }
    tx.commit().await?;
    if new.submit {
        return submit(state, principal, &id).await;
    }
    application(state, principal, &id).await
}

/// A number to quote: the date and the last twelve hex digits of the id (48 random bits:
/// a collision within one day is unlikely below millions of applications, and the unique
/// index refuses one rather than mixing two up).
fn application_number(id: &str) -> String {
    let hex: String = id.chars().filter(|c| *c != '-').collect();
    let tail = &hex[hex.len().saturating_sub(12)..];
    format!(
        "SQ{}{}",
        format_day(today()).replace('-', ""),
        tail.to_uppercase()
    )
}

/// Who reads an application: the applicant (or her proxy), or staff of a department with
/// one of its cases (audited, with the item's legal basis).
enum Reader {
    Applicant,
    Staff,
}

async fn load_application(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> ApiResult<(ApplicationRow, Reader, Vec<CaseRow>)> {
    let not_found = || ApiError::NotFound("no such application".into());
    if !is_uuid(id) {
        return Err(not_found());
    }
    let row = store::get_application(&state.db, id)
        .await?
        .ok_or_else(not_found)?;
    let cases = store::cases_of_application(&state.db, id).await?;
    if principal.subject_person_id() == Some(row.person_id.as_str())
        && principal.require_scope("services").is_ok()
    {
        return Ok((row, Reader::Applicant, cases));
    }
    let staff = cases.iter().any(|c| {
        [c.step_org_id.as_str(), c.lead_org_id.as_str()]
            .iter()
            .any(|org| {
                principal.has_role_in(Role::Clerk, org)
                    || principal.has_role_in(Role::Reviewer, org)
            })
    });
    if staff {
        Ok((row, Reader::Staff, cases))
    } else {
        Err(not_found())
    }
}

fn case_view(row: &CaseRow, def: &ServiceDefinition, calendar: &Calendar) -> Case {
    let state = CaseState::parse(&row.state);
    let step = def
        .steps
        .get(row.step_index as usize)
        .map(|s| s.kind)
        .unwrap_or(StepKind::Finish);
    let day = today();
    let due = parse_day(&row.due_on).unwrap_or(day);
    let (left, urgency) = match state {
        CaseState::Supplement => (None, Urgency::Paused),
        CaseState::InProgress => {
            let left = calendar.working_days_between(day, due);
            let urgency = if day > due {
                Urgency::Overdue
            } else if left <= 2 {
                Urgency::NearDue
            } else {
                Urgency::OnTrack
            };
            (Some(left), urgency)
        }
        _ => {
            let late = row
                .finished_on
                .as_deref()
                .is_some_and(|f| f > row.due_on.as_str());
            (
                None,
                if late {
                    Urgency::Overdue
                } else {
                    Urgency::OnTrack
                },
            )
        }
    };
    Case {
        id: row.id.clone(),
        application_id: row.application_id.clone(),
        number: row.number.clone(),
        item_code: row.item_code.clone(),
        item_name: row.item_name.clone(),
        lead_org_id: row.lead_org_id.clone(),
        lead_org_name: row.lead_org_name.clone(),
        state,
        step_index: row.step_index,
        step,
        step_org_id: row.step_org_id.clone(),
        step_role: row.step_role.clone(),
        submitted_on: row.submitted_on.clone(),
        due_on: row.due_on.clone(),
        working_days_left: left,
        urgency,
        finished_on: row.finished_on.clone(),
        working_days: row.working_days,
        statutory_days: def.statutory_days,
        committed_days: def.committed_days,
        escalated_at: row.escalated_at,
        result_credential_id: row.result_credential_id.clone(),
        outcome_note: row.outcome_note.clone(),
        rating: row.rating,
        version: row.version,
    }
}

async fn assemble(
    state: &AppState,
    row: &ApplicationRow,
    cases: &[CaseRow],
) -> ApiResult<Application> {
    let items = items_of(state, &row.item_ids).await?;
    let defs: Vec<&ServiceDefinition> = items.iter().map(|(_, d)| d).collect();
    let stored = open_json(state, &row.form_enc, &form_context(&row.id))?;
    let form = stored.get("values").cloned().unwrap_or_else(|| json!({}));
    let prefilled: BTreeMap<String, String> = stored
        .get("prefilled")
        .cloned()
        .and_then(|p| serde_json::from_value(p).ok())
        .unwrap_or_default();
    let attached = store::materials_of(&state.db, &row.id).await?;
    let mut materials = Vec::new();
    for (m, _) in combined_materials(&defs) {
        let found = attached.iter().find(|a| a.material_key == m.key);
        let (source, reference, description, values) = match found {
            Some(a) => {
                let detail = open_json(state, &a.detail_enc, &material_context(&row.id, &m.key))?;
                (
                    a.source.clone(),
                    Some(a.reference.clone()),
                    detail
                        .get("description")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    detail.get("values").cloned().unwrap_or(Value::Null),
                )
            }
            None => ("missing".to_string(), None, None, Value::Null),
        };
        materials.push(AttachedMaterial {
            key: m.key.clone(),
            name: m.name.clone(),
            source,
            reference,
            description,
            required: m.required,
            upload_allowed: m.upload,
            values,
        });
    }
    let calendar = load_calendar(state).await?;
    let case_views = cases
        .iter()
        .filter_map(|c| {
            items
                .iter()
                .find(|(r, _)| r.id == c.item_id)
                .map(|(_, d)| case_view(c, d, &calendar))
        })
        .collect();
    let timeline = store::events_of(&state.db, &row.id)
        .await?
        .into_iter()
        .map(|e| TimelineEntry {
            at: e.created_at,
            kind: e.kind,
            case_id: e.case_id,
            step_name: e.step_name,
            actor_name: e.actor_name,
            note: e.note,
        })
        .collect();
    let life_event = match &row.life_event_id {
        Some(id) => store::life_event_by(&state.db, "id", id)
            .await?
            .map(|e| e.code),
        None => None,
    };
    Ok(Application {
        id: row.id.clone(),
        number: row.number.clone(),
        title: row.title.clone(),
        person_id: row.person_id.clone(),
        life_event,
        state: ApplicationState::parse(&row.state),
        form,
        schema: combined_schema(&defs),
        prefilled,
        materials,
        cases: case_views,
        timeline,
        version: row.version,
        created_at: row.created_at,
        submitted_at: row.submitted_at,
    })
}

/// One application, to its applicant (or her proxy) or to the staff of a department
/// handling one of its cases — whose reading is audited with the item's legal basis.
pub async fn application(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> ApiResult<Application> {
    let (row, reader, cases) = load_application(state, principal, id).await?;
    let view = assemble(state, &row, &cases).await?;
    if let Reader::Staff = reader {
        audit_staff_read(state, principal, &row, &cases).await?;
    }
    Ok(view)
}

async fn audit_staff_read(
    state: &AppState,
    principal: &Principal,
    row: &ApplicationRow,
    cases: &[CaseRow],
) -> ApiResult<()> {
    let items = items_of(state, &row.item_ids).await?;
    let basis = items
        .iter()
        .find(|(r, _)| {
            cases.iter().any(|c| {
                c.item_id == r.id
                    && principal
                        .staff_organisations()
                        .contains(&c.lead_org_id.as_str())
            })
        })
        .or(items.first())
        .map(|(_, d)| d.legal_basis.clone())
        .unwrap_or_default();
    state
        .audit
        .record(
            AuditEvent::by(
                principal,
                "application.read",
                format!("application:{} form, materials", row.id),
            )
            .subject(&row.person_id)
            .because(
                format!("办理申请 {}「{}」", row.number, row.title),
                Basis::Statutory(basis.chars().take(200).collect()),
            ),
        )
        .await?;
    Ok(())
}

/// The applicant's applications, newest first.
pub async fn my_applications(
    state: &AppState,
    principal: &Principal,
    page: &PageQuery,
) -> ApiResult<Page<ApplicationSummary>> {
    let person = applicant(principal)?;
    let limit = page.limit();
    let rows = store::applications_of(&state.db, &person, page.cursor()?, limit + 1).await?;
    let items = rows
        .into_iter()
        .map(|r| ApplicationSummary {
            state: ApplicationState::parse(&r.state),
            id: r.id,
            number: r.number,
            title: r.title,
            created_at: r.created_at,
            submitted_at: r.submitted_at,
        })
        .collect();
    Ok(Page::from_rows(items, limit, |a| a.id.clone()))
}

/// Loads an application its applicant may change (a draft, or one awaiting 补正).
async fn editable(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> ApiResult<(ApplicationRow, Vec<CaseRow>)> {
    let (row, reader, cases) = load_application(state, principal, id).await?;
    if !matches!(reader, Reader::Applicant) {
        return Err(ApiError::Forbidden(
            "only the applicant (or her proxy) changes an application".into(),
        ));
    }
    match ApplicationState::parse(&row.state) {
        ApplicationState::Draft | ApplicationState::Supplement => Ok((row, cases)),
        _ => Err(ApiError::Conflict(
            "the application is with the departments: it can no longer be changed".into(),
        )),
    }
}

/// Checks values against the combined form: every error, field by field.
fn check_values(schema: &Value, values: &Map<String, Value>, complete: bool) -> ApiResult<()> {
    let mut errors: Vec<FieldError> = Vec::new();
    let props = schema
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for key in values.keys() {
        if !props.contains_key(key) {
            errors.push(FieldError {
                field: key.chars().take(40).collect(),
                detail: "this form has no such field".into(),
            });
        }
    }
    let mut to_check = schema.clone();
    if !complete {
        to_check["required"] = json!([]);
    }
    match jsonschema::options().build(&to_check) {
        Ok(validator) => {
            for e in validator.iter_errors(&Value::Object(values.clone())) {
                let path = e.instance_path().to_string();
                let mut field = path
                    .trim_start_matches('/')
                    .split('/')
                    .next()
                    .unwrap_or("")
                    .to_string();
                let mut detail = e.to_string();
                if field.is_empty() {
                    // A missing required field is reported at the object: name it.
                    if let jsonschema::error::ValidationErrorKind::Required { property } = e.kind()
                    {
                        field = property.as_str().unwrap_or("").to_string();
                        detail = "this field is required".into();
                    }
                }
                let title = props
                    .get(&field)
                    .and_then(|p| p.get("title"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if !title.is_empty() && !detail.starts_with(title) {
                    detail = format!("{title}: {detail}");
                }
                if !errors.iter().any(|x| x.field == field) {
                    errors.push(FieldError { field, detail });
                }
            }
        }
        Err(e) => {
            return Err(internal(anyhow::anyhow!(
                "the stored form does not compile: {e}"
            )));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::InvalidFields(errors))
    }
}

/// Sets form values (null clears one) on a draft or an application awaiting 补正.
pub async fn update_form(
    state: &AppState,
    principal: &Principal,
    id: &str,
    update: FormUpdate,
) -> ApiResult<Application> {
    let (row, _) = editable(state, principal, id).await?;
    let items = items_of(state, &row.item_ids).await?;
    let defs: Vec<&ServiceDefinition> = items.iter().map(|(_, d)| d).collect();
    let schema = combined_schema(&defs);
    let mut stored = open_json(state, &row.form_enc, &form_context(&row.id))?;
    let mut values = stored
        .get("values")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (k, v) in update.values {
        if v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty()) {
            values.remove(&k);
        } else {
            let v = match v {
                Value::String(s) => Value::String(s.trim().to_string()),
                other => other,
            };
            values.insert(k, v);
        }
    }
    check_values(&schema, &values, false)?;
    stored["values"] = Value::Object(values);
    let mut tx = state.db.begin().await?;
    if !store::update_application(
        &mut tx,
        &row.id,
        row.version,
        &row.state,
        &seal_json(state, &stored, &form_context(&row.id))?,
        None,
    )
    .await?
    {
        return Err(ApiError::Conflict(
            "the application changed meanwhile: reload it".into(),
        ));
    }
    tx.commit().await?;
    application(state, principal, id).await
}

/// Sniffs an upload's type from its bytes.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    infer::get(bytes)
        .map(|t| t.mime_type())
        .filter(|m| UPLOAD_TYPES.contains(m))
}

/// Uploads a file for a material nobody holds. Its type is read from the bytes (PDF,
/// JPEG, PNG); the file is sealed into the blob store first and its row written after, and
/// a failure in between removes the file, so nothing is left half-written.
pub async fn upload(
    state: &AppState,
    principal: &Principal,
    id: &str,
    material_key: &str,
    file_name: &str,
    claimed_type: Option<&str>,
    bytes: &[u8],
) -> ApiResult<AttachedMaterial> {
    let (row, _) = editable(state, principal, id).await?;
    let items = items_of(state, &row.item_ids).await?;
    let defs: Vec<&ServiceDefinition> = items.iter().map(|(_, d)| d).collect();
    let material = combined_materials(&defs)
        .into_iter()
        .map(|(m, _)| m)
        .find(|m| m.key == material_key)
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "this application needs no material '{}'",
                material_key.chars().take(64).collect::<String>()
            ))
        })?;
    if !material.upload {
        return Err(ApiError::invalid(
            "material",
            format!(
                "「{}」is fetched from the government's records, not uploaded",
                material.name
            ),
        ));
    }
    let max = state.config.max_upload_bytes;
    if bytes.is_empty() {
        return Err(ApiError::invalid("file", "the file is empty"));
    }
    if bytes.len() as u64 > max {
        return Err(ApiError::PayloadTooLarge(format!(
            "the file is {} bytes; at most {max} are accepted",
            bytes.len()
        )));
    }
    let Some(content_type) = sniff(bytes) else {
        return Err(ApiError::UnsupportedMediaType(
            "the file is not a PDF, JPEG or PNG (its content was read, not its name)".into(),
        ));
    };
    if let Some(claimed) = claimed_type.map(|c| c.split(';').next().unwrap_or("").trim())
        && !claimed.is_empty()
        && claimed != "application/octet-stream"
        && claimed != content_type
    {
        return Err(ApiError::UnsupportedMediaType(format!(
            "the file says it is {claimed} but its content is {content_type}"
        )));
    }
    let file_name: String = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(100)
        .collect();
    let file_name = if file_name.trim().is_empty() {
        "upload".to_string()
    } else {
        file_name
    };
    let upload_id = new_id();
    let blob_key = format!("uploads/{}/{upload_id}", row.id);
    let blobs = Blobs::of(state)?;
    blobs.put(state, &blob_key, bytes).await?;
    let written = async {
        let now = Timestamp::now();
        let sha = hex::encode(Sha256::digest(bytes));
        let mut tx = state.db.begin().await?;
        store::insert_upload(
            &mut tx,
            &store::UploadRow {
                id: upload_id.clone(),
                application_id: row.id.clone(),
                material_key: material.key.clone(),
                blob_key: blob_key.clone(),
                file_name: file_name.clone(),
                content_type: content_type.to_string(),
                size: bytes.len() as i64,
                sha256: sha,
                created_at: now,
            },
        )
        .await?;
        let description = format!("{file_name}（{content_type}，{} KB）", bytes.len().div_ceil(1024));
        store::put_material(
            &mut tx,
            &MaterialRow {
                application_id: row.id.clone(),
                material_key: material.key.clone(),
                source: "upload".into(),
                reference: upload_id.clone(),
                detail_enc: seal_json(state, &json!({"description": description, "values": {"file_name": file_name, "content_type": content_type, "size": bytes.len()}}), &material_context(&row.id, &material.key))?,
                created_at: now,
            },
        )
        .await?;
        store::insert_event(&mut tx, &event(&row.id, None, "material", None, &principal.display_name, Some(format!("{}：上传 {description}", material.name)))).await?;
        tx.commit().await?;
        Ok::<_, ApiError>(description)
    }
    .await;
    match written {
        Ok(description) => Ok(AttachedMaterial {
            key: material.key,
            name: material.name,
            source: "upload".into(),
            reference: Some(upload_id),
            description: Some(description),
            required: material.required,
            upload_allowed: true,
            values: json!({"file_name": file_name, "content_type": content_type, "size": bytes.len()}),
        }),
        Err(error) => {
            if let Err(e) = blobs.delete(&blob_key).await {
                tracing::warn!(error = %e, blob_key, "an upload's file could not be removed after its row failed");
            }
            Err(error)
        }
    }
}

/// An uploaded file, to its applicant or the staff handling the application (audited).
pub async fn download(
    state: &AppState,
    principal: &Principal,
    upload_id: &str,
) -> ApiResult<(String, String, Vec<u8>)> {
    let not_found = || ApiError::NotFound("no such file".into());
    if !is_uuid(upload_id) {
        return Err(not_found());
    }
    let upload = store::get_upload(&state.db, upload_id)
        .await?
        .ok_or_else(not_found)?;
    let (row, reader, cases) = load_application(state, principal, &upload.application_id).await?;
    if let Reader::Staff = reader {
        audit_staff_read(state, principal, &row, &cases).await?;
    }
    let bytes = Blobs::of(state)?.get(state, &upload.blob_key).await?;
    Ok((upload.content_type, upload.file_name, bytes))
}

/// Removes files in the blob store that no upload row names and that are older than an
/// hour (a process that died between writing a file and its row); returns how many.
pub async fn sweep_orphan_uploads(state: &AppState) -> ApiResult<usize> {
    let blobs = Blobs::of(state)?;
    let before = Timestamp::now().plus_minutes(-60);
    let mut removed = 0;
    for key in blobs.older_than("uploads", before).await? {
        if !store::blob_known(&state.db, &key).await? {
            blobs.delete(&key).await?;
            removed += 1;
        }
    }
    Ok(removed)
}

fn check_complete(
    schema: &Value,
    values: &Map<String, Value>,
    materials: &[AttachedMaterial],
) -> ApiResult<()> {
    let mut errors = match check_values(schema, values, true) {
        Ok(()) => Vec::new(),
        Err(ApiError::InvalidFields(errors)) => errors,
        Err(other) => return Err(other),
    };
    for m in materials {
        if m.required && m.source == "missing" {
            errors.push(FieldError {
                field: format!("materials.{}", m.key),
                detail: format!("「{}」is missing: upload it", m.name),
            });
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::InvalidFields(errors))
    }
}

/// Submits a draft: the form is checked field by field, every required material must be
/// attached, she must still be eligible; then one case per item starts at its first step
/// with its clock, and she is told in her inbox.
pub async fn submit(state: &AppState, principal: &Principal, id: &str) -> ApiResult<Application> {
    let (row, _) = editable(state, principal, id).await?;
    submit_loaded(state, principal, row).await
}

/// Submits a draft, or resubmits an application after 补正 (the page's one button).
pub async fn hand_in(state: &AppState, principal: &Principal, id: &str) -> ApiResult<Application> {
    let (row, cases) = editable(state, principal, id).await?;
    if ApplicationState::parse(&row.state) == ApplicationState::Supplement {
        resubmit_loaded(state, principal, row, cases).await
    } else {
        submit_loaded(state, principal, row).await
    }
}

async fn submit_loaded(
    state: &AppState,
    principal: &Principal,
    row: ApplicationRow,
) -> ApiResult<Application> {
    let id = row.id.as_str();
    if ApplicationState::parse(&row.state) != ApplicationState::Draft {
        return Err(ApiError::Conflict(
            "this application was submitted: resubmit it after 补正".into(),
        ));
    }
    let view = assemble(state, &row, &[]).await?;
    let values = view.form.as_object().cloned().unwrap_or_default();
    check_complete(&view.schema, &values, &view.materials)?;
    let items = items_of(state, &row.item_ids).await?;
    let known = known(
        state,
        principal,
        &row.person_id,
        &format!("办理「{}」", row.title),
    )
    .await?;
    if let Some(reason) = items.iter().find_map(|(_, d)| ineligible(d, &known)) {
        return Err(ApiError::Refused {
            code: "not_eligible",
            detail: reason,
        });
    }
    let calendar = load_calendar(state).await?;
    let day = today();
    let now = Timestamp::now();
    let mut tx = state.db.begin().await?;
    if !store::update_application(
        &mut tx,
        &row.id,
        row.version,
        ApplicationState::Submitted.as_str(),
        &row.form_enc,
        Some(now),
    )
    .await?
    {
        return Err(ApiError::Conflict(
            "the application changed meanwhile: reload it".into(),
        ));
    }
    store::insert_event(
        &mut tx,
        &event(
            &row.id,
            None,
            "submitted",
            None,
            &principal.display_name,
            None,
        ),
    )
    .await?;
    let mut departments = Vec::new();
    for (item, def) in &items {
        let first = &def.steps[0];
        let case = CaseRow {
            id: new_id(),
            application_id: row.id.clone(),
            item_id: item.id.clone(),
            lead_org_id: item.lead_org_id.clone(),
            step_index: 0,
            step_org_id: first
                .organisation_id
                .clone()
                .unwrap_or_else(|| item.lead_org_id.clone()),
            step_role: first.role.clone(),
            state: CaseState::InProgress.as_str().into(),
            version: 0,
            submitted_on: format_day(day),
            due_on: format_day(calendar.add_working_days(day, def.committed_days)),
            paused_since: None,
            paused_days: 0,
            finished_on: None,
            working_days: None,
            escalated_at: None,
            result_credential_id: None,
            outcome_note: None,
            created_at: now,
            updated_at: now,
            number: String::new(),
            person_id: String::new(),
            item_code: String::new(),
            item_name: String::new(),
            lead_org_name: String::new(),
            rating: None,
        };
        store::insert_case(&mut tx, &case).await?;
        store::insert_event(
            &mut tx,
            &event(
                &row.id,
                Some(&case.id),
                "case",
                Some(first.kind.zh()),
                "一网通办",
                Some(format!(
                    "「{}」待受理，承诺 {} 个工作日内办结（{} 前）",
                    def.name, def.committed_days, case.due_on
                )),
            ),
        )
        .await?;
        departments.push(item.lead_org_id.clone());
    }
    let lead = departments.first().cloned().unwrap_or_default();
    messaging::service::notify_in(
        state,
        &mut tx,
        &lead,
        &principal.account_id,
        &row.person_id,
        &format!("申请已提交：{}", row.title),
        &format!("您的申请（编号 {}）已提交，共 {} 个事项，部门受理后会再通知您。可在“我的办件”查看进度。", row.number, items.len()),
    )
    .await?;
    let event = AuditEvent::by(
        principal,
        "application.submit",
        format!("application:{} items:{}", row.id, items.len()),
    )
    .subject(&row.person_id)
    .because(
        format!("申请「{}」", row.title),
        Basis::own_or_proxy(principal),
    );
    state.audit.record_in(&mut tx, event).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    messaging::delivery::wake(state);
    application(state, principal, id).await
}

/// Resubmits an application after 补正: its paused cases resume at the step that asked,
/// their due dates moved on by the working days the clock was stopped.
pub async fn resubmit(state: &AppState, principal: &Principal, id: &str) -> ApiResult<Application> {
    let (row, cases) = editable(state, principal, id).await?;
    resubmit_loaded(state, principal, row, cases).await
}

async fn resubmit_loaded(
    state: &AppState,
    principal: &Principal,
    row: ApplicationRow,
    cases: Vec<CaseRow>,
) -> ApiResult<Application> {
    let id = row.id.as_str();
    if ApplicationState::parse(&row.state) != ApplicationState::Supplement {
        return Err(ApiError::Conflict(
            "no department asked for supplementary materials".into(),
        ));
    }
    let view = assemble(state, &row, &cases).await?;
    let values = view.form.as_object().cloned().unwrap_or_default();
    check_complete(&view.schema, &values, &view.materials)?;
    let calendar = load_calendar(state).await?;
    let day = today();
    let mut tx = state.db.begin().await?;
    if !store::update_application(
        &mut tx,
        &row.id,
        row.version,
        ApplicationState::Submitted.as_str(),
        &row.form_enc,
        None,
    )
    .await?
    {
        return Err(ApiError::Conflict(
            "the application changed meanwhile: reload it".into(),
        ));
    }
    for case in cases
        .iter()
        .filter(|c| CaseState::parse(&c.state) == CaseState::Supplement)
    {
        let since = case
            .paused_since
            .as_deref()
            .and_then(parse_day)
            .unwrap_or(day);
        let paused = calendar.working_days_between(since, day).max(0);
        let due = parse_day(&case.due_on).unwrap_or(day);
        let mut next = case.clone();
        next.state = CaseState::InProgress.as_str().into();
        next.paused_since = None;
        next.paused_days += paused;
        next.due_on = format_day(calendar.add_working_days(due, paused));
        next.escalated_at = None;
        if !store::update_case(&mut tx, &next, case.version).await? {
            return Err(ApiError::Conflict(
                "a department acted on the application meanwhile: reload it".into(),
            ));
        }
        store::insert_event(
            &mut tx,
            &event(
                &row.id,
                Some(&case.id),
                "resubmitted",
                None,
                &principal.display_name,
                Some(format!(
                    "「{}」补正后重新提交；计时暂停 {paused} 个工作日，新的办结期限 {}",
                    case.item_name, next.due_on
                )),
            ),
        )
        .await?;
    }
    let event = AuditEvent::by(
        principal,
        "application.resubmit",
        format!("application:{}", row.id),
    )
    .subject(&row.person_id)
    .because(
        format!("补正「{}」", row.title),
        Basis::own_or_proxy(principal),
    );
    state.audit.record_in(&mut tx, event).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    application(state, principal, id).await
}

/// Rates finished or rejected cases of an application (好差评), once each.
pub async fn rate(
    state: &AppState,
    principal: &Principal,
    id: &str,
    rating: NewRating,
) -> ApiResult<Application> {
    let (row, reader, cases) = load_application(state, principal, id).await?;
    if !matches!(reader, Reader::Applicant) {
        return Err(ApiError::Forbidden(
            "only the applicant (or her proxy) rates a service".into(),
        ));
    }
    if !(1..=5).contains(&rating.score) {
        return Err(ApiError::invalid("score", "a score from 1 to 5"));
    }
    let comment = rating
        .comment
        .as_deref()
        .map(|c| text("comment", c, 500, false))
        .transpose()?
        .filter(|c| !c.is_empty());
    let targets: Vec<&CaseRow> = cases
        .iter()
        .filter(|c| CaseState::parse(&c.state).ended() && c.rating.is_none())
        .filter(|c| rating.case_id.as_deref().is_none_or(|want| want == c.id))
        .collect();
    if targets.is_empty() {
        return Err(ApiError::Conflict(
            "nothing to rate: a case is rated once, after it ends".into(),
        ));
    }
    let mut tx = state.db.begin().await?;
    for case in &targets {
        if !store::insert_rating(
            &mut tx,
            &case.id,
            &case.item_id,
            rating.score,
            comment.as_deref(),
        )
        .await?
        {
            return Err(ApiError::Conflict("this case was rated already".into()));
        }
        store::insert_event(
            &mut tx,
            &event(
                &row.id,
                Some(&case.id),
                "rated",
                None,
                &principal.display_name,
                Some(format!("「{}」评价 {} 星", case.item_name, rating.score)),
            ),
        )
        .await?;
    }
    tx.commit().await?;
    application(state, principal, id).await
}

// ---- departments ----

/// A case's queue entry with the applicant's masked name.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct QueueEntry {
    /// The case.
    #[serde(flatten)]
    pub case: Case,
    /// The applicant's name, masked.
    pub applicant: String,
}

/// A department's queue: its open cases soonest-due first, or (`escalated`) its overdue
/// ones for its reviewer, or its ended ones.
pub async fn queue(
    state: &AppState,
    actor: &Principal,
    query: &QueueQuery,
) -> ApiResult<Vec<QueueEntry>> {
    let org = actor.staff_organisation(query.organisation_id.as_deref(), "organisation_id")?;
    let view = match query.view.as_deref().unwrap_or("open") {
        "open" => QueueView::Open,
        "escalated" => QueueView::Overdue {
            today: format_day(today()),
        },
        "ended" => QueueView::Ended,
        _ => return Err(ApiError::invalid("view", "open, escalated or ended")),
    };
    let rows = store::queue(&state.db, &org, &view, 200).await?;
    let calendar = load_calendar(state).await?;
    let mut defs: HashMap<String, ServiceDefinition> = HashMap::new();
    let mut out = Vec::new();
    for row in rows {
        if !defs.contains_key(&row.item_id) {
            let items = store::items_by_ids(&state.db, std::slice::from_ref(&row.item_id)).await?;
            if let Some(item) = items.first() {
                defs.insert(
                    row.item_id.clone(),
                    serde_json::from_str(&item.definition).map_err(internal)?,
                );
            }
        }
        let Some(def) = defs.get(&row.item_id) else {
            continue;
        };
        let applicant = identity::service::person_summary_by_id(state, &row.person_id)
            .await?
            .map(|p| mask_name(&p.name))
            .unwrap_or_default();
        out.push(QueueEntry {
            case: case_view(&row, def, &calendar),
            applicant,
        });
    }
    Ok(out)
}

/// A case with its application, to the staff handling it (audited).
pub async fn case(state: &AppState, actor: &Principal, id: &str) -> ApiResult<(Case, Application)> {
    let not_found = || ApiError::NotFound("no such case".into());
    if !is_uuid(id) {
        return Err(not_found());
    }
    let row = store::get_case(&state.db, id)
        .await?
        .ok_or_else(not_found)?;
    let application = application(state, actor, &row.application_id)
        .await
        .map_err(|e| match e {
            ApiError::NotFound(_) => not_found(),
            other => other,
        })?;
    let case = application
        .cases
        .iter()
        .find(|c| c.id == row.id)
        .cloned()
        .ok_or_else(not_found)?;
    Ok((case, application))
}

fn may_take(actor: &Principal, org: &str, role: &str) -> bool {
    match role {
        "reviewer" => actor.has_role_in(Role::Reviewer, org),
        _ => actor.has_role_in(Role::Clerk, org) || actor.has_role_in(Role::Reviewer, org),
    }
}

fn application_state_of(cases: &[CaseRow]) -> ApplicationState {
    let states: Vec<CaseState> = cases.iter().map(|c| CaseState::parse(&c.state)).collect();
    if states.contains(&CaseState::Supplement) {
        ApplicationState::Supplement
    } else if states.iter().all(|s| s.ended()) {
        ApplicationState::Closed
    } else {
        ApplicationState::Submitted
    }
}

/// Acts on a case's current step: `complete` moves it to the next step (the last one
/// finishes it, issuing its result certificate into the applicant's wallet), `supplement`
/// pauses its clock until she resubmits, `reject` ends it with reasons. Only the staff the
/// step is assigned to may act, only on the current step, and of two concurrent actions
/// only one succeeds.
pub async fn act(
    state: &AppState,
    actor: &Principal,
    id: &str,
    action: CaseAction,
) -> ApiResult<Case> {
    let not_found = || ApiError::NotFound("no such case".into());
    if !is_uuid(id) {
        return Err(not_found());
    }
    let row = store::get_case(&state.db, id)
        .await?
        .ok_or_else(not_found)?;
    let items = store::items_by_ids(&state.db, std::slice::from_ref(&row.item_id)).await?;
    let item = items.first().ok_or_else(not_found)?;
    let def: ServiceDefinition = serde_json::from_str(&item.definition).map_err(internal)?;
    let staff_here = actor
        .staff_organisations()
        .iter()
        .any(|o| *o == row.step_org_id || *o == row.lead_org_id);
    if !staff_here {
        return Err(not_found());
    }
    let step_index = usize::try_from(row.step_index).unwrap_or(usize::MAX);
    let step = def.steps.get(step_index).cloned().ok_or_else(|| {
        ApiError::Conflict("the item's workflow no longer has this case's step".into())
    })?;
    if !may_take(actor, &row.step_org_id, &row.step_role) {
        return Err(ApiError::Forbidden(format!(
            "step {} ({}) is for a {} of the department it is assigned to",
            row.step_index,
            step.kind.zh(),
            row.step_role
        )));
    }
    match CaseState::parse(&row.state) {
        CaseState::InProgress => {}
        CaseState::Supplement => {
            return Err(ApiError::Conflict(
                "the case waits for the applicant's supplementary materials".into(),
            ));
        }
        _ => return Err(ApiError::Conflict("the case has ended".into())),
    }
    if action.step != row.step_index {
        return Err(ApiError::Conflict(format!(
            "step {} is not the current step: the case is at step {} ({}); steps are taken in order",
            action.step,
            row.step_index,
            step.kind.zh()
        )));
    }
    if action.version != row.version {
        return Err(ApiError::Conflict(
            "the case changed since you read it: reload it".into(),
        ));
    }
    let note = action
        .note
        .as_deref()
        .map(|n| text("note", n, 1_000, false))
        .transpose()?
        .filter(|n| !n.is_empty());
    let calendar = load_calendar(state).await?;
    let day = today();
    let mut next = row.clone();
    let mut expected = row.version;
    let (kind, subject, body);
    match action.action.as_str() {
        "complete" if step_index + 1 < def.steps.len() => {
            let following = &def.steps[step_index + 1];
            next.step_index += 1;
            next.step_org_id = following
                .organisation_id
                .clone()
                .unwrap_or_else(|| row.lead_org_id.clone());
            next.step_role = following.role.clone();
            kind = "step";
            subject = format!("「{}」已{}", row.item_name, step.kind.zh());
            body = format!(
                "您的申请（编号 {}）中的「{}」已{}，进入{}环节。",
                row.number,
                row.item_name,
                step.kind.zh(),
                following.kind.zh()
            );
        }
        "complete" => {
            // Claim the case first, so a concurrent action fails before a certificate exists.
            let mut tx = state.db.begin().await?;
            if !store::update_case(&mut tx, &row, expected).await? {
                return Err(ApiError::Conflict(
                    "another action on this case got there first: reload it".into(),
                ));
            }
            tx.commit().await?;
            expected += 1;
            if let Some(result) = &def.result {
                let credential = issue_result(state, actor, &row, &step, result).await?;
                next.result_credential_id = Some(credential);
            }
            next.state = CaseState::Finished.as_str().into();
            next.finished_on = Some(format_day(day));
            next.working_days = Some(worked(&calendar, &row, day));
            kind = "finished";
            subject = format!("「{}」已办结", row.item_name);
            body = match &def.result {
                Some(_) => format!(
                    "您的申请（编号 {}）中的「{}」已办结，电子证照已放入您的证照夹。欢迎对本次服务进行评价。",
                    row.number, row.item_name
                ),
                None => format!(
                    "您的申请（编号 {}）中的「{}」已办结。欢迎对本次服务进行评价。",
                    row.number, row.item_name
                ),
            };
        }
        "supplement" => {
            if !matches!(step.kind, StepKind::Accept | StepKind::Review) {
                return Err(ApiError::Conflict(
                    "supplementary materials are asked for at acceptance or review".into(),
                ));
            }
            let Some(what) = note.clone() else {
                return Err(ApiError::invalid(
                    "note",
                    "say what the applicant must supply",
                ));
            };
            next.state = CaseState::Supplement.as_str().into();
            next.paused_since = Some(format_day(day));
            next.outcome_note = Some(what.clone());
            kind = "supplement";
            subject = format!("请补正材料：{}", row.item_name);
            body = format!(
                "您的申请（编号 {}）中的「{}」需要补正：{what}。补正后请在“我的办件”重新提交；补正期间不计入办理时限。",
                row.number, row.item_name
            );
        }
        "reject" => {
            let Some(why) = note.clone() else {
                return Err(ApiError::invalid(
                    "note",
                    "give the reasons for the rejection",
                ));
            };
            next.state = CaseState::Rejected.as_str().into();
            next.finished_on = Some(format_day(day));
            next.working_days = Some(worked(&calendar, &row, day));
            next.outcome_note = Some(why.clone());
            kind = "rejected";
            subject = format!("「{}」未予办理", row.item_name);
            body = format!(
                "您的申请（编号 {}）中的「{}」未予办理，理由：{why}。如有异议，可依法申请行政复议或提起行政诉讼。",
                row.number, row.item_name
            );
        }
        _ => {
            return Err(ApiError::invalid(
                "action",
                "complete, supplement or reject",
            ));
        }
    }
    // Read before the transaction: a connection held while waiting for another would
    // starve the pool when several actions arrive at once.
    let mut all = store::cases_of_application(&state.db, &row.application_id).await?;
    for c in all.iter_mut().filter(|c| c.id == row.id) {
        c.state = next.state.clone();
    }
    let mut tx = state.db.begin().await?;
    if !store::update_case(&mut tx, &next, expected).await? {
        return Err(ApiError::Conflict(
            "another action on this case got there first: reload it".into(),
        ));
    }
    let step_name = format!("{}（{}）", step.kind.zh(), actor.display_name);
    store::insert_event(
        &mut tx,
        &event(
            &row.application_id,
            Some(&row.id),
            kind,
            Some(step.kind.zh()),
            &actor.display_name,
            note.clone().or(Some(step_name)),
        ),
    )
    .await?;
    store::set_application_state(
        &mut tx,
        &row.application_id,
        application_state_of(&all).as_str(),
    )
    .await?;
    messaging::service::notify_in(
        state,
        &mut tx,
        &row.lead_org_id,
        &actor.account_id,
        &row.person_id,
        &subject,
        &body,
    )
    .await?;
    let audit = AuditEvent::by(
        actor,
        format!("case.{}", action.action),
        format!(
            "case:{} application:{} step:{}",
            row.id, row.application_id, row.step_index
        ),
    )
    .subject(&row.person_id)
    .because(
        format!("办理「{}」{}", row.item_name, step.kind.zh()),
        Basis::Statutory(def.legal_basis.chars().take(200).collect()),
    );
    state.audit.record_in(&mut tx, audit).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    messaging::delivery::wake(state);
    let row = store::get_case(&state.db, id)
        .await?
        .ok_or_else(not_found)?;
    Ok(case_view(&row, &def, &calendar))
}

/// Working days a case took: from submission to `day`, its 补正 pauses excluded.
fn worked(calendar: &Calendar, row: &CaseRow, day: time::Date) -> i64 {
    let from = parse_day(&row.submitted_on).unwrap_or(day);
    (calendar.working_days_between(from, day) - row.paused_days).max(0)
}

async fn issue_result(
    state: &AppState,
    actor: &Principal,
    row: &CaseRow,
    step: &Step,
    result: &ResultCertificate,
) -> ApiResult<String> {
    let application = store::get_application(&state.db, &row.application_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no such application".into()))?;
    let stored = open_json(state, &application.form_enc, &form_context(&application.id))?;
    let values = stored
        .get("values")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut claims = Map::new();
    for (claim, source) in &result.claims {
        let value = match parse_source(source) {
            Ok(Source::Form(f)) => values.get(&f).cloned().unwrap_or(Value::Null),
            Ok(Source::Literal(l)) => Value::String(l),
            Ok(Source::CaseNumber) => Value::String(application.number.clone()),
            _ => Value::Null,
        };
        if !value.is_null() {
            claims.insert(claim.clone(), value);
        }
    }
    let issued = credentials::service::issue(
        state,
        actor,
        credentials::model::IssueRequest {
            type_code: result.certificate_type.clone(),
            person_id: row.person_id.clone(),
            claims: Value::Object(claims),
            issuer_org_id: Some(
                step.organisation_id
                    .clone()
                    .unwrap_or_else(|| row.lead_org_id.clone()),
            ),
        },
    )
    .await?;
    Ok(issued.id)
}

/// Flags open cases past their due date as escalated to their department's reviewer
/// (they appear on its `escalated` list, and the timeline says so); returns how many.
pub async fn escalate_overdue(state: &AppState) -> ApiResult<usize> {
    let rows = store::unescalated_overdue(&state.db, &format_day(today())).await?;
    let mut escalated = 0;
    for row in rows {
        let mut tx = state.db.begin().await?;
        if store::mark_escalated(&mut tx, &row.id).await? {
            store::insert_event(
                &mut tx,
                &event(
                    &row.application_id,
                    Some(&row.id),
                    "escalated",
                    None,
                    "一网通办",
                    Some(format!(
                        "「{}」超过办结期限（{}），已提请部门审核人督办",
                        row.item_name, row.due_on
                    )),
                ),
            )
            .await?;
            escalated += 1;
        }
        tx.commit().await?;
    }
    Ok(escalated)
}

// ---- statistics ----

/// Applications, on-time rate, processing days against the statutory limit, materials
/// satisfied without upload, and satisfaction — per item, per lead department, in all.
pub async fn statistics(state: &AppState) -> ApiResult<Statistics> {
    let today = format_day(today());
    let cases = store::case_figures(&state.db, &today).await?;
    let materials: HashMap<String, (i64, i64)> = store::material_figures(&state.db)
        .await?
        .into_iter()
        .map(|(k, a, u)| (k, (a, u)))
        .collect();
    let ratings: HashMap<String, (i64, Option<f64>)> = store::rating_figures(&state.db)
        .await?
        .into_iter()
        .map(|(k, n, a)| (k, (n, a)))
        .collect();
    let rows = store::search_items(&state.db, &[]).await?;
    let org_ids: Vec<String> = rows.iter().map(|r| r.lead_org_id.clone()).collect();
    let names = identity::service::organisation_names(state, &org_ids).await?;
    #[derive(Default)]
    struct Acc {
        f: Figures,
        on_time: i64,
        days_sum: f64,
        statutory_sum: f64,
        attached: i64,
        uploaded: i64,
        score_sum: f64,
    }
    impl Acc {
        fn add(
            &mut self,
            c: Option<&store::CaseFigures>,
            statutory: i64,
            m: Option<&(i64, i64)>,
            r: Option<&(i64, Option<f64>)>,
        ) {
            if let Some(c) = c {
                self.f.applications += c.cases;
                self.f.ended += c.ended;
                self.f.finished += c.finished;
                self.f.overdue += c.overdue;
                self.on_time += c.on_time;
                if let Some(avg) = c.average_days {
                    self.days_sum += avg * c.finished as f64;
                    self.statutory_sum += statutory as f64 * c.finished as f64;
                }
            }
            if let Some((a, u)) = m {
                self.attached += a;
                self.uploaded += u;
            }
            if let Some((n, Some(avg))) = r {
                self.f.ratings += n;
                self.score_sum += avg * *n as f64;
            }
        }
        fn done(mut self) -> Figures {
            let ratio = |a: f64, b: i64| (b > 0).then(|| a / b as f64);
            self.f.on_time_rate = ratio(self.on_time as f64, self.f.ended);
            self.f.average_days = ratio(self.days_sum, self.f.finished);
            self.f.statutory_days = ratio(self.statutory_sum, self.f.finished);
            self.f.materials_without_upload =
                ratio((self.attached - self.uploaded) as f64, self.attached);
            self.f.satisfaction = ratio(self.score_sum, self.f.ratings);
            self.f
        }
    }
    let mut total = Acc::default();
    let mut departments: BTreeMap<String, Acc> = BTreeMap::new();
    let mut items = Vec::new();
    for row in &rows {
        let c = cases.iter().find(|c| c.item_id == row.id);
        let m = materials.get(&row.id);
        let r = ratings.get(&row.id);
        let mut acc = Acc::default();
        acc.f.key = row.code.clone();
        acc.f.name = row.name.clone();
        acc.add(c, row.statutory_days, m, r);
        total.add(c, row.statutory_days, m, r);
        let dept = departments.entry(row.lead_org_id.clone()).or_default();
        dept.f.key = row.lead_org_id.clone();
        dept.f.name = names.get(&row.lead_org_id).cloned().unwrap_or_default();
        dept.add(c, row.statutory_days, m, r);
        items.push(acc.done());
    }
    total.f.key = "all".into();
    total.f.name = "全部事项".into();
    Ok(Statistics {
        total: total.done(),
        items,
        departments: departments.into_values().map(Acc::done).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_parse_and_bad_ones_are_named() {
        assert_eq!(
            parse_source("profile.address"),
            Ok(Source::Profile("address".into()))
        );
        assert_eq!(
            parse_source("resource.household-registration.household_number"),
            Ok(Source::Resource(
                "household-registration".into(),
                "household_number".into()
            ))
        );
        assert_eq!(parse_source("'一级'"), Ok(Source::Literal("一级".into())));
        assert!(parse_source("profile.salary").is_err());
        assert!(parse_source("nowhere").is_err());
    }

    #[test]
    fn shared_fields_are_asked_once() {
        let def = |props: Value, required: Value| ServiceDefinition {
            code: "x".into(),
            name: "x".into(),
            summary: "x".into(),
            keywords: vec![],
            situations: vec![],
            departments: vec![],
            legal_basis: "x".into(),
            eligibility: Eligibility::default(),
            statutory_days: 1,
            committed_days: 1,
            fee_yuan: 0.0,
            materials: vec![],
            form: json!({"type": "object", "properties": props, "required": required}),
            field_sources: BTreeMap::new(),
            steps: vec![],
            result: None,
        };
        let a = def(
            json!({"name": {"type": "string", "title": "A"}, "a": {"type": "string", "title": "a"}}),
            json!(["name"]),
        );
        let b = def(
            json!({"name": {"type": "string", "title": "B"}, "b": {"type": "integer", "title": "b"}}),
            json!(["name", "b"]),
        );
        let schema = combined_schema(&[&a, &b]);
        let props = schema["properties"].as_object().unwrap();
        assert_eq!(props.len(), 3);
        assert_eq!(props["name"]["title"], "A");
        assert_eq!(schema["required"], json!(["name", "b"]));
    }

    #[test]
    fn every_wrong_field_is_named() {
        let schema = json!({"type": "object", "properties": {
            "name": {"type": "string", "title": "姓名", "maxLength": 4},
            "count": {"type": "integer", "title": "人数", "minimum": 1}
        }, "required": ["name", "count"]});
        let values = json!({"name": "一二三四五", "count": 0, "other": 1});
        let Err(ApiError::InvalidFields(errors)) =
            check_values(&schema, values.as_object().unwrap(), true)
        else {
            panic!("expected field errors");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert!(
            fields.contains(&"other") && fields.contains(&"name") && fields.contains(&"count"),
            "{fields:?}"
        );
        let missing = json!({});
        let Err(ApiError::InvalidFields(errors)) =
            check_values(&schema, missing.as_object().unwrap(), true)
        else {
            panic!("expected field errors");
        };
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(check_values(&schema, missing.as_object().unwrap(), false).is_ok());
    }

    #[test]
    fn uploads_are_sniffed_from_their_bytes() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some("application/pdf"));
        assert_eq!(
            sniff(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0]),
            Some("image/png")
        );
        assert_eq!(sniff(b"MZ\x90\x00 an executable"), None);
        assert_eq!(sniff(b"just text"), None);
    }
}
