//! F6 and F12, flag-back (design-review §3.1, §3.3, §10 item 8): the police ask which of their
//! case's rows attended ED. As first specified, the police would have received the ICB's whole
//! blinded set and computed the flags themselves, learning near misses — a twin who agrees with
//! a cohort row on surname, date of birth and postcode only — and the month of each attendance.
//! Now the ICB computes the flags and returns exactly one flag and one coarse label per cohort
//! row, after an operator there approved this very query.
//!
//! - n cohort rows give exactly n flags, one per row, and nothing varies with the month of the
//!   ICB's event;
//! - the twin fixture gives flag 0 on the strong keys (nhs + name_dob), while the same twin
//!   agrees on `sur_dob_pcd` (a count on that key alone links him): a flag-back asking for
//!   that weak key is refused by the ICB's flag-back rule (`policy.linkage.flag_back`), before
//!   anything is blinded or approved (before that rule, an operator's approval released
//!   Oliver's flag for Harry's attendance);
//! - an operator's approval of query X does not approve query Y: Y waits for its own decision.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fedlink_coordinator::link::query::LinkQuery;
use fedlink_coordinator::link::{LinkRun, PartStatus};
use fedlink_node::approvals::{ApprovalRecord, ApprovalStore, CaseCaps, path_in};

use super::fixture::{
    LinkFed, PURPOSE, Person, Row, Setup, cell, count_query_with, describe, fillers,
};
use crate::util::{now, runtime};

/// The police row of Oliver, and the ICB record of his twin Harry: same surname, date of birth
/// and postcode; different first names (and initials); no NHS number on either.
fn twins() -> (Person, Person) {
    let oliver = Person {
        nhs: None,
        given: Some("Oliver".into()),
        family: Some("Quarrington".into()),
        dob: Some("1990-03-04".into()),
        postcode: Some("LS9 9AB".into()),
    };
    let harry = Person { given: Some("Harry".into()), ..oliver.clone() };
    (oliver, harry)
}

/// Police case rows: A (NHS number and names; at the ICB), B (names only; at the ICB), Oliver
/// (his twin is at the ICB), C (not at the ICB), D (at the ICB, attending in another month).
fn setup() -> Setup {
    let day = "2025-06-15";
    let (oliver, harry) = twins();
    let police = vec![
        Row::new("R-A", Person::synthetic(100), day, "case"),
        Row::new("R-B", Person::synthetic(101).only(&["given", "family", "dob"]), day, "case"),
        Row::new("R-OLIVER", oliver, day, "case"),
        Row::new("R-C", Person::synthetic(102), day, "case"),
        Row::new("R-D", Person::synthetic(103), day, "case"),
    ];
    let mut icb = vec![
        Row::new("E-A", Person::synthetic(100), "2025-03-10", "assault"),
        Row::new("E-B", Person::synthetic(101), "2025-03-10", "assault"),
        Row::new("E-HARRY", harry, "2025-03-10", "assault"),
        Row::new("E-D", Person::synthetic(103), "2024-09-21", "assault"),
    ];
    icb.extend(fillers("G", 2000, 4, "2025-02-01", "assault"));
    Setup::exact(police, icb)
}

fn flag_back(key_types: &str) -> LinkQuery {
    let text = format!(
        r#"
kind = "flag_back"
unit = "person"
key_types = {key_types}
window = "12m-before"
case_ref = "OP-ADVERSARY-1"
purpose = "{PURPOSE}"

[[side]]
member = "police"
dataset = "cohort"
role = "cohort"
filter = ["grp=case"]

[[side]]
member = "icb"
dataset = "ed"
"#
    );
    LinkQuery::from_toml(&text, std::path::Path::new("flagback.toml"), None).expect("query")
}

/// An ICB operator in another thread: waits for the next pending flag-back request and
/// approves it (or denies it), returning it as it stood when first seen pending, and whether
/// any earlier approval already covered its query hash.
fn operator(store: PathBuf, approve: bool) -> std::thread::JoinHandle<(ApprovalRecord, bool)> {
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            assert!(Instant::now() < deadline, "no flag-back request reached the operator");
            if let Ok(store) = ApprovalStore::open(&store)
                && let Some(record) = store.list(true, now().0).expect("list").into_iter().next()
            {
                let covered = store
                    .approved_for(&record.request.query_hash, now().0)
                    .expect("approved_for")
                    .is_some();
                let caps = CaseCaps {
                    max_rows_per_case: 1000,
                    case_period_days: 90,
                    max_rows_per_day: 1000,
                };
                if approve {
                    store.approve(record.id, "Insp Adversary", &caps, now().0).expect("approve");
                } else {
                    store.deny(record.id, "Insp Adversary", "not this one", now().0).expect("deny");
                }
                return (record, covered);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    })
}

