//! The passes' JSON routes: the pass catalogue, the holder's passes, the scanner.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use kernel::api::Json;
use kernel::auth::Principal;
use kernel::error::Problem;
use kernel::{ApiResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::model::*;
use super::service;

/// The passes' routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_pass_types, create_pass_type))
        .routes(routes!(my_passes, mint))
        .routes(routes!(scan))
}

/// The pass catalogue (anyone may read it).
#[utoipa::path(get, path = "/api/v1/passes/types", tag = "passes",
    responses((status = 200, body = Vec<PassType>)))]
async fn list_pass_types(State(state): State<AppState>) -> ApiResult<Json<Vec<PassType>>> {
    Ok(Json(service::list_pass_types(&state).await?))
}

/// Define a pass type, derived from a certificate type or from an age rule (platform
/// administrators).
#[utoipa::path(post, path = "/api/v1/passes/types", tag = "passes", security(("bearer" = [])),
    request_body = NewPassType,
    responses((status = 201, body = PassType), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn create_pass_type(
    State(state): State<AppState>,
    principal: Principal,
    Json(new): Json<NewPassType>,
) -> ApiResult<(StatusCode, Json<PassType>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::create_pass_type(&state, &principal, new).await?),
    ))
}

/// The passes I can show, each with its colour and why.
#[utoipa::path(get, path = "/api/v1/me/passes", tag = "passes", security(("bearer" = [])),
    responses((status = 200, body = Vec<PassOffer>), (status = 403, body = Problem)))]
async fn my_passes(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Vec<PassOffer>>> {
    Ok(Json(service::offers(&state, &principal).await?))
}

/// Make a pass to show now (short-lived, signed; one scan uses it up). Not eligible:
/// 403 `not_eligible` with the reason.
#[utoipa::path(post, path = "/api/v1/me/passes", tag = "passes", security(("bearer" = [])),
    request_body = PassRequest,
    responses((status = 201, body = Pass), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn mint(
    State(state): State<AppState>,
    principal: Principal,
    Json(request): Json<PassRequest>,
) -> ApiResult<impl IntoResponse> {
    let pass = service::mint(&state, &principal, request).await?;
    Ok((
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(pass),
    ))
}

/// Scan a pass (an organisation's staff): every check with its outcome; `accepted` only
/// when none failed. Forged, expired, red, withdrawn and replayed passes are refused.
#[utoipa::path(post, path = "/api/v1/passes/scan", tag = "passes", security(("bearer" = [])),
    request_body = ScanRequest,
    responses((status = 200, body = ScanResult), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn scan(
    State(state): State<AppState>,
    principal: Principal,
    Json(request): Json<ScanRequest>,
) -> ApiResult<Json<ScanResult>> {
    Ok(Json(service::scan(&state, &principal, request).await?))
}
