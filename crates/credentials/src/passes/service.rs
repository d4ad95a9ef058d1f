//! The rules of dynamic passes (动态通行码, the health-code pattern): a pass type is
//! derived from a certificate or from a rule; the holder asks for a pass and gets a
//! short-lived signed token with a colour; a checker's scan verifies it and refuses it
//! when it is forged, expired, red, its certificate has since been withdrawn, or it was
//! scanned before. No HTTP here.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use ed25519_dalek::VerifyingKey;
use identity::model::OrgKind;
use kernel::api::text;
use kernel::audit::{AuditEvent, Basis, Outcome, commit_audited};
use kernel::auth::Principal;
use kernel::crypto::mask_name;
use kernel::db::is_unique_violation;
use kernel::ids::{is_uuid, new_id};
use kernel::time::Timestamp;
use kernel::{ApiError, ApiResult, AppState};

use super::model::*;
use super::store::{self, PassTypeRow, ScanRow};
use super::token::{self, PassClaims};
use crate::model::{Check, CheckOutcome, CredentialStatus};
use crate::service::{issuer_did, our_method, signing_key};

/// Default life of a pass.
const DEFAULT_TTL_SECONDS: i64 = 180;
/// A pass signed this far in the future still reads (clocks of phones and servers differ).
const CLOCK_LEEWAY_SECONDS: i64 = 30;
/// A certificate ending within this many days makes its passes yellow.
const EXPIRES_SOON_DAYS: i64 = 30;
/// Every this many accepted scans, scans of long-expired passes are forgotten.
const SWEEP_EVERY: u64 = 4096;

/// The passes' per-process parts, kept in [`AppState::extensions`]: public keys by
/// verification method (a key never changes once made, so they are kept), pass types for
/// two seconds, the scan writer, and the scan counter that schedules the sweep.
#[derive(Clone)]
pub struct Passes {
    inner: Arc<Inner>,
}

struct Inner {
    keys: moka::sync::Cache<String, Option<MethodKey>>,
    types: moka::sync::Cache<String, Option<Arc<PassTypeRow>>>,
    standing: moka::sync::Cache<String, Option<Arc<store::SourceStatus>>>,
    /// Bumped whenever a standing is forgotten: a look-up that began before does not
    /// store what it read (it may predate the change).
    standing_epoch: AtomicU64,
    scans: tokio::sync::mpsc::Sender<ScanJob>,
    accepted: AtomicU64,
}

/// A scan waiting for the writer, and where its answer goes (first scan or not).
struct ScanJob {
    row: ScanRow,
    reply: tokio::sync::oneshot::Sender<Result<bool, String>>,
}

/// Most scans recorded in one transaction.
const SCAN_BATCH: usize = 256;

