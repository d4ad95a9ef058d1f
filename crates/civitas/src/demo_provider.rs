//! A stand-in for a department's own information system, serving the demo's proxied
//! resource (最低生活保障状态, minimum-living-allowance status): the exchange gateway
//! forwards each call here and signs what comes back. `serve --demo` mounts it on the same
//! server; `civitas demo-provider --bind ADDR` runs it as a separate process, as the
//! tests do. Its answers are derived from the resident ID so they are stable across runs.

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use sha2::{Digest, Sha256};

/// Where the provider serves records: `{base}/demo-provider/minimum-living-allowance`.
pub const PATH: &str = "/demo-provider/minimum-living-allowance";

/// The provider's routes.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route(&format!("{PATH}/{{subject}}"), get(record))
}

async fn record(Path(subject): Path<String>) -> Response {
    if identity::model::ResidentId::parse(&subject).is_err() {
        return (StatusCode::BAD_REQUEST, "not a resident ID").into_response();
    }
    let digest = Sha256::digest(subject.as_bytes());
    // About one resident in four has a record; the rest never applied.
    if digest[0] >= 64 {
        return (StatusCode::NOT_FOUND, "no record").into_response();
    }
    let receiving = digest[1] % 4 != 0;
    let amount = 600 + (u32::from(digest[2]) % 31) * 10;
    let approved_on = format!(
        "20{:02}-{:02}-{:02}",
        18 + digest[3] % 8,
        1 + digest[4] % 12,
        1 + digest[5] % 28
    );
    axum::Json(json!({
        "status": if receiving { "在保" } else { "已退出" },
        "monthly_amount": if receiving { amount } else { 0 },
        "approved_on": approved_on,
    }))
    .into_response()
}

/// Serves the provider alone on `bind` until stopped.
pub async fn run(bind: std::net::SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    println!(
        "demo provider listening on http://{}",
        listener.local_addr()?
    );
    let app = router::<()>().route("/healthz", get(|| async { "ok" }));
    axum::serve(listener, app).await?;
    Ok(())
}
