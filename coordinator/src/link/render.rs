//! How a linked query's result is shown: the computing node's protected table through the
//! released-table renderer (so a suppressed cell is `[c]`, an empty CSV value with
//! `suppressed = true`, or JSON `null` — never 0), then the quality figures and side sizes; or,
//! for a flag-back, one row per cohort record; then one line per node with its outcome and
//! verified receipt. CSV comes as blocks, each after a `# name` line, as `coordinator run` does.

use fedlink_proto::envelope::NodeRole;
use fedlink_proto::link::{LinkKind, LinkUnit};
use serde_json::{Value as Json, json};

use super::query::kind_name;
use super::result::{FlagRow, LinkedRelease, PartAnswer};
use super::{LinkRun, NodePart, PartStatus};
use crate::grid::{Align, aligned, csv_line, thousands};
use crate::table::Released;
use crate::table::render::{Format, csv_pair, json_value, text};

/// A role as shown.
pub fn role_name(role: NodeRole) -> &'static str {
    match role {
        NodeRole::Blinder => "blinder",
        NodeRole::Cohort => "cohort",
        NodeRole::Computing => "computing",
        NodeRole::Responder => "responder",
    }
}

/// One line saying how a node's part ended, with its receipt.
pub fn status_line(status: &PartStatus) -> String {
    match status {
        PartStatus::Done { answer, receipt } => format!(
            "{}; receipt: entry {} of its log, verified at size {}",
            match answer {
                PartAnswer::Table(_) => "released the table".to_string(),
                PartAnswer::Flags(rows) => format!(
                    "returned {} flags ({} set)",
                    rows.len(),
                    rows.iter().filter(|r| r.flag).count()
                ),
                PartAnswer::Contributed { digests } => {
                    format!("contributed ({digests} message digests logged)")
                }
                PartAnswer::Calibrated(stored) => format!(
                    "stored calibration v{} of {} (key types {}; sha256 {})",
                    stored.version,
                    stored.dataset,
                    stored.key_types.join(", "),
                    stored.sha256
                ),
            },
            receipt.leaf_index,
            receipt.checkpoint.size
        ),
        PartStatus::Refused { at, rule, message, receipt, .. } => format!(
            "REFUSED at {at} by rule {rule}: {message} ({})",
            receipt.as_ref().map_or("no verified receipt for the refusal".to_string(), |r| {
                format!("refusal logged at entry {}, receipt verified", r.leaf_index)
            })
        ),
        PartStatus::Down(problem) => format!("DOWN {problem}"),
        PartStatus::Untrusted(problem) => format!("NOT TRUSTED: {problem}"),
        PartStatus::Unfinished => "UNFINISHED: the query ended before its part was over".into(),
    }
}

fn status_word(status: &PartStatus) -> &'static str {
    match status {
        PartStatus::Done { .. } => "done",
        PartStatus::Refused { .. } => "refused",
        PartStatus::Down(_) => "down",
        PartStatus::Untrusted(_) => "untrusted",
        PartStatus::Unfinished => "unfinished",
    }
}

fn receipt_of(part: &NodePart) -> Option<(u64, u64)> {
    match &part.status {
        PartStatus::Done { receipt, .. } => Some((receipt.leaf_index, receipt.checkpoint.size)),
        PartStatus::Refused { receipt: Some(r), .. } => Some((r.leaf_index, r.checkpoint.size)),
        _ => None,
    }
}

