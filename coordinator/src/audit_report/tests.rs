//! Tests of the audit report's figures on crafted entries, and of its page.

use fedlink_proto::audit::budget::{BudgetKey, BudgetScope};
use fedlink_proto::pb;

use super::model::{AuditSummary, LogKind, Outcome, Verification, Window};
use super::read::LogFile;
use super::render::render;
use crate::html::{check_well_formed, external_references};

const DAY: i64 = 86_400_000;
const START: i64 = 1_744_027_200_000; // 2025-04-07 12:00 UTC

/// Builds entries one at a time, each a day after the last.
#[derive(Default)]
struct Log(Vec<pb::AuditEntry>);

impl Log {
    fn push(&mut self, mut entry: pb::AuditEntry) -> u64 {
        let index = self.0.len() as u64;
        entry.index = index;
        entry.time_ms = START + index as i64 * DAY;
        entry.origin = "fedlink.audit/test/icb".into();
        self.0.push(entry);
        index
    }

    fn file(&self) -> LogFile {
        LogFile {
            origin: "fedlink.audit/test/icb".into(),
            public_key: Some("KEY".into()),
            entries: self.0.clone(),
            checkpoints: vec![(self.0.len() as u64, START)],
            ..LogFile::default()
        }
    }
}

fn verified() -> Verification {
    Verification::Verified {
        size: 12,
        checkpoints: 3,
        key: "KEY".into(),
        pinned: false,
        ledger: "budget ledger: ok".into(),
    }
}

fn actor(officer: &str) -> Option<pb::Actor> {
    Some(pb::Actor {
        member: "coordinator".into(),
        requester: Some(pb::Requester {
            officer_id: officer.into(),
            organisation: "ORG".into(),
            ..Default::default()
        }),
        ..Default::default()
    })
}

fn query(purpose: &str, mode: pb::Mode, case_ref: &str) -> Option<pb::QueryRecord> {
    Some(pb::QueryRecord {
        purpose: purpose.into(),
        mode: mode as i32,
        case_ref: case_ref.into(),
        authoriser_id: if case_ref.is_empty() { String::new() } else { "AUTH-1".into() },
        lawful_basis: Some(pb::LawfulBasis {
            regime: "DPA-Part3".into(),
            article: "DPA s35(2)(b)".into(),
            gateway: "CDA s115".into(),
        }),
        ..Default::default()
    })
}

fn request(officer: &str, purpose: &str, mode: pb::Mode, case_ref: &str) -> pb::AuditEntry {
    pb::AuditEntry {
        event_type: pb::EventType::Consultation as i32,
        decision: pb::Decision::Allowed as i32,
        rule: "policy".into(),
        actor: actor(officer),
        query: query(purpose, mode, case_ref),
        ..Default::default()
    }
}

fn refusal(officer: &str, purpose: &str, rule: &str, after: Option<u64>) -> pb::AuditEntry {
    pb::AuditEntry {
        decision: pb::Decision::Denied as i32,
        rule: rule.into(),
        reason: format!("refused by {rule}"),
        request_index: after,
        ..request(officer, purpose, pb::Mode::Aggregate, "")
    }
}

fn charge(officer: &str, micro: u64) -> Option<pb::BudgetCharge> {
    Some(pb::BudgetCharge {
        coordinator: "coordinator".into(),
        requester: format!("{officer}@ORG"),
        dataset: "ed".into(),
        period: "2025/26".into(),
        epsilon_micro: micro,
    })
}

fn disclosure(after: u64, class: &str, records: u64) -> pb::AuditEntry {
    pb::AuditEntry {
        event_type: pb::EventType::Disclosure as i32,
        decision: pb::Decision::Allowed as i32,
        request_index: Some(after),
        output: Some(pb::OutputRecord {
            output_class: class.into(),
            records_released: records,
            disclosure_rule: "supp<=7;round5".into(),
            ..Default::default()
        }),
        recipients: vec!["coordinator".into()],
        ..Default::default()
    }
}

