//! Identity's JSON routes: auth, me, regions, organisations, persons, accounts, proxies.

use axum::extract::State;
use axum::http::StatusCode;
use kernel::api::{Json, Page, PageQuery, Path, Query};
use kernel::auth::Principal;
use kernel::error::Problem;
use kernel::{ApiResult, AppState};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::*;
use crate::service;

/// Identity's routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(list_regions, create_region))
        .routes(routes!(get_region))
        .routes(routes!(list_organisations, create_organisation))
        .routes(routes!(get_organisation))
        .routes(routes!(list_staff))
        .routes(routes!(list_persons, create_person))
        .routes(routes!(get_person))
        .routes(routes!(list_accounts, create_account))
        .routes(routes!(disable_account))
        .routes(routes!(enable_account))
        .routes(routes!(list_proxies, grant_proxy))
        .routes(routes!(revoke_proxy))
        .routes(routes!(list_tags, create_tag))
        .routes(routes!(tag_members, change_tag))
        .routes(routes!(my_tags))
}

/// Sign in with a username and password; returns a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = Problem), (status = 429, body = Problem)))]
async fn login(
    State(state): State<AppState>,
    Json(request): Json<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let (response, _) = service::login(&state, request).await?;
    Ok(Json(response))
}

/// End the current session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem)))]
async fn logout(State(state): State<AppState>, principal: Principal) -> ApiResult<StatusCode> {
    service::logout(&state, &principal).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in account, its roles and its person (masked).
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    params(("x-act-for" = Option<String>, Header, description = "Person id to act for as a proxy")),
    responses((status = 200, body = Me), (status = 401, body = Problem)))]
async fn me(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Me>> {
    Ok(Json(service::me(&state, &principal).await?))
}

/// Filter for regions.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct RegionFilter {
    /// Only children of this region.
    parent: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

/// Regions in code order.
#[utoipa::path(get, path = "/api/v1/regions", tag = "identity", security(("bearer" = [])),
    params(RegionFilter), responses((status = 200, body = Page<Region>)))]
async fn list_regions(
    State(state): State<AppState>,
    _principal: Principal,
    Query(filter): Query<RegionFilter>,
) -> ApiResult<Json<Page<Region>>> {
    let page = PageQuery {
        cursor: filter.cursor,
        limit: filter.limit,
    };
    Ok(Json(
        service::list_regions(&state, filter.parent.as_deref(), &page).await?,
    ))
}

/// Create a region (platform admin).
#[utoipa::path(post, path = "/api/v1/regions", tag = "identity", security(("bearer" = [])),
    request_body = NewRegion, responses((status = 201, body = Region), (status = 400, body = Problem), (status = 409, body = Problem)))]
async fn create_region(
    State(state): State<AppState>,
    principal: Principal,
    Json(new): Json<NewRegion>,
) -> ApiResult<(StatusCode, Json<Region>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::create_region(&state, &principal, new).await?),
    ))
}

/// One region.
#[utoipa::path(get, path = "/api/v1/regions/{code}", tag = "identity", security(("bearer" = [])),
    params(("code" = String, Path)), responses((status = 200, body = Region), (status = 404, body = Problem)))]
async fn get_region(
    State(state): State<AppState>,
    _principal: Principal,
    Path(code): Path<String>,
) -> ApiResult<Json<Region>> {
    Ok(Json(service::get_region(&state, &code).await?))
}

/// Filter for organisations.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct OrgFilter {
    /// Only this kind.
    kind: Option<OrgKind>,
    cursor: Option<String>,
    limit: Option<u32>,
}

/// Organisations.
#[utoipa::path(get, path = "/api/v1/organisations", tag = "identity", security(("bearer" = [])),
    params(OrgFilter), responses((status = 200, body = Page<Organisation>)))]
async fn list_organisations(
    State(state): State<AppState>,
    _principal: Principal,
    Query(filter): Query<OrgFilter>,
) -> ApiResult<Json<Page<Organisation>>> {
    let page = PageQuery {
        cursor: filter.cursor,
        limit: filter.limit,
    };
    Ok(Json(
        service::list_organisations(&state, filter.kind, &page).await?,
    ))
}

/// Register an organisation (platform admin).
#[utoipa::path(post, path = "/api/v1/organisations", tag = "identity", security(("bearer" = [])),
    request_body = NewOrganisation, responses((status = 201, body = Organisation), (status = 400, body = Problem), (status = 409, body = Problem)))]
