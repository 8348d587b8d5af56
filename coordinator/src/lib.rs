//! fedlink-coordinator: the analyst's side. It signs queries, logs each one in its own audit log
//! before sending it, talks to nodes over mTLS, and verifies and keeps every receipt.
//!
//! # Layout
//!
//! - [`config`]: the coordinator's config file, resolved into checked settings.
//! - [`client`]: mTLS connections to nodes; telling refusals from outages.
//! - [`coordinator`]: envelopes, the issue log, receipt acceptance.
//! - [`receipts`]: receipt verification and the receipt store.
//! - [`describe`]: the `describe` command: ask every node, print a table.
//! - [`error`]: the coordinator's error type.

#![forbid(unsafe_code)]

pub mod client;
pub mod config;
pub mod coordinator;
pub mod describe;
pub mod error;
pub mod receipts;
