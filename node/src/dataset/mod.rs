//! Datasets on a node: their schemas, the import of partners' extracts with validation and
//! quarantine, and their storage in SQLite.
//!
//! # Layout
//!
//! - [`schema`]: dataset schema files: what each column means.
//! - [`plan`]: a schema matched to a file's header; refuses files with the wrong columns.
//! - [`row`]: one record validated and normalised, or refused with a reason.
//! - [`batch`]: accepted rows rendered for storage, a batch at a time.
//! - [`store`]: SQLite tables for datasets, quarantine and import runs.
//! - [`import`]: the streaming import of a CSV file, reconciled.
//! - [`geography`]: the public LSOA → ward → local authority lookup.
//! - [`collect`]: imports logged as COLLECTION events in the node's audit log.

pub mod batch;
pub mod collect;
pub mod geography;
pub mod import;
pub mod plan;
pub mod row;
pub mod schema;
pub mod store;
