//! Monitoring: departments register stations; readings arrive in batches (over HTTP, and
//! from the MQTT listener), each checked — the station exists and is the sender's, the
//! unit is the station's, the value is physically possible, the time parses and is not
//! ahead of the clock — and stored once per station and instant; refused readings are
//! answered with their reasons and counted.

use std::collections::{BTreeMap, HashMap};

use kernel::audit::{AuditEvent, Basis};
use kernel::auth::{Principal, Role};
use kernel::time::Timestamp;
use kernel::{ApiError, ApiResult, AppState};

use crate::model::*;
use crate::store::{self, NewReading, StationRow};

/// The most readings one batch may carry.
pub const MAX_BATCH: usize = 10_000;

/// How far ahead of the server's clock a reading's time may be (a logger's clock drifts).
const FUTURE_TOLERANCE_MICROS: i64 = 5 * 60 * 1_000_000;

/// How many refused readings a report lists one by one.
const REFUSED_LISTED: usize = 100;

fn station_of(row: StationRow) -> Station {
    let kind = StationKind::parse(&row.kind).unwrap_or(StationKind::RainGauge);
    Station {
        id: row.id,
        code: row.code,
        name: row.name,
        kind,
        unit: row.unit,
        region: row.region_code,
        latitude: row.latitude,
        longitude: row.longitude,
        organisation_id: row.organisation_id,
        warning_level: row.warning_level,
        guarantee_level: row.guarantee_level,
        created_at: row.created_at,
        last_observed_at: row.last_observed_at,
        last_value: row.last_value,
    }
}

