//! The analytical report (issue 8) end to end, on a small synthetic county made once by
//! `fedlink demo` and shared by these tests: every section present, no released count in the
//! suppressed range, every number traced through the manifest to a receipt that the
//! coordinator stored and the node logged, a partner down named in a report that still
//! completes, a self-contained well-formed page, and a rendering in headless Chromium.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use fedlink_coordinator::html::{check_well_formed, external_references};
use serde_json::Value as Json;

use crate::util::{NodeProcess, audit_entries, fedlink, read, text};

/// The demo's federation, made once at a small scale; its report is in `report/`.
fn demo() -> &'static Path {
    static DEMO: OnceLock<PathBuf> = OnceLock::new();
    DEMO.get_or_init(|| {
        // One folder under Cargo's target tmp dir, replaced on each run (a static is never
        // dropped, so a temp dir here would outlive every run).
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-demo");
        if dir.exists() {
            std::fs::remove_dir_all(&dir).expect("remove the previous run's demo");
        }
        let out = fedlink()
            .args(["demo", "--scale", "0.03", "--seed", "5", "--dir"])
            .arg(&dir)
            .output()
            .expect("run the demo");
        assert!(out.status.success(), "the demo failed:\n{}", text(&out));
        dir
    })
}

fn manifest(report: &Path) -> Json {
    serde_json::from_str(&read(&report.join("manifest.json"))).expect("manifest is JSON")
}

/// The catalogue's section ids, from the file the demo ran.
fn catalogue_sections(dir: &Path) -> Vec<String> {
    let catalogue: toml::Table =
        toml::from_str(&read(&dir.join("catalogue.toml"))).expect("catalogue is TOML");
    catalogue["section"]
        .as_array()
        .expect("sections")
        .iter()
        .map(|s| s["id"].as_str().expect("id").to_string())
        .collect()
}

#[test]
fn the_report_has_every_section_and_no_released_count_in_the_suppressed_range() {
    let dir = demo();
    let report = dir.join("report");
    let html = read(&report.join("report.html"));
    let manifest = manifest(&report);
    let sections = catalogue_sections(dir);
    assert!(sections.len() >= 10, "the default catalogue covers domain.md §9c: {sections:?}");
    for id in &sections {
        // The page's anchors are the ids with hyphens for underscores.
        let anchor = id.replace('_', "-");
        assert!(html.contains(&format!("<h2 id=\"{anchor}\">")), "section {id} is not in the page");
        assert!(
            manifest["sections"].as_array().expect("sections").iter().any(|s| s["id"] == **id),
            "section {id} is not in the manifest"
        );
    }
    assert!(html.contains("<h2 id=\"header\">"), "the header section");
    // Each partner's extract date (its last import's end) is in the header, never missing.
    assert!(
        html.contains("death_reports (") && html.contains("extract imported 20"),
        "extract dates"
    );
    assert!(!html.contains("never imported"), "every demo dataset was imported");
    let tables = manifest["tables"].as_array().expect("tables");
    assert!(tables.len() >= 25, "{} tables", tables.len());
    let mut counts_seen = 0;
    let mut suppressed_seen = 0;
    for table in tables {
        let file = report.join(table["file"].as_str().expect("file"));
        let mut reader = csv::Reader::from_path(&file).expect("csv");
        let headers: Vec<String> =
            reader.headers().expect("header").iter().map(String::from).collect();
        let kinds: Vec<&str> = table["columns"]
            .as_array()
            .expect("columns")
            .iter()
            .map(|c| c["kind"].as_str().expect("kind"))
            .collect();
        assert_eq!(headers.len(), kinds.len(), "{}", file.display());
        for record in reader.records() {
            let record = record.expect("row");
            for (value, kind) in record.iter().zip(&kinds) {
                if *kind != "count" || value.is_empty() {
                    continue;
                }
                if value == "[c]" {
                    suppressed_seen += 1;
                    continue;
                }
                let n: u64 = value.parse().unwrap_or_else(|_| {
                    panic!("{}: count {value:?} is neither a number nor [c]", file.display())
                });
                assert!(
                    n == 0 || n >= 8,
                    "{}: released count {n} lies in the suppressed range 1-7",
                    file.display()
                );
                counts_seen += 1;
            }
        }
    }
    assert!(counts_seen > 50, "only {counts_seen} released counts");
    assert!(suppressed_seen > 0, "a small county has suppressed cells, shown as [c]");
    assert!(html.contains(">suppressed</td>"), "suppressed cells read as suppressed in the page");
}

