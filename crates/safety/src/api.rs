//! The safety JSON routes: stations (public to read, registered by their department) and
//! readings (sent in batches by the station's department or its system, public to read).

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use kernel::api::{Json, Path, Query};
use kernel::auth::{MaybePrincipal, Principal};
use kernel::error::Problem;
use kernel::{ApiError, ApiResult, AppState};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::*;
use crate::service;

/// The largest batch body: 10,000 readings with long station codes and units fit.
pub const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(stations, register_station))
        .routes(routes!(station))
        .routes(routes!(readings))
        .routes(routes!(rejections))
        .routes(routes!(map_svg))
        .routes(routes!(method, set_method))
        .routes(routes!(hazards, set_hazards))
        .routes(routes!(shelters, register_shelter))
        .routes(routes!(assessment, assess))
        .routes(routes!(risk_geojson))
        .routes(routes!(risk_svg))
        .routes(routes!(rules, set_rules))
        .routes(routes!(warnings))
        .routes(routes!(changes))
        .routes(routes!(recompute))
        .routes(routes!(warnings_geojson))
        .routes(routes!(warnings_svg))
        .routes(routes!(alerts, draft_alert))
        .routes(routes!(alert))
        .routes(routes!(alert_cap_xml))
        .routes(routes!(alert_original))
        .routes(routes!(approve_alert))
        .routes(routes!(issue_alert))
        .routes(routes!(update_alert))
        .routes(routes!(cancel_alert))
        .routes(routes!(feed_atom))
        .routes(routes!(feed_rss))
        .routes(routes!(my_location, share_location, withdraw_location))
        .routes(routes!(answer_alert))
        .routes(routes!(danger_zone))
        .routes(routes!(evacuee, record_step))
        .routes(routes!(depots, register_depot))
        .routes(routes!(set_stock))
        .routes(routes!(supply_routes, set_supply_routes))
        .routes(routes!(supply_method, set_supply_method))
        .routes(routes!(supply_plans, compute_plan))
        .routes(routes!(supply_plan))
        .routes(routes!(dispatch_plan))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(ingest))
                .routes(routes!(areas, import_areas))
                .routes(routes!(forecasts, import_forecasts))
                .routes(routes!(import_cap))
                .layer(DefaultBodyLimit::max(MAX_BATCH_BYTES)),
        )
}

/// A body read whole: one over the limit is a 413 saying `too_large`.
fn read_body(
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
    too_large: &str,
) -> ApiResult<Bytes> {
    body.map_err(|r| {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(too_large.to_string())
        } else {
            ApiError::bad_request(r.body_text())
        }
    })
}

/// Which stations to list.
#[derive(Debug, Deserialize, IntoParams)]
struct StationQuery {
    /// A region's code: its stations and those of the regions under it.
    region: Option<String>,
}

/// The monitoring stations, by code (public).
#[utoipa::path(get, path = "/api/v1/safety/stations", tag = "safety",
    params(StationQuery),
    responses((status = 200, body = Vec<Station>)))]
async fn stations(
    State(state): State<AppState>,
    Query(q): Query<StationQuery>,
) -> ApiResult<Json<Vec<Station>>> {
    Ok(Json(service::stations(&state, q.region.as_deref()).await?))
}

/// Register a station (its department's administrator, or a platform administrator).
#[utoipa::path(post, path = "/api/v1/safety/stations", tag = "safety", security(("bearer" = [])),
    request_body = NewStation,
    responses((status = 201, body = Station), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn register_station(
    State(state): State<AppState>,
    principal: Principal,
    Json(new): Json<NewStation>,
) -> ApiResult<(StatusCode, Json<Station>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::register_station(&state, &principal, new).await?),
    ))
}

/// One station with its latest reading (public).
#[utoipa::path(get, path = "/api/v1/safety/stations/{code}", tag = "safety",
    params(("code" = String, Path, description = "The station's code")),
    responses((status = 200, body = Station), (status = 404, body = Problem)))]
