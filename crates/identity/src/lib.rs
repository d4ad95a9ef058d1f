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
pub const MIGRATIONS: &[kernel::migrate::Migration] = &[
    kernel::migrate::Migration {
        component: "identity",
        version: 1,
        name: "regions, organisations, persons, accounts, sessions, proxies",
        sqlite: include_str!("../migrations/sqlite/0001_identity.sql"),
        postgres: include_str!("../migrations/postgres/0001_identity.sql"),
    },
    kernel::migrate::Migration {
        component: "identity",
        version: 2,
        name: "tags residents carry for audiences",
        sqlite: include_str!("../migrations/sqlite/0002_tags.sql"),
        postgres: include_str!("../migrations/postgres/0002_tags.sql"),
    },
    kernel::migrate::Migration {
        component: "identity",
        version: 3,
        name: "the register's change feed",
        sqlite: include_str!("../migrations/sqlite/0003_register_changes.sql"),
        postgres: include_str!("../migrations/postgres/0003_register_changes.sql"),
    },
];

/// How long a resolved session is remembered. Logouts and account changes on this node
/// take effect at once; on other nodes of a cluster within this time.
const SESSION_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// Resolves session tokens against identity's tables, remembering each for a few seconds
/// so that a system account's thousands of calls a second do not each cost two queries.
pub struct SessionAuthenticator {
    db: Db,
    recent: moka::sync::Cache<String, Principal>,
    /// Bumped by every forget: a look-up that began before does not store its result.
    generation: std::sync::atomic::AtomicU64,
}

impl SessionAuthenticator {
    /// An authenticator over `db`.
    pub fn new(db: Db) -> Self {
        SessionAuthenticator {
            db,
            recent: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(SESSION_CACHE_TTL)
                .build(),
            generation: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

#[async_trait::async_trait]
impl Authenticator for SessionAuthenticator {
    async fn authenticate(&self, token: &str) -> ApiResult<Option<Principal>> {
        let key = service::token_hash(token);
        if let Some(principal) = self.recent.get(&key) {
            return Ok(Some(principal));
        }
        use std::sync::atomic::Ordering;
        let generation = self.generation.load(Ordering::SeqCst);
        let found = service::authenticate(&self.db, token).await?;
        if let Some(principal) = &found
            && self.generation.load(Ordering::SeqCst) == generation
        {
            self.recent.insert(key, principal.clone());
        }
        Ok(found)
    }

    fn forget_sessions(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.recent.invalidate_all();
    }

    async fn acting_for(&self, principal: &Principal, person_id: &str) -> ApiResult<ActingFor> {
        service::acting_for(&self.db, principal, person_id).await
    }
}
