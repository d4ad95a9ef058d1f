//! SQL for identity's tables. Every function runs on SQLite and PostgreSQL alike.

use kernel::db::{Db, Tx, push_list};
use kernel::time::Timestamp;
use kernel::{on_pool, on_tx};

/// A region row.
#[derive(sqlx::FromRow)]
pub struct RegionRow {
    pub code: String,
    pub name: String,
    pub level: String,
    pub parent_code: Option<String>,
    pub urban: bool,
}

/// An organisation row.
#[derive(sqlx::FromRow)]
pub struct OrgRow {
    pub id: String,
    pub credit_code: String,
    pub name: String,
    pub kind: String,
    pub level: String,
    pub region_code: String,
    pub parent_id: Option<String>,
    pub created_at: Timestamp,
}

/// A person row (sensitive columns sealed).
#[derive(sqlx::FromRow)]
pub struct PersonRow {
    pub id: String,
    pub resident_id_enc: Vec<u8>,
    pub resident_id_masked: String,
    pub name: String,
    pub birth_date: String,
    pub sex: String,
    pub phone_enc: Option<Vec<u8>>,
    pub phone_masked: Option<String>,
    pub address_enc: Option<Vec<u8>>,
    pub region_code: String,
    pub household_id: Option<String>,
    pub created_at: Timestamp,
}

/// A person to insert.
pub struct PersonInsert<'a> {
    pub id: &'a str,
    pub resident_id_hash: &'a str,
    pub resident_id_enc: &'a [u8],
    pub resident_id_masked: &'a str,
    pub name: &'a str,
    pub birth_date: &'a str,
    pub sex: &'a str,
    pub phone_hash: Option<&'a str>,
    pub phone_enc: Option<&'a [u8]>,
    pub phone_masked: Option<&'a str>,
    pub address_enc: Option<&'a [u8]>,
    pub region_code: &'a str,
    pub household_id: &'a str,
    pub created_at: Timestamp,
}

/// An account row.
#[derive(sqlx::FromRow)]
pub struct AccountRow {
    pub id: String,
    pub username: String,
    pub password_hash: String,
    pub person_id: Option<String>,
    pub display_name: String,
    pub disabled: bool,
    pub created_at: Timestamp,
}

/// A role binding row.
#[derive(sqlx::FromRow)]
pub struct RoleRow {
    pub account_id: String,
    pub role: String,
    pub organisation_id: Option<String>,
}

/// A proxy authorisation row, with both names.
#[derive(sqlx::FromRow)]
pub struct ProxyRow {
    pub id: String,
    pub principal_person_id: String,
    pub principal_name: String,
    pub proxy_person_id: String,
    pub proxy_name: String,
    pub relationship: String,
    pub scopes: String,
    pub expires_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

const PERSON_COLUMNS: &str = "id, resident_id_enc, resident_id_masked, name, birth_date, sex, \
     phone_enc, phone_masked, address_enc, region_code, household_id, created_at";

const PROXY_SELECT: &str = "SELECT p.id, p.principal_person_id, a.name AS principal_name, \
     p.proxy_person_id, b.name AS proxy_name, p.relationship, p.scopes, p.expires_at, \
     p.revoked_at, p.created_at \
     FROM proxy_authorisations p \
     JOIN persons a ON a.id = p.principal_person_id \
     JOIN persons b ON b.id = p.proxy_person_id";

// ---- regions ----

pub async fn insert_region(tx: &mut Tx, row: &RegionRow) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO regions (code, name, level, parent_code, urban, created_at) VALUES ($1, $2, $3, $4, $5, $6)"
    )
    .bind(&row.code)
    .bind(&row.name)
    .bind(&row.level)
    .bind(&row.parent_code)
    .bind(row.urban)
    .bind(Timestamp::now())
    .execute(c)
    .await.map(|_| ())
    })?;
    Ok(())
}

pub async fn get_region(db: &Db, code: &str) -> Result<Option<RegionRow>, sqlx::Error> {
    db.fetch_by(
        "SELECT code, name, level, parent_code, urban FROM regions WHERE code = $1",
        code,
    )
    .await
}

