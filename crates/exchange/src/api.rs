//! The exchange's JSON routes: catalogue, DCAT, requests, decisions, agreements.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use kernel::api::{Json, Page, PageQuery, Path, Query};
use kernel::auth::Principal;
use kernel::error::Problem;
use kernel::{ApiResult, AppState};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::*;
use crate::service;

/// The exchange's routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search, publish))
        .routes(routes!(get_resource))
        .routes(routes!(dcat))
        .routes(routes!(list_requests, file_request))
        .routes(routes!(get_request))
        .routes(routes!(decide))
        .routes(routes!(list_agreements))
        .routes(routes!(get_agreement))
        .routes(routes!(revoke_agreement))
}

/// Catalogue search.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct SearchQuery {
    /// Words to find in names, descriptions, keywords and providers.
    q: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

/// Browse and search the data resource catalogue (anyone may).
#[utoipa::path(get, path = "/api/v1/exchange/resources", tag = "exchange",
    params(SearchQuery), responses((status = 200, body = Page<Resource>), (status = 400, body = Problem)))]
async fn search(
    State(state): State<AppState>,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Json<Page<Resource>>> {
    let page = PageQuery {
        cursor: q.cursor,
        limit: q.limit,
    };
    Ok(Json(service::search(&state, q.q.as_deref(), &page).await?))
}

/// Publish a resource (the provider's administrator or reviewer).
#[utoipa::path(post, path = "/api/v1/exchange/resources", tag = "exchange", security(("bearer" = [])),
    request_body = NewResource,
    responses((status = 201, body = Resource), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn publish(
    State(state): State<AppState>,
    principal: Principal,
    Json(new): Json<NewResource>,
) -> ApiResult<(StatusCode, Json<Resource>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::publish(&state, &principal, new).await?),
    ))
}

/// One resource, by id or code (anyone may).
#[utoipa::path(get, path = "/api/v1/exchange/resources/{resource}", tag = "exchange",
    params(("resource" = String, Path, description = "Resource id or code")),
    responses((status = 200, body = Resource), (status = 404, body = Problem)))]
async fn get_resource(
    State(state): State<AppState>,
    Path(resource): Path<String>,
) -> ApiResult<Json<Resource>> {
    Ok(Json(service::get_resource(&state, &resource).await?))
}

/// The catalogue as DCAT 3 (JSON-LD).
#[utoipa::path(get, path = "/api/v1/exchange/dcat", tag = "exchange",
    responses((status = 200, description = "DCAT catalogue", content_type = "application/ld+json")))]
async fn dcat(State(state): State<AppState>) -> ApiResult<impl IntoResponse> {
    let catalogue = service::dcat(&state).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/ld+json")],
        axum::Json(catalogue),
    ))
}

/// Which requests to list.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct RequestFilter {
    /// `incoming` (to my organisation's resources, the default) or `outgoing`.
    direction: Option<String>,
    /// The organisation (platform admins; others default to their own).
    organisation_id: Option<String>,
}

/// Sharing requests to or from my organisation.
#[utoipa::path(get, path = "/api/v1/exchange/requests", tag = "exchange", security(("bearer" = [])),
    params(RequestFilter), responses((status = 200, body = Vec<SharingRequest>), (status = 403, body = Problem)))]
async fn list_requests(
    State(state): State<AppState>,
    principal: Principal,
    Query(f): Query<RequestFilter>,
) -> ApiResult<Json<Vec<SharingRequest>>> {
    let incoming = match f.direction.as_deref() {
        None | Some("incoming") => true,
        Some("outgoing") => false,
        Some(_) => {
            return Err(kernel::ApiError::invalid(
                "direction",
                "use incoming or outgoing",
            ));
        }
    };
    Ok(Json(
        service::list_requests(&state, &principal, f.organisation_id.as_deref(), incoming).await?,
    ))
}

/// File a sharing request (供需对接); unconditional resources are approved at once.
#[utoipa::path(post, path = "/api/v1/exchange/requests", tag = "exchange", security(("bearer" = [])),
    request_body = NewRequest,
    responses((status = 201, body = SharingRequest), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn file_request(
    State(state): State<AppState>,
    principal: Principal,
    Json(new): Json<NewRequest>,
) -> ApiResult<(StatusCode, Json<SharingRequest>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::file_request(&state, &principal, new).await?),
    ))
}

/// One request (its provider's or consumer's officers).
#[utoipa::path(get, path = "/api/v1/exchange/requests/{id}", tag = "exchange", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = SharingRequest), (status = 404, body = Problem)))]
async fn get_request(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<SharingRequest>> {
    Ok(Json(service::request_for(&state, &principal, &id).await?))
}

/// Approve (optionally narrowing fields, with expiry and rate limit) or reject a request.
#[utoipa::path(post, path = "/api/v1/exchange/requests/{id}/decision", tag = "exchange", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = Decision,
    responses((status = 200, body = SharingRequest), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn decide(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(decision): Json<Decision>,
) -> ApiResult<Json<SharingRequest>> {
    Ok(Json(
        service::decide(&state, &principal, &id, decision).await?,
    ))
}

/// Whose agreements.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct AgreementFilter {
    /// The organisation (platform admins; others default to their own).
    organisation_id: Option<String>,
}

/// Agreements of my organisation, as provider or consumer.
#[utoipa::path(get, path = "/api/v1/exchange/agreements", tag = "exchange", security(("bearer" = [])),
    params(AgreementFilter), responses((status = 200, body = Vec<Agreement>), (status = 403, body = Problem)))]
async fn list_agreements(
    State(state): State<AppState>,
    principal: Principal,
    Query(f): Query<AgreementFilter>,
) -> ApiResult<Json<Vec<Agreement>>> {
    Ok(Json(
        service::list_agreements(&state, &principal, f.organisation_id.as_deref()).await?,
    ))
}

/// One agreement.
#[utoipa::path(get, path = "/api/v1/exchange/agreements/{id}", tag = "exchange", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = Agreement), (status = 404, body = Problem)))]
async fn get_agreement(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Agreement>> {
    Ok(Json(service::get_agreement(&state, &principal, &id).await?))
}

/// Revoke an agreement (the provider).
#[utoipa::path(post, path = "/api/v1/exchange/agreements/{id}/revoke", tag = "exchange", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Agreement), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn revoke_agreement(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Agreement>> {
    Ok(Json(
        service::revoke_agreement(&state, &principal, &id).await?,
    ))
}
