//! Data Integrity proofs with the `eddsa-jcs-2022` cryptosuite (W3C "Data Integrity EdDSA
//! Cryptosuites v1.0", section 3.3): the document and the proof configuration are each
//! canonicalised with RFC 8785 (JCS) and hashed with SHA-256; Ed25519 signs the proof
//! configuration's hash followed by the document's; the signature is carried as a
//! base58-btc multibase `proofValue`. Verification methods are `did:key` Ed25519 keys
//! (multicodec `0xed01`), or any key the caller resolves.
//!
//! Canonicalisation is written here (see [`canonicalize`] for why), with ECMAScript number
//! formatting from `ryu-js`; multibase and the multicodec prefixes are a few lines over
//! `bs58`, written here because only base58-btc and the two Ed25519 codes are needed.

use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The cryptosuite this module implements.
pub const CRYPTOSUITE: &str = "eddsa-jcs-2022";
/// The proof type of every Data Integrity proof.
pub const PROOF_TYPE: &str = "DataIntegrityProof";
/// Longest multibase key read (an Ed25519 key with its prefix is 48 characters).
const MAX_KEY_MULTIBASE: usize = 64;
/// Multicodec prefix of an Ed25519 public key.
const ED25519_PUB: [u8; 2] = [0xed, 0x01];
/// Multicodec prefix of an Ed25519 private key (seed).
const ED25519_PRIV: [u8; 2] = [0x80, 0x26];

/// Why a document could not be signed or verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntegrityError {
    /// The document is not a JSON object.
    #[error("the document is not a JSON object")]
    NotAnObject,
    /// The document carries no `proof`.
    #[error("the document has no proof")]
    NoProof,
    /// The proof is not a single object (proof sets and chains are not supported).
    #[error("the proof is not a single JSON object")]
    MalformedProof,
    /// The proof's `type` is not `DataIntegrityProof`.
    #[error("the proof type is '{0}', not DataIntegrityProof")]
    WrongProofType(String),
    /// The proof's `cryptosuite` is not `eddsa-jcs-2022`.
    #[error("the cryptosuite is '{0}', not eddsa-jcs-2022")]
    WrongCryptosuite(String),
    /// A required proof field is missing or not a string.
    #[error("the proof has no valid '{0}'")]
    MissingField(&'static str),
    /// The proof's `@context` is not a prefix of the document's.
    #[error("the proof's @context does not match the document's")]
    ContextMismatch,
    /// The `proofValue` is not a base58-btc multibase Ed25519 signature.
    #[error("the proofValue is not a base58-btc encoded Ed25519 signature")]
    MalformedProofValue,
    /// A key is not a valid multibase Ed25519 key.
    #[error("not a multibase Ed25519 key: {0}")]
    MalformedKey(String),
    /// The verification method could not be resolved to a key.
    #[error("the verification method '{0}' cannot be resolved to a key")]
    UnknownVerificationMethod(String),
    /// The signature does not verify: the document or proof was altered, or the key is
    /// not the signer's.
    #[error("the signature does not verify (altered document or wrong key)")]
    BadSignature,
    /// The document cannot be canonicalised.
    #[error("the document cannot be canonicalised: {0}")]
    Canonicalisation(String),
}

/// RFC 8785 canonical form of a JSON value.
pub fn canonicalize(value: &Value) -> Result<Vec<u8>, IntegrityError> {
    let mut out = Vec::with_capacity(1024);
    write_value(&mut out, value)?;
    Ok(out)
}

/// Something that canonicalises: a JSON value, or an object seen through a [`View`].
pub trait Canonical {
    /// Appends the RFC 8785 form.
    fn write_canonical(&self, out: &mut Vec<u8>) -> Result<(), IntegrityError>;
}

impl Canonical for Value {
    fn write_canonical(&self, out: &mut Vec<u8>) -> Result<(), IntegrityError> {
        write_value(out, self)
    }
}