pub async fn list_regions(
    db: &Db,
    parent: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<RegionRow>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT code, name, level, parent_code, urban FROM regions
         WHERE ($1 IS NULL OR parent_code = $1) AND ($2 IS NULL OR code > $2)
         ORDER BY code LIMIT $3"
    )
    .bind(parent)
    .bind(after)
    .bind(limit + 1)
    .fetch_all(c)
    .await)
}

// ---- organisations ----

pub async fn insert_org(tx: &mut Tx, row: &OrgRow) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO organisations (id, credit_code, name, kind, level, region_code, parent_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    )
    .bind(&row.id)
    .bind(&row.credit_code)
    .bind(&row.name)
    .bind(&row.kind)
    .bind(&row.level)
    .bind(&row.region_code)
    .bind(&row.parent_id)
    .bind(row.created_at)
    .execute(c)
    .await.map(|_| ())
    })?;
    Ok(())
}

const ORG_COLUMNS: &str = "id, credit_code, name, kind, level, region_code, parent_id, created_at";

pub async fn get_org(db: &Db, id: &str) -> Result<Option<OrgRow>, sqlx::Error> {
    db.fetch_by(
        &format!("SELECT {ORG_COLUMNS} FROM organisations WHERE id = $1"),
        id,
    )
    .await
}

pub async fn get_org_by_code(db: &Db, code: &str) -> Result<Option<OrgRow>, sqlx::Error> {
    db.fetch_by(
        &format!("SELECT {ORG_COLUMNS} FROM organisations WHERE credit_code = $1"),
        code,
    )
    .await
}

pub async fn list_orgs(
    db: &Db,
    kind: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<OrgRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {ORG_COLUMNS} FROM organisations
         WHERE ($1 IS NULL OR kind = $1) AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3"
    );
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(kind)
    .bind(after)
    .bind(limit + 1)
    .fetch_all(c)
    .await)
}

/// Names of organisations by id.
pub async fn org_names(db: &Db, ids: &[String]) -> Result<Vec<(String, String)>, sqlx::Error> {
    pairs(db, "SELECT id, name FROM organisations WHERE id IN ", ids).await
}

