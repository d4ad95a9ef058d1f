//! The rules of e-certificates: the type catalogue, issuers' keys and DID documents,
//! issuance with schema-checked claims, status changes, the holder's list, and
//! verification that reports every check. No HTTP here.

use ed25519_dalek::{SigningKey, VerifyingKey};
use identity::model::OrgKind;
use kernel::api::text;
use kernel::audit::{AuditEvent, Basis, commit_audited};
use kernel::auth::Principal;
use kernel::db::is_unique_violation;
use kernel::ids::{is_uuid, new_id};
use kernel::time::Timestamp;
use kernel::{ApiError, ApiResult, AppState};
use rand::RngCore;
use serde_json::{Map, Value, json};

use crate::integrity::{self, IntegrityError, ProofOptions};
use crate::model::*;
use crate::store::{self, CredentialRow, KeyRow, TypeRow};

/// The base context of every W3C Verifiable Credential 2.0.
pub const VC_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";
const DAY_MINUTES: i64 = 24 * 60;

fn type_view(row: TypeRow) -> CredentialType {
    CredentialType {
        claims_schema: serde_json::from_str(&row.claims_schema).unwrap_or(Value::Null),
        id: row.id,
        code: row.code,
        name: row.name,
        description: row.description,
        issuer_kind: row.issuer_kind,
        validity_days: row.validity_days,
        created_at: row.created_at,
    }
}

/// Compiles a claims schema, or says why it is not one.
fn compile_schema(schema: &Value) -> Result<jsonschema::Validator, String> {
    if schema.get("type").and_then(Value::as_str) != Some("object") {
        return Err("the claims schema must describe an object (\"type\": \"object\")".into());
    }
    jsonschema::validator_for(schema).map_err(|e| format!("not a valid JSON Schema: {e}"))
}

/// Checks claims against a schema; the error names the first offending path.
fn check_claims(schema: &Value, claims: &Value, field: &str) -> ApiResult<()> {
    let validator = compile_schema(schema).map_err(|e| ApiError::Unexpected(anyhow::anyhow!(e)))?;
    let errors: Vec<String> = validator
        .iter_errors(claims)
        .take(3)
        .map(|e| {
            let path = e.instance_path().to_string();
            let at = if path.is_empty() {
                "/".to_string()
            } else {
                path
            };
            format!("{at}: {e}")
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(
            field,
            format!(
                "the claims do not match the certificate type: {}",
                errors.join("; ")
            ),
        ))
    }
}

/// A catalogue code: 3-64 of a-z, 0-9 and `-`.
pub(crate) fn type_code(field: &str, code: &str) -> ApiResult<String> {
    let code = code.trim();
    if (3..=64).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        Ok(code.to_string())
    } else {
        Err(ApiError::invalid(
            field,
            "a code has 3-64 of a-z, 0-9 and -",
        ))
    }
}

/// Defines a certificate type (platform administrators).
pub async fn create_type(
    state: &AppState,
    actor: &Principal,
    new: NewCredentialType,
) -> ApiResult<CredentialType> {
    actor.require_platform_admin()?;
    let code = type_code("code", &new.code)?;
    let name = text("name", &new.name, 64, true)?;
    let description = text("description", &new.description, 1000, true)?;
    let kind = OrgKind::parse(new.issuer_kind.trim()).ok_or_else(|| {
        ApiError::invalid(
            "issuer_kind",
            "one of government_department, hospital, school, care_provider, employer, community_committee, other",
        )
    })?;
    compile_schema(&new.claims_schema).map_err(|e| ApiError::invalid("claims_schema", e))?;
    if let Some(days) = new.validity_days
        && !(1..=36_500).contains(&days)
    {
        return Err(ApiError::invalid(
            "validity_days",
            "between 1 and 36,500 days, or leave it out",
        ));
    }
    let row = TypeRow {
        id: new_id(),
        code,
        name,
        description,
        issuer_kind: kind.as_str().into(),
        claims_schema: new.claims_schema.to_string(),
        validity_days: new.validity_days,
        created_at: Timestamp::now(),
    };
    let mut tx = state.db.begin().await?;
    store::insert_type(&mut tx, &row).await.map_err(|e| {
        if is_unique_violation(&e) {
            ApiError::Conflict(format!("a certificate type '{}' exists", row.code))
        } else {
            e.into()
        }
    })?;
    let event = AuditEvent::by(
        actor,
        "credential_type.create",
        format!("credential_type:{}", row.code),
    );
    state.audit.record_in(&mut tx, event).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    Ok(type_view(row))
}