/// A JSON object seen without one member and, optionally, with another `@context`:
/// what is hashed, without copying the document.
struct View<'a> {
    map: &'a Map<String, Value>,
    without: &'static str,
    context: Option<&'a Value>,
}

impl Canonical for View<'_> {
    fn write_canonical(&self, out: &mut Vec<u8>) -> Result<(), IntegrityError> {
        write_object(
            out,
            self.map
                .iter()
                .filter(|(name, _)| name.as_str() != self.without)
                .map(|(name, value)| match (name.as_str(), self.context) {
                    ("@context", Some(context)) => (name.as_str(), context),
                    _ => (name.as_str(), value),
                }),
        )
    }
}

// RFC 8785 by hand: the `serde_json_canonicalizer` crate re-parses every member name to
// sort it, which made canonicalisation cost more than the hashing and half the Ed25519
// verification (see `civitas bench credentials`). The rules are few — members sorted by
// UTF-16 code units, JSON string escaping as serde_json writes it, numbers as ECMAScript
// prints them (the `ryu-js` crate) — and the RFC's reference data checks every byte.
fn write_value(out: &mut Vec<u8>, value: &Value) -> Result<(), IntegrityError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(out, n)?,
        Value::String(s) => write_string(out, s)?,
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item)?;
            }
            out.push(b']');
        }
        Value::Object(map) => write_object(out, map.iter().map(|(k, v)| (k.as_str(), v)))?,
    }
    Ok(())
}

fn write_object<'a>(
    out: &mut Vec<u8>,
    members: impl Iterator<Item = (&'a str, &'a Value)>,
) -> Result<(), IntegrityError> {
    let mut members: Vec<(&str, &Value)> = members.collect();
    // UTF-16 order; for ASCII names that is byte order, compared without decoding.
    members.sort_unstable_by(|a, b| {
        if a.0.is_ascii() && b.0.is_ascii() {
            a.0.cmp(b.0)
        } else {
            a.0.encode_utf16().cmp(b.0.encode_utf16())
        }
    });
    out.push(b'{');
    for (i, (name, value)) in members.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(out, name)?;
        out.push(b':');
        write_value(out, value)?;
    }
    out.push(b'}');
    Ok(())
}

fn write_string(out: &mut Vec<u8>, text: &str) -> Result<(), IntegrityError> {
    serde_json::to_writer(&mut *out, text)
        .map_err(|e| IntegrityError::Canonicalisation(e.to_string()))
}

/// Largest integer an IEEE double holds exactly.
const MAX_SAFE: u64 = (1 << 53) - 1;

fn write_number(out: &mut Vec<u8>, n: &serde_json::Number) -> Result<(), IntegrityError> {
    if let Some(i) = n.as_i64()
        && i.unsigned_abs() <= MAX_SAFE
    {
        out.extend_from_slice(i.to_string().as_bytes());
        return Ok(());
    }
    let f = n
        .as_f64()
        .filter(|f| f.is_finite())
        .ok_or_else(|| IntegrityError::Canonicalisation("a number is not finite".into()))?;
    if f == 0.0 {
        out.push(b'0');
        return Ok(());
    }
    let mut buffer = ryu_js::Buffer::new();
    out.extend_from_slice(buffer.format_finite(f).as_bytes());
    Ok(())
}

/// Decodes a base58-btc multibase string (`z…`).
fn multibase_decode(text: &str) -> Option<Vec<u8>> {
    bs58::decode(text.strip_prefix('z')?).into_vec().ok()
}

/// Encodes bytes as base58-btc multibase (`z…`).
fn multibase_encode(bytes: &[u8]) -> String {
    format!("z{}", bs58::encode(bytes).into_string())
}

// Signatures go through `five8`, which encodes and decodes exactly 64 bytes in constant
// steps: `bs58`'s general algorithm is quadratic in the length and took 14% of an
// issuance (see `civitas bench credentials`). Keys, 34 bytes and rarely read, stay on bs58.

