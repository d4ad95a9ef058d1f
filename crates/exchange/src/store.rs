//! SQL for the catalogue, requests and agreements. Field lists are stored as JSON text.

use kernel::db::{Db, Tx};
use kernel::time::Timestamp;
use kernel::{on_pool, on_tx};

/// A resource row with its provider's name.
#[derive(sqlx::FromRow)]
pub struct ResourceRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub description: String,
    pub provider_org_id: String,
    pub provider_name: String,
    pub fields: String,
    pub sharing_class: String,
    pub legal_reason: Option<String>,
    pub update_frequency: String,
    pub serving: String,
    pub subject_kind: String,
    pub endpoint_url: Option<String>,
    pub keywords: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const RESOURCE_SELECT: &str = "SELECT r.id, r.code, r.name, r.description, r.provider_org_id, \
     o.name AS provider_name, r.fields, r.sharing_class, r.legal_reason, r.update_frequency, \
     r.serving, r.subject_kind, r.endpoint_url, r.keywords, r.created_at, r.updated_at \
     FROM exchange_resources r JOIN organisations o ON o.id = r.provider_org_id";

/// A request row with names.
#[derive(sqlx::FromRow)]
pub struct RequestRow {
    pub id: String,
    pub resource_id: String,
    pub resource_name: String,
    pub provider_org_id: String,
    pub consumer_org_id: String,
    pub consumer_name: String,
    pub fields: String,
    pub purpose: String,
    pub legal_basis: String,
    pub statutory: bool,
    pub expected_calls_per_day: i64,
    pub status: String,
    pub decision_reason: Option<String>,
    pub agreement_id: Option<String>,
    pub created_at: Timestamp,
    pub decided_at: Option<Timestamp>,
}

const REQUEST_SELECT: &str = "SELECT q.id, q.resource_id, r.name AS resource_name, \
     r.provider_org_id, q.consumer_org_id, o.name AS consumer_name, q.fields, q.purpose, \
     q.legal_basis, q.statutory, q.expected_calls_per_day, q.status, q.decision_reason, \
     a.id AS agreement_id, q.created_at, q.decided_at \
     FROM exchange_requests q \
     JOIN exchange_resources r ON r.id = q.resource_id \
     JOIN organisations o ON o.id = q.consumer_org_id \
     LEFT JOIN exchange_agreements a ON a.request_id = q.id";

/// An agreement row with names.
#[derive(sqlx::FromRow, Clone)]
pub struct AgreementRow {
    pub id: String,
    pub request_id: String,
    pub resource_id: String,
    pub resource_name: String,
    pub provider_org_id: String,
    pub consumer_org_id: String,
    pub consumer_name: String,
    pub fields: String,
    pub purpose: String,
    pub legal_basis: String,
    pub statutory: bool,
    pub rate_limit_per_minute: i64,
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

const AGREEMENT_SELECT: &str = "SELECT a.id, a.request_id, a.resource_id, \
     r.name AS resource_name, a.provider_org_id, a.consumer_org_id, o.name AS consumer_name, \
     a.fields, a.purpose, a.legal_basis, a.statutory, a.rate_limit_per_minute, a.expires_at, \
     a.revoked_at, a.created_at \
     FROM exchange_agreements a \
     JOIN exchange_resources r ON r.id = a.resource_id \
     JOIN organisations o ON o.id = a.consumer_org_id";

pub async fn insert_resource(tx: &mut Tx, r: &ResourceRow) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO exchange_resources (id, code, name, description, provider_org_id, fields,
             sharing_class, legal_reason, update_frequency, serving, subject_kind, endpoint_url,
             keywords, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    )
    .bind(&r.id)
    .bind(&r.code)
    .bind(&r.name)
    .bind(&r.description)
    .bind(&r.provider_org_id)
    .bind(&r.fields)
    .bind(&r.sharing_class)
    .bind(&r.legal_reason)
    .bind(&r.update_frequency)
    .bind(&r.serving)
    .bind(&r.subject_kind)
    .bind(&r.endpoint_url)
    .bind(&r.keywords)
    .bind(r.created_at)
    .bind(r.updated_at)
    .execute(c)
    .await
    .map(|_| ()))
}

/// A resource by id or by code.
pub async fn get_resource(db: &Db, id_or_code: &str) -> Result<Option<ResourceRow>, sqlx::Error> {
    db.fetch_by(
        &format!("{RESOURCE_SELECT} WHERE r.id = $1 OR r.code = $1"),
        id_or_code,
    )
    .await
}