/// One type by code or id.
pub async fn get_type(state: &AppState, code: &str) -> ApiResult<CredentialType> {
    if code.is_empty() || code.len() > 64 {
        return Err(ApiError::NotFound(
            "no such certificate type in the catalogue".into(),
        ));
    }
    store::get_type(&state.db, code)
        .await?
        .map(type_view)
        .ok_or_else(|| ApiError::NotFound(format!("no certificate type '{code}' in the catalogue")))
}

/// The catalogue of types.
pub async fn list_types(state: &AppState) -> ApiResult<Vec<CredentialType>> {
    Ok(store::list_types(&state.db)
        .await?
        .into_iter()
        .map(type_view)
        .collect())
}

// ---- issuers: keys and DIDs ----

/// This server's host as a `did:web` method-specific id (`host%3Aport`).
fn did_web_host(state: &AppState) -> String {
    let base = state.config.public_base_url();
    let host = base
        .split("://")
        .nth(1)
        .unwrap_or(&base)
        .split('/')
        .next()
        .unwrap_or_default();
    host.replace(':', "%3A")
}

/// The DID of an issuing organisation on this server: `did:web:<host>:issuers:<id>`,
/// resolved at `<base>/issuers/<id>/did.json`.
pub fn issuer_did(state: &AppState, organisation_id: &str) -> String {
    format!("did:web:{}:issuers:{organisation_id}", did_web_host(state))
}

/// The organisation and key id named by a `did:web:<host>:issuers:<org>#<key>` method.
/// Any host is accepted: the key is then looked up in this platform's store, so only this
/// platform's keys resolve, whatever name the server had when it signed.
pub(crate) fn our_method(method: &str) -> Option<(String, String)> {
    let rest = method.strip_prefix("did:web:")?;
    let (_host, rest) = rest.split_once(":issuers:")?;
    let (org, kid) = rest.split_once('#')?;
    (is_uuid(org) && is_uuid(kid)).then(|| (org.to_string(), kid.to_string()))
}

fn key_context(kid: &str) -> String {
    format!("credentials.issuer_key:{kid}")
}

fn new_key(state: &AppState, organisation_id: &str) -> ApiResult<KeyRow> {
    let mut seed = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut seed);
    let key = SigningKey::from_bytes(&seed);
    let kid = new_id();
    Ok(KeyRow {
        public_key_multibase: integrity::public_key_multibase(&key.verifying_key()),
        secret_enc: state
            .vault
            .seal(&hex::encode(seed), &key_context(&kid))
            .map_err(ApiError::Unexpected)?,
        id: kid,
        organisation_id: organisation_id.into(),
        created_at: Timestamp::now(),
        retired_at: None,
    })
}

fn open_key(state: &AppState, row: &KeyRow) -> ApiResult<SigningKey> {
    let seed: [u8; 32] = state
        .vault
        .open(&row.secret_enc, &key_context(&row.id))
        .ok()
        .and_then(|h| hex::decode(h.trim()).ok())
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("issuer key {} is damaged", row.id)))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// The organisation's current issuing key, made on first use.
pub(crate) async fn signing_key(
    state: &AppState,
    organisation_id: &str,
) -> ApiResult<(String, SigningKey)> {
    if let Some(row) = store::current_key(&state.db, organisation_id).await? {
        return Ok((row.id.clone(), open_key(state, &row)?));
    }
    let row = new_key(state, organisation_id)?;
    let mut tx = state.db.begin().await?;
    match store::replace_key(&mut tx, &row).await {
        Ok(()) => {
            let event = AuditEvent::system("issuer_key.create", format!("key:{}", row.id));
            state.audit.record_in(&mut tx, event).await?;
            commit_audited(state.audit.as_ref(), tx).await?;
            Ok((row.id.clone(), open_key(state, &row)?))
        }
        Err(e) if is_unique_violation(&e) => {
            let row = store::current_key(&state.db, organisation_id)
                .await?
                .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("issuer key vanished")))?;
            Ok((row.id.clone(), open_key(state, &row)?))
        }
        Err(e) => Err(e.into()),
    }
}

/// A free place in the issuer's status lists, chosen at random (so list positions say
/// nothing about when a certificate was issued).
async fn free_status_index(state: &AppState, organisation_id: &str) -> ApiResult<usize> {
    for _ in 0..16 {
        let index = (rand::rngs::OsRng.next_u32() as usize) % crate::status::LIST_SIZE;
        if !store::index_taken(&state.db, organisation_id, index as i64).await? {
            return Ok(index);
        }
    }
    Err(ApiError::Conflict(
        "this issuer's status list is nearly full".into(),
    ))
}

