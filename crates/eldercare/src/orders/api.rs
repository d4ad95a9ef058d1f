//! The care-orders JSON routes: the service catalogue, orders and their steps, ratings, an
//! elder's subsidised hours and the month's subsidy report.

use axum::extract::State;
use axum::http::StatusCode;
use kernel::api::{Json, Path, Query};
use kernel::auth::Principal;
use kernel::error::Problem;
use kernel::{ApiResult, AppState};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::model::*;
use super::service;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(catalogue, offer))
        .routes(routes!(care_service, change_service))
        .routes(routes!(place))
        .routes(routes!(order))
        .routes(routes!(elder_orders))
        .routes(routes!(provider_orders))
        .routes(routes!(accept))
        .routes(routes!(reschedule))
        .routes(routes!(decline))
        .routes(routes!(complete))
        .routes(routes!(cancel))
        .routes(routes!(rate))
        .routes(routes!(balance))
        .routes(routes!(report))
}

#[derive(Debug, Deserialize, IntoParams)]
struct CatalogueQuery {
    /// Only this kind (`meal_delivery`, `cleaning`, `bathing`, `medical_accompaniment`,
    /// `home_nursing`).
    kind: Option<String>,
    /// Only this provider's (its staff see its withdrawn services too).
    provider: Option<String>,
    /// Only those offered in this region (a resident's community code).
    region: Option<String>,
}

/// The care service catalogue, by kind and price, with each service's rating.
#[utoipa::path(get, path = "/api/v1/care/services", tag = "eldercare", security(("bearer" = [])),
    params(CatalogueQuery),
    responses((status = 200, body = Vec<CareService>), (status = 400, body = Problem), (status = 401, body = Problem)))]
async fn catalogue(
    State(state): State<AppState>,
    by: Principal,
    Query(q): Query<CatalogueQuery>,
) -> ApiResult<Json<Vec<CareService>>> {
    Ok(Json(
        service::catalogue(
            &state,
            &by,
            q.kind.as_deref(),
            q.provider.as_deref(),
            q.region.as_deref(),
        )
        .await?,
    ))
}

/// Offer a care service (the provider's staff: a care provider or a hospital).
#[utoipa::path(post, path = "/api/v1/care/services", tag = "eldercare", security(("bearer" = [])),
    request_body = NewCareService,
    responses((status = 201, body = CareService), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn offer(
    State(state): State<AppState>,
    by: Principal,
    Json(new): Json<NewCareService>,
) -> ApiResult<(StatusCode, Json<CareService>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::offer(&state, &by, new).await?),
    ))
}

/// One care service.
#[utoipa::path(get, path = "/api/v1/care/services/{service_id}", tag = "eldercare", security(("bearer" = [])),
    params(("service_id" = String, Path, description = "The service's id")),
    responses((status = 200, body = CareService), (status = 404, body = Problem)))]
async fn care_service(
    State(state): State<AppState>,
    _by: Principal,
    Path(service_id): Path<String>,
) -> ApiResult<Json<CareService>> {
    Ok(Json(service::care_service(&state, &service_id).await?))
}

/// Change a service's description, length, price or whether it is offered (its provider's
/// staff).
#[utoipa::path(put, path = "/api/v1/care/services/{service_id}", tag = "eldercare", security(("bearer" = [])),
    params(("service_id" = String, Path, description = "The service's id")),
    request_body = CareServiceChange,
    responses((status = 200, body = CareService), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn change_service(
    State(state): State<AppState>,
    by: Principal,
    Path(service_id): Path<String>,
    Json(change): Json<CareServiceChange>,
) -> ApiResult<Json<CareService>> {
    Ok(Json(
        service::change_service(&state, &by, &service_id, change).await?,
    ))
}

/// Order a care service for an elder (she, her proxy or her community's staff): the
/// subsidy the rules give her for the month is applied and held for the order.
#[utoipa::path(post, path = "/api/v1/care/orders", tag = "eldercare", security(("bearer" = [])),
    request_body = NewOrder,
    responses((status = 201, body = Order), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 503, body = Problem)))]
async fn place(
    State(state): State<AppState>,
    by: Principal,
    Json(new): Json<NewOrder>,
) -> ApiResult<(StatusCode, Json<Order>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::place(&state, &by, new).await?),
    ))
}

/// One order with its timeline (the elder and those who may see her; the provider, who
/// also gets her name, phone and address; audited).
#[utoipa::path(get, path = "/api/v1/care/orders/{order_id}", tag = "eldercare", security(("bearer" = [])),
    params(("order_id" = String, Path, description = "The order's id")),
    responses((status = 200, body = Order), (status = 404, body = Problem)))]
async fn order(
    State(state): State<AppState>,
    by: Principal,
    Path(order_id): Path<String>,
) -> ApiResult<Json<Order>> {
    Ok(Json(service::order(&state, &by, &order_id).await?))
}

/// An elder's orders, the latest first.
#[utoipa::path(get, path = "/api/v1/care/elders/{elder_id}/orders", tag = "eldercare", security(("bearer" = [])),
    params(("elder_id" = String, Path, description = "The elder's person id")),
    responses((status = 200, body = Vec<Order>), (status = 404, body = Problem)))]
