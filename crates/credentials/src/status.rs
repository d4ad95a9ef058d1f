//! Bitstring Status Lists (W3C Bitstring Status List v1.0): each issuer publishes two signed
//! lists — `revocation` and `suspension` — of 131,072 bits each, GZIP-compressed and
//! base64url-encoded; every certificate names its (randomly chosen) index in both, so a
//! verifier fetches and caches one list instead of asking about one certificate, and the
//! issuer does not learn which certificate is being checked.

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kernel::ids::is_uuid;
use kernel::time::Timestamp;
use kernel::{ApiError, ApiResult, AppState};
use serde_json::{Value, json};

use crate::integrity::{self, ProofOptions};
use crate::model::{Check, CheckOutcome};
use crate::store;

/// Entries in each list (16 KiB of bits: the specification's minimum, for herd privacy).
pub const LIST_SIZE: usize = 131_072;
/// The two purposes, each its own list.
pub const PURPOSES: [&str; 2] = ["revocation", "suspension"];
/// How long a list credential is valid (verifiers re-fetch after this).
const LIST_VALIDITY_MINUTES: i64 = 10;

/// The URL of an issuer's list for `purpose`.
pub fn list_url(state: &AppState, organisation_id: &str, purpose: &str) -> String {
    format!(
        "{}/api/v1/credentials/status/{organisation_id}/{purpose}",
        state.config.public_base_url()
    )
}

/// The `credentialStatus` entries of a certificate at `index`.
pub fn entries(state: &AppState, organisation_id: &str, index: usize) -> Value {
    Value::Array(
        PURPOSES
            .iter()
            .map(|purpose| {
                let url = list_url(state, organisation_id, purpose);
                json!({
                    "id": format!("{url}#{index}"),
                    "type": "BitstringStatusListEntry",
                    "statusPurpose": purpose,
                    "statusListIndex": index.to_string(),
                    "statusListCredential": url,
                })
            })
            .collect(),
    )
}

/// GZIP, then base64url without padding, with the multibase prefix `u`.
pub fn encode(bits: &[u8]) -> Result<String, String> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bits).map_err(|e| e.to_string())?;
    let compressed = gz.finish().map_err(|e| e.to_string())?;
    Ok(format!("u{}", URL_SAFE_NO_PAD.encode(compressed)))
}

/// The bits of an `encodedList` (at most 16 MiB once expanded, against GZIP bombs).
pub fn decode(encoded: &str) -> Result<Vec<u8>, String> {
    let text = encoded.strip_prefix('u').unwrap_or(encoded);
    let compressed = URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| "the encodedList is not base64url".to_string())?;
    let mut bits = Vec::new();
    flate2::read::GzDecoder::new(compressed.as_slice())
        .take(16 * 1024 * 1024 + 1)
        .read_to_end(&mut bits)
        .map_err(|_| "the encodedList is not GZIP data".to_string())?;
    if bits.len() > 16 * 1024 * 1024 {
        return Err("the status list is larger than 16 MiB".into());
    }
    Ok(bits)
}

/// Bit `index` of a list (index 0 is the first byte's most significant bit).
pub fn bit(bits: &[u8], index: usize) -> Option<bool> {
    bits.get(index / 8)
        .map(|byte| byte & (0x80 >> (index % 8)) != 0)
}

/// The bits of an issuer's list for `purpose`, from the store: what its list credential
/// publishes, and what this platform's own verifications read.
async fn list_bits(state: &AppState, organisation_id: &str, purpose: &str) -> ApiResult<Vec<u8>> {
    let status = if purpose == "revocation" {
        "revoked"
    } else {
        "suspended"
    };
    let mut bits = vec![0u8; LIST_SIZE / 8];
    for index in store::status_indexes(&state.db, organisation_id, status).await? {
        if let Ok(i) = usize::try_from(index)
            && i < LIST_SIZE
        {
            bits[i / 8] |= 0x80 >> (i % 8);
        }
    }
    Ok(bits)
}