impl Passes {
    /// Starts the scan writer: scans arriving together are recorded in one transaction
    /// (group commit), so a busy checkpoint costs one commit per batch, not per scan.
    pub fn start(db: kernel::db::Db) -> Passes {
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<ScanJob>(4 * SCAN_BATCH);
        tokio::spawn(async move {
            while let Some(first) = receiver.recv().await {
                let mut batch = vec![first];
                while batch.len() < SCAN_BATCH {
                    match receiver.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                let rows: Vec<&ScanRow> = batch.iter().map(|j| &j.row).collect();
                match store::record_scans(&db, &rows).await {
                    Ok(firsts) => {
                        for (job, first) in batch.into_iter().zip(firsts) {
                            let _ = job.reply.send(Ok(first));
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, "pass scans not recorded");
                        for job in batch {
                            let _ = job.reply.send(Err(error.to_string()));
                        }
                    }
                }
            }
        });
        Passes {
            inner: Arc::new(Inner {
                keys: moka::sync::Cache::builder()
                    .max_capacity(10_000)
                    .time_to_live(Duration::from_secs(60))
                    .build(),
                types: moka::sync::Cache::builder()
                    .max_capacity(1_000)
                    .time_to_live(Duration::from_secs(2))
                    .build(),
                standing: moka::sync::Cache::builder()
                    .max_capacity(100_000)
                    .time_to_live(Duration::from_secs(2))
                    .build(),
                standing_epoch: AtomicU64::new(0),
                scans: sender,
                accepted: AtomicU64::new(0),
            }),
        }
    }

    fn of(state: &AppState) -> Option<&Passes> {
        state.extensions.get::<Passes>()
    }
}

/// Forgets the remembered standing of a certificate whose status changed (on this node;
/// other nodes within two seconds).
pub fn forget_standing(state: &AppState, credential_id: &str) {
    if let Some(passes) = Passes::of(state) {
        passes.inner.standing_epoch.fetch_add(1, Ordering::SeqCst);
        passes.inner.standing.invalidate(credential_id);
    }
}

/// Where the certificate a pass was derived from stands (remembered two seconds: a busy
/// bus route scans the same few certificates all day).
async fn source_standing(
    state: &AppState,
    credential_id: &str,
) -> ApiResult<Option<Arc<store::SourceStatus>>> {
    let cache = Passes::of(state);
    if let Some(hit) = cache.and_then(|c| c.inner.standing.get(credential_id)) {
        return Ok(hit);
    }
    let epoch = cache.map(|c| c.inner.standing_epoch.load(Ordering::SeqCst));
    let found = store::source_status(&state.db, credential_id)
        .await?
        .map(Arc::new);
    if let Some(cache) = cache
        && epoch == Some(cache.inner.standing_epoch.load(Ordering::SeqCst))
    {
        cache
            .inner
            .standing
            .insert(credential_id.to_string(), found.clone());
    }
    Ok(found)
}

/// Records a scan through the writer (or directly, when none was started); false when
/// the pass was scanned before.
async fn record_scan(state: &AppState, row: ScanRow) -> ApiResult<bool> {
    let Some(passes) = Passes::of(state) else {
        return Ok(store::record_scans(&state.db, &[&row])
            .await?
            .first()
            .copied()
            .unwrap_or(false));
    };
    let (reply, answer) = tokio::sync::oneshot::channel();
    passes
        .inner
        .scans
        .send(ScanJob { row, reply })
        .await
        .map_err(|_| ApiError::Unavailable("the scan writer has stopped".into()))?;
    answer
        .await
        .map_err(|_| ApiError::Unavailable("the scan writer has stopped".into()))?
        .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("recording a scan failed: {e}")))
}

fn type_view(row: &PassTypeRow) -> PassType {
    PassType {
        id: row.id.clone(),
        code: row.code.clone(),
        name: row.name.clone(),
        description: row.description.clone(),
        issuer_org_id: row.issuer_org_id.clone(),
        issuer_name: row.issuer_name.clone(),
        credential_type: row.credential_type_code.clone(),
        min_age: row.min_age,
        ttl_seconds: row.ttl_seconds,
        created_at: row.created_at,
    }
}

/// A pass type by code (remembered for two seconds).
async fn pass_type_row(state: &AppState, code: &str) -> ApiResult<Option<Arc<PassTypeRow>>> {
    if code.is_empty() || code.len() > 64 {
        return Ok(None);
    }
    if let Some(cache) = Passes::of(state)
        && let Some(hit) = cache.inner.types.get(code)
    {
        return Ok(hit);
    }
    let row = store::get_pass_type(&state.db, code).await?.map(Arc::new);
    if let Some(cache) = Passes::of(state) {
        cache.inner.types.insert(code.to_string(), row.clone());
    }
    Ok(row)
}