async fn station(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<Json<Station>> {
    Ok(Json(service::station(&state, &code).await?))
}

/// A station's readings, newest first: the last 48 hours unless `from`/`until` say
/// otherwise (public).
#[utoipa::path(get, path = "/api/v1/safety/stations/{code}/observations", tag = "safety",
    params(("code" = String, Path, description = "The station's code"), ObservationQuery),
    responses((status = 200, body = Vec<Observation>), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn readings(
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<ObservationQuery>,
) -> ApiResult<Json<Vec<Observation>>> {
    Ok(Json(service::readings(&state, &code, &q).await?))
}

/// Send readings: up to 10,000 per batch, from the station's department or its system
/// account. Each good reading is stored once per station and instant (sending a batch
/// again is safe); each bad one is refused with its reason and counted; the answer says
/// which.
#[utoipa::path(post, path = "/api/v1/safety/observations", tag = "safety", security(("bearer" = [])),
    request_body = ObservationBatch,
    responses((status = 200, body = IngestReport), (status = 400, body = Problem), (status = 401, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem)))]
async fn ingest(
    State(state): State<AppState>,
    principal: Principal,
    headers: axum::http::HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<Json<IngestReport>> {
    let json = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|t| t.trim() == "application/json")
        });
    if !json {
        return Err(ApiError::UnsupportedMediaType(
            "send the batch as JSON with 'Content-Type: application/json'".into(),
        ));
    }
    let body = read_body(
        body,
        &format!("a batch body is at most {MAX_BATCH_BYTES} bytes: send fewer readings at once"),
    )?;
    let batch: ObservationBatch = kernel::api::parse_json(&body)?;
    Ok(Json(
        service::ingest(&state, &principal, &batch.observations).await?,
    ))
}

/// How many readings were refused, by station and reason (the platform's staff).
#[utoipa::path(get, path = "/api/v1/safety/rejections", tag = "safety", security(("bearer" = [])),
    responses((status = 200, body = Vec<RejectionCount>), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn rejections(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Vec<RejectionCount>>> {
    Ok(Json(service::rejections(&state, &principal).await?))
}

/// Regions' areas as a GeoJSON FeatureCollection (public).
#[utoipa::path(get, path = "/api/v1/safety/areas", tag = "safety",
    responses((status = 200, description = "application/geo+json: a FeatureCollection, each feature's properties the region's code and name")))]
async fn areas(State(state): State<AppState>) -> ApiResult<axum::response::Response> {
    Ok(geo_json(
        service::areas_geojson(&state, |_| serde_json::Map::new()).await?,
    ))
}

/// A GeoJSON answer.
fn geo_json(value: serde_json::Value) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [(axum::http::header::CONTENT_TYPE, "application/geo+json")],
        value.to_string(),
    )
        .into_response()
}

/// Set regions' areas (platform administrator): a GeoJSON FeatureCollection, each
/// feature a Polygon or MultiPolygon with its region's code in `properties.code`; checked
/// whole, stored whole or not at all.
#[utoipa::path(put, path = "/api/v1/safety/areas", tag = "safety", security(("bearer" = [])),
    request_body(content = Object, content_type = "application/geo+json", description = "A GeoJSON FeatureCollection"),
    responses((status = 200, body = AreaReport), (status = 400, body = Problem), (status = 403, body = Problem), (status = 413, body = Problem)))]
async fn import_areas(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<Json<AreaReport>> {
    let body = read_body(
        body,
        &format!("an import of areas is at most {MAX_BATCH_BYTES} bytes"),
    )?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request("the body is not UTF-8 text"))?;
    Ok(Json(service::import_areas(&state, &principal, text).await?))
}

/// Which language a map's labels are in, and which horizon it shows.
#[derive(Debug, Deserialize, IntoParams)]
struct MapQuery {
    /// `en` for English labels; Chinese otherwise.
    lang: Option<String>,
    /// For the warnings' map: hours ahead (3, 6, 24 or 48; 3 when left out).
    horizon: Option<u32>,
}

impl MapQuery {
    fn lang(&self) -> kernel::pages::Lang {
        if self.lang.as_deref() == Some("en") {
            kernel::pages::Lang::En
        } else {
            kernel::pages::Lang::ZhCn
        }
    }
}

/// An SVG answer.
fn svg(body: String) -> axum::response::Response {
    use axum::response::IntoResponse;
    ([(axum::http::header::CONTENT_TYPE, "image/svg+xml")], body).into_response()
}

/// The map of regions and stations as SVG, each station coloured by how its latest
/// reading stands against its levels (public).
#[utoipa::path(get, path = "/api/v1/safety/map.svg", tag = "safety",
    params(MapQuery),
    responses((status = 200, description = "image/svg+xml")))]
