//! Stations, their readings and the refused readings in the store.

use kernel::db::{Db, Tx, push_list};
use kernel::time::Timestamp;
use kernel::{on_pool, on_tx};

/// A station as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct StationRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub kind: String,
    pub unit: String,
    pub region_code: String,
    pub latitude: f64,
    pub longitude: f64,
    pub organisation_id: String,
    pub warning_level: Option<f64>,
    pub guarantee_level: Option<f64>,
    pub created_at: Timestamp,
    pub last_observed_at: Option<Timestamp>,
    pub last_value: Option<f64>,
}

const STATION_COLUMNS: &str = "id, code, name, kind, unit, region_code, latitude, longitude, \
     organisation_id, warning_level, guarantee_level, created_at, last_observed_at, last_value";

/// A reading to store: station id, measured at, value.
pub struct NewReading<'a> {
    pub station_id: &'a str,
    pub observed_at: Timestamp,
    pub value: f64,
}

/// Rows to a statement when storing readings: four values each, well under SQLite's and
/// PostgreSQL's limits on bound values.
pub const READINGS_PER_STATEMENT: usize = 2_000;

pub async fn insert_station(tx: &mut Tx, s: &StationRow) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO safety_stations (id, code, name, kind, unit, region_code, latitude,
         longitude, organisation_id, warning_level, guarantee_level, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    )
    .bind(&s.id)
    .bind(&s.code)
    .bind(&s.name)
    .bind(&s.kind)
    .bind(&s.unit)
    .bind(&s.region_code)
    .bind(s.latitude)
    .bind(s.longitude)
    .bind(&s.organisation_id)
    .bind(s.warning_level)
    .bind(s.guarantee_level)
    .bind(s.created_at)
    .execute(c)
    .await
    .map(|_| ()))
}

/// Every station, by code; or those whose region code starts with `region` (a region and
/// the regions under it).
pub async fn stations(db: &Db, region: Option<&str>) -> Result<Vec<StationRow>, sqlx::Error> {
    let pattern = region.map(|r| format!("{}%", r.trim_end_matches('0')));
    on_pool!(db.read(), |c| {
        let mut b =
            sqlx::QueryBuilder::new(format!("SELECT {STATION_COLUMNS} FROM safety_stations"));
        if let Some(p) = &pattern {
            b.push(" WHERE region_code LIKE ").push_bind(p);
        }
        b.push(" ORDER BY code");
        b.build_query_as().fetch_all(c).await
    })
}

pub async fn station(db: &Db, code: &str) -> Result<Option<StationRow>, sqlx::Error> {
    db.fetch_by(
        &format!("SELECT {STATION_COLUMNS} FROM safety_stations WHERE code = $1"),
        code,
    )
    .await
}

