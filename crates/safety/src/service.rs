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

pub mod supplies;
pub mod targeting;

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

/// Checks a WGS 84 position, naming the field that is out of range.
fn check_position(latitude: f64, longitude: f64) -> ApiResult<()> {
    if !(-90.0..=90.0).contains(&latitude) {
        return Err(ApiError::invalid(
            "latitude",
            "latitude is between -90 and 90",
        ));
    }
    if !(-180.0..=180.0).contains(&longitude) {
        return Err(ApiError::invalid(
            "longitude",
            "longitude is between -180 and 180",
        ));
    }
    Ok(())
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
    check_position(new.latitude, new.longitude)?;
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
    let rain_gauges: std::collections::HashSet<&str> = stations
        .values()
        .filter(|s| s.kind == StationKind::RainGauge.as_str())
        .map(|s| s.id.as_str())
        .collect();
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
    // Rain per clock hour, for the warnings' windows. A statement whose readings were all
    // new adds its rain; one that held readings already stored has its gauges' hours
    // recounted from the store, so no rain counts twice.
    let mut accepted = 0;
    let mut rain: BTreeMap<(&str, i64), f64> = BTreeMap::new();
    let mut recount: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for chunk in good.chunks(store::READINGS_PER_STATEMENT) {
        let new = store::insert_readings(&mut tx, chunk, now).await? as usize;
        accepted += new;
        for r in chunk.iter().filter(|r| rain_gauges.contains(r.station_id)) {
            let hour = r.observed_at.0 / crate::risk::HOUR;
            if new == chunk.len() {
                *rain.entry((r.station_id, hour)).or_default() += r.value;
            } else {
                let span = recount.entry(r.station_id).or_insert((hour, hour));
                *span = (span.0.min(hour), span.1.max(hour));
            }
        }
    }
    let sums: Vec<(&str, i64, f64)> = rain.into_iter().map(|((s, h), r)| (s, h, r)).collect();
    store::add_rain_hours(&mut tx, &sums).await?;
    for (station, (first, last)) in recount {
        store::recount_rain_hours(&mut tx, station, first, last).await?;
    }
    let latest: Vec<(&str, Timestamp, f64)> = latest
        .into_iter()
        .map(|(station, (at, value))| (station, at, value))
        .collect();
    store::set_latest(&mut tx, &latest).await?;
    write_tally(&mut tx, counts, now).await?;
    tx.commit().await?;
    if accepted > 0 {
        recompute_soon(state);
    }
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
/// region's `code` and `name`, with what `extra` adds for the region (public).
pub async fn areas_geojson(
    state: &AppState,
    extra: impl Fn(&str) -> serde_json::Map<String, serde_json::Value>,
) -> ApiResult<serde_json::Value> {
    let features: Vec<serde_json::Value> = store::areas(&state.db)
        .await?
        .into_iter()
        .filter_map(|(code, name, geometry)| {
            let geometry: serde_json::Value = serde_json::from_str(&geometry).ok()?;
            let mut properties = extra(&code);
            properties.insert("code".into(), code.into());
            properties.insert("name".into(), name.into());
            Some(serde_json::json!({
                "type": "Feature",
                "properties": properties,
                "geometry": geometry,
            }))
        })
        .collect();
    Ok(serde_json::json!({"type": "FeatureCollection", "features": features}))
}

/// The properties a level adds to a region's feature: `level`, `colour`.
pub fn level_properties(level: RiskLevel) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("level".into(), level.as_str().into());
    m.insert("colour".into(), level.colour().into());
    m
}

/// The static assessment on the map, as GeoJSON: each region's `level`, `colour` and
/// `score` (public: no counts of people).
pub async fn risk_geojson(state: &AppState) -> ApiResult<serde_json::Value> {
    let assessment = assessment(state).await?;
    let by_region: HashMap<String, (RiskLevel, f64)> = assessment
        .map(|a| {
            a.regions
                .into_iter()
                .map(|r| (r.region, (r.level, r.score)))
                .collect()
        })
        .unwrap_or_default();
    areas_geojson(state, |code| match by_region.get(code) {
        Some((level, score)) => {
            let mut m = level_properties(*level);
            m.insert("score".into(), (*score).into());
            m
        }
        None => serde_json::Map::new(),
    })
    .await
}

/// One horizon's warnings on the map, as GeoJSON: each region's `level` and `colour`
/// (public).
pub async fn warnings_geojson(state: &AppState, horizon: u32) -> ApiResult<serde_json::Value> {
    let by_region: HashMap<String, RiskLevel> = warnings(state, horizon)
        .await?
        .into_iter()
        .map(|w| (w.region, w.level))
        .collect();
    areas_geojson(state, |code| {
        by_region
            .get(code)
            .map(|l| level_properties(*l))
            .unwrap_or_default()
    })
    .await
}

// ---- risk: the static assessment and the dynamic warnings ----

const METHOD_SETTING: &str = "safety.risk_method";
const RULES_SETTING: &str = "safety.warning_rules";

/// The organisation a duty officer acts for: she is staff (clerk, reviewer or
/// administrator) of a government department, or a platform administrator (none then).
pub async fn require_duty(state: &AppState, by: &Principal) -> ApiResult<Option<String>> {
    for org in by.staff_organisations() {
        let o = identity::service::get_organisation(state, org).await?;
        if o.kind == identity::model::OrgKind::GovernmentDepartment {
            return Ok(Some(o.id));
        }
    }
    if by.is_platform_admin() {
        return Ok(None);
    }
    Err(ApiError::Forbidden(
        "this needs a government department's staff (a duty officer) or a platform administrator"
            .into(),
    ))
}

async fn read_setting<T: serde::de::DeserializeOwned + Default>(
    state: &AppState,
    key: &str,
) -> ApiResult<T> {
    Ok(identity::service::setting(state, key)
        .await?
        .and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or_default())
}

/// The static assessment's method in force (the default until one is set).
pub async fn method(state: &AppState) -> ApiResult<RiskMethod> {
    read_setting(state, METHOD_SETTING).await
}

/// Sets the static assessment's method (platform administrator), audited.
pub async fn set_method(state: &AppState, by: &Principal, m: RiskMethod) -> ApiResult<RiskMethod> {
    by.require_platform_admin()?;
    crate::risk::check_method(&m)?;
    for (i, code) in m.vulnerable_tags.iter().enumerate() {
        let field = format!("vulnerable_tags[{i}]");
        identity::service::check_tag_code(&field, code)?;
        identity::service::get_tag(state, code)
            .await
            .map_err(|_| ApiError::invalid(&field, format!("no tag {code}")))?;
    }
    let json = serde_json::to_string(&m).map_err(|e| ApiError::Unexpected(e.into()))?;
    let mut tx = state.db.begin().await?;
    identity::service::put_setting_in(&mut tx, METHOD_SETTING, &json).await?;
    let mut event = AuditEvent::by(by, "safety.risk.method", json);
    event.purpose = "set the static risk assessment's method".into();
    event.basis = Basis::NotApplicable;
    state.audit.record_in(&mut tx, event).await?;
    tx.commit().await?;
    Ok(m)
}

