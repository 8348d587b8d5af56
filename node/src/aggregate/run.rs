//! Running a compiled aggregate query against the dataset store: the raw, unprotected table.
//! Nothing from here may leave the node before disclosure control (and, where the requester
//! shaped the query, DP noise) has been applied.

use std::collections::{HashMap, HashSet};

use foldhash::fast::FixedState;

use std::path::Path;

use rusqlite::types::Value;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use fedlink_proto::aggregate::GeographyLevel;

use crate::aggregate::compile::{CompiledQuery, MetricKind};
use crate::dataset::geography::GEOGRAPHY_LOOKUP_TABLE;

/// A hash map with foldhash, several times faster than SipHash on short keys.
type FastMap<K, V> = HashMap<K, V, FixedState>;

/// One cell of the raw table: its group values (None where the value is missing) and the
/// metric, as an integer (sums are rounded to the nearest whole number).
///
/// No `Debug`: these are pre-disclosure values and must never reach a log.
#[derive(Clone, PartialEq, Eq)]
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
    subjects: HashSet<u64, FixedState>,
}

/// Cells being folded, keyed by their group values joined with a separator no value contains
/// (0x1F), so a row's key is built in one reused buffer and most rows allocate nothing.
type Cells = FastMap<String, (Vec<Option<String>>, Acc)>;

/// Runs the query on one connection and folds its rows into cells, sorted by group values.
/// Every request-controlled value is bound, never spliced.
pub fn execute(conn: &Connection, query: &CompiledQuery) -> Result<Vec<RawCell>, rusqlite::Error> {
    let mut stmt = conn.prepare(&query.sql)?;
    let rows = stmt.query(rusqlite::params_from_iter(query.params.iter()))?;
    let cells = fold(rows, query, &lookups(conn, query)?)?;
    Ok(finish(cells, query))
}

/// Runs the query on `threads` read-only connections to the store at `db`, each folding the
/// rows of one partition, and merges the cells. Partitions are by subject (`subject mod n`)
/// whenever the query counts or bounds subjects, so each subject's rows, its contribution bound
/// and its distinct count stay within one thread, and the result equals [`execute`]'s; by
/// `rowid mod n` otherwise.
pub fn execute_parallel(
    db: &Path,
    query: &CompiledQuery,
    threads: usize,
) -> Result<Vec<RawCell>, rusqlite::Error> {
    let open = || open_read_only(db);
    let threads = threads.max(1);
    if threads == 1 {
        return execute(&open()?, query);
    }
    let parts: Vec<rusqlite::Result<Cells>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|part| {
                scope.spawn(move || -> rusqlite::Result<Cells> {
                    let conn = open()?;
                    let mut stmt = conn.prepare(&query.partitioned_sql)?;
                    let mut params = query.params.clone();
                    params.push(Value::Integer(threads as i64));
                    params.push(Value::Integer(part as i64));
                    let rows = stmt.query(rusqlite::params_from_iter(params.iter()))?;
                    fold(rows, query, &lookups(&conn, query)?)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(rusqlite::Error::InvalidParameterName("a fold thread panicked".into()))
                })
            })
            .collect()
    });
    let mut merged = Cells::default();
    for part in parts {
        for (key, (groups, acc)) in part? {
            let into = merged.entry(key).or_insert_with(|| (groups, Acc::default()));
            into.1.rows += acc.rows;
            into.1.sum += acc.sum;
            // Partitions by subject are disjoint, so this union is a disjoint one.
            into.1.subjects.extend(acc.subjects);
        }
    }
    Ok(finish(merged, query))
}

/// A read-only connection to the dataset store, waiting out an import's write lock.
pub fn open_read_only(db: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    Ok(conn)
}

/// The lookup tables the query's derived geography groups need.
fn lookups(
    conn: &Connection,
    query: &CompiledQuery,
) -> rusqlite::Result<Vec<Option<HashMap<String, String>>>> {
    query.derived.iter().map(|level| level.map(|l| lookup(conn, l)).transpose()).collect()
}

/// Folds rows into cells, applying the per-subject contribution bound in row order.
fn fold(
    mut rows: rusqlite::Rows<'_>,
    query: &CompiledQuery,
    lookups: &[Option<HashMap<String, String>>],
) -> rusqlite::Result<Cells> {
    let n = query.groups.len();
    let mut cells = Cells::default();
    let mut per_subject: FastMap<u64, u32> = FastMap::default();
    let needs_subject =
        query.max_rows_per_subject.is_some() || query.metric == MetricKind::DistinctSubjects;
    let mut key = String::new();
    // Who the row is about (the import's `subject` column).
    let mut subject = 0u64;
    while let Some(row) = rows.next()? {
        if needs_subject {
            subject = row.get::<_, Option<i64>>(n + 1)?.unwrap_or_default() as u64;
        }
        if let Some(bound) = query.max_rows_per_subject {
            let seen = per_subject.entry(subject).or_insert(0);
            if *seen >= bound {
                continue;
            }
            *seen += 1;
        }
        key.clear();
        for (i, lookup) in lookups.iter().enumerate() {
            match group_value(row.get_ref(i)?, lookup.as_ref()) {
                Some(v) => key.push_str(&v),
                None => key.push('\u{0}'),
            }
            key.push('\u{1f}');
        }
        let cell = match cells.get_mut(&key) {
            Some(cell) => cell,
            None => {
                let groups = lookups
                    .iter()
                    .enumerate()
                    .map(|(i, lookup)| {
                        row.get_ref(i)
                            .ok()
                            .and_then(|v| group_value(v, lookup.as_ref()))
                            .map(|s| s.into_owned())
                    })
                    .collect();
                cells.entry(key.clone()).or_insert((groups, Acc::default()))
            }
        };
        let acc = &mut cell.1;
        match query.metric {
            MetricKind::Rows => acc.rows += 1,
            MetricKind::Sum => acc.sum += number(row.get_ref(n)?),
            MetricKind::DistinctSubjects => {
                acc.subjects.insert(subject);
            }
        }
    }
    Ok(cells)
}

/// The folded cells as the raw table, sorted by group values.
fn finish(cells: Cells, query: &CompiledQuery) -> Vec<RawCell> {
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
    if query.groups.is_empty() && out.is_empty() {
        // A table with no groups always has its one cell, even when no row matched.
        out.push(RawCell { groups: Vec::new(), value: 0 });
    }
    out
}

/// A group's value, looked up to a coarser geography level where the query derives one.
fn group_value<'a>(
    v: ValueRef<'a>,
    lookup: Option<&'a HashMap<String, String>>,
) -> Option<std::borrow::Cow<'a, str>> {
    let value = text(v)?;
    match lookup {
        None => Some(value),
        Some(map) => map.get(value.as_ref()).map(|s| std::borrow::Cow::Borrowed(s.as_str())),
    }
}

/// LSOA → `level` from the node's public lookup table.
fn lookup(conn: &Connection, level: GeographyLevel) -> rusqlite::Result<HashMap<String, String>> {
    // The column name comes from a closed enum, never from the request.
    let mut stmt =
        conn.prepare(&format!("SELECT lsoa, {} FROM {GEOGRAPHY_LOOKUP_TABLE}", level.name()))?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    rows.collect()
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
