//! `coordinator run`: every query of a query file (nodes concurrently), then every combine of
//! their released tables; rendered under headings, with each failure said plainly (which
//! query, which node, refused under which rule, down, or not trusted), and one CSV per table.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fedlink_proto::federation::MemberRole;
use serde_json::{Value as Json, json};

use crate::aggregate::{AggregateOutcome, aggregate_one};
use crate::combine::{CombinedTable, combine};
use crate::coordinator::{Coordinator, QueryOverrides};
use crate::outcome::Outcome;
use crate::query_file::{NamedQuery, QueryFile};
use crate::table::ReleasedTable;
use crate::table::render::Format;

/// One query and what its node said.
#[derive(Debug)]
pub struct QueryResult {
    /// The query as the file states it.
    pub query: NamedQuery,
    /// What came of it.
    pub outcome: AggregateOutcome,
}

/// One combine and its table, or why there is none.
#[derive(Debug)]
pub struct CombineResult {
    /// The combine's name.
    pub name: String,
    /// Its heading.
    pub title: Option<String>,
    /// The combined table, or why it could not be made.
    pub table: Result<CombinedTable, String>,
}

/// Everything a run produced.
#[derive(Debug)]
pub struct RunResults {
    /// The queries, in file order.
    pub queries: Vec<QueryResult>,
    /// The combines, in file order.
    pub combines: Vec<CombineResult>,
}

/// Why a CSV file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}")]
pub struct WriteError {
    /// The file or folder.
    pub path: PathBuf,
    /// The I/O error.
    pub source: std::io::Error,
}

/// Runs every query of `file`, then every combine.
///
/// Nodes are asked concurrently, but each node's queries go one after another, in file order.
/// Each envelope states the size of the node's log the coordinator last verified, and the
/// node's receipt must prove its log grew consistently from exactly that size; two queries in
/// flight to one node would both start from the same size, and whichever answered second would
/// carry a receipt that no longer starts where the coordinator's view now is.
pub async fn run_file(
    coordinator: &Coordinator,
    file: &QueryFile,
    overrides: &QueryOverrides,
) -> RunResults {
    let mut by_node: BTreeMap<&str, Vec<(usize, &NamedQuery)>> = BTreeMap::new();
    for (i, query) in file.queries.iter().enumerate() {
        by_node.entry(query.node.as_str()).or_default().push((i, query));
    }
    let per_node = by_node.into_values().map(|queries| async move {
        let mut results = Vec::with_capacity(queries.len());
        for (i, query) in queries {
            results.push((i, ask_query(coordinator, query, overrides).await));
        }
        results
    });
    let mut numbered: Vec<(usize, QueryResult)> =
        futures::future::join_all(per_node).await.into_iter().flatten().collect();
    numbered.sort_by_key(|(i, _)| *i);
    let queries: Vec<QueryResult> = numbered.into_iter().map(|(_, result)| result).collect();
    let combines = file
        .combines
        .iter()
        .map(|spec| {
            let mut tables: Vec<(&str, &ReleasedTable)> = Vec::new();
            let mut missing = Vec::new();
            for name in &spec.queries {
                match queries
                    .iter()
                    .find(|r| &r.query.name == name)
                    .and_then(|r| r.outcome.answer())
                {
                    Some(table) => tables.push((name.as_str(), table)),
                    None => missing.push(name.as_str()),
                }
            }
            let table = if missing.is_empty() {
                combine(spec, &tables).map_err(|e| e.to_string())
            } else {
                Err(format!("not combined: {} did not answer", missing.join(", ")))
            };
            CombineResult { name: spec.name.clone(), title: spec.title.clone(), table }
        })
        .collect();
    RunResults { queries, combines }
}

/// Asks one query's node, with the query's purpose if it states one.
async fn ask_query(
    coordinator: &Coordinator,
    query: &NamedQuery,
    overrides: &QueryOverrides,
) -> QueryResult {
    let federation = &coordinator.settings().federation;
    let outcome = match federation.member(&query.node) {
        Some(node) if node.role == MemberRole::Node => {
            let overrides = QueryOverrides {
                purpose: query.purpose.clone().or_else(|| overrides.purpose.clone()),
                ..overrides.clone()
            };
            aggregate_one(coordinator, node, query.request.clone(), &overrides).await
        }
        _ => Outcome::NotSent(format!(
            "{:?} is not a node of federation {:?}",
            query.node, federation.name
        )),
    };
    QueryResult { query: query.clone(), outcome }
}

