//! Trust's JSON routes: the citizen's data footprint, the audit log and its verification.

use axum::extract::State;
use kernel::api::{Json, Page, PageQuery, Query};
use kernel::auth::Principal;
use kernel::error::Problem;
use kernel::{ApiError, ApiResult, AppState};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::model::{AuditRecord, FootprintEntry, VerifyReport};
use crate::service;

/// Trust's routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(footprint))
        .routes(routes!(audit_records))
        .routes(routes!(verify))
}

/// My data footprint (我的数据足迹): every use of my data by someone else, newest first.
/// A proxy with the `footprint` scope sees the footprint of the person she acts for.
#[utoipa::path(get, path = "/api/v1/me/footprint", tag = "trust", security(("bearer" = [])),
    params(PageQuery), responses((status = 200, body = Page<FootprintEntry>), (status = 401, body = Problem)))]
async fn footprint(
    State(state): State<AppState>,
    principal: Principal,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<Page<FootprintEntry>>> {
    Ok(Json(service::footprint(&state, &principal, &page).await?))
}

/// Filter for audit records.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
struct AuditFilter {
    /// Only acts for this organisation (its admin may read these).
    organisation_id: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

/// Audit records, newest first: all for platform admins, an organisation's own for its admin.
#[utoipa::path(get, path = "/api/v1/audit/records", tag = "trust", security(("bearer" = [])),
    params(AuditFilter), responses((status = 200, body = Page<AuditRecord>), (status = 403, body = Problem)))]
async fn audit_records(
    State(state): State<AppState>,
    principal: Principal,
    Query(filter): Query<AuditFilter>,
) -> ApiResult<Json<Page<AuditRecord>>> {
    let page = PageQuery {
        cursor: filter.cursor,
        limit: filter.limit,
    };
    Ok(Json(
        service::recent(&state, &principal, filter.organisation_id.as_deref(), &page).await?,
    ))
}

/// Check every audit chain now (platform admin); the same check as `civitas audit verify`.
#[utoipa::path(post, path = "/api/v1/audit/verify", tag = "trust", security(("bearer" = [])),
    responses((status = 200, body = VerifyReport), (status = 403, body = Problem)))]
async fn verify(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<VerifyReport>> {
    principal.require_platform_admin()?;
    let report = service::verify(&state.db, |_| {})
        .await
        .map_err(ApiError::Unexpected)?;
    Ok(Json(report))
}