/// Defines a pass type (platform administrators): derived from a certificate type, or
/// from the rule "aged at least N".
pub async fn create_pass_type(
    state: &AppState,
    actor: &Principal,
    new: NewPassType,
) -> ApiResult<PassType> {
    actor.require_platform_admin()?;
    let code = crate::service::type_code("code", &new.code)?;
    let name = text("name", &new.name, 64, true)?;
    let description = text("description", &new.description, 1000, true)?;
    if !is_uuid(&new.issuer_org_id) {
        return Err(ApiError::invalid(
            "issuer_org_id",
            "not a valid organisation id",
        ));
    }
    let org = identity::service::get_organisation(state, &new.issuer_org_id)
        .await
        .map_err(|e| match e {
            ApiError::NotFound(_) => {
                ApiError::invalid("issuer_org_id", "no organisation with that id")
            }
            other => other,
        })?;
    let credential_type = match (&new.credential_type, new.min_age) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(ApiError::invalid(
                "credential_type",
                "give exactly one of credential_type (a certificate the pass is derived from) and min_age (a rule)",
            ));
        }
        (Some(t), None) => {
            let t = crate::store::get_type(&state.db, t.trim())
                .await?
                .ok_or_else(|| ApiError::invalid("credential_type", "no such certificate type"))?;
            if t.issuer_kind != org.kind.as_str() {
                return Err(ApiError::invalid(
                    "issuer_org_id",
                    format!(
                        "passes from '{}' are signed by an organisation of kind {}, like the certificate",
                        t.name, t.issuer_kind
                    ),
                ));
            }
            Some(t.id)
        }
        (None, Some(age)) => {
            if !(0..=150).contains(&age) {
                return Err(ApiError::invalid("min_age", "an age from 0 to 150"));
            }
            if org.kind != OrgKind::GovernmentDepartment {
                return Err(ApiError::invalid(
                    "issuer_org_id",
                    "a pass derived from a rule is signed by a government department",
                ));
            }
            None
        }
    };
    let ttl_seconds = new.ttl_seconds.unwrap_or(DEFAULT_TTL_SECONDS);
    if !(30..=3600).contains(&ttl_seconds) {
        return Err(ApiError::invalid(
            "ttl_seconds",
            "a pass lives from 30 to 3,600 seconds",
        ));
    }
    let row = PassTypeRow {
        id: new_id(),
        code,
        name,
        description,
        issuer_org_id: org.id.clone(),
        issuer_name: org.name.clone(),
        credential_type_id: credential_type,
        credential_type_code: new.credential_type.map(|t| t.trim().to_string()),
        min_age: new.min_age,
        ttl_seconds,
        created_at: Timestamp::now(),
    };
    let mut tx = state.db.begin().await?;
    store::insert_pass_type(&mut tx, &row).await.map_err(|e| {
        if is_unique_violation(&e) {
            ApiError::Conflict(format!("a pass type '{}' exists", row.code))
        } else {
            e.into()
        }
    })?;
    let event = AuditEvent::by(actor, "pass_type.create", format!("pass_type:{}", row.code));
    state.audit.record_in(&mut tx, event).await?;
    commit_audited(state.audit.as_ref(), tx).await?;
    Ok(type_view(&row))
}

/// The pass catalogue.
pub async fn list_pass_types(state: &AppState) -> ApiResult<Vec<PassType>> {
    Ok(store::list_pass_types(&state.db)
        .await?
        .iter()
        .map(type_view)
        .collect())
}

/// Whether a person may have a pass of a type now, and in which colour.
struct Evaluation {
    colour: Option<Colour>,
    reason_code: &'static str,
    reason: String,
    source: Option<String>,
}

async fn evaluate(state: &AppState, person_id: &str, t: &PassTypeRow) -> ApiResult<Evaluation> {
    let now = Timestamp::now();
    if let Some(min_age) = t.min_age {
        let age = identity::service::name_and_age(state, person_id)
            .await?
            .map(|(_, age)| age)
            .unwrap_or(0);
        return Ok(if age >= min_age {
            Evaluation {
                colour: Some(Colour::Green),
                reason_code: "eligible",
                reason: format!("aged {min_age} or over"),
                source: None,
            }
        } else {
            Evaluation {
                colour: None,
                reason_code: "under_age",
                reason: format!("this pass is for people aged {min_age} or over"),
                source: None,
            }
        });
    }
    let wanted = t.credential_type_id.as_deref().unwrap_or_default();
    let mut held: Vec<crate::store::CredentialRow> =
        crate::store::credentials_of(&state.db, person_id)
            .await?
            .into_iter()
            .filter(|c| c.type_id == wanted)
            .collect();
    // The best certificate: an active one in force, else the newest.
    held.sort_by_key(|c| {
        let active =
            c.status == CredentialStatus::Active.as_str() && c.valid_until.is_none_or(|u| u > now);
        (!active, std::cmp::Reverse(c.created_at))
    });
    let Some(best) = held.first() else {
        return Ok(Evaluation {
            colour: None,
            reason_code: "no_certificate",
            reason: "you hold no certificate this pass is derived from".into(),
            source: None,
        });
    };
    let source = Some(best.id.clone());
    let standing = standing(
        &best.status,
        best.status_reason.as_deref(),
        best.valid_until,
        now,
    );
    Ok(Evaluation {
        colour: Some(standing.0),
        reason_code: standing.1,
        reason: standing.2,
        source,
    })
}

