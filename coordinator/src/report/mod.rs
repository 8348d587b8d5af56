//! The homicide-prevention analytical report (domain.md §9c; DESIGN.md "Reports"): a catalogue
//! of aggregate and linked queries, section by section, run for a period through the same
//! signed, receipted queries as `run` and `link`, and rendered as a self-contained HTML page,
//! one CSV per table and a manifest that traces every number to a node's receipt. Person-level
//! results (flag-backs) and police-only detail go to a separate restricted annex, never into
//! the body.
//!
//! # Layout
//!
//! - [`catalogue`]: the catalogue file, read and checked (errors name section, item and key).
//! - [`period`]: the report period and the periods queries name relative to it.
//! - [`plan`]: a catalogue resolved for one period and federation: typed queries.
//! - [`run`]: describe every node, then each query in order; a partner that is down is
//!   skipped with the reason and the rest runs.
//! - [`model`]: the report as data: sections, tables, cells with their queries, receipts.
//! - [`tables`]: released tables as report tables (cross-tabs, changes, trends, groups).
//! - [`build`]: from a run to the model.
//! - [`records`]: the manifest's query records and the header's partners and rules.
//! - [`html`]: the self-contained HTML page (uses [`crate::html`]).
//! - [`write`]: the output folder: CSVs, `manifest.json`, the restricted annex.
//! - [`compare`]: what changed since the previous run's manifest and tables.

pub mod build;
pub mod catalogue;
pub mod compare;
pub mod html;
pub mod model;
pub mod period;
pub mod plan;
pub mod records;
pub mod run;
pub mod tables;
pub mod write;
