//! The exchange gateway: a consuming organisation's system account asks for one subject's
//! record of a resource (or up to 1,000 at once). Each call is checked — deny by default —
//! against an agreement in force, the rate it allows, the fields it names and, for
//! personal fields of conditional resources, the person's consent or a statutory duty;
//! only agreed fields leave; the answer is signed with the provider's Ed25519 key (RFC 9421
//! HTTP message signature over an RFC 9530 content digest); and every call, refused ones
//! included, is in the audit log before the answer leaves, so the person sees it in her
//! data footprint.
//!
//! The [`Gateway`] value holds what is kept in memory per process: signing keys, rate
//! buckets and usage counters (flushed to `exchange_usage` every two seconds).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use kernel::audit::{AuditEvent, Basis, DESCRIPTION_SEPARATOR, Outcome};
use kernel::auth::{Principal, Role};
use kernel::db::{Db, is_unique_violation};
use kernel::ids::new_id;
use kernel::time::Timestamp;
use kernel::{ApiError, ApiResult, AppState};
use rand::RngCore;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::model::*;
use crate::store::{self, AgreementRow, KeyRow};

/// Most subjects in one batch call.
pub const MAX_BATCH: usize = 1000;
/// How long the gateway waits for a proxied provider.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest answer accepted from a proxied provider.
const MAX_PROVIDER_BODY: usize = 1024 * 1024;
/// How many subjects of one batch are served at a time.
const BATCH_CONCURRENCY: usize = 16;
/// How often usage counters are written to the store.
const USAGE_FLUSH_EVERY: Duration = Duration::from_secs(2);
/// Hash context of credit-code subjects (resident IDs share the identity crate's).
const CTX_CREDIT_CODE: &str = "exchange.subject.credit_code";

/// The gateway's per-process parts; one per application, kept in
/// [`AppState::extensions`].
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

struct Inner {
    /// (consumer, resource reference) → the resource and the consumer's agreements for it.
    terms: moka::sync::Cache<(String, String), Arc<Terms>>,
    /// Bumped whenever remembered terms are forgotten: a look-up that began before it
    /// changed does not store what it read (it may predate the change).
    terms_generation: AtomicU64,
    /// Organisation → its current signing key; remembered for a minute, so a rotation on
    /// another node is picked up within that time (the old key still verifies meanwhile).
    signers: moka::sync::Cache<String, Arc<OrgSigner>>,
    buckets: Mutex<HashMap<String, Bucket>>,
    usage: Mutex<HashMap<UsageKey, (i64, i64)>>,
    http: reqwest::Client,
}

/// A resource and one consumer's agreements for it, as a call needs them.
struct Terms {
    resource: Resource,
    agreements: Vec<AgreementRow>,
}

/// How long an organisation's signing key is remembered.
const SIGNER_TTL: Duration = Duration::from_secs(60);

/// How long resource and agreement look-ups are remembered. Changes made on this node
/// (publish, decide, revoke) clear them at once; on other nodes within this time.
const TERMS_TTL: Duration = Duration::from_secs(2);

/// (resource id, consumer organisation id, day since the epoch) → (served, refused).
type UsageKey = (String, String, i64);

/// An organisation's current signing key.
pub struct OrgSigner {
    kid: String,
    key: SigningKey,
}

/// A token bucket: `per_minute` calls a minute, bursts up to `per_minute`. Hand-written
/// because the limit differs per agreement and changes with it, which the keyed limiters
/// of crates like `governor` (one quota for all keys) do not model; it is a dozen lines.
struct Bucket {
    tokens: f64,
    at: Instant,
    per_minute: i64,
}