/// A signature as base58-btc multibase (`z…`).
fn signature_multibase(signature: &[u8; 64]) -> String {
    let mut out = [0u8; five8::BASE58_ENCODED_64_MAX_LEN];
    let len = five8::encode_64(signature, &mut out) as usize;
    let mut text = String::with_capacity(len + 1);
    text.push('z');
    text.extend(out[..len].iter().map(|&b| b as char));
    text
}

/// A signature from its base58-btc multibase form.
fn signature_from_multibase(text: &str) -> Result<[u8; 64], IntegrityError> {
    let encoded = text
        .strip_prefix('z')
        .ok_or(IntegrityError::MalformedProofValue)?;
    let mut signature = [0u8; 64];
    five8::decode_64(encoded, &mut signature).map_err(|_| IntegrityError::MalformedProofValue)?;
    Ok(signature)
}

/// The multibase form of an Ed25519 public key (`z6Mk…`).
pub fn public_key_multibase(key: &VerifyingKey) -> String {
    let mut bytes = ED25519_PUB.to_vec();
    bytes.extend_from_slice(key.as_bytes());
    multibase_encode(&bytes)
}

/// An Ed25519 public key from its multibase form.
pub fn public_key_from_multibase(text: &str) -> Result<VerifyingKey, IntegrityError> {
    let bad = || IntegrityError::MalformedKey(text.chars().take(64).collect());
    // A key is 48 characters; base58 decoding is quadratic, so nothing long is decoded.
    if text.len() > MAX_KEY_MULTIBASE {
        return Err(bad());
    }
    let bytes = multibase_decode(text).ok_or_else(bad)?;
    let raw: [u8; 32] = bytes
        .strip_prefix(&ED25519_PUB)
        .and_then(|k| k.try_into().ok())
        .ok_or_else(bad)?;
    VerifyingKey::from_bytes(&raw).map_err(|_| bad())
}

/// The multibase form of an Ed25519 private key (its 32-byte seed).
pub fn secret_key_multibase(key: &SigningKey) -> String {
    let mut bytes = ED25519_PRIV.to_vec();
    bytes.extend_from_slice(&key.to_bytes());
    multibase_encode(&bytes)
}

/// An Ed25519 private key from its multibase form.
pub fn secret_key_from_multibase(text: &str) -> Result<SigningKey, IntegrityError> {
    let bad = || IntegrityError::MalformedKey("(private key)".into());
    if text.len() > MAX_KEY_MULTIBASE {
        return Err(bad());
    }
    let bytes = multibase_decode(text).ok_or_else(bad)?;
    let raw: [u8; 32] = bytes
        .strip_prefix(&ED25519_PRIV)
        .and_then(|k| k.try_into().ok())
        .ok_or_else(bad)?;
    Ok(SigningKey::from_bytes(&raw))
}

/// The `did:key` verification method of a public key: `did:key:z6Mk…#z6Mk…`.
pub fn did_key_method(key: &VerifyingKey) -> String {
    let mb = public_key_multibase(key);
    format!("did:key:{mb}#{mb}")
}

/// The key of a `did:key` verification method (or DID), if it is one.
pub fn resolve_did_key(method: &str) -> Option<VerifyingKey> {
    let rest = method.strip_prefix("did:key:")?;
    let id = rest.split('#').next()?;
    public_key_from_multibase(id).ok()
}

/// What a new proof says besides its signature.
#[derive(Clone, Debug)]
pub struct ProofOptions {
    /// When it was made, an XML Schema dateTime (`2023-02-24T23:36:38Z`).
    pub created: String,
    /// The key's verification method URL.
    pub verification_method: String,
    /// Usually `assertionMethod`.
    pub proof_purpose: String,
}

