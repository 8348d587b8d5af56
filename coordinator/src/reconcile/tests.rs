//! Each check on small logs crafted with the real store: a coordinator that issued queries and
//! logged the results, nodes that answered them, and a receipt store, then one thing changed.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use fedlink_proto::audit::budget::BudgetLimits;
use fedlink_proto::audit::store::AuditLog;
use fedlink_proto::clock::{MockClock, UnixMillis};
use fedlink_proto::federation::log_origin;
use fedlink_proto::identity::IdentityKey;
use fedlink_proto::pb;

use super::*;
use crate::receipts::{ReceiptSnapshot, StoredCheckpoint, StoredReceipt};

const FED: &str = "unit";

fn open(dir: &Path, member: &str, key: &IdentityKey) -> (AuditLog, PathBuf) {
    let path = dir.join(format!("{member}.db"));
    let clock = Arc::new(MockClock::new(UnixMillis(1_000)));
    let key = key.try_clone().expect("key");
    let log = AuditLog::open(&path, &log_origin(FED, member), key, clock).expect("open");
    (log, path)
}

fn qid(n: u8) -> Vec<u8> {
    vec![n; 16]
}

fn envelope_hash(n: u8) -> Vec<u8> {
    vec![n ^ 0x5a; 32]
}

fn query(q: &[u8], audience: &str) -> pb::QueryRecord {
    pb::QueryRecord {
        query_id: q.to_vec(),
        envelope_hash: envelope_hash(q[0]),
        audience: audience.into(),
        coordinator: "coordinator".into(),
        ..Default::default()
    }
}

/// The node admits query `q` and answers it with `result`, listing `digests`; returns the
/// disclosure's receipt.
fn answer(
    log: &mut AuditLog,
    node: &str,
    q: &[u8],
    result: &[u8],
    digests: &[&str],
) -> pb::Receipt {
    let admitted = pb::AuditEntry {
        event_type: pb::EventType::Consultation as i32,
        decision: pb::Decision::Allowed as i32,
        query: Some(query(q, node)),
        ..Default::default()
    };
    let claim = <[u8; 16]>::try_from(q).expect("16 bytes");
    log.append(admitted, Some(claim)).expect("admit");
    let disclosed = pb::AuditEntry {
        event_type: pb::EventType::Disclosure as i32,
        decision: pb::Decision::Allowed as i32,
        query: Some(query(q, node)),
        output: Some(pb::OutputRecord { result_hash: result.to_vec(), ..Default::default() }),
        relay_digests: digests.iter().map(|d| d.to_string()).collect(),
        ..Default::default()
    };
    let index = log.append(disclosed, None).expect("disclose").index;
    log.receipt(index, 0).expect("receipt")
}

fn issue(log: &mut AuditLog, q: &[u8], node: &str) -> u64 {
    let entry = pb::AuditEntry {
        event_type: pb::EventType::QueryIssued as i32,
        decision: pb::Decision::Allowed as i32,
        query: Some(query(q, node)),
        ..Default::default()
    };
    log.append(entry, None).expect("issue").index
}

fn result_received(
    log: &mut AuditLog,
    q: &[u8],
    node: &str,
    receipt: &pb::Receipt,
    result: &[u8],
) -> u64 {
    let cp = fedlink_proto::audit::checkpoint::Checkpoint::from_body(
        &receipt.checkpoint[..=receipt.checkpoint.rfind("\n\n").expect("note")],
    )
    .expect("checkpoint");
    let entry = pb::AuditEntry {
        event_type: pb::EventType::ResultReceived as i32,
        decision: pb::Decision::Allowed as i32,
        query: Some(pb::QueryRecord {
            query_id: q.to_vec(),
            audience: node.into(),
            ..Default::default()
        }),
        output: Some(pb::OutputRecord {
            result_hash: result.to_vec(),
            node_log_size: cp.size,
            node_log_root: cp.root.0.to_vec(),
            ..Default::default()
        }),
        ..Default::default()
    };
    log.append(entry, None).expect("result").index
}

fn stored(id: i64, node: &str, q: &[u8], receipt: &pb::Receipt) -> StoredReceipt {
    StoredReceipt {
        id,
        query_id: q.to_vec(),
        node: node.into(),
        leaf_index: receipt.leaf_index,
        decision: "DECISION_ALLOWED".into(),
        receipt: receipt.clone(),
        received_ms: 0,
    }
}