impl Gateway {
    /// Creates the gateway and starts its usage flusher.
    pub fn start(db: Db) -> Gateway {
        let gateway = Gateway {
            inner: Arc::new(Inner {
                terms: moka::sync::Cache::builder()
                    .max_capacity(50_000)
                    .time_to_live(TERMS_TTL)
                    .build(),
                terms_generation: AtomicU64::new(0),
                signers: moka::sync::Cache::builder()
                    .max_capacity(10_000)
                    .time_to_live(SIGNER_TTL)
                    .build(),
                buckets: Mutex::new(HashMap::new()),
                usage: Mutex::new(HashMap::new()),
                http: reqwest::Client::builder()
                    .timeout(PROVIDER_TIMEOUT)
                    // A provider answers itself; it does not send the gateway elsewhere.
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap_or_default(),
            }),
        };
        let flusher = gateway.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(USAGE_FLUSH_EVERY);
            loop {
                tick.tick().await;
                if let Err(error) = flusher.flush_usage(&db).await {
                    tracing::warn!(%error, "gateway usage not written; will retry");
                }
            }
        });
        gateway
    }

    /// The gateway of a running application.
    pub fn of(state: &AppState) -> ApiResult<&Gateway> {
        state
            .extensions
            .get::<Gateway>()
            .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("the gateway was not started")))
    }

    /// Takes `calls` tokens from the agreement's bucket, or says how long to wait.
    fn take(&self, agreement_id: &str, per_minute: i64, calls: usize) -> Result<(), u64> {
        let mut buckets = self.inner.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let bucket = buckets
            .entry(agreement_id.to_string())
            .or_insert_with(|| Bucket {
                tokens: per_minute as f64,
                at: now,
                per_minute,
            });
        if bucket.per_minute != per_minute {
            bucket.per_minute = per_minute;
            bucket.tokens = bucket.tokens.min(per_minute as f64);
        }
        let rate = per_minute as f64 / 60.0;
        bucket.tokens = (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * rate)
            .min(per_minute as f64);
        bucket.at = now;
        let wanted = calls as f64;
        if bucket.tokens >= wanted {
            bucket.tokens -= wanted;
            Ok(())
        } else {
            Err(((wanted - bucket.tokens) / rate).ceil().max(1.0) as u64)
        }
    }

    fn count(&self, resource_id: &str, consumer: &str, served: i64, denied: i64) {
        let day = Timestamp::now().0.div_euclid(86_400_000_000);
        let mut usage = self.inner.usage.lock().unwrap_or_else(|p| p.into_inner());
        let entry = usage
            .entry((resource_id.to_string(), consumer.to_string(), day))
            .or_insert((0, 0));
        entry.0 += served;
        entry.1 += denied;
    }

    /// Writes the usage counted since the last flush.
    pub async fn flush_usage(&self, db: &Db) -> anyhow::Result<()> {
        let pending: Vec<_> = {
            let mut usage = self.inner.usage.lock().unwrap_or_else(|p| p.into_inner());
            usage.drain().collect()
        };
        if pending.is_empty() {
            return Ok(());
        }
        let result = async {
            let mut tx = db.begin().await?;
            for ((resource, consumer, day), (calls, denied)) in &pending {
                store::add_usage(&mut tx, resource, consumer, *day, *calls, *denied).await?;
            }
            tx.commit().await
        }
        .await;
        if let Err(error) = result {
            // Put the counts back so that the next flush writes them.
            let mut usage = self.inner.usage.lock().unwrap_or_else(|p| p.into_inner());
            for (key, (calls, denied)) in pending {
                let entry = usage.entry(key).or_insert((0, 0));
                entry.0 += calls;
                entry.1 += denied;
            }
            return Err(error.into());
        }
        Ok(())
    }

    /// Forgets remembered resources and agreements (after any of them changes).
    pub fn forget_terms(&self) {
        self.inner.terms_generation.fetch_add(1, Ordering::SeqCst);
        self.inner.terms.invalidate_all();
    }

    /// The resource and the consumer's agreements for it, remembered briefly.
    async fn terms(
        &self,
        db: &Db,
        consumer: &str,
        resource_ref: &str,
    ) -> ApiResult<Option<Arc<Terms>>> {
        let key = (consumer.to_string(), resource_ref.to_string());
        if let Some(found) = self.inner.terms.get(&key) {
            return Ok(Some(found));
        }
        let generation = self.inner.terms_generation.load(Ordering::SeqCst);
        let Some(row) = store::get_resource(db, resource_ref).await? else {
            return Ok(None);
        };
        let resource = crate::service::resource_view(row);
        let agreements = store::agreements_for(db, consumer, &resource.id).await?;
        let terms = Arc::new(Terms {
            resource,
            agreements,
        });
        if self.inner.terms_generation.load(Ordering::SeqCst) == generation {
            self.inner.terms.insert(key, terms.clone());
        }
        Ok(Some(terms))
    }

    fn forget_signer(&self, organisation_id: &str) {
        self.inner.signers.invalidate(organisation_id);
    }
}

// ---- keys ----

fn key_context(kid: &str) -> String {
    format!("exchange.signing_key:{kid}")
}

fn new_key_row(state: &AppState, organisation_id: &str) -> ApiResult<KeyRow> {
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let key = SigningKey::from_bytes(&secret);
    let kid = new_id();
    let secret_enc = state
        .vault
        .seal(&hex::encode(secret), &key_context(&kid))
        .map_err(ApiError::Unexpected)?;
    Ok(KeyRow {
        public_key: URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()),
        id: kid,
        organisation_id: organisation_id.to_string(),
        secret_enc,
        created_at: Timestamp::now(),
        retired_at: None,
    })
}

