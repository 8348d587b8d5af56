//! Aggregate queries over a node's datasets (issue 4): compiling the typed query
//! (`fedlink_proto::aggregate`) to parameterised SQL, and running it to a raw table. Disclosure control and DP noise (the
//! `disclosure` and `privacy` modules) must be applied before any table leaves the node; the
//! RPC that does so is still to come.
//!
//! # Layout
//!
//! - [`compile`]: query → SQL with bound parameters, checked against the dataset's schema.
//! - [`run`]: executing a compiled query to a raw (unprotected) table.

pub mod compile;
pub mod run;
