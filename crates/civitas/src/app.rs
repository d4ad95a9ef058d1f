//! Builds the application: opens the store, applies migrations, starts the audit writer,
//! composes every capability's routes and pages, and serves them.

use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use kernel::api::MAX_BODY_BYTES;
use kernel::config::Config;
use kernel::crypto::Vault;
use kernel::db::Db;
use kernel::pages::{NavItem, PageContext};
use kernel::{ApiError, AppState};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;

/// Every capability's migrations, in dependency order.
pub fn migrations() -> Vec<&'static [kernel::migrate::Migration]> {
    vec![
        identity::MIGRATIONS,
        trust::MIGRATIONS,
        exchange::MIGRATIONS,
        credentials::MIGRATIONS,
        messaging::MIGRATIONS,
        services::MIGRATIONS,
        rules::MIGRATIONS,
        safety::MIGRATIONS,
        eldercare::MIGRATIONS,
    ]
}

/// Opens the store and applies migrations.
pub async fn open_db(config: &Config) -> anyhow::Result<Db> {
    let db = Db::connect(config).await?;
    kernel::migrate::run(&db, &migrations()).await?;
    Ok(db)
}

/// The site navigation, from every capability.
fn navigation() -> Vec<NavItem> {
    let mut nav = identity::pages::nav();
    nav.extend(trust::pages::nav());
    nav.extend(exchange::pages::nav());
    nav.extend(credentials::pages::nav());
    nav.extend(messaging::pages::nav());
    nav.extend(services::pages::nav());
    nav.extend(rules::pages::nav());
    nav.extend(safety::pages::nav());
    nav.extend(eldercare::pages::nav());
    nav
}

/// Opens the store, migrates, loads the vault and starts the audit writer.
pub async fn open_state(config: Config, create_key: bool) -> anyhow::Result<AppState> {
    let vault = Vault::from_config(&config, create_key)?;
    let db = open_db(&config).await?;
    let audit = trust::service::AuditLog::start(db.clone());
    let mut extensions = axum::http::Extensions::new();
    extensions.insert(exchange::gateway::Gateway::start(db.clone()));
    extensions.insert(credentials::passes::Passes::start(db.clone()));
    extensions.insert(credentials::remote::Remote::new()?);
    extensions.insert(services::blobs::Blobs::from_config(&config)?);
    extensions.insert(Arc::new(messaging::channels::Channels::from_config(
        &config, &db,
    )?));
    let rulebook = rules::service::Rulebook::load(&config.rules_packages)?;
    rulebook
        .sync(&db, &rules::service::versions_folder(&config))
        .await?;
    extensions.insert(Arc::new(rulebook));
    extensions.insert(safety::service::Recompute::default());
    extensions.insert(eldercare::alerts::Escalation::default());
    extensions.insert(Arc::new(eldercare::ingest::RateLimits::default()));
    Ok(AppState {
        extensions: Arc::new(extensions),
        auth: Arc::new(identity::SessionAuthenticator::new(db.clone())),
        audit,
        db,
        config: Arc::new(config),
        vault: Arc::new(vault),
        nav: Arc::new(navigation()),
    })
}

/// The OpenAPI document and the JSON routes of every capability.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let mut doc = utoipa::openapi::OpenApiBuilder::new()
        .info(
            utoipa::openapi::InfoBuilder::new()
                .title("Civitas API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Digital social services: identity, audit and data footprint. Errors are RFC 9457 problem+json.",
                ))
                .build(),
        )
        .build();
    let mut components = doc.components.take().unwrap_or_default();
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    doc.components = Some(components);
    OpenApiRouter::with_openapi(doc)
        .merge(identity::api::router())
        .merge(trust::api::router())
        .merge(exchange::api::router())
        .merge(credentials::api::router())
        .merge(messaging::api::router())
        .merge(services::api::router())
        .merge(rules::api::router())
        .merge(safety::api::router())
        .merge(eldercare::api::router())
        .split_for_parts()
}

/// The whole router.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = api();
    let openapi = Arc::new(openapi);
    Router::new()
        .merge(api)
        .merge(identity::pages::router())
        .merge(trust::pages::router())
        .merge(exchange::pages::router())
        .merge(credentials::pages::router())
        .merge(messaging::pages::router())
        .merge(services::pages::router())
        .merge(rules::pages::router())
        .merge(safety::pages::router())
        .merge(eldercare::pages::router())
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route(
            "/api/openapi.json",
            get(move || {
                let openapi = openapi.clone();
                async move { axum::Json(openapi.as_ref().clone()) }
            }),
        )
        .route("/prefs", get(kernel::pages::prefs))
        .route("/static/civitas.css", get(kernel::pages::stylesheet))
        .fallback(not_found)
        .route_layer(middleware::from_fn(kernel::metrics::track))
        .layer(middleware::from_fn(kernel::pages::ensure_csrf_cookie))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'"),
        ))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::Unexpected(anyhow::anyhow!("a request handler panicked")).into_response()
        }))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(_) => ApiError::Unavailable("the database does not answer".into()).into_response(),
    }
}

async fn metrics() -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        kernel::metrics::handle().render(),
    )
        .into_response()
}

async fn not_found(uri: Uri, ctx: PageContext) -> Response {
    let error = ApiError::NotFound(format!("nothing at {}", uri.path()));
    if uri.path().starts_with("/api/") {
        error.into_response()
    } else {
        ctx.error(error)
    }
}

/// A built, bound application, ready to serve.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    port: u16,
    demo: bool,
}

impl Application {
    /// Opens everything and binds `config.bind` (port 0 picks a free port). With `demo`,
    /// a missing key is generated and the demo city is seeded on first start.
    pub async fn build(config: Config, demo: bool) -> anyhow::Result<Application> {
        kernel::metrics::handle();
        let bind = config.bind;
        let listener = TcpListener::bind(bind)
            .await
            .with_context(|| format!("cannot listen on {bind}"))?;
        let port = listener.local_addr()?.port();
        let mut config = config;
        if config.base_url.is_none() {
            // Links and identifiers (DIDs, DCAT) name the port actually bound.
            config.base_url = Some(format!("http://{}:{port}", bind.ip()));
        }
        if demo && config.rules_packages.is_empty() {
            config.rules_packages = crate::demo::rules_packages();
        }
        let state = open_state(config, demo).await?;
        if demo {
            crate::demo::seed_if_needed(&state, false).await?;
        }
        Ok(Application {
            listener,
            state,
            port,
            demo,
        })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The shared state (tests use it to reach the store directly).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until Ctrl-C or SIGTERM.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        services::start_sweeps(self.state.clone());
        rules::start_sweeps(self.state.clone());
        messaging::delivery::start(self.state.clone());
        safety::mqtt::start(self.state.clone()).map_err(std::io::Error::other)?;
        safety::service::start_recomputing(self.state.clone());
        eldercare::mqtt::start(self.state.clone()).map_err(std::io::Error::other)?;
        eldercare::alerts::start(self.state.clone());
        let mut app = router(self.state.clone());
        if self.demo {
            // The demo's proxied resource is served by a stand-in provider system.
            app = app.merge(crate::demo_provider::router());
        }
        axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        self.state.db.close().await;
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