/// Sets regions' hazard indexes (a duty officer), checked whole, audited.
pub async fn set_hazards(
    state: &AppState,
    by: &Principal,
    update: HazardUpdate,
) -> ApiResult<Vec<Hazard>> {
    require_duty(state, by).await?;
    if update.hazards.len() > crate::map::MAX_AREAS {
        return Err(ApiError::invalid(
            "hazards",
            format!("at most {} regions at once", crate::map::MAX_AREAS),
        ));
    }
    let mut rows = Vec::with_capacity(update.hazards.len());
    for (i, h) in update.hazards.iter().enumerate() {
        let field = |f: &str| format!("hazards[{i}].{f}");
        identity::service::get_region(state, h.region.trim())
            .await
            .map_err(|_| ApiError::invalid(field("region"), format!("no region {}", h.region)))?;
        if !(0.0..=1.0).contains(&h.hazard) {
            return Err(ApiError::invalid(
                field("hazard"),
                "a hazard index is from 0 to 1",
            ));
        }
        let basis = kernel::api::text(&field("basis"), &h.basis, 200, true)?;
        if rows.iter().any(|(r, _, _)| r == h.region.trim()) {
            return Err(ApiError::invalid(
                field("region"),
                format!("{} is named twice", h.region.trim()),
            ));
        }
        rows.push((h.region.trim().to_string(), h.hazard, basis));
    }
    let mut tx = state.db.begin().await?;
    store::put_hazards(&mut tx, &rows, Timestamp::now()).await?;
    let mut event = AuditEvent::by(by, "safety.risk.hazards", format!("regions:{}", rows.len()));
    event.purpose = "record regions' hazard exposure".into();
    event.basis = Basis::NotApplicable;
    state.audit.record_in(&mut tx, event).await?;
    tx.commit().await?;
    hazards(state).await
}

/// Every recorded hazard index.
pub async fn hazards(state: &AppState) -> ApiResult<Vec<Hazard>> {
    Ok(store::hazards(&state.db)
        .await?
        .into_iter()
        .map(|(region, hazard, basis)| Hazard {
            region,
            hazard,
            basis,
        })
        .collect())
}

fn shelter_of(r: store::ShelterRow) -> Shelter {
    Shelter {
        code: r.code,
        name: r.name,
        region: r.region_code,
        latitude: r.latitude,
        longitude: r.longitude,
        capacity: r.capacity,
    }
}

/// Registers a shelter (a duty officer of a department), audited.
pub async fn register_shelter(
    state: &AppState,
    by: &Principal,
    new: NewShelter,
) -> ApiResult<Shelter> {
    let own = require_duty(state, by).await?;
    let org = match (new.organisation_id.as_deref(), own) {
        (Some(named), _) => {
            let org = by.staff_organisation(Some(named), "organisation_id")?;
            identity::service::get_organisation(state, &org)
                .await
                .map_err(|_| ApiError::invalid("organisation_id", "no such organisation"))?;
            org
        }
        (None, Some(own)) => own,
        (None, None) => {
            return Err(ApiError::invalid(
                "organisation_id",
                "name the department that runs the shelter",
            ));
        }
    };
    let code = new.code.trim().to_string();
    if !is_station_code(&code) {
        return Err(ApiError::invalid(
            "code",
            "a shelter code is 2–40 of A–Z, a–z, 0–9, - and _",
        ));
    }
    let name = kernel::api::text("name", &new.name, 80, true)?;
    identity::service::get_region(state, new.region.trim())
        .await
        .map_err(|_| ApiError::invalid("region", format!("no region {}", new.region)))?;
    check_position(new.latitude, new.longitude)?;
    if !(1..=1_000_000).contains(&new.capacity) {
        return Err(ApiError::invalid(
            "capacity",
            "a shelter takes 1 to 1,000,000 people",
        ));
    }
    let row = store::ShelterRow {
        code,
        name,
        region_code: new.region.trim().to_string(),
        latitude: new.latitude,
        longitude: new.longitude,
        capacity: new.capacity,
    };
    let mut tx = state.db.begin().await?;
    if !store::insert_shelter(&mut tx, &row, &org, Timestamp::now()).await? {
        return Err(ApiError::Conflict(format!(
            "a shelter is already registered as {}",
            row.code
        )));
    }
    let mut event = AuditEvent::by(
        by,
        "safety.shelter.register",
        format!("shelter:{}", row.code),
    );
    event.purpose = "register a shelter".into();
    event.basis = Basis::NotApplicable;
    state.audit.record_in(&mut tx, event).await?;
    tx.commit().await?;
    Ok(shelter_of(row))
}

/// Every shelter (public: residents need to know where to go).
pub async fn shelters(state: &AppState) -> ApiResult<Vec<Shelter>> {
    Ok(store::shelters(&state.db)
        .await?
        .into_iter()
        .map(shelter_of)
        .collect())
}

/// Whether a region (by code) lies in `area` (itself or under it).
fn lies_in(region: &str, area: &str) -> bool {
    RegionCodePrefix::of(area).covers(region)
}

/// A region code's prefix: what every code under it starts with.
struct RegionCodePrefix(String);

impl RegionCodePrefix {
    fn of(code: &str) -> RegionCodePrefix {
        match identity::model::RegionCode::parse(code) {
            Ok(c) => RegionCodePrefix(messaging::service::region_prefix(&c)),
            Err(_) => RegionCodePrefix(code.to_string()),
        }
    }

    fn covers(&self, code: &str) -> bool {
        code.starts_with(&self.0)
    }
}

