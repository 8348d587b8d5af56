//! Witnessing (C2SP `tlog-witness`; design-review F14): the node cosigns the coordinator's
//! checkpoints, refusing one inconsistent with the last it cosigned, and keeps the coordinator's
//! cosignatures of its own checkpoints after checking each against its own log (split-view
//! detection). The same state and service run alone as an independent witness
//! (`fedlink witness serve`).
//!
//! - [`state`]: the last cosigned checkpoint per witnessed log, and its atomic
//!   compare-and-persist; alarms kept as evidence.
//! - [`service`]: the `Witness` gRPC service and the core it answers with.
//! - [`member`]: what the node adds: the coordinator's logs to witness, its own log as the
//!   store of delivered cosignatures, alarms in its audit log.
//! - [`push`]: a member's own checkpoints sent to its configured witnesses, in the background.
//! - [`independent`]: the witness alone (`fedlink witness serve`): config, mTLS, serving.

pub mod independent;
pub mod member;
pub mod push;
pub mod service;
pub mod state;
