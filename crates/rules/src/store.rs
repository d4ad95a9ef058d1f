//! Policies and proactive decisions in the store, and the population registers a run
//! reads (persons and their tags, owned by the identity crate).

use kernel::db::{Db, Tx, push_list};
use kernel::time::Timestamp;
use kernel::{on_pool, on_tx};

/// A policy as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PolicyRow {
    pub code: String,
    pub name: String,
    pub summary: String,
    pub package: String,
    pub variable: String,
    pub organisation_id: String,
    pub basis: String,
    pub status: String,
    pub created_at: Timestamp,
    pub last_run_at: Option<Timestamp>,
    pub last_digest: Option<String>,
}

const POLICY_COLUMNS: &str = "code, name, summary, package, variable, organisation_id, basis, \
     status, created_at, last_run_at, last_digest";

pub async fn insert_policy(tx: &mut Tx, p: &PolicyRow) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO rules_policies (code, name, summary, package, variable, organisation_id,
         basis, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    )
    .bind(&p.code)
    .bind(&p.name)
    .bind(&p.summary)
    .bind(&p.package)
    .bind(&p.variable)
    .bind(&p.organisation_id)
    .bind(&p.basis)
    .bind(&p.status)
    .bind(p.created_at)
    .execute(c)
    .await
    .map(|_| ()))
}

pub async fn policies(db: &Db) -> Result<Vec<PolicyRow>, sqlx::Error> {
    let sql = format!("SELECT {POLICY_COLUMNS} FROM rules_policies ORDER BY code");
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .fetch_all(c)
    .await)
}

pub async fn policy(db: &Db, code: &str) -> Result<Option<PolicyRow>, sqlx::Error> {
    db.fetch_by(
        &format!("SELECT {POLICY_COLUMNS} FROM rules_policies WHERE code = $1"),
        code,
    )
    .await
}

pub async fn set_last_run(
    tx: &mut Tx,
    code: &str,
    at: Timestamp,
    digest: &str,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE rules_policies SET last_run_at = $1, last_digest = $2 WHERE code = $3"
    )
    .bind(at)
    .bind(digest)
    .bind(code)
    .execute(c)
    .await
    .map(|_| ()))
}

/// Decisions per status of a policy.
pub async fn decision_counts(db: &Db, code: &str) -> Result<Vec<(String, i64)>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT status, COUNT(*) FROM rules_decisions WHERE policy_code = $1
         GROUP BY status ORDER BY status"
    )
    .bind(code)
    .fetch_all(c)
    .await)
}

/// What a run needs of a person: the register's fields the sources name.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PersonInputs {
    pub id: String,
    pub birth_date: String,
    pub sex: String,
    pub region_code: String,
    pub household_id: Option<String>,
}

const PERSON_INPUTS: &str = "SELECT id, birth_date, sex, region_code, household_id FROM persons";

/// Persons after `after` by id, `limit` at a time (or only `only`).
pub async fn person_inputs(
    db: &Db,
    after: &str,
    limit: i64,
    only: Option<&[String]>,
) -> Result<Vec<PersonInputs>, sqlx::Error> {
    on_pool!(db.read(), |c| {
        let mut b = sqlx::QueryBuilder::new(format!("{PERSON_INPUTS} WHERE id > "));
        b.push_bind(after);
        if let Some(ids) = only {
            b.push(" AND id IN ");
            push_list(&mut b, ids);
        }
        b.push(" ORDER BY id LIMIT ").push_bind(limit);
        b.build_query_as().fetch_all(c).await
    })
}