/// Resources matching `q` (name, description, keywords, provider), in code order.
pub async fn list_resources(
    db: &Db,
    q: Option<&str>,
    after_code: Option<&str>,
    limit: i64,
) -> Result<Vec<ResourceRow>, sqlx::Error> {
    let pattern = q.map(|q| {
        let escaped = q
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    });
    let sql = format!(
        "{RESOURCE_SELECT}
         WHERE ($1 IS NULL OR LOWER(r.name) LIKE $1 ESCAPE '\\' OR LOWER(r.description) LIKE $1 ESCAPE '\\'
                OR LOWER(r.keywords) LIKE $1 ESCAPE '\\' OR LOWER(o.name) LIKE $1 ESCAPE '\\'
                OR r.code LIKE $1 ESCAPE '\\')
           AND ($2 IS NULL OR r.code > $2)
         ORDER BY r.code LIMIT $3"
    );
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(&pattern)
    .bind(after_code)
    .bind(limit + 1)
    .fetch_all(c)
    .await)
}

/// Every resource (for the DCAT export).
pub async fn all_resources(db: &Db) -> Result<Vec<ResourceRow>, sqlx::Error> {
    let sql = format!("{RESOURCE_SELECT} ORDER BY r.code LIMIT 100000");
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .fetch_all(c)
    .await)
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_request(
    tx: &mut Tx,
    id: &str,
    resource_id: &str,
    consumer_org_id: &str,
    fields: &str,
    purpose: &str,
    legal_basis: &str,
    statutory: bool,
    expected_calls_per_day: i64,
    requested_by: &str,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO exchange_requests (id, resource_id, consumer_org_id, fields, purpose,
             legal_basis, statutory, expected_calls_per_day, status, requested_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10)"
    )
    .bind(id)
    .bind(resource_id)
    .bind(consumer_org_id)
    .bind(fields)
    .bind(purpose)
    .bind(legal_basis)
    .bind(statutory)
    .bind(expected_calls_per_day)
    .bind(requested_by)
    .bind(Timestamp::now())
    .execute(c)
    .await
    .map(|_| ()))
}

pub async fn get_request(db: &Db, id: &str) -> Result<Option<RequestRow>, sqlx::Error> {
    db.fetch_by(&format!("{REQUEST_SELECT} WHERE q.id = $1"), id)
        .await
}

/// Requests to (`incoming`) or from an organisation, newest first.
pub async fn list_requests(
    db: &Db,
    organisation_id: &str,
    incoming: bool,
) -> Result<Vec<RequestRow>, sqlx::Error> {
    let column = if incoming {
        "r.provider_org_id"
    } else {
        "q.consumer_org_id"
    };
    let sql = format!("{REQUEST_SELECT} WHERE {column} = $1 ORDER BY q.id DESC LIMIT 500");
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(organisation_id)
    .fetch_all(c)
    .await)
}