impl QueryResult {
    /// The heading: title and name.
    fn heading(&self) -> String {
        match &self.query.title {
            Some(title) => format!("{title} ({})", self.query.name),
            None => self.query.name.clone(),
        }
    }

    /// The failure line, naming the node.
    fn failure(&self) -> Option<String> {
        self.outcome.failure().map(|f| format!("node {}: {f}", self.query.node))
    }
}

impl CombineResult {
    fn heading(&self) -> String {
        match &self.title {
            Some(title) => format!("{title} ({})", self.name),
            None => self.name.clone(),
        }
    }
}

fn status(outcome: &AggregateOutcome) -> &'static str {
    match outcome {
        Outcome::Answered { .. } => "answered",
        Outcome::Refused { .. } => "refused",
        Outcome::Down(_) => "down",
        Outcome::NotSent(_) => "not_sent",
        Outcome::Untrusted(_) => "untrusted",
    }
}

impl RunResults {
    /// Whether every query answered and every combine was made.
    pub fn all_ok(&self) -> bool {
        self.queries.iter().all(|q| q.outcome.is_answered())
            && self.combines.iter().all(|c| c.table.is_ok())
    }

    /// One line per failed query or combine: its name and what happened.
    pub fn failures(&self) -> Vec<String> {
        let queries = self
            .queries
            .iter()
            .filter_map(|q| q.failure().map(|f| format!("query {}: {f}", q.query.name)));
        let combines = self
            .combines
            .iter()
            .filter_map(|c| c.table.as_ref().err().map(|e| format!("combine {}: {e}", c.name)));
        queries.chain(combines).collect()
    }

