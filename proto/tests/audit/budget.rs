//! The privacy-budget ledger: charges accumulate per balance, overspends are refused before
//! anything is written, the recorded balances equal the auditor's replay, verify catches an
//! edited balance, and epsilon text is read and written exactly.

use std::collections::BTreeMap;

use fedlink_proto::audit::budget::{
    BudgetError, BudgetKey, BudgetLimits, BudgetScope, MAX_EPSILON_MICRO, keys_of, micro_to_string,
    parse_epsilon, replay,
};
use fedlink_proto::audit::store::{AuditLog, StoreError, decode_entry};
use fedlink_proto::audit::verify::{LedgerProblem, LedgerReport, VerifyError, verify_log};
use fedlink_proto::pb;
use rusqlite::Connection;

use crate::util::{entry, open_log};

const COORDINATOR: &str = "coordinator";
const ALICE: &str = "alice@police";
const BOB: &str = "bob@police";

/// One epsilon for each requester and two for the coordinator, per dataset and period.
const LIMITS: BudgetLimits =
    BudgetLimits { coordinator_micro: 2_000_000, requester_micro: 1_000_000 };

/// An allowed disclosure charging `micro` to `requester` of [`COORDINATOR`].
fn charged(requester: &str, dataset: &str, period: &str, micro: u64) -> pb::AuditEntry {
    pb::AuditEntry {
        event_type: pb::EventType::Disclosure as i32,
        budget: Some(pb::BudgetCharge {
            coordinator: COORDINATOR.into(),
            requester: requester.into(),
            dataset: dataset.into(),
            period: period.into(),
            epsilon_micro: micro,
        }),
        ..entry("disclosure.budget")
    }
}

/// The same, but refused: it records the charge it asked for and spends nothing.
fn denied(requester: &str, dataset: &str, period: &str, micro: u64) -> pb::AuditEntry {
    pb::AuditEntry {
        decision: pb::Decision::Denied as i32,
        ..charged(requester, dataset, period, micro)
    }
}

fn key(scope: BudgetScope, requester: &str, dataset: &str, period: &str) -> BudgetKey {
    BudgetKey {
        scope,
        coordinator: COORDINATOR.into(),
        requester: requester.into(),
        dataset: dataset.into(),
        period: period.into(),
    }
}

fn requester_key(requester: &str) -> BudgetKey {
    key(BudgetScope::Requester, requester, "ecds", "2026-11")
}

fn coordinator_key() -> BudgetKey {
    key(BudgetScope::Coordinator, "", "ecds", "2026-11")
}

/// Every entry of the log, decoded.
fn decoded(log: &AuditLog) -> Vec<pb::AuditEntry> {
    let entries = log.entries().expect("entries");
    entries.iter().map(|(_, bytes)| decode_entry(bytes).expect("decodes")).collect()
}

#[test]
fn charges_accumulate_per_balance() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, _, _) = open_log(dir.path());
    assert_eq!(log.balance(&requester_key(ALICE)).expect("balance"), 0);
    for i in 1..=3u64 {
        let appended =
            log.append_charged(charged(ALICE, "ecds", "2026-11", 250_000), &LIMITS).expect("fits");
        assert_eq!(appended.size, i);
        let stored = decode_entry(&appended.entry_bytes).expect("decodes");
        assert_eq!(stored.budget.map(|b| b.epsilon_micro), Some(250_000));
        assert_eq!(log.balance(&requester_key(ALICE)).expect("balance"), 250_000 * i);
        assert_eq!(log.balance(&coordinator_key()).expect("balance"), 250_000 * i);
    }
    assert_eq!(log.balance(&requester_key(BOB)).expect("balance"), 0);
    let expected = BTreeMap::from([(coordinator_key(), 750_000), (requester_key(ALICE), 750_000)]);
    assert_eq!(log.recorded_balances().expect("balances"), expected);
}

