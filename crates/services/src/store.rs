//! SQL for the catalogue, applications, cases, materials, uploads, timelines, ratings and
//! the holiday calendar. Dates are `YYYY-MM-DD` text (they compare as text).

use kernel::db::{Db, Tx, push_list};
use kernel::time::Timestamp;
use kernel::{on_pool, on_tx};

/// A service item row.
#[derive(sqlx::FromRow, Clone)]
pub struct ItemRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub search_text: String,
    pub lead_org_id: String,
    pub definition: String,
    pub statutory_days: i64,
    pub committed_days: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

const ITEM_COLUMNS: &str = "id, code, name, search_text, lead_org_id, definition, \
     statutory_days, committed_days, created_at, updated_at";

pub async fn insert_item(db: &Db, r: &ItemRow) -> Result<(), sqlx::Error> {
    on_pool!(db.write(), |c| sqlx::query(
        "INSERT INTO service_items (id, code, name, search_text, lead_org_id, definition,
             statutory_days, committed_days, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    )
    .bind(&r.id)
    .bind(&r.code)
    .bind(&r.name)
    .bind(&r.search_text)
    .bind(&r.lead_org_id)
    .bind(&r.definition)
    .bind(r.statutory_days)
    .bind(r.committed_days)
    .bind(r.created_at)
    .bind(r.updated_at)
    .execute(c)
    .await
    .map(|_| ()))
}

/// Replaces an item's definition (its code and id stay); false when there is none.
pub async fn update_item(db: &Db, r: &ItemRow) -> Result<bool, sqlx::Error> {
    let n = on_pool!(db.write(), |c| sqlx::query(
        "UPDATE service_items SET name = $2, search_text = $3, lead_org_id = $4,
             definition = $5, statutory_days = $6, committed_days = $7, updated_at = $8
         WHERE code = $1"
    )
    .bind(&r.code)
    .bind(&r.name)
    .bind(&r.search_text)
    .bind(&r.lead_org_id)
    .bind(&r.definition)
    .bind(r.statutory_days)
    .bind(r.committed_days)
    .bind(r.updated_at)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

pub async fn item_by_code(db: &Db, code: &str) -> Result<Option<ItemRow>, sqlx::Error> {
    db.fetch_by(
        &format!("SELECT {ITEM_COLUMNS} FROM service_items WHERE code = $1"),
        code,
    )
    .await
}

/// Items by id (any order).
pub async fn items_by_ids(db: &Db, ids: &[String]) -> Result<Vec<ItemRow>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    on_pool!(db.read(), |c| {
        let mut b = sqlx::QueryBuilder::new(format!(
            "SELECT {ITEM_COLUMNS} FROM service_items WHERE id IN "
        ));
        push_list(&mut b, ids);
        b.build_query_as().fetch_all(c).await
    })
}

/// Items whose search text holds every word, by name.
pub async fn search_items(db: &Db, words: &[String]) -> Result<Vec<ItemRow>, sqlx::Error> {
    on_pool!(db.read(), |c| {
        let mut b = sqlx::QueryBuilder::new(format!(
            "SELECT {ITEM_COLUMNS} FROM service_items WHERE 1 = 1"
        ));
        for word in words {
            b.push(" AND search_text LIKE ")
                .push_bind(format!("%{word}%"));
        }
        b.push(" ORDER BY code");
        b.build_query_as().fetch_all(c).await
    })
}

/// A life event row.
#[derive(sqlx::FromRow, Clone)]
pub struct LifeEventRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub summary: String,
    pub item_codes: String,
    pub created_at: Timestamp,
}

pub async fn insert_life_event(db: &Db, r: &LifeEventRow) -> Result<(), sqlx::Error> {
    on_pool!(db.write(), |c| sqlx::query(
        "INSERT INTO life_events (id, code, name, summary, item_codes, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)"
    )
    .bind(&r.id)
    .bind(&r.code)
    .bind(&r.name)
    .bind(&r.summary)
    .bind(&r.item_codes)
    .bind(r.created_at)
    .execute(c)
    .await
    .map(|_| ()))
}

