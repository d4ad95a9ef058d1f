//! The safety JSON routes: stations (public to read, registered by their department) and
//! readings (sent in batches by the station's department or its system, public to read).

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use kernel::api::{Json, Path, Query};
use kernel::auth::Principal;
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
        .merge(
            OpenApiRouter::new()
                .routes(routes!(ingest))
                .routes(routes!(areas, import_areas))
                .routes(routes!(forecasts, import_forecasts))
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
