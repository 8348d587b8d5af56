//! The tamper-evident audit log every node and the coordinator keep (DESIGN.md "Audit";
//! audit-privacy-legal.md §1.2–§1.4).
//!
//! # Layout
//!
//! - [`merkle`]: RFC 9162 leaf and node hashing and tree roots.
//! - [`proof`]: inclusion and consistency proofs, generation and verification.
//! - [`checkpoint`]: C2SP signed-note checkpoints signed with Ed25519.
//! - [`cosignature`]: witness cosignatures of checkpoints (C2SP tlog-cosignature v1, Ed25519).
//! - [`entry`]: the exact bytes of one entry (`fedlink-audit/v1\n` ‖ canonical protobuf).
//! - [`payload`]: an entry's erasable payload (subject tokens, detail) and its salted commitment.
//! - [`budget`]: the differential-privacy budget ledger: balances, charges and their replay.
//! - [`store`]: the SQLite-backed append-only log (the only module here that does I/O).
//! - [`source`]: reading a log's stored parts, from a log file or an export bundle, alike.
//! - [`bundle`]: the export bundle an auditor takes away: writing it, and reading it back.
//! - [`verify`]: offline verification of a whole log, file or bundle, by one core.
//! - [`view`]: a decoded, readable view of an entry, and the filter that selects entries.
//! - [`utc`]: RFC 3339 UTC times for views and filters.
//!
//! Everything but `store`, `source`, `bundle` and `verify` works on bytes alone, so a receipt
//! can be checked with no database at all; `source` and `verify` only read, and `bundle`
//! writes only new export folders.

pub mod budget;
pub mod bundle;
pub mod checkpoint;
pub mod cosignature;
pub mod entry;
pub mod merkle;
pub mod payload;
pub mod proof;
pub mod source;
pub mod store;
pub mod utc;
pub mod verify;
pub mod view;
