//! The reconcile report: readable text grouped by member — one line per check, "ok" with what
//! was checked or the number of findings — then every finding with the entries it names; or
//! JSON lines for machines (one summary object, one per check and member, one per finding,
//! one per note).

use std::fmt::Write as _;

use serde_json::json;

use super::{Check, Report};

/// Every member the report speaks of, the coordinator first, then the logs given, then any
/// other member a finding or count names.
fn members(report: &Report) -> Vec<String> {
    let mut out: Vec<String> = report.logs.iter().map(|(m, _, _)| m.clone()).collect();
    let others = report
        .checked
        .keys()
        .map(|(m, _)| m.clone())
        .chain(report.findings.iter().map(|f| f.member.clone()));
    for m in others {
        if !out.contains(&m) {
            out.push(m);
        }
    }
    out
}

fn entries(n: u64) -> String {
    super::count(n, "entry", "entries")
}

/// The readable report.
pub fn render_text(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "audit reconcile: coordinator {}", report.coordinator);
    for (member, size, source) in &report.logs {
        let _ = writeln!(out, "  log of {member}: {} ({source})", entries(*size));
    }
    match report.store {
        Some((receipts, checkpoints)) => {
            let _ = writeln!(
                out,
                "  receipt store: {}, {}",
                super::count(receipts as u64, "receipt", "receipts"),
                super::count(
                    checkpoints as u64,
                    "last known node checkpoint",
                    "last known node checkpoints"
                )
            );
        }
        None => {
            let _ = writeln!(out, "  receipt store: not given");
        }
    }
    for member in members(report) {
        let size = report.logs.iter().find(|(m, _, _)| *m == member).map(|(_, s, _)| *s);
        let _ = match size {
            Some(n) => writeln!(out, "\n{member} ({})", entries(n)),
            None => writeln!(out, "\n{member} (no log given)"),
        };
        for check in Check::ALL {
            let checked = report.checked.get(&(member.clone(), check)).copied().unwrap_or_default();
            let findings = report.findings_of(&member, check).count();
            let status = match (findings, checked) {
                (0, 0) => "nothing to check".to_string(),
                (0, n) => format!("ok ({n} checked)"),
                (1, n) => format!("1 FINDING ({n} checked)"),
                (k, n) => format!("{k} FINDINGS ({n} checked)"),
            };
            let _ = writeln!(out, "  {:<15} {status}", check.name());
        }
    }
    if !report.findings.is_empty() {
        let _ = writeln!(out, "\nfindings:");
        for (i, f) in report.findings.iter().enumerate() {
            let entries: Vec<String> = f.entries.iter().map(ToString::to_string).collect();
            let named = if entries.is_empty() { "none".into() } else { entries.join(", ") };
            let _ = writeln!(
                out,
                "  {}. [{}] {} ({})\n     entries: {named}\n     {}",
                i + 1,
                f.member,
                f.kind.name(),
                f.kind.check().name(),
                f.detail
            );
        }
    }
    if !report.notes.is_empty() {
        let _ = writeln!(out, "\nnot checked:");
        for note in &report.notes {
            let _ = writeln!(out, "  - {note}");
        }
    }
    let _ = match report.findings.len() {
        0 => writeln!(out, "\nresult: CLEAN: the logs agree"),
        1 => writeln!(out, "\nresult: 1 finding"),
        n => writeln!(out, "\nresult: {n} findings"),
    };
    out
}

/// JSON lines: a summary, then each member's checks, each finding, each note.
pub fn render_jsonl(report: &Report) -> String {
    let mut lines = vec![json!({
        "type": "summary",
        "clean": report.is_clean(),
        "findings": report.findings.len(),
        "coordinator": report.coordinator,
        "logs": report.logs.iter().map(|(m, size, source)| {
            json!({"member": m, "entries": size, "source": source})
        }).collect::<Vec<_>>(),
        "receipts": report.store.map(|(r, _)| r),
        "node_checkpoints": report.store.map(|(_, c)| c),
    })];
    for member in members(report) {
        for check in Check::ALL {
            lines.push(json!({
                "type": "check",
                "member": member,
                "check": check,
                "checked": report.checked.get(&(member.clone(), check)).copied().unwrap_or_default(),
                "findings": report.findings_of(&member, check).count(),
            }));
        }
    }
    for f in &report.findings {
        lines.push(json!({
            "type": "finding",
            "kind": f.kind,
            "check": f.kind.check(),
            "member": f.member,
            "logs": f.logs,
            "entries": f.entries,
            "detail": f.detail,
        }));
    }
    for note in &report.notes {
        lines.push(json!({"type": "note", "note": note}));
    }
    let mut out = String::new();
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    out
}