/// Assesses every region on the map by the method in force (a duty officer): its hazard
/// index, its residents (counts from the register: none is named) and its shelters. The
/// assessment is kept, and audited.
pub async fn assess(state: &AppState, by: &Principal) -> ApiResult<RiskAssessment> {
    require_duty(state, by).await?;
    let method = method(state).await?;
    let areas = store::areas(&state.db).await?;
    if areas.is_empty() {
        return Err(ApiError::Conflict(
            "no region has an area yet: import the areas (PUT /api/v1/safety/areas) first".into(),
        ));
    }
    let hazards: HashMap<String, (f64, String)> = store::hazards(&state.db)
        .await?
        .into_iter()
        .map(|(r, h, b)| (r, (h, b)))
        .collect();
    let population =
        identity::service::population_by_region(state, method.elderly_age, &method.vulnerable_tags)
            .await?;
    let shelters = store::shelters(&state.db).await?;
    let facts = areas
        .into_iter()
        .map(|(region, name, _)| {
            let mut f = crate::risk::RegionFacts {
                hazard: hazards.get(&region).cloned(),
                region,
                name,
                population: 0,
                elderly: 0,
                tagged: 0,
                vulnerable: 0,
                shelter_places: 0,
            };
            for (_, all, elderly, tagged, either) in
                population.iter().filter(|p| lies_in(&p.0, &f.region))
            {
                f.population += all;
                f.elderly += elderly;
                f.tagged += tagged;
                f.vulnerable += either;
            }
            f.shelter_places = shelters
                .iter()
                .filter(|s| lies_in(&s.region_code, &f.region))
                .map(|s| s.capacity)
                .sum();
            f
        })
        .collect();
    let assessment = RiskAssessment {
        assessed_at: Timestamp::now(),
        assessed_by: by.display_name.clone(),
        regions: crate::risk::assess(&method, facts),
        method,
    };
    let body = serde_json::to_string(&assessment).map_err(|e| ApiError::Unexpected(e.into()))?;
    let id = kernel::ids::new_id();
    let mut tx = state.db.begin().await?;
    store::insert_assessment(&mut tx, &id, assessment.assessed_at, &body).await?;
    let mut event = AuditEvent::by(
        by,
        "safety.risk.assess",
        format!("assessment:{id} regions:{}", assessment.regions.len()),
    );
    event.purpose = "static risk assessment: residents counted per region".into();
    event.basis = Basis::NotApplicable;
    state.audit.record_in(&mut tx, event).await?;
    tx.commit().await?;
    Ok(assessment)
}

/// The latest static assessment, if one was made.
pub async fn assessment(state: &AppState) -> ApiResult<Option<RiskAssessment>> {
    Ok(store::latest_assessment(&state.db)
        .await?
        .and_then(|body| serde_json::from_str(&body).ok()))
}

/// The warning rules in force (China's signal criteria until others are set).
pub async fn rules(state: &AppState) -> ApiResult<WarningRules> {
    read_setting(state, RULES_SETTING).await
}

/// Sets the warning rules (platform administrator), audited; levels are recomputed.
pub async fn set_rules(
    state: &AppState,
    by: &Principal,
    r: WarningRules,
) -> ApiResult<WarningRules> {
    by.require_platform_admin()?;
    crate::risk::check_rules(&r)?;
    if let Some(org) = &r.notify_organisation_id {
        identity::service::get_organisation(state, org)
            .await
            .map_err(|_| ApiError::invalid("notify_organisation_id", "no such organisation"))?;
    }
    let json = serde_json::to_string(&r).map_err(|e| ApiError::Unexpected(e.into()))?;
    let mut tx = state.db.begin().await?;
    identity::service::put_setting_in(&mut tx, RULES_SETTING, &json).await?;
    let mut event = AuditEvent::by(by, "safety.warnings.rules", json);
    event.purpose = "set the dynamic warnings' threshold rules".into();
    event.basis = Basis::NotApplicable;
    state.audit.record_in(&mut tx, event).await?;
    tx.commit().await?;
    recompute_soon(state);
    Ok(r)
}

/// The most lines one forecast import may hold.
pub const MAX_FORECASTS: usize = 20_000;

/// Imports forecasts (a duty officer) from CSV with the header
/// `region,horizon_hours,rain_mm[,issued_at]`: horizons 3, 6, 24 or 48, rain 0–2,000 mm,
/// issued now unless `issued_at` (RFC 3339) says otherwise. Checked whole, each problem
/// named at its line; stored whole; levels are recomputed.
pub async fn import_forecasts(
    state: &AppState,
    by: &Principal,
    text: &str,
) -> ApiResult<ForecastReport> {
    require_duty(state, by).await?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| ApiError::bad_request(format!("the CSV does not read: {e}")))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (Some(region_at), Some(horizon_at), Some(rain_at)) =
        (column("region"), column("horizon_hours"), column("rain_mm"))
    else {
        return Err(ApiError::invalid(
            "header",
            "the first line names the columns region, horizon_hours, rain_mm (and issued_at)",
        ));
    };
    let issued_at_col = column("issued_at");
    let regions: HashMap<String, String> =
        store::region_names(&state.db).await?.into_iter().collect();
    let now = Timestamp::now();
    let mut rows = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record =
            record.map_err(|e| ApiError::invalid(format!("line {line}"), e.to_string()))?;
        if rows.len() >= MAX_FORECASTS {
            return Err(ApiError::invalid(
                "lines",
                format!("an import holds at most {MAX_FORECASTS} forecasts"),
            ));
        }
        let cell = |at: usize| record.get(at).unwrap_or("");
        let region = cell(region_at).to_string();
        if !regions.contains_key(&region) {
            return Err(ApiError::invalid(
                format!("line {line}.region"),
                format!("there is no region {region}"),
            ));
        }
        let horizon: u32 = cell(horizon_at)
            .parse()
            .ok()
            .filter(|h| HORIZONS.contains(h))
            .ok_or_else(|| {
                ApiError::invalid(
                    format!("line {line}.horizon_hours"),
                    "a horizon is 3, 6, 24 or 48 hours",
                )
            })?;
        let rain: f64 = cell(rain_at)
            .parse()
            .ok()
            .filter(|r: &f64| (0.0..=2_000.0).contains(r))
            .ok_or_else(|| {
                ApiError::invalid(
                    format!("line {line}.rain_mm"),
                    "forecast rain is a number from 0 to 2,000 mm",
                )
            })?;
        let issued = match issued_at_col.map(cell).filter(|v| !v.is_empty()) {
            None => now,
            Some(v) => Timestamp::parse_rfc3339(v)
                .filter(|t| t.0 <= now.0 + FUTURE_TOLERANCE_MICROS)
                .ok_or_else(|| {
                    ApiError::invalid(
                        format!("line {line}.issued_at"),
                        "issued_at is an RFC 3339 time, not in the future",
                    )
                })?,
        };
        if !seen.insert((region.clone(), horizon)) {
            return Err(ApiError::invalid(
                format!("line {line}"),
                format!("region {region} has a {horizon}-hour forecast on an earlier line"),
            ));
        }
        rows.push((region, horizon as i32, rain, issued));
    }
    let mut tx = state.db.begin().await?;
    store::put_forecasts(&mut tx, &rows).await?;
    let mut event = AuditEvent::by(
        by,
        "safety.forecasts.import",
        format!("forecasts:{}", rows.len()),
    );
    event.purpose = "import forecast rainfall".into();
    event.basis = Basis::NotApplicable;
    state.audit.record_in(&mut tx, event).await?;
    tx.commit().await?;
    recompute_soon(state);
    Ok(ForecastReport {
        imported: rows.len(),
    })
}