fn last_known(node: &str, log: &AuditLog) -> StoredCheckpoint {
    let (size, root, note) = log.latest_checkpoint().expect("read").expect("a checkpoint");
    StoredCheckpoint { node: node.into(), size, root: root.0.to_vec(), note, updated_ms: 0 }
}

fn run(coordinator: &Path, nodes: &[&Path], receipts: Option<ReceiptSnapshot>) -> Report {
    let inputs = Inputs {
        coordinator: load_log(coordinator, None).expect("load"),
        receipts,
        nodes: nodes.iter().map(|p| load_log(p, None).expect("load")).collect(),
        federation: None,
    };
    reconcile(&inputs).expect("reconcile")
}

fn kinds(report: &Report) -> Vec<FindingKind> {
    report.findings.iter().map(|f| f.kind).collect()
}

fn the(report: &Report, kind: FindingKind) -> &Finding {
    let found: Vec<&Finding> = report.findings.iter().filter(|f| f.kind == kind).collect();
    assert_eq!(found.len(), 1, "one {kind:?} in {:#?}", report.findings);
    found[0]
}

fn r(log: &str, index: u64) -> EntryRef {
    EntryRef::new(log, index)
}

/// The honest world: the coordinator issues query 1 to the ICB, which answers; the store
/// holds the receipt and the ICB's checkpoint.
struct World {
    dir: tempfile::TempDir,
    coordinator: AuditLog,
    coordinator_path: PathBuf,
    icb: AuditLog,
    icb_path: PathBuf,
    icb_key: IdentityKey,
    receipt: pb::Receipt,
    issued: u64,
    received: u64,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().expect("tempdir");
        let coordinator_key = IdentityKey::generate().expect("key");
        let icb_key = IdentityKey::generate().expect("key");
        let (mut coordinator, coordinator_path) = open(dir.path(), "coordinator", &coordinator_key);
        let (mut icb, icb_path) = open(dir.path(), "icb", &icb_key);
        let q = qid(1);
        let issued = issue(&mut coordinator, &q, "icb");
        let receipt = answer(&mut icb, "icb", &q, &[7; 32], &[]);
        let received = result_received(&mut coordinator, &q, "icb", &receipt, &[7; 32]);
        World {
            dir,
            coordinator,
            coordinator_path,
            icb,
            icb_path,
            icb_key,
            receipt,
            issued,
            received,
        }
    }

    fn store(&self) -> ReceiptSnapshot {
        ReceiptSnapshot {
            receipts: vec![stored(1, "icb", &qid(1), &self.receipt)],
            checkpoints: vec![last_known("icb", &self.icb)],
        }
    }

    fn run(&self) -> Report {
        run(&self.coordinator_path, &[&self.icb_path], Some(self.store()))
    }
}

#[test]
fn honest_logs_reconcile_clean_with_every_check_counted() {
    let world = World::new();
    let report = world.run();
    assert!(report.is_clean(), "{:#?}", report.findings);
    for check in [Check::Verifies, Check::Queries, Check::Checkpoints, Check::ResultHashes] {
        assert!(
            report.checked.get(&("icb".to_string(), check)).is_some_and(|n| *n > 0),
            "{check:?}"
        );
    }
    assert!(render_text(&report).contains("result: CLEAN"));
}

#[test]
fn a_log_that_does_not_verify_is_named_at_its_entry() {
    let world = World::new();
    drop(world.icb);
    let conn = rusqlite::Connection::open(&world.icb_path).expect("open");
    conn.execute_batch("DROP TRIGGER log_entry_no_update;").expect("drop");
    conn.execute("UPDATE log_entry SET entry = CAST(entry || x'00' AS BLOB) WHERE idx = 1", [])
        .expect("update");
    let report = run(&world.coordinator_path, &[&world.icb_path], None);
    let f = the(&report, FindingKind::LogDoesNotVerify);
    assert_eq!(f.member, "icb");
    assert_eq!(f.entries, vec![r("icb", 1)]);
}

