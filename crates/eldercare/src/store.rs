//! Elders, circles, devices, readings, alerts and their timelines in the store.

use kernel::db::{Db, Tx, push_list};
use kernel::time::Timestamp;
use kernel::{on_pool, on_tx};

// ---- elders ----

/// An enrolled elder as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ElderRow {
    pub person_id: String,
    pub organisation_id: String,
    pub lives_alone: i64,
    pub baselines: String,
    pub last_activity_at: Option<Timestamp>,
    pub last_water_at: Option<Timestamp>,
    pub enrolled_by: String,
    pub enrolled_at: Timestamp,
}

const ELDER_COLUMNS: &str = "person_id, organisation_id, lives_alone, baselines, \
     last_activity_at, last_water_at, enrolled_by, enrolled_at";

/// Enrols an elder; false when she already is.
pub async fn insert_elder(tx: &mut Tx, e: &ElderRow) -> Result<bool, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO eldercare_elders (person_id, organisation_id, lives_alone, baselines,
             enrolled_by, enrolled_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (person_id) DO NOTHING"
    )
    .bind(&e.person_id)
    .bind(&e.organisation_id)
    .bind(e.lives_alone)
    .bind(&e.baselines)
    .bind(&e.enrolled_by)
    .bind(e.enrolled_at)
    .execute(c)
    .await
    .map(|r| r.rows_affected() == 1))
}

pub async fn elder(db: &Db, person_id: &str) -> Result<Option<ElderRow>, sqlx::Error> {
    db.fetch_by(
        &format!("SELECT {ELDER_COLUMNS} FROM eldercare_elders WHERE person_id = $1"),
        person_id,
    )
    .await
}

/// The elders these organisations look after.
pub async fn elders_of(db: &Db, organisations: &[String]) -> Result<Vec<ElderRow>, sqlx::Error> {
    if organisations.is_empty() {
        return Ok(Vec::new());
    }
    on_pool!(db.read(), |c| {
        let mut b = sqlx::QueryBuilder::new(format!(
            "SELECT {ELDER_COLUMNS} FROM eldercare_elders WHERE organisation_id IN "
        ));
        push_list(&mut b, organisations);
        b.push(" ORDER BY enrolled_at");
        b.build_query_as().fetch_all(c).await
    })
}

/// These elders (those enrolled).
pub async fn elders_by_id(db: &Db, ids: &[String]) -> Result<Vec<ElderRow>, sqlx::Error> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<ElderRow> = on_pool!(db.read(), |c| {
            let mut b = sqlx::QueryBuilder::new(format!(
                "SELECT {ELDER_COLUMNS} FROM eldercare_elders WHERE person_id IN "
            ));
            push_list(&mut b, chunk);
            b.build_query_as().fetch_all(c).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

/// Every enrolled elder (the minute's checks of inactivity and water use read them).
pub async fn all_elders(db: &Db) -> Result<Vec<ElderRow>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ELDER_COLUMNS} FROM eldercare_elders ORDER BY person_id"
    )))
    .fetch_all(c)
    .await)
}

pub async fn set_baselines(tx: &mut Tx, person_id: &str, json: &str) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE eldercare_elders SET baselines = $2 WHERE person_id = $1"
    )
    .bind(person_id)
    .bind(json)
    .execute(c)
    .await
    .map(|_| ()))
}

/// Moves elders' last movement (`water` false) or last water use (`water` true) forward.
pub async fn touch(
    tx: &mut Tx,
    water: bool,
    seen: &[(&str, Timestamp)],
) -> Result<(), sqlx::Error> {
    let column = if water {
        "last_water_at"
    } else {
        "last_activity_at"
    };
    for (elder, at) in seen {
        on_tx!(tx, |c| sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE eldercare_elders SET {column} = $2
             WHERE person_id = $1 AND ({column} IS NULL OR {column} < $2)"
        )))
        .bind(*elder)
        .bind(*at)
        .execute(c)
        .await
        .map(|_| ()))?;
    }
    Ok(())
}

// ---- circle ----