/// A node's log with every kind of activity the report counts.
fn node_log() -> Log {
    let mut log = Log::default();
    log.push(pb::AuditEntry {
        event_type: pb::EventType::ServiceStart as i32,
        decision: pb::Decision::Allowed as i32,
        ..Default::default()
    });
    let a = log.push(request("A", "SVD-SNA", pb::Mode::Aggregate, ""));
    log.push(pb::AuditEntry {
        budget: charge("A", 500_000),
        actor: actor("A"),
        query: query("SVD-SNA", pb::Mode::Aggregate, ""),
        ..disclosure(a, "AGGREGATE_DP", 12)
    });
    log.push(refusal("B", "MARKETING", "policy.purposes", None));
    let b = log.push(request("B", "SVD-SNA", pb::Mode::Aggregate, ""));
    log.push(pb::AuditEntry {
        budget: charge("B", 250_000),
        ..refusal("B", "SVD-SNA", "budget.exhausted", Some(b))
    });
    let f = log.push(request("A", "SAFEGUARDING", pb::Mode::FlagBack, "OP-1"));
    log.push(pb::AuditEntry {
        detail: "flags for 5 cohort rows sent to police, approved by operator-jo; messages x"
            .into(),
        recipients: vec!["police".into()],
        actor: actor("A"),
        query: query("SAFEGUARDING", pb::Mode::FlagBack, "OP-1"),
        ..disclosure(f, "FLAG_BACK", 5)
    });
    let g = log.push(request("A", "SAFEGUARDING", pb::Mode::FlagBack, "OP-2"));
    log.push(refusal("A", "SAFEGUARDING", "policy.linkage.flag_back", Some(g)));
    log.push(pb::AuditEntry {
        event_type: pb::EventType::LogExport as i32,
        decision: pb::Decision::Allowed as i32,
        detail: "audit show by the DPO".into(),
        ..Default::default()
    });
    log.push(refusal("C", "MARKETING", "policy.purposes", None));
    log
}

fn summary(log: &Log, window: Window) -> AuditSummary {
    AuditSummary::build(&log.file(), verified(), window)
}

#[test]
fn a_node_log_counts_each_request_once_with_its_outcome() {
    let s = summary(&node_log(), Window::default());
    assert_eq!(s.kind, LogKind::Node);
    let outcomes: Vec<(u64, Outcome)> = s.queries.iter().map(|q| (q.index, q.outcome)).collect();
    assert_eq!(
        outcomes,
        [
            (1, Outcome::Answered),
            (3, Outcome::Refused),
            (4, Outcome::Refused),
            (6, Outcome::Answered),
            (8, Outcome::Refused),
            (11, Outcome::Refused),
        ]
    );
}

#[test]
fn queries_are_counted_per_purpose_and_requester() {
    let s = summary(&node_log(), Window::default());
    let svd = s.by_purpose.counts["SVD-SNA"];
    assert_eq!((svd.queries, svd.answered, svd.refused), (2, 1, 1));
    assert_eq!(s.by_purpose.counts["MARKETING"].refused, 2);
    assert_eq!(s.by_purpose.counts["SAFEGUARDING"].queries, 2);
    assert_eq!(s.by_requester.counts["A@ORG"].queries, 3);
    assert_eq!(s.by_requester.counts["B@ORG"].queries, 2);
    assert_eq!(s.by_requester.counts["C@ORG"].queries, 1);
    assert_eq!(s.by_kind.counts["flag back"].queries, 2);
    assert_eq!(s.by_lawful_basis.counts["DPA-Part3 · DPA s35(2)(b) · CDA s115"].queries, 6);
    // Twelve daily entries: twelve day buckets, the SVD-SNA requests on days 1 and 4.
    assert_eq!(s.buckets.as_ref().map(|b| b.len()), Some(12));
    let per_day = &s.by_purpose.per_bucket["SVD-SNA"];
    assert_eq!(
        per_day.iter().enumerate().filter(|(_, n)| **n > 0).map(|(i, _)| i).collect::<Vec<_>>(),
        [1, 4]
    );
    assert_eq!(s.outcomes_per_bucket[3], [0, 1, 0, 0], "day 3 holds one refusal");
}

