//! Civitas: the composition of every capability into one server, and the CLI's work.

pub mod app;
pub mod bench;
pub mod bench_credentials;
pub mod bench_eldercare;
pub mod bench_exchange;
pub mod bench_messaging;
pub mod bench_rules;
pub mod bench_safety;
pub mod bench_services;
pub mod cap_cli;
pub mod demo;
pub mod demo_eldercare;
pub mod demo_provider;
pub mod demo_rules;
pub mod demo_safety;
pub mod demo_services;
pub mod rules_cli;
pub mod simulate;
pub mod storm;