#[test]
fn every_number_traces_through_the_manifest_to_a_receipt_in_the_logs() {
    let dir = demo();
    let report = dir.join("report");
    let manifest = manifest(&report);
    let queries = manifest["queries"].as_array().expect("queries");
    // Each body cell a query gave, as (table, row, column).
    let mut traced: BTreeSet<(String, u64, u64)> = BTreeSet::new();
    let receipts_db = rusqlite::Connection::open_with_flags(
        dir.join("coordinator/data/receipts.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("receipt store");
    for q in queries {
        let cells = q["cells"].as_array().expect("cells");
        if cells.is_empty() {
            continue;
        }
        let name = q["name"].as_str().expect("name");
        assert_eq!(q["status"], "answered", "{name} gave cells but did not answer");
        let id = uuid::Uuid::parse_str(q["query_id"].as_str().expect("query id")).expect("uuid");
        let receipts = q["receipts"].as_array().expect("receipts");
        assert!(!receipts.is_empty(), "{name} has no receipt");
        for receipt in receipts {
            let node = receipt["node"].as_str().expect("node");
            let leaf = receipt["leaf_index"].as_u64().expect("leaf");
            let stored: i64 = receipts_db
                .query_row(
                    "SELECT COUNT(*) FROM receipt WHERE node = ?1 AND leaf_index = ?2 AND query_id = ?3",
                    rusqlite::params![node, leaf as i64, id.as_bytes().to_vec()],
                    |r| r.get(0),
                )
                .expect("query the receipt store");
            assert_eq!(stored, 1, "{name}: the coordinator stored no receipt {node}@{leaf}");
            let entries = audit_entries(&dir.join(node).join("data/audit.db"));
            let entry = entries
                .get(usize::try_from(leaf).expect("index"))
                .unwrap_or_else(|| panic!("{name}: {node}'s log has no entry {leaf}"));
            let logged = entry.query.as_ref().map(|q| q.query_id.clone()).unwrap_or_default();
            assert_eq!(
                logged,
                id.as_bytes().to_vec(),
                "{name}: {node}'s entry {leaf} is another query's"
            );
            assert!(receipt["checkpoint_size"].as_u64().expect("size") > leaf);
        }
        for cell in cells {
            traced.insert((
                cell["table"].as_str().expect("table").to_string(),
                cell["row"].as_u64().expect("row"),
                cell["column"].as_u64().expect("column"),
            ));
        }
    }
    // Every number in every CSV of the body is one of those cells.
    for table in manifest["tables"].as_array().expect("tables") {
        let id = table["id"].as_str().expect("id");
        let kinds: Vec<&str> = table["columns"]
            .as_array()
            .expect("columns")
            .iter()
            .map(|c| c["kind"].as_str().expect("kind"))
            .collect();
        let mut reader = csv::Reader::from_path(report.join(table["file"].as_str().expect("file")))
            .expect("csv");
        for (r, record) in reader.records().enumerate() {
            for (c, value) in record.expect("row").iter().enumerate() {
                let numeric = matches!(kinds[c], "count" | "rate" | "change" | "rank");
                if numeric && !value.is_empty() {
                    assert!(
                        traced.contains(&(id.to_string(), r as u64, c as u64)),
                        "{id} row {r} column {c} ({value}) traces to no query"
                    );
                }
            }
        }
    }
}

#[test]
fn the_page_is_well_formed_self_contained_and_keeps_restricted_results_out() {
    let dir = demo();
    let report = dir.join("report");
    let html = read(&report.join("report.html"));
    check_well_formed(&html).expect("well-formed");
    assert_eq!(external_references(&html), Vec::<String>::new(), "no external asset or link");
    assert!(!html.contains("http://") && !html.contains("https://"), "no URL at all");
    assert!(html.contains("<svg"), "inline SVG charts");
    assert!(html.contains("known to exactly that combination"), "the UpSet overlap chart");
    assert!(html.contains("Wards ranked by police violence and ED assault"), "the ranked wards");
    // The restricted annex is separate: its warning, and none of its rows in the body.
    let annex = report.join("restricted");
    assert!(read(&annex.join("README.txt")).starts_with("RESTRICTED - POLICE ONLY"));
    let annex_page = read(&annex.join("annex.html"));
    check_well_formed(&annex_page).expect("the annex page is well-formed");
    assert!(external_references(&annex_page).is_empty());
    assert!(annex_page.contains("Restricted: police only. Not part of the report."));
    for entry in std::fs::read_dir(&annex).expect("annex") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "csv") {
            for line in read(&path).lines().skip(1) {
                let first = line.split(',').next().unwrap_or_default();
                assert!(
                    !first.starts_with("DR-") || !html.contains(first),
                    "restricted record {first} appears in the report body"
                );
            }
        }
    }
    let manifest = manifest(&report);
    for restricted in manifest["restricted"].as_array().expect("restricted") {
        let file = restricted["file"].as_str().expect("file");
        assert!(file.starts_with("restricted/"), "{file}");
        assert!(
            manifest["tables"]
                .as_array()
                .expect("tables")
                .iter()
                .all(|t| t["id"] != restricted["id"]),
            "a restricted result is listed as a body table"
        );
    }
}

