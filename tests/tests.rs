//! End-to-end tests: real `fedlink` processes, real mTLS on loopback, real SQLite logs.

// Shared helpers: federations in temp folders, node processes, a hand-driven client.
mod util;

// The happy path: init, serve, describe, verify; health and reflection; start-up refusals.
mod foundation;

// Every way a request is refused: its status, its rule, and its denied audit entry.
mod refusals;

// Importing extracts: quarantine, reconciliation, idempotence, COLLECTION entries.
mod import;

// The audit log under attack: tampering is found and named.
mod audit;

// SIGKILL mid-burst, again and again: the log verifies and keeps every delivered entry.
mod crash;

// The DPO's HTML report of one audit log: sections, refusing rules, a tampered log shown first.
mod audit_report;

// The command line: help texts and exit codes.
mod cli;

// Aggregate queries: templates, DP and budgets, refusals before SQL.
mod aggregate;

// Flag-back approvals: an operator lists, inspects and decides requests; caps refuse by name.
mod approvals;

// Linked queries: hand-computed counts, windows, address linkage, flag-back, refusals by rule.
mod link;

// The adversarial suite (design-review §10): a malicious relay and coordinator against real
// nodes, and the wire properties dummies, slots and reblinding must keep.
mod adversary;

// The overlap matrix across three agencies: hand-computed counts, the strictest participant's
// rules, consent by cohort sources, and the ring's messages in every log.
mod overlap;

// Calibrated linkage: a whole-dataset calibration run stores a versioned model that later
// counts read unchanged and name in their release (F18).
mod calibration;

// Subject search and payload retention: the entries concerning one person, logged searches,
// erasure that keeps the log verifiable.
mod subjects;

// Person-linkage accuracy on a small synthetic county: the issue 6 thresholds and the decoys.
mod linkage_accuracy;

// Audit reconciliation: a clean run reconciles clean; deleted tails, rewritten middles, forks,
// one-sided queries, substituted relay messages and rewritten result hashes are each named.
mod reconcile;

// Witnessing: coordinator and nodes cosign each other's logs; an independent witness; forks.
mod witness;

// The analytical report: every section, nothing in the suppressed range, every number traced to
// a receipt, a partner down named, a self-contained page, a rendering in headless Chromium.
mod report;
