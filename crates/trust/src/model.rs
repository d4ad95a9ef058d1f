//! Audit records as stored and shown, the chain's canonical form, and the footprint.

use kernel::time::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The hash that stands before the first record of every partition.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One stored audit record.
#[derive(Clone, Debug, Serialize, Deserialize, sqlx::FromRow, ToSchema)]
pub struct AuditRecord {
    /// Chain this record belongs to.
    pub partition: String,
    /// Position in the chain, from 1.
    pub seq: i64,
    /// Id.
    pub id: String,
    /// When.
    pub at: Timestamp,
    /// Acting account.
    pub actor_account_id: Option<String>,
    /// Acting person.
    pub actor_person_id: Option<String>,
    /// Organisation acted for.
    pub actor_organisation_id: Option<String>,
    /// Person a proxy acted for.
    pub on_behalf_of_person_id: Option<String>,
    /// Whose data.
    pub subject_person_id: Option<String>,
    /// What was done.
    pub action: String,
    /// To what.
    pub resource: String,
    /// Why.
    pub purpose: String,
    /// Basis kind: consent, agreement, statutory, proxy, own_data, none.
    pub basis_kind: String,
    /// Basis reference (consent id, agreement id, citation, authorisation id).
    pub basis_ref: Option<String>,
    /// success, denied or failure.
    pub outcome: String,
    /// Hash of the previous record in the partition.
    pub prev_hash: String,
    /// SHA-256 of this record's canonical form.
    pub hash: String,
}

/// The canonical form that is hashed: every field but `hash`, in a fixed order, as JSON.
#[derive(Serialize)]
struct Canonical<'a> {
    partition: &'a str,
    seq: i64,
    id: &'a str,
    at: i64,
    actor_account_id: Option<&'a str>,
    actor_person_id: Option<&'a str>,
    actor_organisation_id: Option<&'a str>,
    on_behalf_of_person_id: Option<&'a str>,
    subject_person_id: Option<&'a str>,
    action: &'a str,
    resource: &'a str,
    purpose: &'a str,
    basis_kind: &'a str,
    basis_ref: Option<&'a str>,
    outcome: &'a str,
    prev_hash: &'a str,
}

impl AuditRecord {
    /// The bytes that are hashed.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let c = Canonical {
            partition: &self.partition,
            seq: self.seq,
            id: &self.id,
            at: self.at.0,
            actor_account_id: self.actor_account_id.as_deref(),
            actor_person_id: self.actor_person_id.as_deref(),
            actor_organisation_id: self.actor_organisation_id.as_deref(),
            on_behalf_of_person_id: self.on_behalf_of_person_id.as_deref(),
            subject_person_id: self.subject_person_id.as_deref(),
            action: &self.action,
            resource: &self.resource,
            purpose: &self.purpose,
            basis_kind: &self.basis_kind,
            basis_ref: self.basis_ref.as_deref(),
            outcome: &self.outcome,
            prev_hash: &self.prev_hash,
        };
        // Serialising a struct of strings and integers cannot fail.
        serde_json::to_vec(&c).unwrap_or_default()
    }

    /// SHA-256 of the canonical form, hex.
    pub fn compute_hash(&self) -> String {
        use sha2::{Digest, Sha256};
        hex::encode(Sha256::digest(self.canonical_bytes()))
    }
}

/// Where a chain is broken.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ChainBreak {
    /// The partition.
    pub partition: String,
    /// The sequence number of the first bad record (or where one is missing).
    pub seq: i64,
    /// Its id, when the record exists.
    pub id: Option<String>,
    /// What is wrong.
    pub reason: String,
}

/// The result of checking every chain.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct VerifyReport {
    /// Partitions checked.
    pub partitions: u64,
    /// Records checked.
    pub records: u64,
    /// The first break found, if any.
    pub first_break: Option<ChainBreak>,
}

