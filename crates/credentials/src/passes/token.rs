//! The signed form of a pass: a compact JWS (RFC 7515) with the `EdDSA` algorithm over
//! Ed25519 (RFC 8037), `typ` `civitas-pass+jwt`, `kid` the issuer's verification method.
//! A few hundred characters, so its QR code stays coarse enough for an old phone's screen
//! and a bus reader; a certificate's full Data Integrity form is four times longer.
//!
//! Written here rather than with `jsonwebtoken`: that crate signs EdDSA only through its
//! own crypto backend (ring or aws-lc) and a DER key, where the issuers' keys are
//! `ed25519-dalek` keys already; the format is three base64url parts and one signature.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde::{Deserialize, Serialize};

/// The JWS `typ` of a pass.
pub const PASS_TYP: &str = "civitas-pass+jwt";
/// Longest token read (a pass is about 500 characters).
pub const MAX_TOKEN_LEN: usize = 2048;

/// The protected header.
#[derive(Debug, Serialize, Deserialize)]
pub struct Header {
    /// Always `EdDSA`.
    pub alg: String,
    /// The issuer's verification method (`did:web:…#<key id>`).
    pub kid: String,
    /// Always [`PASS_TYP`].
    pub typ: String,
}

/// What a pass says.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PassClaims {
    /// The issuer's DID.
    pub iss: String,
    /// The holder (`urn:civitas:person:<id>`).
    pub sub: String,
    /// Pass type code.
    pub pty: String,
    /// The holder's masked name, for the checker to compare.
    pub nam: String,
    /// Colour: `green`, `yellow` or `red`.
    pub col: String,
    /// The certificate it was derived from (`urn:uuid:<id>`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<String>,
    /// Signed at (seconds since the Unix epoch).
    pub iat: i64,
    /// Expires at (seconds since the Unix epoch).
    pub exp: i64,
    /// Unique id: a second scan of it is a replay.
    pub jti: String,
}

/// Why a token could not be read or verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not three base64url parts of JSON, or too long.
    #[error("not a pass: {0}")]
    Malformed(&'static str),
    /// Another algorithm or type.
    #[error("not a Civitas pass: {0}")]
    WrongKind(String),
    /// The signature does not verify.
    #[error("bad signature: the pass was altered, or signed with another key")]
    BadSignature,
}

/// A pass read but not yet verified.
#[derive(Debug)]
pub struct Unverified<'a> {
    /// Its header.
    pub header: Header,
    /// Its claims.
    pub claims: PassClaims,
    signing_input: &'a str,
    signature: Signature,
}

impl Unverified<'_> {
    /// Checks the signature with `key`.
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), TokenError> {
        key.verify(self.signing_input.as_bytes(), &self.signature)
            .map_err(|_| TokenError::BadSignature)
    }
}

/// Signs claims as a compact JWS.
pub fn sign(claims: &PassClaims, kid: &str, key: &SigningKey) -> Result<String, TokenError> {
    let header = Header {
        alg: "EdDSA".into(),
        kid: kid.into(),
        typ: PASS_TYP.into(),
    };
    let header = serde_json::to_vec(&header).map_err(|_| TokenError::Malformed("header"))?;
    let payload = serde_json::to_vec(claims).map_err(|_| TokenError::Malformed("payload"))?;
    let mut token = URL_SAFE_NO_PAD.encode(header);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(payload, &mut token);
    let signature = key.sign(token.as_bytes());
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(signature.to_bytes(), &mut token);
    Ok(token)
}

/// Reads a token's parts (nothing is trusted until [`Unverified::verify`]).
pub fn parse(token: &str) -> Result<Unverified<'_>, TokenError> {
    let token = token.trim();
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::Malformed("longer than any pass"));
    }
    let (signing_input, signature) = token
        .rsplit_once('.')
        .ok_or(TokenError::Malformed("not three parts separated by dots"))?;
    let (header, payload) = signing_input
        .split_once('.')
        .ok_or(TokenError::Malformed("not three parts separated by dots"))?;
    let decode = |part: &str, what: &'static str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| TokenError::Malformed(what))
    };
    let header: Header = serde_json::from_slice(&decode(header, "the header is not base64url")?)
        .map_err(|_| TokenError::Malformed("the header is not a JWS header"))?;
    if header.alg != "EdDSA" {
        return Err(TokenError::WrongKind(format!(
            "the algorithm is '{}', not EdDSA",
            header.alg.chars().take(20).collect::<String>()
        )));
    }
    if header.typ != PASS_TYP {
        return Err(TokenError::WrongKind(format!(
            "the type is '{}', not {PASS_TYP}",
            header.typ.chars().take(40).collect::<String>()
        )));
    }
    let claims: PassClaims =
        serde_json::from_slice(&decode(payload, "the payload is not base64url")?)
            .map_err(|_| TokenError::Malformed("the payload is not a pass"))?;
    let signature: [u8; 64] = decode(signature, "the signature is not base64url")?
        .try_into()
        .map_err(|_| TokenError::Malformed("the signature is not 64 bytes"))?;
    Ok(Unverified {
        header,
        claims,
        signing_input,
        signature: Signature::from_bytes(&signature),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> PassClaims {
        PassClaims {
            iss: "did:web:example:issuers:x".into(),
            sub: "urn:civitas:person:p".into(),
            pty: "senior-transit".into(),
            nam: "李**".into(),
            col: "green".into(),
            src: None,
            iat: 1,
            exp: 2,
            jti: "j".into(),
        }
    }

    #[test]
    fn signs_and_verifies_and_rejects_tampering() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let token = sign(&claims(), "did:web:example:issuers:x#k", &key).unwrap();
        let read = parse(&token).unwrap();
        assert_eq!(read.claims.pty, "senior-transit");
        assert!(read.verify(&key.verifying_key()).is_ok());
        let other = SigningKey::from_bytes(&[8u8; 32]);
        assert_eq!(
            read.verify(&other.verifying_key()),
            Err(TokenError::BadSignature)
        );
        // Change the colour in the payload and keep the signature.
        let parts: Vec<&str> = token.split('.').collect();
        let mut c = claims();
        c.col = "red".into();
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&c).unwrap()),
            parts[2]
        );
        assert_eq!(
            parse(&forged).unwrap().verify(&key.verifying_key()),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        for bad in [
            "",
            ".",
            "..",
            "a.b.c",
            "é.é.é",
            "eyJ9.eyJ9.AA",
            &"x".repeat(5000),
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none","kid":"k","typ":"civitas-pass+jwt"}"#),
            URL_SAFE_NO_PAD.encode(b"{}")
        );
        assert!(matches!(parse(&none), Err(TokenError::WrongKind(_))));
    }
}
