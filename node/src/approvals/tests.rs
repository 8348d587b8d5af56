//! The approvals store against the F12 rules: idempotent requests, decisions made once, expiry,
//! per-case and per-day caps refused by rule name, approvals bound to one query hash, and two
//! processes (two stores on one file) seeing each other's decisions.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use super::*;

/// 2025-06-02 09:00 UTC: mid-morning, so a few hours either way stay in the same UTC day.
const T0: i64 = 1_748_854_800_000;
const HOUR: i64 = 3_600_000;

const CAPS: CaseCaps =
    CaseCaps { max_rows_per_case: 10, case_period_days: 90, max_rows_per_day: 100 };

fn store() -> (tempfile::TempDir, ApprovalStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = ApprovalStore::open(&path_in(dir.path())).expect("open");
    (dir, store)
}

fn req(hash: u8, case_ref: &str, rows: u32, at_ms: i64) -> ApprovalRequest {
    ApprovalRequest {
        query_hash: [hash; 32],
        query_id: format!("0197a000-0000-7000-8000-0000000000{hash:02x}"),
        case_ref: case_ref.into(),
        purpose: "SAFEGUARDING-CASE-REVIEW".into(),
        lawful_basis: "DPA-Part3 / DPA s35(2)(b) / CDA s115".into(),
        requester: "PC 1234 (Westshire Police)".into(),
        authoriser: "DI 5678 (Westshire Police)".into(),
        dataset: "ecds".into(),
        attested_rows: rows,
        requested_at_ms: at_ms,
        expires_at_ms: at_ms + HOUR,
    }
}

#[test]
fn a_request_is_idempotent_on_its_query_hash() {
    let (_dir, store) = store();
    let first = store.request(&req(1, "OP-1", 3, T0)).expect("request");
    // The same signed query, received again a moment later, is the same request.
    let again = store.request(&req(1, "OP-1", 3, T0 + 5_000)).expect("again");
    assert_eq!(first, again);
    let other = store.request(&req(2, "OP-1", 3, T0)).expect("other");
    assert_ne!(first, other);
    // The same hash with other details is refused, not silently merged.
    let err = store.request(&req(1, "OP-2", 3, T0)).expect_err("conflict");
    assert!(matches!(err, ApprovalError::HashConflict { id } if id == first), "{err}");
    assert_eq!(store.list(false, T0).expect("list").len(), 2);
    // A decided query recorded again keeps its decision.
    store.deny(first, "Sgt Jones", "no case", T0).expect("deny");
    assert_eq!(store.request(&req(1, "OP-1", 3, T0)).expect("again"), first);
    assert_eq!(store.state(first, T0).expect("state").name(), "denied");
}

#[test]
fn a_request_that_cannot_be_shown_is_refused() {
    let (_dir, store) = store();
    for (bad, field) in [
        (ApprovalRequest { case_ref: "OP-1\u{1b}[2J".into(), ..req(1, "", 1, T0) }, "case_ref"),
        (ApprovalRequest { requester: " ".into(), ..req(1, "OP-1", 1, T0) }, "requester"),
        (ApprovalRequest { attested_rows: 0, ..req(1, "OP-1", 1, T0) }, "attested_rows"),
        (ApprovalRequest { expires_at_ms: T0, ..req(1, "OP-1", 1, T0) }, "expires_at_ms"),
    ] {
        let err = store.request(&bad).expect_err(field);
        assert!(err.to_string().starts_with(field), "{field}: {err}");
    }
    assert!(store.list(false, T0).expect("list").is_empty());
}

