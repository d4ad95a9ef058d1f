//! The credentials' JSON routes: the type catalogue, issuance and status, the holder's
//! certificates, verification, and issuers' DID documents.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use kernel::api::{Json, Path, Query};
use kernel::auth::{MaybePrincipal, Principal};
use kernel::error::Problem;
use kernel::{ApiResult, AppState};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::*;
use crate::service;

/// The credentials' routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_types, create_type))
        .routes(routes!(get_type))
        .routes(routes!(type_schema))
        .routes(routes!(issued, issue))
        .routes(routes!(get_credential))
        .routes(routes!(change_status))
        .routes(routes!(my_credentials))
        .routes(routes!(verify))
        .routes(routes!(rotate_key))
        .routes(routes!(did_document))
        .routes(routes!(status_list))
        .routes(routes!(share))
        .routes(routes!(shared_with))
        .routes(routes!(read_shared))
        .merge(crate::passes::api::router())
}

/// Share one of my certificates with an organisation for a purpose (a consent; withdraw
/// it with `POST /api/v1/me/consents/{id}/revoke`).
#[utoipa::path(post, path = "/api/v1/me/credentials/{id}/shares", tag = "credentials", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = NewShare,
    responses((status = 201, body = trust::model::Consent), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn share(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(new): Json<NewShare>,
) -> ApiResult<(StatusCode, Json<trust::model::Consent>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::share(&state, &principal, &id, new).await?),
    ))
}

/// Certificates shared with my organisation.
#[utoipa::path(get, path = "/api/v1/credentials/shared", tag = "credentials", security(("bearer" = [])),
    responses((status = 200, body = Vec<trust::model::Consent>), (status = 403, body = Problem)))]
async fn shared_with(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Vec<trust::model::Consent>>> {
    Ok(Json(service::shared_with(&state, &principal).await?))
}

/// Read a certificate shared with my organisation (counted against the share, audited,
/// verified on the way).
#[utoipa::path(get, path = "/api/v1/credentials/shared/{id}", tag = "credentials", security(("bearer" = [])),
    params(("id" = String, Path, description = "The share (consent) id")),
    responses((status = 200, body = SharedCredential), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn read_shared(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<SharedCredential>> {
    Ok(Json(service::read_shared(&state, &principal, &id).await?))
}

/// An issuer's Bitstring Status List credential (`revocation` or `suspension`), signed;
/// verifiers fetch it and cache it for a minute.
#[utoipa::path(get, path = "/api/v1/credentials/status/{id}/{purpose}", tag = "credentials",
    params(("id" = String, Path, description = "Issuing organisation id"),
           ("purpose" = String, Path, description = "revocation or suspension")),
    responses((status = 200, description = "BitstringStatusListCredential"), (status = 404, body = Problem)))]
async fn status_list(
    State(state): State<AppState>,
    Path((id, purpose)): Path<(String, String)>,
) -> ApiResult<impl IntoResponse> {
    let list = crate::status::list_credential(&state, &id, &purpose).await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/vc+json"),
            (axum::http::header::CACHE_CONTROL, "public, max-age=60"),
        ],
        axum::Json(list),
    ))
}

/// The certificate type catalogue (电子证照目录; anyone may read it).
#[utoipa::path(get, path = "/api/v1/credentials/types", tag = "credentials",
    responses((status = 200, body = Vec<CredentialType>)))]
async fn list_types(State(state): State<AppState>) -> ApiResult<Json<Vec<CredentialType>>> {
    Ok(Json(service::list_types(&state).await?))
}

/// Define a certificate type (platform administrators).
#[utoipa::path(post, path = "/api/v1/credentials/types", tag = "credentials", security(("bearer" = [])),
    request_body = NewCredentialType,
    responses((status = 201, body = CredentialType), (status = 400, body = Problem), (status = 403, body = Problem), (status = 409, body = Problem)))]
async fn create_type(
    State(state): State<AppState>,
    principal: Principal,
    Json(new): Json<NewCredentialType>,
) -> ApiResult<(StatusCode, Json<CredentialType>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::create_type(&state, &principal, new).await?),
    ))
}

/// One certificate type.
#[utoipa::path(get, path = "/api/v1/credentials/types/{code}", tag = "credentials",
    params(("code" = String, Path)), responses((status = 200, body = CredentialType), (status = 404, body = Problem)))]
async fn get_type(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<Json<CredentialType>> {
    Ok(Json(service::get_type(&state, &code).await?))
}

/// The JSON Schema of a type's claims (the `credentialSchema` of its certificates).
#[utoipa::path(get, path = "/api/v1/credentials/types/{code}/schema", tag = "credentials",
    params(("code" = String, Path)), responses((status = 200, description = "JSON Schema"), (status = 404, body = Problem)))]