/// An issuer's status list credential for `purpose`, signed now.
pub async fn list_credential(
    state: &AppState,
    organisation_id: &str,
    purpose: &str,
) -> ApiResult<Value> {
    if !is_uuid(organisation_id) || !PURPOSES.contains(&purpose) {
        return Err(ApiError::NotFound("no such status list".into()));
    }
    // Only an organisation that has issued (and so has a key) publishes lists.
    if store::current_key(&state.db, organisation_id)
        .await?
        .is_none()
    {
        return Err(ApiError::NotFound(
            "this organisation has not issued any certificate".into(),
        ));
    }
    let bits = list_bits(state, organisation_id, purpose).await?;
    let url = list_url(state, organisation_id, purpose);
    let did = crate::service::issuer_did(state, organisation_id);
    let now = Timestamp::now();
    let document = json!({
        "@context": [crate::service::VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": did,
        "validFrom": crate::service::date_time(now),
        "validUntil": crate::service::date_time(now.plus_minutes(LIST_VALIDITY_MINUTES)),
        "credentialSubject": {
            "id": format!("{url}#list"),
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encode(&bits).map_err(|e| ApiError::Unexpected(anyhow::anyhow!(e)))?,
        },
    });
    let (kid, key) = crate::service::signing_key(state, organisation_id).await?;
    integrity::sign_owned(
        document,
        &key,
        &ProofOptions {
            created: crate::service::date_time(now),
            verification_method: format!("{did}#{kid}"),
            proof_purpose: "assertionMethod".into(),
        },
    )
    .map_err(|e| ApiError::Unexpected(anyhow::anyhow!("signing failed: {e}")))
}

/// The organisation and purpose a list URL names. Any host is accepted, as for issuers'
/// DIDs: the list is then built from this platform's store and must belong to the
/// certificate's issuer, so a name the server had earlier still works.
fn our_list(url: &str) -> Option<(String, String)> {
    let (_, rest) = url.split_once("/api/v1/credentials/status/")?;
    let (org, purpose) = rest.split_once('/')?;
    (is_uuid(org) && PURPOSES.contains(&purpose)).then(|| (org.to_string(), purpose.to_string()))
}

/// One `credentialStatus` entry: which list, for what, at which index.
pub(crate) struct Entry {
    /// The list credential's URL.
    pub url: String,
    /// `revocation` or `suspension`.
    pub purpose: String,
    /// The certificate's place in it.
    pub index: usize,
}

/// A certificate's status entries; none when it names no list; an error in plain words
/// when one is malformed.
pub(crate) fn entries_of(document: &Value) -> Result<Vec<Entry>, String> {
    let items: Vec<&Value> = match &document["credentialStatus"] {
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => vec![&document["credentialStatus"]],
        _ => return Ok(Vec::new()),
    };
    items
        .into_iter()
        .map(|entry| {
            let url = entry["statusListCredential"]
                .as_str()
                .ok_or("a status entry names no status list credential")?;
            let purpose = entry["statusPurpose"]
                .as_str()
                .filter(|p| PURPOSES.contains(p))
                .ok_or("a status entry's purpose is neither revocation nor suspension")?;
            let index = entry["statusListIndex"]
                .as_str()
                .and_then(|i| i.parse::<usize>().ok())
                .ok_or("the status list index is not a number")?;
            Ok(Entry {
                url: url.to_string(),
                purpose: purpose.to_string(),
                index,
            })
        })
        .collect()
}

/// Whether an entry's bit in `bits` is clear; the reason in plain words when not.
pub(crate) fn judge(bits: &[u8], entry: &Entry) -> Result<(), String> {
    match bit(bits, entry.index) {
        None => Err(format!("status list index {} is out of range", entry.index)),
        Some(true) => {
            let reason = if entry.purpose == "revocation" {
                "revoked"
            } else {
                "suspended"
            };
            Err(format!(
                "{reason} (status list {}, index {})",
                entry.purpose, entry.index
            ))
        }
        Some(false) => Ok(()),
    }
}

/// The `status` check's result.
pub(crate) fn status_check(result: Result<(), String>) -> Check {
    match result {
        Ok(()) => Check {
            check: "status".into(),
            outcome: CheckOutcome::Passed,
            detail: "not revoked or suspended (checked in the issuer's status lists)".into(),
        },
        Err(detail) => Check {
            check: "status".into(),
            outcome: CheckOutcome::Failed,
            detail,
        },
    }
}

/// Checks a certificate's status entries against this platform's lists: the certificate's
/// bit is read in each. `None` when the certificate names no list.
pub async fn check(
    state: &AppState,
    document: &Value,
    issuer_org: &str,
) -> ApiResult<Option<Check>> {
    let entries = match entries_of(document) {
        Ok(entries) if entries.is_empty() => return Ok(None),
        Ok(entries) => entries,
        Err(e) => return Ok(Some(status_check(Err(e)))),
    };
    for entry in &entries {
        let Some((org, purpose)) = our_list(&entry.url) else {
            return Ok(Some(status_check(Err(
                "the status list is not one of this platform's".into(),
            ))));
        };
        if org != issuer_org || entry.purpose != purpose {
            return Ok(Some(status_check(Err(
                "the status entry does not match its issuer's list".into(),
            ))));
        }
        // This platform's own lists are read where they are kept; signing one only to
        // check the signature again would add an Ed25519 signature and verification to
        // every verification.
        let bits = list_bits(state, &org, &purpose).await?;
        if let Err(e) = judge(&bits, entry) {
            return Ok(Some(status_check(Err(e))));
        }
    }
    Ok(Some(status_check(Ok(()))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_round_trip_and_bits_are_msb_first() {
        let mut bits = vec![0u8; LIST_SIZE / 8];
        bits[0] = 0x80;
        bits[LIST_SIZE / 8 - 1] = 0x01;
        let encoded = encode(&bits).unwrap();
        assert!(encoded.starts_with('u'));
        let back = decode(&encoded).unwrap();
        assert_eq!(back, bits);
        assert_eq!(bit(&back, 0), Some(true));
        assert_eq!(bit(&back, 1), Some(false));
        assert_eq!(bit(&back, LIST_SIZE - 1), Some(true));
        assert_eq!(bit(&back, LIST_SIZE), None);
        assert!(decode("u!!!").is_err());
        assert!(decode("uAAAA").is_err());
    }
}
