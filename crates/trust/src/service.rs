//! The audit log: appends go through one group-commit writer per process, which takes
//! every pending record, chains each onto its partition's head and commits them in one
//! transaction, so many concurrent appends cost one commit. Records written inside a
//! domain transaction wait in `audit_pending` and are chained by the same writer (at once
//! on `flush`, else within a second). Verification walks every chain.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use kernel::api::{Page, PageQuery};
use kernel::audit::{AuditEvent, AuditSink};
use kernel::auth::Principal;
use kernel::db::{Db, Tx};
use kernel::ids::new_id;
use kernel::time::Timestamp;
use kernel::{ApiError, ApiResult, AppState};
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

use crate::model::{
    AuditRecord, ChainBreak, Consent, ConsentGrant, ConsentRefusal, ConsentStatus, FetchType,
    FootprintEntry, GENESIS_HASH, VerifyReport,
};
use crate::store::{self, ConsentRow};

/// Most records committed in one transaction.
const MAX_BATCH: usize = 1024;
/// Shards for acts by accounts outside any organisation (citizens, platform admins).
const ACCOUNT_SHARDS: u8 = 16;

/// A job for the writer: append a record, or (with `None`) chain the queued ones.
struct Pending {
    record: Option<AuditRecord>,
    done: oneshot::Sender<Result<(), String>>,
}

/// How often the writer looks for queued records nobody flushed (e.g. after a crash).
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// The hash-chained audit log (the kernel's [`AuditSink`]).
pub struct AuditLog {
    queue: mpsc::Sender<Pending>,
}

/// The chain a record joins: its organisation's, else a shard of accounts, else `system`.
pub fn partition_for(event: &AuditEvent) -> String {
    if let Some(org) = &event.actor_organisation_id {
        return format!("org:{org}");
    }
    match &event.actor_account_id {
        Some(account) => {
            let shard = Sha256::digest(account.as_bytes())[0] % ACCOUNT_SHARDS;
            format!("accounts:{shard:02}")
        }
        None => "system".to_string(),
    }
}

impl AuditLog {
    /// Starts the writer task on `db` and returns the log.
    pub fn start(db: Db) -> Arc<AuditLog> {
        let (queue, rx) = mpsc::channel(16 * 1024);
        tokio::spawn(writer(db, rx));
        Arc::new(AuditLog { queue })
    }

    /// Appends one record to partition `partition` (benchmarks and tests choose their own).
    pub async fn append_to(&self, partition: String, event: AuditEvent) -> ApiResult<String> {
        let record = new_record(partition, event);
        let id = record.id.clone();
        self.submit(Some(record)).await?;
        Ok(id)
    }

    async fn submit(&self, record: Option<AuditRecord>) -> ApiResult<()> {
        let (done, wait) = oneshot::channel();
        self.queue
            .send(Pending { record, done })
            .await
            .map_err(|_| ApiError::Unavailable("the audit log is shutting down".into()))?;
        match wait.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(ApiError::Unexpected(anyhow::anyhow!(
                "audit append failed: {e}"
            ))),
            Err(_) => Err(ApiError::Unavailable(
                "the audit log is shutting down".into(),
            )),
        }
    }
}

/// An unchained record for `event` in `partition`.
fn new_record(partition: String, event: AuditEvent) -> AuditRecord {
    AuditRecord {
        partition,
        seq: 0,
        id: new_id(),
        at: Timestamp::now(),
        actor_account_id: event.actor_account_id,
        actor_person_id: event.actor_person_id,
        actor_organisation_id: event.actor_organisation_id,
        on_behalf_of_person_id: event.on_behalf_of_person_id,
        subject_person_id: event.subject_person_id,
        action: event.action,
        resource: event.resource,
        purpose: event.purpose,
        basis_kind: event.basis.kind().to_string(),
        basis_ref: event.basis.reference().map(str::to_string),
        outcome: event.outcome.as_str().to_string(),
        prev_hash: String::new(),
        hash: String::new(),
    }
}

#[async_trait::async_trait]
impl AuditSink for AuditLog {
    async fn record(&self, event: AuditEvent) -> ApiResult<String> {
        let partition = partition_for(&event);
        self.append_to(partition, event).await
    }

    async fn record_in(&self, tx: &mut Tx, event: AuditEvent) -> ApiResult<String> {
        let record = new_record(partition_for(&event), event);
        store::insert_pending(tx, &record).await?;
        Ok(record.id)
    }

