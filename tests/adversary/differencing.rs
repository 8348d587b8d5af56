//! F3, the differencing coordinator (design-review §2.2 (a), §10 item 2): the coordinator
//! knows 7 people in its cohort X attended ED and wants to learn whether y did. It asks the
//! linked count for X and for X ∪ {y}, again and again, and reads y's membership from the
//! difference. Suppression and rounding alone would give it away in one pair; the defence is
//! DP noise on every linked output (discrete Laplace, scale 2/ε) charged to a budget the ICB
//! keeps per requester and per coordinator.
//!
//! The bound. Each answered query releases the table at ε (ℓ1 sensitivity 2) and the quality
//! figures at ε again, and is charged 2ε. Whatever the released values, one subject's presence
//! changes the likelihood of everything released by at most a factor e^{2ε} per query, so
//! after k answered queries the attacker's posterior odds on "y attended" have moved by at most
//! e^{2εk} from its prior odds, and 2εk can never exceed the budget: the ICB refuses, naming
//! `policy.budget`, before it does. The tests check the refusal comes exactly when the budget
//! says, that every answer carried the noise, and print the released values and the bound.

use fedlink_coordinator::coordinator::{Coordinator, QueryOverrides};
use fedlink_coordinator::link::query::LinkQuery;
use fedlink_coordinator::link::{LinkRun, PartStatus, link_with};
use fedlink_coordinator::table::Released;

use super::fixture::{LinkFed, Person, Row, Setup, count_query, describe, fillers, released};
use crate::util::runtime;

/// ε of each released table, and what one answered query is charged (table + quality).
const EPSILON: f64 = 0.5;
const CHARGE: f64 = 2.0 * EPSILON;

/// The police cohort: X = 7 people the attacker knows attended (`grp = x`), and y (`grp = y`).
/// The ICB saw all 8, and 6 others.
fn setup(requester: &'static str, coordinator: &'static str) -> Setup {
    let day = "2025-06-15";
    let mut police = fillers("X", 100, 7, day, "x");
    police.push(Row::new("Y", Person::synthetic(1000), day, "y"));
    let mut icb: Vec<Row> = (100..107)
        .chain([1000])
        .map(|i| Row::new(format!("E{i}"), Person::synthetic(i), "2025-03-10", "assault"))
        .collect();
    icb.extend(fillers("G", 2000, 6, "2025-02-01", "assault"));
    Setup {
        exact: false,
        epsilon: "0.5",
        requester_epsilon: requester,
        coordinator_epsilon: coordinator,
        ..Setup::exact(police, icb)
    }
}

/// X alone, and X ∪ {y}.
fn x() -> LinkQuery {
    count_query(&["grp=x"], None)
}

fn x_and_y() -> LinkQuery {
    count_query(&["grp=x|y"], None)
}

/// Runs `query` as `coordinator` through the honest relay.
async fn run_as(fed: &LinkFed, coordinator: &Coordinator, query: &LinkQuery) -> LinkRun {
    let mut transport = fed.transport();
    link_with(coordinator, query, &QueryOverrides::default(), &mut transport, None, 16).await
}

/// Runs `query` as `coordinator`; the released (all, all) cell, or the refusing rule.
fn ask(fed: &LinkFed, coordinator: &Coordinator, query: &LinkQuery) -> Result<Released, String> {
    let run = runtime().block_on(run_as(fed, coordinator, query));
    if run.ok() {
        check_noised(&run);
        return Ok(released(&run, "all", "all"));
    }
    let refusal = run.parts.iter().find_map(|p| match &p.status {
        PartStatus::Refused { rule, message, at, .. } if p.member == "icb" => {
            Some(format!("{rule} at {at}: {message}"))
        }
        _ => None,
    });
    Err(refusal.unwrap_or_else(|| panic!("failed without the ICB refusing: {}", describe(&run))))
}

/// An answer carries discrete Laplace noise at the policy's ε, not the test seam.
fn check_noised(run: &LinkRun) {
    let table = &run.release().expect("release").table;
    assert_eq!(
        table.applied_rules().first().map(String::as_str),
        Some("dp.discrete_laplace(eps=0.5,sensitivity=2)"),
        "{:?}",
        table.applied_rules()
    );
    let privacy = table.privacy().expect("privacy");
    assert_eq!((privacy.mechanism.as_str(), privacy.epsilon_micro), ("discrete_laplace", 500_000));
}

/// log P(v | count = a) − log P(v | count = b) for a discrete Laplace of scale 2/ε: at most
/// (ε/2)·|a − b| whatever v. The attacker's log-likelihood ratio for "y attended" from one
/// released table over X ∪ {y} (a = 8, b = 7).
fn log_ratio(v: i64, a: i64, b: i64) -> f64 {
    EPSILON / 2.0 * ((v - b).abs() - (v - a).abs()) as f64
}