/// String pairs for `keys` from a `SELECT a, b FROM <table> WHERE <key> IN ` prefix, in
/// one query per 500 keys.
async fn pairs(
    db: &Db,
    select: &'static str,
    keys: &[String],
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let mut out = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(500) {
        let rows: Vec<(String, String)> = on_pool!(db.read(), |c| {
            let mut builder = sqlx::QueryBuilder::new(select);
            push_list(&mut builder, chunk);
            builder.build_query_as().fetch_all(c).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

// ---- persons ----

pub async fn insert_household(tx: &mut Tx, id: &str, region: &str) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO households (id, region_code, created_at) VALUES ($1, $2, $3)"
    )
    .bind(id)
    .bind(region)
    .bind(Timestamp::now())
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(())
}

pub async fn household_exists(tx: &mut Tx, id: &str) -> Result<bool, sqlx::Error> {
    let found: Option<String> = on_tx!(tx, |c| sqlx::query_scalar(
        "SELECT id FROM households WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await)?;
    Ok(found.is_some())
}

pub async fn insert_person(tx: &mut Tx, p: &PersonInsert<'_>) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO persons (id, resident_id_hash, resident_id_enc, resident_id_masked, name,
             birth_date, sex, phone_hash, phone_enc, phone_masked, address_enc, region_code,
             household_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    )
    .bind(p.id)
    .bind(p.resident_id_hash)
    .bind(p.resident_id_enc)
    .bind(p.resident_id_masked)
    .bind(p.name)
    .bind(p.birth_date)
    .bind(p.sex)
    .bind(p.phone_hash)
    .bind(p.phone_enc)
    .bind(p.phone_masked)
    .bind(p.address_enc)
    .bind(p.region_code)
    .bind(p.household_id)
    .bind(p.created_at)
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// The persons with these ids (those that exist), in no particular order.
pub async fn persons_by_id(db: &Db, ids: &[String]) -> Result<Vec<PersonRow>, sqlx::Error> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<PersonRow> = on_pool!(db.read(), |c| {
            let mut b = sqlx::QueryBuilder::new(format!(
                "SELECT {PERSON_COLUMNS} FROM persons WHERE id IN "
            ));
            push_list(&mut b, chunk);
            b.build_query_as().fetch_all(c).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

pub async fn get_person(db: &Db, id: &str) -> Result<Option<PersonRow>, sqlx::Error> {
    db.fetch_by(
        &format!("SELECT {PERSON_COLUMNS} FROM persons WHERE id = $1"),
        id,
    )
    .await
}

/// (resident ID hash, person id) for the persons among `hashes`.
pub async fn person_ids_by_hashes(
    db: &Db,
    hashes: &[String],
) -> Result<Vec<(String, String)>, sqlx::Error> {
    pairs(
        db,
        "SELECT resident_id_hash, id FROM persons WHERE resident_id_hash IN ",
        hashes,
    )
    .await
}

pub async fn find_person_by_hash(db: &Db, hash: &str) -> Result<Option<PersonRow>, sqlx::Error> {
    db.fetch_by(
        &format!("SELECT {PERSON_COLUMNS} FROM persons WHERE resident_id_hash = $1"),
        hash,
    )
    .await
}

pub async fn list_persons(
    db: &Db,
    region_prefix: Option<&str>,
    name: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<PersonRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {PERSON_COLUMNS} FROM persons
         WHERE ($1 IS NULL OR region_code LIKE $1) AND ($2 IS NULL OR LOWER(name) LIKE LOWER($2) ESCAPE '\\')
           AND ($3 IS NULL OR id > $3)
         ORDER BY id LIMIT $4"
    );
    let region = region_prefix.map(|p| format!("{p}%"));
    let name = name.map(|n| {
        let escaped = n
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    });
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(&region)
    .bind(&name)
    .bind(after)
    .bind(limit + 1)
    .fetch_all(c)
    .await)
}

/// Residents per region: (code, all, born on or before `cutoff`, carrying one of the
/// tags, either).
pub async fn population_by_region(
    db: &Db,
    cutoff: &str,
    tag_hashes: &[String],
) -> Result<Vec<(String, i64, i64, i64, i64)>, sqlx::Error> {
    on_pool!(db.read(), |c| {
        let tagged = |b: &mut sqlx::QueryBuilder<_>| {
            if tag_hashes.is_empty() {
                b.push("1 = 0");
            } else {
                b.push("EXISTS (SELECT 1 FROM person_tags t WHERE t.person_id = p.id AND t.tag_hash IN ");
                push_list(b, tag_hashes);
                b.push(")");
            }
        };
        let mut b =
            sqlx::QueryBuilder::new("SELECT region_code, COUNT(*), SUM(CASE WHEN birth_date <= ");
        b.push_bind(cutoff)
            .push(" THEN 1 ELSE 0 END), SUM(CASE WHEN ");
        tagged(&mut b);
        b.push(" THEN 1 ELSE 0 END), SUM(CASE WHEN birth_date <= ")
            .push_bind(cutoff)
            .push(" OR ");
        tagged(&mut b);
        b.push(" THEN 1 ELSE 0 END) FROM persons p GROUP BY region_code ORDER BY region_code");
        b.build_query_as().fetch_all(c).await
    })
}

pub async fn count_persons(db: &Db) -> Result<i64, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_scalar(
        "SELECT COUNT(*) FROM persons"
    )
    .fetch_one(c)
    .await)
}

// ---- accounts and roles ----

pub async fn insert_account(tx: &mut Tx, a: &AccountRow) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO accounts (id, username, password_hash, person_id, display_name, disabled, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)"
    )
    .bind(&a.id)
    .bind(&a.username)
    .bind(&a.password_hash)
    .bind(&a.person_id)
    .bind(&a.display_name)
    .bind(a.disabled)
    .bind(a.created_at)
    .execute(c)
    .await.map(|_| ())
    })?;
    Ok(())
}

pub async fn insert_role(
    tx: &mut Tx,
    account_id: &str,
    role: &str,
    organisation_id: Option<&str>,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO role_bindings (account_id, role, organisation_id, created_at) VALUES ($1, $2, $3, $4)"
    )
    .bind(account_id)
    .bind(role)
    .bind(organisation_id)
    .bind(Timestamp::now())
    .execute(c)
    .await.map(|_| ())
    })?;
    Ok(())
}

