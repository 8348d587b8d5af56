//! The report as an aligned text table (for reading) and as CSV (for keeping and comparing).

use super::{Report, Row};

const HEADER: [&str; 11] = [
    "left",
    "right",
    "level",
    "breakdown",
    "group",
    "predicted",
    "correct",
    "actual",
    "precision",
    "recall",
    "f1",
];

/// The first five columns are text (left-aligned), the rest numbers (right-aligned).
const TEXT_COLUMNS: usize = 5;

fn cells(row: &Row, missing: &str) -> Vec<String> {
    let e = &row.evaluation;
    let score = |s: Option<f64>| s.map_or_else(|| missing.to_string(), |v| format!("{v:.4}"));
    vec![
        row.left.clone(),
        row.right.clone(),
        row.level.name().to_string(),
        row.group.breakdown().to_string(),
        row.group.value().to_string(),
        e.predicted.to_string(),
        e.correct.to_string(),
        e.actual.to_string(),
        score(e.precision),
        score(e.recall),
        score(e.f1),
    ]
}

/// The report as a table with aligned columns; a score that cannot be computed is `-`.
pub fn to_table(report: &Report) -> String {
    let mut lines: Vec<Vec<String>> = vec![HEADER.iter().map(|h| h.to_string()).collect()];
    lines.extend(report.rows.iter().map(|r| cells(r, "-")));
    let mut widths = [0usize; HEADER.len()];
    for line in &lines {
        for (w, cell) in widths.iter_mut().zip(line) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for line in &lines {
        let cells: Vec<String> = line
            .iter()
            .zip(widths)
            .enumerate()
            .map(
                |(i, (cell, w))| {
                    if i < TEXT_COLUMNS { format!("{cell:<w$}") } else { format!("{cell:>w$}") }
                },
            )
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// The report as CSV with a header row; a score that cannot be computed is empty.
pub fn to_csv(report: &Report) -> String {
    let mut out = HEADER.join(",");
    out.push('\n');
    for row in &report.rows {
        let cells: Vec<String> = cells(row, "").iter().map(|c| quote(c)).collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// A CSV field, quoted when it holds a comma, quote or line break.
fn quote(cell: &str) -> String {
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_string()
    }
}