/// The persons of the households given (to compute household variables whole).
pub async fn household_members(
    db: &Db,
    households: &[String],
) -> Result<Vec<PersonInputs>, sqlx::Error> {
    let mut out = Vec::new();
    for chunk in households.chunks(500) {
        let rows: Vec<PersonInputs> = on_pool!(db.read(), |c| {
            let mut b = sqlx::QueryBuilder::new(format!("{PERSON_INPUTS} WHERE household_id IN "));
            push_list(&mut b, chunk);
            b.build_query_as().fetch_all(c).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

/// Every person carrying the tag (by its keyed hash).
pub async fn tagged(
    db: &Db,
    tag_hash: &str,
    among: Option<&[String]>,
) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(String,)> = on_pool!(db.read(), |c| {
        let mut b = sqlx::QueryBuilder::new("SELECT person_id FROM person_tags WHERE tag_hash = ");
        b.push_bind(tag_hash);
        if let Some(persons) = among {
            if persons.is_empty() {
                return Ok(Vec::new());
            }
            b.push(" AND person_id IN ");
            push_list(&mut b, persons);
        }
        b.build_query_as().fetch_all(c).await
    })?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// A decision as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DecisionRow {
    pub id: String,
    pub policy_code: String,
    pub person_id: String,
    pub status: String,
    pub period: String,
    pub amount: f64,
    pub sentence_enc: Vec<u8>,
    pub explanation_enc: Vec<u8>,
    pub inputs_enc: Vec<u8>,
    pub review_reason_enc: Option<Vec<u8>>,
    pub digest: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub decided_by: Option<String>,
}

const DECISION_COLUMNS: &str = "id, policy_code, person_id, status, period, amount, \
     sentence_enc, explanation_enc, inputs_enc, review_reason_enc, digest, created_at, updated_at, \
     decided_by";

/// What a run needs of an earlier decision.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DecisionState {
    pub person_id: String,
    pub id: String,
    pub status: String,
    pub amount: f64,
    pub digest: String,
}

/// Each person's decision under a policy (or only of the persons named).
pub async fn decision_states(
    db: &Db,
    code: &str,
    only: Option<&[String]>,
) -> Result<Vec<DecisionState>, sqlx::Error> {
    const SELECT: &str =
        "SELECT person_id, id, status, amount, digest FROM rules_decisions WHERE policy_code = ";
    let Some(ids) = only else {
        return on_pool!(db.read(), |c| {
            let mut b = sqlx::QueryBuilder::new(SELECT);
            b.push_bind(code);
            b.build_query_as().fetch_all(c).await
        });
    };
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<DecisionState> = on_pool!(db.read(), |c| {
            let mut b = sqlx::QueryBuilder::new(SELECT);
            b.push_bind(code).push(" AND person_id IN ");
            push_list(&mut b, chunk);
            b.build_query_as().fetch_all(c).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

/// Writes new decisions, 200 to a statement.
pub async fn insert_decisions(tx: &mut Tx, rows: &[DecisionRow]) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(200) {
        on_tx!(tx, |c| {
            let mut b = sqlx::QueryBuilder::new(format!(
                "INSERT INTO rules_decisions ({DECISION_COLUMNS}) "
            ));
            b.push_values(chunk, |mut row, d| {
                row.push_bind(&d.id)
                    .push_bind(&d.policy_code)
                    .push_bind(&d.person_id)
                    .push_bind(&d.status)
                    .push_bind(&d.period)
                    .push_bind(d.amount)
                    .push_bind(&d.sentence_enc)
                    .push_bind(&d.explanation_enc)
                    .push_bind(&d.inputs_enc)
                    .push_bind(&d.review_reason_enc)
                    .push_bind(&d.digest)
                    .push_bind(d.created_at)
                    .push_bind(d.updated_at)
                    .push_bind(&d.decided_by);
            });
            // A concurrent run that proposed the same person first wins.
            b.push(" ON CONFLICT (policy_code, person_id) DO NOTHING");
            b.build().execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// Raises a confirmed enrolment to what the rules now give (amount, reasons, situation,
/// rules), keeping who confirmed it, if it is still confirmed at `before`.
pub async fn raise_enrolment(
    tx: &mut Tx,
    d: &DecisionRow,
    before: f64,
) -> Result<bool, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE rules_decisions SET period = $1, amount = $2, sentence_enc = $3,
         explanation_enc = $4, inputs_enc = $5, digest = $6, updated_at = $7
         WHERE id = $8 AND status = 'confirmed' AND amount = $9"
    )
    .bind(&d.period)
    .bind(d.amount)
    .bind(&d.sentence_enc)
    .bind(&d.explanation_enc)
    .bind(&d.inputs_enc)
    .bind(&d.digest)
    .bind(d.updated_at)
    .bind(&d.id)
    .bind(before)
    .execute(c)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// Re-computes a decision in place — a new proposal where one had ended, or a proposal
/// refreshed — if it is still `expected` (a concurrent decision wins).
pub async fn rewrite_decision(
    tx: &mut Tx,
    d: &DecisionRow,
    expected: &str,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE rules_decisions SET status = $1, period = $2, amount = $3, sentence_enc = $4,
         explanation_enc = $5, inputs_enc = $6, digest = $7, updated_at = $8, decided_by = $9,
         review_reason_enc = NULL WHERE id = $10 AND status = $11"
    )
    .bind(&d.status)
    .bind(&d.period)
    .bind(d.amount)
    .bind(&d.sentence_enc)
    .bind(&d.explanation_enc)
    .bind(&d.inputs_enc)
    .bind(&d.digest)
    .bind(d.updated_at)
    .bind(&d.decided_by)
    .bind(&d.id)
    .bind(expected)
    .execute(c)
    .await
    .map(|_| ()))
}

/// Flags an enrolment for review, keeping what it was decided on; `reason` says why
/// she no longer qualifies. Only if it is still confirmed.
pub async fn flag_review(
    tx: &mut Tx,
    id: &str,
    reason: &[u8],
    at: Timestamp,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE rules_decisions SET status = 'review', review_reason_enc = $1, updated_at = $2
         WHERE id = $3 AND status = 'confirmed'"
    )
    .bind(reason)
    .bind(at)
    .bind(id)
    .execute(c)
    .await
    .map(|_| ()))
}

/// An enrolment under review whose person qualifies again goes back to confirmed, as it
/// was decided. Only if it is still under review.
pub async fn restore_confirmed(tx: &mut Tx, id: &str, at: Timestamp) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE rules_decisions SET status = 'confirmed', review_reason_enc = NULL, updated_at = $1
         WHERE id = $2 AND status = 'review'"
    )
    .bind(at)
    .bind(id)
    .execute(c)
    .await
    .map(|_| ()))
}