/// The stations with these codes (those that exist).
pub async fn stations_by_code(db: &Db, codes: &[String]) -> Result<Vec<StationRow>, sqlx::Error> {
    let mut out = Vec::new();
    for chunk in codes.chunks(500) {
        let rows: Vec<StationRow> = on_pool!(db.read(), |c| {
            let mut b = sqlx::QueryBuilder::new(format!(
                "SELECT {STATION_COLUMNS} FROM safety_stations WHERE code IN "
            ));
            push_list(&mut b, chunk);
            b.build_query_as().fetch_all(c).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

/// Stores readings, ignoring those already stored for the same station and instant:
/// how many were new. (Not `RETURNING` the new ones: on SQLite every returned row costs a
/// trip through the driver's worker, which halved the ingest rate.) On PostgreSQL the
/// readings go as three arrays into one statement whatever their number: a `VALUES` list
/// of varying length is a new statement to parse and plan for every batch, which cost the
/// server more than inserting the rows.
pub async fn insert_readings(
    tx: &mut Tx,
    readings: &[NewReading<'_>],
    received_at: Timestamp,
) -> Result<u64, sqlx::Error> {
    if let Tx::Postgres(t) = tx {
        let stations: Vec<&str> = readings.iter().map(|r| r.station_id).collect();
        let times: Vec<i64> = readings.iter().map(|r| r.observed_at.0).collect();
        let values: Vec<f64> = readings.iter().map(|r| r.value).collect();
        return sqlx::query(
            "INSERT INTO safety_observations (station_id, observed_at, value, received_at)
             SELECT r.station_id, r.observed_at, r.value, $4
             FROM UNNEST($1::text[], $2::bigint[], $3::float8[]) AS r(station_id, observed_at, value)
             ON CONFLICT (station_id, observed_at) DO NOTHING",
        )
        .bind(&stations)
        .bind(&times)
        .bind(&values)
        .bind(received_at)
        .execute(&mut **t)
        .await
        .map(|r| r.rows_affected());
    }
    on_tx!(tx, |c| {
        let mut b = sqlx::QueryBuilder::new(
            "INSERT INTO safety_observations (station_id, observed_at, value, received_at) ",
        );
        b.push_values(readings, |mut v, r| {
            v.push_bind(r.station_id)
                .push_bind(r.observed_at)
                .push_bind(r.value)
                .push_bind(received_at);
        });
        b.push(" ON CONFLICT (station_id, observed_at) DO NOTHING");
        b.build().execute(c).await.map(|r| r.rows_affected())
    })
}

/// Sets a gauge's rain for clock hours `first..=last` from its stored readings (after a
/// batch that held readings already stored, whose rain must not count twice).
pub async fn recount_rain_hours(
    tx: &mut Tx,
    station_id: &str,
    first: i64,
    last: i64,
) -> Result<(), sqlx::Error> {
    let hour = crate::risk::HOUR;
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO safety_rain_hours (station_id, hour, rain)
         SELECT station_id, observed_at / $4, SUM(value) FROM safety_observations
         WHERE station_id = $1 AND observed_at >= $2 AND observed_at < $3
         GROUP BY station_id, observed_at / $4
         ON CONFLICT (station_id, hour) DO UPDATE SET rain = excluded.rain"
    )
    .bind(station_id)
    .bind(first * hour)
    .bind((last + 1) * hour)
    .bind(hour)
    .execute(c)
    .await
    .map(|_| ()))
}

/// Adds rain to gauges' clock hours: (station id, hour, rain), one row per pair.
pub async fn add_rain_hours(tx: &mut Tx, sums: &[(&str, i64, f64)]) -> Result<(), sqlx::Error> {
    for chunk in sums.chunks(1_000) {
        on_tx!(tx, |c| {
            let mut b =
                sqlx::QueryBuilder::new("INSERT INTO safety_rain_hours (station_id, hour, rain) ");
            b.push_values(chunk, |mut v, (station, hour, rain)| {
                v.push_bind(*station).push_bind(*hour).push_bind(*rain);
            });
            b.push(
                " ON CONFLICT (station_id, hour) DO UPDATE
                  SET rain = safety_rain_hours.rain + excluded.rain",
            );
            b.build().execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// Moves stations' latest readings forward (never back: readings may arrive out of order),
/// set-based: one statement for every station of a batch, not one each. `latest` is in
/// station-id order; on PostgreSQL the rows are locked in that order first, so concurrent
/// batches cannot deadlock — `FOR NO KEY UPDATE`, the lock the update itself takes, which
/// does not wait on the key-share locks the batches' readings hold on their stations.
pub async fn set_latest(tx: &mut Tx, latest: &[(&str, Timestamp, f64)]) -> Result<(), sqlx::Error> {
    for chunk in latest.chunks(1_000) {
        if tx.kind() == kernel::db::DbKind::Postgres {
            on_tx!(tx, |c| {
                let mut b = sqlx::QueryBuilder::new("SELECT id FROM safety_stations WHERE id IN (");
                let mut ids = b.separated(", ");
                for (id, _, _) in chunk {
                    ids.push_bind(*id);
                }
                b.push(") ORDER BY id FOR NO KEY UPDATE");
                b.build().execute(c).await.map(|_| ())
            })?;
        }
        on_tx!(tx, |c| {
            // VALUES' columns are column1, column2, … on both stores.
            let mut b = sqlx::QueryBuilder::new(
                "UPDATE safety_stations SET last_observed_at = v.column2, last_value = v.column3 FROM (",
            );
            b.push_values(chunk, |mut row, (id, at, value)| {
                row.push_bind(*id).push_bind(*at).push_bind(*value);
            });
            b.push(
                ") AS v WHERE safety_stations.id = v.column1
                 AND (safety_stations.last_observed_at IS NULL
                      OR safety_stations.last_observed_at < v.column2)",
            );
            b.build().execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// Adds refused readings to their counts: (station code as sent, reason, how many).
pub async fn count_rejections(
    tx: &mut Tx,
    counts: &[(String, &'static str, i64)],
    at: Timestamp,
) -> Result<(), sqlx::Error> {
    kernel::db::add_to_counts(tx, "safety_rejections", "station_code", counts, at).await
}

/// A station's readings between two instants, newest first.
pub async fn readings(
    db: &Db,
    station_id: &str,
    from: Timestamp,
    until: Timestamp,
    limit: i64,
) -> Result<Vec<(Timestamp, f64, Timestamp)>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT observed_at, value, received_at FROM safety_observations
         WHERE station_id = $1 AND observed_at >= $2 AND observed_at <= $3
         ORDER BY observed_at DESC LIMIT $4"
    )
    .bind(station_id)
    .bind(from)
    .bind(until)
    .bind(limit)
    .fetch_all(c)
    .await)
}

/// The refused readings' counts, the most recent first.
pub async fn rejections(db: &Db) -> Result<Vec<(String, String, i64, Timestamp)>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT station_code, reason, count, last_at FROM safety_rejections
         ORDER BY last_at DESC, station_code, reason LIMIT 1000"
    )
    .fetch_all(c)
    .await)
}

/// Puts regions' areas (region code, GeoJSON geometry), replacing those they had.
pub async fn put_areas(
    tx: &mut Tx,
    areas: &[(String, String)],
    at: Timestamp,
) -> Result<(), sqlx::Error> {
    for chunk in areas.chunks(500) {
        on_tx!(tx, |c| {
            let mut b = sqlx::QueryBuilder::new(
                "INSERT INTO safety_areas (region_code, geometry, updated_at) ",
            );
            b.push_values(chunk, |mut v, (code, geometry)| {
                v.push_bind(code).push_bind(geometry).push_bind(at);
            });
            b.push(
                " ON CONFLICT (region_code) DO UPDATE SET geometry = excluded.geometry,
                  updated_at = excluded.updated_at",
            );
            b.build().execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// Every region's area with the region's name: (code, name, GeoJSON geometry).
pub async fn areas(db: &Db) -> Result<Vec<(String, String, String)>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT a.region_code, r.name, a.geometry FROM safety_areas a
         JOIN regions r ON r.code = a.region_code ORDER BY a.region_code"
    )
    .fetch_all(c)
    .await)
}

/// Sets regions' hazard indexes: (region, hazard, basis).
pub async fn put_hazards(
    tx: &mut Tx,
    hazards: &[(String, f64, String)],
    at: Timestamp,
) -> Result<(), sqlx::Error> {
    for chunk in hazards.chunks(500) {
        on_tx!(tx, |c| {
            let mut b = sqlx::QueryBuilder::new(
                "INSERT INTO safety_hazards (region_code, hazard, basis, updated_at) ",
            );
            b.push_values(chunk, |mut v, (code, hazard, basis)| {
                v.push_bind(code)
                    .push_bind(*hazard)
                    .push_bind(basis)
                    .push_bind(at);
            });
            b.push(
                " ON CONFLICT (region_code) DO UPDATE SET hazard = excluded.hazard,
                  basis = excluded.basis, updated_at = excluded.updated_at",
            );
            b.build().execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// Every recorded hazard index: (region, hazard, basis).
pub async fn hazards(db: &Db) -> Result<Vec<(String, f64, String)>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT region_code, hazard, basis FROM safety_hazards ORDER BY region_code"
    )
    .fetch_all(c)
    .await)
}

/// A shelter as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ShelterRow {
    pub code: String,
    pub name: String,
    pub region_code: String,
    pub latitude: f64,
    pub longitude: f64,
    pub capacity: i64,
}

/// Stores a new shelter (false when its code is taken).
pub async fn insert_shelter(
    tx: &mut Tx,
    s: &ShelterRow,
    organisation_id: &str,
    at: Timestamp,
) -> Result<bool, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO safety_shelters (code, name, region_code, latitude, longitude, capacity,
         organisation_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (code) DO NOTHING"
    )
    .bind(&s.code)
    .bind(&s.name)
    .bind(&s.region_code)
    .bind(s.latitude)
    .bind(s.longitude)
    .bind(s.capacity)
    .bind(organisation_id)
    .bind(at)
    .execute(c)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// Every shelter, by region and code.
pub async fn shelters(db: &Db) -> Result<Vec<ShelterRow>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT code, name, region_code, latitude, longitude, capacity FROM safety_shelters
         ORDER BY region_code, code"
    )
    .fetch_all(c)
    .await)
}

/// Keeps an assessment (its JSON).
pub async fn insert_assessment(
    tx: &mut Tx,
    id: &str,
    at: Timestamp,
    body: &str,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO safety_assessments (id, assessed_at, body) VALUES ($1, $2, $3)"
    )
    .bind(id)
    .bind(at)
    .bind(body)
    .execute(c)
    .await
    .map(|_| ()))
}

/// The latest assessment's JSON.
pub async fn latest_assessment(db: &Db) -> Result<Option<String>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_scalar(
        "SELECT body FROM safety_assessments ORDER BY assessed_at DESC, id DESC LIMIT 1"
    )
    .fetch_optional(c)
    .await)
}

/// Puts forecasts: (region, horizon, rain, issued at), each replacing its region's and
/// horizon's earlier one.
pub async fn put_forecasts(
    tx: &mut Tx,
    forecasts: &[(String, i32, f64, Timestamp)],
) -> Result<(), sqlx::Error> {
    for chunk in forecasts.chunks(500) {
        on_tx!(tx, |c| {
            let mut b = sqlx::QueryBuilder::new(
                "INSERT INTO safety_forecasts (region_code, horizon_hours, rain_mm, issued_at) ",
            );
            b.push_values(chunk, |mut v, (code, horizon, rain, issued)| {
                v.push_bind(code)
                    .push_bind(*horizon)
                    .push_bind(*rain)
                    .push_bind(*issued);
            });
            b.push(
                " ON CONFLICT (region_code, horizon_hours) DO UPDATE SET rain_mm = excluded.rain_mm,
                  issued_at = excluded.issued_at",
            );
            b.build().execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// Every forecast: (region, horizon, rain, issued at).
pub async fn forecasts(db: &Db) -> Result<Vec<(String, i32, f64, Timestamp)>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT region_code, horizon_hours, rain_mm, issued_at FROM safety_forecasts
         ORDER BY region_code, horizon_hours"
    )
    .fetch_all(c)
    .await)
}

/// These gauges' rain per clock hour from `first` to `last` (hours since the epoch):
/// (station id, hour, rain).
pub async fn rain_hours(
    db: &Db,
    station_ids: &[String],
    first: i64,
    last: i64,
) -> Result<Vec<(String, i64, f64)>, sqlx::Error> {
    let mut out = Vec::new();
    for chunk in station_ids.chunks(500) {
        let rows: Vec<(String, i64, f64)> = on_pool!(db.read(), |c| {
            let mut b = sqlx::QueryBuilder::new(
                "SELECT station_id, hour, rain FROM safety_rain_hours WHERE station_id IN ",
            );
            push_list(&mut b, chunk);
            b.push(" AND hour >= ")
                .push_bind(first)
                .push(" AND hour <= ")
                .push_bind(last);
            b.build_query_as().fetch_all(c).await
        })?;
        out.extend(rows);
    }
    Ok(out)
}

/// A station's first reading at or after `from`.
pub async fn first_reading_since(
    db: &Db,
    station_id: &str,
    from: Timestamp,
) -> Result<Option<(Timestamp, f64)>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT observed_at, value FROM safety_observations
         WHERE station_id = $1 AND observed_at >= $2 ORDER BY observed_at LIMIT 1"
    )
    .bind(station_id)
    .bind(from)
    .fetch_optional(c)
    .await)
}