/// Marks a pending request decided; false when it was no longer pending.
pub async fn decide_request(
    tx: &mut Tx,
    id: &str,
    status: &str,
    reason: Option<&str>,
    decided_by: &str,
) -> Result<bool, sqlx::Error> {
    let done = on_tx!(tx, |c| {
        sqlx::query(
        "UPDATE exchange_requests SET status = $2, decision_reason = $3, decided_by = $4, decided_at = $5
         WHERE id = $1 AND status = 'pending'"
    )
    .bind(id)
    .bind(status)
    .bind(reason)
    .bind(decided_by)
    .bind(Timestamp::now())
    .execute(c)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(done == 1)
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_agreement(
    tx: &mut Tx,
    id: &str,
    request: &RequestRow,
    fields: &str,
    rate_limit_per_minute: i64,
    expires_at: Timestamp,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO exchange_agreements (id, request_id, resource_id, provider_org_id,
             consumer_org_id, fields, purpose, legal_basis, statutory, rate_limit_per_minute,
             expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    )
    .bind(id)
    .bind(&request.id)
    .bind(&request.resource_id)
    .bind(&request.provider_org_id)
    .bind(&request.consumer_org_id)
    .bind(fields)
    .bind(&request.purpose)
    .bind(&request.legal_basis)
    .bind(request.statutory)
    .bind(rate_limit_per_minute)
    .bind(expires_at)
    .bind(Timestamp::now())
    .execute(c)
    .await
    .map(|_| ()))
}

pub async fn get_agreement(db: &Db, id: &str) -> Result<Option<AgreementRow>, sqlx::Error> {
    db.fetch_by(&format!("{AGREEMENT_SELECT} WHERE a.id = $1"), id)
        .await
}

/// Agreements where an organisation is the provider or the consumer, newest first.
pub async fn list_agreements(
    db: &Db,
    organisation_id: &str,
) -> Result<Vec<AgreementRow>, sqlx::Error> {
    let sql = format!(
        "{AGREEMENT_SELECT} WHERE a.provider_org_id = $1 OR a.consumer_org_id = $1
         ORDER BY a.id DESC LIMIT 500"
    );
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(organisation_id)
    .fetch_all(c)
    .await)
}

pub async fn revoke_agreement(tx: &mut Tx, id: &str) -> Result<bool, sqlx::Error> {
    let done = on_tx!(tx, |c| sqlx::query(
        "UPDATE exchange_agreements SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL"
    )
    .bind(id)
    .bind(Timestamp::now())
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

// ---- hosted records ----

/// One hosted record to write.
pub struct RecordRow {
    pub subject_hash: String,
    pub person_id: Option<String>,
    pub data: Vec<u8>,
}

/// Writes (or replaces) records of a resource; returns how many existed before.
pub async fn upsert_records(
    tx: &mut Tx,
    resource_id: &str,
    rows: &[RecordRow],
) -> Result<u64, sqlx::Error> {
    let now = Timestamp::now();
    // One row per subject (the last one wins): PostgreSQL refuses an upsert that names a
    // key twice.
    let mut last = std::collections::HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        last.insert(r.subject_hash.as_str(), i);
    }
    let rows: Vec<&RecordRow> = rows
        .iter()
        .enumerate()
        .filter(|(i, r)| last.get(r.subject_hash.as_str()) == Some(i))
        .map(|(_, r)| r)
        .collect();
    let mut replaced = 0;
    for chunk in rows.chunks(200) {
        let hashes: Vec<String> = chunk.iter().map(|r| r.subject_hash.clone()).collect();
        let existing: i64 = on_tx!(tx, |c| {
            let mut b = sqlx::QueryBuilder::new(
                "SELECT COUNT(*) FROM exchange_records WHERE resource_id = ",
            );
            b.push_bind(resource_id);
            b.push(" AND subject_hash IN ");
            kernel::db::push_list(&mut b, &hashes);
            b.build_query_scalar().fetch_one(c).await
        })?;
        replaced += existing as u64;
        on_tx!(tx, |c| {
            let mut b = sqlx::QueryBuilder::new(
                "INSERT INTO exchange_records (resource_id, subject_hash, person_id, data, updated_at) ",
            );
            b.push_values(chunk, |mut v, r| {
                v.push_bind(resource_id)
                    .push_bind(&r.subject_hash)
                    .push_bind(&r.person_id)
                    .push_bind(&r.data)
                    .push_bind(now);
            });
            b.push(
                " ON CONFLICT (resource_id, subject_hash) DO UPDATE SET person_id = excluded.person_id,
                  data = excluded.data, updated_at = excluded.updated_at",
            );
            b.build().execute(c).await.map(|_| ())
        })?;
    }
    Ok(replaced)
}

/// The sealed record and linked person of one subject.
pub async fn get_record(
    db: &Db,
    resource_id: &str,
    subject_hash: &str,
) -> Result<Option<(Option<String>, Vec<u8>)>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT person_id, data FROM exchange_records WHERE resource_id = $1 AND subject_hash = $2"
    )
    .bind(resource_id)
    .bind(subject_hash)
    .fetch_optional(c)
    .await)
}

/// The sealed records of a resource linked to the persons given: (person, subject hash,
/// data), 500 persons to a statement.
pub async fn records_of_persons(
    db: &Db,
    resource_id: &str,
    persons: &[String],
) -> Result<Vec<(String, String, Vec<u8>)>, sqlx::Error> {
    let mut out = Vec::new();
    for chunk in persons.chunks(500) {
        let rows: Vec<(String, String, Vec<u8>)> = on_pool!(db.read(), |c| {
            let mut b = sqlx::QueryBuilder::new(
                "SELECT person_id, subject_hash, data FROM exchange_records WHERE resource_id = ",
            );
            b.push_bind(resource_id).push(" AND person_id IN ");
            kernel::db::push_list(&mut b, chunk);
            b.build_query_as().fetch_all(c).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

/// How many records a resource hosts.
pub async fn count_records(db: &Db, resource_id: &str) -> Result<i64, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM exchange_records WHERE resource_id = $1"
    )
    .bind(resource_id)
    .fetch_one(c)
    .await)
}

/// The agreements of one consumer for one resource, newest first.
pub async fn agreements_for(
    db: &Db,
    consumer_org_id: &str,
    resource_id: &str,
) -> Result<Vec<AgreementRow>, sqlx::Error> {
    let sql = format!(
        "{AGREEMENT_SELECT} WHERE a.consumer_org_id = $1 AND a.resource_id = $2
         ORDER BY a.created_at DESC LIMIT 50"
    );
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(consumer_org_id)
    .bind(resource_id)
    .fetch_all(c)
    .await)
}