pub async fn life_events(db: &Db) -> Result<Vec<LifeEventRow>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT id, code, name, summary, item_codes, created_at FROM life_events ORDER BY code"
    )
    .fetch_all(c)
    .await)
}

pub async fn life_event_by(
    db: &Db,
    column: &str,
    key: &str,
) -> Result<Option<LifeEventRow>, sqlx::Error> {
    let column = if column == "id" { "id" } else { "code" };
    db.fetch_by(
        &format!(
            "SELECT id, code, name, summary, item_codes, created_at FROM life_events WHERE {column} = $1"
        ),
        key,
    )
    .await
}

/// An application row.
#[derive(sqlx::FromRow, Clone)]
pub struct ApplicationRow {
    pub id: String,
    pub number: String,
    pub person_id: String,
    pub account_id: String,
    pub proxy_authorisation_id: Option<String>,
    pub life_event_id: Option<String>,
    pub title: String,
    pub item_ids: String,
    pub state: String,
    pub form_enc: Vec<u8>,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub submitted_at: Option<Timestamp>,
}

const APPLICATION_COLUMNS: &str = "id, number, person_id, account_id, proxy_authorisation_id, \
     life_event_id, title, item_ids, state, form_enc, version, created_at, updated_at, submitted_at";

pub async fn insert_application(tx: &mut Tx, r: &ApplicationRow) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO applications (id, number, person_id, account_id, proxy_authorisation_id,
             life_event_id, title, item_ids, state, form_enc, version, created_at, updated_at,
             submitted_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    )
    .bind(&r.id)
    .bind(&r.number)
    .bind(&r.person_id)
    .bind(&r.account_id)
    .bind(&r.proxy_authorisation_id)
    .bind(&r.life_event_id)
    .bind(&r.title)
    .bind(&r.item_ids)
    .bind(&r.state)
    .bind(&r.form_enc)
    .bind(r.version)
    .bind(r.created_at)
    .bind(r.updated_at)
    .bind(r.submitted_at)
    .execute(c)
    .await
    .map(|_| ()))
}

pub async fn get_application(db: &Db, id: &str) -> Result<Option<ApplicationRow>, sqlx::Error> {
    db.fetch_by(
        &format!("SELECT {APPLICATION_COLUMNS} FROM applications WHERE id = $1"),
        id,
    )
    .await
}

/// A person's applications, newest first, after the cursor.
pub async fn applications_of(
    db: &Db,
    person_id: &str,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<ApplicationRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {APPLICATION_COLUMNS} FROM applications WHERE person_id = $1
         AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3"
    );
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(
        sql.as_str()
    ))
    .bind(person_id)
    .bind(before.unwrap_or_default())
    .bind(limit)
    .fetch_all(c)
    .await)
}

/// Writes an application's form, state and submission time if its version is still
/// `version`; false when someone changed it meanwhile.
pub async fn update_application(
    tx: &mut Tx,
    id: &str,
    version: i64,
    state: &str,
    form_enc: &[u8],
    submitted_at: Option<Timestamp>,
) -> Result<bool, sqlx::Error> {
    let n = on_tx!(tx, |c| sqlx::query(
        "UPDATE applications SET state = $3, form_enc = $4, version = version + 1,
             updated_at = $5, submitted_at = COALESCE(submitted_at, $6)
         WHERE id = $1 AND version = $2"
    )
    .bind(id)
    .bind(version)
    .bind(state)
    .bind(form_enc)
    .bind(Timestamp::now())
    .bind(submitted_at)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Sets an application's state (its cases moved it), bumping its version.
pub async fn set_application_state(tx: &mut Tx, id: &str, state: &str) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE applications SET state = $2, version = version + 1, updated_at = $3 WHERE id = $1"
    )
    .bind(id)
    .bind(state)
    .bind(Timestamp::now())
    .execute(c)
    .await
    .map(|_| ()))
}