async fn create_organisation(
    State(state): State<AppState>,
    principal: Principal,
    Json(new): Json<NewOrganisation>,
) -> ApiResult<(StatusCode, Json<Organisation>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::create_organisation(&state, &principal, new).await?),
    ))
}

/// One organisation.
#[utoipa::path(get, path = "/api/v1/organisations/{id}", tag = "identity", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = Organisation), (status = 404, body = Problem)))]
async fn get_organisation(
    State(state): State<AppState>,
    _principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Organisation>> {
    Ok(Json(service::get_organisation(&state, &id).await?))
}

/// The organisation's staff accounts (its admin or a platform admin).
#[utoipa::path(get, path = "/api/v1/organisations/{id}/staff", tag = "identity", security(("bearer" = [])),
    params(("id" = String, Path), PageQuery), responses((status = 200, body = Page<Account>), (status = 403, body = Problem)))]
async fn list_staff(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<Account>>> {
    Ok(Json(
        service::list_accounts(&state, &principal, Some(&id), &page).await?,
    ))
}

/// Filter for persons.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct PersonFilter {
    /// Region code prefix (e.g. a district's six digits).
    region: Option<String>,
    /// Part of the name.
    name: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

/// Persons, masked (platform admin; the listing is audited).
#[utoipa::path(get, path = "/api/v1/persons", tag = "identity", security(("bearer" = [])),
    params(PersonFilter), responses((status = 200, body = Page<PersonSummary>), (status = 403, body = Problem)))]
async fn list_persons(
    State(state): State<AppState>,
    principal: Principal,
    Query(filter): Query<PersonFilter>,
) -> ApiResult<Json<Page<PersonSummary>>> {
    let page = PageQuery {
        cursor: filter.cursor,
        limit: filter.limit,
    };
    Ok(Json(
        service::list_persons(
            &state,
            &principal,
            filter.region.as_deref(),
            filter.name.as_deref(),
            &page,
        )
        .await?,
    ))
}

/// Register a person (platform admin). Resident ID, phone and address are encrypted at rest.
#[utoipa::path(post, path = "/api/v1/persons", tag = "identity", security(("bearer" = [])),
    request_body = NewPerson, responses((status = 201, body = PersonSummary), (status = 400, body = Problem), (status = 409, body = Problem)))]
async fn create_person(
    State(state): State<AppState>,
    principal: Principal,
    Json(new): Json<NewPerson>,
) -> ApiResult<(StatusCode, Json<PersonSummary>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::create_person(&state, &principal, new).await?),
    ))
}

/// Why a person's record is read.
#[derive(Deserialize, IntoParams, ToSchema, Serialize)]
#[serde(deny_unknown_fields)]
struct ReadPurpose {
    /// The purpose of the read (required for anyone but the person and her proxy).
    purpose: Option<String>,
}

/// A person's full record: the person herself, her proxy, or an administrator who
/// states a purpose. Every read by someone else is audited and shown in her footprint.
#[utoipa::path(get, path = "/api/v1/persons/{id}", tag = "identity", security(("bearer" = [])),
    params(("id" = String, Path), ReadPurpose),
    responses((status = 200, body = PersonDetail), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_person(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Query(q): Query<ReadPurpose>,
) -> ApiResult<impl axum::response::IntoResponse> {
    let detail = service::read_person(&state, &principal, &id, q.purpose.as_deref()).await?;
    // Personal data in full: never kept by a cache.
    Ok((
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        Json(detail),
    ))
}

/// All accounts (platform admin).
#[utoipa::path(get, path = "/api/v1/accounts", tag = "identity", security(("bearer" = [])),
    params(PageQuery), responses((status = 200, body = Page<Account>), (status = 403, body = Problem)))]
async fn list_accounts(
    State(state): State<AppState>,
    principal: Principal,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<Account>>> {
    Ok(Json(
        service::list_accounts(&state, &principal, None, &page).await?,
    ))
}

/// Create an account: platform admins any; an organisation's admin its own staff.
#[utoipa::path(post, path = "/api/v1/accounts", tag = "identity", security(("bearer" = [])),
    request_body = NewAccount, responses((status = 201, body = Account), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn create_account(
    State(state): State<AppState>,
    principal: Principal,
    Json(new): Json<NewAccount>,
) -> ApiResult<(StatusCode, Json<Account>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::create_account(&state, Some(&principal), new).await?),
    ))
}