#[test]
fn queries_logged_on_one_side_only_and_other_envelopes_are_reported() {
    let mut world = World::new();
    // Issued, never seen by the ICB.
    let lost = issue(&mut world.coordinator, &qid(2), "icb");
    // Answered by the ICB, never issued.
    answer(&mut world.icb, "icb", &qid(3), &[8; 32], &[]);
    // Issued with one envelope, admitted under the same id with another.
    let swapped = issue(&mut world.coordinator, &qid(4), "icb");
    let other = pb::AuditEntry {
        event_type: pb::EventType::Consultation as i32,
        decision: pb::Decision::Allowed as i32,
        query: Some(pb::QueryRecord { envelope_hash: vec![9; 32], ..query(&qid(4), "icb") }),
        ..Default::default()
    };
    world.icb.append(other, None).expect("append");
    let report = world.run();
    assert_eq!(
        the(&report, FindingKind::QueryOnlyAtCoordinator).entries,
        vec![r("coordinator", lost)]
    );
    assert_eq!(the(&report, FindingKind::QueryOnlyAtNode).entries, vec![r("icb", 2), r("icb", 3)]);
    assert_eq!(
        the(&report, FindingKind::EnvelopeDiffers).entries,
        vec![r("coordinator", swapped), r("icb", 4)]
    );
}

#[test]
fn results_and_receipts_must_be_logged_on_both_sides() {
    let world = World::new();
    // No receipt in the store for the logged result.
    let empty = ReceiptSnapshot::default();
    let report = run(&world.coordinator_path, &[&world.icb_path], Some(empty));
    assert_eq!(
        the(&report, FindingKind::ResultWithoutReceipt).entries,
        vec![r("coordinator", world.received)]
    );
    // A receipt the log never recorded receiving.
    let mut store = world.store();
    store.receipts.push(stored(2, "icb", &qid(6), &world.receipt));
    let report = run(&world.coordinator_path, &[&world.icb_path], Some(store));
    assert!(kinds(&report).contains(&FindingKind::ReceiptNotLogged), "{:#?}", report.findings);
}

#[test]
fn a_deleted_tail_names_what_the_coordinator_saw_and_the_last_entry_left() {
    let world = World::new();
    // The ICB's log as it was before it answered: one entry.
    std::fs::create_dir_all(world.dir.path().join("short")).expect("mkdir");
    let (mut short, short_path) = open(&world.dir.path().join("short"), "icb", &world.icb_key);
    let admitted = pb::AuditEntry {
        event_type: pb::EventType::Consultation as i32,
        decision: pb::Decision::Allowed as i32,
        query: Some(query(&qid(1), "icb")),
        ..Default::default()
    };
    short.append(admitted, Some([1; 16])).expect("append");
    let report = run(&world.coordinator_path, &[&short_path], Some(world.store()));
    assert!(!kinds(&report).contains(&FindingKind::LogDoesNotVerify), "{:#?}", report.findings);
    let f = the(&report, FindingKind::DeletedTail);
    assert_eq!(f.entries, vec![r("coordinator", world.received), r("icb", 0)]);
    assert!(f.detail.contains("entries 1..1 are missing"), "{}", f.detail);
}

#[test]
fn a_rewritten_log_signed_by_its_own_key_shows_a_split_view_and_the_rewritten_entry() {
    let world = World::new();
    // Another ICB log, same key, same first entry, another answer.
    let dir = world.dir.path().join("fork");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let (mut fork, fork_path) = open(&dir, "icb", &world.icb_key);
    answer(&mut fork, "icb", &qid(1), &[0; 32], &[]);
    let report = run(&world.coordinator_path, &[&fork_path], Some(world.store()));
    assert!(!kinds(&report).contains(&FindingKind::LogDoesNotVerify), "{:#?}", report.findings);
    assert_eq!(
        the(&report, FindingKind::ReceiptEntryDiffers).entries,
        vec![r("coordinator", world.received), r("icb", 1)]
    );
    let split = the(&report, FindingKind::SplitView);
    assert!(split.entries.contains(&r("coordinator", world.received)), "{split:#?}");
    assert!(split.entries.contains(&r("icb", 1)), "{split:#?}");
    // And the result hash the coordinator holds is not the one this log shows.
    assert_eq!(
        the(&report, FindingKind::ResultHashMismatch).entries,
        vec![r("coordinator", world.received), r("icb", 1)]
    );
}

#[test]
fn checkpoints_of_a_log_not_given_must_agree_with_one_another() {
    let mut world = World::new();
    // The store's last known checkpoint is of another ICB log at the same size.
    let dir = world.dir.path().join("other");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let (mut other, _) = open(&dir, "icb", &world.icb_key);
    answer(&mut other, "icb", &qid(1), &[0; 32], &[]);
    let mut store = world.store();
    store.checkpoints = vec![last_known("icb", &other)];
    // Only the coordinator's log is given.
    world.coordinator.append(pb::AuditEntry::default(), None).expect("append");
    let report = run(&world.coordinator_path, &[], Some(store));
    let f = the(&report, FindingKind::CheckpointConflict);
    assert_eq!(f.member, "icb");
    assert_eq!(f.entries, vec![r("coordinator", world.received)]);
    assert!(
        report.notes.iter().any(|n| n.contains("icb's log was not given")),
        "{:?}",
        report.notes
    );
}