async fn map_svg(
    State(state): State<AppState>,
    Query(q): Query<MapQuery>,
) -> ApiResult<axum::response::Response> {
    Ok(svg(crate::pages::map_svg(&state, q.lang()).await?))
}

/// The static assessment's method in force (public: the method is documented).
#[utoipa::path(get, path = "/api/v1/safety/risk/method", tag = "safety",
    responses((status = 200, body = RiskMethod)))]
async fn method(State(state): State<AppState>) -> ApiResult<Json<RiskMethod>> {
    Ok(Json(service::method(&state).await?))
}

/// Set the static assessment's method (platform administrator).
#[utoipa::path(put, path = "/api/v1/safety/risk/method", tag = "safety", security(("bearer" = [])),
    request_body = RiskMethod,
    responses((status = 200, body = RiskMethod), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn set_method(
    State(state): State<AppState>,
    principal: Principal,
    Json(m): Json<RiskMethod>,
) -> ApiResult<Json<RiskMethod>> {
    Ok(Json(service::set_method(&state, &principal, m).await?))
}

/// Regions' recorded hazard indexes (public).
#[utoipa::path(get, path = "/api/v1/safety/risk/hazards", tag = "safety",
    responses((status = 200, body = Vec<Hazard>)))]
async fn hazards(State(state): State<AppState>) -> ApiResult<Json<Vec<Hazard>>> {
    Ok(Json(service::hazards(&state).await?))
}

/// Set regions' hazard indexes (a duty officer: a government department's staff); the
/// regions not named keep theirs.
#[utoipa::path(put, path = "/api/v1/safety/risk/hazards", tag = "safety", security(("bearer" = [])),
    request_body = HazardUpdate,
    responses((status = 200, body = Vec<Hazard>), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn set_hazards(
    State(state): State<AppState>,
    principal: Principal,
    Json(update): Json<HazardUpdate>,
) -> ApiResult<Json<Vec<Hazard>>> {
    Ok(Json(
        service::set_hazards(&state, &principal, update).await?,
    ))
}

/// The shelters (public).
#[utoipa::path(get, path = "/api/v1/safety/shelters", tag = "safety",
    responses((status = 200, body = Vec<Shelter>)))]
async fn shelters(State(state): State<AppState>) -> ApiResult<Json<Vec<Shelter>>> {
    Ok(Json(service::shelters(&state).await?))
}

/// Register a shelter (a government department's staff).
#[utoipa::path(post, path = "/api/v1/safety/shelters", tag = "safety", security(("bearer" = [])),
    request_body = NewShelter,
    responses((status = 201, body = Shelter), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn register_shelter(
    State(state): State<AppState>,
    principal: Principal,
    Json(new): Json<NewShelter>,
) -> ApiResult<(StatusCode, Json<Shelter>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::register_shelter(&state, &principal, new).await?),
    ))
}

/// The latest static assessment with every figure (the platform's staff): 404 before the
/// first.
#[utoipa::path(get, path = "/api/v1/safety/risk/assessment", tag = "safety", security(("bearer" = [])),
    responses((status = 200, body = RiskAssessment), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn assessment(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<RiskAssessment>> {
    if !principal.roles.iter().any(|b| b.role.is_staff()) {
        return Err(ApiError::Forbidden(
            "the assessment's figures are for the platform's staff".into(),
        ));
    }
    service::assessment(&state)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound("no assessment has been made yet".into()))
}

/// Assess every region on the map by the method in force (a duty officer).
#[utoipa::path(post, path = "/api/v1/safety/risk/assessment", tag = "safety", security(("bearer" = [])),
    responses((status = 201, body = RiskAssessment), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn assess(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<(StatusCode, Json<RiskAssessment>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::assess(&state, &principal).await?),
    ))
}

/// The five-colour map (the latest static assessment) as GeoJSON: each region's
/// `level`, `colour` and `score` (public).
#[utoipa::path(get, path = "/api/v1/safety/risk/map.geojson", tag = "safety",
    responses((status = 200, description = "application/geo+json: a FeatureCollection")))]
async fn risk_geojson(State(state): State<AppState>) -> ApiResult<axum::response::Response> {
    Ok(geo_json(service::risk_geojson(&state).await?))
}

/// The five-colour map as SVG, with its legend (public).
#[utoipa::path(get, path = "/api/v1/safety/risk/map.svg", tag = "safety",
    params(MapQuery),
    responses((status = 200, description = "image/svg+xml")))]
