//! The rules' JSON routes: the packages served, and OpenFisca's `/calculate` and
//! `/trace` on them (public: a situation is the caller's own, nothing stored is read).

use axum::extract::State;
use kernel::api::{Json, Path, Query};
use kernel::error::Problem;
use kernel::{ApiResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::*;
use crate::service;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(packages))
        .routes(routes!(package))
        .routes(routes!(calculate))
        .routes(routes!(trace))
}

/// The rules packages this node serves (public).
#[utoipa::path(get, path = "/api/v1/rules/packages", tag = "rules",
    responses((status = 200, body = Vec<PackageSummary>)))]
async fn packages(State(state): State<AppState>) -> ApiResult<Json<Vec<PackageSummary>>> {
    let book = service::rulebook(&state)?;
    Ok(Json(book.packages().map(|p| service::summary(p)).collect()))
}

/// A package's variables, each with its entity, period, citation and formulas' dates
/// (public).
#[utoipa::path(get, path = "/api/v1/rules/packages/{name}", tag = "rules",
    params(("name" = String, Path, description = "The package's name")),
    responses((status = 200, body = PackageDetail), (status = 404, body = Problem)))]
async fn package(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<PackageDetail>> {
    let package = service::rulebook(&state)?.package(&name, &[])?;
    Ok(Json(service::detail(&package)))
}

/// OpenFisca's `/calculate`: the situation (persons, groups with roles, values by
/// period, `null` to compute) comes back with every `null` filled in. Every problem is
/// named by its place (`persons/Ari/salary/2017-13`) in the problem's `errors` (public).
#[utoipa::path(post, path = "/api/v1/rules/calculate", tag = "rules", params(CalculateQuery),
    request_body(content = Object, description = "An OpenFisca situation"),
    responses((status = 200, body = Object), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn calculate(
    State(state): State<AppState>,
    Query(query): Query<CalculateQuery>,
    Json(situation): Json<serde_json::Value>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(
        service::compute(&state, &query, &situation, false)?.situation,
    ))
}

/// OpenFisca's `/trace`: per `variable<period>` its dependencies, the parameters read
/// and its values; the members of each entity; the calculations asked; and, beyond
/// OpenFisca, `explanations`: for each value asked, why it is what it is for that member,
/// each condition, parameter (value, day in force, citation) and case (public).
#[utoipa::path(post, path = "/api/v1/rules/trace", tag = "rules", params(CalculateQuery),
    request_body(content = Object, description = "An OpenFisca situation"),
    responses((status = 200, body = Object), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn trace(
    State(state): State<AppState>,
    Query(query): Query<CalculateQuery>,
    Json(situation): Json<serde_json::Value>,
) -> ApiResult<Json<serde_json::Value>> {
    let answer = service::compute(&state, &query, &situation, true)?;
    Ok(Json(answer.trace.unwrap_or_default()))
}
