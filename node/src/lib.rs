//! fedlink-node: the agency node. It holds one agency's data, answers only signed, authorised
//! queries from its federation's coordinator, and logs every request before it answers.
//!
//! # Layout
//!
//! - [`aggregate`]: typed aggregate queries compiled to parameterised SQL.
//! - [`approvals`]: operator approval of flag-back requests, with per-case and per-day caps.
//! - [`config`]: the node's config file, resolved into checked settings before start-up.
//! - [`dataset`]: dataset schemas, CSV import with quarantine, SQLite storage.
//! - [`disclosure`]: disclosure control: suppression, rounding, protected totals,
//!   complementary suppression.
//! - [`privacy`]: exact integer DP noise (discrete Laplace and Gaussian) from the OS CSPRNG.
//! - [`normalise`]: identifier normalisation (NHS number, names, dates, postcodes, UPRN, sex).
//! - [`matchkey`]: typed match keys derived from normalised identifiers.
//! - [`linkage`]: the plaintext side of linked counts: slot messages, time windows, fixed-length
//!   tuples, labels, matching and counting by label.
//! - [`link`]: the node's part in linked queries: plan, sessions, the cohort and computing
//!   sides of the relay protocol, the protected linked release.
//! - [`policy`]: the deny-by-default policy and the check that makes an `AuthorisedQuery`.
//! - [`request`]: peer authentication and envelope checks, typed step by step.
//! - [`subject_tokens`]: node-local keyed tokens of the people a request concerned, for
//!   subject search in the audit log.
//! - [`gate`]: the audit gate: logs requests, refusals and disclosures; makes `Logged` queries.
//! - [`state`]: what every handler shares.
//! - [`service`]: the thin gRPC trait implementation and the common admission path.
//! - [`describe`]: the Describe RPC's apply and respond steps.
//! - [`witness`]: witnessing (F14): the node cosigns the coordinator's checkpoints and keeps
//!   its cosignatures of the node's own; the same service runs alone as `fedlink witness`.
//! - [`server`]: start-up, mTLS, health, reflection, graceful shutdown.
//! - [`error`]: the node's error type and its one mapping to gRPC statuses.

#![forbid(unsafe_code)]

pub mod aggregate;
pub mod approvals;
pub mod config;
pub mod dataset;
pub mod describe;
pub mod disclosure;
pub mod error;
pub mod gate;
pub mod link;
pub mod linkage;
pub mod matchkey;
pub mod normalise;
pub mod policy;
pub mod privacy;
pub mod request;
pub mod server;
pub mod service;
pub mod state;
pub mod subject_tokens;
pub mod witness;