/// Removes proposals nobody confirmed whose person is no longer entitled (those still
/// proposed: one confirmed or declined meanwhile stays).
pub async fn delete_proposals(tx: &mut Tx, ids: &[String]) -> Result<(), sqlx::Error> {
    for chunk in ids.chunks(500) {
        on_tx!(tx, |c| {
            let mut b = sqlx::QueryBuilder::new(
                "DELETE FROM rules_decisions WHERE status = 'proposed' AND id IN ",
            );
            push_list(&mut b, chunk);
            b.build().execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// Decisions of a policy by id (only those given that belong to it), in the transaction.
pub async fn decisions_by_id(
    tx: &mut Tx,
    code: &str,
    ids: &[String],
) -> Result<Vec<DecisionRow>, sqlx::Error> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<DecisionRow> = on_tx!(tx, |c| {
            let mut b = sqlx::QueryBuilder::new(format!(
                "SELECT {DECISION_COLUMNS} FROM rules_decisions WHERE policy_code = "
            ));
            b.push_bind(code).push(" AND id IN ");
            push_list(&mut b, chunk);
            b.build_query_as().fetch_all(c).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

/// Moves decisions that are `from` to `status`, recording who decided; returns how
/// many moved (fewer when one changed meanwhile).
pub async fn set_status(
    tx: &mut Tx,
    ids: &[String],
    from: &[&str],
    status: &str,
    by: &str,
    at: Timestamp,
) -> Result<u64, sqlx::Error> {
    let from: Vec<String> = from.iter().map(|s| (*s).to_string()).collect();
    let mut moved = 0;
    for chunk in ids.chunks(500) {
        moved += on_tx!(tx, |c| {
            let mut b = sqlx::QueryBuilder::new("UPDATE rules_decisions SET status = ");
            b.push_bind(status)
                .push(", decided_by = ")
                .push_bind(by)
                .push(", updated_at = ")
                .push_bind(at)
                .push(" WHERE status IN ");
            push_list(&mut b, &from);
            b.push(" AND id IN ");
            push_list(&mut b, chunk);
            b.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(moved)
}

/// A page of a policy's decisions with the person's name (to be masked).
pub async fn decision_page(
    db: &Db,
    code: &str,
    status: Option<&str>,
    after: &str,
    limit: i64,
) -> Result<Vec<(DecisionRow, String)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Joined {
        #[sqlx(flatten)]
        d: DecisionRow,
        name: String,
    }
    let columns = DECISION_COLUMNS
        .split(", ")
        .map(|c| format!("d.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    let rows: Vec<Joined> = on_pool!(db.read(), |c| {
        let mut b = sqlx::QueryBuilder::new(format!(
            "SELECT {columns}, p.name FROM rules_decisions d JOIN persons p ON p.id = d.person_id
             WHERE d.policy_code = "
        ));
        b.push_bind(code).push(" AND d.id > ").push_bind(after);
        if let Some(status) = status {
            b.push(" AND d.status = ").push_bind(status);
        }
        b.push(" ORDER BY d.id LIMIT ").push_bind(limit);
        b.build_query_as().fetch_all(c).await
    })?;
    Ok(rows.into_iter().map(|j| (j.d, j.name)).collect())
}

/// A person's decisions: (policy, status).
pub async fn decisions_of_person(
    db: &Db,
    person_id: &str,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT policy_code, status FROM rules_decisions WHERE person_id = $1"
    )
    .bind(person_id)
    .fetch_all(c)
    .await)
}

/// A person's decision under one policy.
pub async fn decision_of_person(
    tx: &mut Tx,
    code: &str,
    person_id: &str,
) -> Result<Option<DecisionRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {DECISION_COLUMNS} FROM rules_decisions WHERE policy_code = $1 AND person_id = $2"
    );
    on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(code)
        .bind(person_id)
        .fetch_optional(c)
        .await)
}

/// One decision by id.
pub async fn decision(tx: &mut Tx, id: &str) -> Result<Option<DecisionRow>, sqlx::Error> {
    let sql = format!("SELECT {DECISION_COLUMNS} FROM rules_decisions WHERE id = $1");
    on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(id)
        .fetch_optional(c)
        .await)
}

/// A package version as stored (its files apart, read only when loaded).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct VersionRow {
    pub package: String,
    pub digest: String,
    pub source: String,
    pub note: String,
    pub tests_passed: i64,
    pub uploaded_by: String,
    pub uploaded_at: Timestamp,
    /// Its latest publication, if it was ever published.
    pub published_at: Option<Timestamp>,
}

/// Keeps a version; `false` when the package already has it (nothing is changed).
pub async fn insert_version(tx: &mut Tx, v: &VersionRow, files: &str) -> Result<bool, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO rules_package_versions (package, digest, files, source, note, tests_passed,
         uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (package, digest) DO NOTHING"
    )
    .bind(&v.package)
    .bind(&v.digest)
    .bind(files)
    .bind(&v.source)
    .bind(&v.note)
    .bind(v.tests_passed)
    .bind(&v.uploaded_by)
    .bind(v.uploaded_at)
    .execute(c)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// Records a publication: from now on the package is served at `digest`.
pub async fn insert_publication(
    tx: &mut Tx,
    package: &str,
    digest: &str,
    by: &str,
    at: Timestamp,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO rules_publications (package, digest, published_by, published_at)
         VALUES ($1, $2, $3, $4)"
    )
    .bind(package)
    .bind(digest)
    .bind(by)
    .bind(at)
    .execute(c)
    .await
    .map(|_| ()))
}

