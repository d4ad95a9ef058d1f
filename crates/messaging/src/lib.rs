//! Civitas messaging: an organisation sends a notice to an audience (a region, an age
//! band, named residents); it is fanned out set-based — one `INSERT … SELECT` over the
//! register, in the message's own transaction — into each resident's inbox, where she
//! reads it (a read receipt) and, when asked, acknowledges it.
//!
//! Beyond the inbox, notices go out through channels ([`channels`]): SMS through an HTTP
//! gateway, e-mail over SMTP, signed webhooks to organisations' systems, or the outbox
//! table in the demo. Deliveries are written set-based with the notice and worked off by
//! [`delivery`]'s worker, with retries and a delivery log.

pub mod api;
pub mod channels;
pub mod delivery;
pub mod model;
pub mod pages;
pub mod service;
pub mod store;

/// This crate's migrations.
pub const MIGRATIONS: &[kernel::migrate::Migration] = &[
    kernel::migrate::Migration {
        component: "messaging",
        version: 1,
        name: "messages and inboxes",
        sqlite: include_str!("../migrations/sqlite/0001_messaging.sql"),
        postgres: include_str!("../migrations/postgres/0001_messaging.sql"),
    },
    kernel::migrate::Migration {
        component: "messaging",
        version: 2,
        name: "notification settings, webhooks, the delivery log and the outbox",
        sqlite: include_str!("../migrations/sqlite/0002_channels.sql"),
        postgres: include_str!("../migrations/postgres/0002_channels.sql"),
    },
];
