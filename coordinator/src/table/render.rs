//! How a released table is shown: aligned text for the terminal (a cross-tab for two
//! dimensions, one row per cell otherwise), long-format CSV for spreadsheets and scripts, and
//! JSON with its provenance. A suppressed value is `[c]` in text, an empty value with
//! `suppressed = true` in CSV, and `"count": null, "suppressed": true` in JSON — never 0.
//!
//! # CSV layout
//!
//! One column per dimension (headed by its name), then `value` and `suppressed`:
//!
//! ```text
//! ward,month,value,suppressed
//! E05000001,2025-04,15,false
//! E05000001,2025-05,,true
//! E05000001,*,40,false
//! *,2025-04,120,false
//! *,*,310,false
//! ```
//!
//! Cells come first, row-major. Then the released margins: a dimension's total by level has
//! its level in that dimension's column and `*` ("all levels", as in a SQL `GROUP BY CUBE`) in
//! every other; the grand total has `*` everywhere. A table without dimensions is one row of
//! `value,suppressed`.

use fedlink_proto::audit::budget::micro_to_string;
use serde_json::{Value as Json, json};

use super::{Released, ReleasedTable};
use crate::grid::{Align, aligned, csv_line, thousands, wrap};

/// Footer lines are wrapped at this width in text.
pub const FOOTER_WIDTH: usize = 100;

/// How the coordinator prints tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Aligned text with a footer of rules and provenance.
    #[default]
    Table,
    /// Long-format CSV (see the module docs).
    Csv,
    /// JSON with provenance.
    Json,
}

/// The text of a released value in a text table: a count with thousands separators, or `[c]`.
pub fn text(value: Released) -> String {
    match value {
        Released::Count(n) => thousands(n),
        Released::Suppressed => "[c]".to_string(),
    }
}

/// The `value` and `suppressed` fields of a released value in CSV.
pub fn csv_pair(value: Released) -> [String; 2] {
    match value {
        Released::Count(n) => [n.to_string(), "false".to_string()],
        Released::Suppressed => [String::new(), "true".to_string()],
    }
}

/// A released value in JSON: `{"count": n, "suppressed": false}` or
/// `{"count": null, "suppressed": true}`.
pub fn json_value(value: Released) -> Json {
    json!({ "count": value.count(), "suppressed": value.is_suppressed() })
}