/// One use of a person's data by someone else, as she sees it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct FootprintEntry {
    /// Audit record id.
    pub id: String,
    /// When.
    pub at: Timestamp,
    /// Who (the account's display name), if a person or staff member.
    pub actor: Option<String>,
    /// For which organisation.
    pub organisation: Option<String>,
    /// Whether the actor was her proxy acting for her.
    pub via_proxy: bool,
    /// What was done, e.g. `person.read`.
    pub action: String,
    /// What data.
    pub resource: String,
    /// Why.
    pub purpose: String,
    /// Basis kind.
    pub basis_kind: String,
    /// Basis reference.
    pub basis_ref: Option<String>,
    /// success, denied or failure.
    pub outcome: String,
}

/// How often a consumer may fetch under a consent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FetchType {
    /// One fetch; the consent is then used up.
    Once,
    /// Repeated fetches within the window, at most `max_fetches_per_day` a day.
    Periodic,
}

impl FetchType {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            FetchType::Once => "once",
            FetchType::Periodic => "periodic",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<FetchType> {
        match s {
            "once" => Some(FetchType::Once),
            "periodic" => Some(FetchType::Periodic),
            _ => None,
        }
    }
}

/// Where a consent stands now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConsentStatus {
    /// In force.
    Active,
    /// Its window has not opened yet.
    NotYetValid,
    /// Its window has closed.
    Expired,
    /// The person withdrew it.
    Revoked,
    /// A once-only consent that has been used.
    Used,
}

/// A consent artefact: who allows whom to receive what, why, for how long, how often.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Consent {
    /// Id.
    pub id: String,
    /// The data principal (the person whose data it is).
    pub person_id: String,
    /// The organisation that receives the data.
    pub consumer_org_id: String,
    /// Its name.
    pub consumer_name: String,
    /// The organisation that provides the data.
    pub provider_org_id: String,
    /// Its name.
    pub provider_name: String,
    /// The exchange resource.
    pub resource_id: String,
    /// Its name.
    pub resource_name: String,
    /// Fields the consumer may receive.
    pub fields: Vec<String>,
    /// Purpose.
    pub purpose: String,
    /// Once or periodic.
    pub fetch_type: FetchType,
    /// Fetches allowed per day (periodic).
    pub max_fetches_per_day: i64,
    /// Window opens.
    pub valid_from: Timestamp,
    /// Window closes.
    pub valid_until: Timestamp,
    /// Whether a proxy granted it for the person.
    pub granted_by_proxy: bool,
    /// Granted.
    pub created_at: Timestamp,
    /// Withdrawn.
    pub revoked_at: Option<Timestamp>,
    /// Fetches made so far.
    pub fetches: i64,
    /// Last fetch.
    pub last_fetched_at: Option<Timestamp>,
    /// Status now.
    pub status: ConsentStatus,
}

/// A consent to store, already checked by the capability that knows the resource.
#[derive(Clone, Debug)]
pub struct ConsentGrant {
    /// The data principal.
    pub person_id: String,
    /// Consumer organisation.
    pub consumer_org_id: String,
    /// Provider organisation.
    pub provider_org_id: String,
    /// Resource id.
    pub resource_id: String,
    /// Resource name (kept for the person's list).
    pub resource_name: String,
    /// Fields.
    pub fields: Vec<String>,
    /// Purpose.
    pub purpose: String,
    /// Once or periodic.
    pub fetch_type: FetchType,
    /// Fetches allowed per day.
    pub max_fetches_per_day: i64,
    /// Window opens.
    pub valid_from: Timestamp,
    /// Window closes.
    pub valid_until: Timestamp,
}

/// Why no consent covers a fetch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsentRefusal {
    /// The person gave none for this consumer and resource.
    None,
    /// The person withdrew it.
    Revoked,
    /// Its window has closed (or not opened).
    Expired,
    /// A once-only consent already used.
    Used,
    /// Today's fetches are used up.
    Exhausted,
    /// It does not cover these fields.
    Fields(Vec<String>),
}