const ACCOUNT_COLUMNS: &str =
    "id, username, password_hash, person_id, display_name, disabled, created_at";

pub async fn get_account(db: &Db, id: &str) -> Result<Option<AccountRow>, sqlx::Error> {
    db.fetch_by(
        &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1"),
        id,
    )
    .await
}

pub async fn get_account_by_username(
    db: &Db,
    username: &str,
) -> Result<Option<AccountRow>, sqlx::Error> {
    db.fetch_by(
        &format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE username = $1"),
        username,
    )
    .await
}

pub async fn list_accounts(
    db: &Db,
    organisation_id: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<AccountRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS} FROM accounts a
         WHERE ($1 IS NULL OR EXISTS (SELECT 1 FROM role_bindings r WHERE r.account_id = a.id AND r.organisation_id = $1))
           AND ($2 IS NULL OR id > $2)
         ORDER BY id LIMIT $3"
    );
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(organisation_id)
    .bind(after)
    .bind(limit + 1)
    .fetch_all(c)
    .await)
}

pub async fn roles_of(db: &Db, account_ids: &[String]) -> Result<Vec<RoleRow>, sqlx::Error> {
    let mut out = Vec::new();
    for chunk in account_ids.chunks(500) {
        let rows: Vec<RoleRow> = on_pool!(db.read(), |c| {
            let mut builder = sqlx::QueryBuilder::new(
                "SELECT account_id, role, organisation_id FROM role_bindings WHERE account_id IN ",
            );
            push_list(&mut builder, chunk);
            builder.push(" ORDER BY account_id, role");
            builder.build_query_as().fetch_all(c).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

pub async fn set_disabled(
    tx: &mut Tx,
    account_id: &str,
    disabled: bool,
) -> Result<u64, sqlx::Error> {
    let done = on_tx!(tx, |c| sqlx::query(
        "UPDATE accounts SET disabled = $2 WHERE id = $1"
    )
    .bind(account_id)
    .bind(disabled)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    if disabled {
        on_tx!(tx, |c| sqlx::query(
            "UPDATE sessions SET revoked_at = $2 WHERE account_id = $1 AND revoked_at IS NULL"
        )
        .bind(account_id)
        .bind(Timestamp::now())
        .execute(c)
        .await
        .map(|_| ()))?;
    }
    Ok(done)
}

// ---- sessions and throttling ----

pub async fn insert_session(
    db: &Db,
    id: &str,
    token_hash: &str,
    account_id: &str,
    expires_at: Timestamp,
) -> Result<(), sqlx::Error> {
    on_pool!(db.write(), |c| {
        sqlx::query(
        "INSERT INTO sessions (id, token_hash, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)"
    )
    .bind(id)
    .bind(token_hash)
    .bind(account_id)
    .bind(Timestamp::now())
    .bind(expires_at)
    .execute(c)
    .await.map(|_| ())
    })?;
    Ok(())
}

/// The live session for a token hash: (session id, account row).
pub async fn live_session(
    db: &Db,
    token_hash: &str,
    now: Timestamp,
) -> Result<Option<(String, AccountRow)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        session_id: String,
        #[sqlx(flatten)]
        account: AccountRow,
    }
    let row: Option<Row> = on_pool!(db.read(), |c| {
        sqlx::query_as(
        "SELECT s.id AS session_id, a.id, a.username, a.password_hash, a.person_id, a.display_name,
                a.disabled, a.created_at
         FROM sessions s JOIN accounts a ON a.id = s.account_id
         WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 AND a.disabled = FALSE"
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(c)
    .await
    })?;
    Ok(row.map(|r| (r.session_id, r.account)))
}

pub async fn revoke_session(db: &Db, session_id: &str) -> Result<(), sqlx::Error> {
    on_pool!(db.write(), |c| sqlx::query(
        "UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL"
    )
    .bind(session_id)
    .bind(Timestamp::now())
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(())
}

/// The lock-out end for a username, if it is locked now.
pub async fn locked_until(
    db: &Db,
    username: &str,
    now: Timestamp,
) -> Result<Option<Timestamp>, sqlx::Error> {
    let until: Option<Option<Timestamp>> = on_pool!(db.read(), |c| sqlx::query_scalar(
        "SELECT locked_until FROM login_throttle WHERE username = $1"
    )
    .bind(username)
    .fetch_optional(c)
    .await)?;
    Ok(until.flatten().filter(|t| *t > now))
}

/// Records a failed login; returns the failure count in the current window.
pub async fn record_failure(
    db: &Db,
    username: &str,
    now: Timestamp,
    window_start: Timestamp,
) -> Result<i64, sqlx::Error> {
    on_pool!(db.write(), |c| {
        sqlx::query_scalar(
        "INSERT INTO login_throttle (username, failures, first_failure_at) VALUES ($1, 1, $2)
         ON CONFLICT (username) DO UPDATE SET
             failures = CASE WHEN login_throttle.first_failure_at < $3 THEN 1 ELSE login_throttle.failures + 1 END,
             first_failure_at = CASE WHEN login_throttle.first_failure_at < $3 THEN $2 ELSE login_throttle.first_failure_at END
         RETURNING failures"
    )
    .bind(username)
    .bind(now)
    .bind(window_start)
    .fetch_one(c)
    .await
    })
}

pub async fn lock(db: &Db, username: &str, until: Timestamp) -> Result<(), sqlx::Error> {
    on_pool!(db.write(), |c| sqlx::query(
        "UPDATE login_throttle SET locked_until = $2 WHERE username = $1"
    )
    .bind(username)
    .bind(until)
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(())
}

pub async fn clear_failures(db: &Db, username: &str) -> Result<(), sqlx::Error> {
    on_pool!(db.write(), |c| sqlx::query(
        "DELETE FROM login_throttle WHERE username = $1"
    )
    .bind(username)
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(())
}

// ---- proxies ----

#[allow(clippy::too_many_arguments)]
pub async fn insert_proxy(
    tx: &mut Tx,
    id: &str,
    principal: &str,
    proxy: &str,
    relationship: &str,
    scopes: &str,
    expires_at: Timestamp,
    created_by: &str,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO proxy_authorisations (id, principal_person_id, proxy_person_id, relationship,
             scopes, expires_at, created_by_account_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    )
    .bind(id)
    .bind(principal)
    .bind(proxy)
    .bind(relationship)
    .bind(scopes)
    .bind(expires_at)
    .bind(created_by)
    .bind(Timestamp::now())
    .execute(c)
    .await
    .map(|_| ()))?;
    Ok(())
}

pub async fn get_proxy(db: &Db, id: &str) -> Result<Option<ProxyRow>, sqlx::Error> {
    db.fetch_by(&format!("{PROXY_SELECT} WHERE p.id = $1"), id)
        .await
}

/// Authorisations given by (`as_principal`) or to (`!as_principal`) a person.
pub async fn list_proxies(
    db: &Db,
    person_id: &str,
    as_principal: bool,
) -> Result<Vec<ProxyRow>, sqlx::Error> {
    let column = if as_principal {
        "p.principal_person_id"
    } else {
        "p.proxy_person_id"
    };
    let sql = format!("{PROXY_SELECT} WHERE {column} = $1 ORDER BY p.created_at DESC LIMIT 200");
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(person_id)
    .fetch_all(c)
    .await)
}

/// The authorisation in force from `principal` to `proxy`, if any.
pub async fn active_proxy(
    db: &Db,
    principal: &str,
    proxy: &str,
    now: Timestamp,
) -> Result<Option<ProxyRow>, sqlx::Error> {
    let sql = format!(
        "{PROXY_SELECT} WHERE p.principal_person_id = $1 AND p.proxy_person_id = $2
         AND p.revoked_at IS NULL AND p.expires_at > $3 ORDER BY p.created_at DESC LIMIT 1"
    );
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(principal)
    .bind(proxy)
    .bind(now)
    .fetch_optional(c)
    .await)
}

pub async fn revoke_proxy(tx: &mut Tx, id: &str) -> Result<u64, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE proxy_authorisations SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL"
    )
    .bind(id)
    .bind(Timestamp::now())
    .execute(c)
    .await
    .map(|r| r.rows_affected()))
}

// ---- settings ----

pub async fn get_setting(db: &Db, key: &str) -> Result<Option<String>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_scalar(
        "SELECT value FROM settings WHERE key = $1"
    )
    .bind(key)
    .fetch_optional(c)
    .await)
}

