//! Civitas messaging: an organisation sends a notice to an audience (a region, an age
//! band, named residents); it is fanned out set-based — one `INSERT … SELECT` over the
//! register, in the message's own transaction — into each resident's inbox, where she
//! reads it (a read receipt) and, when asked, acknowledges it.
//!
//! Here so far: notices, audiences, inboxes, receipts and acknowledgements. Channels
//! (SMS, e-mail, webhooks) with a delivery log follow.

pub mod api;
pub mod model;
pub mod pages;
pub mod service;
pub mod store;

/// This crate's migrations.
pub const MIGRATIONS: &[kernel::migrate::Migration] = &[kernel::migrate::Migration {
    component: "messaging",
    version: 1,
    name: "messages and inboxes",
    sqlite: include_str!("../migrations/sqlite/0001_messaging.sql"),
    postgres: include_str!("../migrations/postgres/0001_messaging.sql"),
}];