async fn risk_svg(
    State(state): State<AppState>,
    Query(q): Query<MapQuery>,
) -> ApiResult<axum::response::Response> {
    Ok(svg(crate::pages::risk_svg(&state, q.lang()).await?))
}

/// The warning rules in force (public: the rules are documented).
#[utoipa::path(get, path = "/api/v1/safety/warnings/rules", tag = "safety",
    responses((status = 200, body = WarningRules)))]
async fn rules(State(state): State<AppState>) -> ApiResult<Json<WarningRules>> {
    Ok(Json(service::rules(&state).await?))
}

/// Set the warning rules (platform administrator); the levels are recomputed.
#[utoipa::path(put, path = "/api/v1/safety/warnings/rules", tag = "safety", security(("bearer" = [])),
    request_body = WarningRules,
    responses((status = 200, body = WarningRules), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn set_rules(
    State(state): State<AppState>,
    principal: Principal,
    Json(r): Json<WarningRules>,
) -> ApiResult<Json<WarningRules>> {
    Ok(Json(service::set_rules(&state, &principal, r).await?))
}

/// The stored forecasts (public).
#[utoipa::path(get, path = "/api/v1/safety/forecasts", tag = "safety",
    responses((status = 200, body = Vec<Forecast>)))]
async fn forecasts(State(state): State<AppState>) -> ApiResult<Json<Vec<Forecast>>> {
    Ok(Json(service::forecasts(&state).await?))
}

/// Import forecast rainfall as CSV (a duty officer): header
/// `region,horizon_hours,rain_mm[,issued_at]`; checked whole, each problem named at its
/// line, stored whole; the levels are recomputed.
#[utoipa::path(post, path = "/api/v1/safety/forecasts", tag = "safety", security(("bearer" = [])),
    request_body(content = String, content_type = "text/csv", description = "region,horizon_hours,rain_mm[,issued_at]"),
    responses((status = 200, body = ForecastReport), (status = 400, body = Problem), (status = 403, body = Problem), (status = 413, body = Problem)))]
async fn import_forecasts(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<Json<ForecastReport>> {
    let body = read_body(
        body,
        &format!("an import of forecasts is at most {MAX_BATCH_BYTES} bytes"),
    )?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request("the body is not UTF-8 text"))?;
    Ok(Json(
        service::import_forecasts(&state, &principal, text).await?,
    ))
}

/// Every region's level for a horizon, each explained by the rules, stations and figures
/// that raised it, the highest first (public).
#[utoipa::path(get, path = "/api/v1/safety/warnings", tag = "safety",
    params(WarningQuery),
    responses((status = 200, body = Vec<RegionWarning>), (status = 400, body = Problem)))]
async fn warnings(
    State(state): State<AppState>,
    Query(q): Query<WarningQuery>,
) -> ApiResult<Json<Vec<RegionWarning>>> {
    let horizon = service::horizon_of(q.horizon)?;
    Ok(Json(service::warnings(&state, horizon).await?))
}

/// Over how many hours to list changes.
#[derive(Debug, Deserialize, IntoParams)]
struct ChangesQuery {
    /// 1–168 (24 when left out).
    hours: Option<i64>,
}

/// What changed: every change of a region's level, the newest first (public).
#[utoipa::path(get, path = "/api/v1/safety/warnings/changes", tag = "safety",
    params(ChangesQuery),
    responses((status = 200, body = Vec<LevelChange>), (status = 400, body = Problem)))]
async fn changes(
    State(state): State<AppState>,
    Query(q): Query<ChangesQuery>,
) -> ApiResult<Json<Vec<LevelChange>>> {
    Ok(Json(service::changes(&state, q.hours.unwrap_or(24)).await?))
}

/// Recompute the levels now (a duty officer; they are also recomputed whenever readings,
/// forecasts or rules arrive): the changes it made.
#[utoipa::path(post, path = "/api/v1/safety/warnings/recompute", tag = "safety", security(("bearer" = [])),
    responses((status = 200, body = Vec<LevelChange>), (status = 403, body = Problem)))]