fn signer_from_row(state: &AppState, row: &KeyRow) -> ApiResult<OrgSigner> {
    let hex = state
        .vault
        .open(&row.secret_enc, &key_context(&row.id))
        .map_err(ApiError::Unexpected)?;
    let secret: [u8; 32] = hex::decode(hex.trim())
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| {
            ApiError::Unexpected(anyhow::anyhow!("signing key {} is damaged", row.id))
        })?;
    Ok(OrgSigner {
        kid: row.id.clone(),
        key: SigningKey::from_bytes(&secret),
    })
}

/// The organisation's current signing key, created on first use.
pub async fn signer(state: &AppState, organisation_id: &str) -> ApiResult<Arc<OrgSigner>> {
    let gateway = Gateway::of(state)?;
    if let Some(found) = gateway.inner.signers.get(organisation_id) {
        return Ok(found);
    }
    let row = match store::current_key(&state.db, organisation_id).await? {
        Some(row) => row,
        None => {
            let row = new_key_row(state, organisation_id)?;
            let mut tx = state.db.begin().await?;
            match store::replace_key(&mut tx, &row).await {
                Ok(()) => {
                    let event = AuditEvent::system("key.create", format!("key:{}", row.id));
                    state.audit.record_in(&mut tx, event).await?;
                    kernel::audit::commit_audited(state.audit.as_ref(), tx).await?;
                    row
                }
                // Another request created it first: use theirs.
                Err(e) if is_unique_violation(&e) => store::current_key(&state.db, organisation_id)
                    .await?
                    .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("signing key vanished")))?,
                Err(e) => return Err(e.into()),
            }
        }
    };
    let signer = Arc::new(signer_from_row(state, &row)?);
    // Only a current key is remembered (a rotation may have retired it meanwhile).
    if store::current_key(&state.db, organisation_id)
        .await?
        .is_some_and(|current| current.id == row.id)
    {
        gateway
            .inner
            .signers
            .insert(organisation_id.to_string(), signer.clone());
    }
    Ok(signer)
}

/// Retires the organisation's key and makes a new one (its officers only). The old key
/// stays published so that what it signed still verifies.
pub async fn rotate_key(
    state: &AppState,
    actor: &Principal,
    organisation_id: Option<&str>,
) -> ApiResult<PublishedKey> {
    let org = crate::service::officer_of(actor, organisation_id)?;
    let row = new_key_row(state, &org)?;
    let mut tx = state.db.begin().await?;
    store::replace_key(&mut tx, &row).await.map_err(|e| {
        if is_unique_violation(&e) {
            ApiError::Conflict("the key is being rotated by another request; try again".into())
        } else {
            e.into()
        }
    })?;
    let event = AuditEvent::by(actor, "key.rotate", format!("key:{}", row.id));
    state.audit.record_in(&mut tx, event).await?;
    kernel::audit::commit_audited(state.audit.as_ref(), tx).await?;
    Gateway::of(state)?.forget_signer(&org);
    published_keys(state)
        .await?
        .keys
        .into_iter()
        .find(|k| k.kid == row.id)
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("new key not published")))
}

/// Every signing key, current and retired, as a JWKS.
pub async fn published_keys(state: &AppState) -> ApiResult<KeySet> {
    let rows = store::all_keys(&state.db).await?;
    let orgs: Vec<String> = rows.iter().map(|r| r.organisation_id.clone()).collect();
    let names = identity::service::organisation_names(state, &orgs).await?;
    Ok(KeySet {
        keys: rows
            .into_iter()
            .map(|r| PublishedKey {
                kty: "OKP".into(),
                crv: "Ed25519".into(),
                kid: r.id,
                x: r.public_key,
                key_use: "sig".into(),
                organisation_name: names.get(&r.organisation_id).cloned().unwrap_or_default(),
                organisation_id: r.organisation_id,
                created_at: r.created_at,
                retired_at: r.retired_at,
            })
            .collect(),
    })
}

// ---- signatures (RFC 9421 over an RFC 9530 digest) ----

/// The `Signature-Input` / `Signature` label Civitas uses.
pub const SIGNATURE_LABEL: &str = "civitas";

fn content_digest(body: &[u8]) -> String {
    format!("sha-256=:{}:", STANDARD.encode(Sha256::digest(body)))
}

fn signature_params(created: i64, kid: &str) -> String {
    format!("(\"@status\" \"content-digest\");created={created};keyid=\"{kid}\";alg=\"ed25519\"")
}

/// The RFC 9421 signature base of a response: its status and content digest. Written by
/// hand because only this fixed, two-component form is needed (no crate was worth it).
fn signature_base(status: u16, digest: &str, params: &str) -> String {
    format!("\"@status\": {status}\n\"content-digest\": {digest}\n\"@signature-params\": {params}")
}

