//! Certificate types, issued certificates and verification reports.

use kernel::time::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A kind of certificate in the catalogue (电子证照目录).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CredentialType {
    /// Id.
    pub id: String,
    /// Stable code, e.g. `senior-citizen-card`.
    pub code: String,
    /// Name, e.g. 老年人优待证.
    pub name: String,
    /// What it certifies.
    pub description: String,
    /// Which kind of organisation issues it (`government_department`, `school`, …).
    pub issuer_kind: String,
    /// JSON Schema of the subject's claims.
    #[schema(value_type = Object)]
    pub claims_schema: serde_json::Value,
    /// Days a certificate is valid from issuance (none: until revoked).
    pub validity_days: Option<i64>,
    /// Created.
    pub created_at: Timestamp,
}

/// `POST /api/v1/credentials/types`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCredentialType {
    /// Code: lowercase letters, digits and `-` (3–64).
    pub code: String,
    /// Name (≤ 64).
    pub name: String,
    /// Description (≤ 1000).
    pub description: String,
    /// Kind of issuing organisation.
    pub issuer_kind: String,
    /// JSON Schema (draft 2020-12) of the claims: an object schema.
    #[schema(value_type = Object)]
    pub claims_schema: serde_json::Value,
    /// Days of validity from issuance (1–36,500), or none.
    #[serde(default)]
    pub validity_days: Option<i64>,
}

/// Where an issued certificate stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CredentialStatus {
    /// Valid.
    Active,
    /// Temporarily not valid (may be reinstated).
    Suspended,
    /// Permanently withdrawn.
    Revoked,
}

impl CredentialStatus {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialStatus::Active => "active",
            CredentialStatus::Suspended => "suspended",
            CredentialStatus::Revoked => "revoked",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<CredentialStatus> {
        match s {
            "active" => Some(CredentialStatus::Active),
            "suspended" => Some(CredentialStatus::Suspended),
            "revoked" => Some(CredentialStatus::Revoked),
            _ => None,
        }
    }
}

/// `POST /api/v1/credentials`: a clerk issues a certificate to a person.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    /// Certificate type code.
    #[serde(rename = "type")]
    pub type_code: String,
    /// The holder: a person id.
    pub person_id: String,
    /// The claims, checked against the type's schema.
    #[schema(value_type = Object)]
    pub claims: serde_json::Value,
    /// Issuing organisation (default: the clerk's own).
    #[serde(default)]
    pub issuer_org_id: Option<String>,
}

/// An issued certificate as its issuer or holder sees it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct IssuedCredential {
    /// Id (the credential's `id` is `urn:uuid:<id>`).
    pub id: String,
    /// Type code.
    pub type_code: String,
    /// Type name.
    pub type_name: String,
    /// Issuer.
    pub issuer_org_id: String,
    /// Issuer's name.
    pub issuer_name: String,
    /// Holder.
    pub person_id: String,
    /// Status.
    pub status: CredentialStatus,
    /// Why suspended or revoked.
    pub status_reason: Option<String>,
    /// Valid from.
    pub valid_from: Timestamp,
    /// Valid until.
    pub valid_until: Option<Timestamp>,
    /// Issued.
    pub created_at: Timestamp,
    /// The signed W3C Verifiable Credential.
    #[schema(value_type = Object)]
    pub document: serde_json::Value,
}

/// `POST /api/v1/credentials/{id}/status`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// `suspend`, `reinstate` or `revoke`.
    pub action: String,
    /// Why (required to suspend or revoke, ≤ 500).
    #[serde(default)]
    pub reason: Option<String>,
}

/// The outcome of one verification check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    /// Passed.
    Passed,
    /// Failed: the credential is not to be relied on.
    Failed,
    /// Not a failure, but worth knowing (e.g. an issuer trusted on the caller's say-so).
    Warning,
    /// Could not be made (e.g. the status of another platform's credential).
    Skipped,
}

/// One check of a verification.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Check {
    /// `format`, `signature`, `issuer`, `validity`, `status` or `schema`.
    pub check: String,
    /// Outcome.
    pub outcome: CheckOutcome,
    /// What was found, in plain words (the reason when failed).
    pub detail: String,
}

/// `POST /api/v1/credentials/verify`: every check and its outcome.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct VerificationReport {
    /// True only when no check failed.
    pub verified: bool,
    /// The checks, in order.
    pub checks: Vec<Check>,
    /// The issuer named in the credential.
    pub issuer: Option<String>,
    /// The verification method that signed it.
    pub verification_method: Option<String>,
}

impl VerificationReport {
    /// Whether any check failed or warned (the CLI's strict reading).
    pub fn all_passed(&self) -> bool {
        self.checks
            .iter()
            .all(|c| c.outcome == CheckOutcome::Passed)
    }
}

/// `POST /api/v1/me/credentials/{id}/shares`: the holder lets an organisation read one of
/// her certificates (a consent artefact).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewShare {
    /// The organisation that may read it.
    pub organisation_id: String,
    /// Why (≤ 500), e.g. 办理公交优待卡.
    pub purpose: String,
    /// Until when (default 30 days; at most one year).
    #[serde(default)]
    pub valid_until: Option<Timestamp>,
}

/// A certificate an organisation reads under the holder's consent, with its verification.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SharedCredential {
    /// The consent it is read under.
    pub consent_id: String,
    /// The purpose the holder consented to.
    pub purpose: String,
    /// The signed certificate.
    #[schema(value_type = Object)]
    pub document: serde_json::Value,
    /// Its verification, made now.
    pub verification: VerificationReport,
}