/// The newest reading's time of any station.
pub async fn newest_reading(db: &Db) -> Result<Option<Timestamp>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_scalar(
        "SELECT MAX(last_observed_at) FROM safety_stations"
    )
    .fetch_one(c)
    .await)
}

/// A region's level for one horizon, as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct LevelRow {
    pub region_code: String,
    pub horizon_hours: i32,
    pub level: String,
    pub reasons: String,
    pub as_of: Timestamp,
    pub computed_at: Timestamp,
}

/// Every stored level (all horizons), or one horizon's.
pub async fn levels(db: &Db, horizon: Option<i32>) -> Result<Vec<LevelRow>, sqlx::Error> {
    on_pool!(db.read(), |c| {
        let mut b = sqlx::QueryBuilder::new(
            "SELECT region_code, horizon_hours, level, reasons, as_of, computed_at
             FROM safety_levels",
        );
        if let Some(h) = horizon {
            b.push(" WHERE horizon_hours = ").push_bind(h);
        }
        b.push(" ORDER BY region_code, horizon_hours");
        b.build_query_as().fetch_all(c).await
    })
}

/// Takes the levels' lock for the transaction: on PostgreSQL an advisory lock, so that
/// nodes recompute one at a time; SQLite's single writer already serialises them.
pub async fn lock_levels(tx: &mut Tx) -> Result<(), sqlx::Error> {
    if let Tx::Postgres(t) = tx {
        sqlx::query("SELECT pg_advisory_xact_lock(7243007)")
            .execute(&mut **t)
            .await?;
    }
    Ok(())
}

