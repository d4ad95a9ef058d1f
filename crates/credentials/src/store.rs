//! SQL for certificate types, issuers' keys and issued certificates.

use kernel::db::{Db, Tx};
use kernel::time::Timestamp;
use kernel::{on_pool, on_tx};

/// A certificate type row.
#[derive(sqlx::FromRow, Clone)]
pub struct TypeRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub description: String,
    pub issuer_kind: String,
    pub claims_schema: String,
    pub validity_days: Option<i64>,
    pub created_at: Timestamp,
}

const TYPE_SELECT: &str = "SELECT id, code, name, description, issuer_kind, claims_schema, \
     validity_days, created_at FROM credential_types";

pub async fn insert_type(tx: &mut Tx, t: &TypeRow) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO credential_types (id, code, name, description, issuer_kind, claims_schema,
             validity_days, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    )
    .bind(&t.id)
    .bind(&t.code)
    .bind(&t.name)
    .bind(&t.description)
    .bind(&t.issuer_kind)
    .bind(&t.claims_schema)
    .bind(t.validity_days)
    .bind(t.created_at)
    .execute(c)
    .await
    .map(|_| ()))
}

/// A type by id or code.
pub async fn get_type(db: &Db, id_or_code: &str) -> Result<Option<TypeRow>, sqlx::Error> {
    db.fetch_by(
        &format!("{TYPE_SELECT} WHERE id = $1 OR code = $1"),
        id_or_code,
    )
    .await
}

/// Every type, by code.
pub async fn list_types(db: &Db) -> Result<Vec<TypeRow>, sqlx::Error> {
    let sql = format!("{TYPE_SELECT} ORDER BY code LIMIT 1000");
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .fetch_all(c)
    .await)
}

/// An issuer's key row.
#[derive(sqlx::FromRow, Clone)]
pub struct KeyRow {
    pub id: String,
    pub organisation_id: String,
    pub public_key_multibase: String,
    pub secret_enc: Vec<u8>,
    pub created_at: Timestamp,
    pub retired_at: Option<Timestamp>,
}

const KEY_SELECT: &str = "SELECT id, organisation_id, public_key_multibase, secret_enc, \
     created_at, retired_at FROM credential_issuer_keys";

/// The organisation's current key.
pub async fn current_key(db: &Db, organisation_id: &str) -> Result<Option<KeyRow>, sqlx::Error> {
    db.fetch_by(
        &format!("{KEY_SELECT} WHERE organisation_id = $1 AND retired_at IS NULL"),
        organisation_id,
    )
    .await
}

/// One key by id.
pub async fn key(db: &Db, id: &str) -> Result<Option<KeyRow>, sqlx::Error> {
    db.fetch_by(&format!("{KEY_SELECT} WHERE id = $1"), id)
        .await
}

/// Every key of an organisation, oldest first.
pub async fn keys_of(db: &Db, organisation_id: &str) -> Result<Vec<KeyRow>, sqlx::Error> {
    let sql = format!("{KEY_SELECT} WHERE organisation_id = $1 ORDER BY created_at LIMIT 1000");
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(organisation_id)
    .fetch_all(c)
    .await)
}

/// Retires the organisation's current key (if any) and stores a new one.
pub async fn replace_key(tx: &mut Tx, key: &KeyRow) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE credential_issuer_keys SET retired_at = $2
         WHERE organisation_id = $1 AND retired_at IS NULL"
    )
    .bind(&key.organisation_id)
    .bind(key.created_at)
    .execute(c)
    .await
    .map(|_| ()))?;
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO credential_issuer_keys (id, organisation_id, public_key_multibase,
             secret_enc, created_at)
         VALUES ($1, $2, $3, $4, $5)"
    )
    .bind(&key.id)
    .bind(&key.organisation_id)
    .bind(&key.public_key_multibase)
    .bind(&key.secret_enc)
    .bind(key.created_at)
    .execute(c)
    .await
    .map(|_| ()))
}