impl LinkRun {
    /// Everything in one format.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Table => self.to_text(),
            Format::Csv => self.to_csv(),
            Format::Json => format!("{:#}\n", self.to_json()),
        }
    }

    /// What was asked, in one line.
    fn summary(&self) -> String {
        let r = &self.query.request;
        let sides: Vec<String> = self
            .query
            .schedule
            .iter()
            .map(|(member, role)| {
                let dataset = r.side(member).map_or("?", |s| s.dataset.as_str());
                format!("{member}/{dataset} ({})", role_name(*role))
            })
            .collect();
        let kind = match r.kind {
            LinkKind::Count => "Linked count",
            LinkKind::FlagBack => "Flag-back",
            LinkKind::Overlap => "Overlap",
            LinkKind::Calibrate => "Calibration run",
        };
        let unit = match r.unit {
            LinkUnit::Person => "persons",
            LinkUnit::Address => "addresses",
        };
        let mut line =
            format!("{kind} of {unit}: {}; key types {}", sides.join(", "), r.key_types.join(", "));
        if let Some(window) = &r.window {
            line.push_str(&format!("; window {window}"));
        }
        if let Some(case_ref) = &self.query.case_ref {
            line.push_str(&format!("; case {case_ref}"));
        }
        if let Some(id) = &self.query_id {
            line.push_str(&format!("; query {id}"));
        }
        line
    }

    /// Aligned text: heading, the result, then the nodes and any failure.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        if let Some(title) = &self.query.title {
            out.push_str(&format!("== {title} ==\n"));
        }
        out.push_str(&self.summary());
        out.push_str("\n\n");
        if let Some(release) = self.release() {
            out.push_str(&release.table.to_text());
            out.push_str(&release_text(release));
        }
        if let Some(rows) = self.flags() {
            out.push_str(&flags_text(rows));
        }
        out.push_str("Nodes:\n");
        let grid: Vec<Vec<String>> = self
            .parts
            .iter()
            .map(|p| vec![p.member.clone(), role_name(p.role).into(), status_line(&p.status)])
            .collect();
        out.push_str(&aligned(&grid, &[Align::Left, Align::Left, Align::Left]));
        out.push_str(&format!(
            "Relay: {} rounds; {} hellos and {} sealed messages carried, none readable by the \
             coordinator.\n",
            self.rounds, self.carried.0, self.carried.1
        ));
        for failure in self.failures() {
            out.push_str(&format!("FAILED {failure}\n"));
        }
        out
    }

    /// CSV blocks: `# table`, `# quality` and `# sizes` (count, overlap) or `# flags`
    /// (flag-back), then `# nodes`.
    pub fn to_csv(&self) -> String {
        let mut blocks = Vec::new();
        if let Some(release) = self.release() {
            blocks.push(format!("# table\n{}", release.table.to_csv()));
            let mut quality = csv_line(&["pass", "links", "suppressed"]);
            for (pass, links) in &release.quality {
                let [value, suppressed] = csv_pair(*links);
                quality.push_str(&csv_line(&[pass.as_str(), &value, &suppressed]));
            }
            if let Some((expected_true, expected_missed)) = release.expected {
                for (name, value) in [
                    ("expected_true_links", expected_true),
                    ("expected_missed_links", expected_missed),
                ] {
                    let [value, suppressed] = csv_pair(value);
                    quality.push_str(&csv_line(&[name, &value, &suppressed]));
                }
            }
            blocks.push(format!("# quality\n{quality}"));
            let mut sizes = csv_line(&["member", "tuples"]);
            for (member, tuples) in &release.sizes {
                sizes.push_str(&csv_line(&[member.clone(), tuples.to_string()]));
            }
            blocks.push(format!("# sizes\n{sizes}"));
        }
        if let Some(rows) = self.flags() {
            let mut flags = csv_line(&["record_id", "flag", "label"]);
            for row in rows {
                flags.push_str(&csv_line(&[
                    row.record_id.as_str(),
                    if row.flag { "true" } else { "false" },
                    row.label.as_deref().unwrap_or(""),
                ]));
            }
            blocks.push(format!("# flags\n{flags}"));
        }
        let mut nodes =
            csv_line(&["member", "role", "status", "receipt_entry", "receipt_log_size", "detail"]);
        for part in &self.parts {
            let (entry, size) = receipt_of(part)
                .map_or((String::new(), String::new()), |(e, s)| (e.to_string(), s.to_string()));
            nodes.push_str(&csv_line(&[
                part.member.clone(),
                role_name(part.role).into(),
                status_word(&part.status).into(),
                entry,
                size,
                status_line(&part.status),
            ]));
        }
        blocks.push(format!("# nodes\n{nodes}"));
        blocks.join("\n")
    }

    /// One JSON document.
    pub fn to_json(&self) -> Json {
        let r = &self.query.request;
        let release = self.release();
        json!({
            "title": self.query.title,
            "kind": kind_name(r.kind),
            "unit": r.unit.name(),
            "key_types": r.key_types,
            "window": r.window,
            "case_ref": self.query.case_ref,
            "query_id": self.query_id.map(|id| id.to_string()),
            "ok": self.ok(),
            "table": release.map(|rel| rel.table.to_json()),
            "quality": release.map(|rel| rel.quality.iter().map(|(pass, links)| {
                json!({ "pass": pass, "links": json_value(*links) })
            }).collect::<Vec<_>>()),
            "matcher": release.map(|rel| rel.matcher.clone()),
            "model_estimates": release.and_then(|rel| rel.expected).map(|(t, m)| json!({
                "expected_true_links": json_value(t),
                "expected_missed_links": json_value(m),
                "estimated_precision": estimated_precision(release, t),
                "estimated_recall": estimated_recall(t, m),
            })),
            "sizes": release.map(|rel| rel.sizes.iter().map(|(member, tuples)| {
                json!({ "member": member, "tuples": tuples })
            }).collect::<Vec<_>>()),
            "flags": self.flags().map(|rows| rows.iter().map(|row| json!({
                "record_id": row.record_id,
                "flag": row.flag,
                "label": row.label,
            })).collect::<Vec<_>>()),
            "nodes": self.parts.iter().map(|p| json!({
                "member": p.member,
                "role": role_name(p.role),
                "status": status_word(&p.status),
                "receipt": receipt_of(p).map(|(entry, size)| json!({
                    "entry": entry, "log_size": size
                })),
                "detail": status_line(&p.status),
            })).collect::<Vec<_>>(),
            "relay": {
                "rounds": self.rounds,
                "hellos": self.carried.0,
                "messages": self.carried.1,
            },
            "failures": self.failures(),
        })
    }
}