/// The organisation `actor` issues for: `requested` or her own, if she is its staff.
fn issuer_of(actor: &Principal, requested: Option<&str>) -> ApiResult<String> {
    actor.staff_organisation(requested, "issuer_org_id")
}

/// Retires the organisation's issuing key and makes a new one (its administrator).
pub async fn rotate_key(
    state: &AppState,
    actor: &Principal,
    organisation_id: Option<&str>,
) -> ApiResult<Value> {
    let org = issuer_of(actor, organisation_id)?;
    actor.require_org_admin(&org)?;
    let row = new_key(state, &org)?;
    let mut tx = state.db.begin().await?;
    store::replace_key(&mut tx, &row).await.map_err(|e| {
        if is_unique_violation(&e) {
            ApiError::Conflict("the key is being rotated by another request; try again".into())
        } else {
            e.into()
        }
    })?;
    let event = AuditEvent::by(actor, "issuer_key.rotate", format!("key:{}", row.id));
    state.audit.record_in(&mut tx, event).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    did_document(state, &org).await
}

/// The DID document of an issuing organisation: every key it signed with, current and
/// retired, as Multikey verification methods usable for assertions.
pub async fn did_document(state: &AppState, organisation_id: &str) -> ApiResult<Value> {
    if !is_uuid(organisation_id) {
        return Err(ApiError::NotFound("no such issuer".into()));
    }
    let org = identity::service::get_organisation(state, organisation_id).await?;
    let did = issuer_did(state, organisation_id);
    let keys = store::keys_of(&state.db, organisation_id).await?;
    if keys.is_empty() {
        return Err(ApiError::NotFound(
            "this organisation has not issued anything".into(),
        ));
    }
    let methods: Vec<Value> = keys
        .iter()
        .map(|k| {
            json!({
                "id": format!("{did}#{}", k.id),
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": k.public_key_multibase,
            })
        })
        .collect();
    let ids: Vec<Value> = keys
        .iter()
        .map(|k| json!(format!("{did}#{}", k.id)))
        .collect();
    Ok(json!({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "alsoKnownAs": [format!("urn:civitas:organisation:{}", org.credit_code)],
        "name": org.name,
        "verificationMethod": methods,
        "assertionMethod": ids,
    }))
}

// ---- issuance ----

fn credential_view(state: &AppState, row: CredentialRow) -> ApiResult<IssuedCredential> {
    let document = state
        .vault
        .open(&row.document_enc, &document_context(&row.id))
        .map_err(ApiError::Unexpected)?;
    Ok(IssuedCredential {
        document: serde_json::from_str(&document).map_err(|e| ApiError::Unexpected(e.into()))?,
        status: CredentialStatus::parse(&row.status).unwrap_or(CredentialStatus::Revoked),
        id: row.id,
        type_code: row.type_code,
        type_name: row.type_name,
        issuer_org_id: row.issuer_org_id,
        issuer_name: row.issuer_name,
        person_id: row.person_id,
        status_reason: row.status_reason,
        valid_from: row.valid_from,
        valid_until: row.valid_until,
        created_at: row.created_at,
    })
}

fn document_context(id: &str) -> String {
    format!("credential.document:{id}")
}

/// XML Schema dateTime of a timestamp, to the second (`2026-11-22T08:00:00Z`).
pub(crate) fn date_time(t: Timestamp) -> String {
    Timestamp(t.0 - t.0.rem_euclid(1_000_000))
        .rfc3339()
        .replace(".000000Z", "Z")
        .replace(".000Z", "Z")
}