/// The colour a certificate's standing gives its passes, with a reason code and words.
fn standing(
    status: &str,
    status_reason: Option<&str>,
    valid_until: Option<Timestamp>,
    now: Timestamp,
) -> (Colour, &'static str, String) {
    let why = status_reason.unwrap_or_default();
    match CredentialStatus::parse(status) {
        Some(CredentialStatus::Suspended) => (
            Colour::Red,
            "suspended",
            format!("the certificate is suspended: {why}"),
        ),
        Some(CredentialStatus::Active) => match valid_until {
            Some(until) if until <= now => (
                Colour::Red,
                "expired",
                format!("the certificate expired on {}", until.short()),
            ),
            Some(until) if until <= now.plus_minutes(EXPIRES_SOON_DAYS * 24 * 60) => (
                Colour::Yellow,
                "expires_soon",
                format!(
                    "valid; the certificate expires on {}: renew it",
                    until.short()
                ),
            ),
            _ => (Colour::Green, "eligible", "valid".into()),
        },
        _ => (
            Colour::Red,
            "revoked",
            format!("the certificate is revoked: {why}"),
        ),
    }
}

/// The pass types the holder (or her proxy with `services`) can show, with their colours.
pub async fn offers(state: &AppState, principal: &Principal) -> ApiResult<Vec<PassOffer>> {
    let person = holder(principal)?;
    let mut offers = Vec::new();
    for row in store::list_pass_types(&state.db).await? {
        let e = evaluate(state, &person, &row).await?;
        offers.push(PassOffer {
            pass_type: type_view(&row),
            eligible: e.colour.is_some(),
            colour: e.colour,
            reason_code: e.reason_code.into(),
            reason: e.reason,
        });
    }
    Ok(offers)
}

fn holder(principal: &Principal) -> ApiResult<String> {
    principal.require_scope("services")?;
    principal
        .subject_person_id()
        .map(str::to_string)
        .ok_or_else(|| ApiError::Forbidden("only a resident has passes".into()))
}

/// Signs `count` passes of type `t` for a person with the claims given (each its own
/// id); no audit: the callers audit, or, in the benchmark, make passes in bulk.
pub async fn sign_passes(
    state: &AppState,
    t: &PassTypeRow,
    person_id: &str,
    holder_name: &str,
    colour: Colour,
    source: Option<&str>,
    count: usize,
) -> ApiResult<Vec<(PassClaims, String)>> {
    let (kid, key) = signing_key(state, &t.issuer_org_id).await?;
    let did = issuer_did(state, &t.issuer_org_id);
    let method = format!("{did}#{kid}");
    let now = Timestamp::now().0 / 1_000_000;
    (0..count)
        .map(|_| {
            let claims = PassClaims {
                iss: did.clone(),
                sub: format!("urn:civitas:person:{person_id}"),
                pty: t.code.clone(),
                nam: mask_name(holder_name),
                col: colour.as_str().into(),
                src: source.map(|s| format!("urn:uuid:{s}")),
                iat: now,
                exp: now + t.ttl_seconds,
                jti: new_id(),
            };
            let token = token::sign(&claims, &method, &key)
                .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("signing a pass failed: {e}")))?;
            Ok((claims, token))
        })
        .collect()
}

/// A pass type's row, for callers that sign passes in bulk (the benchmark).
pub async fn pass_type_for_signing(state: &AppState, code: &str) -> ApiResult<Arc<PassTypeRow>> {
    pass_type_row(state, code)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no pass type '{code}'")))
}

fn seconds(s: i64) -> Timestamp {
    Timestamp(s.saturating_mul(1_000_000))
}