/// Every stored forecast (public).
pub async fn forecasts(state: &AppState) -> ApiResult<Vec<Forecast>> {
    Ok(store::forecasts(&state.db)
        .await?
        .into_iter()
        .map(|(region, horizon, rain_mm, issued_at)| Forecast {
            region,
            horizon_hours: u32::try_from(horizon).unwrap_or(0),
            rain_mm,
            issued_at,
        })
        .collect())
}

/// Wakes the recomputation of the warnings (see [`start_recomputing`]), and lets one
/// recomputation run at a time on this node.
#[derive(Clone, Default)]
pub struct Recompute {
    wake: std::sync::Arc<tokio::sync::Notify>,
    running: std::sync::Arc<tokio::sync::Mutex<()>>,
}

/// How often the levels are recomputed without new data (gauges fall silent, forecast
/// windows pass).
const RECOMPUTE_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// How long the recomputation waits after a wake for more data to arrive with it.
const RECOMPUTE_GATHER: std::time::Duration = std::time::Duration::from_millis(50);

/// Asks for the warnings to be recomputed soon (new readings, forecasts or rules).
pub fn recompute_soon(state: &AppState) {
    if let Some(r) = state.extensions.get::<Recompute>() {
        r.wake.notify_one();
    }
}

/// Recomputes the warnings whenever woken, and each minute: one run at a time, each taking
/// in everything that arrived while the one before ran.
pub fn start_recomputing(state: AppState) {
    let Some(wake) = state.extensions.get::<Recompute>().cloned() else {
        return;
    };
    tokio::spawn(async move {
        recompute_soon(&state);
        loop {
            tokio::select! {
                _ = wake.wake.notified() => {}
                _ = tokio::time::sleep(RECOMPUTE_EVERY) => {}
            }
            tokio::time::sleep(RECOMPUTE_GATHER).await;
            if let Err(e) = recompute(&state).await {
                tracing::warn!(error = %e, "recomputing the warnings failed");
            }
        }
    });
}