/// A material attachment row.
#[derive(sqlx::FromRow, Clone)]
pub struct MaterialRow {
    pub application_id: String,
    pub material_key: String,
    pub source: String,
    pub reference: String,
    pub detail_enc: Vec<u8>,
    pub created_at: Timestamp,
}

/// Attaches (or re-attaches) a material.
pub async fn put_material(tx: &mut Tx, r: &MaterialRow) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "DELETE FROM application_materials WHERE application_id = $1 AND material_key = $2"
    )
    .bind(&r.application_id)
    .bind(&r.material_key)
    .execute(&mut *c)
    .await
    .map(|_| ()))?;
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO application_materials (application_id, material_key, source, reference,
             detail_enc, created_at) VALUES ($1, $2, $3, $4, $5, $6)"
    )
    .bind(&r.application_id)
    .bind(&r.material_key)
    .bind(&r.source)
    .bind(&r.reference)
    .bind(&r.detail_enc)
    .bind(r.created_at)
    .execute(c)
    .await
    .map(|_| ()))
}

pub async fn materials_of(db: &Db, application_id: &str) -> Result<Vec<MaterialRow>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT application_id, material_key, source, reference, detail_enc, created_at
         FROM application_materials WHERE application_id = $1"
    )
    .bind(application_id)
    .fetch_all(c)
    .await)
}

/// An uploaded file row.
#[derive(sqlx::FromRow, Clone)]
pub struct UploadRow {
    pub id: String,
    pub application_id: String,
    pub material_key: String,
    pub blob_key: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: Timestamp,
}

pub async fn insert_upload(tx: &mut Tx, r: &UploadRow) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO application_uploads (id, application_id, material_key, blob_key, file_name,
             content_type, size, sha256, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    )
    .bind(&r.id)
    .bind(&r.application_id)
    .bind(&r.material_key)
    .bind(&r.blob_key)
    .bind(&r.file_name)
    .bind(&r.content_type)
    .bind(r.size)
    .bind(&r.sha256)
    .bind(r.created_at)
    .execute(c)
    .await
    .map(|_| ()))
}

pub async fn get_upload(db: &Db, id: &str) -> Result<Option<UploadRow>, sqlx::Error> {
    db.fetch_by(
        "SELECT id, application_id, material_key, blob_key, file_name, content_type, size,
             sha256, created_at FROM application_uploads WHERE id = $1",
        id,
    )
    .await
}

/// Whether a blob key is named by an upload row.
pub async fn blob_known(db: &Db, blob_key: &str) -> Result<bool, sqlx::Error> {
    let n: (i64,) = on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT COUNT(*) FROM application_uploads WHERE blob_key = $1"
    )
    .bind(blob_key)
    .fetch_one(c)
    .await)?;
    Ok(n.0 > 0)
}

/// A timeline row.
#[derive(sqlx::FromRow, Clone)]
pub struct EventRow {
    pub id: String,
    pub application_id: String,
    pub case_id: Option<String>,
    pub kind: String,
    pub step_name: Option<String>,
    pub actor_name: String,
    pub note: Option<String>,
    pub created_at: Timestamp,
}

pub async fn insert_event(tx: &mut Tx, r: &EventRow) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO application_events (id, application_id, case_id, kind, step_name,
             actor_name, note, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    )
    .bind(&r.id)
    .bind(&r.application_id)
    .bind(&r.case_id)
    .bind(&r.kind)
    .bind(&r.step_name)
    .bind(&r.actor_name)
    .bind(&r.note)
    .bind(r.created_at)
    .execute(c)
    .await
    .map(|_| ()))
}