#[test]
fn a_result_hash_the_node_did_not_log_is_named_in_both_logs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut coordinator, coordinator_path) =
        open(dir.path(), "coordinator", &IdentityKey::generate().expect("k"));
    let (mut icb, icb_path) = open(dir.path(), "icb", &IdentityKey::generate().expect("k"));
    issue(&mut coordinator, &qid(1), "icb");
    let receipt = answer(&mut icb, "icb", &qid(1), &[7; 32], &[]);
    let received = result_received(&mut coordinator, &qid(1), "icb", &receipt, &[8; 32]);
    // No store: matched by query id.
    let report = run(&coordinator_path, &[&icb_path], None);
    let f = the(&report, FindingKind::ResultHashMismatch);
    assert_eq!(f.entries, vec![r("coordinator", received), r("icb", 1)]);
}

fn line(sender: &str, receiver: &str, step: u32, byte: u8) -> String {
    format!("{sender}>{receiver}#{step}:{}", hex(&[byte; 32]))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn relay_digests_must_agree_message_by_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut coordinator, coordinator_path) =
        open(dir.path(), "coordinator", &IdentityKey::generate().expect("k"));
    let (mut police, police_path) =
        open(dir.path(), "police", &IdentityKey::generate().expect("k"));
    let (mut icb, icb_path) = open(dir.path(), "icb", &IdentityKey::generate().expect("k"));
    let q = qid(1);
    issue(&mut coordinator, &q, "police");
    issue(&mut coordinator, &q, "icb");
    // M1 police>icb agrees; M2 icb>police was substituted; M3 police>icb never arrived; and
    // the ICB claims a message police never sent, and lists a line that is not one.
    let m1 = line("police", "icb", 1, 1);
    let m2_sent = line("icb", "police", 1, 2);
    let m2_received = line("icb", "police", 1, 3);
    let m3 = line("police", "icb", 2, 4);
    let forged = line("police", "icb", 9, 5);
    answer(&mut police, "police", &q, &[1; 32], &[&m1, &m2_received, &m3]);
    answer(&mut icb, "icb", &q, &[2; 32], &[&m1, &m2_sent, &forged, "garbage"]);
    let report = run(&coordinator_path, &[&police_path, &icb_path], None);
    let mismatch = the(&report, FindingKind::RelayDigestMismatch);
    assert_eq!(mismatch.member, "police");
    assert_eq!(mismatch.entries, vec![r("icb", 1), r("police", 1)]);
    assert_eq!(the(&report, FindingKind::RelayMessageNotReceived).entries, vec![r("police", 1)]);
    assert_eq!(the(&report, FindingKind::RelayMessageNotSent).entries, vec![r("icb", 1)]);
    assert_eq!(the(&report, FindingKind::RelayDigestMalformed).entries, vec![r("icb", 1)]);
}

