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