pub async fn events_of(db: &Db, application_id: &str) -> Result<Vec<EventRow>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT id, application_id, case_id, kind, step_name, actor_name, note, created_at
         FROM application_events WHERE application_id = $1 ORDER BY created_at, id"
    )
    .bind(application_id)
    .fetch_all(c)
    .await)
}

/// A case row with its item, application number, lead department's name and rating.
#[derive(sqlx::FromRow, Clone)]
pub struct CaseRow {
    pub id: String,
    pub application_id: String,
    pub item_id: String,
    pub lead_org_id: String,
    pub step_index: i64,
    pub step_org_id: String,
    pub step_role: String,
    pub state: String,
    pub version: i64,
    pub submitted_on: String,
    pub due_on: String,
    pub paused_since: Option<String>,
    pub paused_days: i64,
    pub finished_on: Option<String>,
    pub working_days: Option<i64>,
    pub escalated_at: Option<Timestamp>,
    pub result_credential_id: Option<String>,
    pub outcome_note: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub number: String,
    pub person_id: String,
    pub item_code: String,
    pub item_name: String,
    pub lead_org_name: String,
    pub rating: Option<i64>,
}

const CASE_SELECT: &str = "SELECT k.id, k.application_id, k.item_id, k.lead_org_id, \
     k.step_index, k.step_org_id, k.step_role, k.state, k.version, k.submitted_on, k.due_on, \
     k.paused_since, k.paused_days, k.finished_on, k.working_days, k.escalated_at, \
     k.result_credential_id, k.outcome_note, k.created_at, k.updated_at, a.number, a.person_id, \
     i.code AS item_code, i.name AS item_name, o.name AS lead_org_name, r.score AS rating \
     FROM cases k JOIN applications a ON a.id = k.application_id \
     JOIN service_items i ON i.id = k.item_id JOIN organisations o ON o.id = k.lead_org_id \
     LEFT JOIN case_ratings r ON r.case_id = k.id";

pub async fn insert_case(tx: &mut Tx, r: &CaseRow) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO cases (id, application_id, item_id, lead_org_id, step_index, step_org_id,
             step_role, state, version, submitted_on, due_on, paused_since, paused_days,
             finished_on, working_days, escalated_at, result_credential_id, outcome_note,
             created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
             $18, $19, $20)"
    )
    .bind(&r.id)
    .bind(&r.application_id)
    .bind(&r.item_id)
    .bind(&r.lead_org_id)
    .bind(r.step_index)
    .bind(&r.step_org_id)
    .bind(&r.step_role)
    .bind(&r.state)
    .bind(r.version)
    .bind(&r.submitted_on)
    .bind(&r.due_on)
    .bind(&r.paused_since)
    .bind(r.paused_days)
    .bind(&r.finished_on)
    .bind(r.working_days)
    .bind(r.escalated_at)
    .bind(&r.result_credential_id)
    .bind(&r.outcome_note)
    .bind(r.created_at)
    .bind(r.updated_at)
    .execute(c)
    .await
    .map(|_| ()))
}

/// Writes a case's moving parts if its version is still `expected`; false when another
/// action got there first (the caller answers 409).
pub async fn update_case(tx: &mut Tx, r: &CaseRow, expected: i64) -> Result<bool, sqlx::Error> {
    let n = on_tx!(tx, |c| sqlx::query(
        "UPDATE cases SET step_index = $3, step_org_id = $4, step_role = $5, state = $6,
             version = version + 1, due_on = $7, paused_since = $8, paused_days = $9,
             finished_on = $10, working_days = $11, escalated_at = $12,
             result_credential_id = $13, outcome_note = $14, updated_at = $15
         WHERE id = $1 AND version = $2"
    )
    .bind(&r.id)
    .bind(expected)
    .bind(r.step_index)
    .bind(&r.step_org_id)
    .bind(&r.step_role)
    .bind(&r.state)
    .bind(&r.due_on)
    .bind(&r.paused_since)
    .bind(r.paused_days)
    .bind(&r.finished_on)
    .bind(r.working_days)
    .bind(r.escalated_at)
    .bind(&r.result_credential_id)
    .bind(&r.outcome_note)
    .bind(Timestamp::now())
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

pub async fn get_case(db: &Db, id: &str) -> Result<Option<CaseRow>, sqlx::Error> {
    db.fetch_by(&format!("{CASE_SELECT} WHERE k.id = $1"), id)
        .await
}

pub async fn cases_of_application(
    db: &Db,
    application_id: &str,
) -> Result<Vec<CaseRow>, sqlx::Error> {
    db_cases(
        db,
        &format!("{CASE_SELECT} WHERE k.application_id = $1 ORDER BY k.id"),
        application_id,
    )
    .await
}

async fn db_cases(db: &Db, sql: &str, key: &str) -> Result<Vec<CaseRow>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .fetch_all(c)
        .await)
}

