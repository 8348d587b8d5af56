//! The tamper-evident audit log every node and the coordinator keep (DESIGN.md "Audit";
//! audit-privacy-legal.md §1.2–§1.4).
//!
//! # Layout
//!
//! - [`merkle`]: RFC 9162 leaf and node hashing and tree roots.
//! - [`proof`]: inclusion and consistency proofs, generation and verification.
//! - [`checkpoint`]: C2SP signed-note checkpoints signed with Ed25519.
//! - [`entry`]: the exact bytes of one entry (`fedlink-audit/v1\n` ‖ canonical protobuf).
//! - [`payload`]: an entry's erasable payload (subject tokens, detail) and its salted commitment.
//! - [`budget`]: the differential-privacy budget ledger: balances, charges and their replay.
//! - [`store`]: the SQLite-backed append-only log (the only module here that does I/O).
//! - [`verify`]: offline verification of a whole log file.
//!
//! Everything but `store` and `verify` works on bytes alone, so a receipt can be checked with
//! no database at all; `verify` only reads.

pub mod budget;
pub mod checkpoint;
pub mod entry;
pub mod merkle;
pub mod payload;
pub mod proof;
pub mod store;
pub mod verify;
