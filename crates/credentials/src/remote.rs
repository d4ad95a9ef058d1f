//! Certificates from other platforms: `did:web` issuers of the platforms this one is told
//! to trust (`trusted_platforms`, base URLs such as `https://civitas.city-b.example`).
//! Their DID documents and status lists are fetched from those base URLs only — never
//! from an address a submitted document names — with a timeout, a size cap and no
//! redirects, and kept for a minute.

use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::VerifyingKey;
use kernel::AppState;
use serde_json::Value;

use crate::integrity;
use crate::status::{self, Entry};

/// Largest DID document or status list credential read.
const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// How long a fetched document is kept.
const KEEP_FOR: Duration = Duration::from_secs(60);
/// Longest `did:web` DID resolved.
const MAX_DID_LEN: usize = 256;
/// How long a platform has to answer.
const TIMEOUT: Duration = Duration::from_secs(5);

/// The per-process parts: an HTTP client and the documents fetched, by URL.
#[derive(Clone)]
pub struct Remote {
    client: reqwest::Client,
    documents: moka::sync::Cache<String, Arc<Value>>,
}

impl Remote {
    /// An HTTP client with a timeout and no redirects, and an empty store of documents.
    pub fn new() -> anyhow::Result<Remote> {
        Ok(Remote {
            client: reqwest::Client::builder()
                .timeout(TIMEOUT)
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            documents: moka::sync::Cache::builder()
                .max_capacity(1_000)
                .time_to_live(KEEP_FOR)
                .build(),
        })
    }
}

/// An issuer key found on a trusted platform.
pub struct RemoteKey {
    /// The key.
    pub key: VerifyingKey,
    /// The issuer's DID.
    pub did: String,
    /// The issuer's name, as its DID document gives it.
    pub name: String,
    /// The platform's base URL.
    pub platform: String,
}

/// The trusted platform base URL serving `did:web` host `host` (percent-encoded port).
fn platform_for(state: &AppState, host: &str) -> Option<String> {
    let host = host.replace("%3A", ":").replace("%3a", ":");
    state
        .config
        .trusted_platforms
        .iter()
        .find(|base| {
            url::Url::parse(base).ok().is_some_and(|u| {
                let authority = match (u.host_str(), u.port()) {
                    (Some(h), Some(p)) => format!("{h}:{p}"),
                    (Some(h), None) => h.to_string(),
                    _ => String::new(),
                };
                authority.eq_ignore_ascii_case(&host)
            })
        })
        .map(|base| base.trim_end_matches('/').to_string())
}

