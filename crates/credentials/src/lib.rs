//! Civitas credentials: e-certificates (电子证照) as W3C Verifiable Credentials 2.0 secured
//! with Data Integrity proofs of the `eddsa-jcs-2022` cryptosuite (Ed25519 over RFC 8785
//! canonical JSON). Issuing organisations sign with their own keys, published as
//! `did:web` DID documents; `did:key` methods verify too.
//!
//! Here so far: the cryptographic core (tested against the W3C vectors and the RFC 8785
//! reference data), the certificate type catalogue with JSON Schemas of the claims,
//! issuers' keys and DID documents, issuance, suspension, reinstatement and revocation,
//! the holder's list and wallet pages with QR codes, Bitstring Status Lists, and verification
//! that reports each check, sharing with organisations under consent, and dynamic passes
//! (short-lived signed tokens with a colour, scanned once).

pub mod api;
pub mod integrity;
pub mod model;
pub mod pages;
pub mod passes;
pub mod remote;
pub mod service;
pub mod status;
pub mod store;

/// This crate's migrations.
pub const MIGRATIONS: &[kernel::migrate::Migration] = &[
    kernel::migrate::Migration {
        component: "credentials",
        version: 1,
        name: "certificate types, issuer keys, certificates",
        sqlite: include_str!("../migrations/sqlite/0001_credentials.sql"),
        postgres: include_str!("../migrations/postgres/0001_credentials.sql"),
    },
    kernel::migrate::Migration {
        component: "credentials",
        version: 2,
        name: "dynamic passes: pass types and scans",
        sqlite: include_str!("../migrations/sqlite/0002_passes.sql"),
        postgres: include_str!("../migrations/postgres/0002_passes.sql"),
    },
];
