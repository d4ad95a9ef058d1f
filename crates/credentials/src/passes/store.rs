//! SQL for pass types and accepted scans.

use kernel::db::{Db, Tx};
use kernel::time::Timestamp;
use kernel::{on_pool, on_tx};

/// A pass type row with its issuer's name and its certificate type's code.
#[derive(sqlx::FromRow, Clone)]
pub struct PassTypeRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub description: String,
    pub issuer_org_id: String,
    pub issuer_name: String,
    pub credential_type_id: Option<String>,
    pub credential_type_code: Option<String>,
    pub min_age: Option<i64>,
    pub ttl_seconds: i64,
    pub created_at: Timestamp,
}

const PASS_TYPE_SELECT: &str = "SELECT p.id, p.code, p.name, p.description, p.issuer_org_id, \
     o.name AS issuer_name, p.credential_type_id, t.code AS credential_type_code, p.min_age, \
     p.ttl_seconds, p.created_at FROM pass_types p JOIN organisations o ON o.id = p.issuer_org_id \
     LEFT JOIN credential_types t ON t.id = p.credential_type_id";

pub async fn insert_pass_type(tx: &mut Tx, p: &PassTypeRow) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO pass_types (id, code, name, description, issuer_org_id, credential_type_id,
             min_age, ttl_seconds, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    )
    .bind(&p.id)
    .bind(&p.code)
    .bind(&p.name)
    .bind(&p.description)
    .bind(&p.issuer_org_id)
    .bind(&p.credential_type_id)
    .bind(p.min_age)
    .bind(p.ttl_seconds)
    .bind(p.created_at)
    .execute(c)
    .await
    .map(|_| ()))
}

/// A pass type by code.
pub async fn get_pass_type(db: &Db, code: &str) -> Result<Option<PassTypeRow>, sqlx::Error> {
    db.fetch_by(&format!("{PASS_TYPE_SELECT} WHERE p.code = $1"), code)
        .await
}

/// Every pass type, by code.
pub async fn list_pass_types(db: &Db) -> Result<Vec<PassTypeRow>, sqlx::Error> {
    let sql = format!("{PASS_TYPE_SELECT} ORDER BY p.code LIMIT 1000");
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .fetch_all(c)
    .await)
}

/// Where a certificate stands now: status, reason, end of validity.
#[derive(sqlx::FromRow, Clone)]
pub struct SourceStatus {
    pub person_id: String,
    pub type_id: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub valid_until: Option<Timestamp>,
}

/// The standing of the certificate a pass was derived from.
pub async fn source_status(
    db: &Db,
    credential_id: &str,
) -> Result<Option<SourceStatus>, sqlx::Error> {
    db.fetch_by(
        "SELECT person_id, type_id, status, status_reason, valid_until FROM credentials WHERE id = $1",
        credential_id,
    )
    .await
}

/// An accepted scan.
pub struct ScanRow {
    pub jti: String,
    pub pass_type_id: String,
    pub person_id: String,
    pub scanner_org_id: String,
    pub checkpoint: String,
    pub scanned_at: Timestamp,
    pub expires_at: Timestamp,
}

/// Records the first scan of each pass in one transaction; for each, false when it was
/// scanned before (a replay), in this batch or earlier, on any node.
pub async fn record_scans(db: &Db, scans: &[&ScanRow]) -> Result<Vec<bool>, sqlx::Error> {
    // Rows go in in the order of their ids, so that two nodes' batches holding the same
    // ids wait for each other instead of deadlocking.
    let mut order: Vec<usize> = (0..scans.len()).collect();
    order.sort_by(|a, b| scans[*a].jti.cmp(&scans[*b].jti));
    let mut tx = db.begin().await?;
    let mut firsts = vec![false; scans.len()];
    for i in order {
        let s = scans[i];
        let n = on_tx!(&mut tx, |c| sqlx::query(
            "INSERT INTO pass_scans (jti, pass_type_id, person_id, scanner_org_id, checkpoint,
                 scanned_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (jti) DO NOTHING"
        )
        .bind(&s.jti)
        .bind(&s.pass_type_id)
        .bind(&s.person_id)
        .bind(&s.scanner_org_id)
        .bind(&s.checkpoint)
        .bind(s.scanned_at)
        .bind(s.expires_at)
        .execute(c)
        .await
        .map(|r| r.rows_affected()))?;
        firsts[i] = n == 1;
    }
    tx.commit().await?;
    Ok(firsts)
}

/// Forgets scans of passes that expired before `before` (they are refused as expired).
pub async fn sweep_scans(db: &Db, before: Timestamp) -> Result<u64, sqlx::Error> {
    on_pool!(db.write(), |c| sqlx::query(
        "DELETE FROM pass_scans WHERE expires_at < $1"
    )
    .bind(before)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))
}

/// Accepted scans of a pass type (for figures and tests).
pub async fn count_scans(db: &Db, pass_type_id: &str) -> Result<i64, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM pass_scans WHERE pass_type_id = $1"
    )
    .bind(pass_type_id)
    .fetch_one(c)
    .await)
}