#[test]
fn a_partner_down_is_named_and_the_rest_of_the_report_completes() {
    let dir = demo();
    let nodes: Vec<NodeProcess> = ["police", "icb", "council-east"]
        .iter()
        .map(|n| NodeProcess::start(n, &dir.join(n).join("node.toml")))
        .collect();
    let out_dir = dir.join("report-west-down");
    let out = fedlink()
        .args(["coordinator", "report", "--config"])
        .arg(dir.join("coordinator/coordinator.toml"))
        .arg("--catalogue")
        .arg(dir.join("catalogue.toml"))
        .args(["--period", "2025/26", "--out"])
        .arg(&out_dir)
        .output()
        .expect("run report");
    drop(nodes);
    assert_eq!(out.status.code(), Some(1), "a partner down is a check failure:\n{}", text(&out));
    let html = read(&out_dir.join("report.html"));
    assert!(html.contains("partner council-west unavailable"), "the page names the partner");
    let manifest = manifest(&out_dir);
    let west = manifest["partners"]
        .as_array()
        .expect("partners")
        .iter()
        .find(|p| p["name"] == "council-west")
        .expect("council-west");
    assert_eq!(west["available"], false);
    let sections = manifest["sections"].as_array().expect("sections");
    let screening = sections.iter().find(|s| s["id"] == "screening").expect("screening");
    assert!(
        screening["unavailable"].as_array().expect("unavailable").iter().any(|u| u
            .as_str()
            .is_some_and(|u| u.starts_with("partner council-west unavailable: "))),
        "{screening}"
    );
    let queries = manifest["queries"].as_array().expect("queries");
    for q in queries {
        let to_west = q["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .any(|n| n.as_str().is_some_and(|n| n.starts_with("council-west")));
        if to_west {
            assert_eq!(q["status"], "skipped", "{}", q["name"]);
        }
    }
    let answered = queries.iter().filter(|q| q["status"] == "answered").count();
    assert!(answered > 30, "the rest completed: {answered} answered");
    assert!(
        text(&out).contains("partner council-west"),
        "the command says which partner was unavailable:\n{}",
        text(&out)
    );
}

/// The Chromium binary, when installed.
fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"].iter().find_map(|name| {
        let out = Command::new("sh").args(["-c", &format!("command -v {name}")]).output().ok()?;
        let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
        (out.status.success() && !path.is_empty()).then(|| PathBuf::from(path))
    })
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.len() < 24 || &bytes[..8] != b"\x89PNG\r\n\x1a\n" || &bytes[12..16] != b"IHDR" {
        return None;
    }
    let word =
        |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    Some((word(16), word(20)))
}

#[test]
fn the_report_renders_in_headless_chromium() {
    let Some(chromium) = chromium() else {
        eprintln!(
            "skipped rendering: no chromium on this machine (.ci/run installs it where it can)"
        );
        return;
    };
    let dir = demo();
    let page = dir.join("report/report.html");
    let png = dir.join("report.png");
    let out = Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1200,3000",
        ])
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    assert!(out.status.success(), "chromium failed:\n{}", text(&out));
    let bytes = std::fs::read(&png).expect("the screenshot");
    assert_eq!(png_size(&bytes), Some((1200, 3000)), "a PNG of the window's size");
    // A blank page of this size compresses to a few kilobytes; text, tables and charts do not.
    assert!(bytes.len() > 60_000, "the rendering looks empty: {} bytes", bytes.len());
}

#[test]
fn a_catalogue_mistake_is_refused_naming_its_section_item_and_key() {
    let tmp = tempfile::tempdir().expect("tmp");
    let catalogue = tmp.path().join("bad.toml");
    std::fs::write(
        &catalogue,
        "title = \"t\"\n[[section]]\nid = \"deaths\"\ntitle = \"Deaths\"\n[[section.item]]\n\
         id = \"d1\"\nkind = \"aggregate\"\ntitle = \"D1\"\nnode = \"police\"\n\
         dataset = \"death_reports\"\ntemplate = \"x\"\nfilter = [\"a=b\"]\n",
    )
    .expect("write");
    let out = fedlink()
        .args(["coordinator", "report", "--config", "/nonexistent/coordinator.toml"])
        .arg("--catalogue")
        .arg(&catalogue)
        .args(["--period", "2025/26", "--out"])
        .arg(tmp.path().join("out"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("section \"deaths\", item \"d1\": `filter`: a template fixes its own filters"),
        "{err}"
    );
    let out = fedlink()
        .args(["coordinator", "report", "--config", "/nonexistent/coordinator.toml"])
        .arg("--catalogue")
        .arg(&catalogue)
        .args(["--period", "last year", "--out"])
        .arg(tmp.path().join("out"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--period: \"last year\" is not a period")
    );
}