/// A JSON response signed by `signer`.
fn signed_json(signer: &OrgSigner, status: StatusCode, body: Vec<u8>) -> Response {
    let digest = content_digest(&body);
    let params = signature_params(Timestamp::now().0 / 1_000_000, &signer.kid);
    let base = signature_base(status.as_u16(), &digest, &params);
    let signature = STANDARD.encode(signer.key.sign(base.as_bytes()).to_bytes());
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    let pairs = [
        (header::CONTENT_TYPE, "application/json".to_string()),
        (header::CACHE_CONTROL, "no-store".to_string()),
        (HeaderName::from_static("content-digest"), digest),
        (
            HeaderName::from_static("signature-input"),
            format!("{SIGNATURE_LABEL}={params}"),
        ),
        (
            HeaderName::from_static("signature"),
            format!("{SIGNATURE_LABEL}=:{signature}:"),
        ),
    ];
    for (name, value) in pairs {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}

/// Checks a signed gateway response against the published keys; returns the key id.
/// (Consumers do the same with any RFC 9421 library; tests and the bench use this.)
pub fn verify_response(
    keys: &KeySet,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<String, String> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| format!("no {name} header"))
    };
    let digest = get("content-digest")?;
    if digest != content_digest(body) {
        return Err("the body does not match its content digest".into());
    }
    let input = get("signature-input")?;
    let params = input
        .strip_prefix(&format!("{SIGNATURE_LABEL}="))
        .ok_or("no civitas signature input")?;
    let kid = params
        .split(";keyid=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or("no keyid")?;
    let signature = get("signature")?
        .strip_prefix(&format!("{SIGNATURE_LABEL}=:"))
        .and_then(|s| s.strip_suffix(':'))
        .ok_or("malformed signature header")?;
    let signature = STANDARD
        .decode(signature)
        .map_err(|_| "signature is not base64")?;
    let signature = ed25519_dalek::Signature::from_slice(&signature)
        .map_err(|_| "signature has a bad length")?;
    let key = keys
        .keys
        .iter()
        .find(|k| k.kid == kid)
        .ok_or_else(|| format!("key {kid} is not published"))?;
    let public: [u8; 32] = URL_SAFE_NO_PAD
        .decode(&key.x)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or("published key is malformed")?;
    let public = VerifyingKey::from_bytes(&public).map_err(|_| "published key is invalid")?;
    public
        .verify(
            signature_base(status, digest, params).as_bytes(),
            &signature,
        )
        .map_err(|_| "the signature does not verify".to_string())?;
    Ok(kid.to_string())
}

// ---- calls ----

/// A call checked for agreement, rate and fields, ready to serve subjects.
struct Call<'a> {
    state: &'a AppState,
    principal: &'a Principal,
    consumer: String,
    resource: Resource,
    agreement: AgreementRow,
    fields: Vec<String>,
    /// Whether each subject's consent is needed (conditional resource, personal fields,
    /// no statutory duty).
    needs_consent: bool,
}

fn label(resource: &str) -> String {
    format!("exchange:{}", resource.chars().take(64).collect::<String>())
}

/// Audits a refusal and returns it.
async fn refuse(
    state: &AppState,
    principal: &Principal,
    what: String,
    subject_person: Option<&str>,
    purpose: &str,
    error: ApiError,
) -> ApiError {
    let mut event = AuditEvent::by(principal, "exchange.read", what)
        .because(
            format!("{purpose} — refused: {}", error.code()),
            Basis::NotApplicable,
        )
        .outcome(Outcome::Denied);
    if let Some(person) = subject_person {
        event = event.subject(person);
    }
    match state.audit.record(event).await {
        Ok(_) => error,
        Err(audit_error) => audit_error,
    }
}

/// A call with no valid credentials: audited to the system chain, then refused.
pub async fn refuse_unauthenticated(state: &AppState, resource: &str) -> ApiError {
    let error = ApiError::Unauthenticated(
        "the gateway needs an organisation's system account: send 'Authorization: Bearer <token>'"
            .into(),
    );
    // Anyone can send such calls: record at most this many a minute, so a flood cannot
    // flood the audit log; the rest are counted in the metrics only.
    let recorded = Gateway::of(state)
        .map(|g| {
            g.take(UNAUTHENTICATED_KEY, UNAUTHENTICATED_AUDITS_PER_MINUTE, 1)
                .is_ok()
        })
        .unwrap_or(true);
    if !recorded {
        metrics::counter!("civitas_gateway_unauthenticated_unrecorded_total").increment(1);
        return error;
    }
    let event = AuditEvent::system("exchange.read", label(resource))
        .because("refused: no valid token", Basis::NotApplicable)
        .outcome(Outcome::Denied);
    match state.audit.record(event).await {
        Ok(_) => error,
        Err(audit_error) => audit_error,
    }
}