#[test]
fn budget_balances_replay_and_charges_match_the_receipts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = IdentityKey::generate().expect("k");
    let (mut coordinator, coordinator_path) =
        open(dir.path(), "coordinator", &IdentityKey::generate().expect("k"));
    let (mut icb, icb_path) = open(dir.path(), "icb", &key);
    let q = qid(1);
    issue(&mut coordinator, &q, "icb");
    let charge = pb::BudgetCharge {
        coordinator: "coordinator".into(),
        requester: "A-1@POLICE".into(),
        dataset: "ed".into(),
        period: "2026/27".into(),
        epsilon_micro: 1_000_000,
    };
    let limits = BudgetLimits { coordinator_micro: 10_000_000, requester_micro: 10_000_000 };
    let admitted = pb::AuditEntry {
        event_type: pb::EventType::Consultation as i32,
        decision: pb::Decision::Allowed as i32,
        query: Some(query(&q, "icb")),
        ..Default::default()
    };
    icb.append(admitted.clone(), Some([1; 16])).expect("admit");
    let disclosed = pb::AuditEntry {
        event_type: pb::EventType::Disclosure as i32,
        decision: pb::Decision::Allowed as i32,
        query: Some(query(&q, "icb")),
        output: Some(pb::OutputRecord { result_hash: vec![7; 32], ..Default::default() }),
        budget: Some(charge.clone()),
        ..Default::default()
    };
    let index = icb.append_charged(disclosed.clone(), &limits).expect("charged").index;
    let receipt = icb.receipt(index, 0).expect("receipt");
    let received = result_received(&mut coordinator, &q, "icb", &receipt, &[7; 32]);
    let store = ReceiptSnapshot {
        receipts: vec![stored(1, "icb", &q, &receipt)],
        checkpoints: vec![last_known("icb", &icb)],
    };
    assert!(run(&coordinator_path, &[&icb_path], Some(store.clone())).is_clean());

    // The node's log shows the answer with a smaller charge (a log rebuilt with its key).
    let other_dir = dir.path().join("other");
    std::fs::create_dir_all(&other_dir).expect("mkdir");
    let (mut other, other_path) = open(&other_dir, "icb", &key);
    other.append(admitted, Some([1; 16])).expect("admit");
    let smaller = pb::BudgetCharge { epsilon_micro: 1, ..charge };
    other
        .append_charged(pb::AuditEntry { budget: Some(smaller), ..disclosed }, &limits)
        .expect("charged");
    drop(other);
    let report = run(&coordinator_path, &[&other_path], Some(store.clone()));
    assert_eq!(
        the(&report, FindingKind::BudgetChargeDiffers).entries,
        vec![r("coordinator", received), r("icb", 1)]
    );

    // A recorded balance edited down: the ledger no longer replays.
    drop(icb);
    let conn = rusqlite::Connection::open(&icb_path).expect("open");
    let triggers: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'budget_balance'",
        )
        .expect("q")
        .query_map([], |r| r.get(0))
        .expect("rows")
        .map(|r| r.expect("row"))
        .collect();
    for t in triggers {
        conn.execute_batch(&format!("DROP TRIGGER {t};")).expect("drop");
    }
    conn.execute("UPDATE budget_balance SET spent_micro = 0", []).expect("update");
    drop(conn);
    let report = run(&coordinator_path, &[&icb_path], Some(store));
    assert_eq!(the(&report, FindingKind::BudgetLedgerMismatch).member, "icb");
}

#[test]
fn logs_of_one_member_twice_or_of_another_federation_are_refused() {
    let world = World::new();
    let inputs = Inputs {
        coordinator: load_log(&world.coordinator_path, None).expect("load"),
        receipts: None,
        nodes: vec![
            load_log(&world.icb_path, None).expect("load"),
            load_log(&world.icb_path, None).expect("load"),
        ],
        federation: None,
    };
    assert!(matches!(reconcile(&inputs), Err(ReconcileError::SameMember { .. })));
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(MockClock::new(UnixMillis(1)));
    let path = dir.path().join("x.db");
    let mut log = AuditLog::open(
        &path,
        &log_origin("elsewhere", "icb"),
        IdentityKey::generate().expect("k"),
        clock,
    )
    .expect("open");
    log.append(pb::AuditEntry::default(), None).expect("append");
    let inputs = Inputs {
        coordinator: load_log(&world.coordinator_path, None).expect("load"),
        receipts: None,
        nodes: vec![load_log(&path, None).expect("load")],
        federation: None,
    };
    assert!(matches!(reconcile(&inputs), Err(ReconcileError::OtherFederation { .. })));
}

#[test]
fn the_report_groups_by_member_and_names_entries_in_both_formats() {
    let mut world = World::new();
    let lost = issue(&mut world.coordinator, &qid(2), "icb");
    let report = world.run();
    let text = render_text(&report);
    assert!(text.contains("icb (2 entries)"), "{text}");
    assert!(text.contains("queries         1 FINDING"), "{text}");
    assert!(text.contains(&format!("entries: coordinator#{lost}")), "{text}");
    assert!(text.contains("result: 1 finding"), "{text}");
    let lines: Vec<serde_json::Value> =
        render_jsonl(&report).lines().map(|l| serde_json::from_str(l).expect("json")).collect();
    assert_eq!(lines[0]["type"], "summary");
    assert_eq!(lines[0]["clean"], false);
    let finding = lines.iter().find(|l| l["type"] == "finding").expect("a finding");
    assert_eq!(finding["kind"], "query_only_at_coordinator");
    assert_eq!(finding["check"], "queries");
    assert_eq!(finding["entries"][0]["log"], "coordinator");
    assert_eq!(finding["entries"][0]["index"], lost);
    let _ = world.issued;
}
