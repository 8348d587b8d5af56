//! What changed between two runs of the report, from their folders alone (manifest and
//! CSVs): tables added or gone, cells whose released value changed (by row label and column),
//! queries whose status changed (answered, refused, down), partners that became unavailable or
//! came back. Scheduled runs write each run into its own dated folder and this beside it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

/// At most this many changed cells are listed per table; the rest are counted.
const CELLS_PER_TABLE: usize = 20;

/// Why two runs could not be compared.
#[derive(Debug, thiserror::Error)]
#[error("cannot compare with {path}: {problem}")]
pub struct CompareError {
    /// The file at fault.
    pub path: PathBuf,
    /// What is wrong.
    pub problem: String,
}

/// The differences, one line each, and how many cells changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// The previous run's folder.
    pub previous: PathBuf,
    /// One line per difference.
    pub lines: Vec<String>,
    /// Cells whose value changed, over all tables.
    pub changed_cells: usize,
}

impl Changes {
    /// The text written to `changes.txt`.
    pub fn render(&self) -> String {
        let mut out = format!(
            "Changes since the run in {}\n(Counts from shaped and linked queries carry fresh \
             random noise each run, so a small change there may be noise alone; published \
             templates change only when the data do.)\n",
            self.previous.display()
        );
        if self.lines.is_empty() {
            out.push_str("No table, query or partner changed.\n");
        }
        for line in &self.lines {
            out.push_str(&format!("- {line}\n"));
        }
        out
    }
}

fn read_json(path: &Path) -> Result<Json, CompareError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CompareError { path: path.to_path_buf(), problem: e.to_string() })?;
    serde_json::from_str(&text)
        .map_err(|e| CompareError { path: path.to_path_buf(), problem: e.to_string() })
}

/// A table's cells by (row label, column name).
type Cells = BTreeMap<(String, String), String>;

/// Reads a table's cells, leaving out the columns named in `skip` (free text such as a
/// query's status, which names log entries and changes every run).
fn read_cells(path: &Path, skip: &[String]) -> Result<Cells, CompareError> {
    let fail = |problem: String| CompareError { path: path.to_path_buf(), problem };
    let mut reader = csv::Reader::from_path(path).map_err(|e| fail(e.to_string()))?;
    let header: Vec<String> =
        reader.headers().map_err(|e| fail(e.to_string()))?.iter().map(String::from).collect();
    let mut cells = Cells::new();
    for record in reader.records() {
        let record = record.map_err(|e| fail(e.to_string()))?;
        let label = record.get(0).unwrap_or_default().to_string();
        for (c, value) in record.iter().enumerate().skip(1) {
            let column = header.get(c).cloned().unwrap_or_default();
            if skip.contains(&column) {
                continue;
            }
            cells.insert((label.clone(), column), value.to_string());
        }
    }
    Ok(cells)
}

/// The text columns of a table (by the manifest's column kinds).
fn text_columns(manifest: &Json, id: &str) -> Vec<String> {
    manifest["tables"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["id"] == id)
        .flat_map(|t| t["columns"].as_array().into_iter().flatten())
        .filter(|c| c["kind"] == "text")
        .filter_map(|c| c["name"].as_str().map(String::from))
        .collect()
}

/// Table ids with their file and digest.
fn tables(manifest: &Json) -> BTreeMap<String, (String, String, String)> {
    manifest["tables"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| {
            Some((
                t["id"].as_str()?.to_string(),
                (
                    t["file"].as_str()?.to_string(),
                    t["sha256"].as_str().unwrap_or_default().to_string(),
                    t["title"].as_str().unwrap_or_default().to_string(),
                ),
            ))
        })
        .collect()
}

fn statuses(manifest: &Json, list: &str, key: &str, value: &str) -> BTreeMap<String, String> {
    manifest[list]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|q| {
            let shown = q[value].as_str().map_or_else(|| q[value].to_string(), String::from);
            Some((q[key].as_str()?.to_string(), shown))
        })
        .collect()
}