const VERSION_COLUMNS: &str = "v.package, v.digest, v.source, v.note, v.tests_passed, \
     v.uploaded_by, v.uploaded_at, (SELECT MAX(p.published_at) FROM rules_publications p \
     WHERE p.package = v.package AND p.digest = v.digest) AS published_at";

/// A package's versions, newest upload first.
pub async fn versions(db: &Db, package: &str) -> Result<Vec<VersionRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM rules_package_versions v WHERE v.package = $1
         ORDER BY v.uploaded_at DESC, v.digest"
    );
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(package)
    .fetch_all(c)
    .await)
}

/// One version with its files (JSON).
pub async fn version_files(
    db: &Db,
    package: &str,
    digest: &str,
) -> Result<Option<(VersionRow, String)>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        version: VersionRow,
        files: String,
    }
    let sql = format!(
        "SELECT {VERSION_COLUMNS}, v.files FROM rules_package_versions v
         WHERE v.package = $1 AND v.digest = $2"
    );
    let row: Option<Row> = on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(package)
    .bind(digest)
    .fetch_optional(c)
    .await)?;
    Ok(row.map(|r| (r.version, r.files)))
}

/// The files of the version with `digest`, whichever package it is of.
pub async fn files_by_digest(db: &Db, digest: &str) -> Result<Option<String>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_scalar(
        "SELECT files FROM rules_package_versions WHERE digest = $1 LIMIT 1"
    )
    .bind(digest)
    .fetch_optional(c)
    .await)
}

/// Each package's version in force: its latest publication.
pub async fn published(db: &Db) -> Result<Vec<(String, String)>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT p.package, p.digest FROM rules_publications p
         WHERE p.seq = (SELECT MAX(q.seq) FROM rules_publications q WHERE q.package = p.package)
         ORDER BY p.package"
    )
    .fetch_all(c)
    .await)
}