/// Stores a setting inside the caller's transaction.
pub async fn put_setting_in(tx: &mut Tx, key: &str, value: &str) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| {
        sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2"
    )
    .bind(key)
    .bind(value)
    .execute(c)
    .await
    .map(|_| ())
    })
}

pub async fn put_setting(db: &Db, key: &str, value: &str) -> Result<(), sqlx::Error> {
    on_pool!(db.write(), |c| {
        sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2"
    )
    .bind(key)
    .bind(value)
    .execute(c)
    .await.map(|_| ())
    })?;
    Ok(())
}

/// Display names of accounts by id.
pub async fn account_names(db: &Db, ids: &[String]) -> Result<Vec<(String, String)>, sqlx::Error> {
    pairs(
        db,
        "SELECT id, display_name FROM accounts WHERE id IN ",
        ids,
    )
    .await
}

// ---- tags ----

/// A tag definition with its organisation's name and member count.
#[derive(sqlx::FromRow)]
pub struct TagRow {
    pub code: String,
    pub name: String,
    pub description: String,
    pub organisation_id: String,
    pub organisation_name: String,
    pub created_at: Timestamp,
}

const TAG_SELECT: &str = "SELECT t.code, t.name, t.description, t.organisation_id, \
     o.name AS organisation_name, t.created_at FROM tags t \
     JOIN organisations o ON o.id = t.organisation_id";

