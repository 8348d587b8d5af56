//! Linked-query files: what a good file resolves to, and the key each kind of mistake is
//! refused under.

use std::path::Path;

use fedlink_proto::aggregate::IsoDate;

use super::*;

const COUNT: &str = r#"
title = "H2: homicide victims with ED assault attendances in the 12 months before"
kind = "count"
unit = "person"
key_types = ["nhs", "name_dob", "init_sur_dob", "sur_dob_pcd"]
window = "12m-before"

[[side]]
member = "icb"
dataset = "ecds"
filter = ["EC_Injury_Intent_SNOMED_CT=1240651000000109"]
label = "attendance_category"

[[side]]
member = "police"
dataset = "death_reports"
role = "cohort"
filter = ["category=homicide|manslaughter"]
period = "2025-04-01..2026-03-31"
"#;

const OVERLAP: &str = r#"
kind = "overlap"
unit = "person"
key_types = ["nhs"]

[[side]]
member = "police"
dataset = "crimes"

[[side]]
member = "icb"
dataset = "ecds"

[[side]]
member = "council"
dataset = "referrals"
"#;

fn parse(text: &str) -> Result<LinkQuery, LinkQueryError> {
    LinkQuery::from_toml(text, Path::new("q.toml"), None)
}

/// The key (and side number) a file is refused under.
fn refused_at(text: &str, case_ref_flag: Option<&str>) -> (Option<usize>, &'static str, String) {
    let flag = case_ref_flag.map(str::to_string);
    match LinkQuery::from_toml(text, Path::new("q.toml"), flag) {
        Err(LinkQueryError::Key { side, key, problem, .. }) => (side.map(|(n, _)| n), key, problem),
        other => panic!("expected a key error, got {other:?}"),
    }
}

#[test]
fn a_count_file_resolves_to_a_request_and_a_cohort_first_schedule() {
    let q = parse(COUNT).expect("valid");
    assert_eq!(
        q.title.as_deref(),
        Some("H2: homicide victims with ED assault attendances in the 12 months before")
    );
    assert_eq!(q.request.kind, LinkKind::Count);
    assert_eq!(q.request.unit, LinkUnit::Person);
    assert_eq!(q.request.key_types, ["nhs", "name_dob", "init_sur_dob", "sur_dob_pcd"]);
    assert_eq!(q.request.window.as_deref(), Some("12m-before"));
    // Sides stay in file order; the schedule puts the cohort first and the computing node last.
    let members: Vec<&str> = q.request.sides.iter().map(|s| s.member.as_str()).collect();
    assert_eq!(members, ["icb", "police"]);
    assert_eq!(
        q.schedule,
        [("police".to_string(), NodeRole::Cohort), ("icb".to_string(), NodeRole::Computing)]
    );
    assert_eq!(q.computing(), "icb");
    let police = q.request.side("police").expect("police side");
    assert_eq!(
        police.filters,
        [
            Filter::In {
                column: "category".into(),
                values: vec!["homicide".into(), "manslaughter".into()]
            },
            Filter::EventDates {
                from: IsoDate::parse("2025-04-01").expect("date"),
                to: IsoDate::parse("2026-03-31").expect("date"),
            },
        ]
    );
    assert_eq!(police.label_column, None);
    assert_eq!(
        q.request.side("icb").and_then(|s| s.label_column.as_deref()),
        Some("attendance_category")
    );
    assert_eq!(q.case_ref, None);
    // What the file resolves to is what a node will parse.
    assert_eq!(LinkRequest::from_pb(q.request.to_pb(), q.request.kind.mode()), Ok(q.request));
}

#[test]
fn an_overlap_computes_at_the_last_side_unless_told() {
    let q = parse(OVERLAP).expect("valid");
    let roles: Vec<(&str, NodeRole)> = q.schedule.iter().map(|(m, r)| (m.as_str(), *r)).collect();
    assert_eq!(
        roles,
        [
            ("police", NodeRole::Blinder),
            ("icb", NodeRole::Blinder),
            ("council", NodeRole::Computing)
        ]
    );
    let q = parse(&format!("computing = \"icb\"\n{OVERLAP}")).expect("valid");
    let roles: Vec<(&str, NodeRole)> = q.schedule.iter().map(|(m, r)| (m.as_str(), *r)).collect();
    assert_eq!(
        roles,
        [
            ("police", NodeRole::Blinder),
            ("council", NodeRole::Blinder),
            ("icb", NodeRole::Computing)
        ]
    );
}

#[test]
fn a_flag_back_takes_its_case_reference_from_the_file_or_the_flag() {
    let flag_back = COUNT.replace("kind = \"count\"", "kind = \"flag_back\"");
    let with_ref = format!("case_ref = \"OP-HARBOUR-0042\"\n{flag_back}");
    assert_eq!(parse(&with_ref).expect("valid").case_ref.as_deref(), Some("OP-HARBOUR-0042"));
    let q = LinkQuery::from_toml(&with_ref, Path::new("q.toml"), Some("OP-OTHER-1".into()))
        .expect("valid");
    assert_eq!(q.case_ref.as_deref(), Some("OP-OTHER-1"), "--case-ref replaces the file's");
    let q = LinkQuery::from_toml(&flag_back, Path::new("q.toml"), Some("OP-OTHER-1".into()))
        .expect("valid");
    assert_eq!(q.case_ref.as_deref(), Some("OP-OTHER-1"));
    assert_eq!(q.request.kind, LinkKind::FlagBack);
}