async fn recompute(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Vec<LevelChange>>> {
    service::require_duty(&state, &principal).await?;
    Ok(Json(service::recompute(&state).await?))
}

/// One horizon's levels on the map as GeoJSON: each region's `level` and `colour`
/// (public).
#[utoipa::path(get, path = "/api/v1/safety/warnings/map.geojson", tag = "safety",
    params(WarningQuery),
    responses((status = 200, description = "application/geo+json: a FeatureCollection"), (status = 400, body = Problem)))]
async fn warnings_geojson(
    State(state): State<AppState>,
    Query(q): Query<WarningQuery>,
) -> ApiResult<axum::response::Response> {
    let horizon = service::horizon_of(q.horizon)?;
    Ok(geo_json(service::warnings_geojson(&state, horizon).await?))
}

/// One horizon's levels on the map as SVG, with the legend (public).
#[utoipa::path(get, path = "/api/v1/safety/warnings/map.svg", tag = "safety",
    params(MapQuery),
    responses((status = 200, description = "image/svg+xml"), (status = 400, body = Problem)))]
async fn warnings_svg(
    State(state): State<AppState>,
    Query(q): Query<MapQuery>,
) -> ApiResult<axum::response::Response> {
    let horizon = service::horizon_of(q.horizon)?;
    Ok(svg(
        crate::pages::warnings_svg(&state, q.lang(), horizon).await?
    ))
}

fn xml(content_type: &'static str, body: impl Into<axum::body::Body>) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [(axum::http::header::CONTENT_TYPE, content_type)],
        body.into(),
    )
        .into_response()
}

/// Import a CAP alert from another authority: the XML document as the body (CAP 1.2, or
/// 1.1 which is upgraded; any declared encoding; signed or not). Every problem is named;
/// nothing invalid is stored. A government department's staff or its system.
#[utoipa::path(post, path = "/api/v1/safety/cap", tag = "safety", security(("bearer" = [])),
    request_body(content = String, content_type = "application/cap+xml"),
    responses((status = 201, body = AlertRecord), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 413, body = Problem)))]
async fn import_cap(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<(StatusCode, Json<AlertRecord>)> {
    let body = read_body(
        body,
        &format!(
            "a CAP alert is at most {} bytes",
            crate::cap::read::MAX_DOCUMENT_BYTES
        ),
    )?;
    Ok((
        StatusCode::CREATED,
        Json(service::import_cap(&state, &principal, &body).await?),
    ))
}

/// Alerts, newest first: staff on duty see every one (or those in a state); everyone else
/// the public alerts that went out.
#[utoipa::path(get, path = "/api/v1/safety/alerts", tag = "safety",
    params(AlertQuery),
    responses((status = 200, body = Vec<AlertRecord>), (status = 400, body = Problem)))]
async fn alerts(
    State(state): State<AppState>,
    MaybePrincipal(principal): MaybePrincipal,
    Query(q): Query<AlertQuery>,
) -> ApiResult<Json<Vec<AlertRecord>>> {
    Ok(Json(
        service::alerts(&state, principal.as_ref(), q.state.as_deref()).await?,
    ))
}

/// Draft an alert (a duty officer): the platform sets its identifier and sender; a second
/// duty officer approves it before it can be issued.
#[utoipa::path(post, path = "/api/v1/safety/alerts", tag = "safety", security(("bearer" = [])),
    request_body = AlertDraft,
    responses((status = 201, body = AlertRecord), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn draft_alert(
    State(state): State<AppState>,
    principal: Principal,
    Json(draft): Json<AlertDraft>,
) -> ApiResult<(StatusCode, Json<AlertRecord>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::draft_alert(&state, &principal, draft).await?),
    ))
}

/// One alert (public alerts that went out: anyone; others: staff on duty).
#[utoipa::path(get, path = "/api/v1/safety/alerts/{id}", tag = "safety",
    params(("id" = String, Path, description = "The alert record's id")),
    responses((status = 200, body = AlertRecord), (status = 404, body = Problem)))]
async fn alert(
    State(state): State<AppState>,
    MaybePrincipal(principal): MaybePrincipal,
    Path(id): Path<String>,
) -> ApiResult<Json<AlertRecord>> {
    Ok(Json(service::alert(&state, principal.as_ref(), &id).await?))
}

/// The alert as CAP 1.2 XML, valid against the OASIS schema. A received alert is written
/// as read; its sender's signature is in the original (`original.xml`), not here.
#[utoipa::path(get, path = "/api/v1/safety/alerts/{id}/cap.xml", tag = "safety",
    params(("id" = String, Path, description = "The alert record's id")),
    responses((status = 200, description = "application/cap+xml"), (status = 404, body = Problem)))]