/// A member of a care circle as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MemberRow {
    pub id: String,
    pub elder_id: String,
    pub person_id: String,
    pub role: String,
    pub relationship: String,
    pub organisation_id: Option<String>,
    pub level: i64,
    pub contact_order: i64,
    pub channels: String,
    pub quiet_from: Option<i64>,
    pub quiet_until: Option<i64>,
    pub added_by: String,
    pub added_at: Timestamp,
}

const MEMBER_COLUMNS: &str = "id, elder_id, person_id, role, relationship, organisation_id, \
     level, contact_order, channels, quiet_from, quiet_until, added_by, added_at";

/// Adds a member; false when the person is in the circle already.
pub async fn insert_member(tx: &mut Tx, m: &MemberRow) -> Result<bool, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO eldercare_members (id, elder_id, person_id, role, relationship,
             organisation_id, level, contact_order, channels, quiet_from, quiet_until,
             added_by, added_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (elder_id, person_id) DO NOTHING"
    )
    .bind(&m.id)
    .bind(&m.elder_id)
    .bind(&m.person_id)
    .bind(&m.role)
    .bind(&m.relationship)
    .bind(&m.organisation_id)
    .bind(m.level)
    .bind(m.contact_order)
    .bind(&m.channels)
    .bind(m.quiet_from)
    .bind(m.quiet_until)
    .bind(&m.added_by)
    .bind(m.added_at)
    .execute(c)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// An elder's circle: by level, then contact order.
pub async fn members(db: &Db, elder_id: &str) -> Result<Vec<MemberRow>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {MEMBER_COLUMNS} FROM eldercare_members WHERE elder_id = $1
         ORDER BY level, contact_order, added_at"
    )))
    .bind(elder_id)
    .fetch_all(c)
    .await)
}

/// The same, inside a transaction (whom an alert tells).
pub async fn members_in(tx: &mut Tx, elder_id: &str) -> Result<Vec<MemberRow>, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {MEMBER_COLUMNS} FROM eldercare_members WHERE elder_id = $1
         ORDER BY level, contact_order, added_at"
    )))
    .bind(elder_id)
    .fetch_all(&mut *c)
    .await)
}

pub async fn member(db: &Db, id: &str) -> Result<Option<MemberRow>, sqlx::Error> {
    db.fetch_by(
        &format!("SELECT {MEMBER_COLUMNS} FROM eldercare_members WHERE id = $1"),
        id,
    )
    .await
}

/// The circles a person is in (the elders she helps care for).
pub async fn memberships(db: &Db, person_id: &str) -> Result<Vec<MemberRow>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {MEMBER_COLUMNS} FROM eldercare_members WHERE person_id = $1
         ORDER BY added_at"
    )))
    .bind(person_id)
    .fetch_all(c)
    .await)
}

pub async fn update_member(
    tx: &mut Tx,
    id: &str,
    level: i64,
    contact_order: i64,
    quiet: (Option<i64>, Option<i64>),
) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE eldercare_members SET level = $2, contact_order = $3, quiet_from = $4,
             quiet_until = $5 WHERE id = $1"
    )
    .bind(id)
    .bind(level)
    .bind(contact_order)
    .bind(quiet.0)
    .bind(quiet.1)
    .execute(c)
    .await
    .map(|_| ()))
}

pub async fn delete_member(tx: &mut Tx, id: &str) -> Result<bool, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "DELETE FROM eldercare_members WHERE id = $1"
    )
    .bind(id)
    .execute(c)
    .await
    .map(|r| r.rows_affected() == 1))
}

// ---- devices ----

/// A device as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DeviceRow {
    pub id: String,
    pub kind: String,
    pub organisation_id: String,
    pub elder_id: Option<String>,
    pub heartbeat_seconds: i64,
    pub online: i64,
    pub last_seen_at: Option<Timestamp>,
    pub last_reading_at: Option<Timestamp>,
    pub registered_by: String,
    pub registered_at: Timestamp,
    pub bound_at: Option<Timestamp>,
}

const DEVICE_COLUMNS: &str = "id, kind, organisation_id, elder_id, heartbeat_seconds, online, \
     last_seen_at, last_reading_at, registered_by, registered_at, bound_at";

