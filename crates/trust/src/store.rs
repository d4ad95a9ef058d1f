//! SQL for the audit chain.

use kernel::db::{Db, Tx, push_list};
use kernel::time::Timestamp;
use kernel::{on_pool, on_tx};

use crate::model::AuditRecord;

const COLUMNS: &str = "partition, seq, id, at, actor_account_id, actor_person_id, \
     actor_organisation_id, on_behalf_of_person_id, subject_person_id, action, resource, \
     purpose, basis_kind, basis_ref, outcome, prev_hash, hash";

/// The heads of several partitions' chains: (partition, last seq, last hash), in one
/// query, locked for this transaction on PostgreSQL (in partition order, so writers on
/// other nodes wait rather than deadlock).
pub async fn heads_for(
    tx: &mut Tx,
    partitions: &[String],
) -> Result<Vec<(String, i64, String)>, sqlx::Error> {
    let lock = matches!(tx, Tx::Postgres(_));
    on_tx!(tx, |c| {
        let mut builder = sqlx::QueryBuilder::new(
            "SELECT partition, last_seq, last_hash FROM audit_heads WHERE partition IN ",
        );
        push_list(&mut builder, partitions);
        builder.push(" ORDER BY partition");
        if lock {
            builder.push(" FOR UPDATE");
        }
        builder.build_query_as().fetch_all(c).await
    })
}

/// Moves the heads of several partitions in one statement.
pub async fn set_heads(tx: &mut Tx, heads: &[(String, i64, String)]) -> Result<(), sqlx::Error> {
    let now = Timestamp::now();
    on_tx!(tx, |c| {
        let mut builder = sqlx::QueryBuilder::new(
            "INSERT INTO audit_heads (partition, last_seq, last_hash, updated_at) ",
        );
        builder.push_values(heads, |mut b, (partition, seq, hash)| {
            b.push_bind(partition)
                .push_bind(*seq)
                .push_bind(hash)
                .push_bind(now);
        });
        builder.push(
            " ON CONFLICT (partition) DO UPDATE SET last_seq = excluded.last_seq, \
             last_hash = excluded.last_hash, updated_at = excluded.updated_at",
        );
        builder.build().execute(c).await.map(|_| ())
    })
}

/// Inserts records in one multi-row statement (chunks stay under parameter limits).
pub async fn insert_records(tx: &mut Tx, records: &[&AuditRecord]) -> Result<(), sqlx::Error> {
    for chunk in records.chunks(200) {
        on_tx!(tx, |c| {
            let mut builder =
                sqlx::QueryBuilder::new(format!("INSERT INTO audit_records ({COLUMNS}) "));
            builder.push_values(chunk, |mut b, r| {
                b.push_bind(&r.partition)
                    .push_bind(r.seq)
                    .push_bind(&r.id)
                    .push_bind(r.at)
                    .push_bind(&r.actor_account_id)
                    .push_bind(&r.actor_person_id)
                    .push_bind(&r.actor_organisation_id)
                    .push_bind(&r.on_behalf_of_person_id)
                    .push_bind(&r.subject_person_id)
                    .push_bind(&r.action)
                    .push_bind(&r.resource)
                    .push_bind(&r.purpose)
                    .push_bind(&r.basis_kind)
                    .push_bind(&r.basis_ref)
                    .push_bind(&r.outcome)
                    .push_bind(&r.prev_hash)
                    .push_bind(&r.hash);
            });
            builder.build().execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}

const PENDING_COLUMNS: &str = "id, partition, at, actor_account_id, actor_person_id, \
     actor_organisation_id, on_behalf_of_person_id, subject_person_id, action, resource, \
     purpose, basis_kind, basis_ref, outcome";

/// Queues a record inside the caller's transaction.
pub async fn insert_pending(tx: &mut Tx, r: &AuditRecord) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO audit_pending ({PENDING_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    );
    on_tx!(tx, |c| sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(&r.id)
        .bind(&r.partition)
        .bind(r.at)
        .bind(&r.actor_account_id)
        .bind(&r.actor_person_id)
        .bind(&r.actor_organisation_id)
        .bind(&r.on_behalf_of_person_id)
        .bind(&r.subject_person_id)
        .bind(&r.action)
        .bind(&r.resource)
        .bind(&r.purpose)
        .bind(&r.basis_kind)
        .bind(&r.basis_ref)
        .bind(&r.outcome)
        .execute(c)
        .await
        .map(|_| ()))
}

/// Whether any record waits to be chained.
pub async fn any_pending(db: &Db) -> Result<bool, sqlx::Error> {
    let found: Option<String> = on_pool!(db.read(), |c| sqlx::query_scalar(
        "SELECT id FROM audit_pending LIMIT 1"
    )
    .fetch_optional(c)
    .await)?;
    Ok(found.is_some())
}

/// Takes up to `limit` queued records, oldest first, and removes them from the queue in
/// the same transaction (rows another node is taking are skipped on PostgreSQL).
pub async fn take_pending(tx: &mut Tx, limit: i64) -> Result<Vec<AuditRecord>, sqlx::Error> {
    let lock = if matches!(tx, Tx::Postgres(_)) {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let sql = format!(
        "SELECT {PENDING_COLUMNS}, CAST(0 AS BIGINT) AS seq, '' AS prev_hash, '' AS hash
         FROM audit_pending ORDER BY id LIMIT $1{lock}"
    );
    let rows: Vec<AuditRecord> = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(limit)
        .fetch_all(c)
        .await)?;
    if !rows.is_empty() {
        on_tx!(tx, |c| {
            let mut builder = sqlx::QueryBuilder::new("DELETE FROM audit_pending WHERE id IN ");
            push_list(&mut builder, rows.iter().map(|r| &r.id));
            builder.build().execute(c).await.map(|_| ())
        })?;
    }
    Ok(rows)
}

/// All partitions with their heads.
pub async fn heads(db: &Db) -> Result<Vec<(String, i64, String)>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT partition, last_seq, last_hash FROM audit_heads ORDER BY partition"
    )
    .fetch_all(c)
    .await)
}

