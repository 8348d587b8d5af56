//! Aggregate queries over a node's datasets (issue 4): compiling the typed query
//! (`fedlink_proto::aggregate`) to parameterised SQL, running it to a raw table, and — in
//! [`answer`] — adding DP noise where the requester shaped the query and applying disclosure
//! control before any table leaves the node.
//!
//! # Layout
//!
//! - [`levels`]: each dimension's levels, fixed from public vocabularies before any row is read.
//! - [`answer`]: the Aggregate RPC's apply and respond steps: run, noise, protect, log, release.
//! - [`compile`]: query → SQL with bound parameters, checked against the dataset's schema.
//! - [`run`]: executing a compiled query to a raw (unprotected) table.

pub mod answer;
pub mod compile;
pub mod levels;
pub mod run;