async fn type_schema(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(
        service::get_type(&state, &code).await?.claims_schema,
    ))
}

/// Whose certificates.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct OrgQuery {
    /// The issuing organisation (default: my own).
    organisation_id: Option<String>,
}

/// Certificates my organisation issued.
#[utoipa::path(get, path = "/api/v1/credentials", tag = "credentials", security(("bearer" = [])),
    params(OrgQuery), responses((status = 200, body = Vec<IssuedCredential>), (status = 403, body = Problem)))]
async fn issued(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<OrgQuery>,
) -> ApiResult<Json<Vec<IssuedCredential>>> {
    Ok(Json(
        service::issued(&state, &principal, q.organisation_id.as_deref()).await?,
    ))
}

/// Issue a certificate to a person (the issuing organisation's staff).
#[utoipa::path(post, path = "/api/v1/credentials", tag = "credentials", security(("bearer" = [])),
    request_body = IssueRequest,
    responses((status = 201, body = IssuedCredential), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn issue(
    State(state): State<AppState>,
    principal: Principal,
    Json(request): Json<IssueRequest>,
) -> ApiResult<(StatusCode, Json<IssuedCredential>)> {
    Ok((
        StatusCode::CREATED,
        Json(service::issue(&state, &principal, request).await?),
    ))
}

/// One certificate (its holder, her proxy, or its issuer's staff).
#[utoipa::path(get, path = "/api/v1/credentials/{id}", tag = "credentials", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, body = IssuedCredential), (status = 404, body = Problem)))]
async fn get_credential(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<IssuedCredential>> {
    Ok(Json(
        service::credential_for(&state, &principal, &id).await?,
    ))
}

/// Suspend, reinstate or revoke a certificate (its issuer's staff).
#[utoipa::path(post, path = "/api/v1/credentials/{id}/status", tag = "credentials", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = StatusChange,
    responses((status = 200, body = IssuedCredential), (status = 400, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn change_status(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(change): Json<StatusChange>,
) -> ApiResult<Json<IssuedCredential>> {
    Ok(Json(
        service::change_status(&state, &principal, &id, change).await?,
    ))
}

/// My certificates (the wallet).
#[utoipa::path(get, path = "/api/v1/me/credentials", tag = "credentials", security(("bearer" = [])),
    responses((status = 200, body = Vec<IssuedCredential>), (status = 403, body = Problem)))]
async fn my_credentials(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Vec<IssuedCredential>>> {
    Ok(Json(service::my_credentials(&state, &principal).await?))
}

/// Whether an issuer outside this platform's registry is acceptable.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct VerifyQuery {
    /// Make an unknown issuer a warning instead of a failure.
    trust_any_issuer: Option<bool>,
}

/// Verify a credential: every check (format, signature, issuer, validity, status,
/// schema) with its outcome and reason. Anyone may; an organisation's verification is
/// audited and appears in the holder's data footprint.
#[utoipa::path(post, path = "/api/v1/credentials/verify", tag = "credentials",
    params(VerifyQuery), request_body(content = Object, description = "The credential (JSON)"),
    responses((status = 200, body = VerificationReport), (status = 400, body = Problem), (status = 413, body = Problem)))]
async fn verify(
    State(state): State<AppState>,
    MaybePrincipal(caller): MaybePrincipal,
    Query(q): Query<VerifyQuery>,
    Json(document): Json<Value>,
) -> ApiResult<Json<VerificationReport>> {
    let report = service::verify(&state, &document, q.trust_any_issuer.unwrap_or(false)).await?;
    if let Some(caller) = caller {
        service::record_verification(&state, &caller, &document, &report).await?;
    }
    Ok(Json(report))
}

/// Rotate my organisation's issuing key (its administrator); returns the DID document.
#[utoipa::path(post, path = "/api/v1/credentials/keys/rotate", tag = "credentials", security(("bearer" = [])),
    params(OrgQuery), responses((status = 200, description = "DID document"), (status = 403, body = Problem)))]
async fn rotate_key(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<OrgQuery>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(
        service::rotate_key(&state, &principal, q.organisation_id.as_deref()).await?,
    ))
}

/// An issuing organisation's DID document (`did:web:<host>:issuers:<id>`).
#[utoipa::path(get, path = "/issuers/{id}/did.json", tag = "credentials",
    params(("id" = String, Path, description = "Organisation id")),
    responses((status = 200, description = "DID document"), (status = 404, body = Problem)))]
async fn did_document(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let document = service::did_document(&state, &id).await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/did+json")],
        axum::Json(document),
    ))
}
