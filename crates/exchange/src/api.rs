//! The exchange's JSON routes: catalogue, DCAT, requests, decisions, agreements, record
//! import, the gateway and its keys, traffic, and residents' consents.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kernel::api::{Json, Page, PageQuery, Path, Query};
use kernel::auth::{MaybePrincipal, Principal};
use kernel::error::Problem;
use kernel::{ApiError, ApiResult, AppState};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::*;
use crate::{gateway, service};

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
        .routes(routes!(gateway_record))
        .routes(routes!(gateway_batch))
        .routes(routes!(keys))
        .routes(routes!(rotate_key))
        .routes(routes!(traffic))
        .routes(routes!(my_consents, grant_consent))
        .routes(routes!(revoke_consent))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(import_records))
                .layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES)),
        )
}

/// Largest import body (32 MiB: about 100,000 records of a dozen fields).
pub const MAX_IMPORT_BYTES: usize = 32 * 1024 * 1024;

/// Which fields a gateway call wants.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct FieldsQuery {
    /// Comma-separated field names (default: every field of the agreement).
    fields: Option<String>,
}

/// The exchange gateway: one subject's record of a resource, with only the agreed fields,
/// signed with the provider's key (RFC 9421 `Signature` over the RFC 9530
/// `Content-Digest`; keys at `/api/v1/exchange/keys`) and audited. For an organisation's
/// system account; refusals name their reason (`no_agreement`, `agreement_expired`,
/// `agreement_revoked`, `no_consent`, `consent_revoked`, `consent_expired`,
/// `field_not_agreed`, `too_many_requests`, …) and are audited too.
#[utoipa::path(get, path = "/api/v1/exchange/{resource}/records/{subject}", tag = "gateway",
    security(("bearer" = [])),
    params(("resource" = String, Path, description = "Resource code or id"),
           ("subject" = String, Path, description = "Resident ID or unified social credit code"),
           FieldsQuery),
    responses((status = 200, body = GatewayRecord, description = "Signed record"),
              (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 429, body = Problem), (status = 502, body = Problem)))]
async fn gateway_record(
    State(state): State<AppState>,
    MaybePrincipal(caller): MaybePrincipal,
    Path((resource, subject)): Path<(String, String)>,
    Query(q): Query<FieldsQuery>,
) -> ApiResult<Response> {
    let Some(principal) = caller else {
        return Err(gateway::refuse_unauthenticated(&state, &resource).await);
    };
    gateway::fetch_one(&state, &principal, &resource, &subject, q.fields.as_deref()).await
}

/// The gateway for up to 1,000 subjects at once: each served, refused and audited as if
/// alone; the answer is signed as a whole.
#[utoipa::path(post, path = "/api/v1/exchange/{resource}/records:batch", tag = "gateway",
    security(("bearer" = [])),
    params(("resource" = String, Path, description = "Resource code or id")),
    request_body = BatchQuery,
    responses((status = 200, body = BatchAnswer, description = "Signed results"),
              (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 413, body = Problem), (status = 429, body = Problem)))]
async fn gateway_batch(
    State(state): State<AppState>,
    MaybePrincipal(caller): MaybePrincipal,
    Path(resource): Path<String>,
    Json(query): Json<BatchQuery>,
) -> ApiResult<Response> {
    let Some(principal) = caller else {
        return Err(gateway::refuse_unauthenticated(&state, &resource).await);
    };
    gateway::fetch_batch(&state, &principal, &resource, query).await
}

/// The providers' signing keys, current and retired, as a JWKS (anyone may).
#[utoipa::path(get, path = "/api/v1/exchange/keys", tag = "gateway",
    responses((status = 200, body = KeySet)))]
async fn keys(State(state): State<AppState>) -> ApiResult<Json<KeySet>> {
    Ok(Json(gateway::published_keys(&state).await?))
}

/// Whose key (platform admins; others default to their own organisation).
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct OrgQuery {
    /// The organisation.
    organisation_id: Option<String>,
}

/// Rotate my organisation's signing key; the old one stays published.
#[utoipa::path(post, path = "/api/v1/exchange/keys/rotate", tag = "gateway", security(("bearer" = [])),
    params(OrgQuery),
    responses((status = 200, body = PublishedKey), (status = 403, body = Problem)))]
async fn rotate_key(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<OrgQuery>,
) -> ApiResult<Json<PublishedKey>> {
    Ok(Json(
        gateway::rotate_key(&state, &principal, q.organisation_id.as_deref()).await?,
    ))
}

/// My organisation's gateway traffic over 30 days: calls to its resources per consumer,
/// and its own calls.
#[utoipa::path(get, path = "/api/v1/exchange/traffic", tag = "gateway", security(("bearer" = [])),
    params(OrgQuery),
    responses((status = 200, body = Traffic), (status = 403, body = Problem)))]
async fn traffic(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<OrgQuery>,
) -> ApiResult<Json<Traffic>> {
    Ok(Json(
        service::traffic(&state, &principal, q.organisation_id.as_deref()).await?,
    ))
}

/// Load records into a hosted resource (its provider's officers): CSV with a header row
/// (`Content-Type: text/csv`) or JSON lines (`application/x-ndjson`), each record keyed by
/// `subject` (resident ID or credit code). All or nothing: the first bad line is named.
#[utoipa::path(post, path = "/api/v1/exchange/resources/{resource}/records", tag = "exchange",
    security(("bearer" = [])),
    params(("resource" = String, Path, description = "Resource code or id")),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReport), (status = 400, body = Problem), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem)))]
async fn import_records(
    State(state): State<AppState>,
    principal: Principal,
    Path(resource): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<ImportReport>> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let format = match media.as_str() {
        "text/csv" => service::ImportFormat::Csv,
        "application/x-ndjson" | "application/jsonl" | "application/jsonlines" => {
            service::ImportFormat::JsonLines
        }
        _ => {
            return Err(ApiError::UnsupportedMediaType(
                "send text/csv or application/x-ndjson".into(),
            ));
        }
    };
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request("the import is not UTF-8 text"))?;
    Ok(Json(
        service::import_records(&state, &principal, &resource, format, text).await?,
    ))
}

/// My consents (or, as a proxy with the `services` scope, those of the person I act for).
#[utoipa::path(get, path = "/api/v1/me/consents", tag = "consent", security(("bearer" = [])),
    responses((status = 200, body = Vec<trust::model::Consent>), (status = 403, body = Problem)))]
async fn my_consents(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Vec<trust::model::Consent>>> {
    Ok(Json(trust::service::my_consents(&state, &principal).await?))
}

/// Consent to an organisation receiving fields of a resource about me.
#[utoipa::path(post, path = "/api/v1/me/consents", tag = "consent", security(("bearer" = [])),
    request_body = NewConsent,
    responses((status = 201, body = trust::model::Consent), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn grant_consent(
    State(state): State<AppState>,
    principal: Principal,
    Json(new): Json<NewConsent>,
) -> ApiResult<(StatusCode, Json<trust::model::Consent>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::grant_consent(&state, &principal, new).await?),
    ))
}

/// Withdraw a consent; fetches under it stop at once.
#[utoipa::path(post, path = "/api/v1/me/consents/{id}/revoke", tag = "consent", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = trust::model::Consent), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn revoke_consent(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<trust::model::Consent>> {
    Ok(Json(
        trust::service::revoke_consent(&state, &principal, &id).await?,
    ))
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