/// The bucket that limits how many unauthenticated calls are audited.
const UNAUTHENTICATED_KEY: &str = "unauthenticated";
/// Unauthenticated calls audited per minute at most.
const UNAUTHENTICATED_AUDITS_PER_MINUTE: i64 = 6000;

/// The consumer organisation of a system account.
fn consumer_of(principal: &Principal) -> Option<String> {
    principal
        .roles
        .iter()
        .find(|b| b.role == Role::System)
        .and_then(|b| b.organisation_id.clone())
}

async fn prepare<'a>(
    state: &'a AppState,
    principal: &'a Principal,
    resource_ref: &str,
    fields: Option<Vec<String>>,
    calls: usize,
) -> ApiResult<Call<'a>> {
    let what = label(resource_ref);
    let Some(consumer) = consumer_of(principal) else {
        let error = ApiError::Refused {
            code: "not_a_system_account",
            detail: "the gateway serves organisations' system accounts (role 'system')".into(),
        };
        return Err(refuse(state, principal, what, None, "", error).await);
    };
    let terms = if resource_ref.len() <= 64 {
        Gateway::of(state)?
            .terms(&state.db, &consumer, resource_ref)
            .await?
    } else {
        None
    };
    let (resource, agreements) = match terms {
        Some(terms) => (terms.resource.clone(), terms.agreements.clone()),
        None => {
            let error = ApiError::NotFound(format!(
                "no resource '{}' in the catalogue",
                resource_ref.chars().take(64).collect::<String>()
            ));
            return Err(refuse(state, principal, what, None, "", error).await);
        }
    };
    let what = label(&resource.code);
    let now = Timestamp::now();
    let in_force = agreements
        .iter()
        .find(|a| a.revoked_at.is_none() && a.expires_at > now)
        .cloned();
    let Some(agreement) = in_force else {
        let (code, detail) = if agreements.iter().any(|a| a.revoked_at.is_some()) {
            (
                "agreement_revoked",
                "the provider revoked your organisation's agreement for this resource",
            )
        } else if !agreements.is_empty() {
            (
                "agreement_expired",
                "your organisation's agreement for this resource has expired",
            )
        } else {
            (
                "no_agreement",
                "your organisation has no agreement for this resource: file a sharing request first",
            )
        };
        Gateway::of(state)?.count(&resource.id, &consumer, 0, calls as i64);
        let error = ApiError::Refused {
            code,
            detail: detail.into(),
        };
        return Err(refuse(state, principal, what, None, "", error).await);
    };
    let what = format!("{what} agreement:{}", agreement.id);
    if calls as i64 > agreement.rate_limit_per_minute {
        let error = ApiError::invalid(
            "subjects",
            format!(
                "a batch of {calls} is more than the agreement's {} calls a minute; send smaller batches",
                agreement.rate_limit_per_minute
            ),
        );
        return Err(refuse(state, principal, what, None, &agreement.purpose, error).await);
    }
    if let Err(wait) =
        Gateway::of(state)?.take(&agreement.id, agreement.rate_limit_per_minute, calls)
    {
        Gateway::of(state)?.count(&resource.id, &consumer, 0, calls as i64);
        let error = ApiError::TooManyRequests {
            detail: format!(
                "rate limited: the agreement allows {} calls a minute",
                agreement.rate_limit_per_minute
            ),
            retry_after_secs: wait,
        };
        return Err(refuse(state, principal, what, None, &agreement.purpose, error).await);
    }
    let agreed: Vec<String> = serde_json::from_str(&agreement.fields).unwrap_or_default();
    let fields = match fields {
        None => agreed.clone(),
        Some(wanted) => {
            if wanted.is_empty() || wanted.len() > 100 {
                return Err(ApiError::invalid("fields", "ask for 1 to 100 fields"));
            }
            let mut out: Vec<String> = Vec::new();
            for (i, f) in wanted.into_iter().enumerate() {
                if !agreed.contains(&f) {
                    Gateway::of(state)?.count(&resource.id, &consumer, 0, calls as i64);
                    let error = ApiError::Refused {
                        code: "field_not_agreed",
                        detail: format!(
                            "fields[{i}] '{}' is not in your organisation's agreement",
                            f.chars().take(48).collect::<String>()
                        ),
                    };
                    return Err(
                        refuse(state, principal, what, None, &agreement.purpose, error).await,
                    );
                }
                if !out.contains(&f) {
                    out.push(f);
                }
            }
            out
        }
    };
    let personal = resource.fields.iter().any(|f| {
        fields.contains(&f.name)
            && matches!(
                f.sensitivity,
                Sensitivity::Personal | Sensitivity::SensitivePersonal
            )
    });
    let needs_consent = resource.sharing_class == SharingClass::Conditional
        && resource.subject_kind == SubjectKind::Person
        && personal
        && !agreement.statutory;
    Ok(Call {
        state,
        principal,
        consumer,
        resource,
        agreement,
        fields,
        needs_consent,
    })
}