/// Issues a certificate to a person: claims checked against the type's schema, signed
/// with the issuer's key (`eddsa-jcs-2022`), sealed at rest, audited.
pub async fn issue(
    state: &AppState,
    actor: &Principal,
    request: IssueRequest,
) -> ApiResult<IssuedCredential> {
    let org_id = issuer_of(actor, request.issuer_org_id.as_deref())?;
    let ctype = store::get_type(&state.db, request.type_code.trim())
        .await?
        .ok_or_else(|| ApiError::invalid("type", "no such certificate type"))?;
    let org = identity::service::get_organisation(state, &org_id).await?;
    if org.kind.as_str() != ctype.issuer_kind {
        return Err(ApiError::Forbidden(format!(
            "'{}' is issued by organisations of kind {}, and this one is {}",
            ctype.name,
            ctype.issuer_kind,
            org.kind.as_str()
        )));
    }
    if !is_uuid(&request.person_id) {
        return Err(ApiError::invalid("person_id", "not a valid person id"));
    }
    identity::service::person_summary_by_id(state, &request.person_id)
        .await?
        .ok_or_else(|| ApiError::invalid("person_id", "no person with that id"))?;
    if !request.claims.is_object() {
        return Err(ApiError::invalid("claims", "the claims are a JSON object"));
    }
    if request.claims.get("id").is_some() {
        return Err(ApiError::invalid("claims", "'id' is set by the platform"));
    }
    let schema: Value =
        serde_json::from_str(&ctype.claims_schema).map_err(|e| ApiError::Unexpected(e.into()))?;
    check_claims(&schema, &request.claims, "claims")?;

    let id = new_id();
    let now = Timestamp::now();
    let valid_from = Timestamp(now.0 - now.0.rem_euclid(1_000_000));
    let valid_until = ctype
        .validity_days
        .map(|d| valid_from.plus_minutes(d * DAY_MINUTES));
    let did = issuer_did(state, &org_id);
    let mut subject: Map<String, Value> = Map::new();
    subject.insert(
        "id".into(),
        json!(format!("urn:civitas:person:{}", request.person_id)),
    );
    if let Value::Object(claims) = &request.claims {
        subject.extend(claims.clone());
    }
    let base = state.config.public_base_url();
    let mut document = json!({
        "@context": [VC_CONTEXT],
        "id": format!("urn:uuid:{id}"),
        "type": ["VerifiableCredential", "CivitasCertificate"],
        "name": ctype.name,
        "issuer": {"id": did, "name": org.name},
        "validFrom": date_time(valid_from),
        "credentialSubject": subject,
        "credentialSchema": {
            "id": format!("{base}/api/v1/credentials/types/{}/schema", ctype.code),
            "type": "JsonSchema",
        },
    });
    if let Some(until) = valid_until {
        document["validUntil"] = json!(date_time(until));
    }
    let status_index = free_status_index(state, &org_id).await?;
    document["credentialStatus"] = crate::status::entries(state, &org_id, status_index);
    let (kid, key) = signing_key(state, &org_id).await?;
    let signed = integrity::sign_owned(
        document,
        &key,
        &ProofOptions {
            created: date_time(now),
            verification_method: format!("{did}#{kid}"),
            proof_purpose: "assertionMethod".into(),
        },
    )
    .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("signing failed: {e}")))?;
    let row = CredentialRow {
        document_enc: state
            .vault
            .seal(&signed.to_string(), &document_context(&id))
            .map_err(ApiError::Unexpected)?,
        id: id.clone(),
        type_id: ctype.id.clone(),
        type_code: ctype.code.clone(),
        type_name: ctype.name.clone(),
        issuer_org_id: org_id.clone(),
        issuer_name: org.name.clone(),
        person_id: request.person_id.clone(),
        status: CredentialStatus::Active.as_str().into(),
        status_reason: None,
        valid_from,
        valid_until,
        issued_by: actor.account_id.clone(),
        created_at: now,
        status_index: status_index as i64,
    };
    let mut tx = state.db.begin().await?;
    store::insert_credential(&mut tx, &row).await.map_err(|e| {
        if is_unique_violation(&e) {
            ApiError::Conflict(
                "another certificate took the same status list place; issue again".into(),
            )
        } else {
            e.into()
        }
    })?;
    let event = AuditEvent::by(
        actor,
        "credential.issue",
        format!("credential:{id} type:{}", ctype.code),
    )
    .subject(&request.person_id)
    .because(
        format!("issue {}", ctype.name),
        Basis::Statutory(org.name.clone()),
    );
    state.audit.record_in(&mut tx, event).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    credential_view(state, row)
}

/// Suspends, reinstates or revokes a certificate (staff of its issuer).
pub async fn change_status(
    state: &AppState,
    actor: &Principal,
    id: &str,
    change: StatusChange,
) -> ApiResult<IssuedCredential> {
    let not_found = || ApiError::NotFound("no such certificate".into());
    if !is_uuid(id) {
        return Err(not_found());
    }
    let row = store::get_credential(&state.db, id)
        .await?
        .ok_or_else(not_found)?;
    issuer_of(actor, Some(&row.issuer_org_id)).map_err(|_| not_found())?;
    let reason = change
        .reason
        .as_deref()
        .map(|r| text("reason", r, 500, false))
        .transpose()?
        .filter(|r| !r.is_empty());
    let (from, to) = match change.action.as_str() {
        "suspend" => ("active", "suspended"),
        "reinstate" => ("suspended", "active"),
        "revoke" if row.status == "suspended" => ("suspended", "revoked"),
        "revoke" => ("active", "revoked"),
        _ => {
            return Err(ApiError::invalid(
                "action",
                "one of suspend, reinstate, revoke",
            ));
        }
    };
    if to != "active" && reason.is_none() {
        return Err(ApiError::invalid("reason", "say why"));
    }
    let mut tx = state.db.begin().await?;
    if !store::change_status(&mut tx, id, from, to, reason.as_deref()).await? {
        return Err(ApiError::Conflict(format!(
            "the certificate is {}, so it cannot be {}",
            row.status, change.action
        )));
    }
    let event = AuditEvent::by(
        actor,
        format!("credential.{}", change.action),
        format!("credential:{id}"),
    )
    .subject(&row.person_id)
    .because(reason.unwrap_or_default(), Basis::NotApplicable);
    state.audit.record_in(&mut tx, event).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    crate::passes::service::forget_standing(state, id);
    let row = store::get_credential(&state.db, id)
        .await?
        .ok_or_else(not_found)?;
    credential_view(state, row)
}