/// An issued certificate row with its type and issuer names.
#[derive(sqlx::FromRow, Clone)]
pub struct CredentialRow {
    pub id: String,
    pub type_id: String,
    pub type_code: String,
    pub type_name: String,
    pub issuer_org_id: String,
    pub issuer_name: String,
    pub person_id: String,
    pub document_enc: Vec<u8>,
    pub status: String,
    pub status_reason: Option<String>,
    pub valid_from: Timestamp,
    pub valid_until: Option<Timestamp>,
    pub issued_by: String,
    pub created_at: Timestamp,
    pub status_index: i64,
}

const CREDENTIAL_SELECT: &str = "SELECT c.id, c.type_id, t.code AS type_code, t.name AS type_name, \
     c.issuer_org_id, o.name AS issuer_name, c.person_id, c.document_enc, c.status, \
     c.status_reason, c.valid_from, c.valid_until, c.issued_by, c.created_at, c.status_index \
     FROM credentials c JOIN credential_types t ON t.id = c.type_id \
     JOIN organisations o ON o.id = c.issuer_org_id";

pub async fn insert_credential(tx: &mut Tx, r: &CredentialRow) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO credentials (id, type_id, issuer_org_id, person_id, document_enc, status,
             valid_from, valid_until, issued_by, created_at, status_index)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    )
    .bind(&r.id)
    .bind(&r.type_id)
    .bind(&r.issuer_org_id)
    .bind(&r.person_id)
    .bind(&r.document_enc)
    .bind(&r.status)
    .bind(r.valid_from)
    .bind(r.valid_until)
    .bind(&r.issued_by)
    .bind(r.created_at)
    .bind(r.status_index)
    .execute(c)
    .await
    .map(|_| ()))
}

pub async fn get_credential(db: &Db, id: &str) -> Result<Option<CredentialRow>, sqlx::Error> {
    db.fetch_by(&format!("{CREDENTIAL_SELECT} WHERE c.id = $1"), id)
        .await
}

/// A person's certificates, newest first.
pub async fn credentials_of(db: &Db, person_id: &str) -> Result<Vec<CredentialRow>, sqlx::Error> {
    let sql =
        format!("{CREDENTIAL_SELECT} WHERE c.person_id = $1 ORDER BY c.created_at DESC LIMIT 500");
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(person_id)
    .fetch_all(c)
    .await)
}

/// Certificates an organisation issued, newest first.
pub async fn issued_by(db: &Db, organisation_id: &str) -> Result<Vec<CredentialRow>, sqlx::Error> {
    let sql = format!(
        "{CREDENTIAL_SELECT} WHERE c.issuer_org_id = $1 ORDER BY c.created_at DESC LIMIT 500"
    );
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(organisation_id)
    .fetch_all(c)
    .await)
}

/// Moves a certificate from `from` to `to`; false when it was not in `from`.
pub async fn change_status(
    tx: &mut Tx,
    id: &str,
    from: &str,
    to: &str,
    reason: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let n = on_tx!(tx, |c| sqlx::query(
        "UPDATE credentials SET status = $3, status_reason = $4, status_changed_at = $5
         WHERE id = $1 AND status = $2"
    )
    .bind(id)
    .bind(from)
    .bind(to)
    .bind(reason)
    .bind(Timestamp::now())
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// The status-list indexes of an issuer's certificates in `status`.
pub async fn status_indexes(
    db: &Db,
    organisation_id: &str,
    status: &str,
) -> Result<Vec<i64>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_scalar(
        "SELECT status_index FROM credentials WHERE issuer_org_id = $1 AND status = $2"
    )
    .bind(organisation_id)
    .bind(status)
    .fetch_all(c)
    .await)
}

/// Whether an issuer already gave `index` to a certificate.
pub async fn index_taken(db: &Db, organisation_id: &str, index: i64) -> Result<bool, sqlx::Error> {
    let n: i64 = on_pool!(db.read(), |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM credentials WHERE issuer_org_id = $1 AND status_index = $2"
    )
    .bind(organisation_id)
    .bind(index)
    .fetch_one(c)
    .await)?;
    Ok(n > 0)
}