impl Call<'_> {
    /// What the audit record names: machine tokens, then ` | ` and the resource's name
    /// with the fields' titles, for the person reading her footprint.
    fn what(&self) -> String {
        let titles: Vec<&str> = self
            .fields
            .iter()
            .filter_map(|f| self.resource.fields.iter().find(|spec| &spec.name == f))
            .map(|spec| spec.title.as_str())
            .collect();
        format!(
            "exchange:{} agreement:{} fields:{}{DESCRIPTION_SEPARATOR}{}：{}",
            self.resource.code,
            self.agreement.id,
            self.fields.join(","),
            self.resource.name,
            titles.join("、")
        )
    }

    async fn refuse(&self, subject_person: Option<&str>, error: ApiError) -> ApiError {
        Gateway::of(self.state)
            .map(|g| g.count(&self.resource.id, &self.consumer, 0, 1))
            .ok();
        refuse(
            self.state,
            self.principal,
            self.what(),
            subject_person,
            &self.agreement.purpose,
            error,
        )
        .await
    }

    /// Serves one subject: checks it, finds its record, checks consent, audits, answers.
    async fn serve(&self, subject: &str) -> ApiResult<GatewayRecord> {
        let state = self.state;
        let subject = subject.trim();
        let hash = match self.resource.subject_kind {
            SubjectKind::Person => match identity::model::ResidentId::parse(subject) {
                Ok(rid) => identity::service::resident_id_hash(state, &rid),
                Err(_) => {
                    let error = ApiError::invalid(
                        "subject",
                        "the subject is not a valid resident ID (GB 11643)",
                    );
                    return Err(self.refuse(None, error).await);
                }
            },
            SubjectKind::Organisation => match identity::model::CreditCode::parse(subject) {
                Ok(code) => state.vault.lookup_hash(code.as_str(), CTX_CREDIT_CODE),
                Err(_) => {
                    let error = ApiError::invalid(
                        "subject",
                        "the subject is not a valid unified social credit code (GB 32100)",
                    );
                    return Err(self.refuse(None, error).await);
                }
            },
        };
        let (person, record) = match self.resource.serving {
            Serving::Hosted => {
                match store::get_record(&state.db, &self.resource.id, &hash).await? {
                    Some((person, sealed)) => {
                        let json = state
                            .vault
                            .open(&sealed, &record_context(&self.resource.id, &hash))
                            .map_err(ApiError::Unexpected)?;
                        let record: Map<String, Value> = serde_json::from_str(&json)
                            .map_err(|e| ApiError::Unexpected(e.into()))?;
                        (person, Some(record))
                    }
                    None => (self.person_of(&hash).await?, None),
                }
            }
            Serving::Proxied => {
                let person = self.person_of(&hash).await?;
                self.consent(person.as_deref()).await?;
                let normalised = identity::model::ResidentId::parse(subject)
                    .map(|rid| rid.as_str().to_string())
                    .unwrap_or_else(|_| subject.to_string());
                let record = match self.ask_provider(&normalised).await {
                    Ok(record) => record,
                    Err(error) => return Err(self.refuse(person.as_deref(), error).await),
                };
                return self.answer(person, record, None).await;
            }
        };
        let consent = self.consent(person.as_deref()).await?;
        self.answer(person, record, consent).await
    }

    async fn person_of(&self, hash: &str) -> ApiResult<Option<String>> {
        if self.resource.subject_kind != SubjectKind::Person {
            return Ok(None);
        }
        Ok(
            identity::service::person_ids_by_hashes(self.state, &[hash.to_string()])
                .await?
                .remove(hash),
        )
    }

    /// Checks (and counts) the person's consent when one is needed.
    async fn consent(&self, person: Option<&str>) -> ApiResult<Option<String>> {
        if !self.needs_consent {
            return Ok(None);
        }
        let Some(person) = person else {
            let error = ApiError::Refused {
                code: "no_consent",
                detail: "this resource needs the person's consent, and she has given none".into(),
            };
            return Err(self.refuse(None, error).await);
        };
        // The consent must cover the personal fields asked for; public ones need none.
        let personal: Vec<String> = self
            .fields
            .iter()
            .filter(|f| {
                self.resource.fields.iter().any(|spec| {
                    &spec.name == *f
                        && matches!(
                            spec.sensitivity,
                            Sensitivity::Personal | Sensitivity::SensitivePersonal
                        )
                })
            })
            .cloned()
            .collect();
        let found = trust::service::consent_for_fetch(
            &self.state.db,
            person,
            &self.consumer,
            &self.resource.id,
            &personal,
        )
        .await?;
        let refusal = match found {
            Ok(consent) => return Ok(Some(consent)),
            Err(refusal) => refusal,
        };
        use trust::model::ConsentRefusal as R;
        let (code, detail) = match refusal {
            R::None => (
                "no_consent",
                "the person has not consented to your organisation receiving this".to_string(),
            ),
            R::Revoked => (
                "consent_revoked",
                "the person withdrew her consent".to_string(),
            ),
            R::Expired => (
                "consent_expired",
                "the person's consent is outside its validity window".to_string(),
            ),
            R::Used => (
                "consent_used",
                "the person's consent was for one fetch, and it has been made".to_string(),
            ),
            R::Exhausted => (
                "consent_exhausted",
                "today's fetches under the person's consent are used up".to_string(),
            ),
            R::Fields(missing) => (
                "consent_fields",
                format!(
                    "the person's consent does not cover: {}",
                    missing.join(", ")
                ),
            ),
        };
        Err(self
            .refuse(Some(person), ApiError::Refused { code, detail })
            .await)
    }

    async fn ask_provider(&self, subject: &str) -> ApiResult<Option<Map<String, Value>>> {
        let gateway = Gateway::of(self.state)?;
        let base = self.resource.endpoint_url.clone().unwrap_or_default();
        let url = format!("{}/{}", base.trim_end_matches('/'), subject);
        let response = gateway
            .inner
            .http
            .get(&url)
            .header("x-civitas-consumer", &self.consumer)
            .header("x-civitas-agreement", &self.agreement.id)
            .send()
            .await
            .map_err(|_| ApiError::BadGateway("the provider's system did not answer".into()))?;
        match response.status() {
            s if s == reqwest::StatusCode::NOT_FOUND => Ok(None),
            s if s.is_success() => {
                let not_json = || {
                    ApiError::BadGateway(
                        "the provider's system answered with something other than a JSON object"
                            .into(),
                    )
                };
                let too_large =
                    || ApiError::BadGateway("the provider's answer is larger than 1 MiB".into());
                if response
                    .content_length()
                    .is_some_and(|n| n > MAX_PROVIDER_BODY as u64)
                {
                    return Err(too_large());
                }
                let mut response = response;
                let mut body = Vec::new();
                while let Some(chunk) = response.chunk().await.map_err(|_| not_json())? {
                    body.extend_from_slice(&chunk);
                    if body.len() > MAX_PROVIDER_BODY {
                        return Err(too_large());
                    }
                }
                serde_json::from_slice::<Map<String, Value>>(&body)
                    .map(Some)
                    .map_err(|_| not_json())
            }
            s => Err(ApiError::BadGateway(format!(
                "the provider's system answered {}",
                s.as_u16()
            ))),
        }
    }

    /// Filters, audits and wraps one found record.
    async fn answer(
        &self,
        person: Option<String>,
        record: Option<Map<String, Value>>,
        consent: Option<String>,
    ) -> ApiResult<GatewayRecord> {
        let Some(mut record) = record else {
            let error = ApiError::NotFound("the provider holds no record for this subject".into());
            return Err(self.refuse(person.as_deref(), error).await);
        };
        let fields: Map<String, Value> = self
            .fields
            .iter()
            .map(|f| (f.clone(), record.remove(f).unwrap_or(Value::Null)))
            .collect();
        let (basis, basis_name) = match &consent {
            Some(id) => (Basis::Consent(id.clone()), "consent"),
            // A statutory duty counts when the provider reviewed the request (conditional
            // resources); unconditional agreements are approved unreviewed.
            None if self.agreement.statutory
                && person.is_some()
                && self.resource.sharing_class == SharingClass::Conditional =>
            {
                (
                    Basis::Statutory(self.agreement.legal_basis.chars().take(200).collect()),
                    "statutory",
                )
            }
            None => (Basis::Agreement(self.agreement.id.clone()), "agreement"),
        };
        let mut event = AuditEvent::by(self.principal, "exchange.read", self.what())
            .because(self.agreement.purpose.clone(), basis);
        if let Some(person) = &person {
            event = event.subject(person);
        }
        let call_id = self.state.audit.record(event).await?;
        Gateway::of(self.state)?.count(&self.resource.id, &self.consumer, 1, 0);
        Ok(GatewayRecord {
            call_id,
            resource: self.resource.code.clone(),
            agreement_id: self.agreement.id.clone(),
            basis: basis_name.into(),
            consent_id: consent,
            fields,
            served_at: Timestamp::now(),
        })
    }
}

