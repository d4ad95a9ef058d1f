//! One-stop services' JSON routes: the catalogue (public), applications (residents and
//! their proxies), cases (departments), the calendar and the statistics.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kernel::api::{Json, Page, PageQuery, Path, Query};
use kernel::auth::Principal;
use kernel::error::Problem;
use kernel::{ApiError, ApiResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::*;
use crate::service::{self, QueueEntry};

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(catalogue, define_item))
        .routes(routes!(get_item, update_item))
        .routes(routes!(life_events, define_life_event))
        .routes(routes!(get_life_event))
        .routes(routes!(calendar))
        .routes(routes!(set_day, delete_day))
        .routes(routes!(statistics))
        .routes(routes!(start))
        .routes(routes!(my_applications))
        .routes(routes!(application))
        .routes(routes!(update_form))
        .routes(routes!(upload))
        .routes(routes!(submit))
        .routes(routes!(resubmit))
        .routes(routes!(rate))
        .routes(routes!(download))
        .routes(routes!(queue))
        .routes(routes!(case))
        .routes(routes!(act))
}

/// The service catalogue, searched by plain words or a life situation (public).
#[utoipa::path(get, path = "/api/v1/services/items", tag = "services", params(CatalogueQuery),
    responses((status = 200, body = Vec<ServiceItem>)))]
async fn catalogue(
    State(state): State<AppState>,
    Query(q): Query<CatalogueQuery>,
) -> ApiResult<Json<Vec<ServiceItem>>> {
    Ok(Json(service::catalogue(&state, &q).await?))
}

/// Define a service item (platform admin or the lead department's admin).
#[utoipa::path(post, path = "/api/v1/services/items", tag = "services", security(("bearer" = [])),
    request_body = ServiceDefinition,
    responses((status = 201, body = ServiceItem), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn define_item(
    State(state): State<AppState>,
    principal: Principal,
    Json(def): Json<ServiceDefinition>,
) -> ApiResult<(StatusCode, Json<ServiceItem>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::define_item(&state, &principal, def).await?),
    ))
}

/// One service item: what it needs, how long it takes (public).
#[utoipa::path(get, path = "/api/v1/services/items/{code}", tag = "services", params(("code" = String, Path)),
    responses((status = 200, body = ServiceItem), (status = 404, body = Problem)))]
async fn get_item(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<Json<ServiceItem>> {
    Ok(Json(service::get_item(&state, &code).await?))
}

/// Replace a service item's definition.
#[utoipa::path(put, path = "/api/v1/services/items/{code}", tag = "services", security(("bearer" = [])),
    params(("code" = String, Path)), request_body = ServiceDefinition,
    responses((status = 200, body = ServiceItem), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn update_item(
    State(state): State<AppState>,
    principal: Principal,
    Path(code): Path<String>,
    Json(def): Json<ServiceDefinition>,
) -> ApiResult<Json<ServiceItem>> {
    Ok(Json(
        service::update_item(&state, &principal, &code, def).await?,
    ))
}

/// Life events (一件事一次办), with their items (public).
#[utoipa::path(get, path = "/api/v1/services/life-events", tag = "services",
    responses((status = 200, body = Vec<LifeEvent>)))]
async fn life_events(State(state): State<AppState>) -> ApiResult<Json<Vec<LifeEvent>>> {
    Ok(Json(service::life_events(&state).await?))
}

/// Define a life event bundling items (platform admin).
#[utoipa::path(post, path = "/api/v1/services/life-events", tag = "services", security(("bearer" = [])),
    request_body = NewLifeEvent,
    responses((status = 201, body = LifeEvent), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn define_life_event(
    State(state): State<AppState>,
    principal: Principal,
    Json(new): Json<NewLifeEvent>,
) -> ApiResult<(StatusCode, Json<LifeEvent>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::define_life_event(&state, &principal, new).await?),
    ))
}

/// One life event (public).
#[utoipa::path(get, path = "/api/v1/services/life-events/{code}", tag = "services", params(("code" = String, Path)),
    responses((status = 200, body = LifeEvent), (status = 404, body = Problem)))]
async fn get_life_event(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<Json<LifeEvent>> {
    Ok(Json(service::get_life_event(&state, &code).await?))
}

/// The holiday calendar of a year: holidays and make-up working days (public).
#[utoipa::path(get, path = "/api/v1/services/calendar", tag = "services", params(CalendarQuery),
    responses((status = 200, body = Vec<CalendarDay>)))]
async fn calendar(
    State(state): State<AppState>,
    Query(q): Query<CalendarQuery>,
) -> ApiResult<Json<Vec<CalendarDay>>> {
    Ok(Json(service::calendar(&state, q.year).await?))
}

/// Set a day of the holiday calendar (platform admin).
#[utoipa::path(put, path = "/api/v1/services/calendar/{day}", tag = "services", security(("bearer" = [])),
    params(("day" = String, Path)), request_body = CalendarEntry,
    responses((status = 200, body = CalendarDay), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn set_day(
    State(state): State<AppState>,
    principal: Principal,
    Path(day): Path<String>,
    Json(entry): Json<CalendarEntry>,
) -> ApiResult<Json<CalendarDay>> {
    Ok(Json(
        service::set_day(&state, &principal, &day, entry).await?,
    ))
}

/// Remove a day from the holiday calendar (platform admin).
#[utoipa::path(delete, path = "/api/v1/services/calendar/{day}", tag = "services", security(("bearer" = [])),
    params(("day" = String, Path)), responses((status = 204), (status = 404, body = Problem)))]
