//! fedlink-coordinator: the analyst's side. It signs queries, logs each one in its own audit log
//! before sending it, talks to nodes over mTLS, and verifies and keeps every receipt.
//!
//! # Layout
//!
//! - [`config`]: the coordinator's config file, resolved into checked settings.
//! - [`client`]: mTLS connections to nodes; telling refusals from outages.
//! - [`coordinator`]: envelopes, the issue log, receipt acceptance.
//! - [`receipts`]: receipt verification and the receipt store.
//! - [`outcome`]: one signed query to one node, and what came of it (answer, refusal, …).
//! - [`describe`]: the `describe` command: ask every node, print a table.
//! - [`aggregate`]: one aggregate query to one node; checks the table answers it.
//! - [`audit_report`]: `audit report`: a DPO's HTML summary of one audit log.
//! - [`table`]: a node's protected table, parsed and checked; text, CSV and JSON.
//! - [`combine`]: tables from several nodes joined on a public code, with rates and ranks.
//! - [`query_file`]: repeatable TOML query files and the shared query terms of the CLI.
//! - [`run`]: the `run` command: every query of a file, then its combines.
//! - [`link`]: the `link` command: one linked query, relayed blind between its nodes.
//! - [`reconcile`]: audit reconciliation of the coordinator's log, receipts and node logs.
//! - [`witness`]: at the end of a command, nodes and independent witnesses cosign the
//!   coordinator's log, and nodes take its cosignatures of theirs (F14).
//! - [`report`]: the analytical report: catalogue, run, model, CSV, manifest.
//! - [`grid`]: aligned text and CSV lines for the renderers.
//! - [`html`]: self-contained HTML pages, tables and inline SVG charts for reports.
//! - [`error`]: the coordinator's error type.

#![forbid(unsafe_code)]

pub mod aggregate;
pub mod audit_report;
pub mod client;
pub mod combine;
pub mod config;
pub mod coordinator;
pub mod describe;
pub mod error;
pub mod grid;
pub mod html;
pub mod link;
pub mod outcome;
pub mod query_file;
pub mod receipts;
pub mod reconcile;
pub mod report;
pub mod run;
pub mod table;
pub mod witness;
