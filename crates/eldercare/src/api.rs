//! The elder-care JSON routes: elders and their circles, devices and readings, alerts and
//! answers, the alert rules.

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use kernel::api::{Json, Path, Query};
use kernel::auth::Principal;
use kernel::error::Problem;
use kernel::{ApiResult, AppState};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::*;
use crate::{alerts, community as care_community, ingest, service};

/// The largest readings body: 1,000 readings with long ids fit.
pub const MAX_BATCH_BYTES: usize = 512 * 1024;

/// The routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(my_elders, enrol))
        .routes(routes!(elder))
        .routes(routes!(circle, add_member))
        .routes(routes!(change_member, remove_member))
        .routes(routes!(baselines, set_baselines))
        .routes(routes!(elder_devices))
        .routes(routes!(elder_readings))
        .routes(routes!(elder_alerts))
        .routes(routes!(ask_for_help))
        .routes(routes!(open_alerts))
        .routes(routes!(alert))
        .routes(routes!(answer))
        .routes(routes!(register_device))
        .routes(routes!(device))
        .routes(routes!(bind_device, unbind_device))
        .routes(routes!(rules, set_rules))
        .routes(routes!(rejections))
        .routes(routes!(community))
        .routes(routes!(visits, record_visit))
        .merge(crate::orders::api::router())
        .merge(
            OpenApiRouter::new()
                .routes(routes!(send_readings))
                .layer(DefaultBodyLimit::max(MAX_BATCH_BYTES)),
        )
}

/// The elders you look after: yourself if enrolled (or the person you act for), those whose
/// circles you are in, and, for staff, those of your organisations.
#[utoipa::path(get, path = "/api/v1/care/elders", tag = "eldercare", security(("bearer" = [])),
    responses((status = 200, body = Vec<Elder>), (status = 401, body = Problem)))]
async fn my_elders(State(state): State<AppState>, by: Principal) -> ApiResult<Json<Vec<Elder>>> {
    Ok(Json(service::my_elders(&state, &by).await?))
}

/// Enrol an elder in community care (staff of the organisation that will look after her).
#[utoipa::path(post, path = "/api/v1/care/elders", tag = "eldercare", security(("bearer" = [])),
    request_body = NewElder,
    responses((status = 201, body = Elder), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn enrol(
    State(state): State<AppState>,
    by: Principal,
    Json(new): Json<NewElder>,
) -> ApiResult<(StatusCode, Json<Elder>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::enrol(&state, &by, new).await?),
    ))
}

/// One elder (herself, her proxy, her circle, her community's staff; audited when someone
/// else reads).
#[utoipa::path(get, path = "/api/v1/care/elders/{elder_id}", tag = "eldercare", security(("bearer" = [])),
    params(("elder_id" = String, Path, description = "The elder's person id")),
    responses((status = 200, body = Elder), (status = 404, body = Problem)))]
async fn elder(
    State(state): State<AppState>,
    by: Principal,
    Path(elder_id): Path<String>,
) -> ApiResult<Json<Elder>> {
    Ok(Json(service::elder(&state, &by, &elder_id).await?.0))
}

/// An elder's care circle, by level and contact order.
#[utoipa::path(get, path = "/api/v1/care/elders/{elder_id}/circle", tag = "eldercare", security(("bearer" = [])),
    params(("elder_id" = String, Path, description = "The elder's person id")),
    responses((status = 200, body = Vec<Member>), (status = 404, body = Problem)))]
async fn circle(
    State(state): State<AppState>,
    by: Principal,
    Path(elder_id): Path<String>,
) -> ApiResult<Json<Vec<Member>>> {
    Ok(Json(service::circle(&state, &by, &elder_id).await?))
}

/// Add someone to an elder's circle, named by name and resident ID number (the elder, her
/// proxy, her community's staff).
#[utoipa::path(post, path = "/api/v1/care/elders/{elder_id}/circle", tag = "eldercare", security(("bearer" = [])),
    params(("elder_id" = String, Path, description = "The elder's person id")),
    request_body = NewMember,
    responses((status = 201, body = Member), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn add_member(
    State(state): State<AppState>,
    by: Principal,
    Path(elder_id): Path<String>,
    Json(new): Json<NewMember>,
) -> ApiResult<(StatusCode, Json<Member>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::add_member(&state, &by, &elder_id, new).await?),
    ))
}