#[test]
fn refusals_are_counted_by_rule() {
    let s = summary(&node_log(), Window::default());
    let by_rule: Vec<(&str, u64)> =
        s.refusals_by_rule.iter().map(|(r, n)| (r.as_str(), *n)).collect();
    assert_eq!(
        by_rule,
        [("budget.exhausted", 1), ("policy.linkage.flag_back", 1), ("policy.purposes", 2)]
    );
    assert_eq!(s.refusals.iter().map(|r| r.index).collect::<Vec<_>>(), [3, 5, 9, 11]);
}

#[test]
fn budget_sums_only_allowed_charges() {
    let s = summary(&node_log(), Window::default());
    let key = ("A@ORG".to_string(), "ed".to_string(), "2025/26".to_string());
    assert_eq!(s.budget.by_requester.get(&key), Some(&500_000));
    assert_eq!(s.budget.by_requester.len(), 1, "B's refused request spent nothing");
    assert_eq!(s.budget.refused.len(), 1);
    let coordinator = BudgetKey {
        scope: BudgetScope::Coordinator,
        coordinator: "coordinator".into(),
        requester: String::new(),
        dataset: "ed".into(),
        period: "2025/26".into(),
    };
    assert_eq!(s.budget.replayed.get(&coordinator), Some(&500_000));
}

#[test]
fn person_level_disclosures_carry_case_authoriser_and_approval() {
    let s = summary(&node_log(), Window::default());
    assert_eq!(s.person_level.len(), 1);
    let d = &s.person_level[0];
    assert_eq!((d.index, d.output_class.as_str(), d.case_ref.as_str()), (7, "FLAG_BACK", "OP-1"));
    assert_eq!(
        (d.authoriser.as_str(), d.approver.as_deref(), d.records),
        ("AUTH-1", Some("operator-jo"), 5)
    );
    let decisions: Vec<(u64, bool)> =
        s.approvals.iter().map(|a| (a.index, a.decision.is_ok())).collect();
    assert_eq!(decisions, [(7, true), (9, false)]);
    assert_eq!(s.disclosures_by_class["AGGREGATE_DP"], (1, 12));
    assert_eq!(s.disclosures_by_class["FLAG_BACK"], (1, 5));
}

#[test]
fn events_and_reads_of_the_log_are_counted() {
    let s = summary(&node_log(), Window::default());
    assert_eq!(s.events["consultation"], 8);
    assert_eq!(s.events["disclosure"], 2);
    assert_eq!(s.events["log export"], 1);
    assert_eq!(s.log_reads, [(START + 10 * DAY, "audit show by the DPO".to_string())]);
}

#[test]
fn the_window_limits_activity_but_not_balances() {
    let window = Window { since_ms: Some(START + 4 * DAY), until_ms: Some(START + 9 * DAY) };
    let s = summary(&node_log(), window);
    assert_eq!(s.queries.iter().map(|q| q.index).collect::<Vec<_>>(), [4, 6, 8]);
    assert_eq!(s.entries_in_window, 5);
    assert!(s.budget.by_requester.is_empty(), "A's charge is before the window");
    assert_eq!(s.budget.replayed.len(), 2, "balances cover the whole log");
    // Request 8's refusal (entry 9) falls outside the window, so it has no outcome yet.
    assert_eq!(s.queries[2].outcome, Outcome::NoOutcome);
}