/// Partitions that have records (to find records whose head was removed).
pub async fn record_partitions(db: &Db) -> Result<Vec<String>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_scalar(
        "SELECT DISTINCT partition FROM audit_records ORDER BY partition"
    )
    .fetch_all(c)
    .await)
}

/// Up to `limit` records of a partition after `after_seq`, in chain order.
pub async fn chain_page(
    db: &Db,
    partition: &str,
    after_seq: i64,
    limit: i64,
) -> Result<Vec<AuditRecord>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_records WHERE partition = $1 AND seq > $2 ORDER BY seq LIMIT $3"
    );
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(partition)
    .bind(after_seq)
    .bind(limit)
    .fetch_all(c)
    .await)
}

/// Uses of `person`'s data by anyone but herself, newest first.
pub async fn footprint(
    db: &Db,
    person: &str,
    before_id: Option<&str>,
    limit: i64,
) -> Result<Vec<AuditRecord>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_records
         WHERE subject_person_id = $1
           AND (actor_person_id IS NULL OR actor_person_id <> $1)
           AND ($2 IS NULL OR id < $2)
         ORDER BY id DESC LIMIT $3"
    );
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(person)
    .bind(before_id)
    .bind(limit + 1)
    .fetch_all(c)
    .await)
}

/// Newest records across partitions (or of one organisation), newest first.
pub async fn recent(
    db: &Db,
    organisation: Option<&str>,
    before_id: Option<&str>,
    limit: i64,
) -> Result<Vec<AuditRecord>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM audit_records
         WHERE ($1 IS NULL OR actor_organisation_id = $1) AND ($2 IS NULL OR id < $2)
         ORDER BY id DESC LIMIT $3"
    );
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(organisation)
    .bind(before_id)
    .bind(limit + 1)
    .fetch_all(c)
    .await)
}

// ---- consents ----

/// A consent row with the organisations' names.
#[derive(sqlx::FromRow)]
pub struct ConsentRow {
    pub id: String,
    pub person_id: String,
    pub consumer_org_id: String,
    pub consumer_name: String,
    pub provider_org_id: String,
    pub provider_name: String,
    pub resource_id: String,
    pub resource_name: String,
    pub fields: String,
    pub purpose: String,
    pub fetch_type: String,
    pub max_fetches_per_day: i64,
    pub valid_from: Timestamp,
    pub valid_until: Timestamp,
    pub granted_by_account_id: String,
    pub proxy_authorisation_id: Option<String>,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub fetches: i64,
    pub fetch_day: i64,
    pub fetches_on_day: i64,
    pub last_fetched_at: Option<Timestamp>,
}

