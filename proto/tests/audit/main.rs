//! Integration tests of the audit log: published vectors first, then the SQLite store and the
//! offline verifier end to end. One binary, one module per topic (STYLE.md practice 12).

mod budget; // the privacy-budget ledger: limits, replay, verify, epsilon text
mod ed25519_vectors; // RFC 8032 §7.1 through ring and `identity`
mod merkle_vectors; // transparency-dev/merkle constants, proofs and testdata probes
mod signed_note; // C2SP signed-note and golang.org/x/mod note vectors; checkpoint tampering
mod store; // appends, receipts, replay claims, reopening, triggers
mod util; // loading vectors, keys from seeds, temporary logs
mod verify; // offline verification, including tampered files
