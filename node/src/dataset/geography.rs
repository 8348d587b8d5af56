//! The public geography lookup a node may hold: which ward and local authority each LSOA lies
//! in (the ONS "LSOA to ward to LAD" lookup, or the synthetic county's). It lets a dataset that
//! records only LSOA of residence — ECDS, say — be counted by ward (domain.md §6, S1), so tables
//! from different partners meet on the same public codes at the coordinator.

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::Connection;

/// The table the lookup is kept in, inside `datasets.db`.
pub const GEOGRAPHY_LOOKUP_TABLE: &str = "geography_lookup";

/// Why a lookup file cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: csv::Error,
    },
    /// The header lacks a needed column.
    #[error("{path}: the header needs columns lsoa, ward and local_authority")]
    Header {
        /// The file.
        path: String,
    },
    /// A row is unusable.
    #[error("{path} line {line}: {problem}")]
    Row {
        /// The file.
        path: String,
        /// 1-based line.
        line: u64,
        /// What is wrong.
        problem: String,
    },
    /// The database refused.
    #[error("storing the geography lookup: {0}")]
    Store(#[from] rusqlite::Error),
}

/// One LSOA's place in the hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// Ward code.
    pub ward: String,
    /// Local authority code.
    pub local_authority: String,
}

/// Reads a lookup CSV with (at least) the columns `lsoa`, `ward`, `local_authority`. Codes are
/// nine-character GSS codes (e.g. `E01000001`); a row that disagrees with an earlier one for the
/// same LSOA is an error.
pub fn read_lookup(path: &Path) -> Result<BTreeMap<String, Placement>, LookupError> {
    let shown = path.display().to_string();
    let read = |source| LookupError::Read { path: shown.clone(), source };
    let mut reader = csv::Reader::from_path(path).map_err(read)?;
    let header = reader.headers().map_err(read)?.clone();
    let col = |name: &str| header.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
    let (Some(l), Some(w), Some(a)) = (col("lsoa"), col("ward"), col("local_authority")) else {
        return Err(LookupError::Header { path: shown });
    };
    let mut map = BTreeMap::new();
    for record in reader.records() {
        let record = record.map_err(read)?;
        let line = record.position().map_or(0, |p| p.line());
        let bad = |problem: String| LookupError::Row { path: shown.clone(), line, problem };
        let code = |i: usize, what: &str| {
            let v = record.get(i).unwrap_or("").trim().to_ascii_uppercase();
            if is_gss_code(&v) {
                Ok(v)
            } else {
                Err(bad(format!("{what} {v:?} is not a GSS code")))
            }
        };
        let lsoa = code(l, "lsoa")?;
        let placement = Placement { ward: code(w, "ward")?, local_authority: code(a, "la")? };
        if let Some(earlier) = map.insert(lsoa.clone(), placement.clone())
            && earlier != placement
        {
            return Err(bad(format!("LSOA {lsoa} is placed twice, differently")));
        }
    }
    Ok(map)
}

/// Replaces the stored lookup with `lookup`, in one transaction.
pub fn store_lookup(
    conn: &mut Connection,
    lookup: &BTreeMap<String, Placement>,
) -> Result<(), LookupError> {
    let tx = conn.transaction()?;
    tx.execute_batch(&format!(
        "CREATE TABLE IF NOT EXISTS {GEOGRAPHY_LOOKUP_TABLE} (
             lsoa TEXT PRIMARY KEY, ward TEXT NOT NULL, local_authority TEXT NOT NULL
         ) STRICT, WITHOUT ROWID;
         DELETE FROM {GEOGRAPHY_LOOKUP_TABLE};"
    ))?;
    {
        let mut insert = tx.prepare(&format!(
            "INSERT INTO {GEOGRAPHY_LOOKUP_TABLE} (lsoa, ward, local_authority) VALUES (?1, ?2, ?3)"
        ))?;
        for (lsoa, p) in lookup {
            insert.execute((lsoa, &p.ward, &p.local_authority))?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Whether the store holds a geography lookup.
pub fn lookup_present(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
        [GEOGRAPHY_LOOKUP_TABLE],
        |r| r.get(0),
    )
}

/// A GSS code: a capital letter and eight digits.
fn is_gss_code(code: &str) -> bool {
    let b = code.as_bytes();
    b.len() == 9 && b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_lookup_and_refuses_bad_codes() {
        let dir = tempfile::tempdir().expect("dir");
        let good = dir.path().join("good.csv");
        std::fs::write(
            &good,
            "lsoa,ward,local_authority,population\nE01000001,E05000001,E06000001,1500\n",
        )
        .expect("write");
        let map = read_lookup(&good).expect("reads");
        assert_eq!(map["E01000001"].ward, "E05000001");

        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, "lsoa,ward,local_authority\nE01000001,'; DROP TABLE x;--,E06000001\n")
            .expect("write");
        assert!(matches!(read_lookup(&bad), Err(LookupError::Row { line: 2, .. })));

        let header = dir.path().join("header.csv");
        std::fs::write(&header, "lsoa,ward\nE01000001,E05000001\n").expect("write");
        assert!(matches!(read_lookup(&header), Err(LookupError::Header { .. })));
    }

    #[test]
    fn stores_and_replaces() {
        let mut conn = Connection::open_in_memory().expect("db");
        let mut map = BTreeMap::new();
        let p = Placement { ward: "E05000001".into(), local_authority: "E06000001".into() };
        map.insert("E01000001".to_string(), p);
        store_lookup(&mut conn, &map).expect("stores");
        store_lookup(&mut conn, &map).expect("replaces");
        let n: i64 = conn
            .query_row(&format!("SELECT COUNT(*) FROM {GEOGRAPHY_LOOKUP_TABLE}"), [], |r| r.get(0))
            .expect("count");
        assert_eq!(n, 1);
    }
}