/// Whether `code` may name a station: 2–40 of A–Z, a–z, 0–9, `-` and `_` (it is one
/// level of an MQTT topic, so no `/`, `+` or `#`).
pub fn is_station_code(code: &str) -> bool {
    (2..=40).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Registers a station (its department's administrator, or a platform administrator).
pub async fn register_station(
    state: &AppState,
    by: &Principal,
    new: NewStation,
) -> ApiResult<Station> {
    let code = new.code.trim().to_string();
    if !is_station_code(&code) {
        return Err(ApiError::invalid(
            "code",
            "a station code is 2–40 of A–Z, a–z, 0–9, - and _",
        ));
    }
    let name = kernel::api::text("name", &new.name, 80, true)?;
    let kind = StationKind::parse(new.kind.trim()).ok_or_else(|| {
        ApiError::invalid(
            "kind",
            format!(
                "kind is one of {}",
                STATION_KINDS.map(StationKind::as_str).join(", ")
            ),
        )
    })?;
    if !(-90.0..=90.0).contains(&new.latitude) {
        return Err(ApiError::invalid(
            "latitude",
            "latitude is between -90 and 90",
        ));
    }
    if !(-180.0..=180.0).contains(&new.longitude) {
        return Err(ApiError::invalid(
            "longitude",
            "longitude is between -180 and 180",
        ));
    }
    let (low, high) = kind.range();
    for (field, level) in [
        ("warning_level", new.warning_level),
        ("guarantee_level", new.guarantee_level),
    ] {
        if let Some(v) = level
            && !(low..=high).contains(&v)
        {
            return Err(ApiError::invalid(
                field,
                format!(
                    "a {} reads {low}–{high} {}: {v} cannot be reached",
                    kind.names().1,
                    kind.unit()
                ),
            ));
        }
    }
    if let (Some(w), Some(g)) = (new.warning_level, new.guarantee_level)
        && g < w
    {
        return Err(ApiError::invalid(
            "guarantee_level",
            "the guaranteed level is at or above the warning level",
        ));
    }
    let organisation_id = match new.organisation_id.as_deref() {
        Some(org) if kernel::ids::is_uuid(org) => org.to_string(),
        Some(_) => {
            return Err(ApiError::invalid(
                "organisation_id",
                "not a valid organisation id",
            ));
        }
        None => by
            .organisation_id()
            .ok_or_else(|| {
                ApiError::invalid("organisation_id", "name the department that runs it")
            })?
            .to_string(),
    };
    by.require_org_admin(&organisation_id)?;
    identity::service::get_organisation(state, &organisation_id).await?;
    let region = new.region.trim();
    identity::service::get_region(state, region)
        .await
        .map_err(|_| ApiError::invalid("region", format!("there is no region {region}")))?;
    let row = StationRow {
        id: kernel::ids::new_id(),
        code: code.clone(),
        name,
        kind: kind.as_str().into(),
        unit: kind.unit().into(),
        region_code: region.to_string(),
        latitude: new.latitude,
        longitude: new.longitude,
        organisation_id,
        warning_level: new.warning_level,
        guarantee_level: new.guarantee_level,
        created_at: Timestamp::now(),
        last_observed_at: None,
        last_value: None,
    };
    let mut tx = state.db.begin().await?;
    store::insert_station(&mut tx, &row).await.map_err(|e| {
        if kernel::db::is_unique_violation(&e) {
            ApiError::Conflict(format!("a station {code} is registered already"))
        } else {
            e.into()
        }
    })?;
    let mut event = AuditEvent::by(by, "safety.station.register", format!("station:{code}"));
    event.purpose = "register a monitoring station".into();
    event.basis = Basis::NotApplicable;
    state.audit.record_in(&mut tx, event).await?;
    tx.commit().await?;
    Ok(station_of(row))
}

/// Every station, or those in a region (and the regions under it). Public: where the
/// gauges are and what they read is what a resident watching a flood wants to know.
pub async fn stations(state: &AppState, region: Option<&str>) -> ApiResult<Vec<Station>> {
    Ok(store::stations(&state.db, region)
        .await?
        .into_iter()
        .map(station_of)
        .collect())
}

/// One station (public).
pub async fn station(state: &AppState, code: &str) -> ApiResult<Station> {
    store::station(&state.db, code)
        .await?
        .map(station_of)
        .ok_or_else(|| ApiError::NotFound(format!("there is no station {code}")))
}

/// Whether `by` may send a station's readings: a platform administrator, or the staff or
/// information system of the department that runs it.
fn may_send(by: &Principal, station: &StationRow) -> bool {
    by.is_platform_admin()
        || [Role::OrgAdmin, Role::Reviewer, Role::Clerk, Role::System]
            .iter()
            .any(|r| by.has_role_in(*r, &station.organisation_id))
}

/// Why one reading is refused, if it is: checked against the station it names.
fn check(
    reading: &ObservationIn,
    station: Option<&StationRow>,
    by: &Principal,
    now: Timestamp,
) -> Result<(Timestamp, f64), (Rejection, String)> {
    let Some(station) = station else {
        return Err((
            Rejection::UnknownStation,
            format!("there is no station {}", reading.station),
        ));
    };
    if !may_send(by, station) {
        return Err((
            Rejection::NotYourStation,
            format!("{} is run by another department", station.code),
        ));
    }
    if let Some(unit) = reading.unit.as_deref()
        && unit != station.unit
    {
        return Err((
            Rejection::UnitMismatch,
            format!("{} reads in {}, not {unit}", station.code, station.unit),
        ));
    }
    let kind = StationKind::parse(&station.kind).unwrap_or(StationKind::RainGauge);
    let (low, high) = kind.range();
    if !reading.value.is_finite() || !(low..=high).contains(&reading.value) {
        return Err((
            Rejection::OutOfRange,
            format!(
                "a {} reads {low}–{high} {}: {} is an instrument fault",
                kind.names().1,
                station.unit,
                reading.value
            ),
        ));
    }
    let Some(at) = Timestamp::parse_rfc3339(reading.observed_at.trim()) else {
        return Err((
            Rejection::BadTime,
            format!(
                "{:?} is not an RFC 3339 time (e.g. 2026-07-21T14:00:00+08:00)",
                reading.observed_at.chars().take(40).collect::<String>()
            ),
        ));
    };
    if at.0 > now.0 + FUTURE_TOLERANCE_MICROS {
        return Err((
            Rejection::InTheFuture,
            format!("{} is ahead of the server's clock", at.rfc3339()),
        ));
    }
    Ok((at, reading.value))
}

/// Stores a batch of readings: every good one once (a reading sent again is a duplicate,
/// not an error), every bad one refused with its reason and counted; the batch as a
/// whole is stored or not at all.
pub async fn ingest(
    state: &AppState,
    by: &Principal,
    batch: &[ObservationIn],
) -> ApiResult<IngestReport> {
    if batch.len() > MAX_BATCH {
        return Err(ApiError::invalid(
            "observations",
            format!(
                "a batch holds at most {MAX_BATCH} readings, not {}",
                batch.len()
            ),
        ));
    }
    // The stations named, once each (a batch names a few hundred stations many times).
    let named: std::collections::HashSet<&str> = batch
        .iter()
        .map(|o| o.station.as_str())
        .filter(|c| is_station_code(c))
        .collect();
    let codes: Vec<String> = named.into_iter().map(str::to_string).collect();
    let stations: HashMap<String, StationRow> = store::stations_by_code(&state.db, &codes)
        .await?
        .into_iter()
        .map(|s| (s.code.clone(), s))
        .collect();
    let now = Timestamp::now();
    let mut good = Vec::with_capacity(batch.len());
    // By station id: concurrent batches then lock the stations they update in one order
    // (on PostgreSQL, two batches updating in different orders would deadlock).
    let mut latest: BTreeMap<&str, (Timestamp, f64)> = BTreeMap::new();
    let mut refused = Vec::new();
    let mut counts = Tally::new();
    let mut rejected = 0;
    for (index, reading) in batch.iter().enumerate() {
        let station = stations.get(&reading.station);
        match check(reading, station, by, now) {
            Ok((at, value)) => {
                let Some(station) = station else { continue };
                let newest = latest.entry(station.id.as_str()).or_insert((at, value));
                if at > newest.0 {
                    *newest = (at, value);
                }
                good.push(NewReading {
                    station_id: &station.id,
                    observed_at: at,
                    value,
                });
            }
            Err((reason, detail)) => {
                rejected += 1;
                let code = tally(&mut counts, &reading.station, reason);
                if refused.len() < REFUSED_LISTED {
                    refused.push(Refused {
                        index,
                        station: code,
                        reason,
                        detail,
                    });
                }
            }
        }
    }
    let mut tx = state.db.begin().await?;
    let accepted = store::insert_readings(&mut tx, &good, now).await? as usize;
    for (station_id, (at, value)) in &latest {
        store::set_latest(&mut tx, station_id, *at, *value).await?;
    }
    write_tally(&mut tx, counts, now).await?;
    tx.commit().await?;
    Ok(IngestReport {
        accepted,
        duplicates: good.len() - accepted,
        rejected,
        refused,
    })
}

/// Counts readings refused before they could be checked (e.g. an MQTT message that is
/// not JSON): (station code as named, reason).
pub async fn count_refused(state: &AppState, refused: &[(String, Rejection)]) -> ApiResult<()> {
    if refused.is_empty() {
        return Ok(());
    }
    let mut counts = Tally::new();
    for (code, reason) in refused {
        tally(&mut counts, code, *reason);
    }
    let mut tx = state.db.begin().await?;
    write_tally(&mut tx, counts, Timestamp::now()).await?;
    tx.commit().await?;
    Ok(())
}

/// Refused readings counted by (station code as sent, reason).
type Tally = BTreeMap<(String, &'static str), i64>;

/// Counts one refused reading under the code as sent, cut to a station code's length
/// (the code counted is given back).
fn tally(counts: &mut Tally, station: &str, reason: Rejection) -> String {
    let code: String = station.chars().take(40).collect();
    *counts.entry((code.clone(), reason.as_str())).or_default() += 1;
    code
}

/// Adds the counts to the stored ones.
async fn write_tally(tx: &mut kernel::db::Tx, counts: Tally, at: Timestamp) -> ApiResult<()> {
    if !counts.is_empty() {
        let counts: Vec<(String, &'static str, i64)> =
            counts.into_iter().map(|((c, r), n)| (c, r, n)).collect();
        store::count_rejections(tx, &counts, at).await?;
    }
    Ok(())
}

/// A station's readings, newest first (public).
pub async fn readings(
    state: &AppState,
    code: &str,
    query: &ObservationQuery,
) -> ApiResult<Vec<Observation>> {
    let row = store::station(&state.db, code)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("there is no station {code}")))?;
    let parse = |field: &str, value: &Option<String>| -> ApiResult<Option<Timestamp>> {
        match value.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => Timestamp::parse_rfc3339(v).map(Some).ok_or_else(|| {
                ApiError::invalid(field, format!("{field} is not an RFC 3339 time"))
            }),
        }
    };
    let until = parse("until", &query.until)?.unwrap_or_else(Timestamp::now);
    let from = parse("from", &query.from)?.unwrap_or(Timestamp(until.0 - 48 * 3_600_000_000));
    let limit = query.limit.unwrap_or(500);
    if !(1..=5_000).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit is 1–5000"));
    }
    Ok(store::readings(&state.db, &row.id, from, until, limit)
        .await?
        .into_iter()
        .map(|(observed_at, value, received_at)| Observation {
            station: row.code.clone(),
            observed_at,
            value,
            received_at,
        })
        .collect())
}