/// Registers a device; false when the id is taken.
pub async fn insert_device(tx: &mut Tx, d: &DeviceRow) -> Result<bool, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO eldercare_devices (id, kind, organisation_id, elder_id, heartbeat_seconds,
             online, last_seen_at, registered_by, registered_at, bound_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING"
    )
    .bind(&d.id)
    .bind(&d.kind)
    .bind(&d.organisation_id)
    .bind(&d.elder_id)
    .bind(d.heartbeat_seconds)
    .bind(d.online)
    .bind(d.last_seen_at)
    .bind(&d.registered_by)
    .bind(d.registered_at)
    .bind(d.bound_at)
    .execute(c)
    .await
    .map(|r| r.rows_affected() == 1))
}

pub async fn device(db: &Db, id: &str) -> Result<Option<DeviceRow>, sqlx::Error> {
    db.fetch_by(
        &format!("SELECT {DEVICE_COLUMNS} FROM eldercare_devices WHERE id = $1"),
        id,
    )
    .await
}

/// The devices with these ids (those that exist).
pub async fn devices_by_id(db: &Db, ids: &[String]) -> Result<Vec<DeviceRow>, sqlx::Error> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<DeviceRow> = on_pool!(db.read(), |c| {
            let mut b = sqlx::QueryBuilder::new(format!(
                "SELECT {DEVICE_COLUMNS} FROM eldercare_devices WHERE id IN "
            ));
            push_list(&mut b, chunk);
            b.build_query_as().fetch_all(c).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

/// An elder's devices.
pub async fn devices_of(db: &Db, elder_id: &str) -> Result<Vec<DeviceRow>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DEVICE_COLUMNS} FROM eldercare_devices WHERE elder_id = $1 ORDER BY id"
    )))
    .bind(elder_id)
    .fetch_all(c)
    .await)
}

/// Binds a device to an elder (or unbinds it: `None`).
pub async fn bind(
    tx: &mut Tx,
    id: &str,
    elder_id: Option<&str>,
    at: Timestamp,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE eldercare_devices SET elder_id = $2, bound_at = $3, online = 1 WHERE id = $1"
    )
    .bind(id)
    .bind(elder_id)
    .bind(elder_id.map(|_| at))
    .execute(c)
    .await
    .map(|_| ()))
}

/// Devices that reported (device, when heard, its newest reading's time): both move
/// forward, and each is online again.
pub async fn seen(tx: &mut Tx, seen: &[(&str, Timestamp, Timestamp)]) -> Result<(), sqlx::Error> {
    for (id, heard, newest) in seen {
        on_tx!(tx, |c| sqlx::query(
            "UPDATE eldercare_devices SET online = 1,
                 last_seen_at = CASE WHEN last_seen_at IS NULL OR last_seen_at < $2
                                     THEN $2 ELSE last_seen_at END,
                 last_reading_at = CASE WHEN last_reading_at IS NULL OR last_reading_at < $3
                                     THEN $3 ELSE last_reading_at END
             WHERE id = $1"
        )
        .bind(*id)
        .bind(*heard)
        .bind(*newest)
        .execute(c)
        .await
        .map(|_| ()))?;
    }
    Ok(())
}

/// Bound devices still counted online that missed `missed` heartbeats by `now` (a device
/// never heard from counts from its binding).
pub async fn overdue_devices(
    db: &Db,
    now: Timestamp,
    missed: i64,
) -> Result<Vec<DeviceRow>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DEVICE_COLUMNS} FROM eldercare_devices
         WHERE online = 1 AND elder_id IS NOT NULL
           AND COALESCE(last_seen_at, bound_at) < $1 - heartbeat_seconds * $2 * 1000000
         ORDER BY id LIMIT 1000"
    )))
    .bind(now)
    .bind(missed)
    .fetch_all(c)
    .await)
}

