//! Conformance against data no one here wrote: the RFC 8785 reference test data
//! (`../shared/testdata/jcs/`) and the W3C `eddsa-jcs-2022` test vectors
//! (`../shared/testdata/vc-di-eddsa/`), every intermediate step byte for byte. The data
//! sits beside the checkout (`CIVITAS_SHARED_DIR` names another place); a missing folder
//! fails the tests rather than skipping them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use credentials::integrity::{
    self, ProofOptions, canonicalize, did_key_method, public_key_from_multibase, resolve_did_key,
    secret_key_from_multibase,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn testdata(sub: &str) -> PathBuf {
    let base = std::env::var("CIVITAS_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let dir = base.join("testdata").join(sub);
    assert!(
        dir.is_dir(),
        "test vectors missing: {} (put ../shared beside the checkout or set CIVITAS_SHARED_DIR)",
        dir.display()
    );
    dir
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn json(dir: &Path, name: &str) -> Value {
    serde_json::from_str(&read(dir, name)).unwrap()
}

#[test]
fn rfc8785_reference_data_is_reproduced_byte_for_byte() {
    let dir = testdata("jcs");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir.join("input")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let input: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let expected = std::fs::read(dir.join("output").join(&name)).unwrap();
        let got = canonicalize(&input).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&expected),
            "{name}"
        );
        // The hex form too (it pins the exact bytes of non-ASCII text).
        let hex_name = name.replace(".json", ".txt");
        let hex_expected: String = read(&dir.join("outhex"), &hex_name)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join("");
        assert_eq!(hex::encode(&got), hex_expected.to_lowercase(), "{hex_name}");
        checked += 1;
    }
    assert!(checked >= 6, "only {checked} reference files found");
}

#[test]
fn w3c_eddsa_jcs_2022_vectors_are_reproduced_step_by_step() {
    let dir = testdata("vc-di-eddsa");
    let keys = json(&dir, "keyPair.json");
    let secret = secret_key_from_multibase(keys["privateKeyMultibase"].as_str().unwrap()).unwrap();
    let public = public_key_from_multibase(keys["publicKeyMultibase"].as_str().unwrap()).unwrap();
    assert_eq!(secret.verifying_key(), public);

    let unsigned = json(&dir, "unsigned.json");
    let config = json(&dir, "proofConfigJCS.json");
    assert_eq!(
        config["verificationMethod"].as_str().unwrap(),
        did_key_method(&public)
    );

    let canon_doc = canonicalize(&unsigned).unwrap();
    assert_eq!(
        String::from_utf8(canon_doc.clone()).unwrap(),
        read(&dir, "canonDocJCS.txt").trim()
    );
    let canon_proof = canonicalize(&config).unwrap();
    assert_eq!(
        String::from_utf8(canon_proof.clone()).unwrap(),
        read(&dir, "proofCanonJCS.txt").trim()
    );
    assert_eq!(
        hex::encode(Sha256::digest(&canon_doc)),
        read(&dir, "docHashJCS.txt").trim()
    );
    assert_eq!(
        hex::encode(Sha256::digest(&canon_proof)),
        read(&dir, "proofHashJCS.txt").trim()
    );
    let combined = integrity::hash_data(&unsigned, &config).unwrap();
    assert_eq!(
        hex::encode(combined),
        read(&dir, "combinedHashJCS.txt").trim()
    );

    let options = ProofOptions {
        created: config["created"].as_str().unwrap().into(),
        verification_method: config["verificationMethod"].as_str().unwrap().into(),
        proof_purpose: config["proofPurpose"].as_str().unwrap().into(),
    };
    let signed = integrity::sign(&unsigned, &secret, &options).unwrap();
    let proof_value = signed["proof"]["proofValue"].as_str().unwrap();
    assert_eq!(proof_value, read(&dir, "sigBTC58JCS.txt").trim());
    let raw = bs58_decode(proof_value);
    assert_eq!(hex::encode(raw), read(&dir, "sigHexJCS.txt").trim());
    assert_eq!(signed, json(&dir, "signedJCS.json"));

    // The published signed credential verifies; altered, it does not.
    let published = json(&dir, "signedJCS.json");
    let verified = integrity::verify(&published, resolve_did_key).unwrap();
    assert_eq!(verified.verification_method, options.verification_method);
    let mut altered = published.clone();
    altered["credentialSubject"]["alumniOf"] = Value::String("Another School".into());
    assert_eq!(
        integrity::verify(&altered, resolve_did_key),
        Err(integrity::IntegrityError::BadSignature)
    );
    let mut moved_context = published.clone();
    moved_context["proof"]["@context"] = serde_json::json!(["https://example.org/other"]);
    assert_eq!(
        integrity::verify(&moved_context, resolve_did_key),
        Err(integrity::IntegrityError::ContextMismatch)
    );
}

/// Decodes a `z…` multibase value with an implementation independent of the crate's.
fn bs58_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let text = text.strip_prefix('z').unwrap();
    let mut bytes: Vec<u8> = Vec::new();
    for c in text.bytes() {
        let mut carry = ALPHABET.iter().position(|&a| a == c).unwrap() as u32;
        for b in bytes.iter_mut().rev() {
            carry += (*b as u32) * 58;
            *b = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let zeros = text.bytes().take_while(|&c| c == b'1').count();
    let mut out = vec![0u8; zeros];
    out.extend(bytes);
    out
}