/// The proof configuration that is hashed: the proof without `proofValue`, with the
/// document's `@context` when it has one.
fn proof_configuration(document: &Map<String, Value>, options: &ProofOptions) -> Value {
    let mut config = Map::new();
    config.insert("type".into(), Value::String(PROOF_TYPE.into()));
    config.insert("cryptosuite".into(), Value::String(CRYPTOSUITE.into()));
    config.insert("created".into(), Value::String(options.created.clone()));
    config.insert(
        "verificationMethod".into(),
        Value::String(options.verification_method.clone()),
    );
    config.insert(
        "proofPurpose".into(),
        Value::String(options.proof_purpose.clone()),
    );
    if let Some(context) = document.get("@context") {
        config.insert("@context".into(), context.clone());
    }
    Value::Object(config)
}

/// The bytes Ed25519 signs: SHA-256 of the canonical proof configuration, then SHA-256 of
/// the canonical document (without its proof).
pub fn hash_data(
    document: &impl Canonical,
    proof_config: &impl Canonical,
) -> Result<[u8; 64], IntegrityError> {
    let mut buffer = Vec::with_capacity(2048);
    let mut out = [0u8; 64];
    proof_config.write_canonical(&mut buffer)?;
    out[..32].copy_from_slice(&Sha256::digest(&buffer));
    buffer.clear();
    document.write_canonical(&mut buffer)?;
    out[32..].copy_from_slice(&Sha256::digest(&buffer));
    Ok(out)
}

/// Adds an `eddsa-jcs-2022` proof to an unsigned document (any `proof` it has is replaced).
pub fn sign(
    document: &Value,
    key: &SigningKey,
    options: &ProofOptions,
) -> Result<Value, IntegrityError> {
    sign_owned(document.clone(), key, options)
}

/// [`sign`], taking the document (no copy is made).
pub fn sign_owned(
    document: Value,
    key: &SigningKey,
    options: &ProofOptions,
) -> Result<Value, IntegrityError> {
    let Value::Object(mut unsigned) = document else {
        return Err(IntegrityError::NotAnObject);
    };
    unsigned.remove("proof");
    let config = proof_configuration(&unsigned, options);
    let view = View {
        map: &unsigned,
        without: "proof",
        context: None,
    };
    let data = hash_data(&view, &config)?;
    let signature = key.sign(&data);
    let mut proof = match config {
        Value::Object(map) => map,
        _ => return Err(IntegrityError::MalformedProof),
    };
    proof.insert(
        "proofValue".into(),
        Value::String(signature_multibase(&signature.to_bytes())),
    );
    unsigned.insert("proof".into(), Value::Object(proof));
    Ok(Value::Object(unsigned))
}

/// What a verified proof says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedProof {
    /// The verification method that signed.
    pub verification_method: String,
    /// When the proof says it was made.
    pub created: Option<String>,
    /// Its purpose.
    pub proof_purpose: String,
}

fn proof_str<'a>(
    proof: &'a Map<String, Value>,
    name: &'static str,
) -> Result<&'a str, IntegrityError> {
    proof
        .get(name)
        .and_then(Value::as_str)
        .ok_or(IntegrityError::MissingField(name))
}