/// Makes a pass for the holder: evaluated now, signed by the pass type's issuer, audited.
/// Not eligible at all: `not_eligible` (403) with the reason.
pub async fn mint(
    state: &AppState,
    principal: &Principal,
    request: PassRequest,
) -> ApiResult<Pass> {
    let person = holder(principal)?;
    let t = pass_type_row(state, request.type_code.trim())
        .await?
        .ok_or_else(|| ApiError::invalid("type", "no such pass type"))?;
    let e = evaluate(state, &person, &t).await?;
    let Some(colour) = e.colour else {
        return Err(ApiError::Refused {
            code: "not_eligible",
            detail: e.reason,
        });
    };
    let name = identity::service::name_and_age(state, &person)
        .await?
        .map(|(name, _)| name)
        .unwrap_or_default();
    let (claims, token) = sign_passes(state, &t, &person, &name, colour, e.source.as_deref(), 1)
        .await?
        .pop()
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("no pass was signed")))?;
    let event = AuditEvent::by(
        principal,
        "pass.issue",
        format!("pass:{} type:{}", claims.jti, t.code),
    )
    .subject(&person)
    .because(format!("show {}", t.name), Basis::own_or_proxy(principal));
    state.audit.record(event).await?;
    Ok(Pass {
        id: claims.jti,
        type_code: t.code.clone(),
        type_name: t.name.clone(),
        colour,
        reason_code: e.reason_code.into(),
        reason: e.reason,
        holder: claims.nam,
        issued_at: seconds(claims.iat),
        expires_at: seconds(claims.exp),
        token,
    })
}

fn push(checks: &mut Vec<Check>, name: &str, outcome: CheckOutcome, detail: impl Into<String>) {
    checks.push(Check {
        check: name.into(),
        outcome,
        detail: detail.into(),
    });
}

/// A verification method of one of this platform's issuers.
#[derive(Clone)]
struct MethodKey {
    organisation_id: String,
    key: VerifyingKey,
    retired_at: Option<Timestamp>,
}

/// The organisation, public key and retirement of a verification method of this
/// platform's issuers (remembered a minute: a key never changes, and a retirement is
/// seen within that time).
async fn method_key(state: &AppState, method: &str) -> ApiResult<Option<MethodKey>> {
    let cache = Passes::of(state);
    if let Some(hit) = cache.and_then(|c| c.inner.keys.get(method)) {
        return Ok(hit);
    }
    let found = match our_method(method) {
        Some((org, kid)) => crate::store::key(&state.db, &kid)
            .await?
            .filter(|k| k.organisation_id == org)
            .and_then(|k| {
                crate::integrity::public_key_from_multibase(&k.public_key_multibase)
                    .ok()
                    .map(|key| MethodKey {
                        organisation_id: org,
                        key,
                        retired_at: k.retired_at,
                    })
            }),
        None => None,
    };
    // Only keys found are kept: a key made after a miss must be found next time.
    if let (Some(cache), Some(found)) = (cache, &found) {
        cache
            .inner
            .keys
            .insert(method.to_string(), Some(found.clone()));
    }
    Ok(found)
}