/// Change a member's level, contact order or quiet hours (a member may change her own order
/// and quiet hours).
#[utoipa::path(put, path = "/api/v1/care/elders/{elder_id}/circle/{member_id}", tag = "eldercare", security(("bearer" = [])),
    params(("elder_id" = String, Path, description = "The elder's person id"), ("member_id" = String, Path, description = "The member's id")),
    request_body = MemberChange,
    responses((status = 200, body = Member), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn change_member(
    State(state): State<AppState>,
    by: Principal,
    Path((elder_id, member_id)): Path<(String, String)>,
    Json(change): Json<MemberChange>,
) -> ApiResult<Json<Member>> {
    Ok(Json(
        service::change_member(&state, &by, &elder_id, &member_id, change).await?,
    ))
}

/// Take someone out of an elder's circle (or leave it yourself).
#[utoipa::path(delete, path = "/api/v1/care/elders/{elder_id}/circle/{member_id}", tag = "eldercare", security(("bearer" = [])),
    params(("elder_id" = String, Path, description = "The elder's person id"), ("member_id" = String, Path, description = "The member's id")),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn remove_member(
    State(state): State<AppState>,
    by: Principal,
    Path((elder_id, member_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    service::remove_member(&state, &by, &elder_id, &member_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An elder's own alert limits (what is left out follows the rules).
#[utoipa::path(get, path = "/api/v1/care/elders/{elder_id}/baselines", tag = "eldercare", security(("bearer" = [])),
    params(("elder_id" = String, Path, description = "The elder's person id")),
    responses((status = 200, body = Baselines), (status = 404, body = Problem)))]
async fn baselines(
    State(state): State<AppState>,
    by: Principal,
    Path(elder_id): Path<String>,
) -> ApiResult<Json<Baselines>> {
    Ok(Json(
        service::elder(&state, &by, &elder_id).await?.0.baselines,
    ))
}

/// Set an elder's own alert limits (her doctor, her community's staff).
#[utoipa::path(put, path = "/api/v1/care/elders/{elder_id}/baselines", tag = "eldercare", security(("bearer" = [])),
    params(("elder_id" = String, Path, description = "The elder's person id")),
    request_body = Baselines,
    responses((status = 200, body = Baselines), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn set_baselines(
    State(state): State<AppState>,
    by: Principal,
    Path(elder_id): Path<String>,
    Json(new): Json<Baselines>,
) -> ApiResult<Json<Baselines>> {
    Ok(Json(
        service::set_baselines(&state, &by, &elder_id, new).await?,
    ))
}

/// An elder's devices.
#[utoipa::path(get, path = "/api/v1/care/elders/{elder_id}/devices", tag = "eldercare", security(("bearer" = [])),
    params(("elder_id" = String, Path, description = "The elder's person id")),
    responses((status = 200, body = Vec<Device>), (status = 404, body = Problem)))]
async fn elder_devices(
    State(state): State<AppState>,
    by: Principal,
    Path(elder_id): Path<String>,
) -> ApiResult<Json<Vec<Device>>> {
    Ok(Json(service::devices(&state, &by, &elder_id).await?))
}

/// How far back to read.
#[derive(Debug, Deserialize, IntoParams)]
struct ReadingsQuery {
    /// Hours back from now (1–744; 24 unless given).
    hours: Option<i64>,
}

/// An elder's readings, newest first (at most 500).
#[utoipa::path(get, path = "/api/v1/care/elders/{elder_id}/readings", tag = "eldercare", security(("bearer" = [])),
    params(("elder_id" = String, Path, description = "The elder's person id"), ReadingsQuery),
    responses((status = 200, body = Vec<Evidence>), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn elder_readings(
    State(state): State<AppState>,
    by: Principal,
    Path(elder_id): Path<String>,
    Query(q): Query<ReadingsQuery>,
) -> ApiResult<Json<Vec<Evidence>>> {
    Ok(Json(
        ingest::readings(&state, &by, &elder_id, q.hours.unwrap_or(24)).await?,
    ))
}

/// An elder's alerts, newest first (at most 100, without timelines).
#[utoipa::path(get, path = "/api/v1/care/elders/{elder_id}/alerts", tag = "eldercare", security(("bearer" = [])),
    params(("elder_id" = String, Path, description = "The elder's person id")),
    responses((status = 200, body = Vec<Alert>), (status = 404, body = Problem)))]
async fn elder_alerts(
    State(state): State<AppState>,
    by: Principal,
    Path(elder_id): Path<String>,
) -> ApiResult<Json<Vec<Alert>>> {
    Ok(Json(alerts::alerts_of(&state, &by, &elder_id).await?))
}

/// Ask for help (the elder herself or her proxy): an SOS alert, told to her circle at once.
#[utoipa::path(post, path = "/api/v1/care/elders/{elder_id}/help", tag = "eldercare", security(("bearer" = [])),
    params(("elder_id" = String, Path, description = "The elder's person id")),
    request_body = HelpRequest,
    responses((status = 201, body = Alert), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn ask_for_help(
    State(state): State<AppState>,
    by: Principal,
    Path(elder_id): Path<String>,
    Json(request): Json<HelpRequest>,
) -> ApiResult<(StatusCode, Json<Alert>)> {
    Ok((
        StatusCode::CREATED,
        Json(alerts::ask_for_help(&state, &by, &elder_id, request).await?),
    ))
}

/// The open alerts of the elders you look after, newest first.
#[utoipa::path(get, path = "/api/v1/care/alerts", tag = "eldercare", security(("bearer" = [])),
    responses((status = 200, body = Vec<Alert>), (status = 401, body = Problem)))]
