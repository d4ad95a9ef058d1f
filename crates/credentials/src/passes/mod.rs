//! Dynamic passes (动态通行码): short-lived signed tokens with a status colour, derived from
//! a certificate or from a rule, shown as a QR code and refused by the scanner when
//! forged, expired, red, withdrawn since, or scanned before.

pub mod api;
pub mod model;
pub mod pages;
pub mod service;
pub mod store;
pub mod token;

pub use service::Passes;