async fn delete_day(
    State(state): State<AppState>,
    principal: Principal,
    Path(day): Path<String>,
) -> ApiResult<StatusCode> {
    service::delete_day(&state, &principal, &day).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Figures per item and department: applications, on-time rate, days vs statutory,
/// materials without upload, satisfaction (public).
#[utoipa::path(get, path = "/api/v1/services/statistics", tag = "services",
    responses((status = 200, body = Statistics)))]
async fn statistics(State(state): State<AppState>) -> ApiResult<Json<Statistics>> {
    Ok(Json(service::statistics(&state).await?))
}

/// Start an application (a draft), pre-filled and with the materials the government
/// holds attached when `fetch` is true.
#[utoipa::path(post, path = "/api/v1/applications", tag = "services", security(("bearer" = [])),
    request_body = NewApplication,
    responses((status = 201, body = Application), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn start(
    State(state): State<AppState>,
    principal: Principal,
    Json(new): Json<NewApplication>,
) -> ApiResult<(StatusCode, Json<Application>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::start(&state, &principal, new).await?),
    ))
}

/// My applications, newest first.
#[utoipa::path(get, path = "/api/v1/me/applications", tag = "services", security(("bearer" = [])),
    params(PageQuery), responses((status = 200, body = Page<ApplicationSummary>), (status = 403, body = Problem)))]
async fn my_applications(
    State(state): State<AppState>,
    principal: Principal,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<ApplicationSummary>>> {
    Ok(Json(
        service::my_applications(&state, &principal, &page).await?,
    ))
}

/// One application with its cases, materials and timeline.
#[utoipa::path(get, path = "/api/v1/applications/{id}", tag = "services", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = Application), (status = 404, body = Problem)))]
async fn application(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Application>> {
    Ok(Json(service::application(&state, &principal, &id).await?))
}

/// Set form values of a draft (or of an application awaiting 补正).
#[utoipa::path(put, path = "/api/v1/applications/{id}/form", tag = "services", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = FormUpdate,
    responses((status = 200, body = Application), (status = 400, body = Problem), (status = 409, body = Problem)))]
async fn update_form(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(update): Json<FormUpdate>,
) -> ApiResult<Json<Application>> {
    Ok(Json(
        service::update_form(&state, &principal, &id, update).await?,
    ))
}

/// Upload a material (the body is the file: PDF, JPEG or PNG, read from its content).
#[utoipa::path(put, path = "/api/v1/applications/{id}/materials/{key}", tag = "services", security(("bearer" = [])),
    params(("id" = String, Path), ("key" = String, Path), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = AttachedMaterial), (status = 413, body = Problem), (status = 415, body = Problem)))]
async fn upload(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, key)): Path<(String, String)>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<AttachedMaterial>> {
    let max = state.config.max_upload_bytes;
    let limit = usize::try_from(max.saturating_add(1)).unwrap_or(usize::MAX);
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::PayloadTooLarge(format!("the file is larger than {max} bytes")))?;
    let claimed = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    Ok(Json(
        service::upload(
            &state,
            &principal,
            &id,
            &key,
            q.name.as_deref().unwrap_or("upload"),
            claimed,
            &bytes,
        )
        .await?,
    ))
}

/// Submit a draft: checked field by field; cases start at each department.
#[utoipa::path(post, path = "/api/v1/applications/{id}/submit", tag = "services", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Application), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn submit(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Application>> {
    Ok(Json(service::submit(&state, &principal, &id).await?))
}

/// Resubmit after 补正: paused cases resume, their clocks moved on.
#[utoipa::path(post, path = "/api/v1/applications/{id}/resubmit", tag = "services", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Application), (status = 400, body = Problem), (status = 409, body = Problem)))]
async fn resubmit(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Application>> {
    Ok(Json(service::resubmit(&state, &principal, &id).await?))
}

/// Rate ended cases (好差评), once each.
#[utoipa::path(post, path = "/api/v1/applications/{id}/rating", tag = "services", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = NewRating,
    responses((status = 200, body = Application), (status = 400, body = Problem), (status = 409, body = Problem)))]
async fn rate(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(rating): Json<NewRating>,
) -> ApiResult<Json<Application>> {
    Ok(Json(service::rate(&state, &principal, &id, rating).await?))
}

/// An uploaded file (its applicant, or the staff handling it: audited).
#[utoipa::path(get, path = "/api/v1/uploads/{id}", tag = "services", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, content_type = "application/octet-stream"), (status = 404, body = Problem)))]
async fn download(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    file_response(service::download(&state, &principal, &id).await?)
}

/// A file as a download (never shown inline: it came from a resident).
pub fn file_response(
    (content_type, name, bytes): (String, String, Vec<u8>),
) -> ApiResult<Response> {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        kernel::pages::urlencode(&name)
    );
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}

/// My department's queue: open cases soonest-due first, `escalated` (overdue), `ended`.
#[utoipa::path(get, path = "/api/v1/cases", tag = "services", security(("bearer" = [])),
    params(QueueQuery), responses((status = 200, body = Vec<QueueEntry>), (status = 403, body = Problem)))]
async fn queue(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<QueueQuery>,
) -> ApiResult<Json<Vec<QueueEntry>>> {
    Ok(Json(service::queue(&state, &principal, &q).await?))
}

/// A case with its application (the reading is audited).
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "services", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = CaseDetail), (status = 404, body = Problem)))]
async fn case(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<CaseDetail>> {
    let (case, application) = service::case(&state, &principal, &id).await?;
    Ok(Json(CaseDetail { case, application }))
}

/// Act on a case's current step: complete, supplement (补正) or reject.
#[utoipa::path(post, path = "/api/v1/cases/{id}/actions", tag = "services", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = CaseAction,
    responses((status = 200, body = Case), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn act(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(action): Json<CaseAction>,
) -> ApiResult<Json<Case>> {
    Ok(Json(service::act(&state, &principal, &id, action).await?))
}