#[test]
fn a_request_is_approved_once_only() {
    let (_dir, store) = store();
    let id = store.request(&req(1, "OP-1", 4, T0)).expect("request");
    assert_eq!(store.state(id, T0).expect("state"), ApprovalState::Pending);
    let record = store.approve(id, "Insp Patel", &CAPS, T0 + 1).expect("approve");
    let approved = ApprovalState::Approved { approver: "Insp Patel".into(), at_ms: T0 + 1 };
    assert_eq!(record.state, approved);
    assert_eq!(store.get(id, T0 + 2).expect("get"), record);

    let err = store.approve(id, "Sgt Jones", &CAPS, T0 + 2).expect_err("twice");
    assert!(matches!(err, ApprovalError::AlreadyDecided { .. }), "{err}");
    assert!(err.to_string().contains("approved by Insp Patel"), "{err}");
    let err = store.deny(id, "Sgt Jones", "changed my mind", T0 + 2).expect_err("deny after");
    assert!(matches!(err, ApprovalError::AlreadyDecided { .. }), "{err}");
    assert_eq!(store.state(id, T0 + 3).expect("state"), approved);

    assert!(matches!(
        store.approve(99, "Insp Patel", &CAPS, T0),
        Err(ApprovalError::UnknownId(99))
    ));
    assert!(matches!(store.get(99, T0), Err(ApprovalError::UnknownId(99))));
}

#[test]
fn a_denied_request_records_who_and_why_and_authorises_nothing() {
    let (_dir, store) = store();
    let id = store.request(&req(1, "OP-1", 4, T0)).expect("request");
    let err = store.deny(id, "Sgt Jones", "", T0).expect_err("no reason");
    assert!(err.to_string().starts_with("reason"), "{err}");
    let record = store.deny(id, "Sgt Jones", "case closed", T0 + 1).expect("deny");
    let denied = ApprovalState::Denied {
        approver: "Sgt Jones".into(),
        reason: "case closed".into(),
        at_ms: T0 + 1,
    };
    assert_eq!(record.state, denied);
    assert_eq!(store.state(id, T0 + 2).expect("state"), denied);
    assert!(store.approved_for(&[1; 32], T0 + 2).expect("approved_for").is_none());
    let err = store.approve(id, "Insp Patel", &CAPS, T0 + 2).expect_err("approve after");
    assert!(matches!(err, ApprovalError::AlreadyDecided { .. }), "{err}");
    // A denial uses no cap.
    let history = store.history("OP-1", &CAPS, T0 + 2).expect("history");
    assert_eq!((history.rows_approved_in_period, history.rows_remaining_for_case), (0, 10));
}

#[test]
fn an_undecided_request_expires_and_cannot_then_be_decided() {
    let (_dir, store) = store();
    let id = store.request(&req(1, "OP-1", 4, T0)).expect("request");
    let expiry = T0 + HOUR;
    assert_eq!(store.state(id, expiry - 1).expect("state"), ApprovalState::Pending);
    assert_eq!(store.state(id, expiry).expect("state"), ApprovalState::Expired);
    let err = store.approve(id, "Insp Patel", &CAPS, expiry).expect_err("approve");
    assert!(matches!(err, ApprovalError::Expired { id: e } if e == id), "{err}");
    let err = store.deny(id, "Insp Patel", "late", expiry + 1).expect_err("deny");
    assert!(matches!(err, ApprovalError::Expired { .. }), "{err}");
    assert_eq!(store.list(true, expiry - 1).expect("pending").len(), 1);
    assert!(store.list(true, expiry).expect("pending").is_empty());
    let all = store.list(false, expiry).expect("all");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].state, ApprovalState::Expired);
}

#[test]
fn the_case_cap_over_its_period_refuses_an_approval_by_rule_name() {
    let (_dir, store) = store();
    let first = store.request(&req(1, "OP-1", 6, T0)).expect("request");
    store.approve(first, "Insp Patel", &CAPS, T0).expect("6 of 10");
    // 6 + 5 > 10 within 90 days: refused, naming the key.
    let day_30 = T0 + 30 * DAY_MS;
    let second = store.request(&req(2, "OP-1", 5, day_30)).expect("request");
    let err = store.approve(second, "Insp Patel", &CAPS, day_30).expect_err("over the case cap");
    assert!(matches!(err, ApprovalError::CaseCapExceeded { approved: 6, asked: 5, .. }), "{err}");
    assert_eq!(err.rule(), Some("flag_back.max_rows_per_case"));
    assert!(err.to_string().contains("flag_back.max_rows_per_case"), "{err}");
    assert!(err.to_string().contains("OP-1"), "{err}");
    assert_eq!(store.state(second, day_30).expect("state"), ApprovalState::Pending);
    // Another case reference has its own cap.
    let other = store.request(&req(3, "OP-2", 5, day_30)).expect("request");
    store.approve(other, "Insp Patel", &CAPS, day_30).expect("other case");
    // Exactly up to the cap is allowed.
    let fits = store.request(&req(4, "OP-1", 4, day_30)).expect("request");
    store.approve(fits, "Insp Patel", &CAPS, day_30).expect("6 + 4 = 10");
    let history = store.history("OP-1", &CAPS, day_30).expect("history");
    assert_eq!((history.rows_approved_in_period, history.rows_remaining_for_case), (10, 0));
    assert_eq!(history.previous.iter().map(|r| r.id).collect::<Vec<_>>(), [fits, second, first]);
    // Once the first approval is more than 90 days old it no longer counts: 4 + 5 fits.
    let day_91 = T0 + 91 * DAY_MS;
    let later = store.request(&req(5, "OP-1", 5, day_91)).expect("request");
    store.approve(later, "Insp Patel", &CAPS, day_91).expect("the first left the period");
    let history = store.history("OP-1", &CAPS, day_91).expect("history");
    assert_eq!((history.rows_approved_in_period, history.rows_remaining_for_case), (9, 1));
}