// ---- signing keys ----

/// A signing key row.
#[derive(sqlx::FromRow, Clone)]
pub struct KeyRow {
    pub id: String,
    pub organisation_id: String,
    pub public_key: String,
    pub secret_enc: Vec<u8>,
    pub created_at: Timestamp,
    pub retired_at: Option<Timestamp>,
}

const KEY_SELECT: &str =
    "SELECT id, organisation_id, public_key, secret_enc, created_at, retired_at FROM exchange_keys";

/// The current key of an organisation.
pub async fn current_key(db: &Db, organisation_id: &str) -> Result<Option<KeyRow>, sqlx::Error> {
    db.fetch_by(
        &format!("{KEY_SELECT} WHERE organisation_id = $1 AND retired_at IS NULL"),
        organisation_id,
    )
    .await
}

/// Every key, current and retired (the published key set).
pub async fn all_keys(db: &Db) -> Result<Vec<KeyRow>, sqlx::Error> {
    let sql = format!("{KEY_SELECT} ORDER BY organisation_id, created_at LIMIT 10000");
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .fetch_all(c)
    .await)
}

/// Retires the organisation's current key (if any) and stores a new one.
pub async fn replace_key(tx: &mut Tx, key: &KeyRow) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE exchange_keys SET retired_at = $2 WHERE organisation_id = $1 AND retired_at IS NULL"
    )
    .bind(&key.organisation_id)
    .bind(key.created_at)
    .execute(c)
    .await
    .map(|_| ()))?;
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO exchange_keys (id, organisation_id, public_key, secret_enc, created_at)
         VALUES ($1, $2, $3, $4, $5)"
    )
    .bind(&key.id)
    .bind(&key.organisation_id)
    .bind(&key.public_key)
    .bind(&key.secret_enc)
    .bind(key.created_at)
    .execute(c)
    .await
    .map(|_| ()))
}

// ---- usage ----

/// Adds counts to the usage of (resource, consumer, day).
pub async fn add_usage(
    tx: &mut Tx,
    resource_id: &str,
    consumer_org_id: &str,
    day: i64,
    calls: i64,
    denied: i64,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO exchange_usage (resource_id, consumer_org_id, day, calls, denied)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (resource_id, consumer_org_id, day)
         DO UPDATE SET calls = exchange_usage.calls + excluded.calls,
                       denied = exchange_usage.denied + excluded.denied"
    )
    .bind(resource_id)
    .bind(consumer_org_id)
    .bind(day)
    .bind(calls)
    .bind(denied)
    .execute(c)
    .await
    .map(|_| ()))
}

/// Usage summed per resource and counterpart since `from_day`, for an organisation as
/// provider (`as_provider`) or consumer.
#[derive(sqlx::FromRow)]
pub struct UsageRow {
    pub resource_code: String,
    pub resource_name: String,
    pub provider_name: String,
    pub consumer_name: String,
    pub calls: i64,
    pub denied: i64,
    pub last_day: i64,
}

pub async fn usage(
    db: &Db,
    organisation_id: &str,
    as_provider: bool,
    from_day: i64,
) -> Result<Vec<UsageRow>, sqlx::Error> {
    let column = if as_provider {
        "r.provider_org_id"
    } else {
        "u.consumer_org_id"
    };
    let sql = format!(
        "SELECT r.code AS resource_code, r.name AS resource_name, p.name AS provider_name,
                c.name AS consumer_name, CAST(SUM(u.calls) AS BIGINT) AS calls,
                CAST(SUM(u.denied) AS BIGINT) AS denied,
                MAX(u.day) AS last_day
         FROM exchange_usage u
         JOIN exchange_resources r ON r.id = u.resource_id
         JOIN organisations p ON p.id = r.provider_org_id
         JOIN organisations c ON c.id = u.consumer_org_id
         WHERE {column} = $1 AND u.day >= $2
         GROUP BY r.code, r.name, p.name, c.name
         ORDER BY SUM(u.calls) DESC LIMIT 500"
    );
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(organisation_id)
    .bind(from_day)
    .fetch_all(c)
    .await)
}

/// Every agreement of a resource.
pub async fn agreements_of_resource(
    db: &Db,
    resource_id: &str,
) -> Result<Vec<AgreementRow>, sqlx::Error> {
    let sql =
        format!("{AGREEMENT_SELECT} WHERE a.resource_id = $1 ORDER BY a.created_at DESC LIMIT 500");
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(resource_id)
    .fetch_all(c)
    .await)
}