/// Marks a device offline; false when it reported meanwhile (or was already offline).
pub async fn set_offline(
    tx: &mut Tx,
    id: &str,
    seen_before: Timestamp,
) -> Result<bool, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE eldercare_devices SET online = 0
         WHERE id = $1 AND online = 1 AND COALESCE(last_seen_at, bound_at) < $2"
    )
    .bind(id)
    .bind(seen_before)
    .execute(c)
    .await
    .map(|r| r.rows_affected() == 1))
}

// ---- readings ----

/// A reading to store, its value sealed.
pub struct NewReading<'a> {
    pub device_id: &'a str,
    pub metric: &'static str,
    pub observed_at: Timestamp,
    pub elder_id: &'a str,
    pub value_enc: Vec<u8>,
}

/// Rows to a statement: six values each.
pub const READINGS_PER_STATEMENT: usize = 1_000;

/// Stores readings, ignoring those already stored (same device, metric, instant): how many
/// were new.
pub async fn insert_readings(
    tx: &mut Tx,
    readings: &[NewReading<'_>],
    received_at: Timestamp,
) -> Result<u64, sqlx::Error> {
    let mut new = 0;
    for chunk in readings.chunks(READINGS_PER_STATEMENT) {
        new += on_tx!(tx, |c| {
            let mut b = sqlx::QueryBuilder::new(
                "INSERT INTO eldercare_readings (device_id, metric, observed_at, elder_id,
                     value_enc, received_at) ",
            );
            b.push_values(chunk, |mut v, r| {
                v.push_bind(r.device_id)
                    .push_bind(r.metric)
                    .push_bind(r.observed_at)
                    .push_bind(r.elder_id)
                    .push_bind(&r.value_enc)
                    .push_bind(received_at);
            });
            b.push(" ON CONFLICT (device_id, metric, observed_at) DO NOTHING");
            b.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(new)
}

/// Of these (device, metric, instant) readings, those already stored.
pub async fn stored_already(
    tx: &mut Tx,
    keys: &[(&str, &'static str, Timestamp)],
) -> Result<Vec<(String, String, Timestamp)>, sqlx::Error> {
    let mut out = Vec::new();
    for (device, metric, at) in keys {
        let row: Option<(String, String, Timestamp)> = on_tx!(tx, |c| sqlx::query_as(
            "SELECT device_id, metric, observed_at FROM eldercare_readings
             WHERE device_id = $1 AND metric = $2 AND observed_at = $3"
        )
        .bind(*device)
        .bind(*metric)
        .bind(*at)
        .fetch_optional(&mut *c)
        .await)?;
        out.extend(row);
    }
    Ok(out)
}

/// A reading as stored, its value sealed.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ReadingRow {
    pub device_id: String,
    pub metric: String,
    pub observed_at: Timestamp,
    pub value_enc: Vec<u8>,
}

/// An elder's readings from `since`, newest first.
pub async fn readings_of(
    db: &Db,
    elder_id: &str,
    since: Timestamp,
    limit: i64,
) -> Result<Vec<ReadingRow>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT device_id, metric, observed_at, value_enc FROM eldercare_readings
         WHERE elder_id = $1 AND observed_at >= $2 ORDER BY observed_at DESC LIMIT $3"
    )
    .bind(elder_id)
    .bind(since)
    .bind(limit)
    .fetch_all(c)
    .await)
}

/// Adds refused readings to their counts: (device id as sent, reason, how many).
pub async fn count_rejections(
    tx: &mut Tx,
    counts: &[(String, &'static str, i64)],
    at: Timestamp,
) -> Result<(), sqlx::Error> {
    kernel::db::add_to_counts(tx, "eldercare_rejections", "device_id", counts, at).await
}

/// The refused readings' counts, the most recent first.
pub async fn rejections(db: &Db) -> Result<Vec<(String, String, i64, Timestamp)>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT device_id, reason, count, last_at FROM eldercare_rejections
         ORDER BY last_at DESC, device_id, reason LIMIT 1000"
    )
    .fetch_all(c)
    .await)
}

// ---- alerts ----

/// An alert as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AlertRow {
    pub id: String,
    pub elder_id: String,
    pub kind: String,
    pub device_id: Option<String>,
    pub state: String,
    pub level: i64,
    pub raised_at: Timestamp,
    pub last_at: Timestamp,
    pub folded: i64,
    pub next_step_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
}