/// Compares the run in `current` with the run in `previous`.
pub fn compare_runs(previous: &Path, current: &Path) -> Result<Changes, CompareError> {
    let old = read_json(&previous.join("manifest.json"))?;
    let new = read_json(&current.join("manifest.json"))?;
    let mut changes = Changes { previous: previous.to_path_buf(), ..Changes::default() };
    if old["period"] != new["period"] {
        changes.lines.push(format!("the period changed: {} -> {}", old["period"], new["period"]));
    }
    let (old_tables, new_tables) = (tables(&old), tables(&new));
    for (id, (file, digest, title)) in &new_tables {
        let Some((old_file, old_digest, _)) = old_tables.get(id) else {
            changes.lines.push(format!("new table {id} ({title})"));
            continue;
        };
        if old_digest == digest {
            continue;
        }
        let skip = text_columns(&new, id);
        let before = read_cells(&previous.join(old_file), &skip)?;
        let after = read_cells(&current.join(file), &skip)?;
        let mut differing = Vec::new();
        for (key, value) in &after {
            match before.get(key) {
                Some(old_value) if old_value == value => {}
                Some(old_value) => differing.push(format!(
                    "{id}: {} / {}: {} -> {}",
                    key.0,
                    key.1,
                    shown(old_value),
                    shown(value)
                )),
                None => {
                    differing.push(format!("{id}: {} / {}: new, {}", key.0, key.1, shown(value)))
                }
            }
        }
        for key in before.keys().filter(|k| !after.contains_key(*k)) {
            differing.push(format!("{id}: {} / {}: gone", key.0, key.1));
        }
        changes.changed_cells += differing.len();
        let more = differing.len().saturating_sub(CELLS_PER_TABLE);
        changes.lines.extend(differing.into_iter().take(CELLS_PER_TABLE));
        if more > 0 {
            changes.lines.push(format!("{id}: and {more} more cells changed"));
        }
    }
    for (id, (_, _, title)) in &old_tables {
        if !new_tables.contains_key(id) {
            changes.lines.push(format!("table {id} ({title}) is no longer in the report"));
        }
    }
    let (old_q, new_q) =
        (statuses(&old, "queries", "name", "status"), statuses(&new, "queries", "name", "status"));
    for (name, status) in &new_q {
        match old_q.get(name) {
            Some(before) if before != status => {
                changes.lines.push(format!("query {name}: {before} -> {status}"));
            }
            None => changes.lines.push(format!("new query {name}: {status}")),
            _ => {}
        }
    }
    let (old_p, new_p) = (
        statuses(&old, "partners", "name", "available"),
        statuses(&new, "partners", "name", "available"),
    );
    for (name, available) in &new_p {
        if let Some(before) = old_p.get(name)
            && before != available
        {
            changes.lines.push(if available == "true" {
                format!("partner {name} is available again")
            } else {
                format!("partner {name} became unavailable")
            });
        }
    }
    Ok(changes)
}

fn shown(value: &str) -> &str {
    if value.is_empty() { "(blank)" } else { value }
}

/// The newest run folder in `runs` before `current` (run folders are named by time, so their
/// names sort in time order), if any holds a manifest.
pub fn previous_run(runs: &Path, current: &Path) -> Option<PathBuf> {
    let current_name = current.file_name()?.to_string_lossy().into_owned();
    let mut names: Vec<String> = std::fs::read_dir(runs)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| e.path().join("manifest.json").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| *n < current_name)
        .collect();
    names.sort();
    names.pop().map(|n| runs.join(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(dir: &Path, name: &str, cell: &str, status: &str) -> PathBuf {
        let run = dir.join(name);
        std::fs::create_dir_all(run.join("tables")).expect("mkdir");
        let csv = format!("ward,count,status\nE1,{cell},entry {name}\nE2,10,entry {name}\n");
        std::fs::write(run.join("tables/t.csv"), &csv).expect("csv");
        let manifest = serde_json::json!({
            "period": "2025-04-01..2026-03-31",
            "tables": [{ "id": "t", "file": "tables/t.csv", "sha256": csv, "title": "T",
                         "columns": [{ "name": "ward", "kind": "label" },
                                     { "name": "count", "kind": "count" },
                                     { "name": "status", "kind": "text" }] }],
            "queries": [{ "name": "q", "status": status }],
            "partners": [{ "name": "icb", "available": status == "answered" }],
        });
        std::fs::write(run.join("manifest.json"), manifest.to_string()).expect("manifest");
        run
    }

    #[test]
    fn a_changed_cell_a_status_and_a_partner_are_each_named() {
        let dir = tempfile::tempdir().expect("tmp");
        let first = run(dir.path(), "2026-01-01T06-00-00", "15", "answered");
        let second = run(dir.path(), "2026-01-02T06-00-00", "[c]", "down");
        assert_eq!(previous_run(dir.path(), &second), Some(first.clone()));
        assert_eq!(previous_run(dir.path(), &first), None);
        let changes = compare_runs(&first, &second).expect("compare");
        // The status column differs on every row but is free text, not compared.
        assert_eq!(changes.changed_cells, 1, "{changes:?}");
        assert!(changes.lines.contains(&"t: E1 / count: 15 -> [c]".to_string()), "{changes:?}");
        assert!(changes.lines.contains(&"query q: answered -> down".to_string()));
        assert!(changes.lines.contains(&"partner icb became unavailable".to_string()));
    }

    #[test]
    fn identical_runs_have_no_changes() {
        let dir = tempfile::tempdir().expect("tmp");
        let first = run(dir.path(), "a", "15", "answered");
        let second = run(dir.path(), "b", "15", "answered");
        let changes = compare_runs(&first, &second).expect("compare");
        assert!(changes.lines.is_empty(), "{changes:?}");
        assert!(changes.render().contains("No table, query or partner changed."));
    }
}