/// Where a `did:web` DID's document is, on a trusted platform: `did:web:host:a:b` is
/// `<platform>/a/b/did.json`, `did:web:host` is `<platform>/.well-known/did.json`.
fn document_url(state: &AppState, did: &str) -> Option<(String, String)> {
    let rest = did.strip_prefix("did:web:")?;
    let mut parts = rest.split(':');
    let host = parts.next()?;
    let platform = platform_for(state, host)?;
    let path: Vec<&str> = parts.collect();
    // Plain segments only (a URL parser reads `\`, tabs or `..` as path steps).
    let plain = |p: &&str| {
        !p.is_empty()
            && *p != "."
            && *p != ".."
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    if did.len() > MAX_DID_LEN || !path.iter().all(plain) {
        return None;
    }
    let url = if path.is_empty() {
        format!("{platform}/.well-known/did.json")
    } else {
        format!("{platform}/{}/did.json", path.join("/"))
    };
    Some((platform, url))
}

async fn fetch(state: &AppState, url: &str) -> Result<Arc<Value>, String> {
    let fallback;
    let remote = match state.extensions.get::<Remote>() {
        Some(r) => r,
        None => {
            fallback = Remote::new().map_err(|e| format!("no HTTP client: {e}"))?;
            &fallback
        }
    };
    if let Some(hit) = remote.documents.get(url) {
        return Ok(hit);
    }
    let mut response = remote
        .client
        .get(url)
        .header("accept", "application/json")
        .send()
        .await
        .map_err(|e| format!("{url} did not answer: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("{url} answered {}", response.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("{url} broke off: {e}"))?
    {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_DOCUMENT_BYTES {
            return Err(format!("{url} sent more than {MAX_DOCUMENT_BYTES} bytes"));
        }
    }
    let value: Arc<Value> =
        Arc::new(serde_json::from_slice(&body).map_err(|_| format!("{url} did not send JSON"))?);
    remote.documents.insert(url.to_string(), value.clone());
    Ok(value)
}

/// Resolves a `did:web` verification method of a trusted platform's issuer. `Ok(None)`
/// when the method is not `did:web` on a trusted platform; an error in plain words when
/// it is but cannot be resolved.
pub async fn resolve(state: &AppState, method: &str) -> Result<Option<RemoteKey>, String> {
    let did = method.split('#').next().unwrap_or(method);
    let Some((platform, url)) = document_url(state, did) else {
        return Ok(None);
    };
    let document = fetch(state, &url).await?;
    if document["id"].as_str() != Some(did) {
        return Err(format!("the DID document at {url} is not {did}'s"));
    }
    let fragment = method.split_once('#').map(|(_, f)| f).unwrap_or_default();
    let names_method = |v: &Value| {
        v.as_str()
            .is_some_and(|id| id == method || id == format!("#{fragment}"))
    };
    let asserts = document["assertionMethod"]
        .as_array()
        .is_some_and(|ids| ids.iter().any(names_method));
    let found = document["verificationMethod"]
        .as_array()
        .and_then(|methods| methods.iter().find(|m| names_method(&m["id"])))
        .filter(|_| asserts)
        .ok_or_else(|| format!("{did} has no assertion key {method}"))?;
    let key = found["publicKeyMultibase"]
        .as_str()
        .ok_or("the key is not a Multikey")
        .and_then(|mb| integrity::public_key_from_multibase(mb).map_err(|_| "a malformed key"))
        .map_err(|e| format!("{method}: {e}"))?;
    Ok(Some(RemoteKey {
        key,
        did: did.to_string(),
        name: document["name"].as_str().unwrap_or(did).to_string(),
        platform,
    }))
}

/// Checks a certificate's status entries against its issuer's lists on its platform:
/// each list must be served by that platform and signed by that issuer.
pub async fn check_status(
    state: &AppState,
    document: &Value,
    issuer: &RemoteKey,
) -> crate::model::Check {
    let entries = match status::entries_of(document) {
        Ok(entries) if entries.is_empty() => {
            return crate::model::Check {
                check: "status".into(),
                outcome: crate::model::CheckOutcome::Skipped,
                detail: "the certificate names no status list".into(),
            };
        }
        Ok(entries) => entries,
        Err(e) => return status::status_check(Err(e)),
    };
    for entry in &entries {
        if let Err(e) = check_entry(state, entry, issuer).await {
            return status::status_check(Err(e));
        }
    }
    status::status_check(Ok(()))
}

async fn check_entry(state: &AppState, entry: &Entry, issuer: &RemoteKey) -> Result<(), String> {
    if !entry.url.starts_with(&format!("{}/", issuer.platform)) {
        return Err("the status list is not served by the issuer's platform".into());
    }
    let list = fetch(state, &entry.url).await?;
    let is_list = list["type"]
        .as_array()
        .is_some_and(|t| t.iter().any(|t| t == "BitstringStatusListCredential"));
    if !is_list || list["id"].as_str() != Some(entry.url.as_str()) {
        return Err("the status list credential is not the list the certificate names".into());
    }
    let list_issuer = match &list["issuer"] {
        Value::String(s) => Some(s.as_str()),
        Value::Object(o) => o.get("id").and_then(Value::as_str),
        _ => None,
    };
    if list_issuer != Some(issuer.did.as_str()) {
        return Err("the status list was not issued by the certificate's issuer".into());
    }
    // The list may be signed by another of the issuer's keys (after a rotation).
    let method = list["proof"]["verificationMethod"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let key = if method.split('#').next() == Some(issuer.did.as_str()) {
        resolve(state, &method)
            .await?
            .map(|k| k.key)
            .ok_or("the status list's key cannot be resolved")?
    } else {
        return Err("the status list is signed by another issuer".into());
    };
    integrity::verify(&list, |_| Some(key))
        .map_err(|e| format!("the status list does not verify: {e}"))?;
    if list["credentialSubject"]["statusPurpose"].as_str() != Some(entry.purpose.as_str()) {
        return Err("the status list is for another purpose".into());
    }
    match list.get("validUntil") {
        None => {}
        Some(v) => match v.as_str().and_then(kernel::time::Timestamp::parse_rfc3339) {
            Some(until) if until > kernel::time::Timestamp::now() => {}
            Some(_) => return Err("the issuer's status list has expired".into()),
            None => return Err("the status list's validUntil is not a date-time".into()),
        },
    }
    let bits = list["credentialSubject"]["encodedList"]
        .as_str()
        .ok_or("the status list has no encodedList".to_string())
        .and_then(status::decode)?;
    status::judge(&bits, entry)
}