async fn open_alerts(State(state): State<AppState>, by: Principal) -> ApiResult<Json<Vec<Alert>>> {
    Ok(Json(alerts::open_alerts(&state, &by).await?))
}

/// One alert with its timeline and the readings that raised it.
#[utoipa::path(get, path = "/api/v1/care/alerts/{id}", tag = "eldercare", security(("bearer" = [])),
    params(("id" = String, Path, description = "The alert's id")),
    responses((status = 200, body = Alert), (status = 404, body = Problem)))]
async fn alert(
    State(state): State<AppState>,
    by: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Alert>> {
    Ok(Json(alerts::alert(&state, &by, &id).await?.0))
}

/// Answer an alert: `on_my_way` stops its escalation, `resolved` and `false_alarm` close
/// it.
#[utoipa::path(post, path = "/api/v1/care/alerts/{id}/answers", tag = "eldercare", security(("bearer" = [])),
    params(("id" = String, Path, description = "The alert's id")),
    request_body = NewAnswer,
    responses((status = 200, body = Alert), (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn answer(
    State(state): State<AppState>,
    by: Principal,
    Path(id): Path<String>,
    Json(new): Json<NewAnswer>,
) -> ApiResult<Json<Alert>> {
    Ok(Json(alerts::answer(&state, &by, &id, new).await?))
}

/// Register a device (the staff of the organisation that runs it).
#[utoipa::path(post, path = "/api/v1/care/devices", tag = "eldercare", security(("bearer" = [])),
    request_body = NewDevice,
    responses((status = 201, body = Device), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn register_device(
    State(state): State<AppState>,
    by: Principal,
    Json(new): Json<NewDevice>,
) -> ApiResult<(StatusCode, Json<Device>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::register_device(&state, &by, new).await?),
    ))
}

/// One device (the staff of the organisation that runs it).
#[utoipa::path(get, path = "/api/v1/care/devices/{id}", tag = "eldercare", security(("bearer" = [])),
    params(("id" = String, Path, description = "The device's id")),
    responses((status = 200, body = Device), (status = 404, body = Problem)))]
async fn device(
    State(state): State<AppState>,
    by: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Device>> {
    Ok(Json(service::device(&state, &by, &id).await?))
}

/// Bind a device to an elder.
#[utoipa::path(put, path = "/api/v1/care/devices/{id}/binding", tag = "eldercare", security(("bearer" = [])),
    params(("id" = String, Path, description = "The device's id")),
    request_body = Binding,
    responses((status = 200, body = Device), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn bind_device(
    State(state): State<AppState>,
    by: Principal,
    Path(id): Path<String>,
    Json(binding): Json<Binding>,
) -> ApiResult<Json<Device>> {
    Ok(Json(
        service::bind_device(&state, &by, &id, Some(&binding.elder_id)).await?,
    ))
}

/// Unbind a device (its readings are refused until it is bound again).
#[utoipa::path(delete, path = "/api/v1/care/devices/{id}/binding", tag = "eldercare", security(("bearer" = [])),
    params(("id" = String, Path, description = "The device's id")),
    responses((status = 200, body = Device), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn unbind_device(
    State(state): State<AppState>,
    by: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Device>> {
    Ok(Json(service::bind_device(&state, &by, &id, None).await?))
}

/// Send readings: up to 1,000 per batch, from the staff or system of the organisation
/// running the devices. Each good reading is stored once (sending again is safe), each bad
/// one refused with its reason and counted; the answer says which, and what alerts were
/// raised.
#[utoipa::path(post, path = "/api/v1/care/readings", tag = "eldercare", security(("bearer" = [])),
    request_body = ReadingBatch,
    responses((status = 200, body = IngestReport), (status = 400, body = Problem), (status = 401, body = Problem), (status = 413, body = Problem)))]
async fn send_readings(
    State(state): State<AppState>,
    by: Principal,
    Json(batch): Json<ReadingBatch>,
) -> ApiResult<Json<IngestReport>> {
    Ok(Json(ingest::ingest(&state, &by, &batch.readings).await?))
}

/// The alert rules every elder starts with.
#[utoipa::path(get, path = "/api/v1/care/rules", tag = "eldercare",
    responses((status = 200, body = CareRules)))]