/// Every stored level, read inside the caller's transaction.
pub async fn levels_in(tx: &mut Tx) -> Result<Vec<LevelRow>, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query_as(
        "SELECT region_code, horizon_hours, level, reasons, as_of, computed_at FROM safety_levels"
    )
    .fetch_all(c)
    .await)
}

/// The regions whose residents were told since `from`, with the level each was told of.
pub async fn notified_since(
    tx: &mut Tx,
    from: Timestamp,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query_as(
        "SELECT region_code, to_level FROM safety_level_changes
         WHERE changed_at >= $1 AND residents_notified > 0"
    )
    .bind(from)
    .fetch_all(c)
    .await)
}

/// Puts levels, each replacing its region's and horizon's.
pub async fn put_levels(tx: &mut Tx, levels: &[LevelRow]) -> Result<(), sqlx::Error> {
    for chunk in levels.chunks(500) {
        on_tx!(tx, |c| {
            let mut b = sqlx::QueryBuilder::new(
                "INSERT INTO safety_levels (region_code, horizon_hours, level, reasons, as_of,
                 computed_at) ",
            );
            b.push_values(chunk, |mut v, l| {
                v.push_bind(&l.region_code)
                    .push_bind(l.horizon_hours)
                    .push_bind(&l.level)
                    .push_bind(&l.reasons)
                    .push_bind(l.as_of)
                    .push_bind(l.computed_at);
            });
            b.push(
                " ON CONFLICT (region_code, horizon_hours) DO UPDATE SET level = excluded.level,
                  reasons = excluded.reasons, as_of = excluded.as_of,
                  computed_at = excluded.computed_at",
            );
            b.build().execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// A change of level as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ChangeRow {
    pub id: String,
    pub region_code: String,
    pub horizon_hours: i32,
    pub from_level: String,
    pub to_level: String,
    pub changed_at: Timestamp,
    pub residents_notified: i64,
}

/// Records changes of level.
pub async fn insert_changes(tx: &mut Tx, changes: &[ChangeRow]) -> Result<(), sqlx::Error> {
    for chunk in changes.chunks(500) {
        on_tx!(tx, |c| {
            let mut b = sqlx::QueryBuilder::new(
                "INSERT INTO safety_level_changes (id, region_code, horizon_hours, from_level,
                 to_level, changed_at, residents_notified) ",
            );
            b.push_values(chunk, |mut v, ch| {
                v.push_bind(&ch.id)
                    .push_bind(&ch.region_code)
                    .push_bind(ch.horizon_hours)
                    .push_bind(&ch.from_level)
                    .push_bind(&ch.to_level)
                    .push_bind(ch.changed_at)
                    .push_bind(ch.residents_notified);
            });
            b.build().execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// Changes since `from`, the newest first (at most `limit`).
pub async fn changes_since(
    db: &Db,
    from: Timestamp,
    limit: i64,
) -> Result<Vec<ChangeRow>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT id, region_code, horizon_hours, from_level, to_level, changed_at,
         residents_notified FROM safety_level_changes WHERE changed_at >= $1
         ORDER BY changed_at DESC, id DESC LIMIT $2"
    )
    .bind(from)
    .bind(limit)
    .fetch_all(c)
    .await)
}

/// Region names by code.
pub async fn region_names(db: &Db) -> Result<Vec<(String, String)>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT code, name FROM regions"
    )
    .fetch_all(c)
    .await)
}

// ---- CAP alerts ----

/// An alert as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AlertRow {
    pub id: String,
    pub identifier: String,
    pub sender: String,
    pub sent: String,
    pub status: String,
    pub msg_type: String,
    pub scope: String,
    pub origin: String,
    pub state: String,
    pub body: String,
    pub received_version: Option<String>,
    pub signed: bool,
    pub refers_to: Option<String>,
    pub created_by: String,
    pub created_at: Timestamp,
    pub approved_by: Option<String>,
    pub approved_at: Option<Timestamp>,
    pub issued_by: Option<String>,
    pub issued_at: Option<Timestamp>,
}

/// The columns of an `AlertRow`, as a literal for `concat!`.
macro_rules! alert_columns {
    () => {
        "id, identifier, sender, sent, status, msg_type, scope, origin, state, body, received_version,
         signed, refers_to, created_by, created_at, approved_by, approved_at, issued_by, issued_at"
    };
}
const ALERT_COLUMNS: &str = alert_columns!();

