//! Civitas public safety (issue 7, in progress): monitoring stations registered by the
//! departments that run them, and their readings, sent in batches and checked one by one
//! — unknown stations, wrong units, physically impossible values and times ahead of the
//! clock are refused with reasons and counted, never stored; a reading sent twice is
//! stored once. Readings arrive over HTTP and over MQTT (`mqtt.rs`). Risk levels
//! (`risk.rs`), CAP alerts (`cap/`), and their targeting at the people of an alert's area
//! with the danger-zone list (`target.rs` for the ground, `service/targeting.rs`); relief
//! supplies allocated by the transportation problem (`supply.rs`, `service/supplies.rs`).

pub mod api;
pub mod cap;
pub mod map;
pub mod model;
pub mod mqtt;
pub mod pages;
pub mod risk;
pub mod service;
pub mod store;
pub mod supply;
pub mod target;

/// This crate's migrations.
pub const MIGRATIONS: &[kernel::migrate::Migration] = &[
    kernel::migrate::Migration {
        component: "safety",
        version: 1,
        name: "stations, observations, refused readings",
        sqlite: include_str!("../migrations/sqlite/0001_safety.sql"),
        postgres: include_str!("../migrations/postgres/0001_safety.sql"),
    },
    kernel::migrate::Migration {
        component: "safety",
        version: 2,
        name: "regions' areas",
        sqlite: include_str!("../migrations/sqlite/0002_areas.sql"),
        postgres: include_str!("../migrations/postgres/0002_areas.sql"),
    },
    kernel::migrate::Migration {
        component: "safety",
        version: 3,
        name: "risk assessment and warnings",
        sqlite: include_str!("../migrations/sqlite/0003_risk.sql"),
        postgres: include_str!("../migrations/postgres/0003_risk.sql"),
    },
    kernel::migrate::Migration {
        component: "safety",
        version: 4,
        name: "rain per hour",
        sqlite: include_str!("../migrations/sqlite/0004_rain_hours.sql"),
        postgres: include_str!("../migrations/postgres/0004_rain_hours.sql"),
    },
    kernel::migrate::Migration {
        component: "safety",
        version: 5,
        name: "CAP alerts",
        sqlite: include_str!("../migrations/sqlite/0005_alerts.sql"),
        postgres: include_str!("../migrations/postgres/0005_alerts.sql"),
    },
    kernel::migrate::Migration {
        component: "safety",
        version: 6,
        name: "targeted alerts: shared locations, alert notices, evacuation",
        sqlite: include_str!("../migrations/sqlite/0006_targeting.sql"),
        postgres: include_str!("../migrations/postgres/0006_targeting.sql"),
    },
    kernel::migrate::Migration {
        component: "safety",
        version: 7,
        name: "relief supplies: depots, stock, routes, allocation plans",
        sqlite: include_str!("../migrations/sqlite/0007_supplies.sql"),
        postgres: include_str!("../migrations/postgres/0007_supplies.sql"),
    },
];
