//! Running a compiled aggregate query against the dataset store: the raw, unprotected table.
//! Nothing from here may leave the node before disclosure control (and, where the requester
//! shaped the query, DP noise) has been applied.

use rusqlite::Connection;

use crate::aggregate::compile::CompiledQuery;

/// One cell of the raw table: its group values (None where the value is missing) and the
/// metric, as an integer (sums are rounded to the nearest whole number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawCell {
    /// Group values, in the query's group order.
    pub groups: Vec<Option<String>>,
    /// The count or sum.
    pub value: i64,
}

/// Runs the query; every request-controlled value is bound, never spliced.
pub fn execute(conn: &Connection, query: &CompiledQuery) -> Result<Vec<RawCell>, rusqlite::Error> {
    let mut stmt = conn.prepare(&query.sql)?;
    let n = query.groups.len();
    let rows = stmt.query_map(rusqlite::params_from_iter(query.params.iter()), |r| {
        let mut groups = Vec::with_capacity(n);
        for i in 0..n {
            let v: Option<String> = match r.get_ref(i)? {
                rusqlite::types::ValueRef::Null => None,
                rusqlite::types::ValueRef::Integer(x) => Some(x.to_string()),
                rusqlite::types::ValueRef::Real(x) => Some(x.to_string()),
                rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                    Some(String::from_utf8_lossy(t).into_owned())
                }
            };
            groups.push(v);
        }
        let value = match r.get_ref(n)? {
            rusqlite::types::ValueRef::Integer(x) => x,
            rusqlite::types::ValueRef::Real(x) => x.round() as i64,
            _ => 0,
        };
        Ok(RawCell { groups, value })
    })?;
    rows.collect()
}