pub async fn insert_tag(db: &Db, t: &TagRow) -> Result<(), sqlx::Error> {
    on_pool!(db.write(), |c| sqlx::query(
        "INSERT INTO tags (code, name, description, organisation_id, created_at)
         VALUES ($1, $2, $3, $4, $5)"
    )
    .bind(&t.code)
    .bind(&t.name)
    .bind(&t.description)
    .bind(&t.organisation_id)
    .bind(t.created_at)
    .execute(c)
    .await
    .map(|_| ()))
}

pub async fn list_tags(db: &Db) -> Result<Vec<TagRow>, sqlx::Error> {
    let sql = format!("{TAG_SELECT} ORDER BY t.code");
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .fetch_all(c)
    .await)
}

pub async fn get_tag(db: &Db, code: &str) -> Result<Option<TagRow>, sqlx::Error> {
    db.fetch_by(&format!("{TAG_SELECT} WHERE t.code = $1"), code)
        .await
}

/// Members per tag hash, for the hashes given.
pub async fn tag_members(db: &Db, hashes: &[String]) -> Result<Vec<(String, i64)>, sqlx::Error> {
    if hashes.is_empty() {
        return Ok(Vec::new());
    }
    on_pool!(db.read(), |c| {
        let mut b = sqlx::QueryBuilder::new(
            "SELECT tag_hash, COUNT(*) FROM person_tags WHERE tag_hash IN ",
        );
        push_list(&mut b, hashes);
        b.push(" GROUP BY tag_hash");
        b.build_query_as().fetch_all(c).await
    })
}

/// The ids among `ids` that are registered persons.
pub async fn existing_persons(db: &Db, ids: &[String]) -> Result<Vec<String>, sqlx::Error> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let rows: Vec<(String,)> = on_pool!(db.read(), |c| {
            let mut b = sqlx::QueryBuilder::new("SELECT id FROM persons WHERE id IN ");
            push_list(&mut b, chunk);
            b.build_query_as().fetch_all(c).await
        })?;
        out.extend(rows.into_iter().map(|(id,)| id));
    }
    Ok(out)
}

/// Of `ids`, those already carrying the tag.
pub async fn tagged_among(
    tx: &mut Tx,
    tag_hash: &str,
    ids: &[String],
) -> Result<Vec<String>, sqlx::Error> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(String,)> = on_tx!(tx, |c| {
            let mut b =
                sqlx::QueryBuilder::new("SELECT person_id FROM person_tags WHERE tag_hash = ");
            b.push_bind(tag_hash).push(" AND person_id IN ");
            push_list(&mut b, chunk);
            b.build_query_as().fetch_all(c).await
        })?;
        out.extend(rows.into_iter().map(|(id,)| id));
    }
    Ok(out)
}