impl ReleasedTable {
    /// The table in the chosen format.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Table => self.to_text(),
            Format::Csv => self.to_csv(),
            Format::Json => format!("{:#}\n", self.to_json()),
        }
    }

    /// Aligned text: a cross-tab for two dimensions, one row per cell otherwise; then a footer.
    pub fn to_text(&self) -> String {
        let mut out = if self.dimensions.len() == 2 { self.cross_tab() } else { self.long_text() };
        out.push('\n');
        for line in self.footer().iter().flat_map(|l| wrap(l, FOOTER_WIDTH)) {
            out.push_str(&line);
            out.push('\n');
        }
        out
    }

    /// Two dimensions: the first down the side, the second across, with the released totals
    /// as a last column and a last row.
    fn cross_tab(&self) -> String {
        let (rows, columns) = (&self.dimensions[0], &self.dimensions[1]);
        let row_totals = self.margin(0);
        let column_totals = self.margin(1);
        let total_column = row_totals.is_some() || self.total.is_some();
        let total_row = column_totals.is_some() || self.total.is_some();
        let mut header = vec![format!("{} \\ {}", rows.name, columns.name)];
        header.extend(columns.levels.iter().cloned());
        if total_column {
            header.push("Total".into());
        }
        let mut grid = vec![header];
        for (r, level) in rows.levels.iter().enumerate() {
            let mut line = vec![level.clone()];
            line.extend(
                (0..columns.levels.len())
                    .map(|c| self.cell(&[r, c]).map_or_else(String::new, text)),
            );
            if total_column {
                line.push(
                    row_totals.and_then(|t| t.get(r).copied()).map_or_else(String::new, text),
                );
            }
            grid.push(line);
        }
        if total_row {
            let mut line = vec!["Total".to_string()];
            line.extend((0..columns.levels.len()).map(|c| {
                column_totals.and_then(|t| t.get(c).copied()).map_or_else(String::new, text)
            }));
            if total_column {
                line.push(self.total.map_or_else(String::new, text));
            }
            grid.push(line);
        }
        let mut align = vec![Align::Left];
        align.resize(columns.levels.len() + 2, Align::Right);
        aligned(&grid, &align)
    }

    /// One row per cell, then a row per released total (`Total` in the dimensions it sums).
    fn long_text(&self) -> String {
        let dims = self.dimensions.len();
        let mut header: Vec<String> = self.dimensions.iter().map(|d| d.name.clone()).collect();
        header.push("value".into());
        let mut grid = vec![header];
        grid.extend(self.rows().map(|(levels, value)| {
            let mut line: Vec<String> = levels.into_iter().map(str::to_string).collect();
            line.push(text(value));
            line
        }));
        for (levels, value) in self.margin_rows("Total") {
            let mut line = levels;
            line.push(text(value));
            grid.push(line);
        }
        let mut align = vec![Align::Left; dims];
        align.push(Align::Right);
        aligned(&grid, &align)
    }

    /// The released totals as rows: one level per dimension, `all` in the dimensions summed
    /// over. Empty for a table without dimensions (its one cell is its total).
    fn margin_rows(&self, all: &str) -> Vec<(Vec<String>, Released)> {
        let dims = self.dimensions.len();
        if dims == 0 {
            return Vec::new();
        }
        let mut rows = Vec::new();
        for (d, dim) in self.dimensions.iter().enumerate() {
            let Some(values) = self.margin(d) else { continue };
            for (level, &value) in dim.levels.iter().zip(values) {
                let mut levels = vec![all.to_string(); dims];
                levels[d] = level.clone();
                rows.push((levels, value));
            }
        }
        if let Some(total) = self.total {
            rows.push((vec![all.to_string(); dims], total));
        }
        rows
    }

    /// The footer: legend, rules, privacy, template and provenance, one line each (unwrapped).
    pub fn footer(&self) -> Vec<String> {
        let mut lines =
            vec!["[c] = suppressed by the node's disclosure control (not zero).".to_string()];
        if !self.legend.is_empty() {
            lines.push(format!("Legend (from the node): {}", self.legend));
        }
        if !self.applied_rules.is_empty() {
            lines.push(format!("Rules applied: {}", self.applied_rules.join(", ")));
        }
        lines.push(match &self.privacy {
            Some(p) => format!(
                "Privacy: {} noise, ε {} charged (budget period {}); ε {} left for this \
                 requester; at most {} rows per subject",
                p.mechanism,
                micro_to_string(p.epsilon_micro),
                if p.budget_period.is_empty() { "-" } else { &p.budget_period },
                micro_to_string(p.remaining_micro),
                p.max_rows_per_subject
            ),
            None => "Privacy: no noise added (disclosure control only)".to_string(),
        });
        if let Some(t) = &self.template {
            lines.push(format!("Template: {}, period {}", t.name, t.period));
        }
        let p = &self.provenance;
        lines.push(format!(
            "Source: node {}, dataset {}, metric {}; query {}; receipt: entry {} of the node's \
             log, verified at size {}",
            p.node,
            self.dataset,
            self.metric_name(),
            p.query_id,
            p.receipt_entry,
            p.receipt_log_size
        ));
        lines
    }

    /// Long-format CSV (module docs, "CSV layout").
    pub fn to_csv(&self) -> String {
        let mut header: Vec<String> = self.dimensions.iter().map(|d| d.name.clone()).collect();
        header.extend(["value".to_string(), "suppressed".to_string()]);
        let mut out = csv_line(&header);
        for (levels, value) in self.rows() {
            let mut line: Vec<String> = levels.into_iter().map(str::to_string).collect();
            line.extend(csv_pair(value));
            out.push_str(&csv_line(&line));
        }
        for (levels, value) in self.margin_rows("*") {
            let mut line = levels;
            line.extend(csv_pair(value));
            out.push_str(&csv_line(&line));
        }
        out
    }

    /// JSON: provenance, shape, every cell with its levels, margins, rules and privacy.
    pub fn to_json(&self) -> Json {
        let p = &self.provenance;
        json!({
            "node": p.node,
            "query_id": p.query_id,
            "receipt": { "entry": p.receipt_entry, "log_size": p.receipt_log_size },
            "dataset": self.dataset,
            "metric": self.metric_name(),
            "template": self.template.as_ref()
                .map(|t| json!({ "name": t.name, "period": t.period })),
            "dimensions": self.dimensions.iter()
                .map(|d| json!({ "name": d.name, "levels": d.levels }))
                .collect::<Vec<_>>(),
            "cells": self.rows().map(|(levels, value)| json!({
                "levels": levels,
                "count": value.count(),
                "suppressed": value.is_suppressed(),
            })).collect::<Vec<_>>(),
            "margins": self.dimensions.iter().enumerate().filter_map(|(d, dim)| {
                self.margin(d).map(|values| json!({
                    "dimension": dim.name,
                    "values": dim.levels.iter().zip(values).map(|(level, &v)| json!({
                        "level": level,
                        "count": v.count(),
                        "suppressed": v.is_suppressed(),
                    })).collect::<Vec<_>>(),
                }))
            }).collect::<Vec<_>>(),
            "total": self.total.map(json_value),
            "applied_rules": self.applied_rules,
            "legend": self.legend,
            "privacy": self.privacy.as_ref().map(|p| json!({
                "mechanism": p.mechanism,
                "epsilon": micro_to_string(p.epsilon_micro),
                "epsilon_micro": p.epsilon_micro,
                "remaining_epsilon": micro_to_string(p.remaining_micro),
                "remaining_micro": p.remaining_micro,
                "budget_period": p.budget_period,
                "max_rows_per_subject": p.max_rows_per_subject,
            })),
        })
    }
}
