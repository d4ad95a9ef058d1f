//! Civitas trust: the hash-chained audit log and the citizen's data footprint.
//! (Consent artefacts arrive with the data-exchange capability.)

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
];
