//! `fedlink audit report` on real logs: after a describe, answered aggregate queries (one
//! charging the privacy budget) and refused ones, the police node's, the icb node's and the
//! coordinator's logs each get a well-formed, self-contained page with every section and the
//! refusing rule named; a tampered log's page leads with the verification failure.

use std::path::{Path, PathBuf};
use std::process::Output;

use fedlink_coordinator::html::{check_well_formed, external_references};

use crate::util::{TestFederation, run, text};

/// The sections every report has.
const SECTIONS: &[&str] = &[
    "Log integrity",
    "Summary",
    "Queries over time",
    "Queries by purpose",
    "Queries by requester",
    "Kinds of query and lawful bases",
    "Refusals",
    "Person-level disclosures and approvals",
    "Budget consumption",
    "System events and reads of this log",
];

fn coordinator(fed: &TestFederation, args: &[&str]) -> Output {
    let config = fed.coordinator_config();
    let mut all = vec!["coordinator", args[0], "--config", config.to_str().expect("utf8")];
    all.extend_from_slice(&args[1..]);
    run(&all)
}

/// Runs `fedlink audit report` on `log`, writing `out`; returns the process output and page.
fn report(log: &Path, out: &Path) -> (Output, String) {
    let result = run(&[
        "audit",
        "report",
        "--log",
        log.to_str().expect("utf8"),
        "--out",
        out.to_str().expect("utf8"),
    ]);
    let page = std::fs::read_to_string(out).unwrap_or_default();
    (result, page)
}

/// The page is well-formed, self-contained, and has every section heading.
fn assert_sound_page(page: &str, what: &str) {
    check_well_formed(page).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(external_references(page), Vec::<String>::new(), "{what}");
    assert!(!page.contains("<script"), "{what}");
    for heading in SECTIONS {
        assert!(page.contains(&format!(">{heading}</h2>")), "{what}: no section {heading:?}");
    }
}

#[test]
fn reports_on_node_and_coordinator_logs_and_a_tampered_log() {
    let fed = crate::aggregate::setup();
    let mut nodes: Vec<_> = ["police", "icb", "council-east", "council-west"]
        .iter()
        .map(|n| fed.start_node(n))
        .collect();
    let out = coordinator(&fed, &["describe"]);
    assert!(out.status.success(), "{}", text(&out));
    // Answered: a published template, and a shaped query that charges the privacy budget.
    let out = coordinator(&fed, &crate::aggregate::ICB_TEMPLATE_QUERY);
    assert!(out.status.success(), "{}", text(&out));
    let shaped = [
        "aggregate",
        "--node",
        "icb",
        "--dataset",
        "ed",
        "--purpose",
        "SVD-SNA",
        "--filter",
        "Intent=assault",
        "--group-by",
        "ward",
        "--period",
        "2025-04-01..2025-09-30",
    ];
    let out = coordinator(&fed, &shaped);
    assert!(out.status.success(), "{}", text(&out));
    // Refused: a column the icb policy does not allow, and a mode police has not enabled.
    let by_dob = [
        "aggregate",
        "--node",
        "icb",
        "--dataset",
        "ed",
        "--purpose",
        "SVD-SNA",
        "--group-by",
        "DOB",
    ];
    let out = coordinator(&fed, &by_dob);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let police = [
        "aggregate",
        "--node",
        "police",
        "--dataset",
        "death_reports",
        "--purpose",
        "SVD-SNA",
        "--template",
        "deaths-by-category",
        "--template-period",
        "2025/26",
    ];
    let out = coordinator(&fed, &police);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("policy.modes"), "{}", text(&out));
    for node in &mut nodes {
        assert!(node.stop());
    }
    let dir = fed.tmp.path();

    let (out, page) = report(&fed.audit_log("police"), &dir.join("police.html"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_sound_page(&page, "police");
    assert!(page.contains("This log verifies"), "police");
    assert!(page.contains("<code>policy.modes</code>"), "the refusing rule is named");
    assert!(page.contains("DEMO-4821@DEMO-POLICE"), "the requester is named");

    let (out, page) = report(&fed.audit_log("icb"), &dir.join("icb.html"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_sound_page(&page, "icb");
    assert!(page.contains("<code>policy.aggregate.columns</code>"), "icb refusal rule");
    assert!(page.contains("<code>AGGREGATE_DP</code>"), "the shaped answer's output class");
    assert!(page.contains("ε spent per requester, dataset and period"), "the budget chart");
    assert!(page.contains(">matches</td>"), "balances replay to the recorded ones");
    assert!(!page.contains(">DIFFERS</td>"));

    let (out, page) = report(&fed.audit_log("coordinator"), &dir.join("coordinator.html"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_sound_page(&page, "coordinator");
    assert!(page.contains(">Queries per node</h2>"));
    assert!(page.contains("refused by police") && page.contains("refused by icb"));
    screenshot(&dir.join("police.html"), &dir.join("police.png"));

    // A copy of the police log with one stored byte flipped, as a database administrator could.
    let tampered = dir.join("tampered.db");
    std::fs::copy(fed.audit_log("police"), &tampered).expect("copy");
    flip_byte(&tampered, 1);
    let (out, page) = report(&tampered, &dir.join("tampered.html"));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("FAILS verification"), "{}", text(&out));
    assert_sound_page(&page, "tampered");
    let alert = page.find("This log FAILS verification").expect("failure shown");
    let contents = page.find("<nav class=\"toc\"").expect("contents");
    assert!(alert < contents, "the failure comes first");
    assert!(page.contains("entry 1"), "the failing entry is named");
    assert!(!page.contains("This log verifies"));

    // To look at the pages: FEDLINK_KEEP_REPORTS=DIR keeps them (and the screenshot) in DIR.
    if let Some(keep) = std::env::var_os("FEDLINK_KEEP_REPORTS").map(PathBuf::from) {
        std::fs::create_dir_all(&keep).expect("mkdir");
        for name in ["police.html", "icb.html", "coordinator.html", "tampered.html", "police.png"] {
            let _ = std::fs::copy(dir.join(name), keep.join(name));
        }
    }
}

/// Flips one byte of entry `index`'s stored bytes, bypassing the append-only trigger.
fn flip_byte(log: &Path, index: i64) {
    let conn = rusqlite::Connection::open(log).expect("open");
    let bytes: Vec<u8> = conn
        .query_row("SELECT entry FROM log_entry WHERE idx = ?1", [index], |r| r.get(0))
        .expect("entry");
    let mut changed = bytes;
    let at = changed.len() / 2;
    changed[at] ^= 0x20;
    conn.execute_batch("DROP TRIGGER IF EXISTS log_entry_no_update;").expect("drop trigger");
    conn.execute(
        "UPDATE log_entry SET entry = ?1 WHERE idx = ?2",
        rusqlite::params![changed, index],
    )
    .expect("update");
}

/// Renders `page` to `png` in headless Chromium when it is installed (CI installs it), and
/// checks an image came out; without Chromium says so and skips.
fn screenshot(page: &Path, png: &Path) {
    let Some(chromium) = which("chromium") else {
        eprintln!("note: chromium is not installed; skipping the headless rendering check");
        return;
    };
    let out = std::process::Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"])
        .arg("--window-size=1000,3000")
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(out.status.success(), "{}", text(&out));
    let size = std::fs::metadata(png).map(|m| m.len()).unwrap_or(0);
    assert!(size > 10_000, "chromium wrote {size} bytes to {}", png.display());
}

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|p| p.is_file())
}