/// Stores a new alert (false when its sender already sent one with its identifier).
pub async fn insert_alert(
    tx: &mut Tx,
    a: &AlertRow,
    original: Option<&str>,
) -> Result<bool, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO safety_alerts (id, identifier, sender, sent, status, msg_type, scope, origin,
         state, body, original, received_version, signed, refers_to, created_by, created_at,
         issued_by, issued_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
         ON CONFLICT (sender, identifier) DO NOTHING"
    )
    .bind(&a.id)
    .bind(&a.identifier)
    .bind(&a.sender)
    .bind(&a.sent)
    .bind(&a.status)
    .bind(&a.msg_type)
    .bind(&a.scope)
    .bind(&a.origin)
    .bind(&a.state)
    .bind(&a.body)
    .bind(original)
    .bind(&a.received_version)
    .bind(a.signed)
    .bind(&a.refers_to)
    .bind(&a.created_by)
    .bind(a.created_at)
    .bind(&a.issued_by)
    .bind(a.issued_at)
    .execute(c)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// One alert, read in the transaction (locked on PostgreSQL, for a change of state).
pub async fn alert_for_update(tx: &mut Tx, id: &str) -> Result<Option<AlertRow>, sqlx::Error> {
    let sql = match tx.kind() {
        kernel::db::DbKind::Postgres => concat!(
            "SELECT ",
            alert_columns!(),
            " FROM safety_alerts WHERE id = $1 FOR UPDATE"
        ),
        kernel::db::DbKind::Sqlite => {
            concat!(
                "SELECT ",
                alert_columns!(),
                " FROM safety_alerts WHERE id = $1"
            )
        }
    };
    on_tx!(tx, |c| sqlx::query_as(sql).bind(id).fetch_optional(c).await)
}

/// One alert.
pub async fn alert(db: &Db, id: &str) -> Result<Option<AlertRow>, sqlx::Error> {
    const SQL: &str = concat!(
        "SELECT ",
        alert_columns!(),
        " FROM safety_alerts WHERE id = $1"
    );
    on_pool!(db.read(), |c| sqlx::query_as(SQL)
        .bind(id)
        .fetch_optional(c)
        .await)
}

/// The alert a sender sent with an identifier, if stored here.
pub async fn alert_by_identifier(
    tx: &mut Tx,
    sender: &str,
    identifier: &str,
) -> Result<Option<AlertRow>, sqlx::Error> {
    const SQL: &str = concat!(
        "SELECT ",
        alert_columns!(),
        " FROM safety_alerts WHERE sender = $1 AND identifier = $2"
    );
    on_tx!(tx, |c| sqlx::query_as(SQL)
        .bind(sender)
        .bind(identifier)
        .fetch_optional(c)
        .await)
}

/// An imported alert's original document.
pub async fn alert_original(db: &Db, id: &str) -> Result<Option<Option<String>>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_scalar(
        "SELECT original FROM safety_alerts WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await)
}

/// Alerts, newest first: in one of `states` (or any), only the public Actual ones when
/// `public_only`; at most `limit`.
pub async fn alerts(
    db: &Db,
    states: &[String],
    public_only: bool,
    limit: i64,
) -> Result<Vec<AlertRow>, sqlx::Error> {
    on_pool!(db.read(), |c| {
        let mut q = sqlx::QueryBuilder::new(format!(
            "SELECT {ALERT_COLUMNS} FROM safety_alerts WHERE 1 = 1"
        ));
        if !states.is_empty() {
            q.push(" AND state IN ");
            push_list(&mut q, states);
        }
        if public_only {
            q.push(" AND scope = 'Public' AND status = 'Actual'");
        }
        q.push(" ORDER BY created_at DESC, id DESC LIMIT ");
        q.push_bind(limit);
        q.build_query_as().fetch_all(c).await
    })
}

/// Approves a draft.
pub async fn approve_alert(
    tx: &mut Tx,
    id: &str,
    by: &str,
    at: Timestamp,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE safety_alerts SET state = 'approved', approved_by = $2, approved_at = $3
         WHERE id = $1"
    )
    .bind(id)
    .bind(by)
    .bind(at)
    .execute(c)
    .await
    .map(|_| ()))
}

/// Issues an approved alert: its final body and time sent.
pub async fn issue_alert(
    tx: &mut Tx,
    id: &str,
    body: &str,
    sent: &str,
    by: &str,
    at: Timestamp,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE safety_alerts SET state = 'issued', body = $2, sent = $3, issued_by = $4,
         issued_at = $5 WHERE id = $1"
    )
    .bind(id)
    .bind(body)
    .bind(sent)
    .bind(by)
    .bind(at)
    .execute(c)
    .await
    .map(|_| ()))
}

/// Sets an alert's state (superseded or cancelled by a later message).
pub async fn set_alert_state(tx: &mut Tx, id: &str, state: &str) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE safety_alerts SET state = $2 WHERE id = $1"
    )
    .bind(id)
    .bind(state)
    .execute(c)
    .await
    .map(|_| ()))
}

// ---- targeted alerts: shared locations, alert notices, evacuation ----

/// Stores (or replaces) a resident's shared location.
pub async fn put_location(
    db: &Db,
    person_id: &str,
    cell: (i64, i64),
    point_enc: &[u8],
    at: Timestamp,
) -> Result<(), sqlx::Error> {
    on_pool!(db.write(), |c| sqlx::query(
        "INSERT INTO safety_locations (person_id, cell_lat, cell_lon, point_enc, shared_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (person_id) DO UPDATE SET cell_lat = excluded.cell_lat,
             cell_lon = excluded.cell_lon, point_enc = excluded.point_enc,
             shared_at = excluded.shared_at"
    )
    .bind(person_id)
    .bind(cell.0)
    .bind(cell.1)
    .bind(point_enc)
    .bind(at)
    .execute(c)
    .await
    .map(|_| ()))
}

/// A resident's shared location: (sealed point, shared at).
pub async fn location(
    db: &Db,
    person_id: &str,
) -> Result<Option<(Vec<u8>, Timestamp)>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT point_enc, shared_at FROM safety_locations WHERE person_id = $1"
    )
    .bind(person_id)
    .fetch_optional(c)
    .await)
}

