//! The rules' JSON routes: the packages served, and OpenFisca's `/calculate` and
//! `/trace` on them (public: a situation is the caller's own, nothing stored is read).

use axum::extract::State;
use axum::http::StatusCode;
use kernel::api::{Json, Path, Query};
use kernel::auth::Principal;
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
        .routes(routes!(versions, upload_version))
        .routes(routes!(version))
        .routes(routes!(publish_version))
        .routes(routes!(calculate))
        .routes(routes!(trace))
        .routes(routes!(policies, define_policy))
        .routes(routes!(policy))
        .routes(routes!(run_policy))
        .routes(routes!(decisions))
        .routes(routes!(confirm))
        .routes(routes!(review))
        .routes(routes!(replay))
        .routes(routes!(my_entitlements))
        .routes(routes!(decline))
}

/// The rules packages this node serves (public).
#[utoipa::path(get, path = "/api/v1/rules/packages", tag = "rules",
    responses((status = 200, body = Vec<PackageSummary>)))]
async fn packages(State(state): State<AppState>) -> ApiResult<Json<Vec<PackageSummary>>> {
    let book = service::rulebook(&state)?;
    Ok(Json(
        book.packages()
            .iter()
            .map(|p| service::summary(p))
            .collect(),
    ))
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

/// Every version of a package the node kept, newest first, and which is served (public:
/// the rules are the law as written).
#[utoipa::path(get, path = "/api/v1/rules/packages/{name}/versions", tag = "rules",
    params(("name" = String, Path, description = "The package's name")),
    responses((status = 200, body = Vec<PackageVersion>), (status = 404, body = Problem)))]
async fn versions(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<Vec<PackageVersion>>> {
    Ok(Json(service::package_versions(&state, &name).await?))
}

/// Keep a new version of a package from its files (platform admin). It must load and its
/// own tests (`tests/*.yaml`) must pass, else nothing is kept and every problem is named;
/// it is served only once published.
#[utoipa::path(post, path = "/api/v1/rules/packages/{name}/versions", tag = "rules", security(("bearer" = [])),
    params(("name" = String, Path, description = "The package's name")),
    request_body = NewVersion,
    responses((status = 201, body = PackageVersion), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn upload_version(
    State(state): State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
    Json(new): Json<NewVersion>,
) -> ApiResult<(StatusCode, Json<PackageVersion>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::upload_version(&state, &principal, &name, new).await?),
    ))
}

/// A kept version with every file: the rules exactly as a decision made with it read
/// them (public).
#[utoipa::path(get, path = "/api/v1/rules/packages/{name}/versions/{digest}", tag = "rules",
    params(("name" = String, Path, description = "The package's name"), ("digest" = String, Path, description = "The version's digest")),
    responses((status = 200, body = VersionFiles), (status = 404, body = Problem)))]
async fn version(
    State(state): State<AppState>,
    Path((name, digest)): Path<(String, String)>,
) -> ApiResult<Json<VersionFiles>> {
    Ok(Json(
        service::package_version(&state, &name, &digest).await?,
    ))
}

/// Serve a kept version from now on (platform admin); the policies on the package are
/// run again in the background. A version that would break a published policy is refused.
#[utoipa::path(post, path = "/api/v1/rules/packages/{name}/versions/{digest}/publish", tag = "rules", security(("bearer" = [])),
    params(("name" = String, Path, description = "The package's name"), ("digest" = String, Path, description = "The version's digest")),
    responses((status = 200, body = Publication), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn publish_version(
    State(state): State<AppState>,
    principal: Principal,
    Path((name, digest)): Path<(String, String)>,
) -> ApiResult<Json<Publication>> {
    let publication = service::publish_version(&state, &principal, &name, &digest).await?;
    service::rerun_in_background(&state, publication.reruns.clone());
    Ok(Json(publication))
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

/// The benefit policies published, with their legal basis and decisions by status
/// (public).
#[utoipa::path(get, path = "/api/v1/rules/policies", tag = "rules",
    responses((status = 200, body = Vec<Policy>)))]
async fn policies(State(state): State<AppState>) -> ApiResult<Json<Vec<Policy>>> {
    Ok(Json(service::policies(&state).await?))
}

/// Publish a benefit policy: a number variable of a served package's persons, the
/// department that confirms, the legal basis (platform admin or the department's admin).
#[utoipa::path(post, path = "/api/v1/rules/policies", tag = "rules", security(("bearer" = [])),
    request_body = NewPolicy,
    responses((status = 201, body = Policy), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn define_policy(
    State(state): State<AppState>,
    principal: Principal,
    Json(new): Json<NewPolicy>,
) -> ApiResult<(StatusCode, Json<Policy>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::define_policy(&state, &principal, new).await?),
    ))
}

