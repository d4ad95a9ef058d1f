//! Civitas data exchange: the data resource catalogue (数据资源目录) with DCAT export,
//! sharing requests (供需对接) and the agreements that name the basis of every call.
//! (The gateway, consents and hosted records follow.)

pub mod api;
pub mod model;
pub mod pages;
pub mod service;
pub mod store;

/// This crate's migrations.
pub const MIGRATIONS: &[kernel::migrate::Migration] = &[kernel::migrate::Migration {
    component: "exchange",
    version: 1,
    name: "catalogue, requests, agreements",
    sqlite: include_str!("../migrations/sqlite/0001_catalogue.sql"),
    postgres: include_str!("../migrations/postgres/0001_catalogue.sql"),
}];