fn run(fed: &LinkFed, query: &LinkQuery) -> LinkRun {
    runtime().block_on(fed.run_with(query, &mut fed.transport(), None))
}

#[test]
fn flag_back_returns_one_flag_per_row_and_no_near_misses() {
    let fed = LinkFed::start(&setup());
    let store = path_in(&fed.fed.member_dir("icb").join("data"));

    // X: the strong keys. The operator approves it.
    let query = flag_back(r#"["nhs", "name_dob"]"#);
    let approver = operator(store.clone(), true);
    let x = run(&fed, &query);
    let (x_request, _) = approver.join().expect("operator");
    assert!(x.ok(), "{}", describe(&x));
    let flags = x.flags().expect("flags");

    // Exactly one flag per cohort row: 5 rows, 5 flags, each row once.
    assert_eq!(x_request.request.attested_rows, 5, "the operator saw 5 rows");
    let mut ids: Vec<&str> = flags.iter().map(|f| f.record_id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["R-A", "R-B", "R-C", "R-D", "R-OLIVER"]);
    let flag = |id: &str| flags.iter().find(|f| f.record_id == id).expect("row");
    for (id, expected) in
        [("R-A", true), ("R-B", true), ("R-OLIVER", false), ("R-C", false), ("R-D", true)]
    {
        assert_eq!(flag(id).flag, expected, "{id}: {flags:?}");
        // A flag carries one coarse label; no flag carries none.
        let label = if expected { Some("all".to_string()) } else { None };
        assert_eq!(flag(id).label, label, "{id}");
    }
    // D attended in September, A and B in March: their flags are the same.
    assert_eq!(
        flag("R-D"),
        &fedlink_coordinator::link::result::FlagRow {
            record_id: "R-D".into(),
            ..flag("R-A").clone()
        }
    );
    eprintln!("flag-back on nhs + name_dob: {flags:?}");

    // Y: the same query again (a new query id, so a new hash). X's approval does not cover
    // it: the ICB records a new request and waits; the operator denies it.
    let approver = operator(store.clone(), false);
    let y = run(&fed, &query);
    let (y_request, covered) = approver.join().expect("operator");
    assert_ne!(y_request.request.query_hash, x_request.request.query_hash);
    assert!(!covered, "no approval covered Y's hash when it was requested");
    assert!(y_request.id != x_request.id);
    match y.parts.iter().find(|p| p.member == "icb").map(|p| &p.status) {
        Some(PartStatus::Refused { rule, message, .. }) => {
            assert_eq!(rule, "policy.linkage.flag_back", "{message}");
            assert!(message.contains("denied"), "{message}");
        }
        _ => panic!("Y was not refused: {}", describe(&y)),
    }
    assert!(y.flags().is_none());
    let store_now = ApprovalStore::open(&store).expect("store");
    assert!(store_now.approved_for(&x_request.request.query_hash, now().0).expect("x").is_some());
    assert!(store_now.approved_for(&y_request.request.query_hash, now().0).expect("y").is_none());

    // The twin fixture is a real near miss: a count on sur_dob_pcd alone links A and D (at the
    // ICB, with postcodes) and Oliver, through Harry; B has no postcode, C is not at the ICB.
    let near = run(&fed, &count_query_with(r#"["sur_dob_pcd"]"#, &["grp=case"], None, None));
    assert!(near.ok(), "{}", describe(&near));
    assert_eq!(cell(&near, "all", "all"), 3, "Oliver agrees with Harry on sur_dob_pcd");

    // So a flag-back on that weak key would flag Oliver for Harry's attendance. The ICB
    // refuses the key before any request reaches an operator.
    let weak = run(&fed, &flag_back(r#"["nhs", "name_dob", "sur_dob_pcd"]"#));
    match weak.parts.iter().find(|p| p.member == "icb").map(|p| &p.status) {
        Some(PartStatus::Refused { rule, message, at, .. }) => {
            assert_eq!((rule.as_str(), at.as_str()), ("policy.linkage.flag_back", "LinkOpen"));
            assert!(message.contains("sur_dob_pcd"), "{message}");
        }
        _ => panic!("a weak-key flag-back was not refused: {}", describe(&weak)),
    }
    let pending = ApprovalStore::open(&store).expect("store").list(true, now().0).expect("list");
    assert!(pending.is_empty(), "no request was recorded for the refused flag-back");
}