/// The refused readings' counts (the platform's staff: which loggers are misbehaving).
pub async fn rejections(state: &AppState, by: &Principal) -> ApiResult<Vec<RejectionCount>> {
    if !by.is_platform_admin() && by.organisation_id().is_none() {
        return Err(ApiError::Forbidden(
            "only the platform's staff see refused readings".into(),
        ));
    }
    Ok(store::rejections(&state.db)
        .await?
        .into_iter()
        .filter_map(|(station, r, count, last_at)| {
            Some(RejectionCount {
                station,
                reason: Rejection::parse(&r)?,
                count,
                last_at,
            })
        })
        .collect())
}

/// Sets regions' areas from a GeoJSON FeatureCollection (platform administrator): each
/// feature a Polygon or MultiPolygon with its region's code in `properties.code`. The
/// import is checked whole and stored whole or not at all.
pub async fn import_areas(state: &AppState, by: &Principal, text: &str) -> ApiResult<AreaReport> {
    by.require_platform_admin()?;
    let areas = crate::map::parse_areas(text)?;
    for (i, (code, _)) in areas.iter().enumerate() {
        identity::service::get_region(state, code)
            .await
            .map_err(|_| {
                ApiError::invalid(
                    format!("features[{i}].properties.code"),
                    format!("there is no region {code}"),
                )
            })?;
    }
    let mut tx = state.db.begin().await?;
    store::put_areas(&mut tx, &areas, Timestamp::now()).await?;
    let mut event = AuditEvent::by(by, "safety.areas.import", format!("areas:{}", areas.len()));
    event.purpose = "set regions' areas on the map".into();
    event.basis = Basis::NotApplicable;
    state.audit.record_in(&mut tx, event).await?;
    tx.commit().await?;
    Ok(AreaReport {
        imported: areas.len(),
    })
}

/// Every region's area (public).
pub async fn areas(state: &AppState) -> ApiResult<Vec<crate::map::Area>> {
    Ok(store::areas(&state.db)
        .await?
        .into_iter()
        .filter_map(|(region, name, geometry)| {
            Some(crate::map::Area {
                region,
                name,
                shape: crate::map::shape_of(&geometry)?,
            })
        })
        .collect())
}

/// Every region's area as a GeoJSON FeatureCollection, each feature's properties its
/// region's `code` and `name` (public).
pub async fn areas_geojson(state: &AppState) -> ApiResult<serde_json::Value> {
    let features: Vec<serde_json::Value> = store::areas(&state.db)
        .await?
        .into_iter()
        .filter_map(|(code, name, geometry)| {
            let geometry: serde_json::Value = serde_json::from_str(&geometry).ok()?;
            Some(serde_json::json!({
                "type": "Feature",
                "properties": {"code": code, "name": name},
                "geometry": geometry,
            }))
        })
        .collect();
    Ok(serde_json::json!({"type": "FeatureCollection", "features": features}))
}