async fn rules(State(state): State<AppState>) -> ApiResult<Json<CareRules>> {
    Ok(Json(service::rules(&state).await?))
}

/// Replace the alert rules (a platform administrator).
#[utoipa::path(put, path = "/api/v1/care/rules", tag = "eldercare", security(("bearer" = [])),
    request_body = CareRules,
    responses((status = 200, body = CareRules), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn set_rules(
    State(state): State<AppState>,
    by: Principal,
    Json(new): Json<CareRules>,
) -> ApiResult<Json<CareRules>> {
    Ok(Json(service::set_rules(&state, &by, new).await?))
}

/// Refused readings counted by device and reason.
#[derive(Debug, Serialize, ToSchema)]
struct RejectionCount {
    /// The device as named.
    device: String,
    /// Why refused.
    reason: String,
    /// How many.
    count: i64,
    /// When last.
    last_at: kernel::time::Timestamp,
}

/// Refused readings, counted by device and reason (staff who run devices).
#[utoipa::path(get, path = "/api/v1/care/rejections", tag = "eldercare", security(("bearer" = [])),
    responses((status = 200, body = Vec<RejectionCount>), (status = 403, body = Problem)))]
async fn rejections(
    State(state): State<AppState>,
    by: Principal,
) -> ApiResult<Json<Vec<RejectionCount>>> {
    Ok(Json(
        ingest::rejections(&state, &by)
            .await?
            .into_iter()
            .map(|(device, reason, count, last_at)| RejectionCount {
                device,
                reason,
                count,
                last_at,
            })
            .collect(),
    ))
}

/// Whose community to list.
#[derive(Debug, Deserialize, IntoParams)]
struct CommunityQuery {
    /// The organisation looking after them (its staff, or an administrator).
    organisation_id: String,
}

/// The elders an organisation looks after, as its community worker sees them: open alerts
/// first, then visits due, then the rest (audited).
#[utoipa::path(get, path = "/api/v1/care/community", tag = "eldercare", security(("bearer" = [])),
    params(CommunityQuery),
    responses((status = 200, body = Vec<CommunityElder>), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn community(
    State(state): State<AppState>,
    by: Principal,
    Query(q): Query<CommunityQuery>,
) -> ApiResult<Json<Vec<CommunityElder>>> {
    Ok(Json(
        care_community::community(&state, &by, &q.organisation_id).await?,
    ))
}

/// An elder's visits, the latest first.
#[utoipa::path(get, path = "/api/v1/care/elders/{elder_id}/visits", tag = "eldercare", security(("bearer" = [])),
    params(("elder_id" = String, Path, description = "The elder's person id")),
    responses((status = 200, body = Vec<Visit>), (status = 404, body = Problem)))]
async fn visits(
    State(state): State<AppState>,
    by: Principal,
    Path(elder_id): Path<String>,
) -> ApiResult<Json<Vec<Visit>>> {
    Ok(Json(care_community::visits(&state, &by, &elder_id).await?))
}

/// Record a visit to an elder (her community's staff, her circle's community worker).
#[utoipa::path(post, path = "/api/v1/care/elders/{elder_id}/visits", tag = "eldercare", security(("bearer" = [])),
    params(("elder_id" = String, Path, description = "The elder's person id")),
    request_body = NewVisit,
    responses((status = 201, body = Visit), (status = 400, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn record_visit(
    State(state): State<AppState>,
    by: Principal,
    Path(elder_id): Path<String>,
    Json(new): Json<NewVisit>,
) -> ApiResult<(StatusCode, Json<Visit>)> {
    Ok((
        StatusCode::CREATED,
        Json(care_community::record_visit(&state, &by, &elder_id, new).await?),
    ))
}