const ALERT_COLUMNS: &str = "id, elder_id, kind, device_id, state, level, raised_at, last_at, \
     folded, next_step_at, closed_at";

/// Raises an alert, or folds it into the open one with the same key: the alert's id and
/// whether it was new.
pub async fn raise(
    tx: &mut Tx,
    a: &AlertRow,
    open_key: &str,
) -> Result<(String, bool), sqlx::Error> {
    let id: String = on_tx!(tx, |c| sqlx::query_scalar(
        "INSERT INTO eldercare_alerts (id, elder_id, kind, device_id, state, level, raised_at,
             last_at, folded, next_step_at, closed_at, open_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, NULL, $10)
         ON CONFLICT (open_key) DO UPDATE SET folded = eldercare_alerts.folded + 1,
             last_at = excluded.last_at
         RETURNING id"
    )
    .bind(&a.id)
    .bind(&a.elder_id)
    .bind(&a.kind)
    .bind(&a.device_id)
    .bind(&a.state)
    .bind(a.level)
    .bind(a.raised_at)
    .bind(a.last_at)
    .bind(a.next_step_at)
    .bind(open_key)
    .fetch_one(&mut *c)
    .await)?;
    let new = id == a.id;
    Ok((id, new))
}

pub async fn alert(db: &Db, id: &str) -> Result<Option<AlertRow>, sqlx::Error> {
    db.fetch_by(
        &format!("SELECT {ALERT_COLUMNS} FROM eldercare_alerts WHERE id = $1"),
        id,
    )
    .await
}

/// An elder's alerts, newest first.
pub async fn alerts_of(db: &Db, elder_id: &str, limit: i64) -> Result<Vec<AlertRow>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ALERT_COLUMNS} FROM eldercare_alerts WHERE elder_id = $1
         ORDER BY raised_at DESC LIMIT $2"
    )))
    .bind(elder_id)
    .bind(limit)
    .fetch_all(c)
    .await)
}

/// Open (not closed) alerts of these elders, newest first.
pub async fn open_alerts_of(db: &Db, elders: &[String]) -> Result<Vec<AlertRow>, sqlx::Error> {
    let mut out = Vec::new();
    for chunk in elders.chunks(500) {
        let rows: Vec<AlertRow> = on_pool!(db.read(), |c| {
            let mut b = sqlx::QueryBuilder::new(format!(
                "SELECT {ALERT_COLUMNS} FROM eldercare_alerts
                 WHERE open_key IS NOT NULL AND elder_id IN "
            ));
            push_list(&mut b, chunk);
            b.push(" ORDER BY raised_at DESC");
            b.build_query_as().fetch_all(c).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

/// The open alert with this key, if any (an offline device's, say).
pub async fn open_alert_by_key(tx: &mut Tx, key: &str) -> Result<Option<AlertRow>, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ALERT_COLUMNS} FROM eldercare_alerts WHERE open_key = $1"
    )))
    .bind(key)
    .fetch_optional(&mut *c)
    .await)
}

/// The earliest escalation step not yet taken.
pub async fn next_step(db: &Db) -> Result<Option<Timestamp>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_scalar(
        "SELECT MIN(next_step_at) FROM eldercare_alerts WHERE next_step_at IS NOT NULL"
    )
    .fetch_one(c)
    .await)
}

/// Alerts whose escalation step is due by `now`, the earliest first.
pub async fn due(db: &Db, now: Timestamp, limit: i64) -> Result<Vec<AlertRow>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ALERT_COLUMNS} FROM eldercare_alerts
         WHERE next_step_at IS NOT NULL AND next_step_at <= $1
         ORDER BY next_step_at LIMIT $2"
    )))
    .bind(now)
    .bind(limit)
    .fetch_all(c)
    .await)
}

