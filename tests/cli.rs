//! The command line: every subcommand has help, and errors are one line with a `fedlink:`
//! prefix and exit code 2.

use crate::util::{run, text};

#[test]
fn every_subcommand_has_help() {
    for args in [
        vec!["--help"],
        vec!["federation", "init", "--help"],
        vec!["node", "serve", "--help"],
        vec!["coordinator", "describe", "--help"],
        vec!["audit", "verify", "--help"],
        vec!["demo", "--help"],
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