#[test]
fn differencing_x_against_x_and_y_stops_at_the_budget() {
    // Requester budget 3 (three answers at 2 × 0.5), coordinator budget 4.
    let fed = LinkFed::start(&setup("3", "4"));
    let coordinator = &fed.coordinator;

    // "7 known positives plus y", once: one noised answer.
    let first = ask(&fed, coordinator, &x_and_y()).expect("the first query is answered");

    // Then X and X ∪ {y} alternately, until the ICB refuses.
    let mut answers = vec![("X+y", first)];
    let refusal = loop {
        let (name, query) = if answers.len() % 2 == 1 { ("X", x()) } else { ("X+y", x_and_y()) };
        match ask(&fed, coordinator, &query) {
            Ok(value) => answers.push((name, value)),
            Err(refusal) => break refusal,
        }
        assert!(answers.len() <= 10, "the budget never bound: {answers:?}");
    };
    let k = answers.len();
    assert!(refusal.starts_with("policy.budget at LinkOpen"), "{refusal}");
    assert!(refusal.contains("requester"), "the requester's budget binds first: {refusal}");
    assert_eq!(k, 3, "a requester budget of 3 at {CHARGE} per query answers 3: {answers:?}");

    // A second officer id of the same coordinator: the coordinator's own budget (4) leaves it
    // one answer, not a fresh 3.
    let sybil = fed.coordinator_as("DEMO-9999", "sybil");
    let mut sybil_answers = Vec::new();
    let sybil_refusal = loop {
        match ask(&fed, &sybil, &x_and_y()) {
            Ok(value) => sybil_answers.push(("X+y", value)),
            Err(refusal) => break refusal,
        }
        assert!(sybil_answers.len() <= 10, "the coordinator budget never bound");
    };
    assert!(sybil_refusal.starts_with("policy.budget at LinkOpen"), "{sybil_refusal}");
    assert!(sybil_refusal.contains("coordinator"), "{sybil_refusal}");
    assert_eq!(sybil_answers.len(), 1, "{sybil_answers:?}");
    answers.extend(sybil_answers);

    // The bound, and what the attacker actually got.
    let answered = answers.len() as f64;
    let spent = CHARGE * answered;
    assert!(spent <= 4.0, "ε spent {spent} is within the coordinator budget of 4");
    let mut llr = 0.0;
    for (name, value) in &answers {
        if let (&"X+y", Some(v)) = (name, value.count()) {
            llr += log_ratio(i64::try_from(v).expect("fits"), 8, 7);
        }
    }
    let table_bound = EPSILON * answered;
    assert!(llr.abs() <= table_bound + 1e-9, "log LR {llr} beyond the table bound {table_bound}");
    let posterior = |log_odds: f64| 1.0 / (1.0 + (-log_odds).exp());
    eprintln!(
        "differencing: answers (true X = 7, X+y = 8) {answers:?}; refused then: {refusal} / \
         {sybil_refusal}\n  k = {} answered, ε spent {spent} (table ε {table_bound}); bound on \
         the posterior odds factor e^{spent} = {:.1}; from a prior of 1/2 the posterior stays \
         ≤ {:.3}; one query alone (7 known positives + y): factor ≤ e^{CHARGE} = {:.2}, \
         posterior ≤ {:.3}\n  the attacker's own log-likelihood ratio from the released \
         tables: {llr:.2} (posterior {:.3})",
        answers.len(),
        spent.exp(),
        posterior(spent),
        CHARGE.exp(),
        posterior(CHARGE),
        posterior(llr),
    );
}

#[test]
fn concurrent_queries_cannot_spend_the_budget_twice() {
    // Five queries opened at once: each passes the budget check at LinkOpen before any of them
    // is charged, but the charge is checked again when each releases, atomically with its
    // log entry, so only three are answered.
    // Five coordinator instances of the same analyst (each keeps its own receipts, so none
    // is confused by the others' log growth).
    let fed = LinkFed::start(&setup("3", "1000"));
    let query = x_and_y();
    let officer = fed.coordinator.settings().requester.officer_id.clone();
    let coordinators: Vec<Coordinator> =
        (0..5).map(|i| fed.coordinator_as(&officer, &format!("parallel-{i}"))).collect();
    let one = |coordinator| run_as(&fed, coordinator, &query);
    let runs: Vec<LinkRun> = runtime().block_on(async {
        let (a, b, c, d, e) = tokio::join!(
            one(&coordinators[0]),
            one(&coordinators[1]),
            one(&coordinators[2]),
            one(&coordinators[3]),
            one(&coordinators[4])
        );
        vec![a, b, c, d, e]
    });
    let answered = runs.iter().filter(|r| r.ok()).count();
    let mut refusals = Vec::new();
    for run in runs.iter().filter(|r| !r.ok()) {
        let rule = run.parts.iter().find_map(|p| match &p.status {
            PartStatus::Refused { rule, at, .. } if p.member == "icb" => {
                Some((rule.clone(), at.clone()))
            }
            _ => None,
        });
        let (rule, at) = rule.unwrap_or_else(|| panic!("{}", describe(run)));
        assert_eq!(rule, "policy.budget", "{}", describe(run));
        refusals.push(at);
    }
    eprintln!(
        "concurrent differencing: {answered} answered, refused by policy.budget at {refusals:?}"
    );
    assert_eq!(answered, 3, "a budget of 3 at 1 per query answers 3, however they interleave");
    assert_eq!(refusals.len(), 2);
}
