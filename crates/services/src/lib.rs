//! Civitas one-stop services (一网通办): the service catalogue and life events; applications
//! that arrive pre-filled, with the materials the government already holds attached through
//! the exchange and the wallet (once-only), and uploads for the rest; cases that move
//! through each department's workflow on working-day clocks, with 补正, rejection, results
//! issued into the wallet, escalation of overdue cases; ratings and statistics.

pub mod api;
pub mod blobs;
pub mod calendar;
pub mod model;
pub mod pages;
pub mod service;
pub mod store;

/// This crate's migrations.
pub const MIGRATIONS: &[kernel::migrate::Migration] = &[kernel::migrate::Migration {
    component: "services",
    version: 1,
    name: "catalogue, applications, cases",
    sqlite: include_str!("../migrations/sqlite/0001_services.sql"),
    postgres: include_str!("../migrations/postgres/0001_services.sql"),
}];

/// Starts the background sweeps: overdue cases escalated and orphaned uploads removed,
/// every ten minutes (and once at start).
pub fn start_sweeps(state: kernel::AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
        loop {
            tick.tick().await;
            if let Err(error) = service::escalate_overdue(&state).await {
                tracing::warn!(%error, "escalating overdue cases failed");
            }
            if let Err(error) = service::sweep_orphan_uploads(&state).await {
                tracing::warn!(%error, "sweeping orphaned uploads failed");
            }
        }
    });
}