/// The vault context of a hosted record: bound to its resource and subject, so a sealed
/// record copied to another row does not open.
pub fn record_context(resource_id: &str, subject_hash: &str) -> String {
    format!("exchange.record:{resource_id}:{subject_hash}")
}

/// The hash under which a subject's hosted record is kept (`None` when malformed).
pub fn subject_hash(state: &AppState, kind: SubjectKind, subject: &str) -> Result<String, String> {
    match kind {
        SubjectKind::Person => identity::model::ResidentId::parse(subject)
            .map(|rid| identity::service::resident_id_hash(state, &rid)),
        SubjectKind::Organisation => identity::model::CreditCode::parse(subject)
            .map(|code| state.vault.lookup_hash(code.as_str(), CTX_CREDIT_CODE)),
    }
}

fn fields_param(raw: Option<&str>) -> Option<Vec<String>> {
    raw.filter(|r| !r.trim().is_empty()).map(|r| {
        r.split(',')
            .map(|f| f.trim().to_string())
            .filter(|f| !f.is_empty())
            .collect()
    })
}

/// `GET /api/v1/exchange/{resource}/records/{subject}`: one subject's record, signed.
pub async fn fetch_one(
    state: &AppState,
    principal: &Principal,
    resource: &str,
    subject: &str,
    fields: Option<&str>,
) -> ApiResult<Response> {
    let call = prepare(state, principal, resource, fields_param(fields), 1).await?;
    let record = call.serve(subject).await?;
    let body = serde_json::to_vec(&record).map_err(|e| ApiError::Unexpected(e.into()))?;
    let signer = signer(state, &call.resource.provider_org_id).await?;
    Ok(signed_json(&signer, StatusCode::OK, body))
}

