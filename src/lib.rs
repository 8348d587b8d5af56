//! fedlink: the single binary's code. `main.rs` dispatches to [`cli`]; [`devca`] makes the
//! development CA for local federations.
//!
//! # Layout
//!
//! - [`cli`]: one module per subcommand (`federation`, `node`, `coordinator`, `audit`, `demo`).
//! - [`devca`]: the development CA and member certificates (rcgen).
//! - [`evaluate`]: person-linkage accuracy on a fresh synthetic county (`fedlink linkage
//!   evaluate`).

#![forbid(unsafe_code)]

pub mod cli;
pub mod devca;
pub mod evaluate;