fn coordinator_log() -> Log {
    let mut log = Log::default();
    let issued = |node: &str, id: u8| pb::AuditEntry {
        event_type: pb::EventType::QueryIssued as i32,
        decision: pb::Decision::Allowed as i32,
        actor: actor("A"),
        query: Some(pb::QueryRecord {
            query_id: vec![id; 16],
            audience: node.into(),
            purpose: "SVD-SNA".into(),
            mode: pb::Mode::Aggregate as i32,
            ..Default::default()
        }),
        ..Default::default()
    };
    let received = |node: &str, id: u8, decision: pb::Decision| pb::AuditEntry {
        event_type: pb::EventType::ResultReceived as i32,
        decision: decision as i32,
        reason: "receipt for entry 4 verified".into(),
        query: Some(pb::QueryRecord {
            query_id: vec![id; 16],
            audience: node.into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    log.push(issued("police", 1));
    log.push(issued("icb", 1));
    log.push(received("police", 1, pb::Decision::Allowed));
    log.push(received("icb", 1, pb::Decision::Denied));
    log.push(issued("police", 2));
    log
}

#[test]
fn a_coordinator_log_counts_queries_per_node_by_receipt() {
    let s = summary(&coordinator_log(), Window::default());
    assert_eq!(s.kind, LogKind::Coordinator);
    let police = &s.per_node["police"].counts;
    assert_eq!((police.queries, police.answered, police.no_outcome), (2, 1, 1));
    let icb = &s.per_node["icb"].counts;
    assert_eq!((icb.queries, icb.refused), (1, 1));
    assert_eq!(s.refusals_by_rule.get("refused by icb"), Some(&1));
    // Who asked and why come from the entry that issued the query.
    let refusal = &s.refusals[0];
    assert_eq!(
        (refusal.index, refusal.requester.as_str(), refusal.purpose.as_str()),
        (3, "A@ORG", "SVD-SNA")
    );
    assert_eq!(s.by_purpose.counts["SVD-SNA"].queries, 3);
}

#[test]
fn the_page_is_well_formed_self_contained_and_has_every_section() {
    for (log, coordinator) in [(node_log(), false), (coordinator_log(), true)] {
        let html = render(&summary(&log, Window::default()), "data/audit.db", None);
        check_well_formed(&html).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(external_references(&html), Vec::<String>::new());
        for heading in [
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
        ] {
            assert!(html.contains(&format!(">{heading}</h2>")), "{heading}");
        }
        assert_eq!(html.contains(">Queries per node</h2>"), coordinator);
        assert!(html.contains("This log verifies"));
    }
    let html = render(&summary(&node_log(), Window::default()), "data/audit.db", None);
    assert!(html.contains("policy.linkage.flag_back"));
    assert!(html.contains("approved by operator-jo"));
    assert!(html.contains("OP-1"));
}

#[test]
fn a_failed_verification_leads_the_page_in_red() {
    let failed = Verification::Failed { problem: "entry 3: the stored bytes hash to x".into() };
    let s = AuditSummary::build(&node_log().file(), failed, Window::default());
    let html = render(&s, "audit.db", None);
    let alert = html.find(r#"<div class="callout danger" role="alert">"#).expect("alert");
    let contents = html.find("<nav class=\"toc\"").expect("contents");
    assert!(alert < contents, "the failure comes before everything else");
    assert!(html.contains("This log FAILS verification"));
    assert!(html.contains("entry 3: the stored bytes hash to x"));
    assert!(!html.contains("This log verifies"));
}

#[test]
fn text_from_the_log_is_escaped() {
    let mut log = Log::default();
    log.push(refusal("<img src=x>", "<script>alert(1)</script>", "policy.purposes", None));
    let html = render(&summary(&log, Window::default()), "a&b.db", None);
    check_well_formed(&html).unwrap();
    assert!(!html.contains("<script>alert"));
    assert!(!html.contains("<img"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("a&amp;b.db"));
}

#[test]
fn the_same_log_gives_the_same_bytes() {
    let a = render(&summary(&node_log(), Window::default()), "x", None);
    let b = render(&summary(&node_log(), Window::default()), "x", None);
    assert_eq!(a, b);
}
