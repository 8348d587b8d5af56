//! The command line: every subcommand has help, and errors are one line with a `fedlink:`
//! prefix and exit code 2.

use fedlink_proto::pb;

use crate::util::{TestFederation, audit_entries, run, text};

#[test]
fn every_subcommand_has_help() {
    for args in [
        vec!["--help"],
        vec!["federation", "init", "--help"],
        vec!["node", "serve", "--help"],
        vec!["node", "approvals", "--help"],
        vec!["node", "approvals", "list", "--help"],
        vec!["node", "approvals", "show", "--help"],
        vec!["node", "approvals", "approve", "--help"],
        vec!["node", "approvals", "deny", "--help"],
        vec!["coordinator", "describe", "--help"],
        vec!["coordinator", "link", "--help"],
        vec!["coordinator", "report", "--help"],
        vec!["audit", "verify", "--help"],
        vec!["demo", "--help"],
        vec!["synth", "--help"],
        vec!["synth", "evaluate", "--help"],
    ] {
        let out = run(&args);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains("Usage: fedlink"), "{args:?}: {help}");
    }
    let top = String::from_utf8_lossy(&run(&["--help"]).stdout).to_string();
    for sub in ["federation", "node", "coordinator", "audit", "demo"] {
        assert!(top.contains(sub), "{sub} missing from --help: {top}");
    }
}

#[test]
fn errors_are_one_line_with_a_prefix_and_exit_code_2() {
    let out = run(&["node", "serve", "--config", "/nonexistent/node.toml"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr.lines().find(|l| l.starts_with("fedlink: ")).expect("prefixed error");
    assert!(line.contains("/nonexistent/node.toml"), "{line}");
}

#[test]
fn init_refuses_a_folder_that_is_not_empty() {
    let tmp = tempfile::tempdir().expect("tempdir");
    std::fs::write(tmp.path().join("something"), "x").expect("write");
    let out = run(&["federation", "init", "--dir", tmp.path().to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not empty"), "{}", text(&out));
}

/// `fedlink synth --scale … --out …` still generates; `fedlink synth evaluate` scores a true
/// link as correct, and names an unknown dataset in a one-line error.
#[test]
fn synth_generates_and_evaluate_scores_links() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let county = tmp.path().join("county");
    let county_arg = county.to_str().expect("utf8");
    let out = run(&["synth", "--scale", "0.01", "--seed", "3", "--out", county_arg]);
    assert!(out.status.success(), "{}", text(&out));

    // A true pair from the record map: a death report and an ED attendance of one person.
    let map = std::fs::read_to_string(county.join("truth/record_map.csv")).expect("record map");
    let rows: Vec<Vec<&str>> = map.lines().skip(1).map(|l| l.split(',').collect()).collect();
    let (report, ed) = rows
        .iter()
        .filter(|r| r[0] == "police" && r[1] == "death_reports" && !r[3].is_empty())
        .find_map(|d| {
            rows.iter()
                .find(|r| r[0] == "icb" && r[1] == "ecds" && r[3] == d[3])
                .map(|e| (d[2], e[2]))
        })
        .expect("a death report whose person attended ED");
    let header = "left_node,left_dataset,left_record_id,right_node,right_dataset,right_record_id";
    let links = tmp.path().join("links.csv");
    std::fs::write(&links, format!("{header}\npolice,death_reports,{report},icb,ecds,{ed}\n"))
        .expect("write links");
    let links_arg = links.to_str().expect("utf8");
    let args =
        ["synth", "evaluate", "--county", county_arg, "--links", links_arg, "--format", "csv"];
    let out = run(&args);
    assert!(out.status.success(), "{}", text(&out));
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(csv.starts_with("left,right,level,breakdown,group,predicted,correct,actual,"), "{csv}");
    assert!(csv.contains("\npolice/death_reports,icb/ecds,person,all,all,1,1,"), "{csv}");

    std::fs::write(&links, format!("{header}\npolice,nope,{report},icb,ecds,{ed}\n"))
        .expect("write links");
    let out = run(&["synth", "evaluate", "--county", county_arg, "--links", links_arg]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr.lines().find(|l| l.starts_with("fedlink: ")).expect("prefixed error");
    assert!(line.contains("police/nope"), "{line}");
}

const LINK_QUERY: &str = r#"
title = "H2: homicide victims with ED assault attendances"
kind = "count"
unit = "person"
key_types = ["nhs", "name_dob"]
[[side]]
member = "police"
dataset = "death_reports"
role = "cohort"
filter = ["category=homicide"]
[[side]]
member = "icb"
dataset = "ecds"
"#;

/// `coordinator link --help` shows the query file format; a bad query file is a one-line
/// error naming the key, with exit code 2, before any config is read.
#[test]
fn link_help_shows_the_query_file_and_a_bad_file_names_its_key() {
    let out = run(&["coordinator", "link", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    for expected in ["kind = \"count\"", "[[side]]", "--relay-capture", "--step-timeout"] {
        assert!(help.contains(expected), "{expected} missing from: {help}");
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let query = tmp.path().join("q.toml");
    std::fs::write(&query, format!("computing = \"police\"\n{LINK_QUERY}")).expect("write");
    let args = ["coordinator", "link", "--config", "/nonexistent.toml", "--query"];
    let out = run(&[&args[..], &[query.to_str().expect("utf8")]].concat());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr.lines().find(|l| l.starts_with("fedlink: ")).expect("prefixed error");
    assert!(line.contains("`computing`"), "{line}");
}

/// With its nodes down, `coordinator link` exits 1 naming the node, after logging one
/// QUERY_ISSUED entry per participant, all of one query, before sending anything.
#[test]
fn link_with_nodes_down_says_so_after_logging_every_envelope() {
    let fed = TestFederation::new();
    let query = fed.dir.join("h2.toml");
    std::fs::write(&query, LINK_QUERY).expect("write");
    let capture = fed.dir.join("relay.bin");
    let out = run(&[
        "coordinator",
        "link",
        "--config",
        fed.coordinator_config().to_str().expect("utf8"),
        "--query",
        query.to_str().expect("utf8"),
        "--relay-capture",
        capture.to_str().expect("utf8"),
        "--step-timeout",
        "5",
    ]);
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("FAILED node police: DOWN at LinkOpen"), "{shown}");
    assert!(shown.contains("icb     computing  UNFINISHED"), "{shown}");
    assert_eq!(std::fs::read(&capture).expect("capture").len(), 0, "nothing was carried");

    let issued: Vec<pb::AuditEntry> = audit_entries(&fed.audit_log("coordinator"))
        .into_iter()
        .filter(|e| e.event_type == pb::EventType::QueryIssued as i32)
        .collect();
    let sent: Vec<(String, i32, Vec<u8>)> = issued
        .iter()
        .filter_map(|e| e.query.as_ref())
        .map(|q| (q.audience.clone(), q.role, q.query_id.clone()))
        .collect();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!((sent[0].0.as_str(), sent[0].1), ("police", pb::NodeRole::Cohort as i32));
    assert_eq!((sent[1].0.as_str(), sent[1].1), ("icb", pb::NodeRole::Computing as i32));
    assert_eq!(sent[0].2, sent[1].2, "one query id for both envelopes");
    let listed: Vec<&str> = issued[1]
        .query
        .iter()
        .flat_map(|q| q.participants.iter().map(|p| p.member.as_str()))
        .collect();
    assert_eq!(listed, ["police", "icb"], "the log names every participant");
}
