//! SCIM 2.0 protocol core (RFC 7643 resource model, RFC 7644 protocol), with the ways real
//! identity providers deviate from it.
//!
//! This crate is pure: no I/O, no clock, no async runtime, no database. Everything that
//! depends on time or randomness takes it as a parameter, so the storage layer, the HTTP
//! handlers and the tests all drive the same deterministic code.
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod dialect;
pub mod diff;
pub mod discovery;
pub mod error;
pub mod filter;
pub mod nonhuman;
pub mod normalized;
pub mod patch;
pub mod path;
pub mod position;
pub mod projection;
pub mod schema;
pub mod sort;
pub mod validate;
