//! Civitas community home-based elder care (数字化社区居家养老, issue 8, in progress): an
//! elder's care circle — relatives, her community worker, a carer, a doctor — with levels,
//! contact order and quiet hours; care devices bound to her, whose readings arrive
//! over HTTP and MQTT (`ingest.rs`, `mqtt.rs`) sealed at rest; alerts raised by those readings, by her
//! asking for help and by the minute's checks, folded while open, and escalated level by
//! level on a durable timer until someone answers (`alerts.rs`); the community worker's view of
//! her community's elders and her visits (`community.rs`); care services, orders and their
//! subsidies under the rules (`orders/`).

pub mod alerts;
pub mod api;
pub mod community;
pub mod ingest;
pub mod model;
pub mod mqtt;
pub mod orders;
pub mod pages;
pub mod service;
pub mod store;

/// This crate's migrations.
pub const MIGRATIONS: &[kernel::migrate::Migration] = &[
    kernel::migrate::Migration {
        component: "eldercare",
        version: 1,
        name: "elders, care circles, devices, readings, alerts and their timelines",
        sqlite: include_str!("../migrations/sqlite/0001_eldercare.sql"),
        postgres: include_str!("../migrations/postgres/0001_eldercare.sql"),
    },
    kernel::migrate::Migration {
        component: "eldercare",
        version: 2,
        name: "community workers' visits",
        sqlite: include_str!("../migrations/sqlite/0002_visits.sql"),
        postgres: include_str!("../migrations/postgres/0002_visits.sql"),
    },
    kernel::migrate::Migration {
        component: "eldercare",
        version: 3,
        name: "care services, orders with their subsidies, subsidised minutes used",
        sqlite: include_str!("../migrations/sqlite/0003_orders.sql"),
        postgres: include_str!("../migrations/postgres/0003_orders.sql"),
    },
];
