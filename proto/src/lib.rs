//! fedlink-proto: what fedlink's parties agree on byte for byte.
//!
//! # Layout
//!
//! - [`aggregate`]: the typed aggregate query and its strict wire parsing.
//! - [`pb`]: the types generated from `fedlink.proto` (wire shapes only; parse at the edge).
//! - [`identity`]: Ed25519 identity keys, public keys and domain-separated signatures.
//! - [`civil`]: calendar arithmetic (days since 1970 and back) shared by every date type.
//! - [`clock`]: the injectable clock every expiry and timestamp reads.
//! - [`envelope`]: signed query envelopes: sign, verify, parse strictly.
//! - [`federation`]: the federation file: members, roles, endpoints, fingerprints, keys.
//! - [`blind`]: ristretto255 blinding for private linkage: hash-to-group, keys, packed batches.
//! - [`refusal`]: every reason a node refuses a request, with its rule name and gRPC code.
//! - [`audit`]: the RFC 9162 Merkle audit log: hashing, proofs, signed checkpoints, receipts,
//!   the SQLite store and offline verification.
//! - [`link`]: the typed linked query (linked count, flag-back, overlap) and its parsing.
//! - [`relay`]: the sealed, signed node-to-node channel through the blind relay (F1).
//! - [`schedule`]: the overlap ring schedule and its checked invariant (F7).
//! - [`witness`]: the witness protocol's requests, refusals and answers (C2SP tlog-witness, F14).
//!
//! Everything here but `audit::store` is pure: it works on bytes and does no I/O, so the
//! verifier, the tests and both parties share one implementation of each format.

#![forbid(unsafe_code)]

pub mod aggregate;
pub mod audit;
pub mod blind;
pub mod civil;
pub mod clock;
pub mod envelope;
pub mod federation;
pub mod identity;
pub mod link;
pub mod pb;
pub mod refusal;
pub mod relay;
pub mod schedule;
pub mod witness;
