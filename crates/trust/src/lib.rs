//! Civitas trust: the hash-chained audit log, consent artefacts and the citizen's data
//! footprint. (The exchange crate offers consents for its resources and checks them on
//! every gateway call; they are stored and counted here.)

pub mod api;
pub mod model;
pub mod pages;
pub mod service;
pub mod store;

/// This crate's migrations.
pub const MIGRATIONS: &[kernel::migrate::Migration] = &[
    kernel::migrate::Migration {
        component: "trust",
        version: 1,
        name: "audit chain",
        sqlite: include_str!("../migrations/sqlite/0001_audit.sql"),
        postgres: include_str!("../migrations/postgres/0001_audit.sql"),
    },
    kernel::migrate::Migration {
        component: "trust",
        version: 2,
        name: "audit records pending in domain transactions",
        sqlite: include_str!("../migrations/sqlite/0002_audit_pending.sql"),
        postgres: include_str!("../migrations/postgres/0002_audit_pending.sql"),
    },
    kernel::migrate::Migration {
        component: "trust",
        version: 3,
        name: "consent artefacts",
        sqlite: include_str!("../migrations/sqlite/0003_consents.sql"),
        postgres: include_str!("../migrations/postgres/0003_consents.sql"),
    },
];
