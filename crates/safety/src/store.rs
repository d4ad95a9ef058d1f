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
const READINGS_PER_STATEMENT: usize = 2_000;

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
/// how many were new.
pub async fn insert_readings(
    tx: &mut Tx,
    readings: &[NewReading<'_>],
    received_at: Timestamp,
) -> Result<u64, sqlx::Error> {
    let mut inserted = 0;
    for chunk in readings.chunks(READINGS_PER_STATEMENT) {
        inserted += on_tx!(tx, |c| {
            let mut b = sqlx::QueryBuilder::new(
                "INSERT INTO safety_observations (station_id, observed_at, value, received_at) ",
            );
            b.push_values(chunk, |mut v, r| {
                v.push_bind(r.station_id)
                    .push_bind(r.observed_at)
                    .push_bind(r.value)
                    .push_bind(received_at);
            });
            b.push(" ON CONFLICT (station_id, observed_at) DO NOTHING");
            b.build().execute(c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(inserted)
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