#[test]
fn an_overspend_is_refused_with_its_numbers_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, _, _) = open_log(dir.path());
    log.append_charged(charged(ALICE, "ecds", "2026-11", 600_000), &LIMITS).expect("fits");
    let state = |log: &AuditLog| {
        let balances = log.recorded_balances().expect("balances");
        (log.size(), log.latest_checkpoint().expect("read"), balances)
    };
    let before = state(&log);

    // Alice's own limit: 0.6 spent of 1, asking 0.5.
    let err = log
        .append_charged(charged(ALICE, "ecds", "2026-11", 500_000), &LIMITS)
        .expect_err("requester overspend");
    let StoreError::BudgetExceeded { scope, spent_micro, limit_micro, requested_micro } = err
    else {
        panic!("wrong error: {err}");
    };
    assert_eq!(scope, BudgetScope::Requester);
    assert_eq!((spent_micro, limit_micro, requested_micro), (600_000, 1_000_000, 500_000));
    assert_eq!(state(&log), before, "nothing was appended or charged");

    // Exactly up to the limit is allowed.
    log.append_charged(charged(ALICE, "ecds", "2026-11", 400_000), &LIMITS).expect("to the limit");
    assert_eq!(log.balance(&requester_key(ALICE)).expect("balance"), 1_000_000);

    // The coordinator's limit: a tighter one, with Alice's 1.0 already spent under it.
    let tight = BudgetLimits { coordinator_micro: 1_200_000, ..LIMITS };
    let size = log.size();
    let err = log
        .append_charged(charged(BOB, "ecds", "2026-11", 300_000), &tight)
        .expect_err("coordinator overspend");
    let text = err.to_string();
    let StoreError::BudgetExceeded { scope, spent_micro, limit_micro, requested_micro } = err
    else {
        panic!("wrong error: {text}");
    };
    assert_eq!(scope, BudgetScope::Coordinator);
    assert_eq!((spent_micro, limit_micro, requested_micro), (1_000_000, 1_200_000, 300_000));
    assert_eq!(
        text,
        "the coordinator privacy budget for this dataset and period is 1.2 epsilon, 1 is spent, \
         and this asks for 0.3 more"
    );
    assert_eq!(log.size(), size);
    assert_eq!(log.balance(&requester_key(BOB)).expect("balance"), 0, "Bob was not charged");
    assert_eq!(log.balance(&coordinator_key()).expect("balance"), 1_000_000);
    verify_log(&dir.path().join("audit.db"), None).expect("refusals leave a sound log");
}

#[test]
fn requesters_of_one_coordinator_share_its_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, _, _) = open_log(dir.path());
    log.append_charged(charged(ALICE, "ecds", "2026-11", 1_000_000), &LIMITS).expect("alice");
    log.append_charged(charged(BOB, "ecds", "2026-11", 700_000), &LIMITS).expect("bob");
    // Bob has 0.3 left of his own epsilon, but the coordinator has only 0.3 left in all.
    let carol = "carol@council";
    let err = log
        .append_charged(charged(carol, "ecds", "2026-11", 400_000), &LIMITS)
        .expect_err("shared limit");
    assert!(
        matches!(
            err,
            StoreError::BudgetExceeded {
                scope: BudgetScope::Coordinator,
                spent_micro: 1_700_000,
                limit_micro: 2_000_000,
                requested_micro: 400_000,
            }
        ),
        "{err}"
    );
    log.append_charged(charged(carol, "ecds", "2026-11", 300_000), &LIMITS).expect("what is left");
    assert_eq!(log.balance(&coordinator_key()).expect("balance"), 2_000_000);
    assert_eq!(log.balance(&requester_key(carol)).expect("balance"), 300_000);

    // Another coordinator's requesters draw on another shared balance.
    let mut other = charged(ALICE, "ecds", "2026-11", 1_000_000);
    if let Some(charge) = other.budget.as_mut() {
        charge.coordinator = "coordinator-2".into();
    }
    log.append_charged(other, &LIMITS).expect("another coordinator");
}

