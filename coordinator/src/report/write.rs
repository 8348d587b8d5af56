//! The report's folder: `report.html`, `tables/<id>.csv` (one per table of the body, as shown:
//! suppressed cells as `[c]`), `manifest.json` (every query with its nodes, receipts and
//! disclosure rules, and the table cells it gave) and, only when the catalogue asked for
//! person-level or police-only results, `restricted/` with those results and a warning. The
//! manifest names the restricted files but holds none of their content.

use std::path::{Path, PathBuf};

use serde_json::{Value as Json, json};

use super::catalogue::hex_sha256;
use super::model::{Report, RestrictedContent, Table};

/// The manifest's format name and version.
pub const MANIFEST_FORMAT: &str = "fedlink-report-manifest/1";

/// Folder of the body's tables, inside the report folder.
pub const TABLES_DIR: &str = "tables";

/// Folder of the restricted annex, inside the report folder.
pub const RESTRICTED_DIR: &str = "restricted";

/// Why the report folder could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {problem}")]
pub struct WriteError {
    /// The file or folder.
    pub path: PathBuf,
    /// What went wrong.
    pub problem: String,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> WriteError + '_ {
    move |e| WriteError { path: path.to_path_buf(), problem: e.to_string() }
}

/// A table as CSV: a header row of column names, then its rows as shown.
pub fn table_csv(table: &Table) -> Result<String, WriteError> {
    let fail =
        |e: csv::Error| WriteError { path: PathBuf::from(&table.id), problem: e.to_string() };
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(table.columns.iter().map(|c| c.name.as_str())).map_err(fail)?;
    for row in &table.rows {
        writer.write_record(row.iter().map(|c| c.value.text())).map_err(fail)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| WriteError { path: PathBuf::from(&table.id), problem: e.to_string() })?;
    String::from_utf8(bytes)
        .map_err(|e| WriteError { path: PathBuf::from(&table.id), problem: e.to_string() })
}

/// Writes the report into `dir` (made if missing): the HTML page if given, the CSVs, the
/// manifest and the restricted annex. Returns the files written.
pub fn write_report(
    report: &Report,
    dir: &Path,
    html: Option<&str>,
) -> Result<Vec<PathBuf>, WriteError> {
    let tables_dir = dir.join(TABLES_DIR);
    std::fs::create_dir_all(&tables_dir).map_err(io(&tables_dir))?;
    let mut written = Vec::new();
    let mut tables = Vec::new();
    for (section, table) in report.tables() {
        let text = table_csv(table)?;
        let path = tables_dir.join(format!("{}.csv", table.id));
        std::fs::write(&path, &text).map_err(io(&path))?;
        tables.push(json!({
            "id": table.id,
            "file": format!("{TABLES_DIR}/{}.csv", table.id),
            "sha256": hex_sha256(text.as_bytes()),
            "section": section.id,
            "title": table.title,
            "period": table.period_label,
            "columns": table.columns,
            "rows": table.rows.len(),
            "chart": table.chart,
        }));
        written.push(path);
    }
    let restricted = write_restricted(report, dir, &mut written)?;
    if let Some(html) = html {
        let path = dir.join("report.html");
        std::fs::write(&path, html).map_err(io(&path))?;
        written.push(path);
    }
    let manifest = manifest(report, tables, restricted);
    let path = dir.join("manifest.json");
    let text = serde_json::to_string_pretty(&manifest)
        .map_err(|e| WriteError { path: path.clone(), problem: e.to_string() })?;
    std::fs::write(&path, text + "\n").map_err(io(&path))?;
    written.push(path);
    Ok(written)
}

/// The manifest document.
fn manifest(report: &Report, tables: Vec<Json>, restricted: Vec<Json>) -> Json {
    json!({
        "format": MANIFEST_FORMAT,
        "title": report.title,
        "organisation": report.organisation,
        "period": report.period,
        "period_label": report.period_label,
        "generated_at": report.generated_at,
        "coordinator": report.coordinator,
        "requester": report.requester,
        "catalogue": report.catalogue,
        "partners": report.partners,
        "disclosure": report.disclosure,
        "sections": report.sections.iter().map(|s| json!({
            "id": s.id,
            "title": s.title,
            "analyses": s.analyses,
            "unavailable": s.unavailable,
        })).collect::<Vec<_>>(),
        "tables": tables,
        "queries": report.queries,
        "restricted": restricted,
        "elapsed_seconds": report.elapsed_seconds,
    })
}

const RESTRICTED_WARNING: &str = "\
RESTRICTED - POLICE ONLY. NOT PART OF THE REPORT BODY. DO NOT CIRCULATE.

This folder holds person-level flag-back results (one flag per police record, computed by a
partner and released only after an operator there approved the request, under the case
reference named) and police-only detail (exact counts of police records). Use them only
under the agreed process, by authorised police users, for the case or review named.
annex.html shows them on one page; each has its CSV here. The report's manifest names these
files and the queries that produced them; each query's receipt is in the manifest and the
nodes' audit logs.
";

fn write_restricted(
    report: &Report,
    dir: &Path,
    written: &mut Vec<PathBuf>,
) -> Result<Vec<Json>, WriteError> {
    if report.restricted.is_empty() {
        return Ok(Vec::new());
    }
    let annex = dir.join(RESTRICTED_DIR);
    std::fs::create_dir_all(&annex).map_err(io(&annex))?;
    let readme = annex.join("README.txt");
    std::fs::write(&readme, RESTRICTED_WARNING).map_err(io(&readme))?;
    written.push(readme);
    let page = annex.join("annex.html");
    std::fs::write(&page, super::html::render_annex(report)).map_err(io(&page))?;
    written.push(page);
    let mut entries = Vec::new();
    for item in &report.restricted {
        let text = match &item.content {
            RestrictedContent::Flags(flags) => {
                let mut writer = csv::Writer::from_writer(Vec::new());
                let fail = |e: csv::Error| WriteError {
                    path: annex.join(&item.id),
                    problem: e.to_string(),
                };
                writer.write_record(["record_id", "flag", "label"]).map_err(fail)?;
                for (record, flag, label) in flags {
                    writer
                        .write_record([
                            record.as_str(),
                            if *flag { "yes" } else { "no" },
                            label.as_deref().unwrap_or(""),
                        ])
                        .map_err(fail)?;
                }
                let bytes = writer.into_inner().map_err(|e| WriteError {
                    path: annex.join(&item.id),
                    problem: e.to_string(),
                })?;
                String::from_utf8_lossy(&bytes).into_owned()
            }
            RestrictedContent::Table(table) => table_csv(table)?,
        };
        let file = format!("{}.csv", item.id);
        let path = annex.join(&file);
        std::fs::write(&path, text).map_err(io(&path))?;
        written.push(path);
        entries.push(json!({
            "id": item.id,
            "title": item.title,
            "file": format!("{RESTRICTED_DIR}/{file}"),
            "query": report.queries.get(item.query).map(|q| q.name.clone()),
            "case_ref": item.case_ref,
        }));
    }
    Ok(entries)
}