const CONSENT_SELECT: &str = "SELECT c.id, c.person_id, c.consumer_org_id, \
     co.name AS consumer_name, c.provider_org_id, po.name AS provider_name, c.resource_id, \
     c.resource_name, c.fields, c.purpose, c.fetch_type, c.max_fetches_per_day, c.valid_from, \
     c.valid_until, c.granted_by_account_id, c.proxy_authorisation_id, c.created_at, \
     c.revoked_at, c.fetches, c.fetch_day, c.fetches_on_day, c.last_fetched_at \
     FROM consents c JOIN organisations co ON co.id = c.consumer_org_id \
     JOIN organisations po ON po.id = c.provider_org_id";

pub async fn insert_consent(tx: &mut Tx, r: &ConsentRow) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO consents (id, person_id, consumer_org_id, provider_org_id, resource_id,
             resource_name, fields, purpose, fetch_type, max_fetches_per_day, valid_from,
             valid_until, granted_by_account_id, proxy_authorisation_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    )
    .bind(&r.id)
    .bind(&r.person_id)
    .bind(&r.consumer_org_id)
    .bind(&r.provider_org_id)
    .bind(&r.resource_id)
    .bind(&r.resource_name)
    .bind(&r.fields)
    .bind(&r.purpose)
    .bind(&r.fetch_type)
    .bind(r.max_fetches_per_day)
    .bind(r.valid_from)
    .bind(r.valid_until)
    .bind(&r.granted_by_account_id)
    .bind(&r.proxy_authorisation_id)
    .bind(r.created_at)
    .execute(c)
    .await
    .map(|_| ()))
}

pub async fn get_consent(db: &Db, id: &str) -> Result<Option<ConsentRow>, sqlx::Error> {
    db.fetch_by(&format!("{CONSENT_SELECT} WHERE c.id = $1"), id)
        .await
}

/// A person's consents, newest first.
pub async fn consents_of(db: &Db, person_id: &str) -> Result<Vec<ConsentRow>, sqlx::Error> {
    let sql =
        format!("{CONSENT_SELECT} WHERE c.person_id = $1 ORDER BY c.created_at DESC LIMIT 500");
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(person_id)
    .fetch_all(c)
    .await)
}

/// Every consent a person gave one consumer for one resource.
pub async fn consents_for(
    db: &Db,
    person_id: &str,
    consumer_org_id: &str,
    resource_id: &str,
) -> Result<Vec<ConsentRow>, sqlx::Error> {
    let sql = format!(
        "{CONSENT_SELECT} WHERE c.person_id = $1 AND c.consumer_org_id = $2 AND c.resource_id = $3
         ORDER BY c.created_at DESC LIMIT 100"
    );
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(person_id)
    .bind(consumer_org_id)
    .bind(resource_id)
    .fetch_all(c)
    .await)
}

/// Withdraws a consent of `person_id`; false when it was not hers or already withdrawn.
pub async fn revoke_consent(tx: &mut Tx, id: &str, person_id: &str) -> Result<bool, sqlx::Error> {
    let n = on_tx!(tx, |c| {
        sqlx::query(
        "UPDATE consents SET revoked_at = $3 WHERE id = $1 AND person_id = $2 AND revoked_at IS NULL"
    )
    .bind(id)
    .bind(person_id)
    .bind(Timestamp::now())
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(n == 1)
}

/// Counts one fetch under a consent, atomically with its limits: false when it was
/// withdrawn, used up (once) or today's fetches are spent, in the meantime.
pub async fn count_fetch(db: &Db, id: &str, day: i64, now: Timestamp) -> Result<bool, sqlx::Error> {
    let n = on_pool!(db.write(), |c| sqlx::query(
        "UPDATE consents SET fetches = fetches + 1,
             fetches_on_day = CASE WHEN fetch_day = $2 THEN fetches_on_day + 1 ELSE 1 END,
             fetch_day = $2, last_fetched_at = $3
         WHERE id = $1 AND revoked_at IS NULL AND valid_from <= $3 AND valid_until > $3
           AND (fetch_type <> 'once' OR fetches = 0)
           AND (fetch_day <> $2 OR fetches_on_day < max_fetches_per_day)"
    )
    .bind(id)
    .bind(day)
    .bind(now)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Consents given to one consumer for resources whose id starts with `prefix`, newest first.
pub async fn consents_to(
    db: &Db,
    consumer_org_id: &str,
    prefix: &str,
) -> Result<Vec<ConsentRow>, sqlx::Error> {
    let sql = format!(
        "{CONSENT_SELECT} WHERE c.consumer_org_id = $1 AND c.resource_id LIKE $2
         ORDER BY c.created_at DESC LIMIT 500"
    );
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(consumer_org_id)
    .bind(format!("{prefix}%"))
    .fetch_all(c)
    .await)
}
