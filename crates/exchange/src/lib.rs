//! Civitas data exchange: the data resource catalogue (数据资源目录) with DCAT export,
//! sharing requests (供需对接) and the agreements that name the basis of every call;
//! hosted records and their import; consents offered to residents; and the gateway that
//! checks agreement, consent or statutory basis and rate, returns only agreed fields,
//! signs every response with the provider's key and audits every call.

pub mod api;
pub mod gateway;
pub mod model;
pub mod pages;
pub mod service;
pub mod store;

/// This crate's migrations.
pub const MIGRATIONS: &[kernel::migrate::Migration] = &[
    kernel::migrate::Migration {
        component: "exchange",
        version: 1,
        name: "catalogue, requests, agreements",
        sqlite: include_str!("../migrations/sqlite/0001_catalogue.sql"),
        postgres: include_str!("../migrations/postgres/0001_catalogue.sql"),
    },
    kernel::migrate::Migration {
        component: "exchange",
        version: 2,
        name: "hosted records, signing keys, usage",
        sqlite: include_str!("../migrations/sqlite/0002_gateway.sql"),
        postgres: include_str!("../migrations/postgres/0002_gateway.sql"),
    },
];