/// Withdraws a resident's shared location (false: there was none).
pub async fn delete_location(db: &Db, person_id: &str) -> Result<bool, sqlx::Error> {
    on_pool!(db.write(), |c| sqlx::query(
        "DELETE FROM safety_locations WHERE person_id = $1"
    )
    .bind(person_id)
    .execute(c)
    .await
    .map(|r| r.rows_affected() > 0))
}

/// Locations shared since `since` in a box of cells (south, north, west, east):
/// (person id, sealed point).
pub async fn locations_in_cells(
    db: &Db,
    cells: (i64, i64, i64, i64),
    since: Timestamp,
) -> Result<Vec<(String, Vec<u8>)>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT person_id, point_enc FROM safety_locations
         WHERE cell_lat BETWEEN $1 AND $2 AND cell_lon BETWEEN $3 AND $4 AND shared_at >= $5"
    )
    .bind(cells.0)
    .bind(cells.1)
    .bind(cells.2)
    .bind(cells.3)
    .bind(since)
    .fetch_all(c)
    .await)
}

/// The notice an issued alert went out with.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AlertNoticeRow {
    pub alert_id: String,
    pub chain_id: String,
    pub notice_id: String,
    pub kind: String,
    pub regions: String,
    pub by_region: i64,
    pub by_location: i64,
    pub reached: i64,
    pub created_at: Timestamp,
}

pub async fn insert_alert_notice(tx: &mut Tx, n: &AlertNoticeRow) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO safety_alert_notices (alert_id, chain_id, notice_id, kind, regions,
             by_region, by_location, reached, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    )
    .bind(&n.alert_id)
    .bind(&n.chain_id)
    .bind(&n.notice_id)
    .bind(&n.kind)
    .bind(&n.regions)
    .bind(n.by_region)
    .bind(n.by_location)
    .bind(n.reached)
    .bind(n.created_at)
    .execute(c)
    .await
    .map(|_| ()))
}

/// The notice an alert went out with, if it went out with one.
pub async fn alert_notice(db: &Db, alert_id: &str) -> Result<Option<AlertNoticeRow>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT alert_id, chain_id, notice_id, kind, regions, by_region, by_location, reached,
             created_at FROM safety_alert_notices WHERE alert_id = $1"
    )
    .bind(alert_id)
    .fetch_optional(c)
    .await)
}

/// The notices of a chain's alerts and updates (not its cancel), oldest first.
pub async fn chain_notices(db: &Db, chain_id: &str) -> Result<Vec<String>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_scalar(
        "SELECT notice_id FROM safety_alert_notices WHERE chain_id = $1 AND kind = 'alert'
         ORDER BY created_at, alert_id"
    )
    .bind(chain_id)
    .fetch_all(c)
    .await)
}

/// Whether any of the notices reached the person.
pub async fn reached(db: &Db, person_id: &str, notices: &[String]) -> Result<bool, sqlx::Error> {
    if notices.is_empty() {
        return Ok(false);
    }
    on_pool!(db.read(), |c| {
        let mut b =
            sqlx::QueryBuilder::new("SELECT COUNT(*) FROM inbox_entries WHERE person_id = ");
        b.push_bind(person_id).push(" AND message_id IN ");
        push_list(&mut b, notices);
        b.build_query_scalar::<i64>()
            .fetch_one(c)
            .await
            .map(|n| n > 0)
    })
}

/// A person's evacuation record in a chain.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EvacuationRow {
    pub chain_id: String,
    pub person_id: String,
    pub status: String,
    pub asked_help: bool,
    pub note_enc: Option<Vec<u8>>,
    pub shelter: Option<String>,
    pub by_herself: bool,
    pub updated_by: String,
    pub updated_at: Timestamp,
}

/// Records a step (replacing the last one; `asked_help` once set stays set).
pub async fn put_evacuation(db: &Db, e: &EvacuationRow) -> Result<(), sqlx::Error> {
    on_pool!(db.write(), |c| sqlx::query(
        "INSERT INTO safety_evacuation (chain_id, person_id, status, asked_help, note_enc,
             shelter, by_herself, updated_by, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (chain_id, person_id) DO UPDATE SET status = excluded.status,
             asked_help = (safety_evacuation.asked_help OR excluded.asked_help),
             note_enc = COALESCE(excluded.note_enc, safety_evacuation.note_enc),
             shelter = excluded.shelter, by_herself = excluded.by_herself,
             updated_by = excluded.updated_by,
             updated_at = excluded.updated_at"
    )
    .bind(&e.chain_id)
    .bind(&e.person_id)
    .bind(&e.status)
    .bind(e.asked_help)
    .bind(&e.note_enc)
    .bind(&e.shelter)
    .bind(e.by_herself)
    .bind(&e.updated_by)
    .bind(e.updated_at)
    .execute(c)
    .await
    .map(|_| ()))
}

/// A person's evacuation record in a chain, with whether she acknowledged a notice.
pub async fn evacuation(
    db: &Db,
    chain_id: &str,
    person_id: &str,
) -> Result<Option<EvacuationRow>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT chain_id, person_id, status, asked_help, note_enc, shelter, by_herself, updated_by,
             updated_at FROM safety_evacuation WHERE chain_id = $1 AND person_id = $2"
    )
    .bind(chain_id)
    .bind(person_id)
    .fetch_optional(c)
    .await)
}

