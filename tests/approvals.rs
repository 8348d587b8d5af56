//! `fedlink node approvals`: an operator lists, inspects, approves and denies flag-back requests
//! that a node recorded in its `approvals.db`. Refusals (unknown, already decided, over a cap,
//! no flag-back for the dataset) exit 1 with the reason on stderr.

use std::path::Path;

use fedlink_node::approvals::{self, ApprovalRequest, ApprovalStore};

use crate::util::{TestFederation, now, run, text};

/// The ICB's policy gains a flag-back rule for `ecds`: 10 rows per case over 90 days.
const FLAG_BACK_RULE: &str = r#"
[[linkage]]
dataset = "ecds"
purposes = ["SAFEGUARDING-CASE-REVIEW"]
roles = ["partner", "computing"]
key_types = ["nhs"]
labels = { vocabulary = ["all"], k_min = 5 }
max_subjects_per_query = 1000
max_queries_per_day = 20
privacy = { epsilon = "1" }
flag_back = { purposes = ["SAFEGUARDING-CASE-REVIEW"], max_rows_per_case = 10 }
"#;

fn request(hash: u8, case_ref: &str, dataset: &str, rows: u32) -> ApprovalRequest {
    let at = now().0;
    ApprovalRequest {
        query_hash: [hash; 32],
        query_id: format!("0197a000-0000-7000-8000-0000000000{hash:02x}"),
        case_ref: case_ref.into(),
        purpose: "SAFEGUARDING-CASE-REVIEW".into(),
        lawful_basis: "DPA-Part3 / DPA s35(2)(b) / CDA s115".into(),
        requester: "PC 1234 (Westshire Police)".into(),
        authoriser: "DI 5678 (Westshire Police)".into(),
        dataset: dataset.into(),
        attested_rows: rows,
        requested_at_ms: at,
        expires_at_ms: at + 3_600_000,
    }
}

/// Runs `fedlink node approvals ARGS… --config CONFIG`.
fn approvals(config: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["node", "approvals"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--config", config.to_str().expect("utf8")]);
    run(&all)
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn an_operator_lists_shows_approves_and_denies_flag_back_requests() {
    let fed = TestFederation::new();
    let policy = fed.member_dir("icb").join("policy.toml");
    let text_before = std::fs::read_to_string(&policy).expect("policy");
    std::fs::write(&policy, format!("{text_before}{FLAG_BACK_RULE}")).expect("write policy");
    let config = fed.node_config("icb");

    // The node's side, as `node serve` will do it: record requests in data/approvals.db.
    let data = fed.member_dir("icb").join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    let store = ApprovalStore::open(&approvals::path_in(&data)).expect("store");
    let first = store.request(&request(1, "OP-KESTREL", "ecds", 6)).expect("first");
    let second = store.request(&request(2, "OP-KESTREL", "ecds", 5)).expect("second");
    let no_rule = store.request(&request(3, "OP-HERON", "apc", 1)).expect("third");

    let out = approvals(&config, &["list"]);
    assert!(out.status.success(), "{}", text(&out));
    let list = stdout(&out);
    assert!(list.starts_with("ID  CASE REF"), "{list}");
    assert_eq!(list.lines().filter(|l| l.contains("OP-KESTREL")).count(), 2, "{list}");
    assert!(list.contains("PC 1234 (Westshire Police)") && !list.contains("expired"), "{list}");

    // Everything F12 asks the approver to see.
    let out = approvals(&config, &["show", &first.to_string()]);
    assert!(out.status.success(), "{}", text(&out));
    let show = stdout(&out);
    for needle in [
        "PENDING, expires in",
        "cohort rows     6 (rows the cohort node sent",
        "SAFEGUARDING-CASE-REVIEW",
        "DPA-Part3 / DPA s35(2)(b) / CDA s115",
        "DI 5678 (Westshire Police)",
        "0 of 10 rows approved in the last 90 days; 10 left",
        "0 of 100 rows approved today (UTC); 100 left",
        "stays within both caps",
        "fedlink node approvals approve --config",
    ] {
        assert!(show.contains(needle), "{needle:?} missing from:\n{show}");
    }

    let out = approvals(&config, &["approve", &first.to_string(), "--approver", "Insp Patel"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(stdout(&out).contains(&format!("approved request {first} (case OP-KESTREL, 6 rows")));
    assert!(stdout(&out).contains("4 of 10 rows left"), "{}", text(&out));
    // The node sees the decision, for exactly this query hash.
    assert!(store.approved_for(&[1; 32], now().0).expect("approved_for").is_some());
    assert!(store.approved_for(&[2; 32], now().0).expect("approved_for").is_none());

    let out = approvals(&config, &["approve", &first.to_string(), "--approver", "Sgt Jones"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(stderr(&out).contains("already decided: approved by Insp Patel"), "{}", text(&out));

    // 6 + 5 rows would take the case past 10: refused by rule name, and still pending.
    let out = approvals(&config, &["show", &second.to_string()]);
    assert!(stdout(&out).contains("approved by Insp Patel"), "{}", text(&out));
    assert!(stdout(&out).contains("would EXCEED flag_back.max_rows_per_case"), "{}", text(&out));
    let out = approvals(&config, &["approve", &second.to_string(), "--approver", "Insp Patel"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(stderr(&out).contains("flag_back.max_rows_per_case"), "{}", text(&out));

    let out = approvals(&config, &["approve", &no_rule.to_string(), "--approver", "Insp Patel"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        stderr(&out).contains("flag-back is not allowed for dataset \"apc\""),
        "{}",
        text(&out)
    );

    let out = approvals(&config, &["approve", "99", "--approver", "Insp Patel"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(stderr(&out).contains("there is no approval request 99"), "{}", text(&out));

    let deny = ["deny", &second.to_string(), "--approver", "Insp Patel", "--reason", "over cap"];
    let out = approvals(&config, &deny);
    assert!(out.status.success(), "{}", text(&out));
    assert!(stdout(&out).contains("denied request"), "{}", text(&out));

    // Only the `apc` request still waits; --all lists every request with its state, as JSON too.
    let out = approvals(&config, &["list"]);
    assert_eq!(stdout(&out).lines().count(), 2, "{}", text(&out));
    let out = approvals(&config, &["list", "--all", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let states: Vec<&str> = json
        .as_array()
        .expect("array")
        .iter()
        .map(|r| r["state"].as_str().expect("state"))
        .collect();
    assert_eq!(states, ["approved", "denied", "pending"]);
    assert_eq!(json[1]["reason"], "over cap");
    assert_eq!(json[0]["query_hash"], "01".repeat(32));
}
