//! Messaging's JSON routes: sending notices, the sender's view, the resident's inbox.

use axum::extract::State;
use axum::http::StatusCode;
use kernel::api::{Json, Page, PageQuery, Path, Query};
use kernel::auth::Principal;
use kernel::error::Problem;
use kernel::{ApiResult, AppState};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::*;
use crate::service;

/// Messaging's routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sent, send))
        .routes(routes!(message))
        .routes(routes!(inbox))
        .routes(routes!(unread))
        .routes(routes!(open))
        .routes(routes!(acknowledge))
        .routes(routes!(deliveries))
        .routes(routes!(my_settings, put_settings))
        .routes(routes!(webhooks, create_webhook))
        .routes(routes!(remove_webhook))
        .routes(routes!(outbox))
}

/// Send a notice to an audience (an organisation's staff): fanned out into every matching
/// resident's inbox at once.
#[utoipa::path(post, path = "/api/v1/messages", tag = "messaging", security(("bearer" = [])),
    request_body = NewMessage,
    responses((status = 201, body = Message), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn send(
    State(state): State<AppState>,
    principal: Principal,
    Json(new): Json<NewMessage>,
) -> ApiResult<(StatusCode, Json<Message>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::send(&state, &principal, new).await?),
    ))
}

/// The notices my organisation sent, with read and acknowledgement counts.
#[utoipa::path(get, path = "/api/v1/messages", tag = "messaging", security(("bearer" = [])),
    params(PageQuery), responses((status = 200, body = Page<Message>), (status = 403, body = Problem)))]
async fn sent(
    State(state): State<AppState>,
    principal: Principal,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<Message>>> {
    Ok(Json(service::sent(&state, &principal, &page).await?))
}

/// One notice my organisation sent.
#[utoipa::path(get, path = "/api/v1/messages/{id}", tag = "messaging", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = Message), (status = 404, body = Problem)))]
async fn message(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Message>> {
    Ok(Json(service::message(&state, &principal, &id).await?))
}

/// My inbox, newest first (a proxy with `profile`: the person's).
#[utoipa::path(get, path = "/api/v1/me/inbox", tag = "messaging", security(("bearer" = [])),
    params(PageQuery), responses((status = 200, body = Page<InboxItem>), (status = 403, body = Problem)))]
async fn inbox(
    State(state): State<AppState>,
    principal: Principal,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<InboxItem>>> {
    Ok(Json(service::inbox(&state, &principal, &page).await?))
}

/// How many notices are unread, and how many await my acknowledgement.
#[utoipa::path(get, path = "/api/v1/me/inbox/unread", tag = "messaging", security(("bearer" = [])),
    responses((status = 200, body = Unread), (status = 403, body = Problem)))]
async fn unread(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Unread>> {
    Ok(Json(service::unread(&state, &principal).await?))
}

/// Open a notice: marks it read (its sender sees the receipt).
#[utoipa::path(post, path = "/api/v1/me/inbox/{id}/read", tag = "messaging", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = InboxItem), (status = 404, body = Problem)))]
async fn open(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<InboxItem>> {
    Ok(Json(service::open(&state, &principal, &id).await?))
}

/// Acknowledge a notice that asks for it.
#[utoipa::path(post, path = "/api/v1/me/inbox/{id}/ack", tag = "messaging", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = InboxItem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn acknowledge(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<InboxItem>> {
    Ok(Json(service::acknowledge(&state, &principal, &id).await?))
}

/// The delivery log of a notice my organisation sent: per channel pending, sent and
/// failed, and the deliveries retrying or given up with their last error.
#[utoipa::path(get, path = "/api/v1/messages/{id}/deliveries", tag = "messaging", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = DeliveryReport), (status = 404, body = Problem)))]
async fn deliveries(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<DeliveryReport>> {
    Ok(Json(service::deliveries(&state, &principal, &id).await?))
}

/// How notices reach me beyond the inbox (SMS, e-mail).
#[utoipa::path(get, path = "/api/v1/me/notification-settings", tag = "messaging", security(("bearer" = [])),
    responses((status = 200, body = NotificationSettings), (status = 403, body = Problem)))]
async fn my_settings(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<NotificationSettings>> {
    Ok(Json(service::my_settings(&state, &principal).await?))
}

/// Change how notices reach me; an e-mail address is kept encrypted.
#[utoipa::path(put, path = "/api/v1/me/notification-settings", tag = "messaging", security(("bearer" = [])),
    request_body = NewNotificationSettings,
    responses((status = 200, body = NotificationSettings), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn put_settings(
    State(state): State<AppState>,
    principal: Principal,
    Json(new): Json<NewNotificationSettings>,
) -> ApiResult<Json<NotificationSettings>> {
    Ok(Json(service::put_settings(&state, &principal, new).await?))
}

/// My organisation's webhooks.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "messaging", security(("bearer" = [])),
    responses((status = 200, body = Vec<Webhook>), (status = 403, body = Problem)))]
async fn webhooks(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Vec<Webhook>>> {
    Ok(Json(service::webhooks(&state, &principal).await?))
}

/// Register a webhook that receives every broadcast notice (optionally for one region),
/// signed with the secret returned here once.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "messaging", security(("bearer" = [])),
    request_body = NewWebhook,
    responses((status = 201, body = WebhookCreated), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn create_webhook(
    State(state): State<AppState>,
    principal: Principal,
    Json(new): Json<NewWebhook>,
) -> ApiResult<(StatusCode, Json<WebhookCreated>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::create_webhook(&state, &principal, new).await?),
    ))
}

/// Remove one of my organisation's webhooks.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "messaging", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 204), (status = 404, body = Problem)))]
async fn remove_webhook(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    service::remove_webhook(&state, &principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What the outbox channel wrote, newest first (platform administrator; the demo sends
/// SMS and e-mail here instead of to real phones and mailboxes).
#[utoipa::path(get, path = "/api/v1/outbox", tag = "messaging", security(("bearer" = [])),
    responses((status = 200, body = Vec<OutboxEntry>), (status = 403, body = Problem)))]
async fn outbox(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Vec<OutboxEntry>>> {
    Ok(Json(service::outbox(&state, &principal).await?))
}