/// Takes an escalation step: from `level` (due at `due`) to `to`, with the next step at
/// `next`. False when another node (or an answer) took it first.
pub async fn escalate(
    tx: &mut Tx,
    id: &str,
    level: i64,
    due: Timestamp,
    to: i64,
    next: Option<Timestamp>,
) -> Result<bool, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE eldercare_alerts SET level = $4, next_step_at = $5
         WHERE id = $1 AND level = $2 AND next_step_at = $3 AND state = 'open'"
    )
    .bind(id)
    .bind(level)
    .bind(due)
    .bind(to)
    .bind(next)
    .execute(c)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// Sets the first step of a new alert (after its level-1 members were told).
pub async fn set_next_step(
    tx: &mut Tx,
    id: &str,
    level: i64,
    next: Option<Timestamp>,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE eldercare_alerts SET level = $2, next_step_at = $3 WHERE id = $1"
    )
    .bind(id)
    .bind(level)
    .bind(next)
    .execute(c)
    .await
    .map(|_| ()))
}

/// Moves an alert to `state`: acknowledged stops its escalation; resolved and false alarm
/// close it (and free its key, so the next event raises a new alert). False when it was
/// closed already.
pub async fn set_state(
    tx: &mut Tx,
    id: &str,
    state: &str,
    closed_at: Option<Timestamp>,
) -> Result<bool, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE eldercare_alerts SET state = $2, next_step_at = NULL, closed_at = $3,
             open_key = CASE WHEN $3 IS NULL THEN open_key ELSE NULL END
         WHERE id = $1 AND closed_at IS NULL"
    )
    .bind(id)
    .bind(state)
    .bind(closed_at)
    .execute(c)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// Counts of open alerts and offline devices per elder.
pub async fn open_counts(
    db: &Db,
    elders: &[String],
) -> Result<Vec<(String, i64, i64)>, sqlx::Error> {
    let mut out = Vec::new();
    for chunk in elders.chunks(300) {
        let rows: Vec<(String, i64, i64)> = on_pool!(db.read(), |c| {
            let mut b = sqlx::QueryBuilder::new(
                "SELECT e.person_id,
                    (SELECT COUNT(*) FROM eldercare_alerts a
                      WHERE a.elder_id = e.person_id AND a.open_key IS NOT NULL),
                    (SELECT COUNT(*) FROM eldercare_devices d
                      WHERE d.elder_id = e.person_id AND d.online = 0)
                 FROM eldercare_elders e WHERE e.person_id IN ",
            );
            push_list(&mut b, chunk);
            b.build_query_as().fetch_all(c).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

// ---- timeline ----

/// One step of an alert's timeline as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EventRow {
    pub id: String,
    pub alert_id: String,
    pub at: Timestamp,
    pub kind: String,
    pub level: Option<i64>,
    pub scheduled_at: Option<Timestamp>,
    pub by_person_id: Option<String>,
    pub by_name: Option<String>,
    pub response: Option<String>,
    pub detail: String,
    pub evidence_enc: Option<Vec<u8>>,
}

pub async fn insert_event(tx: &mut Tx, e: &EventRow) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO eldercare_alert_events (id, alert_id, at, kind, level, scheduled_at,
             by_person_id, by_name, response, detail, evidence_enc)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    )
    .bind(&e.id)
    .bind(&e.alert_id)
    .bind(e.at)
    .bind(&e.kind)
    .bind(e.level)
    .bind(e.scheduled_at)
    .bind(&e.by_person_id)
    .bind(&e.by_name)
    .bind(&e.response)
    .bind(&e.detail)
    .bind(&e.evidence_enc)
    .execute(c)
    .await
    .map(|_| ()))
}

/// An alert's timeline, oldest first (at most 500 steps).
pub async fn events(db: &Db, alert_id: &str) -> Result<Vec<EventRow>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT id, alert_id, at, kind, level, scheduled_at, by_person_id, by_name, response,
             detail, evidence_enc
         FROM eldercare_alert_events WHERE alert_id = $1 ORDER BY at, id LIMIT 500"
    )
    .bind(alert_id)
    .fetch_all(c)
    .await)
}