/// Whether the person acknowledged any of the notices.
pub async fn acknowledged(
    db: &Db,
    person_id: &str,
    notices: &[String],
) -> Result<bool, sqlx::Error> {
    if notices.is_empty() {
        return Ok(false);
    }
    on_pool!(db.read(), |c| {
        let mut b =
            sqlx::QueryBuilder::new("SELECT COUNT(acked_at) FROM inbox_entries WHERE person_id = ");
        b.push_bind(person_id).push(" AND message_id IN ");
        push_list(&mut b, notices);
        b.build_query_scalar::<i64>()
            .fetch_one(c)
            .await
            .map(|n| n > 0)
    })
}

/// How many of the people the notices reached (registered under `region_prefix`, when
/// given) stand where: (status, count), a person without a record counted as
/// `acknowledged` or `notified`.
pub async fn evacuation_counts(
    db: &Db,
    chain_id: &str,
    notices: &[String],
    region_prefix: Option<&str>,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    if notices.is_empty() {
        return Ok(Vec::new());
    }
    on_pool!(db.read(), |c| {
        let mut b = sqlx::QueryBuilder::new(
            "SELECT COALESCE(e.status, CASE WHEN r.acked > 0 THEN 'acknowledged' ELSE 'notified' END),
                 COUNT(*)
             FROM (SELECT i.person_id, COUNT(i.acked_at) AS acked FROM inbox_entries i",
        );
        if let Some(prefix) = region_prefix {
            b.push(" JOIN persons p ON p.id = i.person_id AND p.region_code LIKE ")
                .push_bind(format!("{prefix}%"));
        }
        b.push(" WHERE i.message_id IN ");
        push_list(&mut b, notices);
        b.push(
            " GROUP BY i.person_id) r
             LEFT JOIN safety_evacuation e ON e.chain_id = ",
        )
        .push_bind(chain_id)
        .push(" AND e.person_id = r.person_id GROUP BY 1");
        b.build_query_as().fetch_all(c).await
    })
}

/// One person of a danger-zone list as read.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DangerRow {
    pub person_id: String,
    pub name: String,
    pub region_code: String,
    pub status: Option<String>,
    pub asked_help: Option<bool>,
    pub shelter: Option<String>,
    pub by_herself: Option<bool>,
    pub updated_at: Option<Timestamp>,
    pub acked: i64,
}

/// The people the notices reached who asked for help (or were found to need it) or carry
/// one of the tags (keyed hashes), under `region_prefix` when given: those needing help
/// first, then the others not yet transferred or safe, then the rest; at most `limit`.
pub async fn danger_zone(
    db: &Db,
    chain_id: &str,
    notices: &[String],
    tag_hashes: &[String],
    region_prefix: Option<&str>,
    limit: i64,
) -> Result<Vec<DangerRow>, sqlx::Error> {
    if notices.is_empty() {
        return Ok(Vec::new());
    }
    on_pool!(db.read(), |c| {
        let mut b = sqlx::QueryBuilder::new(
            "SELECT p.id AS person_id, p.name, p.region_code, e.status, e.asked_help, e.shelter,
                 e.by_herself, e.updated_at,
                 (SELECT COUNT(i.acked_at) FROM inbox_entries i
                  WHERE i.person_id = p.id AND i.message_id IN ",
        );
        push_list(&mut b, notices);
        b.push(
            ") AS acked
             FROM persons p LEFT JOIN safety_evacuation e ON e.chain_id = ",
        )
        .push_bind(chain_id)
        .push(
            " AND e.person_id = p.id
             WHERE p.id IN (SELECT person_id FROM safety_evacuation WHERE chain_id = ",
        )
        .push_bind(chain_id)
        .push(" AND (asked_help OR status = 'needs_help')");
        if !tag_hashes.is_empty() {
            b.push(" UNION SELECT person_id FROM person_tags WHERE tag_hash IN ");
            push_list(&mut b, tag_hashes);
        }
        b.push(
            ") AND EXISTS (SELECT 1 FROM inbox_entries i WHERE i.person_id = p.id
                 AND i.message_id IN ",
        );
        push_list(&mut b, notices);
        b.push(")");
        if let Some(prefix) = region_prefix {
            b.push(" AND p.region_code LIKE ")
                .push_bind(format!("{prefix}%"));
        }
        b.push(
            " ORDER BY CASE COALESCE(e.status, '') WHEN 'needs_help' THEN 0
                 WHEN 'transferred' THEN 2 WHEN 'safe' THEN 3 ELSE 1 END,
                 p.region_code, p.id LIMIT ",
        )
        .push_bind(limit);
        b.build_query_as().fetch_all(c).await
    })
}

/// Which of the tags (keyed hashes) each of the persons carries: (person id, tag hash).
pub async fn tags_of(
    db: &Db,
    persons: &[String],
    tag_hashes: &[String],
) -> Result<Vec<(String, String)>, sqlx::Error> {
    if persons.is_empty() || tag_hashes.is_empty() {
        return Ok(Vec::new());
    }
    on_pool!(db.read(), |c| {
        let mut b = sqlx::QueryBuilder::new(
            "SELECT person_id, tag_hash FROM person_tags WHERE tag_hash IN ",
        );
        push_list(&mut b, tag_hashes);
        b.push(" AND person_id IN ");
        push_list(&mut b, persons);
        b.build_query_as().fetch_all(c).await
    })
}

// ---- relief supplies ----

/// A depot as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DepotRow {
    pub code: String,
    pub name: String,
    pub region_code: String,
    pub latitude: f64,
    pub longitude: f64,
    pub organisation_id: String,
}

/// Stores a new depot (false when its code is taken).
pub async fn insert_depot(tx: &mut Tx, d: &DepotRow, at: Timestamp) -> Result<bool, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO safety_depots (code, name, region_code, latitude, longitude,
             organisation_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (code) DO NOTHING"
    )
    .bind(&d.code)
    .bind(&d.name)
    .bind(&d.region_code)
    .bind(d.latitude)
    .bind(d.longitude)
    .bind(&d.organisation_id)
    .bind(at)
    .execute(c)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// Every depot.
pub async fn depots(db: &Db) -> Result<Vec<DepotRow>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT code, name, region_code, latitude, longitude, organisation_id
         FROM safety_depots ORDER BY code"
    )
    .fetch_all(c)
    .await)
}