/// Scans a pass (an organisation's staff): every check with its outcome; accepted only
/// when none failed. The first accepted scan uses the pass up: a second is a replay.
/// Every scan is audited, and one of a readable pass shows in its holder's footprint.
pub async fn scan(
    state: &AppState,
    actor: &Principal,
    request: ScanRequest,
) -> ApiResult<ScanResult> {
    let scanner_org = actor
        .organisation_id()
        .ok_or_else(|| ApiError::Forbidden("only an organisation's staff scan passes".into()))?
        .to_string();
    let checkpoint = match &request.checkpoint {
        Some(c) => text("checkpoint", c, 100, false)?,
        None => String::new(),
    };
    if request.token.len() > token::MAX_TOKEN_LEN {
        return Err(ApiError::invalid(
            "token",
            format!("a pass is at most {} characters", token::MAX_TOKEN_LEN),
        ));
    }
    let mut result = ScanResult {
        accepted: false,
        colour: None,
        type_code: None,
        type_name: None,
        holder: None,
        issuer: None,
        expires_at: None,
        checks: Vec::new(),
    };
    let checks = &mut result.checks;
    let read = match token::parse(&request.token) {
        Ok(read) => read,
        Err(e) => {
            push(checks, "format", CheckOutcome::Failed, e.to_string());
            audit_scan(state, actor, None, "pass:unreadable", &checkpoint, false).await?;
            return Ok(result);
        }
    };
    push(
        checks,
        "format",
        CheckOutcome::Passed,
        "a signed Civitas pass",
    );
    let claims = &read.claims;
    let person = claims
        .sub
        .strip_prefix("urn:civitas:person:")
        .filter(|p| is_uuid(p))
        .map(str::to_string);

    // Signature, with this platform's issuers' keys.
    let Some(MethodKey {
        organisation_id: org,
        key,
        retired_at,
    }) = method_key(state, &read.header.kid).await?
    else {
        push(
            checks,
            "signature",
            CheckOutcome::Failed,
            "unknown issuer key: not a key of this platform's issuers",
        );
        audit_scan(state, actor, None, "pass:unknown-key", &checkpoint, false).await?;
        return Ok(result);
    };
    if let Err(e) = read.verify(&key) {
        push(checks, "signature", CheckOutcome::Failed, e.to_string());
        audit_scan(state, actor, None, "pass:forged", &checkpoint, false).await?;
        return Ok(result);
    }
    push(
        checks,
        "signature",
        CheckOutcome::Passed,
        "the Ed25519 signature verifies",
    );

    // Issuer: the key is the pass type's issuer's, and the DID says so.
    let t = pass_type_row(state, &claims.pty).await?;
    let method_did = read.header.kid.split('#').next().unwrap_or_default();
    match &t {
        Some(t) if t.issuer_org_id == org && method_did == claims.iss => {
            // Only what a pass type's issuer signed is shown to the checker.
            result.type_code = Some(t.code.clone());
            result.type_name = Some(t.name.clone());
            result.issuer = Some(t.issuer_name.clone());
            result.holder = Some(claims.nam.clone());
            result.colour = Colour::parse(&claims.col);
            result.expires_at = Some(seconds(claims.exp));
            push(
                checks,
                "issuer",
                CheckOutcome::Passed,
                format!("issued by {}", t.issuer_name),
            );
        }
        Some(_) => push(
            checks,
            "issuer",
            CheckOutcome::Failed,
            "the key that signed is not the pass type's issuer's",
        ),
        None => push(
            checks,
            "issuer",
            CheckOutcome::Failed,
            "no such pass type on this platform",
        ),
    }

    // Validity period.
    let now = Timestamp::now().0 / 1_000_000;
    if claims.exp <= now {
        push(
            checks,
            "validity",
            CheckOutcome::Failed,
            format!(
                "expired at {}: ask the holder to refresh the pass",
                seconds(claims.exp).rfc3339()
            ),
        );
    } else if claims.iat > now + CLOCK_LEEWAY_SECONDS || claims.exp <= claims.iat {
        push(checks, "validity", CheckOutcome::Failed, "not yet valid");
    } else if t
        .as_ref()
        .is_some_and(|t| claims.exp - claims.iat > t.ttl_seconds)
    {
        push(
            checks,
            "validity",
            CheckOutcome::Failed,
            "the pass claims a longer life than its type gives",
        );
    } else if retired_at.is_some_and(|r| seconds(claims.iat) > r) {
        push(
            checks,
            "validity",
            CheckOutcome::Failed,
            "signed with a key its issuer had already retired",
        );
    } else {
        push(
            checks,
            "validity",
            CheckOutcome::Passed,
            format!("valid for {} more seconds", claims.exp - now),
        );
    }

    // Colour.
    match Colour::parse(&claims.col) {
        Some(Colour::Green) => push(checks, "colour", CheckOutcome::Passed, "green"),
        Some(Colour::Yellow) => push(
            checks,
            "colour",
            CheckOutcome::Warning,
            "yellow: valid, but the holder has something to attend to",
        ),
        Some(Colour::Red) => push(checks, "colour", CheckOutcome::Failed, "red: not valid now"),
        None => push(
            checks,
            "colour",
            CheckOutcome::Failed,
            "no colour this platform knows",
        ),
    }

    // Status of the certificate it was derived from, now.
    let wanted_type = t.as_ref().and_then(|t| t.credential_type_id.clone());
    match &claims.src {
        Some(src) => {
            let id = src.strip_prefix("urn:uuid:").filter(|i| is_uuid(i));
            let source = match id {
                Some(id) => source_standing(state, id).await?,
                None => None,
            };
            match source {
                Some(s)
                    if Some(&s.person_id) == person.as_ref()
                        && wanted_type.as_ref() == Some(&s.type_id) =>
                {
                    let (colour, _, words) = standing(
                        &s.status,
                        s.status_reason.as_deref(),
                        s.valid_until,
                        Timestamp::now(),
                    );
                    let outcome = if colour == Colour::Red {
                        CheckOutcome::Failed
                    } else {
                        CheckOutcome::Passed
                    };
                    push(checks, "status", outcome, words);
                }
                _ => push(
                    checks,
                    "status",
                    CheckOutcome::Failed,
                    "the certificate it was derived from is not the holder's, or not of this pass's kind",
                ),
            }
        }
        None if wanted_type.is_some() => push(
            checks,
            "status",
            CheckOutcome::Failed,
            "the pass names no certificate, and its kind is derived from one",
        ),
        None => push(
            checks,
            "status",
            CheckOutcome::Skipped,
            "derived from a rule evaluated when the pass was made",
        ),
    }

    // Replay: only a pass that passed everything else is used up. Using it up and
    // auditing the scan run as their own task, so that a checker who hangs up between
    // the two cannot leave a pass used up without its audit record.
    let failed = checks.iter().any(|c| c.outcome == CheckOutcome::Failed);
    let row = match (&t, &person) {
        (Some(t), Some(person)) if !failed => Some(ScanRow {
            jti: claims.jti.clone(),
            pass_type_id: t.id.clone(),
            person_id: person.clone(),
            scanner_org_id: scanner_org.clone(),
            checkpoint: checkpoint.clone(),
            scanned_at: Timestamp::now(),
            expires_at: seconds(claims.exp),
        }),
        _ => None,
    };
    let resource = format!(
        "pass:{} type:{}{}{}",
        claims.jti.chars().take(40).collect::<String>(),
        claims.pty.chars().take(64).collect::<String>(),
        kernel::audit::DESCRIPTION_SEPARATOR,
        result.type_name.clone().unwrap_or_default()
    );
    let subject = person
        .filter(|_| t.is_some())
        .map(|p| (p, claims.jti.clone()));
    let conclude = {
        let (state, actor) = (state.clone(), actor.clone());
        tokio::spawn(async move {
            let first = match row {
                Some(row) => Some(record_scan(&state, row).await?),
                None => None,
            };
            let accepted = !failed && first == Some(true);
            audit_scan(&state, &actor, subject, &resource, &checkpoint, accepted).await?;
            Ok::<_, ApiError>(first)
        })
    };
    let first = conclude
        .await
        .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("recording a scan failed: {e}")))??;
    match first {
        Some(true) => {
            push(
                checks,
                "replay",
                CheckOutcome::Passed,
                "first scan of this pass",
            );
            sweep_now_and_then(state);
        }
        Some(false) => push(
            checks,
            "replay",
            CheckOutcome::Failed,
            "replayed: this pass was scanned before; ask the holder to refresh it",
        ),
        None if !failed => push(
            checks,
            "replay",
            CheckOutcome::Failed,
            "the pass names no holder this platform knows",
        ),
        None => {}
    }
    result.accepted = checks.iter().all(|c| c.outcome != CheckOutcome::Failed);
    Ok(result)
}