/// Escalation steps taken since `since`: (when due, when taken) — the bench's timer
/// accuracy.
pub async fn escalations_since(
    db: &Db,
    since: Timestamp,
) -> Result<Vec<(Timestamp, Timestamp)>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT scheduled_at, at FROM eldercare_alert_events
         WHERE kind = 'escalated' AND scheduled_at IS NOT NULL AND at >= $1"
    )
    .bind(since)
    .fetch_all(c)
    .await)
}

// ---- rules ----

pub async fn rules(db: &Db) -> Result<Option<String>, sqlx::Error> {
    db.fetch_by::<(String,)>(
        "SELECT document FROM eldercare_rules WHERE scope = $1",
        "default",
    )
    .await
    .map(|r| r.map(|(d,)| d))
}

pub async fn put_rules(
    tx: &mut Tx,
    document: &str,
    by: &str,
    at: Timestamp,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO eldercare_rules (scope, document, updated_by, updated_at)
         VALUES ('default', $1, $2, $3)
         ON CONFLICT (scope) DO UPDATE SET document = excluded.document,
             updated_by = excluded.updated_by, updated_at = excluded.updated_at"
    )
    .bind(document)
    .bind(by)
    .bind(at)
    .execute(c)
    .await
    .map(|_| ()))
}

/// When an alert of this kind was last raised about the elder (the minute's checks raise
/// one per spell of inactivity, one per morning without water).
pub async fn last_raised(
    db: &Db,
    elder_id: &str,
    kind: &str,
) -> Result<Option<Timestamp>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_scalar(
        "SELECT MAX(raised_at) FROM eldercare_alerts WHERE elder_id = $1 AND kind = $2"
    )
    .bind(elder_id)
    .bind(kind)
    .fetch_one(c)
    .await)
}

/// The elders with a bound device of one of these kinds.
pub async fn elders_with_devices(db: &Db, kinds: &[String]) -> Result<Vec<String>, sqlx::Error> {
    on_pool!(db.read(), |c| {
        let mut b = sqlx::QueryBuilder::new(
            "SELECT DISTINCT elder_id FROM eldercare_devices WHERE elder_id IS NOT NULL AND kind IN ",
        );
        push_list(&mut b, kinds);
        b.build_query_scalar().fetch_all(c).await
    })
}

// ---- visits ----

/// A visit as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct VisitRow {
    pub id: String,
    pub elder_id: String,
    pub organisation_id: String,
    pub visited_by: String,
    pub visitor_name: String,
    pub visited_at: Timestamp,
    pub note_enc: Option<Vec<u8>>,
}

pub async fn insert_visit(tx: &mut Tx, v: &VisitRow) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO eldercare_visits (id, elder_id, organisation_id, visited_by, visitor_name,
             visited_at, note_enc) VALUES ($1, $2, $3, $4, $5, $6, $7)"
    )
    .bind(&v.id)
    .bind(&v.elder_id)
    .bind(&v.organisation_id)
    .bind(&v.visited_by)
    .bind(&v.visitor_name)
    .bind(v.visited_at)
    .bind(&v.note_enc)
    .execute(c)
    .await
    .map(|_| ()))
}

/// An elder's visits, the latest first.
pub async fn visits_of(db: &Db, elder_id: &str, limit: i64) -> Result<Vec<VisitRow>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT id, elder_id, organisation_id, visited_by, visitor_name, visited_at, note_enc
         FROM eldercare_visits WHERE elder_id = $1 ORDER BY visited_at DESC LIMIT $2"
    )
    .bind(elder_id)
    .bind(limit)
    .fetch_all(c)
    .await)
}

/// Each of these elders' latest visit.
pub async fn last_visits(
    db: &Db,
    elders: &[String],
) -> Result<Vec<(String, Timestamp)>, sqlx::Error> {
    let mut out = Vec::new();
    for chunk in elders.chunks(500) {
        let rows: Vec<(String, Timestamp)> = on_pool!(db.read(), |c| {
            let mut b = sqlx::QueryBuilder::new(
                "SELECT elder_id, MAX(visited_at) FROM eldercare_visits WHERE elder_id IN ",
            );
            push_list(&mut b, chunk);
            b.push(" GROUP BY elder_id");
            b.build_query_as().fetch_all(c).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}