    /// Everything in one format: tables under headings (text), CSV blocks each after a
    /// `# name: title` line (CSV), or one JSON document.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Json => format!("{:#}\n", self.to_json()),
            Format::Table => {
                let mut out = String::new();
                for q in &self.queries {
                    out.push_str(&format!("== {} ==\n", q.heading()));
                    match (&q.outcome, q.failure()) {
                        (Outcome::Answered { answer, .. }, _) => out.push_str(&answer.to_text()),
                        (_, failure) => {
                            out.push_str(&format!("FAILED: {}\n", failure.unwrap_or_default()));
                        }
                    }
                    out.push('\n');
                }
                for c in &self.combines {
                    out.push_str(&format!("== {} ==\n", c.heading()));
                    match &c.table {
                        Ok(table) => out.push_str(&table.to_text()),
                        Err(problem) => out.push_str(&format!("FAILED: {problem}\n")),
                    }
                    out.push('\n');
                }
                let answered = self.queries.iter().filter(|q| q.outcome.is_answered()).count();
                out.push_str(&format!(
                    "{answered} of {} queries answered with a verified receipt\n",
                    self.queries.len()
                ));
                for failure in self.failures() {
                    out.push_str(&format!("FAILED {failure}\n"));
                }
                out
            }
            Format::Csv => {
                let mut blocks = Vec::new();
                for q in &self.queries {
                    let heading = format!("# {}: {}\n", q.query.name, q.query.heading());
                    blocks.push(match (&q.outcome, q.failure()) {
                        (Outcome::Answered { answer, .. }, _) => heading + &answer.to_csv(),
                        (_, failure) => {
                            heading + &format!("# FAILED: {}\n", failure.unwrap_or_default())
                        }
                    });
                }
                for c in &self.combines {
                    let heading =
                        format!("# {}: {}\n", c.name, c.title.as_deref().unwrap_or(&c.name));
                    blocks.push(match &c.table {
                        Ok(table) => heading + &table.to_csv(),
                        Err(problem) => heading + &format!("# FAILED: {problem}\n"),
                    });
                }
                blocks.join("\n")
            }
        }
    }

    /// One JSON document: each query with its status and table or failure, each combine.
    pub fn to_json(&self) -> Json {
        let queries: Vec<Json> = self
            .queries
            .iter()
            .map(|q| {
                let mut entry = json!({
                    "name": q.query.name,
                    "title": q.query.title,
                    "node": q.query.node,
                    "status": status(&q.outcome),
                });
                if let Json::Object(map) = &mut entry {
                    match &q.outcome {
                        Outcome::Answered { answer, .. } => {
                            map.insert("table".into(), answer.to_json());
                        }
                        Outcome::Refused { rule, message, code, receipt } => {
                            map.insert("rule".into(), json!(rule));
                            map.insert("message".into(), json!(message));
                            map.insert("code".into(), json!(format!("{code:?}")));
                            map.insert(
                                "receipt_entry".into(),
                                json!(receipt.as_ref().map(|r| r.leaf_index)),
                            );
                        }
                        Outcome::Down(p) | Outcome::NotSent(p) | Outcome::Untrusted(p) => {
                            map.insert("problem".into(), json!(p));
                        }
                    }
                }
                entry
            })
            .collect();
        let combines: Vec<Json> = self
            .combines
            .iter()
            .map(|c| match &c.table {
                Ok(table) => {
                    json!({ "name": c.name, "status": "combined", "table": table.to_json() })
                }
                Err(problem) => json!({ "name": c.name, "status": "failed", "problem": problem }),
            })
            .collect();
        json!({ "queries": queries, "combines": combines, "ok": self.all_ok() })
    }

    /// Writes `NAME.csv` into `dir` for every answered query and every combined table, making
    /// `dir` if needed; returns the files written.
    pub fn write_csvs(&self, dir: &Path) -> Result<Vec<PathBuf>, WriteError> {
        std::fs::create_dir_all(dir)
            .map_err(|source| WriteError { path: dir.to_path_buf(), source })?;
        let tables = self
            .queries
            .iter()
            .filter_map(|q| q.outcome.answer().map(|t| (q.query.name.as_str(), t.to_csv())));
        let combined = self
            .combines
            .iter()
            .filter_map(|c| c.table.as_ref().ok().map(|t| (c.name.as_str(), t.to_csv())));
        let mut written = Vec::new();
        for (name, csv) in tables.chain(combined) {
            let path = dir.join(format!("{name}.csv"));
            std::fs::write(&path, csv)
                .map_err(|source| WriteError { path: path.clone(), source })?;
            written.push(path);
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use fedlink_proto::aggregate::AggregateRequest;

    use super::*;

    fn result(name: &str, outcome: AggregateOutcome) -> QueryResult {
        QueryResult {
            query: NamedQuery {
                name: name.into(),
                title: Some(format!("Title of {name}")),
                node: "police".into(),
                purpose: None,
                request: AggregateRequest::Template {
                    dataset: "crimes".into(),
                    name: "t".into(),
                    period: "2025/26".into(),
                },
            },
            outcome,
        }
    }

    fn results() -> RunResults {
        RunResults {
            queries: vec![
                result(
                    "refused_one",
                    Outcome::Refused {
                        rule: "policy.aggregate.columns".into(),
                        message: "this node's policy does not allow column \"nhs\"".into(),
                        code: tonic::Code::PermissionDenied,
                        receipt: None,
                    },
                ),
                result("down_one", Outcome::Down("unreachable at https://x:1".into())),
            ],
            combines: vec![CombineResult {
                name: "both".into(),
                title: None,
                table: Err("not combined: refused_one, down_one did not answer".into()),
            }],
        }
    }

    #[test]
    fn failures_are_said_plainly_with_the_rule_and_message() {
        let r = results();
        assert!(!r.all_ok());
        let failures = r.failures();
        assert_eq!(
            failures[0],
            "query refused_one: node police: REFUSED by rule policy.aggregate.columns: this \
             node's policy does not allow column \"nhs\" (no verified receipt for the refusal)"
        );
        assert_eq!(failures[1], "query down_one: node police: DOWN: unreachable at https://x:1");
        assert!(failures[2].starts_with("combine both: not combined"));
        let text = r.render(Format::Table);
        assert!(
            text.contains("== Title of refused_one (refused_one) ==\nFAILED: node police: REFUSED")
        );
        assert!(text.contains("0 of 2 queries answered"));
        let csv = r.render(Format::Csv);
        assert!(
            csv.starts_with("# refused_one: Title of refused_one\n# FAILED: node police: REFUSED")
        );
        let json = r.to_json();
        assert_eq!(json["ok"], false);
        assert_eq!(json["queries"][0]["status"], "refused");
        assert_eq!(json["queries"][0]["rule"], "policy.aggregate.columns");
        assert_eq!(json["queries"][1]["status"], "down");
        assert_eq!(json["combines"][0]["status"], "failed");
    }

    #[test]
    fn only_answered_tables_are_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let written = results().write_csvs(&dir.path().join("out")).expect("write");
        assert!(written.is_empty());
        assert!(dir.path().join("out").is_dir());
    }
}
