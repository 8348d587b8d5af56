//! Self-contained HTML rendering for the reports fedlink writes (the DPO's audit report, the
//! analytical report): escaping, a page shell with inline CSS and a table of contents, tables
//! whose suppressed cells read as suppressed, and inline SVG charts. No JavaScript, no external
//! asset; output is a pure function of the input, so the same report gives the same bytes.
//!
//! - [`escape`]: text and attribute escaping.
//! - [`markup`]: [`Html`], markup safe by construction, and small builders (paragraph, callout…).
//! - [`number`]: numbers as a reader sees them (`1,204`, `0.05`).
//! - [`table`]: [`Table`], [`Column`], [`Cell`].
//! - [`chart`]: [`BarChart`], [`LineChart`], [`StackedBarChart`].
//! - [`page`]: [`Page`] and [`Section`]: the whole document.
//! - [`check`]: well-formedness and self-containment checks for tests.
//! - [`ranked`]: [`ranked::RankedTable`], areas in rank order with inline bars.
//! - [`upset`]: [`upset::UpsetChart`], an overlap matrix as an UpSet-style chart.

pub mod chart;
pub mod check;
pub mod escape;
pub mod markup;
pub mod number;
pub mod page;
pub mod ranked;
pub mod table;
pub mod upset;

pub use chart::{Bar, BarChart, LineChart, Orientation, Series, StackedBar, StackedBarChart};
pub use check::{MarkupError, check_well_formed, external_references};
pub use escape::{escape_attr, escape_text};
pub use markup::{
    CalloutKind, Html, Stat, bullet_list, callout, code, key_facts, note, nowrap, paragraph,
    section_link, stat_tiles, subheading,
};
pub use number::{format_count, format_fixed, format_value};
pub use page::{Page, Section};
pub use table::{Align, Cell, Column, Table};
