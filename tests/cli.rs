//! The command line: every subcommand has help, and errors are one line with a `fedlink:`
//! prefix and exit code 2.

use crate::util::{run, text};

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
