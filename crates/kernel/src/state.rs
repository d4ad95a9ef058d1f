//! The application state every handler receives: one `Clone` value of pools and `Arc`s.

use std::sync::Arc;

use crate::audit::AuditSink;
use crate::auth::Authenticator;
use crate::config::Config;
use crate::crypto::Vault;
use crate::db::Db;
use crate::pages::NavItem;

/// Shared state of the running application.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub db: Db,
    /// The configuration in force.
    pub config: Arc<Config>,
    /// The personal-data vault.
    pub vault: Arc<Vault>,
    /// Resolves tokens to principals (identity).
    pub auth: Arc<dyn Authenticator>,
    /// Appends audit records (trust).
    pub audit: Arc<dyn AuditSink>,
    /// The site navigation, contributed by every capability.
    pub nav: Arc<Vec<NavItem>>,
    /// Per-capability runtime parts (caches, limiters, background workers), by type: a
    /// capability inserts its own when the application is built and finds it here.
    pub extensions: Arc<axum::http::Extensions>,
}