/// Verifies a document's `eddsa-jcs-2022` proof; `resolve` turns a verification method
/// into its public key (e.g. [`resolve_did_key`], or a registry of trusted issuers).
pub fn verify(
    document: &Value,
    resolve: impl Fn(&str) -> Option<VerifyingKey>,
) -> Result<VerifiedProof, IntegrityError> {
    let map = document.as_object().ok_or(IntegrityError::NotAnObject)?;
    let proof = match map.get("proof") {
        None => return Err(IntegrityError::NoProof),
        Some(Value::Object(proof)) => proof,
        Some(_) => return Err(IntegrityError::MalformedProof),
    };
    let proof_type = proof_str(proof, "type")?;
    if proof_type != PROOF_TYPE {
        return Err(IntegrityError::WrongProofType(
            proof_type.chars().take(64).collect(),
        ));
    }
    let suite = proof_str(proof, "cryptosuite")?;
    if suite != CRYPTOSUITE {
        return Err(IntegrityError::WrongCryptosuite(
            suite.chars().take(64).collect(),
        ));
    }
    let method = proof_str(proof, "verificationMethod")?.to_string();
    let purpose = proof_str(proof, "proofPurpose")?.to_string();
    let proof_value = proof_str(proof, "proofValue")?;
    let signature = signature_from_multibase(proof_value)?;
    // The proof's @context, when present, must begin the document's; the document is
    // then hashed with it.
    let context = proof.get("@context");
    if let Some(context) = context {
        let prefix_of_document = match (context, map.get("@context")) {
            (Value::Array(p), Some(Value::Array(d))) => d.starts_with(p),
            (p, Some(d)) => p == d,
            (_, None) => false,
        };
        if !prefix_of_document {
            return Err(IntegrityError::ContextMismatch);
        }
    }
    let key = resolve(&method).ok_or_else(|| {
        IntegrityError::UnknownVerificationMethod(method.chars().take(200).collect())
    })?;
    let unsecured = View {
        map,
        without: "proof",
        context,
    };
    let config = View {
        map: proof,
        without: "proofValue",
        context: None,
    };
    let data = hash_data(&unsecured, &config)?;
    key.verify(&data, &Signature::from_bytes(&signature))
        .map_err(|_| IntegrityError::BadSignature)?;
    Ok(VerifiedProof {
        verification_method: method,
        created: proof
            .get("created")
            .and_then(Value::as_str)
            .map(str::to_string),
        proof_purpose: purpose,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sign_then_verify_round_trips_and_detects_tampering() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let options = ProofOptions {
            created: "2026-11-22T00:00:00Z".into(),
            verification_method: did_key_method(&key.verifying_key()),
            proof_purpose: "assertionMethod".into(),
        };
        let doc = json!({"@context": ["https://www.w3.org/ns/credentials/v2"], "name": "李秀英", "n": 1.5});
        let signed = sign(&doc, &key, &options).unwrap();
        assert!(verify(&signed, resolve_did_key).is_ok());
        let mut tampered = signed.clone();
        tampered["name"] = json!("李建国");
        assert_eq!(
            verify(&tampered, resolve_did_key),
            Err(IntegrityError::BadSignature)
        );
        let other = SigningKey::from_bytes(&[8u8; 32]).verifying_key();
        assert_eq!(
            verify(&signed, |_| Some(other)),
            Err(IntegrityError::BadSignature)
        );
        let mut wrong_suite = signed.clone();
        wrong_suite["proof"]["cryptosuite"] = json!("ecdsa-rdfc-2019");
        assert!(matches!(
            verify(&wrong_suite, resolve_did_key),
            Err(IntegrityError::WrongCryptosuite(_))
        ));
        assert_eq!(
            verify(&json!([1]), resolve_did_key),
            Err(IntegrityError::NotAnObject)
        );
        assert_eq!(verify(&doc, resolve_did_key), Err(IntegrityError::NoProof));
    }

    #[test]
    fn keys_round_trip_through_multibase() {
        let key = SigningKey::from_bytes(&[9u8; 32]);
        let public = public_key_multibase(&key.verifying_key());
        assert!(public.starts_with("z6Mk"));
        assert_eq!(
            public_key_from_multibase(&public).unwrap(),
            key.verifying_key()
        );
        let secret = secret_key_multibase(&key);
        assert_eq!(
            secret_key_from_multibase(&secret).unwrap().to_bytes(),
            key.to_bytes()
        );
        assert!(public_key_from_multibase("zzzz").is_err());
        assert!(public_key_from_multibase("").is_err());
        assert!(resolve_did_key("did:web:example.org#key-1").is_none());
    }
}
