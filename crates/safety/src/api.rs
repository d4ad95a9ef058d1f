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
        .merge(
            OpenApiRouter::new()
                .routes(routes!(ingest))
                .routes(routes!(areas, import_areas))
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
    use axum::response::IntoResponse;
    let body = service::areas_geojson(&state).await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/geo+json")],
        body.to_string(),
    )
        .into_response())
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

/// Which language a map's labels are in.
#[derive(Debug, Deserialize, IntoParams)]
struct MapQuery {
    /// `en` for English labels; Chinese otherwise.
    lang: Option<String>,
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
    use axum::response::IntoResponse;
    let lang = if q.lang.as_deref() == Some("en") {
        kernel::pages::Lang::En
    } else {
        kernel::pages::Lang::ZhCn
    };
    let svg = crate::pages::map_svg(&state, lang).await?;
    Ok(([(axum::http::header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}
