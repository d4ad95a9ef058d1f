//! Civitas credentials: e-certificates (电子证照) as W3C Verifiable Credentials 2.0 secured
//! with Data Integrity proofs of the `eddsa-jcs-2022` cryptosuite (Ed25519 over RFC 8785
//! canonical JSON), with `did:key` verification methods.
//!
//! This first part is the cryptographic core, tested byte for byte against the W3C
//! specification's test vectors and the RFC 8785 reference data. Certificate types,
//! issuers' keys, issuance, status lists, the wallet, sharing, verification pages and
//! dynamic passes build on it.

pub mod integrity;