/// The quality figures and side sizes under a released table.
fn release_text(release: &LinkedRelease) -> String {
    let mut out = String::new();
    if !release.quality.is_empty() {
        out.push_str(
            "\nLinkage quality (links made by each key pass, protected like the table):\n",
        );
        let mut grid = vec![vec!["pass".to_string(), "links".to_string()]];
        grid.extend(release.quality.iter().map(|(pass, links)| vec![pass.clone(), text(*links)]));
        out.push_str(&aligned(&grid, &[Align::Left, Align::Right]));
    }
    if !release.matcher.is_empty() {
        out.push_str(&format!("Matcher: {}\n", release.matcher));
    }
    if let Some((expected_true, expected_missed)) = release.expected {
        let ratio = |r: Option<f64>| {
            r.map_or("not available (a figure is suppressed)".to_string(), |r| format!("{r:.2}"))
        };
        out.push_str(&format!(
            "Model estimates (noised and protected like the table): expected true links {}, \
             expected missed links {}; estimated precision {}, recall {}\n",
            text(expected_true),
            text(expected_missed),
            ratio(estimated_precision(Some(release), expected_true)),
            ratio(estimated_recall(expected_true, expected_missed)),
        ));
    }
    if !release.sizes.is_empty() {
        out.push_str("\nSide sizes (tuples each side sent, dummies included):\n");
        let mut grid = vec![vec!["member".to_string(), "tuples".to_string()]];
        grid.extend(release.sizes.iter().map(|(m, n)| vec![m.clone(), thousands(*n)]));
        out.push_str(&aligned(&grid, &[Align::Left, Align::Right]));
    }
    out.push('\n');
    out
}

/// The model's precision: expected true links over links made (the key-pass figures summed),
/// when every figure was released; capped at 1, since both carry independent noise.
fn estimated_precision(release: Option<&LinkedRelease>, expected_true: Released) -> Option<f64> {
    let links: Option<u64> =
        release?.quality.iter().map(|(_, links)| links.count()).sum::<Option<u64>>();
    let (t, l) = (expected_true.count()?, links?);
    (l > 0).then(|| (t as f64 / l as f64).min(1.0))
}

/// The model's recall: expected true links over expected true and missed links.
fn estimated_recall(expected_true: Released, expected_missed: Released) -> Option<f64> {
    let (t, m) = (expected_true.count()?, expected_missed.count()?);
    (t + m > 0).then(|| t as f64 / (t + m) as f64)
}

/// Flag rows, then how many are set.
fn flags_text(rows: &[FlagRow]) -> String {
    let mut grid = vec![vec!["record_id".to_string(), "flag".to_string(), "label".to_string()]];
    grid.extend(rows.iter().map(|row| {
        vec![
            row.record_id.clone(),
            if row.flag { "yes" } else { "no" }.to_string(),
            row.label.clone().unwrap_or_default(),
        ]
    }));
    let set = rows.iter().filter(|r| r.flag).count();
    format!(
        "{}{set} of {} cohort records flagged.\n\n",
        aligned(&grid, &[Align::Left, Align::Left, Align::Left]),
        rows.len()
    )
}
