//! Integration tests: each starts the real application and speaks HTTP to it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod audit_chain;
mod auth;
mod authz;
mod bad_input;
mod channels;
mod cli;
mod credentials;
mod demo;
mod exchange;
mod footprint;
mod gateway;
mod helpers;
mod messaging;
mod openapi;
mod pages;
mod passes;
mod personal_data;
mod policies;
mod rule_versions;
mod rules;
mod safety;
mod safety_risk;
mod services;
mod smoke;