/// Which cases a department's queue shows.
pub enum QueueView {
    /// In progress or paused for 补正, whose current step is the organisation's.
    Open,
    /// Open cases the organisation leads that are past `today` (its reviewer's list).
    Overdue { today: String },
    /// Ended cases the organisation led, newest first.
    Ended,
}

/// A department's queue, soonest due first (ended: newest first), at most `limit`.
pub async fn queue(
    db: &Db,
    org_id: &str,
    view: &QueueView,
    limit: i64,
) -> Result<Vec<CaseRow>, sqlx::Error> {
    on_pool!(db.read(), |c| {
        let mut b = sqlx::QueryBuilder::new(CASE_SELECT);
        match view {
            QueueView::Open => {
                b.push(" WHERE k.step_org_id = ")
                    .push_bind(org_id)
                    .push(" AND k.state IN ('in_progress', 'supplement') ORDER BY k.due_on, k.id");
            }
            QueueView::Overdue { today } => {
                b.push(" WHERE k.lead_org_id = ")
                    .push_bind(org_id)
                    .push(" AND k.state = 'in_progress' AND k.due_on < ")
                    .push_bind(today)
                    .push(" ORDER BY k.due_on, k.id");
            }
            QueueView::Ended => {
                b.push(" WHERE k.lead_org_id = ").push_bind(org_id).push(
                    " AND k.state IN ('finished', 'rejected') ORDER BY k.updated_at DESC, k.id",
                );
            }
        }
        b.push(" LIMIT ").push_bind(limit);
        b.build_query_as().fetch_all(c).await
    })
}

/// Open cases past `today` not yet escalated (any department).
pub async fn unescalated_overdue(db: &Db, today: &str) -> Result<Vec<CaseRow>, sqlx::Error> {
    db_cases(
        db,
        &format!(
            "{CASE_SELECT} WHERE k.state = 'in_progress' AND k.due_on < $1 AND k.escalated_at IS NULL \
             ORDER BY k.due_on LIMIT 500"
        ),
        today,
    )
    .await
}