/// One depot.
pub async fn depot(db: &Db, code: &str) -> Result<Option<DepotRow>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT code, name, region_code, latitude, longitude, organisation_id
         FROM safety_depots WHERE code = $1"
    )
    .bind(code)
    .fetch_optional(c)
    .await)
}

/// Sets what a depot holds of a supply.
pub async fn put_stock(
    tx: &mut Tx,
    depot: &str,
    supply: &str,
    quantity: i64,
    at: Timestamp,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "INSERT INTO safety_stock (depot_code, supply, quantity, updated_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (depot_code, supply) DO UPDATE SET quantity = excluded.quantity,
             updated_at = excluded.updated_at"
    )
    .bind(depot)
    .bind(supply)
    .bind(quantity)
    .bind(at)
    .execute(c)
    .await
    .map(|_| ()))
}

/// Every depot's stock: (depot, supply, quantity).
pub async fn stock(db: &Db) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT depot_code, supply, quantity FROM safety_stock ORDER BY depot_code, supply"
    )
    .fetch_all(c)
    .await)
}

/// Takes a shipment out of a depot's stock (false: it no longer holds that much).
pub async fn take_stock(
    tx: &mut Tx,
    depot: &str,
    supply: &str,
    quantity: i64,
    at: Timestamp,
) -> Result<bool, sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE safety_stock SET quantity = quantity - $3, updated_at = $4
         WHERE depot_code = $1 AND supply = $2 AND quantity >= $3"
    )
    .bind(depot)
    .bind(supply)
    .bind(quantity)
    .bind(at)
    .execute(c)
    .await
    .map(|r| r.rows_affected() == 1))
}

/// Replaces every route: (depot, region, minutes).
pub async fn put_routes(tx: &mut Tx, routes: &[(String, String, f64)]) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query("DELETE FROM safety_routes")
        .execute(c)
        .await
        .map(|_| ()))?;
    for chunk in routes.chunks(1_000) {
        on_tx!(tx, |c| {
            let mut b = sqlx::QueryBuilder::new(
                "INSERT INTO safety_routes (depot_code, region_code, minutes) ",
            );
            b.push_values(chunk, |mut row, (depot, region, minutes)| {
                row.push_bind(depot.clone())
                    .push_bind(region.clone())
                    .push_bind(*minutes);
            });
            b.build().execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
}

/// Every route: (depot, region, minutes).
pub async fn routes(db: &Db) -> Result<Vec<(String, String, f64)>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT depot_code, region_code, minutes FROM safety_routes
         ORDER BY depot_code, region_code"
    )
    .fetch_all(c)
    .await)
}

/// A plan as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PlanRow {
    pub id: String,
    pub state: String,
    pub body: String,
    pub dispatched_by: Option<String>,
    pub dispatched_at: Option<Timestamp>,
}

pub async fn insert_plan(
    db: &Db,
    id: &str,
    horizon: i32,
    body: &str,
    by: &str,
    at: Timestamp,
) -> Result<(), sqlx::Error> {
    on_pool!(db.write(), |c| sqlx::query(
        "INSERT INTO safety_supply_plans (id, horizon_hours, state, body, created_by, created_at)
         VALUES ($1, $2, 'proposed', $3, $4, $5)"
    )
    .bind(id)
    .bind(horizon)
    .bind(body)
    .bind(by)
    .bind(at)
    .execute(c)
    .await
    .map(|_| ()))
}

/// The newest plans first.
pub async fn plans(db: &Db, limit: i64) -> Result<Vec<PlanRow>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT id, state, body, dispatched_by, dispatched_at FROM safety_supply_plans
         ORDER BY created_at DESC, id DESC LIMIT $1"
    )
    .bind(limit)
    .fetch_all(c)
    .await)
}

/// One plan, locked in the transaction on PostgreSQL when `tx` is given.
pub async fn plan_for_update(tx: &mut Tx, id: &str) -> Result<Option<PlanRow>, sqlx::Error> {
    let sql = match tx.kind() {
        kernel::db::DbKind::Postgres => {
            "SELECT id, state, body, dispatched_by, dispatched_at FROM safety_supply_plans
             WHERE id = $1 FOR UPDATE"
        }
        kernel::db::DbKind::Sqlite => {
            "SELECT id, state, body, dispatched_by, dispatched_at FROM safety_supply_plans
             WHERE id = $1"
        }
    };
    on_tx!(tx, |c| sqlx::query_as(sql).bind(id).fetch_optional(c).await)
}

/// One plan.
pub async fn plan(db: &Db, id: &str) -> Result<Option<PlanRow>, sqlx::Error> {
    on_pool!(db.read(), |c| sqlx::query_as(
        "SELECT id, state, body, dispatched_by, dispatched_at FROM safety_supply_plans
         WHERE id = $1"
    )
    .bind(id)
    .fetch_optional(c)
    .await)
}

/// Marks a plan dispatched.
pub async fn dispatch_plan(
    tx: &mut Tx,
    id: &str,
    by: &str,
    at: Timestamp,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE safety_supply_plans SET state = 'dispatched', dispatched_by = $2,
             dispatched_at = $3 WHERE id = $1"
    )
    .bind(id)
    .bind(by)
    .bind(at)
    .execute(c)
    .await
    .map(|_| ()))
}