async fn alert_cap_xml(
    State(state): State<AppState>,
    MaybePrincipal(principal): MaybePrincipal,
    Path(id): Path<String>,
) -> ApiResult<axum::response::Response> {
    let body = service::alert_xml(&state, principal.as_ref(), &id).await?;
    Ok(xml("application/cap+xml; charset=utf-8", body))
}

/// A received alert's document exactly as it arrived (its encoding, its signature).
#[utoipa::path(get, path = "/api/v1/safety/alerts/{id}/original.xml", tag = "safety",
    params(("id" = String, Path, description = "The alert record's id")),
    responses((status = 200, description = "application/cap+xml"), (status = 404, body = Problem)))]
async fn alert_original(
    State(state): State<AppState>,
    MaybePrincipal(principal): MaybePrincipal,
    Path(id): Path<String>,
) -> ApiResult<axum::response::Response> {
    let body = service::alert_original(&state, principal.as_ref(), &id).await?;
    Ok(xml("application/cap+xml", body))
}

/// Approve a draft (a duty officer other than the one who drafted it).
#[utoipa::path(post, path = "/api/v1/safety/alerts/{id}/approve", tag = "safety", security(("bearer" = [])),
    params(("id" = String, Path, description = "The alert record's id")),
    responses((status = 200, body = AlertRecord), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn approve_alert(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<AlertRecord>> {
    Ok(Json(service::approve_alert(&state, &principal, &id).await?))
}

/// Issue an approved alert (a duty officer): it is sent now; an update or cancel replaces
/// the alert it refers to.
#[utoipa::path(post, path = "/api/v1/safety/alerts/{id}/issue", tag = "safety", security(("bearer" = [])),
    params(("id" = String, Path, description = "The alert record's id")),
    responses((status = 200, body = AlertRecord), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn issue_alert(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<AlertRecord>> {
    Ok(Json(service::issue_alert(&state, &principal, &id).await?))
}

/// Draft an update of an issued alert (approved and issued like any alert).
#[utoipa::path(post, path = "/api/v1/safety/alerts/{id}/update", tag = "safety", security(("bearer" = [])),
    params(("id" = String, Path, description = "The issued alert's record id")),
    request_body = AlertDraft,
    responses((status = 201, body = AlertRecord), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn update_alert(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(draft): Json<AlertDraft>,
) -> ApiResult<(StatusCode, Json<AlertRecord>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::draft_update(&state, &principal, &id, draft).await?),
    ))
}

/// Draft the cancel of an issued alert, with the reason (approved and issued like any alert).
#[utoipa::path(post, path = "/api/v1/safety/alerts/{id}/cancel", tag = "safety", security(("bearer" = [])),
    params(("id" = String, Path, description = "The issued alert's record id")),
    request_body = AlertCancel,
    responses((status = 201, body = AlertRecord), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn cancel_alert(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(cancel): Json<AlertCancel>,
) -> ApiResult<(StatusCode, Json<AlertRecord>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::draft_cancel(&state, &principal, &id, cancel).await?),
    ))
}

/// The public alerts that went out, as an Atom feed linking each CAP document (public).
#[utoipa::path(get, path = "/api/v1/safety/cap/feed.atom", tag = "safety",
    responses((status = 200, description = "application/atom+xml")))]
async fn feed_atom(State(state): State<AppState>) -> ApiResult<axum::response::Response> {
    let feed = service::alert_feed(&state).await?;
    Ok(xml(
        "application/atom+xml; charset=utf-8",
        crate::cap::feed::atom(&feed),
    ))
}

/// The same feed as RSS 2.0 (public).
#[utoipa::path(get, path = "/api/v1/safety/cap/feed.rss", tag = "safety",
    responses((status = 200, description = "application/rss+xml")))]
async fn feed_rss(State(state): State<AppState>) -> ApiResult<axum::response::Response> {
    let feed = service::alert_feed(&state).await?;
    Ok(xml(
        "application/rss+xml; charset=utf-8",
        crate::cap::feed::rss(&feed),
    ))
}