/// One policy (public).
#[utoipa::path(get, path = "/api/v1/rules/policies/{code}", tag = "rules",
    params(("code" = String, Path, description = "The policy's code")),
    responses((status = 200, body = Policy), (status = 404, body = Problem)))]
async fn policy(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<Json<Policy>> {
    Ok(Json(service::policy(&state, &code).await?))
}

/// Run a policy over the whole population for a month (免申即享): new proposals, flags
/// for review, withdrawn proposals; audited under the policy's basis (the department's
/// staff).
#[utoipa::path(post, path = "/api/v1/rules/policies/{code}/run", tag = "rules", security(("bearer" = [])),
    params(("code" = String, Path, description = "The policy's code")),
    request_body = RunRequest,
    responses((status = 200, body = RunReport), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn run_policy(
    State(state): State<AppState>,
    principal: Principal,
    Path(code): Path<String>,
    Json(run): Json<RunRequest>,
) -> ApiResult<Json<RunReport>> {
    Ok(Json(
        service::run_policy(&state, &principal, &code, run.period.as_deref(), &|_| {}).await?,
    ))
}

/// A policy's decisions, names masked, by status (the department's staff; audited).
#[utoipa::path(get, path = "/api/v1/rules/policies/{code}/decisions", tag = "rules", security(("bearer" = [])),
    params(("code" = String, Path, description = "The policy's code"), DecisionQuery),
    responses((status = 200, body = kernel::api::Page<Decision>), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn decisions(
    State(state): State<AppState>,
    principal: Principal,
    Path(code): Path<String>,
    Query(q): Query<DecisionQuery>,
) -> ApiResult<Json<kernel::api::Page<Decision>>> {
    Ok(Json(
        service::decisions(&state, &principal, &code, &q).await?,
    ))
}

/// Confirm proposals in bulk (the department's reviewer or admin): each person is
/// enrolled and notified with the reason and how to decline.
#[utoipa::path(post, path = "/api/v1/rules/policies/{code}/confirm", tag = "rules", security(("bearer" = [])),
    params(("code" = String, Path, description = "The policy's code")),
    request_body = DecisionIds,
    responses((status = 200, body = Object), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn confirm(
    State(state): State<AppState>,
    principal: Principal,
    Path(code): Path<String>,
    Json(ids): Json<DecisionIds>,
) -> ApiResult<Json<serde_json::Value>> {
    let n = service::confirm(&state, &principal, &code, &ids.ids).await?;
    Ok(Json(serde_json::json!({ "confirmed": n })))
}

/// Decide on enrolments flagged for review: `keep: true` keeps paying, `false` ends.
#[utoipa::path(post, path = "/api/v1/rules/policies/{code}/review", tag = "rules", security(("bearer" = [])),
    params(("code" = String, Path, description = "The policy's code")),
    request_body = DecisionIds,
    responses((status = 200, body = Object), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn review(
    State(state): State<AppState>,
    principal: Principal,
    Path(code): Path<String>,
    Json(ids): Json<DecisionIds>,
) -> ApiResult<Json<serde_json::Value>> {
    let keep = ids
        .keep
        .ok_or_else(|| kernel::ApiError::invalid("keep", "say keep: true or keep: false"))?;
    let n = service::review(&state, &principal, &code, &ids.ids, keep).await?;
    Ok(Json(serde_json::json!({ "reviewed": n })))
}

/// What I am entitled to: every published policy — qualifies, soon (from when), or not —
/// with why, and the department's decision (the resident or her proxy).
#[utoipa::path(get, path = "/api/v1/me/entitlements", tag = "rules", security(("bearer" = [])),
    responses((status = 200, body = Vec<Entitlement>), (status = 403, body = Problem)))]
async fn my_entitlements(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Vec<Entitlement>>> {
    Ok(Json(service::my_entitlements(&state, &principal).await?))
}

/// Decline a proposal or an enrolment (the resident or her proxy).
#[utoipa::path(post, path = "/api/v1/me/entitlements/{code}/decline", tag = "rules", security(("bearer" = [])),
    params(("code" = String, Path, description = "The policy's code")),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn decline(
    State(state): State<AppState>,
    principal: Principal,
    Path(code): Path<String>,
) -> ApiResult<StatusCode> {
    service::decline(&state, &principal, &code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replay a decision: its household's situation as the register gave it that month,
/// computed again with the rules it was decided with (kept by digest) and with the rules
/// served now (the department's staff; audited).
#[utoipa::path(post, path = "/api/v1/rules/decisions/{id}/replay", tag = "rules", security(("bearer" = [])),
    params(("id" = String, Path, description = "The decision's id")),
    responses((status = 200, body = Replay), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn replay(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Replay>> {
    Ok(Json(service::replay(&state, &principal, &id).await?))
}