/// Tags `ids`, set-based per 500; returns how many were newly tagged (a concurrent change
/// that tagged one first is not an error).
pub async fn add_tagged(
    tx: &mut Tx,
    tag_hash: &str,
    ids: &[String],
    at: Timestamp,
) -> Result<u64, sqlx::Error> {
    let mut added = 0;
    for chunk in ids.chunks(500) {
        added += on_tx!(tx, |c| {
            let mut b = sqlx::QueryBuilder::new(
                "INSERT INTO person_tags (tag_hash, person_id, created_at) ",
            );
            b.push_values(chunk, |mut row, id| {
                row.push_bind(tag_hash).push_bind(id).push_bind(at);
            });
            b.push(" ON CONFLICT (tag_hash, person_id) DO NOTHING");
            b.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(added)
}

/// Untags `ids`, set-based per 500.
pub async fn remove_tagged(tx: &mut Tx, tag_hash: &str, ids: &[String]) -> Result<(), sqlx::Error> {
    for chunk in ids.chunks(500) {
        on_tx!(tx, |c| {
            let mut b = sqlx::QueryBuilder::new("DELETE FROM person_tags WHERE tag_hash = ");
            b.push_bind(tag_hash).push(" AND person_id IN ");
            push_list(&mut b, chunk);
            b.build().execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// A person's tag hashes and since when she carries each.
pub async fn tags_of_person(
    db: &Db,
    person_id: &str,
) -> Result<Vec<(String, Timestamp)>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT tag_hash, created_at FROM person_tags WHERE person_id = $1"
    )
    .bind(person_id)
    .fetch_all(c)
    .await)
}

/// Members of a tag, by person id, after the cursor.
pub async fn tag_member_page(
    db: &Db,
    tag_hash: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<PersonRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {} FROM person_tags t JOIN persons p ON p.id = t.person_id
         WHERE t.tag_hash = $1 AND ($2 = '' OR p.id > $2) ORDER BY p.id LIMIT $3",
        PERSON_COLUMNS
            .split(", ")
            .map(|c| format!("p.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(tag_hash)
    .bind(after.unwrap_or_default())
    .bind(limit)
    .fetch_all(c)
    .await)
}

/// Sealed phones of the persons among `ids` that have one.
pub async fn sealed_phones(db: &Db, ids: &[String]) -> Result<Vec<(String, Vec<u8>)>, sqlx::Error> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let rows: Vec<(String, Vec<u8>)> = on_pool!(db.read(), |c| {
            let mut b = sqlx::QueryBuilder::new(
                "SELECT id, phone_enc FROM persons WHERE phone_enc IS NOT NULL AND id IN ",
            );
            push_list(&mut b, chunk);
            b.build_query_as().fetch_all(c).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

/// Records that the register data of `ids` changed (`kind`: `person`, `tag`), in the
/// transaction that changes it, 500 to a statement.
pub async fn record_changes(
    tx: &mut Tx,
    ids: &[String],
    kind: &str,
    at: Timestamp,
) -> Result<(), sqlx::Error> {
    for chunk in ids.chunks(500) {
        on_tx!(tx, |c| {
            let mut b =
                sqlx::QueryBuilder::new("INSERT INTO register_changes (person_id, kind, at) ");
            b.push_values(chunk, |mut row, id| {
                row.push_bind(id).push_bind(kind).push_bind(at);
            });
            b.build().execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// The oldest `limit` register changes: (seq, person id).
pub async fn register_changes(db: &Db, limit: i64) -> Result<Vec<(i64, String)>, sqlx::Error> {
    on_pool!(db.write(), |c| sqlx::query_as(
        "SELECT seq, person_id FROM register_changes ORDER BY seq LIMIT $1"
    )
    .bind(limit)
    .fetch_all(c)
    .await)
}

/// Forgets the register changes handled (by seq), 500 to a statement.
pub async fn forget_changes(db: &Db, seqs: &[i64]) -> Result<(), sqlx::Error> {
    for chunk in seqs.chunks(500) {
        on_pool!(db.write(), |c| {
            let mut b = sqlx::QueryBuilder::new("DELETE FROM register_changes WHERE seq IN (");
            let mut list = b.separated(", ");
            for seq in chunk {
                list.push_bind(*seq);
            }
            b.push(")");
            b.build().execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}