/// Recomputes every region's level for each horizon, as of the newest reading: the
/// regions on the map, with stations or with forecasts. Levels that changed are kept with
/// the change; when a region's 3-hour level rises to the rules' `notify_residents_from`
/// or above, its residents are told at once (asked to acknowledge), in the same
/// transaction. Returns the changes.
pub async fn recompute(state: &AppState) -> ApiResult<Vec<LevelChange>> {
    // One run at a time on this node; across nodes, the transaction's lock below.
    let running = state
        .extensions
        .get::<Recompute>()
        .map(|r| r.running.clone());
    let _one_at_a_time = match &running {
        Some(m) => Some(m.lock().await),
        None => None,
    };
    let rules = rules(state).await?;
    let now = Timestamp::now();
    let as_of = store::newest_reading(&state.db).await?.unwrap_or(now);
    let longest = rules
        .rules
        .iter()
        .filter_map(|r| match r {
            WarningRule::Rain { hours, .. } => Some(i64::from(*hours)),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    let hour = crate::risk::HOUR;
    let stations: Vec<Station> = store::stations(&state.db, None)
        .await?
        .into_iter()
        .map(station_of)
        .collect();
    // What the rules read, kept small however often stations report: a rain gauge's rain
    // per clock hour (kept at ingest, each hour stamped at its start, so a window of N
    // hours is the current hour and the N − 1 before), a river or reservoir gauge's first
    // reading of its rise window and its latest, any other station's latest. Silent
    // stations are left out.
    let fresh = Timestamp(as_of.0 - crate::risk::STALE_HOURS * hour);
    let mut readings: HashMap<String, Vec<(Timestamp, f64)>> = HashMap::new();
    let rain: Vec<String> = stations
        .iter()
        .filter(|s| s.kind == StationKind::RainGauge)
        .filter(|s| s.last_observed_at.is_some_and(|t| t.0 > fresh.0))
        .map(|s| s.id.clone())
        .collect();
    let this_hour = as_of.0 / hour;
    for (station, at_hour, sum) in
        store::rain_hours(&state.db, &rain, this_hour - longest + 1, this_hour).await?
    {
        readings
            .entry(station)
            .or_default()
            .push((Timestamp(at_hour * hour), sum));
    }
    for list in readings.values_mut() {
        list.sort_by_key(|r| r.0);
    }
    for s in stations.iter().filter(|s| s.kind != StationKind::RainGauge) {
        let (Some(at), Some(value)) = (s.last_observed_at, s.last_value) else {
            continue;
        };
        if at.0 <= fresh.0 {
            continue;
        }
        let mut list = Vec::with_capacity(2);
        if matches!(
            s.kind,
            StationKind::RiverLevel | StationKind::ReservoirLevel
        ) {
            let start = Timestamp(at.0 - i64::from(rules.rise_hours) * hour);
            if let Some(first) = store::first_reading_since(&state.db, &s.id, start).await?
                && first.0.0 < at.0
            {
                list.push(first);
            }
        }
        list.push((at, value));
        readings.insert(s.id.clone(), list);
    }
    let forecasts = forecasts(state).await?;
    let names: HashMap<String, String> =
        store::region_names(&state.db).await?.into_iter().collect();
    let mut regions: std::collections::BTreeSet<String> = store::areas(&state.db)
        .await?
        .into_iter()
        .map(|a| a.0)
        .collect();
    regions.extend(stations.iter().map(|s| s.region.clone()));
    regions.extend(forecasts.iter().map(|f| f.region.clone()));
    let empty = Vec::new();
    let mut computed = Vec::new();
    for region in &regions {
        let gauges: Vec<crate::risk::Gauge> = stations
            .iter()
            .filter(|s| lies_in(&s.region, region))
            .map(|s| crate::risk::Gauge {
                station: s,
                readings: readings.get(&s.id).unwrap_or(&empty),
            })
            .collect();
        let own: Vec<&Forecast> = forecasts.iter().filter(|f| &f.region == region).collect();
        let curve = crate::risk::ForecastCurve::new(&own, as_of);
        for horizon in HORIZONS {
            let (level, reasons) =
                crate::risk::evaluate(&rules, &gauges, curve.as_ref(), as_of, horizon);
            computed.push((region.clone(), horizon, level, reasons));
        }
    }

    let mut tx = state.db.begin().await?;
    // The levels before are read under the lock, so two runs (two nodes) never both see
    // the same rise and tell the same residents twice.
    store::lock_levels(&mut tx).await?;
    let previous: HashMap<(String, i32), RiskLevel> = store::levels_in(&mut tx)
        .await?
        .into_iter()
        .map(|l| {
            let level = RiskLevel::parse(&l.level).unwrap_or_default();
            ((l.region_code, l.horizon_hours), level)
        })
        .collect();
    let recently_told: HashMap<String, RiskLevel> = store::notified_since(
        &mut tx,
        Timestamp(now.0 - i64::from(rules.notify_again_after_hours) * hour),
    )
    .await?
    .into_iter()
    .filter_map(|(region, level)| Some((region, RiskLevel::parse(&level)?)))
    .fold(HashMap::new(), |mut m, (region, level)| {
        let top = m.entry(region).or_insert(level);
        *top = (*top).max(level);
        m
    });
    let mut levels = Vec::with_capacity(computed.len());
    let mut changes = Vec::new();
    let mut rises = Vec::new();
    for (region, horizon, level, reasons) in computed {
        let key = (region.clone(), horizon as i32);
        let before = previous.get(&key).copied().unwrap_or_default();
        if before != level {
            // Residents are told per smallest region (a community, not also its township),
            // and not again at a level they were told of lately.
            let smallest = !regions.iter().any(|r| r != &region && lies_in(r, &region));
            if horizon == HORIZONS[0]
                && level > before
                && smallest
                && rules
                    .notify_residents_from
                    .is_some_and(|from| level >= from)
                && recently_told.get(&region).is_none_or(|told| level > *told)
            {
                rises.push((changes.len(), region.clone(), level, reasons.clone()));
            }
            changes.push(store::ChangeRow {
                id: kernel::ids::new_id(),
                region_code: region.clone(),
                horizon_hours: horizon as i32,
                from_level: before.as_str().into(),
                to_level: level.as_str().into(),
                changed_at: now,
                residents_notified: 0,
            });
        }
        levels.push(store::LevelRow {
            region_code: region,
            horizon_hours: horizon as i32,
            level: level.as_str().into(),
            reasons: serde_json::to_string(&reasons).map_err(|e| ApiError::Unexpected(e.into()))?,
            as_of,
            computed_at: now,
        });
    }
    store::put_levels(&mut tx, &levels).await?;
    let mut notified_any = false;
    if let Some(org) = &rules.notify_organisation_id {
        for (at, region, level, reasons) in &rises {
            let Ok(code) = identity::model::RegionCode::parse(region) else {
                continue;
            };
            let name = names.get(region).cloned().unwrap_or_else(|| region.clone());
            let subject = format!("【{}预警】{name} 未来 3 小时", level.names().0);
            let mut body = format!(
                "{name}未来 3 小时风险等级升为{}。请留意安全，必要时听从社区安排转移。请回复“我已安全”或“我需要帮助”。\n\n依据：",
                level.names().0
            );
            for r in reasons {
                body.push('\n');
                body.push_str(&crate::risk::sentence(r, true));
            }
            let notice = messaging::service::Notice {
                organisation_id: org,
                sender_account_id: "system",
                subject: &subject,
                body: &body,
                ack_required: true,
            };
            let sent = messaging::service::notify_many_in(
                state,
                &mut tx,
                &notice,
                messaging::service::Recipients::Region(&code),
            )
            .await?;
            let (message, reached) = (sent.id, sent.reached);
            changes[*at].residents_notified = reached;
            notified_any = true;
            let mut event = AuditEvent::by(
                &Principal::system(),
                "safety.warnings.notify",
                format!(
                    "region:{region} level:{} message:{message} recipients:{reached}",
                    level.as_str()
                ),
            );
            event.purpose = "tell the residents of a region whose risk level rose".into();
            event.basis = Basis::Statutory("突发事件应对法：预警信息发布".into());
            state.audit.record_in(&mut tx, event).await?;
        }
    }
    store::insert_changes(&mut tx, &changes).await?;
    tx.commit().await?;
    if notified_any {
        messaging::delivery::wake(state);
    }
    Ok(changes.into_iter().map(|c| change_of(c, &names)).collect())
}

fn change_of(c: store::ChangeRow, names: &HashMap<String, String>) -> LevelChange {
    LevelChange {
        name: names.get(&c.region_code).cloned().unwrap_or_default(),
        region: c.region_code,
        horizon_hours: u32::try_from(c.horizon_hours).unwrap_or(0),
        from: RiskLevel::parse(&c.from_level).unwrap_or_default(),
        to: RiskLevel::parse(&c.to_level).unwrap_or_default(),
        changed_at: c.changed_at,
        residents_notified: c.residents_notified,
    }
}

/// Checks a horizon (3 when none is given).
pub fn horizon_of(h: Option<u32>) -> ApiResult<u32> {
    let h = h.unwrap_or(HORIZONS[0]);
    if HORIZONS.contains(&h) {
        Ok(h)
    } else {
        Err(ApiError::invalid(
            "horizon",
            "a horizon is 3, 6, 24 or 48 hours",
        ))
    }
}

/// Every region's level for a horizon, explained, the highest first (public).
pub async fn warnings(state: &AppState, horizon: u32) -> ApiResult<Vec<RegionWarning>> {
    let names: HashMap<String, String> =
        store::region_names(&state.db).await?.into_iter().collect();
    let mut out: Vec<RegionWarning> = store::levels(&state.db, Some(horizon as i32))
        .await?
        .into_iter()
        .map(|l| RegionWarning {
            name: names.get(&l.region_code).cloned().unwrap_or_default(),
            region: l.region_code,
            horizon_hours: horizon,
            level: RiskLevel::parse(&l.level).unwrap_or_default(),
            reasons: serde_json::from_str(&l.reasons).unwrap_or_default(),
            as_of: l.as_of,
            computed_at: l.computed_at,
        })
        .collect();
    out.sort_by(|a, b| b.level.cmp(&a.level).then_with(|| a.region.cmp(&b.region)));
    Ok(out)
}

/// The changes of level over the last `hours` (1–168), the newest first (public).
pub async fn changes(state: &AppState, hours: i64) -> ApiResult<Vec<LevelChange>> {
    if !(1..=168).contains(&hours) {
        return Err(ApiError::invalid("hours", "from 1 to 168 hours"));
    }
    let names: HashMap<String, String> =
        store::region_names(&state.db).await?.into_iter().collect();
    let from = Timestamp(Timestamp::now().0 - hours * crate::risk::HOUR);
    Ok(store::changes_since(&state.db, from, 1_000)
        .await?
        .into_iter()
        .map(|c| change_of(c, &names))
        .collect())
}

// ---- CAP alerts ----

use crate::cap::model::{Alert, CapProblem, CapVersion, MsgType, Scope, Status};

/// The CAP `sender` of alerts drafted on this node: `civitas@` and the node's host.
pub fn cap_sender(state: &AppState) -> String {
    let base = state.config.public_base_url();
    let host = base
        .split("://")
        .nth(1)
        .unwrap_or(&base)
        .split(['/', ':'])
        .next()
        .filter(|h| !h.is_empty())
        .unwrap_or("localhost");
    format!("civitas@{host}")
}

/// A time as CAP writes it, in UTC (`-00:00`, the standard's way of saying so).
pub fn cap_time(at: Timestamp) -> String {
    let t = at.to_datetime();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}-00:00",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn cap_invalid(problems: Vec<CapProblem>) -> ApiError {
    ApiError::InvalidFields(
        problems
            .into_iter()
            .map(|p| kernel::error::FieldError {
                field: p.element,
                detail: p.message,
            })
            .collect(),
    )
}

/// Checks an alert about to be stored or issued: the rules beyond the schema, then its
/// written form against the schema. Every problem is named.
fn check_alert(alert: &Alert) -> ApiResult<String> {
    let mut problems = crate::cap::check::check(alert);
    let xml = crate::cap::write::write(alert);
    if problems.is_empty() {
        problems = crate::cap::schema_problems(xml.as_bytes());
    }
    if problems.is_empty() {
        Ok(xml)
    } else {
        Err(cap_invalid(problems))
    }
}

/// Audits a step of an alert's life (no personal data: the basis is not applicable).
async fn audit_alert(
    state: &AppState,
    tx: &mut kernel::db::Tx,
    by: &Principal,
    action: &str,
    resource: String,
    purpose: &str,
) -> ApiResult<()> {
    let mut event = AuditEvent::by(by, action, resource);
    event.purpose = purpose.into();
    event.basis = Basis::NotApplicable;
    state.audit.record_in(tx, event).await?;
    Ok(())
}

/// The alert a stored row holds.
fn alert_of(row: &store::AlertRow) -> ApiResult<Alert> {
    serde_json::from_str(&row.body).map_err(|e| ApiError::Unexpected(e.into()))
}

/// An alert locked in the transaction, which must be in `want` to take the step `step`.
async fn alert_in_state(
    tx: &mut kernel::db::Tx,
    id: &str,
    want: AlertState,
    step: &str,
) -> ApiResult<store::AlertRow> {
    let row = store::alert_for_update(tx, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no alert {id}")))?;
    if row.state != want.as_str() {
        return Err(ApiError::Conflict(format!(
            "only {step}; this alert is {}",
            row.state
        )));
    }
    Ok(row)
}

fn alert_record(row: store::AlertRow) -> ApiResult<AlertRecord> {
    let alert = alert_of(&row)?;
    Ok(AlertRecord {
        id: row.id,
        origin: if row.origin == AlertOrigin::Imported.as_str() {
            AlertOrigin::Imported
        } else {
            AlertOrigin::Drafted
        },
        state: AlertState::parse(&row.state).unwrap_or(AlertState::Draft),
        alert,
        received_version: match row.received_version.as_deref() {
            Some("1.1") => Some(CapVersion::V1_1),
            Some(_) => Some(CapVersion::V1_2),
            None => None,
        },
        signed: row.signed,
        refers_to: row.refers_to,
        created_by: row.created_by,
        created_at: row.created_at,
        approved_by: row.approved_by,
        approved_at: row.approved_at,
        issued_by: row.issued_by,
        issued_at: row.issued_at,
        targeting: None,
    })
}

fn alert_row(
    alert: &Alert,
    origin: AlertOrigin,
    state: AlertState,
    by: &Principal,
    now: Timestamp,
) -> ApiResult<store::AlertRow> {
    Ok(store::AlertRow {
        id: kernel::ids::new_id(),
        identifier: alert.identifier.clone(),
        sender: alert.sender.clone(),
        sent: alert.sent.clone(),
        status: alert.status.as_str().to_string(),
        msg_type: alert.msg_type.as_str().to_string(),
        scope: alert.scope.as_str().to_string(),
        origin: origin.as_str().to_string(),
        state: state.as_str().to_string(),
        body: serde_json::to_string(alert).map_err(|e| ApiError::Unexpected(e.into()))?,
        received_version: None,
        signed: false,
        refers_to: None,
        created_by: by.account_id.clone(),
        created_at: now,
        issued_by: None,
        issued_at: None,
        approved_by: None,
        approved_at: None,
    })
}

/// Whether the caller may see an alert: staff on duty see every one; others see alerts that
/// have gone out to the public.
async fn may_see_alert(state: &AppState, by: Option<&Principal>, row: &store::AlertRow) -> bool {
    let public = row.scope == Scope::Public.as_str()
        && row.status == Status::Actual.as_str()
        && AlertState::parse(&row.state).is_some_and(AlertState::is_out);
    if public {
        return true;
    }
    match by {
        Some(by) => require_duty(state, by).await.is_ok(),
        None => false,
    }
}

/// Drafts a new alert (a duty officer), or the draft of an update or cancel of an issued
/// one. The identifier and sender are the platform's; the time sent is set on issue.
async fn store_draft(
    state: &AppState,
    by: &Principal,
    alert: Alert,
    refers_to: Option<String>,
) -> ApiResult<AlertRecord> {
    check_alert(&alert)?;
    let now = Timestamp::now();
    let mut row = alert_row(&alert, AlertOrigin::Drafted, AlertState::Draft, by, now)?;
    row.refers_to = refers_to;
    let mut tx = state.db.begin().await?;
    if !store::insert_alert(&mut tx, &row, None).await? {
        return Err(ApiError::Conflict(format!(
            "{} already sent an alert {}",
            alert.sender, alert.identifier
        )));
    }
    audit_alert(
        state,
        &mut tx,
        by,
        "safety.alert.draft",
        format!("alert:{} {}", row.id, alert.msg_type.as_str()),
        "draft a public alert",
    )
    .await?;
    tx.commit().await?;
    alert_record(row)
}

fn new_alert(state: &AppState, draft: AlertDraft, msg_type: MsgType) -> ApiResult<Alert> {
    if msg_type != MsgType::Cancel && draft.info.is_empty() {
        return Err(ApiError::invalid(
            "info",
            "an alert needs at least one info block (what, how bad, where, what to do)",
        ));
    }
    if draft.info.len() > 20 {
        return Err(ApiError::invalid("info", "at most 20 info blocks"));
    }
    let trimmed = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    Ok(Alert {
        identifier: format!("civitas-{}", kernel::ids::new_id()),
        sender: cap_sender(state),
        sent: cap_time(Timestamp::now()),
        status: draft.status.unwrap_or(Status::Actual),
        msg_type,
        source: None,
        scope: draft.scope.unwrap_or(Scope::Public),
        restriction: trimmed(draft.restriction),
        addresses: trimmed(draft.addresses),
        code: Vec::new(),
        note: trimmed(draft.note),
        references: None,
        incidents: trimmed(draft.incidents),
        info: draft.info,
    })
}

/// Drafts a new alert (a duty officer); audited.
pub async fn draft_alert(
    state: &AppState,
    by: &Principal,
    draft: AlertDraft,
) -> ApiResult<AlertRecord> {
    require_duty(state, by).await?;
    let alert = new_alert(state, draft, MsgType::Alert)?;
    store_draft(state, by, alert, None).await
}

/// The issued alert an update or cancel refers to.
async fn issued_here(state: &AppState, id: &str) -> ApiResult<store::AlertRow> {
    let row = store::alert(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no alert {id}")))?;
    if row.origin != AlertOrigin::Drafted.as_str() || row.state != AlertState::Issued.as_str() {
        return Err(ApiError::Conflict(format!(
            "only an alert issued here and still in force can be updated or cancelled; this one is {} ({})",
            row.state, row.origin
        )));
    }
    Ok(row)
}

fn reference_of(row: &store::AlertRow) -> String {
    format!("{},{},{}", row.sender, row.identifier, row.sent)
}

/// Drafts an update of an issued alert: a new message that replaces it once issued.
pub async fn draft_update(
    state: &AppState,
    by: &Principal,
    id: &str,
    draft: AlertDraft,
) -> ApiResult<AlertRecord> {
    require_duty(state, by).await?;
    let original = issued_here(state, id).await?;
    let mut alert = new_alert(state, draft, MsgType::Update)?;
    alert.references = Some(reference_of(&original));
    store_draft(state, by, alert, Some(original.id)).await
}

/// Drafts the cancel of an issued alert, with the reason.
pub async fn draft_cancel(
    state: &AppState,
    by: &Principal,
    id: &str,
    cancel: AlertCancel,
) -> ApiResult<AlertRecord> {
    require_duty(state, by).await?;
    let note = kernel::api::text("note", &cancel.note, 500, true)?;
    let original = issued_here(state, id).await?;
    let previous = alert_of(&original)?;
    let mut alert = new_alert(
        state,
        AlertDraft {
            status: Some(previous.status),
            scope: Some(previous.scope),
            restriction: previous.restriction,
            addresses: previous.addresses,
            note: Some(note),
            incidents: previous.incidents,
            info: Vec::new(),
        },
        MsgType::Cancel,
    )?;
    alert.references = Some(reference_of(&original));
    store_draft(state, by, alert, Some(original.id)).await
}

/// Approves a draft: a duty officer other than the one who drafted it; audited.
pub async fn approve_alert(state: &AppState, by: &Principal, id: &str) -> ApiResult<AlertRecord> {
    require_duty(state, by).await?;
    let mut tx = state.db.begin().await?;
    let mut row = alert_in_state(&mut tx, id, AlertState::Draft, "a draft can be approved").await?;
    if row.created_by == by.account_id {
        return Err(ApiError::Refused {
            code: "second_person_required",
            detail: "an alert is approved by a second duty officer, not by the one who drafted it"
                .into(),
        });
    }
    let now = Timestamp::now();
    store::approve_alert(&mut tx, id, &by.account_id, now).await?;
    row.state = AlertState::Approved.as_str().to_string();
    row.approved_by = Some(by.account_id.clone());
    row.approved_at = Some(now);
    audit_alert(
        state,
        &mut tx,
        by,
        "safety.alert.approve",
        format!("alert:{id}"),
        "approve a public alert (second person)",
    )
    .await?;
    tx.commit().await?;
    alert_record(row)
}

/// Issues an approved alert: the time sent is now, the written alert is checked against the
/// schema once more, and the alert it updates or cancels is marked so; audited.
pub async fn issue_alert(state: &AppState, by: &Principal, id: &str) -> ApiResult<AlertRecord> {
    let duty_org = require_duty(state, by).await?;
    // Whom it will reach is worked out before the transaction opens (the regions its area
    // meets, the shared locations in it): an approved alert no longer changes.
    let mut plan = None;
    if let Some(before) = store::alert(&state.db, id).await?
        && before.state == AlertState::Approved.as_str()
    {
        let alert = alert_of(&before)?;
        if targeting::pushes(&alert) {
            plan = Some(targeting::plan(state, &alert).await?);
        }
    }
    let sender_org = match duty_org {
        Some(org) => Some(org),
        None => rules(state).await?.notify_organisation_id,
    };
    let mut tx = state.db.begin().await?;
    let mut row = alert_in_state(
        &mut tx,
        id,
        AlertState::Approved,
        "an approved alert can be issued",
    )
    .await?;
    let mut alert = alert_of(&row)?;
    let now = Timestamp::now();
    alert.sent = cap_time(now);
    check_alert(&alert)?;
    let body = serde_json::to_string(&alert).map_err(|e| ApiError::Unexpected(e.into()))?;
    store::issue_alert(&mut tx, id, &body, &alert.sent, &by.account_id, now).await?;
    row.state = AlertState::Issued.as_str().to_string();
    row.sent = alert.sent.clone();
    row.issued_by = Some(by.account_id.clone());
    row.issued_at = Some(now);
    row.body = body;
    if let Some(target) = row.refers_to.as_deref() {
        // The alert it replaces must still be in force: a second update or cancel drafted
        // against the same alert finds it already replaced.
        let earlier = store::alert_for_update(&mut tx, target)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no alert {target}")))?;
        if earlier.state != AlertState::Issued.as_str() {
            return Err(ApiError::Conflict(format!(
                "the alert this {} refers to is {} now; draft it again against the alert in force",
                alert.msg_type.as_str(),
                earlier.state
            )));
        }
        let replaced = match alert.msg_type {
            MsgType::Cancel => AlertState::Cancelled,
            _ => AlertState::Superseded,
        };
        store::set_alert_state(&mut tx, target, replaced.as_str()).await?;
    }
    let targeting = match sender_org.as_deref() {
        Some(org) => targeting::push_in(state, &mut tx, by, org, &row, &alert, plan).await?,
        None if alert.status == Status::Actual && alert.scope == Scope::Public => {
            return Err(ApiError::Conflict(
                "no organisation to send the alert's notice from: issue it as a duty officer of a government department, or name notify_organisation_id in the warning rules".into(),
            ));
        }
        None => None,
    };
    audit_alert(
        state,
        &mut tx,
        by,
        "safety.alert.issue",
        format!(
            "alert:{id} {} {}",
            alert.msg_type.as_str(),
            alert.identifier
        ),
        "issue a public alert",
    )
    .await?;
    tx.commit().await?;
    let mut record = alert_record(row)?;
    record.targeting = targeting;
    Ok(record)
}

/// Imports a CAP alert from another authority (CAP 1.2 as sent, 1.1 upgraded, any declared
/// encoding, signed or not): every problem is named, nothing invalid is stored. An update
/// or cancel marks the alerts it names, when they are stored here.
pub async fn import_cap(
    state: &AppState,
    by: &Principal,
    document: &[u8],
) -> ApiResult<AlertRecord> {
    require_duty(state, by).await?;
    // Reading and checking a document of up to 4 MiB is CPU work: off the async workers.
    let owned = document.to_vec();
    let validation = tokio::task::spawn_blocking(move || crate::cap::validate(&owned))
        .await
        .map_err(|e| ApiError::Unexpected(e.into()))?;
    let read = match validation.read {
        Some(read) if validation.problems.is_empty() => read,
        _ => return Err(cap_invalid(validation.problems)),
    };
    let alert = read.alert;
    if alert.sender == cap_sender(state) {
        return Err(ApiError::invalid(
            "alert/sender",
            format!(
                "{} is this platform's own sender; only other authorities' alerts are imported",
                alert.sender
            ),
        ));
    }
    let now = Timestamp::now();
    let mut row = alert_row(&alert, AlertOrigin::Imported, AlertState::Received, by, now)?;
    row.received_version = Some(
        match read.version {
            CapVersion::V1_1 => "1.1",
            CapVersion::V1_2 => "1.2",
        }
        .to_string(),
    );
    row.signed = read.signature.is_some();
    let mut tx = state.db.begin().await?;
    let replaced = match alert.msg_type {
        MsgType::Update => Some(AlertState::Superseded),
        MsgType::Cancel => Some(AlertState::Cancelled),
        _ => None,
    };
    if let (Some(replaced), Some(references)) = (replaced, alert.references.as_deref()) {
        for reference in references.split_whitespace() {
            let mut parts = reference.split(',');
            // Only the sender's own earlier alerts, still in force, of the same status (a
            // test message does not replace an actual one).
            if let (Some(sender), Some(identifier)) = (parts.next(), parts.next())
                && sender == alert.sender
                && let Some(earlier) =
                    store::alert_by_identifier(&mut tx, sender, identifier).await?
                && earlier.origin == AlertOrigin::Imported.as_str()
                && earlier.state == AlertState::Received.as_str()
                && earlier.status == alert.status.as_str()
            {
                store::set_alert_state(&mut tx, &earlier.id, replaced.as_str()).await?;
                row.refers_to.get_or_insert(earlier.id);
            }
        }
    }
    use base64::Engine as _;
    let original = base64::engine::general_purpose::STANDARD.encode(document);
    if !store::insert_alert(&mut tx, &row, Some(&original)).await? {
        return Err(ApiError::Conflict(format!(
            "this alert is already here: {} sent {} before",
            alert.sender, alert.identifier
        )));
    }
    audit_alert(
        state,
        &mut tx,
        by,
        "safety.alert.import",
        format!(
            "alert:{} {} {} from {}",
            row.id,
            alert.msg_type.as_str(),
            alert.identifier,
            alert.sender
        ),
        "receive another authority's alert",
    )
    .await?;
    tx.commit().await?;
    alert_record(row)
}

/// One alert, if the caller may see it (public alerts that went out: everyone).
pub async fn alert(state: &AppState, by: Option<&Principal>, id: &str) -> ApiResult<AlertRecord> {
    let row = store::alert(&state.db, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no alert {id}")))?;
    if !may_see_alert(state, by, &row).await {
        return Err(ApiError::NotFound(format!("no alert {id}")));
    }
    let mut record = alert_record(row)?;
    record.targeting = targeting::targeting(state, id).await?;
    Ok(record)
}

/// An alert as CAP 1.2 XML (as written here; a sender's signature is not carried over).
pub async fn alert_xml(state: &AppState, by: Option<&Principal>, id: &str) -> ApiResult<String> {
    Ok(crate::cap::write::write(&alert(state, by, id).await?.alert))
}

/// An imported alert's document exactly as it was received (with its signature).
pub async fn alert_original(
    state: &AppState,
    by: Option<&Principal>,
    id: &str,
) -> ApiResult<Vec<u8>> {
    alert(state, by, id).await?;
    let original = store::alert_original(&state.db, id)
        .await?
        .flatten()
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "alert {id} was drafted here; it has no received original"
            ))
        })?;
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(original)
        .map_err(|e| ApiError::Unexpected(e.into()))
}