#[test]
fn the_daily_cap_counts_every_case_and_refuses_by_rule_name() {
    let (_dir, store) = store();
    let caps = CaseCaps { max_rows_per_case: 100, case_period_days: 90, max_rows_per_day: 10 };
    let a = store.request(&req(1, "OP-1", 6, T0)).expect("request");
    store.approve(a, "Insp Patel", &caps, T0).expect("6 of 10 today");
    let b = store.request(&req(2, "OP-2", 5, T0 + HOUR)).expect("request");
    let err = store.approve(b, "Insp Patel", &caps, T0 + HOUR).expect_err("over the day cap");
    assert!(matches!(err, ApprovalError::DayCapExceeded { approved: 6, asked: 5, .. }), "{err}");
    assert_eq!(err.rule(), Some("flag_back.max_rows_per_day"));
    assert!(err.to_string().contains("flag_back.max_rows_per_day"), "{err}");
    let history = store.history("OP-2", &caps, T0 + HOUR).expect("history");
    assert_eq!((history.rows_approved_today, history.rows_remaining_today), (6, 4));
    assert_eq!(history.rows_approved_in_period, 0);
    // The next UTC day starts afresh.
    let tomorrow = CaseCaps::day_start_ms(T0) + DAY_MS;
    let c = store.request(&req(3, "OP-2", 5, tomorrow)).expect("request");
    store.approve(c, "Insp Patel", &caps, tomorrow).expect("a new day");
}

#[test]
fn an_approval_authorises_exactly_its_query_hash_until_expiry() {
    let (_dir, store) = store();
    let x = store.request(&req(1, "OP-1", 2, T0)).expect("x");
    let _y = store.request(&req(2, "OP-1", 2, T0)).expect("y");
    assert!(store.approved_for(&[1; 32], T0).expect("x").is_none(), "pending is not approved");
    store.approve(x, "Insp Patel", &CAPS, T0).expect("approve x");
    let found = store.approved_for(&[1; 32], T0 + 1).expect("x").expect("x is approved");
    assert_eq!(found.id, x);
    assert!(store.approved_for(&[2; 32], T0 + 1).expect("y").is_none(), "X does not cover Y");
    assert!(store.approved_for(&[3; 32], T0 + 1).expect("z").is_none());
    assert!(store.approved_for(&[1; 32], T0 + HOUR).expect("x late").is_none(), "expired");
}

