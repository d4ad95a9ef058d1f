//! The Civitas kernel: what every capability stands on.
//!
//! Configuration, the database handle over SQLite and PostgreSQL, the migrations runner,
//! the API error type, ids and time, the personal-data vault, the authenticated principal,
//! the audit sink interface, JSON and form extractors, page layout with i18n, and metrics.

pub mod api;
pub mod audit;
pub mod auth;
pub mod config;
pub mod crypto;
pub mod db;
pub mod error;
pub mod ids;
pub mod metrics;
pub mod migrate;
pub mod mqtt;
pub mod pages;
pub mod state;
pub mod time;
pub mod widgets;

pub use error::{ApiError, ApiResult};
pub use state::AppState;