#[test]
fn datasets_and_periods_are_independent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, _, _) = open_log(dir.path());
    for (dataset, period) in [("ecds", "2026-11"), ("ecds", "2026-12"), ("apc", "2026-11")] {
        log.append_charged(charged(ALICE, dataset, period, 1_000_000), &LIMITS)
            .expect("a fresh balance");
        assert_eq!(
            log.balance(&key(BudgetScope::Requester, ALICE, dataset, period)).expect("balance"),
            1_000_000
        );
    }
    for (dataset, period) in [("ecds", "2026-11"), ("ecds", "2026-12"), ("apc", "2026-11")] {
        let err = log
            .append_charged(charged(ALICE, dataset, period, 1), &LIMITS)
            .expect_err("each is spent");
        assert!(matches!(err, StoreError::BudgetExceeded { spent_micro: 1_000_000, .. }), "{err}");
    }
    assert_eq!(log.recorded_balances().expect("balances").len(), 6);
}

#[test]
fn every_charge_goes_through_the_limit_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, _, _) = open_log(dir.path());
    let err = log.append(charged(ALICE, "ecds", "2026-11", 1), None).expect_err("plain append");
    assert!(matches!(err, StoreError::ChargeNeedsLimits), "{err}");
    let err = log.append(denied(ALICE, "ecds", "2026-11", 1), None).expect_err("even denied");
    assert!(matches!(err, StoreError::ChargeNeedsLimits), "{err}");
    let err = log.append_charged(entry("no.charge"), &LIMITS).expect_err("no charge");
    assert!(matches!(err, StoreError::ChargeMissing), "{err}");
    let err =
        log.append_charged(charged("", "ecds", "2026-11", 1), &LIMITS).expect_err("no requester");
    assert!(
        matches!(
            err,
            StoreError::InvalidCharge(BudgetError::IncompleteCharge { field: "requester" })
        ),
        "{err}"
    );
    let err = log.append_charged(charged(ALICE, "ecds", "", 1), &LIMITS).expect_err("no period");
    assert!(
        matches!(err, StoreError::InvalidCharge(BudgetError::IncompleteCharge { field: "period" })),
        "{err}"
    );
    let err = log.append_charged(charged(ALICE, "ecds", "2026-11", 0), &LIMITS).expect_err("zero");
    assert!(matches!(err, StoreError::InvalidCharge(BudgetError::ZeroCharge)), "{err}");
    assert_eq!(log.size(), 0);
    assert!(log.recorded_balances().expect("balances").is_empty());
}

/// A log holding every kind of entry: charges to several balances, refusals recording charges
/// far over the limit, an error with a charge, overspends that were refused, and ordinary
/// entries. Returns the folder (kept alive), the file and the charges expected.
fn mixed_log() -> (tempfile::TempDir, std::path::PathBuf, u64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, clock, path) = open_log(dir.path());
    let mut charges = 0;
    for round in 0..4u64 {
        clock.advance_ms(1000);
        log.append(entry(&format!("ordinary.{round}")), None).expect("ordinary");
        for (who, dataset) in [(ALICE, "ecds"), (BOB, "ecds"), (ALICE, "apc")] {
            log.append_charged(charged(who, dataset, "2026-11", 200_000 + round), &LIMITS)
                .expect("charge");
            charges += 1;
        }
        // Refusals are logged with what they asked for, and charge nothing: not even a limit
        // check applies, since nothing is spent.
        log.append_charged(denied(BOB, "ecds", "2026-11", 50_000_000), &LIMITS).expect("denied");
        let mut error = charged(ALICE, "ecds", "2026-12", 300_000);
        error.decision = pb::Decision::Error as i32;
        log.append_charged(error, &LIMITS).expect("error");
        log.append_charged(charged(ALICE, "ecds", "2026-11", 5_000_000), &LIMITS)
            .expect_err("overspend");
    }
    let replayed = replay(&decoded(&log));
    assert_eq!(replayed, log.recorded_balances().expect("balances"));
    assert_eq!(replayed.len(), 5, "coordinator × 2 datasets, Alice × 2, Bob × 1");
    assert_eq!(replayed[&requester_key(ALICE)], 4 * 200_000 + 6);
    assert_eq!(replayed[&coordinator_key()], 2 * (4 * 200_000 + 6));
    (dir, path, charges)
}