/// Block sign-in for an account and end its sessions.
#[utoipa::path(post, path = "/api/v1/accounts/{id}/disable", tag = "identity", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = Account), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn disable_account(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Account>> {
    Ok(Json(
        service::set_account_disabled(&state, &principal, &id, true).await?,
    ))
}

/// Allow sign-in again.
#[utoipa::path(post, path = "/api/v1/accounts/{id}/enable", tag = "identity", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = Account), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn enable_account(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Account>> {
    Ok(Json(
        service::set_account_disabled(&state, &principal, &id, false).await?,
    ))
}

/// Authorisations a person gave and received.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct MyProxies {
    /// I authorised these people to act for me.
    pub given: Vec<ProxyAuthorisation>,
    /// These people authorised me to act for them.
    pub received: Vec<ProxyAuthorisation>,
}

/// Proxy authorisations (代办) given and received.
#[utoipa::path(get, path = "/api/v1/me/proxies", tag = "identity", security(("bearer" = [])),
    responses((status = 200, body = MyProxies)))]
async fn list_proxies(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<MyProxies>> {
    let (given, received) = service::my_proxies(&state, &principal).await?;
    Ok(Json(MyProxies { given, received }))
}

/// Authorise another person to act for me.
#[utoipa::path(post, path = "/api/v1/me/proxies", tag = "identity", security(("bearer" = [])),
    request_body = NewProxy, responses((status = 201, body = ProxyAuthorisation), (status = 400, body = Problem)))]
async fn grant_proxy(
    State(state): State<AppState>,
    principal: Principal,
    Json(new): Json<NewProxy>,
) -> ApiResult<(StatusCode, Json<ProxyAuthorisation>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::grant_proxy(&state, &principal, new).await?),
    ))
}

/// Revoke an authorisation (either person may).
#[utoipa::path(post, path = "/api/v1/me/proxies/{id}/revoke", tag = "identity", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = ProxyAuthorisation), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn revoke_proxy(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<ProxyAuthorisation>> {
    Ok(Json(service::revoke_proxy(&state, &principal, &id).await?))
}

/// Every tag residents can carry, with member counts (an organisation's staff).
#[utoipa::path(get, path = "/api/v1/tags", tag = "identity", security(("bearer" = [])),
    responses((status = 200, body = Vec<Tag>), (status = 403, body = Problem)))]
async fn list_tags(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Vec<Tag>>> {
    Ok(Json(service::list_tags(&state, &principal).await?))
}

/// Define a tag kept by one organisation (platform administrator).
#[utoipa::path(post, path = "/api/v1/tags", tag = "identity", security(("bearer" = [])),
    request_body = NewTag,
    responses((status = 201, body = Tag), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn create_tag(
    State(state): State<AppState>,
    principal: Principal,
    Json(new): Json<NewTag>,
) -> ApiResult<(StatusCode, Json<Tag>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::create_tag(&state, &principal, new).await?),
    ))
}

/// The residents carrying a tag, masked (its organisation's staff).
#[utoipa::path(get, path = "/api/v1/tags/{code}/persons", tag = "identity", security(("bearer" = [])),
    params(("code" = String, Path), PageQuery),
    responses((status = 200, body = Page<PersonSummary>), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn tag_members(
    State(state): State<AppState>,
    principal: Principal,
    Path(code): Path<String>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<PersonSummary>>> {
    Ok(Json(
        service::tag_members(&state, &principal, &code, &page).await?,
    ))
}

/// Put residents on a tag and take others off (its organisation's staff); each change is
/// in the resident's footprint with the purpose given.
#[utoipa::path(post, path = "/api/v1/tags/{code}/persons", tag = "identity", security(("bearer" = [])),
    params(("code" = String, Path)), request_body = TagChange,
    responses((status = 200, body = TagChanged), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn change_tag(
    State(state): State<AppState>,
    principal: Principal,
    Path(code): Path<String>,
    Json(change): Json<TagChange>,
) -> ApiResult<Json<TagChanged>> {
    Ok(Json(
        service::change_tag(&state, &principal, &code, change).await?,
    ))
}

/// The tags I carry and who put me on each (a proxy with `profile`: the person's).
#[utoipa::path(get, path = "/api/v1/me/tags", tag = "identity", security(("bearer" = [])),
    responses((status = 200, body = Vec<PersonTag>), (status = 403, body = Problem)))]
async fn my_tags(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Vec<PersonTag>>> {
    Ok(Json(service::my_tags(&state, &principal).await?))
}