#[test]
fn two_stores_on_one_file_see_each_others_decisions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = path_in(dir.path());
    let node = ApprovalStore::open(&path).expect("node");
    let operator = ApprovalStore::open(&path).expect("operator");
    let id = node.request(&req(1, "OP-1", 3, T0)).expect("request");
    assert_eq!(operator.list(true, T0).expect("list")[0].id, id);
    operator.approve(id, "Insp Patel", &CAPS, T0 + 1).expect("approve");
    assert_eq!(node.state(id, T0 + 2).expect("state").name(), "approved");
    assert!(node.approved_for(&[1; 32], T0 + 2).expect("approved_for").is_some());

    // Two operators racing on one request: exactly one decides.
    let id = node.request(&req(2, "OP-2", 3, T0)).expect("request");
    let results: Vec<Result<ApprovalRecord, ApprovalError>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let path = &path;
                s.spawn(move || {
                    let store = ApprovalStore::open(path)?;
                    if i % 2 == 0 {
                        store.approve(id, &format!("op{i}"), &CAPS, T0 + 5)
                    } else {
                        store.deny(id, &format!("op{i}"), "no", T0 + 5)
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    for err in results.iter().filter_map(|r| r.as_ref().err()) {
        assert!(matches!(err, ApprovalError::AlreadyDecided { .. }), "{err}");
    }
}

#[test]
fn wait_returns_the_decision_or_expiry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = path_in(dir.path());
    let node = ApprovalStore::open(&path).expect("node");
    let id = node.request(&req(1, "OP-1", 3, T0)).expect("request");
    let clock = || T0 + 1;
    let state = std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(30));
            let operator = ApprovalStore::open(&path).expect("operator");
            operator.deny(id, "Sgt Jones", "not this case", T0 + 1).expect("deny");
        });
        node.wait(id, Duration::from_millis(5), &clock).expect("wait")
    });
    assert_eq!(state.name(), "denied");

    // Nobody decides: the wait ends when the request expires, on the node's clock.
    let id = node.request(&req(2, "OP-1", 3, T0)).expect("request");
    let now = Arc::new(AtomicI64::new(T0));
    let ticking = {
        let now = Arc::clone(&now);
        move || now.fetch_add(10 * 60_000, Ordering::SeqCst)
    };
    let state = node.wait(id, Duration::ZERO, &ticking).expect("wait");
    assert_eq!(state, ApprovalState::Expired);
    // With a deadline before expiry, the wait gives up and says it is still pending.
    let id = node.request(&req(3, "OP-1", 3, T0)).expect("request");
    let state = node.wait_until(id, Duration::ZERO, &|| T0 + 10, T0 + 5).expect("wait");
    assert_eq!(state, ApprovalState::Pending);
}

#[test]
fn caps_come_from_the_datasets_flag_back_rule_for_the_purpose() {
    let rule = |flag_back: &str| {
        format!(
            r#"policy_id = "icb-test-1"

[[linkage]]
dataset = "ecds"
purposes = ["SAFEGUARDING-CASE-REVIEW"]
roles = ["partner", "computing"]
key_types = ["nhs"]
labels = {{ vocabulary = ["all"], k_min = 5 }}
max_subjects_per_query = 1000
max_queries_per_day = 20
privacy = {{ epsilon = "1" }}
{flag_back}
"#
        )
    };
    let with = Policy::from_toml(&rule(
        r#"flag_back = { purposes = ["SAFEGUARDING-CASE-REVIEW"], max_rows_per_case = 10 }"#,
    ))
    .expect("policy");
    let caps = caps_for(&with, "ecds", "SAFEGUARDING-CASE-REVIEW").expect("caps");
    assert_eq!(
        caps,
        CaseCaps { max_rows_per_case: 10, case_period_days: 90, max_rows_per_day: 100 }
    );
    let err = caps_for(&with, "ecds", "SVD-SNA").expect_err("other purpose");
    assert!(err.to_string().contains("purpose \"SVD-SNA\""), "{err}");
    let err = caps_for(&with, "apc", "SAFEGUARDING-CASE-REVIEW").expect_err("other dataset");
    assert_eq!(
        err.to_string().split(':').next(),
        Some("flag-back is not allowed for dataset \"apc\"")
    );
    let without = Policy::from_toml(&rule("")).expect("policy");
    let err = caps_for(&without, "ecds", "SAFEGUARDING-CASE-REVIEW").expect_err("no flag-back");
    assert!(matches!(err, ApprovalError::FlagBackNotAllowed { .. }), "{err}");
}

#[test]
fn a_file_of_another_format_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = path_in(dir.path());
    drop(ApprovalStore::open(&path).expect("create"));
    rusqlite::Connection::open(&path)
        .expect("raw")
        .pragma_update(None, "user_version", 7)
        .expect("v");
    let err = ApprovalStore::open(&path).expect_err("format 7");
    assert!(matches!(err, ApprovalError::UnknownFormat { found: 7, .. }), "{err}");
}
