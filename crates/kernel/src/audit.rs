//! What an audit record says, and the sink that appends it. The trust crate implements
//! the sink as a hash-chained log; every crate that reads someone's data writes through it.

use serde::{Deserialize, Serialize};

use crate::auth::Principal;
use crate::db::Tx;
use crate::error::ApiResult;

/// Separates an audit record's machine-readable `resource` from a description for people
/// that may follow it (the footprint page shows the description).
pub const DESCRIPTION_SEPARATOR: &str = " | ";

/// On which basis personal data was used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", content = "reference", rename_all = "snake_case")]
pub enum Basis {
    /// The person consented (consent id).
    Consent(String),
    /// A data-sharing agreement (agreement id).
    Agreement(String),
    /// A statutory duty (citation, e.g. `platform administration`).
    Statutory(String),
    /// A proxy authorisation (authorisation id).
    Proxy(String),
    /// The person presented it herself (e.g. showed a pass to be scanned; the pass id).
    Presented(String),
    /// The person acting on her own data.
    OwnData,
    /// An act that touches no one's personal data.
    NotApplicable,
}

impl Basis {
    /// The kind as stored, e.g. `consent`.
    pub fn kind(&self) -> &'static str {
        match self {
            Basis::Consent(_) => "consent",
            Basis::Agreement(_) => "agreement",
            Basis::Statutory(_) => "statutory",
            Basis::Proxy(_) => "proxy",
            Basis::Presented(_) => "presented",
            Basis::OwnData => "own_data",
            Basis::NotApplicable => "none",
        }
    }

    /// The basis of a person's act on her own data: her own, or her proxy's authorisation
    /// when a proxy acts for her.
    pub fn own_or_proxy(principal: &Principal) -> Basis {
        match &principal.acting_for {
            Some(a) => Basis::Proxy(a.authorisation_id.clone()),
            None => Basis::OwnData,
        }
    }

    /// The reference, if the kind has one.
    pub fn reference(&self) -> Option<&str> {
        match self {
            Basis::Consent(r)
            | Basis::Agreement(r)
            | Basis::Statutory(r)
            | Basis::Proxy(r)
            | Basis::Presented(r) => Some(r),
            Basis::OwnData | Basis::NotApplicable => None,
        }
    }
}

/// How the act ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Done.
    Success,
    /// Refused (not allowed, no basis).
    Denied,
    /// Failed for another reason.
    Failure,
}

impl Outcome {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Denied => "denied",
            Outcome::Failure => "failure",
        }
    }
}

/// One act to record: who, on whose behalf, whose data, what, why, on which basis, outcome.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Acting account.
    pub actor_account_id: Option<String>,
    /// Acting person (if the account belongs to one).
    pub actor_person_id: Option<String>,
    /// The organisation the actor acted for.
    pub actor_organisation_id: Option<String>,
    /// The person a proxy acted for.
    pub on_behalf_of_person_id: Option<String>,
    /// Whose data was touched.
    pub subject_person_id: Option<String>,
    /// What was done, e.g. `person.read`.
    pub action: String,
    /// What it was done to, e.g. `person:ID` and the fields.
    pub resource: String,
    /// Why.
    pub purpose: String,
    /// On which basis.
    pub basis: Basis,
    /// How it ended.
    pub outcome: Outcome,
}

impl AuditEvent {
    /// An event by `principal` (actor fields filled in, including the proxy relation).
    pub fn by(
        principal: &Principal,
        action: impl Into<String>,
        resource: impl Into<String>,
    ) -> Self {
        AuditEvent {
            actor_account_id: Some(principal.account_id.clone()),
            actor_person_id: principal.person_id.clone(),
            actor_organisation_id: principal.organisation_id().map(str::to_string),
            on_behalf_of_person_id: principal.acting_for.as_ref().map(|a| a.person_id.clone()),
            subject_person_id: None,
            action: action.into(),
            resource: resource.into(),
            purpose: String::new(),
            basis: Basis::NotApplicable,
            outcome: Outcome::Success,
        }
    }

    /// An event by the system itself (CLI, seeding, background jobs).
    pub fn system(action: impl Into<String>, resource: impl Into<String>) -> Self {
        AuditEvent {
            actor_account_id: None,
            actor_person_id: None,
            actor_organisation_id: None,
            on_behalf_of_person_id: None,
            subject_person_id: None,
            action: action.into(),
            resource: resource.into(),
            purpose: String::new(),
            basis: Basis::NotApplicable,
            outcome: Outcome::Success,
        }
    }

    /// Sets whose data this touches.
    pub fn subject(mut self, person_id: impl Into<String>) -> Self {
        self.subject_person_id = Some(person_id.into());
        self
    }

    /// Sets the purpose and basis.
    pub fn because(mut self, purpose: impl Into<String>, basis: Basis) -> Self {
        self.purpose = purpose.into();
        self.basis = basis;
        self
    }

    /// Sets the outcome.
    pub fn outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }
}

/// Appends audit records durably.
#[async_trait::async_trait]
pub trait AuditSink: Send + Sync {
    /// Appends one record and returns its id once it is chained and committed. Used for
    /// reads: the data leaves only after its record is safe.
    async fn record(&self, event: AuditEvent) -> ApiResult<String>;

    /// Queues a record inside the caller's transaction, so that a write and its record
    /// commit (or vanish) together; it is chained shortly after the commit. Call
    /// [`flush`](Self::flush) after committing to have it chained at once.
    async fn record_in(&self, tx: &mut Tx, event: AuditEvent) -> ApiResult<String>;

    /// Chains every queued record now and waits until that is committed.
    async fn flush(&self) -> ApiResult<()>;
}

/// Commits a transaction holding audit records queued with
/// [`AuditSink::record_in`], then has them chained at once. If chaining fails now, the
/// records stay queued (they committed with the write) and the writer chains them later.
pub async fn commit_audited(sink: &dyn AuditSink, tx: Tx) -> ApiResult<()> {
    tx.commit().await?;
    if let Err(error) = sink.flush().await {
        tracing::warn!(%error, "audit records committed but not yet chained; they will be");
    }
    Ok(())
}