#[test]
fn recorded_balances_are_the_replay_and_verify_says_so() {
    let (_dir, path, charges) = mixed_log();
    let report = verify_log(&path, None).expect("verifies");
    assert_eq!(report.ledger, LedgerReport { charges, balances: Some(5) });
    assert_eq!(
        report.ledger.to_string(),
        "budget ledger: 12 charges, 5 balances; replays to the recorded balances"
    );
}

#[test]
fn verify_reports_an_edited_balance() {
    let (_dir, path, _) = mixed_log();
    let alice = 4 * 200_000 + 6;
    let raw = Connection::open(&path).expect("raw open");
    // Raising a balance needs no trigger dropped (it only locks the requester out), but the
    // replay still disagrees.
    raw.execute(
        "UPDATE budget_balance SET spent_micro = spent_micro + 1
         WHERE scope = 'requester' AND requester = ?1 AND dataset = 'ecds'",
        [ALICE],
    )
    .expect("raise");
    let err = verify_log(&path, None).expect_err("raised balance");
    assert!(
        matches!(
            &err,
            VerifyError::Ledger(LedgerProblem::Mismatch { key, replayed, recorded })
                if **key == requester_key(ALICE)
                    && *replayed == Some(alice)
                    && *recorded == Some(alice + 1)
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "budget ledger: the balance of requester \"alice@police\" of coordinator \
         \"coordinator\", dataset \"ecds\", period \"2026-11\": the entries replay to 0.800006 \
         epsilon, but budget_balance records 0.800007 epsilon"
    );

    // Lowering or deleting one, which would let a requester spend again, is stopped by the
    // triggers by accident and by verify on purpose.
    let lower = "UPDATE budget_balance SET spent_micro = 0 WHERE scope = 'coordinator'";
    raw.execute(lower, []).expect_err("balances only grow");
    raw.execute("DELETE FROM budget_balance", []).expect_err("balances are kept");
    raw.execute_batch(
        "DROP TRIGGER budget_balance_no_decrease; DROP TRIGGER budget_balance_no_delete;",
    )
    .expect("drop triggers");
    raw.execute(lower, []).expect("lowered");
    let err = verify_log(&path, None).expect_err("lowered balance");
    assert!(
        matches!(
            &err,
            VerifyError::Ledger(LedgerProblem::Mismatch { key, recorded: Some(0), .. })
                if key.scope == BudgetScope::Coordinator
        ),
        "{err}"
    );
    raw.execute("DELETE FROM budget_balance WHERE scope = 'coordinator'", []).expect("deleted");
    let err = verify_log(&path, None).expect_err("deleted balance");
    assert!(
        matches!(
            &err,
            VerifyError::Ledger(LedgerProblem::Mismatch { recorded: None, replayed: Some(_), .. })
        ),
        "{err}"
    );
    raw.execute_batch("DROP TABLE budget_balance").expect("drop table");
    let err = verify_log(&path, None).expect_err("no table");
    assert!(
        matches!(err, VerifyError::Ledger(LedgerProblem::NoBalanceTable { charges: 12 })),
        "{err}"
    );
}

#[test]
fn verify_names_a_balance_row_that_is_not_a_balance() {
    let (_dir, path, _) = mixed_log();
    let raw = Connection::open(&path).expect("raw open");
    // A careful forger replaces the table with one that has no checks.
    raw.execute_batch(
        "CREATE TABLE forged AS SELECT * FROM budget_balance;
         DROP TABLE budget_balance;
         ALTER TABLE forged RENAME TO budget_balance;
         UPDATE budget_balance SET scope = 'nobody' WHERE scope = 'requester';",
    )
    .expect("forge");
    let err = verify_log(&path, None).expect_err("forged rows");
    assert!(matches!(err, VerifyError::Ledger(LedgerProblem::BadRow(_))), "{err}");
    assert!(err.to_string().contains("unknown scope \"nobody\""), "{err}");
}

#[test]
fn a_log_from_before_the_ledger_verifies_and_gains_one_when_reopened() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut log, _, path) = open_log(dir.path());
    log.append(entry("before.budgets"), None).expect("append");
    drop(log);
    Connection::open(&path).expect("raw").execute_batch("DROP TABLE budget_balance").expect("drop");
    let report = verify_log(&path, None).expect("an older log verifies");
    assert_eq!(report.ledger, LedgerReport { charges: 0, balances: None });

    let (mut log, _, _) = open_log(dir.path());
    log.append_charged(charged(ALICE, "ecds", "2026-11", 1), &LIMITS).expect("charge");
    drop(log);
    let report = verify_log(&path, None).expect("verifies");
    assert_eq!(report.ledger, LedgerReport { charges: 1, balances: Some(2) });
}

