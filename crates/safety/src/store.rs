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
/// trip through the driver's worker, which halved the ingest rate.)
pub async fn insert_readings(
    tx: &mut Tx,
    readings: &[NewReading<'_>],
    received_at: Timestamp,
) -> Result<u64, sqlx::Error> {
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

/// Moves a station's latest reading forward (never back: readings may arrive out of
/// order).
pub async fn set_latest(
    tx: &mut Tx,
    station_id: &str,
    observed_at: Timestamp,
    value: f64,
) -> Result<(), sqlx::Error> {
    on_tx!(tx, |c| sqlx::query(
        "UPDATE safety_stations SET last_observed_at = $1, last_value = $2
         WHERE id = $3 AND (last_observed_at IS NULL OR last_observed_at < $1)"
    )
    .bind(observed_at)
    .bind(value)
    .bind(station_id)
    .execute(c)
    .await
    .map(|_| ()))
}

/// Adds refused readings to their counts: (station code as sent, reason, how many).
pub async fn count_rejections(
    tx: &mut Tx,
    counts: &[(String, &'static str, i64)],
    at: Timestamp,
) -> Result<(), sqlx::Error> {
    for chunk in counts.chunks(500) {
        on_tx!(tx, |c| {
            let mut b = sqlx::QueryBuilder::new(
                "INSERT INTO safety_rejections (station_code, reason, count, last_at) ",
            );
            b.push_values(chunk, |mut v, (code, reason, n)| {
                v.push_bind(code)
                    .push_bind(*reason)
                    .push_bind(*n)
                    .push_bind(at);
            });
            b.push(
                " ON CONFLICT (station_code, reason) DO UPDATE SET
                  count = safety_rejections.count + excluded.count, last_at = excluded.last_at",
            );
            b.build().execute(c).await.map(|_| ())
        })?;
    }
    Ok(())
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
