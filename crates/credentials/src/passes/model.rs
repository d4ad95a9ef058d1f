//! Pass types, passes and scan results.

use kernel::time::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::model::Check;

/// A kind of dynamic pass in the catalogue, e.g. 老年人公交乘车码.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PassType {
    /// Id.
    pub id: String,
    /// Stable code, e.g. `senior-transit`.
    pub code: String,
    /// Name, e.g. 老年人公交乘车码.
    pub name: String,
    /// What it lets the holder do.
    pub description: String,
    /// The organisation that signs the passes.
    pub issuer_org_id: String,
    /// Its name.
    pub issuer_name: String,
    /// Derived from a certificate of this type (its code), if so.
    pub credential_type: Option<String>,
    /// Derived from the rule "aged at least this many whole years", if so.
    pub min_age: Option<i64>,
    /// How long one pass lives, in seconds.
    pub ttl_seconds: i64,
    /// Created.
    pub created_at: Timestamp,
}

/// `POST /api/v1/passes/types`: exactly one of `credential_type` and `min_age`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassType {
    /// Code: lowercase letters, digits and `-` (3–64).
    pub code: String,
    /// Name (≤ 64).
    pub name: String,
    /// Description (≤ 1000).
    pub description: String,
    /// The organisation that signs the passes (a certificate-derived pass: the
    /// certificate type's kind of issuer).
    pub issuer_org_id: String,
    /// Derive the pass from a certificate of this type.
    #[serde(default)]
    pub credential_type: Option<String>,
    /// Derive the pass from the rule "aged at least this many whole years" (0–150).
    #[serde(default)]
    pub min_age: Option<i64>,
    /// Seconds one pass lives (30–3,600; default 180).
    #[serde(default)]
    pub ttl_seconds: Option<i64>,
}

/// The colour of a pass, as health codes have them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Colour {
    /// Valid: let the holder through.
    Green,
    /// Valid, with something to attend to (e.g. the certificate expires soon).
    Yellow,
    /// Not valid now (the certificate is suspended, revoked or expired): refuse.
    Red,
}

impl Colour {
    /// The name carried in a pass.
    pub fn as_str(self) -> &'static str {
        match self {
            Colour::Green => "green",
            Colour::Yellow => "yellow",
            Colour::Red => "red",
        }
    }

    /// Parses a name carried in a pass.
    pub fn parse(s: &str) -> Option<Colour> {
        match s {
            "green" => Some(Colour::Green),
            "yellow" => Some(Colour::Yellow),
            "red" => Some(Colour::Red),
            _ => None,
        }
    }
}

/// What the holder may show: a pass type, whether she can have it and in which colour.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PassOffer {
    /// The pass type.
    pub pass_type: PassType,
    /// Whether a pass can be shown now.
    pub eligible: bool,
    /// The colour it would have.
    pub colour: Option<Colour>,
    /// `eligible`, `expires_soon`, `suspended`, `revoked`, `expired`, `no_certificate`
    /// or `under_age`.
    pub reason_code: String,
    /// The same in plain words.
    pub reason: String,
}

/// `POST /api/v1/me/passes`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PassRequest {
    /// Pass type code.
    #[serde(rename = "type")]
    pub type_code: String,
}

/// A freshly signed pass.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Pass {
    /// The pass's unique id (a second scan of it is refused).
    pub id: String,
    /// Pass type code.
    pub type_code: String,
    /// Pass type name.
    pub type_name: String,
    /// Colour.
    pub colour: Colour,
    /// Why this colour (see [`PassOffer::reason_code`]).
    pub reason_code: String,
    /// The same in plain words.
    pub reason: String,
    /// The holder's name as the checker sees it (masked).
    pub holder: String,
    /// Signed.
    pub issued_at: Timestamp,
    /// Refused after this.
    pub expires_at: Timestamp,
    /// The signed pass (a compact JWS, RFC 7515, `EdDSA`), what the QR code holds.
    pub token: String,
}

/// `POST /api/v1/passes/scan`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    /// The scanned pass (the QR code's text).
    pub token: String,
    /// Where it is scanned, e.g. `12 路公交 沪A-01234` (≤ 100).
    #[serde(default)]
    pub checkpoint: Option<String>,
}

/// A scan's result: accepted only when every check passed.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ScanResult {
    /// Let the holder through.
    pub accepted: bool,
    /// The colour the pass carries (when it could be read).
    pub colour: Option<Colour>,
    /// Pass type code.
    pub type_code: Option<String>,
    /// Pass type name.
    pub type_name: Option<String>,
    /// The holder, masked.
    pub holder: Option<String>,
    /// The pass's issuer.
    pub issuer: Option<String>,
    /// Refused after this.
    pub expires_at: Option<Timestamp>,
    /// `format`, `signature`, `issuer`, `validity`, `replay`, `colour`, `status`.
    pub checks: Vec<Check>,
}