/// The location you shared for alerts (404 if none).
#[utoipa::path(get, path = "/api/v1/me/location", tag = "safety", security(("bearer" = [])),
    responses((status = 200, body = SharedLocation), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn my_location(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<SharedLocation>> {
    service::targeting::my_location(&state, &principal)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound("you have not shared a location".into()))
}

/// Share where you are, so that alerts for that place reach you (used for a day; share
/// again to move it, delete to withdraw it). The point is kept sealed.
#[utoipa::path(put, path = "/api/v1/me/location", tag = "safety", security(("bearer" = [])),
    request_body = LocationShare,
    responses((status = 200, body = SharedLocation), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn share_location(
    State(state): State<AppState>,
    principal: Principal,
    Json(share): Json<LocationShare>,
) -> ApiResult<Json<SharedLocation>> {
    Ok(Json(
        service::targeting::share_location(&state, &principal, share).await?,
    ))
}

/// Withdraw the location you shared.
#[utoipa::path(delete, path = "/api/v1/me/location", tag = "safety", security(("bearer" = [])),
    responses((status = 204, description = "Withdrawn"), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn withdraw_location(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<StatusCode> {
    service::targeting::withdraw_location(&state, &principal).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Answer an alert that reached you (or the person you act for): `safe` or `need_help`,
/// with an optional note; your notice of it is acknowledged.
#[utoipa::path(post, path = "/api/v1/safety/alerts/{id}/answer", tag = "safety", security(("bearer" = [])),
    params(("id" = String, Path, description = "The alert record's id")),
    request_body = AlertAnswer,
    responses((status = 200, body = EvacuationStatus), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn answer_alert(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(answer): Json<AlertAnswer>,
) -> ApiResult<Json<EvacuationStatus>> {
    Ok(Json(
        service::targeting::answer(&state, &principal, &id, answer).await?,
    ))
}

/// The danger-zone list of an alert (duty officers; a community committee's staff for its
/// region): who needs help, the vulnerable of the area, everyone's evacuation counted.
#[utoipa::path(get, path = "/api/v1/safety/alerts/{id}/danger-zone", tag = "safety", security(("bearer" = [])),
    params(("id" = String, Path, description = "The alert record's id")),
    responses((status = 200, body = DangerZone), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn danger_zone(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<DangerZone>> {
    Ok(Json(
        service::targeting::danger_zone(&state, &principal, &id).await?,
    ))
}

/// One person an alert reached, opened to reach her: name, phone, address, note (audited).
#[utoipa::path(get, path = "/api/v1/safety/alerts/{id}/people/{person_id}", tag = "safety", security(("bearer" = [])),
    params(("id" = String, Path, description = "The alert record's id"), ("person_id" = String, Path, description = "The person's id")),
    responses((status = 200, body = Evacuee), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn evacuee(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, person_id)): Path<(String, String)>,
) -> ApiResult<Json<Evacuee>> {
    Ok(Json(
        service::targeting::evacuee(&state, &principal, &id, &person_id).await?,
    ))
}

/// Record a step of a person's evacuation: `needs_help`, `transferred` (to a shelter) or
/// `safe` (audited).
#[utoipa::path(post, path = "/api/v1/safety/alerts/{id}/people/{person_id}", tag = "safety", security(("bearer" = [])),
    params(("id" = String, Path, description = "The alert record's id"), ("person_id" = String, Path, description = "The person's id")),
    request_body = EvacuationStep,
    responses((status = 200, body = Evacuee), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn record_step(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, person_id)): Path<(String, String)>,
    Json(step): Json<EvacuationStep>,
) -> ApiResult<Json<Evacuee>> {
    Ok(Json(
        service::targeting::record_step(&state, &principal, &id, &person_id, step).await?,
    ))
}

/// Relief supply depots with their stock (staff on duty).
#[utoipa::path(get, path = "/api/v1/safety/depots", tag = "safety", security(("bearer" = [])),
    responses((status = 200, body = [Depot]), (status = 403, body = Problem)))]
async fn depots(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Vec<Depot>>> {
    Ok(Json(service::supplies::depots(&state, &principal).await?))
}

/// Register a depot with what it holds (a duty officer).
#[utoipa::path(post, path = "/api/v1/safety/depots", tag = "safety", security(("bearer" = [])),
    request_body = NewDepot,
    responses((status = 201, body = Depot), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn register_depot(
    State(state): State<AppState>,
    principal: Principal,
    Json(new): Json<NewDepot>,
) -> ApiResult<(StatusCode, Json<Depot>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::supplies::register_depot(&state, &principal, new).await?),
    ))
}

/// Set what a depot holds now of the supplies named.
#[utoipa::path(put, path = "/api/v1/safety/depots/{code}/stock", tag = "safety", security(("bearer" = [])),
    params(("code" = String, Path, description = "The depot's code")),
    request_body = StockCount,
    responses((status = 200, body = Depot), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn set_stock(
    State(state): State<AppState>,
    principal: Principal,
    Path(code): Path<String>,
    Json(count): Json<StockCount>,
) -> ApiResult<Json<Depot>> {
    Ok(Json(
        service::supplies::set_stock(&state, &principal, &code, count).await?,
    ))
}

/// The roads from depots to regions, with their minutes of travel.
#[utoipa::path(get, path = "/api/v1/safety/routes", tag = "safety", security(("bearer" = [])),
    responses((status = 200, body = SupplyRoutes), (status = 403, body = Problem)))]
async fn supply_routes(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<SupplyRoutes>> {
    Ok(Json(service::supplies::routes(&state, &principal).await?))
}

/// Replace every road from depots to regions.
#[utoipa::path(put, path = "/api/v1/safety/routes", tag = "safety", security(("bearer" = [])),
    request_body = SupplyRoutes,
    responses((status = 200, body = SupplyRoutes), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn set_supply_routes(
    State(state): State<AppState>,
    principal: Principal,
    Json(routes): Json<SupplyRoutes>,
) -> ApiResult<Json<SupplyRoutes>> {
    Ok(Json(
        service::supplies::set_routes(&state, &principal, routes).await?,
    ))
}

/// How a region's need is reckoned from its residents and its level.
#[utoipa::path(get, path = "/api/v1/safety/supplies/method", tag = "safety",
    responses((status = 200, body = SupplyMethod)))]
async fn supply_method(State(state): State<AppState>) -> ApiResult<Json<SupplyMethod>> {
    Ok(Json(service::supplies::method(&state).await?))
}

/// Set how needs are reckoned (a platform administrator).
#[utoipa::path(put, path = "/api/v1/safety/supplies/method", tag = "safety", security(("bearer" = [])),
    request_body = SupplyMethod,
    responses((status = 200, body = SupplyMethod), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn set_supply_method(
    State(state): State<AppState>,
    principal: Principal,
    Json(method): Json<SupplyMethod>,
) -> ApiResult<Json<SupplyMethod>> {
    Ok(Json(
        service::supplies::set_method(&state, &principal, method).await?,
    ))
}

/// The newest allocation plans (staff on duty).
#[utoipa::path(get, path = "/api/v1/safety/supplies/plans", tag = "safety", security(("bearer" = [])),
    responses((status = 200, body = [SupplyPlan]), (status = 403, body = Problem)))]
async fn supply_plans(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Vec<SupplyPlan>>> {
    Ok(Json(service::supplies::plans(&state, &principal).await?))
}

/// Compute the minimum-cost allocation plan for the levels at a horizon (kept as proposed).
#[utoipa::path(post, path = "/api/v1/safety/supplies/plans", tag = "safety", security(("bearer" = [])),
    request_body = PlanRequest,
    responses((status = 201, body = SupplyPlan), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn compute_plan(
    State(state): State<AppState>,
    principal: Principal,
    Json(request): Json<PlanRequest>,
) -> ApiResult<(StatusCode, Json<SupplyPlan>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::supplies::compute_plan(&state, &principal, request).await?),
    ))
}

/// One allocation plan.
#[utoipa::path(get, path = "/api/v1/safety/supplies/plans/{id}", tag = "safety", security(("bearer" = [])),
    params(("id" = String, Path, description = "The plan's id")),
    responses((status = 200, body = SupplyPlan), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn supply_plan(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<SupplyPlan>> {
    Ok(Json(
        service::supplies::plan(&state, &principal, &id).await?,
    ))
}

/// Dispatch a proposed plan: its shipments leave the depots' stock, all or none.
#[utoipa::path(post, path = "/api/v1/safety/supplies/plans/{id}/dispatch", tag = "safety", security(("bearer" = [])),
    params(("id" = String, Path, description = "The plan's id")),
    responses((status = 200, body = SupplyPlan), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn dispatch_plan(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<SupplyPlan>> {
    Ok(Json(
        service::supplies::dispatch(&state, &principal, &id).await?,
    ))
}