#[test]
fn a_charge_draws_on_its_coordinator_and_its_requester() {
    let disclosure = charged(ALICE, "ecds", "2026-11", 7);
    let charge = disclosure.budget.as_ref().expect("charge");
    assert_eq!(keys_of(charge), [coordinator_key(), requester_key(ALICE)]);
    let refusal = denied(BOB, "ecds", "2026-11", 9);
    let replayed = replay([&disclosure, &refusal, &disclosure]);
    assert_eq!(replayed, BTreeMap::from([(coordinator_key(), 14), (requester_key(ALICE), 14)]));
}

#[test]
fn epsilon_text_is_read_and_written_exactly() {
    for (micro, text) in [
        (1_500_000, "1.5"),
        (250_000, "0.25"),
        (0, "0"),
        (1, "0.000001"),
        (2_000_000, "2"),
        (MAX_EPSILON_MICRO, "1000"),
        (1_000_010, "1.00001"),
    ] {
        assert_eq!(micro_to_string(micro), text);
    }
    assert_eq!(micro_to_string(u64::MAX), "18446744073709.551615");
    for (text, micro) in
        [("0.5", 500_000), ("2", 2_000_000), ("0.000001", 1), ("1000", MAX_EPSILON_MICRO)]
    {
        assert_eq!(parse_epsilon(text), Ok(micro), "{text}");
    }
    assert_eq!(parse_epsilon("0.500000"), Ok(500_000), "trailing zeros within six places");
    assert_eq!(parse_epsilon("007"), Ok(7_000_000));
    // Every value written parses back to itself, across the whole range and at its edges.
    let edges = [1, 9, 10, 99_999, 100_000, 999_999, 1_000_000, 1_000_001, MAX_EPSILON_MICRO - 1];
    let spread = (0..10_000u64).map(|i| 1 + i * 99_991 % MAX_EPSILON_MICRO);
    for micro in edges.into_iter().chain(spread).chain([MAX_EPSILON_MICRO]) {
        assert_eq!(parse_epsilon(&micro_to_string(micro)), Ok(micro), "{micro}");
    }
}

#[test]
fn epsilon_text_that_is_not_a_plain_decimal_in_range_is_refused() {
    let not_a_decimal =
        ["-1", "+1", "1e3", "abc", "", ".5", "5.", "1.2.3", " 1", "1 ", "0x10", "1,5", "½"];
    for text in not_a_decimal {
        assert!(
            matches!(parse_epsilon(text), Err(BudgetError::NotADecimal { .. })),
            "{text:?}: {:?}",
            parse_epsilon(text)
        );
    }
    for text in ["0", "0.0", "0.000000", "1000.000001", "1001", "99999999999999999999999"] {
        assert!(
            matches!(parse_epsilon(text), Err(BudgetError::OutOfRange { .. })),
            "{text:?}: {:?}",
            parse_epsilon(text)
        );
    }
    assert_eq!(
        parse_epsilon("0.0000001"),
        Err(BudgetError::TooPrecise { text: "0.0000001".into(), decimals: 7 })
    );
    let message = parse_epsilon("1e3").expect_err("exponent").to_string();
    assert!(message.starts_with("\"1e3\" is not an epsilon"), "{message}");
}
