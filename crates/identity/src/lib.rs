//! Civitas identity: regions, organisations, persons (with sealed personal data),
//! accounts, roles, sessions and proxy authorisations (代办).

pub mod api;
pub mod model;
pub mod pages;
pub mod service;
pub mod store;

use kernel::ApiResult;
use kernel::auth::{ActingFor, Authenticator, Principal};
use kernel::db::Db;

/// This crate's migrations.
pub const MIGRATIONS: &[kernel::migrate::Migration] = &[kernel::migrate::Migration {
    component: "identity",
    version: 1,
    name: "regions, organisations, persons, accounts, sessions, proxies",
    sqlite: include_str!("../migrations/sqlite/0001_identity.sql"),
    postgres: include_str!("../migrations/postgres/0001_identity.sql"),
}];

/// Resolves session tokens against identity's tables.
pub struct SessionAuthenticator {
    db: Db,
}

impl SessionAuthenticator {
    /// An authenticator over `db`.
    pub fn new(db: Db) -> Self {
        SessionAuthenticator { db }
    }
}

#[async_trait::async_trait]
impl Authenticator for SessionAuthenticator {
    async fn authenticate(&self, token: &str) -> ApiResult<Option<Principal>> {
        service::authenticate(&self.db, token).await
    }

    async fn acting_for(&self, principal: &Principal, person_id: &str) -> ApiResult<ActingFor> {
        service::acting_for(&self.db, principal, person_id).await
    }
}