/// Writes the audit record of a scan before its answer leaves; a readable pass's scan
/// names its holder (her footprint shows it) on the basis that she presented it.
async fn audit_scan(
    state: &AppState,
    actor: &Principal,
    holder_and_pass: Option<(String, String)>,
    resource: &str,
    checkpoint: &str,
    accepted: bool,
) -> ApiResult<()> {
    let purpose = if checkpoint.is_empty() {
        "check a pass".to_string()
    } else {
        format!("check a pass at {checkpoint}")
    };
    let mut event = AuditEvent::by(actor, "pass.scan", resource);
    event = match holder_and_pass {
        Some((person, jti)) => event
            .subject(person)
            .because(purpose, Basis::Presented(jti)),
        None => event.because(purpose, Basis::NotApplicable),
    };
    if !accepted {
        event = event.outcome(Outcome::Denied);
    }
    state.audit.record(event).await?;
    Ok(())
}

/// Forgets, now and then, the scans of passes that expired over ten minutes ago.
fn sweep_now_and_then(state: &AppState) {
    let Some(passes) = Passes::of(state) else {
        return;
    };
    if passes.inner.accepted.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY != SWEEP_EVERY - 1 {
        return;
    }
    let db = state.db.clone();
    tokio::spawn(async move {
        let before = Timestamp::now().plus_minutes(-10);
        if let Err(error) = store::sweep_scans(&db, before).await {
            tracing::warn!(%error, "expired pass scans not swept; will retry");
        }
    });
}