    async fn flush(&self) -> ApiResult<()> {
        self.submit(None).await
    }
}

async fn writer(db: Db, mut rx: mpsc::Receiver<Pending>) {
    let mut batch: Vec<Pending> = Vec::with_capacity(MAX_BATCH);
    let mut sweep = tokio::time::interval(SWEEP_EVERY);
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        let drain = tokio::select! {
            received = rx.recv_many(&mut batch, MAX_BATCH) => {
                if received == 0 {
                    break;
                }
                batch.iter().any(|p| p.record.is_none())
            }
            _ = sweep.tick() => store::any_pending(&db).await.unwrap_or(true),
        };
        if batch.is_empty() && !drain {
            continue;
        }
        let mut result = Err(String::new());
        for attempt in 0..3 {
            result = write_batch(&db, &mut batch, drain)
                .await
                .map_err(|e| format!("{e:#}"));
            if result.is_ok() {
                break;
            }
            tracing::warn!(attempt, error = ?result, "audit batch failed; retrying");
        }
        for pending in batch.drain(..) {
            let _ = pending.done.send(result.clone());
        }
    }
}

/// Chains and commits a batch in one transaction.
async fn write_batch(db: &Db, batch: &mut [Pending], drain: bool) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    // Queued records first (they are older), then this batch's appends.
    let mut queued = if drain {
        store::take_pending(&mut tx, MAX_BATCH as i64).await?
    } else {
        Vec::new()
    };
    let mut partitions: Vec<String> = queued
        .iter()
        .map(|r| r.partition.clone())
        .chain(
            batch
                .iter()
                .filter_map(|p| p.record.as_ref().map(|r| r.partition.clone())),
        )
        .collect();
    partitions.sort();
    partitions.dedup();
    let mut heads: HashMap<String, (i64, String)> = partitions
        .iter()
        .map(|p| (p.clone(), (0, GENESIS_HASH.to_string())))
        .collect();
    for chunk in partitions.chunks(500) {
        for (partition, seq, hash) in store::heads_for(&mut tx, chunk).await? {
            heads.insert(partition, (seq, hash));
        }
    }
    let appends = batch.iter_mut().filter_map(|p| p.record.as_mut());
    for record in queued.iter_mut().chain(appends) {
        let (seq, prev) = heads
            .get_mut(&record.partition)
            .ok_or_else(|| anyhow::anyhow!("partition head missing"))?;
        *seq += 1;
        record.seq = *seq;
        record.prev_hash = prev.clone();
        record.hash = record.compute_hash();
        *prev = record.hash.clone();
    }
    let records: Vec<&AuditRecord> = queued
        .iter()
        .chain(batch.iter().filter_map(|p| p.record.as_ref()))
        .collect();
    if records.is_empty() {
        return Ok(tx.commit().await?);
    }
    store::insert_records(&mut tx, &records).await?;
    let heads: Vec<(String, i64, String)> = heads
        .into_iter()
        .map(|(p, (seq, hash))| (p, seq, hash))
        .collect();
    for chunk in heads.chunks(500) {
        store::set_heads(&mut tx, chunk).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Walks every chain and reports the first record that does not hold: altered content,
/// a broken link, a missing (deleted) record, or a head that does not match its chain.
pub async fn verify(db: &Db, mut progress: impl FnMut(u64)) -> anyhow::Result<VerifyReport> {
    // Partitions first, heads second: a head is committed with its records, so every
    // partition seen here has its head by the time heads are read. Each chain is then
    // walked up to its head only; records appended meanwhile are left for the next run.
    let mut partitions = store::record_partitions(db).await?;
    let heads = store::heads(db).await?;
    for (p, _, _) in &heads {
        if !partitions.contains(p) {
            partitions.push(p.clone());
        }
    }
    partitions.sort();
    let heads: HashMap<String, (i64, String)> =
        heads.into_iter().map(|(p, s, h)| (p, (s, h))).collect();
    let mut report = VerifyReport {
        partitions: partitions.len() as u64,
        records: 0,
        first_break: None,
    };
    for partition in partitions {
        let mut expected_seq = 1;
        let mut prev = GENESIS_HASH.to_string();
        let mut last_id = None;
        let broken = |seq: i64, id: Option<String>, reason: String| ChainBreak {
            partition: partition.clone(),
            seq,
            id,
            reason,
        };
        let head_seq = heads.get(&partition).map(|h| h.0).unwrap_or(i64::MAX);
        'walk: loop {
            let page = store::chain_page(db, &partition, expected_seq - 1, 5_000).await?;
            if page.is_empty() {
                break;
            }
            for record in page {
                if record.seq > head_seq {
                    break 'walk;
                }
                report.records += 1;
                progress(report.records);
                if record.seq != expected_seq {
                    report.first_break = Some(broken(
                        expected_seq,
                        None,
                        format!(
                            "record {expected_seq} is missing (next present is {}): deleted",
                            record.seq
                        ),
                    ));
                    break 'walk;
                }
                if record.prev_hash != prev {
                    report.first_break = Some(broken(
                        record.seq,
                        Some(record.id.clone()),
                        "its prev_hash does not match the previous record: reordered or altered"
                            .into(),
                    ));
                    break 'walk;
                }
                if record.compute_hash() != record.hash {
                    report.first_break = Some(broken(
                        record.seq,
                        Some(record.id.clone()),
                        "its content does not match its hash: altered".into(),
                    ));
                    break 'walk;
                }
                prev = record.hash.clone();
                last_id = Some(record.id.clone());
                expected_seq += 1;
            }
        }
        if report.first_break.is_none() {
            let last_seq = expected_seq - 1;
            match heads.get(&partition) {
                None => {
                    report.first_break = Some(broken(
                        1,
                        None,
                        "the chain has no head record: the head was deleted".into(),
                    ));
                }
                Some((head_seq, head_hash)) if *head_seq != last_seq || *head_hash != prev => {
                    report.first_break = Some(broken(
                        last_seq + 1,
                        None,
                        format!(
                            "the head says the chain ends at record {head_seq} but it ends at {last_seq}{}: records deleted from the end or the head altered",
                            last_id.map(|i| format!(" ({i})")).unwrap_or_default()
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
        if report.first_break.is_some() {
            break;
        }
    }
    Ok(report)
}

/// The data footprint of the principal's person (or of the person she acts for with the
/// `footprint` scope): every use of her data by someone else.
pub async fn footprint(
    state: &AppState,
    principal: &Principal,
    page: &PageQuery,
) -> ApiResult<Page<FootprintEntry>> {
    principal.require_scope("footprint")?;
    let person = principal
        .subject_person_id()
        .ok_or_else(|| ApiError::Forbidden("this account has no personal record".into()))?
        .to_string();
    let rows = store::footprint(&state.db, &person, page.cursor()?, page.limit()).await?;
    if let Some(acting) = &principal.acting_for {
        // A proxy reading her footprint is itself a use of her data.
        state
            .audit
            .record(
                AuditEvent::by(principal, "footprint.read", format!("footprint:{person}"))
                    .subject(&person)
                    .because(
                        "act for the person (代办)",
                        kernel::audit::Basis::Proxy(acting.authorisation_id.clone()),
                    ),
            )
            .await?;
    }
    let accounts: Vec<String> = unique(rows.iter().filter_map(|r| r.actor_account_id.clone()));
    let orgs: Vec<String> = unique(rows.iter().filter_map(|r| r.actor_organisation_id.clone()));
    let account_names = identity::service::account_names(state, &accounts).await?;
    let org_names = identity::service::organisation_names(state, &orgs).await?;
    let entries = rows
        .into_iter()
        .map(|r| FootprintEntry {
            actor: r
                .actor_account_id
                .as_ref()
                .and_then(|a| account_names.get(a).cloned()),
            organisation: r
                .actor_organisation_id
                .as_ref()
                .and_then(|o| org_names.get(o).cloned()),
            via_proxy: r.basis_kind == "proxy",
            id: r.id,
            at: r.at,
            action: r.action,
            resource: r.resource,
            purpose: r.purpose,
            basis_kind: r.basis_kind,
            basis_ref: r.basis_ref,
            outcome: r.outcome,
        })
        .collect();
    Ok(Page::from_rows(
        entries,
        page.limit(),
        |e: &FootprintEntry| e.id.clone(),
    ))
}

/// Recent audit records: all for platform admins, the organisation's own for its admin.
pub async fn recent(
    state: &AppState,
    principal: &Principal,
    organisation: Option<&str>,
    page: &PageQuery,
) -> ApiResult<Page<AuditRecord>> {
    match organisation {
        Some(org) if !kernel::ids::is_uuid(org) => {
            return Err(ApiError::invalid(
                "organisation_id",
                "organisation_id is not a valid id",
            ));
        }
        Some(org) => principal.require_org_admin(org)?,
        None => principal.require_platform_admin()?,
    }
    let rows = store::recent(&state.db, organisation, page.cursor()?, page.limit()).await?;
    Ok(Page::from_rows(rows, page.limit(), |r: &AuditRecord| {
        r.id.clone()
    }))
}

fn unique(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = items.collect();
    v.sort();
    v.dedup();
    v
}

// ---- consents ----

fn consent_status(row: &ConsentRow, now: Timestamp) -> ConsentStatus {
    if row.revoked_at.is_some() {
        ConsentStatus::Revoked
    } else if row.fetch_type == FetchType::Once.as_str() && row.fetches > 0 {
        ConsentStatus::Used
    } else if now < row.valid_from {
        ConsentStatus::NotYetValid
    } else if now >= row.valid_until {
        ConsentStatus::Expired
    } else {
        ConsentStatus::Active
    }
}

fn consent_view(row: ConsentRow) -> Consent {
    let status = consent_status(&row, Timestamp::now());
    Consent {
        fields: serde_json::from_str(&row.fields).unwrap_or_default(),
        fetch_type: FetchType::parse(&row.fetch_type).unwrap_or(FetchType::Once),
        granted_by_proxy: row.proxy_authorisation_id.is_some(),
        status,
        id: row.id,
        person_id: row.person_id,
        consumer_org_id: row.consumer_org_id,
        consumer_name: row.consumer_name,
        provider_org_id: row.provider_org_id,
        provider_name: row.provider_name,
        resource_id: row.resource_id,
        resource_name: row.resource_name,
        purpose: row.purpose,
        max_fetches_per_day: row.max_fetches_per_day,
        valid_from: row.valid_from,
        valid_until: row.valid_until,
        created_at: row.created_at,
        revoked_at: row.revoked_at,
        fetches: row.fetches,
        last_fetched_at: row.last_fetched_at,
    }
}

/// The person whose consents `principal` manages: her own, or (as a proxy with the
/// `services` scope) the person she acts for.
fn consenting_person(principal: &Principal) -> ApiResult<String> {
    principal.require_scope("services")?;
    principal
        .subject_person_id()
        .map(str::to_string)
        .ok_or_else(|| ApiError::Forbidden("only a resident gives or withdraws consent".into()))
}

/// Records a consent the person (or her proxy) gives; the caller has checked the
/// resource, the organisations and the fields.
pub async fn grant_consent(
    state: &AppState,
    principal: &Principal,
    grant: ConsentGrant,
) -> ApiResult<Consent> {
    let person = consenting_person(principal)?;
    if person != grant.person_id {
        return Err(ApiError::Forbidden(
            "a consent is given by the person whose data it is".into(),
        ));
    }
    let row = ConsentRow {
        id: new_id(),
        person_id: grant.person_id,
        consumer_org_id: grant.consumer_org_id,
        consumer_name: String::new(),
        provider_org_id: grant.provider_org_id,
        provider_name: String::new(),
        resource_id: grant.resource_id,
        resource_name: grant.resource_name,
        fields: serde_json::to_string(&grant.fields).map_err(|e| ApiError::Unexpected(e.into()))?,
        purpose: grant.purpose,
        fetch_type: grant.fetch_type.as_str().into(),
        max_fetches_per_day: grant.max_fetches_per_day,
        valid_from: grant.valid_from,
        valid_until: grant.valid_until,
        granted_by_account_id: principal.account_id.clone(),
        proxy_authorisation_id: principal
            .acting_for
            .as_ref()
            .map(|a| a.authorisation_id.clone()),
        created_at: Timestamp::now(),
        revoked_at: None,
        fetches: 0,
        fetch_day: 0,
        fetches_on_day: 0,
        last_fetched_at: None,
    };
    let mut tx = state.db.begin().await?;
    store::insert_consent(&mut tx, &row).await?;
    let event = AuditEvent::by(
        principal,
        "consent.grant",
        format!(
            "consent:{} resource:{} consumer:{}",
            row.id, row.resource_id, row.consumer_org_id
        ),
    )
    .subject(&row.person_id)
    .because(
        row.purpose.clone(),
        kernel::audit::Basis::own_or_proxy(principal),
    );
    state.audit.record_in(&mut tx, event).await?;
    kernel::audit::commit_audited(state.audit.as_ref(), tx).await?;
    let stored = store::get_consent(&state.db, &row.id)
        .await?
        .ok_or_else(|| ApiError::Unexpected(anyhow::anyhow!("consent vanished after insert")))?;
    Ok(consent_view(stored))
}

/// The consents of the principal's person (or of the person she acts for).
pub async fn my_consents(state: &AppState, principal: &Principal) -> ApiResult<Vec<Consent>> {
    let person = consenting_person(principal)?;
    Ok(store::consents_of(&state.db, &person)
        .await?
        .into_iter()
        .map(consent_view)
        .collect())
}

/// Withdraws one of the person's consents; fetches under it stop at once.
pub async fn revoke_consent(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> ApiResult<Consent> {
    let person = consenting_person(principal)?;
    let not_found = || ApiError::NotFound("no such consent".into());
    if !kernel::ids::is_uuid(id) {
        return Err(not_found());
    }
    let row = store::get_consent(&state.db, id)
        .await?
        .filter(|r| r.person_id == person)
        .ok_or_else(not_found)?;
    let mut tx = state.db.begin().await?;
    if !store::revoke_consent(&mut tx, id, &person).await? {
        return Err(ApiError::Conflict(
            "this consent was already withdrawn".into(),
        ));
    }
    let event = AuditEvent::by(principal, "consent.revoke", format!("consent:{id}"))
        .subject(&person)
        .because(
            row.purpose.clone(),
            kernel::audit::Basis::own_or_proxy(principal),
        );
    state.audit.record_in(&mut tx, event).await?;
    kernel::audit::commit_audited(state.audit.as_ref(), tx).await?;
    let stored = store::get_consent(&state.db, id)
        .await?
        .ok_or_else(not_found)?;
    Ok(consent_view(stored))
}

/// Finds the person's consent that covers `fields` of `resource_id` for the consumer now
/// and counts this fetch against it; returns its id, or why none does.
pub async fn consent_for_fetch(
    db: &Db,
    person_id: &str,
    consumer_org_id: &str,
    resource_id: &str,
    fields: &[String],
) -> ApiResult<Result<String, ConsentRefusal>> {
    let now = Timestamp::now();
    let day = now.0.div_euclid(86_400_000_000);
    let rows = store::consents_for(db, person_id, consumer_org_id, resource_id).await?;
    let mut refusal = ConsentRefusal::None;
    // Prefer the most telling reason when nothing fits: fields, then exhausted, used,
    // expired, revoked.
    let rank = |r: &ConsentRefusal| match r {
        ConsentRefusal::None => 0,
        ConsentRefusal::Revoked => 1,
        ConsentRefusal::Expired => 2,
        ConsentRefusal::Used => 3,
        ConsentRefusal::Exhausted => 4,
        ConsentRefusal::Fields(_) => 5,
    };
    for row in rows {
        let covered: Vec<String> = serde_json::from_str(&row.fields).unwrap_or_default();
        let reason = match consent_status(&row, now) {
            ConsentStatus::Revoked => Some(ConsentRefusal::Revoked),
            ConsentStatus::Used => Some(ConsentRefusal::Used),
            ConsentStatus::Expired | ConsentStatus::NotYetValid => Some(ConsentRefusal::Expired),
            ConsentStatus::Active => {
                let missing: Vec<String> = fields
                    .iter()
                    .filter(|f| !covered.contains(f))
                    .cloned()
                    .collect();
                if !missing.is_empty() {
                    Some(ConsentRefusal::Fields(missing))
                } else if store::count_fetch(db, &row.id, day, now).await? {
                    return Ok(Ok(row.id));
                } else {
                    Some(ConsentRefusal::Exhausted)
                }
            }
        };
        if let Some(reason) = reason
            && rank(&reason) > rank(&refusal)
        {
            refusal = reason;
        }
    }
    Ok(Err(refusal))
}

/// Consents given to an organisation for resources whose id starts with `prefix` (the
/// caller has checked that the actor works there).
pub async fn consents_to_organisation(
    state: &AppState,
    organisation_id: &str,
    prefix: &str,
) -> ApiResult<Vec<Consent>> {
    Ok(store::consents_to(&state.db, organisation_id, prefix)
        .await?
        .into_iter()
        .map(consent_view)
        .collect())
}

/// One consent by id, whoever it concerns (the caller decides who may see it).
pub async fn consent_by_id(state: &AppState, id: &str) -> ApiResult<Option<Consent>> {
    if !kernel::ids::is_uuid(id) {
        return Ok(None);
    }
    Ok(store::get_consent(&state.db, id).await?.map(consent_view))
}