/// Fetches one person's record for `consumer_org_id` at a resident's own request (the
/// one-stop desk attaching a material to her application, the once-only principle): the
/// department's agreement, rate limit, consent and audit rules apply exactly as for a call
/// by its system account; the record names `requested_by`'s account as the one who asked.
pub async fn fetch_for(
    state: &AppState,
    requested_by: &Principal,
    consumer_org_id: &str,
    resource: &str,
    subject: &str,
    fields: Option<Vec<String>>,
) -> ApiResult<GatewayRecord> {
    let desk = Principal {
        account_id: requested_by.account_id.clone(),
        username: requested_by.username.clone(),
        display_name: requested_by.display_name.clone(),
        person_id: None,
        roles: vec![kernel::auth::RoleBinding {
            role: Role::System,
            organisation_id: Some(consumer_org_id.to_string()),
        }],
        session_id: requested_by.session_id.clone(),
        acting_for: None,
    };
    let call = prepare(state, &desk, resource, fields, 1).await?;
    call.serve(subject).await
}

/// `POST /api/v1/exchange/{resource}/records:batch`: up to 1,000 subjects, each served
/// and audited alone; the answer is signed as a whole.
pub async fn fetch_batch(
    state: &AppState,
    principal: &Principal,
    resource: &str,
    query: BatchQuery,
) -> ApiResult<Response> {
    if query.subjects.is_empty() || query.subjects.len() > MAX_BATCH {
        let error = if query.subjects.is_empty() {
            ApiError::invalid("subjects", "name 1 to 1,000 subjects")
        } else {
            ApiError::PayloadTooLarge(format!(
                "a batch names at most {MAX_BATCH} subjects; this one names {}",
                query.subjects.len()
            ))
        };
        return Err(refuse(state, principal, label(resource), None, "", error).await);
    }
    let call = prepare(
        state,
        principal,
        resource,
        query.fields,
        query.subjects.len(),
    )
    .await?;
    // A few subjects at a time, so one batch does not take every connection of the pool
    // (or send a thousand requests at once to a proxied provider).
    let mut results: Vec<BatchItem> = Vec::with_capacity(query.subjects.len());
    for (n, chunk) in query.subjects.chunks(BATCH_CONCURRENCY).enumerate() {
        let items = futures::future::join_all(chunk.iter().enumerate().map(|(i, subject)| {
            let call = &call;
            let index = n * BATCH_CONCURRENCY + i;
            async move {
                match call.serve(subject).await {
                    Ok(record) => BatchItem {
                        index,
                        status: 200,
                        record: Some(record),
                        problem: None,
                    },
                    Err(error) => {
                        if error.status().is_server_error() {
                            tracing::error!(error = %format!("{error:#}"), index, "batch item failed");
                        }
                        BatchItem {
                            index,
                            status: error.status().as_u16(),
                            record: None,
                            problem: Some(error.problem()),
                        }
                    }
                }
            }
        }))
        .await;
        results.extend(items);
    }
    let body =
        serde_json::to_vec(&BatchAnswer { results }).map_err(|e| ApiError::Unexpected(e.into()))?;
    let signer = signer(state, &call.resource.provider_org_id).await?;
    Ok(signed_json(&signer, StatusCode::OK, body))
}