/// The holder's certificates (or, as a proxy with the `profile` scope, those of the
/// person she acts for).
pub async fn my_credentials(
    state: &AppState,
    principal: &Principal,
) -> ApiResult<Vec<IssuedCredential>> {
    principal.require_scope("profile")?;
    let person = principal
        .subject_person_id()
        .ok_or_else(|| ApiError::Forbidden("this account has no personal record".into()))?;
    store::credentials_of(&state.db, person)
        .await?
        .into_iter()
        .map(|row| credential_view(state, row))
        .collect()
}

/// Certificates an organisation issued (its staff).
pub async fn issued(
    state: &AppState,
    actor: &Principal,
    organisation_id: Option<&str>,
) -> ApiResult<Vec<IssuedCredential>> {
    let org = issuer_of(actor, organisation_id)?;
    store::issued_by(&state.db, &org)
        .await?
        .into_iter()
        .map(|row| credential_view(state, row))
        .collect()
}

/// One certificate, to its holder (or her proxy) or its issuer's staff.
pub async fn credential_for(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> ApiResult<IssuedCredential> {
    let not_found = || ApiError::NotFound("no such certificate".into());
    if !is_uuid(id) {
        return Err(not_found());
    }
    let row = store::get_credential(&state.db, id)
        .await?
        .ok_or_else(not_found)?;
    let holder = principal.subject_person_id() == Some(row.person_id.as_str())
        && principal.require_scope("profile").is_ok();
    if !holder && issuer_of(principal, Some(&row.issuer_org_id)).is_err() {
        return Err(not_found());
    }
    credential_view(state, row)
}

// ---- verification ----

fn check(
    report: &mut VerificationReport,
    name: &str,
    outcome: CheckOutcome,
    detail: impl Into<String>,
) {
    report.checks.push(Check {
        check: name.into(),
        outcome,
        detail: detail.into(),
    });
}

fn parse_date_time(value: Option<&Value>) -> Result<Option<Timestamp>, ()> {
    match value {
        None => Ok(None),
        Some(Value::String(s)) => Timestamp::parse_rfc3339(s).map(Some).ok_or(()),
        Some(_) => Err(()),
    }
}

/// Verifies a credential and reports every check: format, signature, issuer, validity,
/// status, schema. `trust_any_issuer` makes an issuer outside this platform's registry a
/// warning rather than a failure (for credentials from elsewhere).
pub async fn verify(
    state: &AppState,
    document: &Value,
    trust_any_issuer: bool,
) -> ApiResult<VerificationReport> {
    let mut report = VerificationReport {
        verified: false,
        checks: Vec::new(),
        issuer: None,
        verification_method: None,
    };
    // Format.
    let format_problem = if !document.is_object() {
        Some("the credential is not a JSON object")
    } else if document["@context"]
        .as_array()
        .and_then(|c| c.first())
        .and_then(Value::as_str)
        != Some(VC_CONTEXT)
    {
        Some("the first @context is not https://www.w3.org/ns/credentials/v2")
    } else if !document["type"]
        .as_array()
        .is_some_and(|t| t.iter().any(|t| t == "VerifiableCredential"))
    {
        Some("the type does not include VerifiableCredential")
    } else if !document["credentialSubject"].is_object() {
        Some("there is no credentialSubject object")
    } else {
        None
    };
    let issuer = match &document["issuer"] {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("id").and_then(Value::as_str).map(str::to_string),
        _ => None,
    };
    report.issuer = issuer.clone();
    if let Some(problem) = format_problem.or(issuer.is_none().then_some("there is no issuer")) {
        check(&mut report, "format", CheckOutcome::Failed, problem);
        return Ok(report);
    }
    check(
        &mut report,
        "format",
        CheckOutcome::Passed,
        "a W3C Verifiable Credential 2.0",
    );
    let issuer = issuer.unwrap_or_default();

    // Signature, with this platform's issuers' keys or a did:key.
    let method = document["proof"]["verificationMethod"]
        .as_str()
        .map(str::to_string);
    report.verification_method = method.clone();
    let ours = method.as_deref().and_then(our_method);
    let our_key: Option<(String, VerifyingKey)> = match &ours {
        Some((org, kid)) => store::key(&state.db, kid)
            .await?
            .filter(|k| &k.organisation_id == org)
            .and_then(|k| {
                integrity::public_key_from_multibase(&k.public_key_multibase)
                    .ok()
                    .map(|key| (org.clone(), key))
            }),
        None => None,
    };
    // Not one of this platform's keys: a did:web issuer of a trusted platform, perhaps.
    let remote = match (&our_key, method.as_deref()) {
        (None, Some(m)) if m.starts_with("did:web:") => {
            crate::remote::resolve(state, m).await.transpose()
        }
        _ => None,
    };
    let remote_key = remote.as_ref().and_then(|r| r.as_ref().ok());
    let resolved = integrity::verify(document, |m| {
        our_key
            .as_ref()
            .map(|(_, k)| *k)
            .or_else(|| remote_key.map(|r| r.key))
            .or_else(|| integrity::resolve_did_key(m))
    });
    let signature_ok = match &resolved {
        Ok(_) => {
            check(
                &mut report,
                "signature",
                CheckOutcome::Passed,
                "the eddsa-jcs-2022 proof verifies",
            );
            true
        }
        Err(IntegrityError::UnknownVerificationMethod(_)) if matches!(remote, Some(Err(_))) => {
            let why = match &remote {
                Some(Err(e)) => e.clone(),
                _ => String::new(),
            };
            check(
                &mut report,
                "signature",
                CheckOutcome::Failed,
                format!("the issuer's key could not be resolved on its platform: {why}"),
            );
            false
        }
        Err(IntegrityError::UnknownVerificationMethod(m)) => {
            check(
                &mut report,
                "signature",
                CheckOutcome::Failed,
                format!(
                    "unknown issuer key: {m} is neither a did:key nor a key of this platform's issuers"
                ),
            );
            false
        }
        Err(IntegrityError::BadSignature) => {
            check(
                &mut report,
                "signature",
                CheckOutcome::Failed,
                "bad signature: the credential was altered after signing, or signed with another key",
            );
            false
        }
        Err(other) => {
            check(
                &mut report,
                "signature",
                CheckOutcome::Failed,
                other.to_string(),
            );
            false
        }
    };

    // Issuer: the signing key must be the issuer's own.
    let method_did = method
        .as_deref()
        .map(|m| m.split('#').next().unwrap_or(m).to_string());
    if method_did.as_deref() != Some(issuer.as_str()) {
        check(
            &mut report,
            "issuer",
            CheckOutcome::Failed,
            "the key that signed is not the issuer's",
        );
    } else if let Some((org, _)) = &our_key {
        let name = identity::service::get_organisation(state, org)
            .await
            .map(|o| o.name)
            .unwrap_or_default();
        check(
            &mut report,
            "issuer",
            CheckOutcome::Passed,
            format!("issued by {name}, registered on this platform"),
        );
    } else if let Some(r) = remote_key {
        check(
            &mut report,
            "issuer",
            CheckOutcome::Passed,
            format!(
                "issued by {}, on the trusted platform {}",
                r.name, r.platform
            ),
        );
    } else if trust_any_issuer && signature_ok {
        check(
            &mut report,
            "issuer",
            CheckOutcome::Warning,
            "the issuer is not registered on this platform; trusted because you asked",
        );
    } else {
        check(
            &mut report,
            "issuer",
            CheckOutcome::Failed,
            "unknown issuer: not registered on this platform",
        );
    }

    // Validity period.
    let now = Timestamp::now();
    match (
        parse_date_time(document.get("validFrom")),
        parse_date_time(document.get("validUntil")),
    ) {
        (Err(()), _) | (_, Err(())) => check(
            &mut report,
            "validity",
            CheckOutcome::Failed,
            "validFrom or validUntil is not a date-time",
        ),
        (Ok(Some(from)), _) if from > now => check(
            &mut report,
            "validity",
            CheckOutcome::Failed,
            format!("not yet valid: valid from {}", from.rfc3339()),
        ),
        (_, Ok(Some(until))) if until <= now => check(
            &mut report,
            "validity",
            CheckOutcome::Failed,
            format!("expired on {}", until.rfc3339()),
        ),
        _ => check(
            &mut report,
            "validity",
            CheckOutcome::Passed,
            "within its validity period",
        ),
    }

    // Status and schema, for certificates this platform issued.
    let our_id = document["id"]
        .as_str()
        .and_then(|i| i.strip_prefix("urn:uuid:"))
        .filter(|i| is_uuid(i));
    let row = match (our_id, &our_key) {
        (Some(id), Some(_)) => store::get_credential(&state.db, id).await?,
        _ => None,
    };
    let listed = match &our_key {
        Some((org, _)) if signature_ok => crate::status::check(state, document, org).await?,
        _ => None,
    };
    match (listed, &row) {
        (Some(listed), _) => report.checks.push(listed),
        (None, Some(row)) => match CredentialStatus::parse(&row.status) {
            Some(CredentialStatus::Active) => check(
                &mut report,
                "status",
                CheckOutcome::Passed,
                "not suspended or revoked",
            ),
            Some(CredentialStatus::Suspended) => check(
                &mut report,
                "status",
                CheckOutcome::Failed,
                format!(
                    "suspended: {}",
                    row.status_reason.clone().unwrap_or_default()
                ),
            ),
            _ => check(
                &mut report,
                "status",
                CheckOutcome::Failed,
                format!("revoked: {}", row.status_reason.clone().unwrap_or_default()),
            ),
        },
        (None, None) => match remote_key {
            Some(r) if signature_ok => report
                .checks
                .push(crate::remote::check_status(state, document, r).await),
            _ => check(
                &mut report,
                "status",
                CheckOutcome::Skipped,
                "not issued on this platform: its status is not known here",
            ),
        },
    }
    let schema_type = match &row {
        Some(row) => store::get_type(&state.db, &row.type_id).await?,
        None => None,
    };
    match schema_type {
        Some(t) => {
            let schema: Value = serde_json::from_str(&t.claims_schema).unwrap_or(Value::Null);
            let mut claims = document["credentialSubject"].clone();
            if let Value::Object(map) = &mut claims {
                map.remove("id");
            }
            match check_claims(&schema, &claims, "credentialSubject") {
                Ok(()) => check(
                    &mut report,
                    "schema",
                    CheckOutcome::Passed,
                    format!("the claims match the type {}", t.name),
                ),
                Err(e) => check(
                    &mut report,
                    "schema",
                    CheckOutcome::Failed,
                    format!("schema mismatch: {e}"),
                ),
            }
        }
        None => check(
            &mut report,
            "schema",
            CheckOutcome::Skipped,
            "no certificate type of this platform to check the claims against",
        ),
    }
    report.verified = report
        .checks
        .iter()
        .all(|c| c.outcome != CheckOutcome::Failed);
    Ok(report)
}

/// Audits a verification made by an organisation's staff (the holder's footprint shows it).
pub async fn record_verification(
    state: &AppState,
    actor: &Principal,
    document: &Value,
    report: &VerificationReport,
) -> ApiResult<()> {
    let Some(org) = actor.organisation_id() else {
        return Ok(());
    };
    let subject = document["credentialSubject"]["id"]
        .as_str()
        .and_then(|s| s.strip_prefix("urn:civitas:person:"))
        .filter(|p| is_uuid(p));
    let id = document["id"]
        .as_str()
        .unwrap_or("")
        .chars()
        .take(64)
        .collect::<String>();
    let mut event = AuditEvent::by(
        actor,
        "credential.verify",
        format!("credential:{id} verified:{}", report.verified),
    )
    .because(format!("verification by {org}"), Basis::NotApplicable);
    if let Some(person) = subject {
        event = event.subject(person);
    }
    state.audit.record(event).await?;
    Ok(())
}

// ---- sharing (DigiLocker's issuer → holder → requester, with consent) ----

/// The consent resource id of a certificate.
fn share_resource(id: &str) -> String {
    format!("credential:{id}")
}

/// The holder shares one of her certificates with an organisation for a purpose: a
/// consent artefact (periodic, until the date she sets) that the organisation's staff
/// read it under; she withdraws it on 我的授权同意.
pub async fn share(
    state: &AppState,
    principal: &Principal,
    id: &str,
    new: NewShare,
) -> ApiResult<trust::model::Consent> {
    let credential = credential_for(state, principal, id).await?;
    if principal.subject_person_id() != Some(credential.person_id.as_str()) {
        return Err(ApiError::NotFound("no such certificate".into()));
    }
    if !is_uuid(&new.organisation_id) {
        return Err(ApiError::invalid(
            "organisation_id",
            "not a valid organisation id",
        ));
    }
    identity::service::get_organisation(state, &new.organisation_id)
        .await
        .map_err(|e| match e {
            ApiError::NotFound(_) => {
                ApiError::invalid("organisation_id", "no organisation with that id")
            }
            other => other,
        })?;
    let purpose = text("purpose", &new.purpose, 500, true)?;
    let now = Timestamp::now();
    let valid_until = new
        .valid_until
        .unwrap_or(now.plus_minutes(30 * DAY_MINUTES));
    if valid_until <= now || valid_until > now.plus_minutes(366 * DAY_MINUTES) {
        return Err(ApiError::invalid(
            "valid_until",
            "a share lasts from now up to one year",
        ));
    }
    let fields: Vec<String> = credential.document["credentialSubject"]
        .as_object()
        .map(|m| m.keys().filter(|k| *k != "id").cloned().collect())
        .unwrap_or_default();
    trust::service::grant_consent(
        state,
        principal,
        trust::model::ConsentGrant {
            person_id: credential.person_id.clone(),
            consumer_org_id: new.organisation_id,
            provider_org_id: credential.issuer_org_id.clone(),
            resource_id: share_resource(&credential.id),
            resource_name: credential.type_name.clone(),
            fields,
            purpose,
            fetch_type: trust::model::FetchType::Periodic,
            max_fetches_per_day: 100,
            valid_from: now,
            valid_until,
        },
    )
    .await
}

/// The staff organisation an actor reads shared certificates for.
fn reader_org(actor: &Principal) -> ApiResult<String> {
    actor.organisation_id().map(str::to_string).ok_or_else(|| {
        ApiError::Forbidden("only an organisation's staff read shared certificates".into())
    })
}

/// Certificates shared with the actor's organisation (the consents; reading one is
/// [`read_shared`]).
pub async fn shared_with(
    state: &AppState,
    actor: &Principal,
) -> ApiResult<Vec<trust::model::Consent>> {
    let org = reader_org(actor)?;
    trust::service::consents_to_organisation(state, &org, "credential:").await
}

/// Reads a certificate shared with the actor's organisation: the consent must be in force
/// (each read is counted against it); the read is audited with the consent as its basis,
/// so it appears in the holder's footprint; the certificate is verified on the way.
pub async fn read_shared(
    state: &AppState,
    actor: &Principal,
    consent_id: &str,
) -> ApiResult<SharedCredential> {
    let org = reader_org(actor)?;
    let not_found =
        || ApiError::NotFound("nothing was shared with your organisation under that id".into());
    let consent = trust::service::consent_by_id(state, consent_id)
        .await?
        .filter(|c| c.consumer_org_id == org && c.resource_id.starts_with("credential:"))
        .ok_or_else(not_found)?;
    let credential_id = consent
        .resource_id
        .trim_start_matches("credential:")
        .to_string();
    let row = store::get_credential(&state.db, &credential_id)
        .await?
        .ok_or_else(not_found)?;
    let what = format!(
        "credential:{credential_id}{}{}",
        kernel::audit::DESCRIPTION_SEPARATOR,
        row.type_name
    );
    let allowed = trust::service::consent_for_fetch(
        &state.db,
        &consent.person_id,
        &org,
        &consent.resource_id,
        &consent.fields,
    )
    .await?;
    let used = match allowed {
        Ok(id) => id,
        Err(refusal) => {
            use trust::model::ConsentRefusal as R;
            let (code, detail) = match refusal {
                R::Revoked => ("consent_revoked", "the holder withdrew the share"),
                R::Expired => ("consent_expired", "the share has ended"),
                R::Exhausted => (
                    "consent_exhausted",
                    "today's reads of this share are used up",
                ),
                _ => (
                    "no_consent",
                    "the holder has not shared this certificate with you",
                ),
            };
            let event = AuditEvent::by(actor, "credential.read", what)
                .subject(&consent.person_id)
                .because(
                    format!("{} — refused: {code}", consent.purpose),
                    Basis::NotApplicable,
                )
                .outcome(kernel::audit::Outcome::Denied);
            state.audit.record(event).await?;
            return Err(ApiError::Refused {
                code,
                detail: detail.into(),
            });
        }
    };
    let event = AuditEvent::by(actor, "credential.read", what)
        .subject(&consent.person_id)
        .because(consent.purpose.clone(), Basis::Consent(used.clone()));
    state.audit.record(event).await?;
    let view = credential_view(state, row)?;
    let verification = verify(state, &view.document, false).await?;
    Ok(SharedCredential {
        consent_id: used,
        purpose: consent.purpose,
        document: view.document,
        verification,
    })
}