async fn elder_orders(
    State(state): State<AppState>,
    by: Principal,
    Path(elder_id): Path<String>,
) -> ApiResult<Json<Vec<Order>>> {
    Ok(Json(
        service::orders_of_elder(&state, &by, &elder_id).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
struct ProviderQuery {
    /// The provider (its staff, or an administrator).
    organisation_id: String,
    /// States, comma-separated (`ordered,accepted` unless given).
    state: Option<String>,
}

/// A provider's orders, the soonest wanted first (names masked; audited).
#[utoipa::path(get, path = "/api/v1/care/provider/orders", tag = "eldercare", security(("bearer" = [])),
    params(ProviderQuery),
    responses((status = 200, body = Vec<Order>), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn provider_orders(
    State(state): State<AppState>,
    by: Principal,
    Query(q): Query<ProviderQuery>,
) -> ApiResult<Json<Vec<Order>>> {
    Ok(Json(
        service::provider_orders(&state, &by, &q.organisation_id, q.state.as_deref()).await?,
    ))
}

/// The provider accepts an order and says when it will come.
#[utoipa::path(post, path = "/api/v1/care/orders/{order_id}/accept", tag = "eldercare", security(("bearer" = [])),
    params(("order_id" = String, Path, description = "The order's id")),
    request_body = Acceptance,
    responses((status = 200, body = Order), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn accept(
    State(state): State<AppState>,
    by: Principal,
    Path(order_id): Path<String>,
    Json(a): Json<Acceptance>,
) -> ApiResult<Json<Order>> {
    Ok(Json(service::accept(&state, &by, &order_id, a).await?))
}

/// The provider moves an accepted order to another time.
#[utoipa::path(post, path = "/api/v1/care/orders/{order_id}/schedule", tag = "eldercare", security(("bearer" = [])),
    params(("order_id" = String, Path, description = "The order's id")),
    request_body = Reschedule,
    responses((status = 200, body = Order), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn reschedule(
    State(state): State<AppState>,
    by: Principal,
    Path(order_id): Path<String>,
    Json(r): Json<Reschedule>,
) -> ApiResult<Json<Order>> {
    Ok(Json(service::reschedule(&state, &by, &order_id, r).await?))
}

/// The provider turns down an order, saying why.
#[utoipa::path(post, path = "/api/v1/care/orders/{order_id}/decline", tag = "eldercare", security(("bearer" = [])),
    params(("order_id" = String, Path, description = "The order's id")),
    request_body = Reason,
    responses((status = 200, body = Order), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn decline(
    State(state): State<AppState>,
    by: Principal,
    Path(order_id): Path<String>,
    Json(r): Json<Reason>,
) -> ApiResult<Json<Order>> {
    Ok(Json(service::decline(&state, &by, &order_id, r).await?))
}

/// The provider completes an accepted order.
#[utoipa::path(post, path = "/api/v1/care/orders/{order_id}/complete", tag = "eldercare", security(("bearer" = [])),
    params(("order_id" = String, Path, description = "The order's id")),
    responses((status = 200, body = Order), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn complete(
    State(state): State<AppState>,
    by: Principal,
    Path(order_id): Path<String>,
) -> ApiResult<Json<Order>> {
    Ok(Json(service::complete(&state, &by, &order_id).await?))
}

/// Call an order off before it is done (the elder, her proxy or her community; or the
/// provider, saying why): her subsidised hours come back.
#[utoipa::path(post, path = "/api/v1/care/orders/{order_id}/cancel", tag = "eldercare", security(("bearer" = [])),
    params(("order_id" = String, Path, description = "The order's id")),
    request_body = Reason,
    responses((status = 200, body = Order), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn cancel(
    State(state): State<AppState>,
    by: Principal,
    Path(order_id): Path<String>,
    Json(r): Json<Reason>,
) -> ApiResult<Json<Order>> {
    Ok(Json(service::cancel(&state, &by, &order_id, r).await?))
}

/// The elder (or her proxy) rates a completed order, once.
#[utoipa::path(post, path = "/api/v1/care/orders/{order_id}/rating", tag = "eldercare", security(("bearer" = [])),
    params(("order_id" = String, Path, description = "The order's id")),
    request_body = NewRating,
    responses((status = 200, body = Order), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn rate(
    State(state): State<AppState>,
    by: Principal,
    Path(order_id): Path<String>,
    Json(r): Json<NewRating>,
) -> ApiResult<Json<Order>> {
    Ok(Json(service::rate(&state, &by, &order_id, r).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
struct MonthQuery {
    /// The month, `YYYY-MM` (local time; this month unless given).
    month: Option<String>,
}

/// An elder's subsidised hours for a month: what the rules give her, what her orders hold,
/// what is left, and why.
#[utoipa::path(get, path = "/api/v1/care/elders/{elder_id}/subsidy", tag = "eldercare", security(("bearer" = [])),
    params(("elder_id" = String, Path, description = "The elder's person id"), MonthQuery),
    responses((status = 200, body = SubsidyBalance), (status = 400, body = Problem), (status = 404, body = Problem), (status = 503, body = Problem)))]
async fn balance(
    State(state): State<AppState>,
    by: Principal,
    Path(elder_id): Path<String>,
    Query(q): Query<MonthQuery>,
) -> ApiResult<Json<SubsidyBalance>> {
    Ok(Json(
        service::balance(&state, &by, &elder_id, q.month.as_deref()).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
struct ReportQuery {
    /// The month, `YYYY-MM` (local time).
    month: String,
}

/// The month's care subsidies by provider and by community (the paying department and
/// administrators see all; a provider or a community its own).
#[utoipa::path(get, path = "/api/v1/care/subsidies", tag = "eldercare", security(("bearer" = [])),
    params(ReportQuery),
    responses((status = 200, body = SubsidyReport), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn report(
    State(state): State<AppState>,
    by: Principal,
    Query(q): Query<ReportQuery>,
) -> ApiResult<Json<SubsidyReport>> {
    Ok(Json(service::report(&state, &by, &q.month).await?))
}