#[test]
fn each_mistake_is_refused_naming_its_key() {
    let flag_back = COUNT.replace("kind = \"count\"", "kind = \"flag_back\"");
    let cases: Vec<(String, Option<&str>, Option<usize>, &str)> = vec![
        // Top-level keys.
        (
            COUNT.replace("\"nhs\", \"name_dob\", \"init_sur_dob\", \"sur_dob_pcd\"", ""),
            None,
            None,
            "key_types",
        ),
        (COUNT.replace("\"init_sur_dob\"", "\"nhs\""), None, None, "key_types"),
        (COUNT.replace("\"12m-before\"", "\"\""), None, None, "window"),
        (
            COUNT.replace(
                "H2: homicide victims with ED assault attendances in the 12 months before",
                " ",
            ),
            None,
            None,
            "title",
        ),
        (format!("computing = \"police\"\n{COUNT}"), None, None, "computing"),
        (format!("computing = \"council\"\n{COUNT}"), None, None, "computing"),
        (format!("computing = \"council-x\"\n{OVERLAP}"), None, None, "computing"),
        (format!("case_ref = \"OP-1\"\n{COUNT}"), None, None, "case_ref"),
        (COUNT.to_string(), Some("OP-1"), None, "--case-ref"),
        (flag_back.clone(), None, None, "case_ref"),
        (flag_back, Some(" "), None, "case_ref"),
        (COUNT.replace("role = \"cohort\"\n", ""), None, None, "side"),
        (
            OVERLAP.replace("[[side]]\nmember = \"council\"\ndataset = \"referrals\"\n", ""),
            None,
            None,
            "side",
        ),
        (
            format!("{COUNT}\n[[side]]\nmember = \"council\"\ndataset = \"referrals\"\n"),
            None,
            None,
            "side",
        ),
        // Keys of a side, numbered from 1.
        (
            COUNT.replace("label = \"attendance_category\"", "role = \"cohort\""),
            None,
            Some(2),
            "role",
        ),
        (
            OVERLAP.replace("dataset = \"crimes\"", "dataset = \"crimes\"\nrole = \"cohort\""),
            None,
            Some(1),
            "role",
        ),
        (COUNT.replace("member = \"police\"", "member = \"icb\""), None, Some(2), "member"),
        (COUNT.replace("member = \"icb\"", "member = \" \""), None, Some(1), "member"),
        (COUNT.replace("dataset = \"ecds\"", "dataset = \"\""), None, Some(1), "dataset"),
        (COUNT.replace("category=homicide|manslaughter", "category"), None, Some(2), "filter"),
        (COUNT.replace("2025-04-01..2026-03-31", "2025-04-01"), None, Some(2), "period"),
        (COUNT.replace("\"attendance_category\"", "\"\""), None, Some(1), "label"),
    ];
    for (i, (text, flag, side, key)) in cases.into_iter().enumerate() {
        let (got_side, got_key, problem) = refused_at(&text, flag);
        assert_eq!((got_side, got_key), (side, key), "case {i}: {problem}");
        assert!(!problem.is_empty(), "case {i}");
    }
}

#[test]
fn the_shape_is_checked_by_the_parser_naming_the_key() {
    for (text, key) in [
        (format!("colour = \"red\"\n{COUNT}"), "colour"),
        (COUNT.replace("kind = \"count\"", "kind = \"census\""), "kind"),
        (COUNT.replace("unit = \"person\"", "unit = \"vehicle\""), "unit"),
        (COUNT.replace("role = \"cohort\"", "role = \"computing\""), "role"),
        (COUNT.replace("label = ", "labels = "), "labels"),
        (COUNT.replace("kind = \"count\"\n", ""), "kind"),
    ] {
        match parse(&text) {
            Err(LinkQueryError::Parse { problem, .. }) => {
                assert!(problem.contains(key), "{key}: {problem}")
            }
            other => panic!("{key}: expected a parse error, got {other:?}"),
        }
    }
}

#[test]
fn errors_read_with_the_file_the_side_and_the_key() {
    let err = parse(&COUNT.replace("dataset = \"ecds\"", "dataset = \"\"")).expect_err("refused");
    assert_eq!(
        err.to_string(),
        "q.toml: side 1 (\"icb\"): `dataset`: empty: name the member's dataset"
    );
    let err = parse(&format!("computing = \"police\"\n{COUNT}")).expect_err("refused");
    assert!(
        err.to_string().starts_with("q.toml: `computing`: \"police\" holds the cohort"),
        "{err}"
    );
}

#[test]
fn members_must_be_nodes_of_the_federation() {
    let key = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
    let member = |name: &str, role: &str| {
        format!(
            "[[member]]\nname = \"{name}\"\nrole = \"{role}\"\norganisation = \"x\"\n\
             endpoint = \"https://127.0.0.1:7001\"\ncert_sha256 = \"{}\"\npublic_key = \"{key}\"\n",
            "ab".repeat(32)
        )
    };
    let text = format!(
        "name = \"demo\"\n{}{}{}",
        member("police", "node"),
        member("icb", "node"),
        member("analyst", "coordinator")
    );
    let federation = Federation::from_toml(&text).expect("federation");
    let q = parse(COUNT).expect("valid");
    q.check_members(&federation, Path::new("q.toml")).expect("both are nodes");
    let q = parse(&COUNT.replace("\"icb\"", "\"analyst\"")).expect("valid");
    match q.check_members(&federation, Path::new("q.toml")) {
        Err(LinkQueryError::Key { side: Some((1, m)), key: "member", problem, .. }) => {
            assert_eq!(m, "analyst");
            assert!(problem.contains("nodes: icb, police"), "{problem}");
        }
        other => panic!("expected a member error, got {other:?}"),
    }
}
