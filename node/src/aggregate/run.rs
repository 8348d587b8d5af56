//! Running a compiled aggregate query against the dataset store: the raw, unprotected table.
//! Nothing from here may leave the node before disclosure control (and, where the requester
//! shaped the query, DP noise) has been applied.

use std::collections::{HashMap, HashSet};

use rusqlite::Connection;
use rusqlite::types::ValueRef;

use crate::aggregate::compile::{CompiledQuery, MetricKind};

/// One cell of the raw table: its group values (None where the value is missing) and the
/// metric, as an integer (sums are rounded to the nearest whole number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawCell {
    /// Group values, in the query's group order.
    pub groups: Vec<Option<String>>,
    /// The count or sum.
    pub value: i64,
}

/// A cell being folded.
#[derive(Default)]
struct Acc {
    rows: i64,
    sum: f64,
    subjects: HashSet<String>,
}

/// Runs the query and folds its rows into cells, sorted by group values. Every
/// request-controlled value is bound, never spliced.
pub fn execute(conn: &Connection, query: &CompiledQuery) -> Result<Vec<RawCell>, rusqlite::Error> {
    let n = query.groups.len();
    let mut stmt = conn.prepare(&query.sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(query.params.iter()))?;
    // Cells keyed by their group values joined with a separator no value contains (0x1F), so
    // a row's key is built in one reused buffer and most rows allocate nothing.
    let mut cells: HashMap<String, (Vec<Option<String>>, Acc)> = HashMap::new();
    let mut per_subject: HashMap<String, u32> = HashMap::new();
    let mut key = String::new();
    while let Some(row) = rows.next()? {
        if let Some(bound) = query.max_rows_per_subject {
            let subject = text(row.get_ref(n + 1)?).unwrap_or_default();
            let seen = per_subject.entry(subject.to_string()).or_insert(0);
            if *seen >= bound {
                continue;
            }
            *seen += 1;
        }
        key.clear();
        for i in 0..n {
            match text(row.get_ref(i)?) {
                Some(v) => key.push_str(&v),
                None => key.push('\u{0}'),
            }
            key.push('\u{1f}');
        }
        let cell = match cells.get_mut(&key) {
            Some(cell) => cell,
            None => {
                let groups = (0..n)
                    .map(|i| row.get_ref(i).ok().and_then(text).map(|s| s.into_owned()))
                    .collect();
                cells.entry(key.clone()).or_insert((groups, Acc::default()))
            }
        };
        let acc = &mut cell.1;
        match query.metric {
            MetricKind::Rows => acc.rows += 1,
            MetricKind::Sum => acc.sum += number(row.get_ref(n)?),
            MetricKind::DistinctSubjects => {
                let subject = text(row.get_ref(n + 1)?).unwrap_or_default();
                if !acc.subjects.contains(subject.as_ref()) {
                    acc.subjects.insert(subject.into_owned());
                }
            }
        }
    }
    let mut out: Vec<RawCell> = cells
        .into_values()
        .map(|(groups, acc)| RawCell {
            groups,
            value: match query.metric {
                MetricKind::Rows => acc.rows,
                MetricKind::Sum => acc.sum.round() as i64,
                MetricKind::DistinctSubjects => {
                    i64::try_from(acc.subjects.len()).unwrap_or(i64::MAX)
                }
            },
        })
        .collect();
    out.sort_by(|a, b| a.groups.cmp(&b.groups));
    if n == 0 && out.is_empty() {
        // A table with no groups always has its one cell, even when no row matched.
        out.push(RawCell { groups: Vec::new(), value: 0 });
    }
    Ok(out)
}

fn text(v: ValueRef<'_>) -> Option<std::borrow::Cow<'_, str>> {
    match v {
        ValueRef::Null => None,
        ValueRef::Integer(x) => Some(x.to_string().into()),
        ValueRef::Real(x) => Some(x.to_string().into()),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t)),
    }
}

fn number(v: ValueRef<'_>) -> f64 {
    match v {
        ValueRef::Integer(x) => x as f64,
        ValueRef::Real(x) => x,
        _ => 0.0,
    }
}