/// Marks a case escalated (once); false when it already was.
pub async fn mark_escalated(tx: &mut Tx, case_id: &str) -> Result<bool, sqlx::Error> {
    let n = on_tx!(tx, |c| sqlx::query(
        "UPDATE cases SET escalated_at = $2 WHERE id = $1 AND escalated_at IS NULL"
    )
    .bind(case_id)
    .bind(Timestamp::now())
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Records a rating; false when the case was already rated.
pub async fn insert_rating(
    tx: &mut Tx,
    case_id: &str,
    item_id: &str,
    score: i64,
    comment: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let result = on_tx!(tx, |c| sqlx::query(
        "INSERT INTO case_ratings (case_id, item_id, score, comment, created_at)
         VALUES ($1, $2, $3, $4, $5)"
    )
    .bind(case_id)
    .bind(item_id)
    .bind(score)
    .bind(comment)
    .bind(Timestamp::now())
    .execute(c)
    .await
    .map(|_| ()));
    match result {
        Ok(_) => Ok(true),
        Err(e) if kernel::db::is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Every calendar exception: (day, name, working).
pub async fn holidays(db: &Db) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT day, name, working FROM holidays ORDER BY day"
    )
    .fetch_all(c)
    .await)
}

pub async fn put_holiday(db: &Db, day: &str, name: &str, working: bool) -> Result<(), sqlx::Error> {
    on_pool!(db.write(), |c| sqlx::query(
        "INSERT INTO holidays (day, name, working) VALUES ($1, $2, $3)
         ON CONFLICT (day) DO UPDATE SET name = excluded.name, working = excluded.working"
    )
    .bind(day)
    .bind(name)
    .bind(i64::from(working))
    .execute(c)
    .await
    .map(|_| ()))
}

pub async fn delete_holiday(db: &Db, day: &str) -> Result<bool, sqlx::Error> {
    let n = on_pool!(db.write(), |c| sqlx::query(
        "DELETE FROM holidays WHERE day = $1"
    )
    .bind(day)
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Per-item case figures: (item id, cases, ended, finished, ended on time, average working
/// days of finished, overdue open).
#[derive(sqlx::FromRow, Clone)]
pub struct CaseFigures {
    pub item_id: String,
    pub cases: i64,
    pub ended: i64,
    pub finished: i64,
    pub on_time: i64,
    pub average_days: Option<f64>,
    pub overdue: i64,
}

pub async fn case_figures(db: &Db, today: &str) -> Result<Vec<CaseFigures>, sqlx::Error> {
    on_pool!(db.read(), |c| {
        sqlx::query_as(
        "SELECT item_id, COUNT(*) AS cases,
             COUNT(CASE WHEN state IN ('finished', 'rejected') THEN 1 END) AS ended,
             COUNT(CASE WHEN state = 'finished' THEN 1 END) AS finished,
             COUNT(CASE WHEN state IN ('finished', 'rejected') AND finished_on <= due_on THEN 1 END) AS on_time,
             AVG(CASE WHEN state = 'finished' THEN CAST(working_days AS DOUBLE PRECISION) END) AS average_days,
             COUNT(CASE WHEN state = 'in_progress' AND due_on < $1 THEN 1 END) AS overdue
         FROM cases GROUP BY item_id"
    )
    .bind(today)
    .fetch_all(c)
    .await
    })
}

/// Per-item material figures of submitted applications: (item id, attached, uploaded).
pub async fn material_figures(db: &Db) -> Result<Vec<(String, i64, i64)>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT k.item_id, COUNT(*), COUNT(CASE WHEN m.source = 'upload' THEN 1 END)
         FROM cases k JOIN application_materials m ON m.application_id = k.application_id
         GROUP BY k.item_id"
    )
    .fetch_all(c)
    .await)
}

/// Per-item ratings: (item id, count, average).
pub async fn rating_figures(db: &Db) -> Result<Vec<(String, i64, Option<f64>)>, sqlx::Error> {
    on_pool!(db.read(), |c| {
        sqlx::query_as(
        "SELECT item_id, COUNT(*), AVG(CAST(score AS DOUBLE PRECISION)) FROM case_ratings GROUP BY item_id"
    )
    .fetch_all(c)
    .await
    })
}

/// Moves a case's submission and due dates (the demo places cases in every state of the
/// clock without waiting for days to pass).
pub async fn backdate_case(
    db: &Db,
    case_id: &str,
    submitted_on: &str,
    due_on: &str,
) -> Result<(), sqlx::Error> {
    on_pool!(db.write(), |c| sqlx::query(
        "UPDATE cases SET submitted_on = $2, due_on = $3 WHERE id = $1"
    )
    .bind(case_id)
    .bind(submitted_on)
    .bind(due_on)
    .execute(c)
    .await
    .map(|_| ()))
}