/// Alerts, newest first: staff on duty see all (or those in a state); others the public
/// alerts that went out.
pub async fn alerts(
    state: &AppState,
    by: Option<&Principal>,
    wanted: Option<&str>,
) -> ApiResult<Vec<AlertRecord>> {
    let states: Vec<String> = match wanted.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => vec![AlertState::parse(s)
            .ok_or_else(|| ApiError::invalid("state", format!("no alert state {s}: draft, approved, issued, received, superseded or cancelled")))?
            .as_str()
            .to_string()],
        None => Vec::new(),
    };
    let staff = match by {
        Some(by) => require_duty(state, by).await.is_ok(),
        None => false,
    };
    let states = if staff {
        states
    } else {
        let out = [
            AlertState::Issued,
            AlertState::Received,
            AlertState::Superseded,
            AlertState::Cancelled,
        ];
        out.iter()
            .map(|s| s.as_str().to_string())
            .filter(|s| states.is_empty() || states.contains(s))
            .collect()
    };
    if states.is_empty() {
        return Ok(Vec::new());
    }
    store::alerts(&state.db, &states, !staff, 500)
        .await?
        .into_iter()
        .map(alert_record)
        .collect()
}

/// The feed of public alerts that went out (issued here or received), newest first, each
/// linking to its CAP document.
pub async fn alert_feed(state: &AppState) -> ApiResult<crate::cap::feed::Feed> {
    let base = state.config.public_base_url();
    let base = base.trim_end_matches('/');
    // In force only: an alert updated or cancelled is replaced by the message that did it.
    let in_force = [
        AlertState::Issued.as_str().to_string(),
        AlertState::Received.as_str().to_string(),
    ];
    let records = store::alerts(&state.db, &in_force, true, 100)
        .await?
        .into_iter()
        .map(alert_record)
        .collect::<ApiResult<Vec<_>>>()?;
    let entries = records
        .into_iter()
        .map(|r| {
            let info = r.alert.info.first();
            let title = info.map(|i| i.title().to_string()).unwrap_or_else(|| {
                format!(
                    "{} of {}",
                    r.alert.msg_type.as_str(),
                    r.alert.references.clone().unwrap_or_default()
                )
            });
            let summary = match info {
                Some(i) => format!(
                    "{} — {}, {}, {}. {}",
                    i.event,
                    i.severity.as_str(),
                    i.urgency.as_str(),
                    i.certainty.as_str(),
                    i.area
                        .iter()
                        .map(|a| a.area_desc.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
                None => r.alert.note.clone().unwrap_or_default(),
            };
            let updated = crate::cap::check::datetime(&r.alert.sent)
                .unwrap_or_else(|_| r.created_at.to_datetime());
            crate::cap::feed::FeedEntry {
                id: format!("urn:cap:{}:{}", r.alert.sender, r.alert.identifier),
                title,
                summary,
                updated,
                cap_url: format!("{base}/api/v1/safety/alerts/{}/cap.xml", r.id),
            }
        })
        .collect();
    Ok(crate::cap::feed::Feed {
        id: format!("{base}/api/v1/safety/cap/feed.atom"),
        title: "Civitas public alerts".into(),
        home: format!("{base}/safety/alerts"),
        entries,
    })
}
