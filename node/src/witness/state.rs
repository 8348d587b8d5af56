//! The witness's memory (C2SP `tlog-witness`): for each log it witnesses, the last checkpoint it
//! cosigned, in SQLite, advanced only by a consistency proof from exactly that checkpoint, with
//! the check and the write in one transaction. Checkpoints it refuses that prove a fork (a bad
//! proof, a second tree of one size) and cosignatures that prove a split view are kept as
//! alarms: they are signed evidence of misbehaviour.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use fedlink_proto::audit::checkpoint::{
    Checkpoint, CheckpointError, NoteVerifier, open_checkpoint,
};
use fedlink_proto::audit::cosignature::CosignatureVerifier;
use fedlink_proto::audit::merkle::{Hash, empty_root};
use fedlink_proto::audit::proof::verify_consistency;
use fedlink_proto::witness::WitnessRefusal;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

/// The schema: one row per witnessed log (its last cosigned checkpoint) and the alarm record.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS witnessed (
    origin     TEXT PRIMARY KEY,
    size       INTEGER NOT NULL CHECK (size >= 0),
    root       BLOB NOT NULL CHECK (length(root) = 32),
    note       TEXT NOT NULL,
    updated_ms INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS alarm (
    id          INTEGER PRIMARY KEY,
    origin      TEXT NOT NULL,
    rule        TEXT NOT NULL,
    detail      TEXT NOT NULL,
    note        TEXT NOT NULL,
    old_size    INTEGER NOT NULL,
    received_ms INTEGER NOT NULL
) STRICT;
";

/// A log this witness witnesses.
#[derive(Debug, Clone)]
pub struct WitnessedLog {
    /// The log's origin: its checkpoints' first line and the name of its key.
    pub origin: String,
    /// Whose log it is (a federation member name), for messages.
    pub owner: String,
    /// The key that signs its checkpoints.
    pub verifier: NoteVerifier,
    /// The owner's cosigner key, when the owner delivers cosignatures of this witness's own log
    /// (mutual cosigning: the coordinator cosigns the node checkpoints it verified).
    pub owner_cosigner: Option<CosignatureVerifier>,
}

/// The logs a witness witnesses, by origin.
#[derive(Debug, Clone, Default)]
pub struct WitnessedLogs {
    by_origin: BTreeMap<String, WitnessedLog>,
}

impl WitnessedLogs {
    /// The given logs.
    pub fn new(logs: impl IntoIterator<Item = WitnessedLog>) -> Self {
        Self { by_origin: logs.into_iter().map(|l| (l.origin.clone(), l)).collect() }
    }

    /// The log with this origin, if witnessed.
    pub fn get(&self, origin: &str) -> Option<&WitnessedLog> {
        self.by_origin.get(origin)
    }

    /// Every witnessed log, by origin.
    pub fn iter(&self) -> impl Iterator<Item = &WitnessedLog> {
        self.by_origin.values()
    }

    /// Finds the log a signed checkpoint claims to be from (its first line) and verifies the
    /// log's signature: 404 for an origin not witnessed, 403 for a note its key did not sign.
    pub fn open<'a>(
        &'a self,
        note: &str,
    ) -> Result<(&'a WitnessedLog, Checkpoint), WitnessRefusal> {
        let origin = note.split('\n').next().unwrap_or_default();
        let log = self.get(origin).ok_or_else(|| WitnessRefusal::UnknownLog {
            origin: origin.chars().take(200).collect(),
        })?;
        let checkpoint = open_checkpoint(note, &log.verifier).map_err(|e| match e {
            CheckpointError::BadSignature { .. } | CheckpointError::NoKnownSignature { .. } => {
                WitnessRefusal::BadSignature { origin: log.origin.clone(), problem: e.to_string() }
            }
            other => WitnessRefusal::Malformed(format!("checkpoint: {other}")),
        })?;
        if checkpoint.origin != log.origin {
            return Err(WitnessRefusal::Malformed("the checkpoint's origin changed".into()));
        }
        Ok((log, checkpoint))
    }
}

/// One kept alarm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alarm {
    /// The log concerned.
    pub origin: String,
    /// The refusal's rule.
    pub rule: String,
    /// The refusal, in words.
    pub detail: String,
    /// The signed checkpoint that was refused.
    pub note: String,
    /// The old size the submitter stated.
    pub old_size: u64,
    /// When, milliseconds since the epoch.
    pub received_ms: i64,
}

/// The witness's SQLite state (`witness.db`).
pub struct WitnessState {
    /// One connection; callers share the state behind a mutex, and every change runs in a
    /// `BEGIN IMMEDIATE` transaction, so even two processes on one file cannot interleave a
    /// check and a write.
    conn: Connection,
}

impl WitnessState {
    /// Opens or creates the state file.
    pub fn open(path: &Path) -> Result<Self, rusqlite::Error> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        let _mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        // A cosignature is a promise never to cosign a rollback: what it rests on must survive
        // a power cut before the cosignature leaves.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self { conn })
    }

    /// The last checkpoint cosigned for `origin`: size and root.
    pub fn cosigned(&self, origin: &str) -> Result<Option<(u64, Hash)>, WitnessRefusal> {
        read_cosigned(&self.conn, origin)
    }

    /// The tlog-witness check of a verified checkpoint, and its record, atomically: refuses
    /// unless `old_size` is the size last cosigned (0 if none), the roots agree at equal
    /// sizes, and `proof` proves the new tree extends the cosigned one; then stores the new
    /// checkpoint as the last cosigned. A refusal that proves a fork is kept as an alarm.
    pub fn add_checkpoint(
        &mut self,
        old_size: u64,
        proof: &[Hash],
        checkpoint: &Checkpoint,
        note: &str,
        now_ms: i64,
    ) -> Result<(), WitnessRefusal> {
        let origin = checkpoint.origin.as_str();
        if old_size > checkpoint.size {
            return Err(WitnessRefusal::OldSizeAfterNew { old_size, size: checkpoint.size });
        }
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        let (cosigned_size, cosigned_root) =
            read_cosigned(&tx, origin)?.unwrap_or((0, empty_root()));
        let refusal = if old_size != cosigned_size {
            Some(WitnessRefusal::Conflict {
                origin: origin.into(),
                witness_size: cosigned_size,
                fork: false,
            })
        } else if checkpoint.size == cosigned_size && !checkpoint.root.ct_eq(&cosigned_root) {
            Some(WitnessRefusal::Conflict {
                origin: origin.into(),
                witness_size: cosigned_size,
                fork: true,
            })
        } else {
            verify_consistency(
                cosigned_size,
                checkpoint.size,
                &cosigned_root,
                &checkpoint.root,
                proof,
            )
            .err()
            .map(|e| WitnessRefusal::BadProof {
                origin: origin.into(),
                cosigned_size,
                size: checkpoint.size,
                problem: e.to_string(),
            })
        };
        if let Some(refusal) = refusal {
            if refusal.is_alarm() {
                insert_alarm(&tx, origin, &refusal, note, old_size, now_ms)?;
                tx.commit().map_err(db)?;
            }
            return Err(refusal);
        }
        tx.execute(
            "INSERT INTO witnessed (origin, size, root, note, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (origin) DO UPDATE SET size = ?2, root = ?3, note = ?4, updated_ms = ?5",
            params![origin, to_sql(checkpoint.size)?, checkpoint.root.0.as_slice(), note, now_ms],
        )
        .map_err(db)?;
        tx.commit().map_err(db)
    }

    /// Keeps an alarm found outside the checkpoint check (a split view in delivered
    /// cosignatures).
    pub fn record_alarm(
        &mut self,
        origin: &str,
        refusal: &WitnessRefusal,
        note: &str,
        old_size: u64,
        now_ms: i64,
    ) -> Result<(), WitnessRefusal> {
        insert_alarm(&self.conn, origin, refusal, note, old_size, now_ms)
    }

    /// Every kept alarm, oldest first.
    pub fn alarms(&self) -> Result<Vec<Alarm>, WitnessRefusal> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT origin, rule, detail, note, old_size, received_ms FROM alarm ORDER BY id",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(Alarm {
                    origin: r.get(0)?,
                    rule: r.get(1)?,
                    detail: r.get(2)?,
                    note: r.get(3)?,
                    old_size: u64::try_from(r.get::<_, i64>(4)?).unwrap_or(0),
                    received_ms: r.get(5)?,
                })
            })
            .map_err(db)?;
        rows.collect::<Result<_, _>>().map_err(db)
    }
}

fn read_cosigned(conn: &Connection, origin: &str) -> Result<Option<(u64, Hash)>, WitnessRefusal> {
    let row: Option<(i64, Vec<u8>)> = conn
        .prepare_cached("SELECT size, root FROM witnessed WHERE origin = ?1")
        .and_then(|mut s| s.query_row([origin], |r| Ok((r.get(0)?, r.get(1)?))).optional())
        .map_err(db)?;
    row.map(|(size, root)| {
        let size = u64::try_from(size)
            .map_err(|_| WitnessRefusal::Internal(format!("stored size {size} is negative")))?;
        let root = Hash::from_slice(&root)
            .ok_or_else(|| WitnessRefusal::Internal("a stored root is not 32 bytes".into()))?;
        Ok((size, root))
    })
    .transpose()
}

fn insert_alarm(
    conn: &Connection,
    origin: &str,
    refusal: &WitnessRefusal,
    note: &str,
    old_size: u64,
    now_ms: i64,
) -> Result<(), WitnessRefusal> {
    conn.execute(
        "INSERT INTO alarm (origin, rule, detail, note, old_size, received_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![origin, refusal.rule(), refusal.to_string(), note, to_sql(old_size)?, now_ms],
    )
    .map_err(db)?;
    Ok(())
}

fn to_sql(n: u64) -> Result<i64, WitnessRefusal> {
    i64::try_from(n).map_err(|_| WitnessRefusal::Malformed(format!("size {n} is out of range")))
}

/// The witness's own store failing is its fault, not the submitter's: an internal error, whose
/// detail goes to the service log.
fn db(e: rusqlite::Error) -> WitnessRefusal {
    tracing::error!(error = %e, "witness state");
    WitnessRefusal::Internal("the witness could not read or write its state".into())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use fedlink_proto::audit::checkpoint::sign_checkpoint;
    use fedlink_proto::audit::proof::consistency_proof;
    use fedlink_proto::audit::store::AuditLog;
    use fedlink_proto::clock::{MockClock, UnixMillis};
    use fedlink_proto::identity::IdentityKey;
    use fedlink_proto::pb;

    use super::*;

    const ORIGIN: &str = "fedlink.audit/test/coordinator";

    /// A real log of `n` entries with its key, and the witnessed-log entry for it.
    struct Fixture {
        log: AuditLog,
        key: IdentityKey,
        logs: WitnessedLogs,
        state: WitnessState,
        _dir: tempfile::TempDir,
    }

    fn fixture(n: usize) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = IdentityKey::generate().expect("rng");
        let verifier = NoteVerifier::new(ORIGIN, key.public_key());
        let clock = Arc::new(MockClock::new(UnixMillis(1_000)));
        let log_key = key.try_clone().expect("clone");
        let mut log =
            AuditLog::open(&dir.path().join("audit.db"), ORIGIN, log_key, clock).expect("log");
        grow(&mut log, n);
        let logs = WitnessedLogs::new([WitnessedLog {
            origin: ORIGIN.into(),
            owner: "coordinator".into(),
            verifier,
            owner_cosigner: None,
        }]);
        let state = WitnessState::open(&dir.path().join("witness.db")).expect("state");
        Fixture { log, key, logs, state, _dir: dir }
    }

    fn grow(log: &mut AuditLog, n: usize) {
        for _ in 0..n {
            log.append(pb::AuditEntry::default(), None).expect("append");
        }
    }

    /// Submits the log's latest checkpoint from `old` with an honest proof.
    fn submit(f: &mut Fixture, old: u64) -> Result<(), WitnessRefusal> {
        let s = f.log.witness_submission(old).expect("submission").expect("non-empty");
        let (_, cp) = f.logs.open(&s.note)?;
        f.state.add_checkpoint(old, &s.proof, &cp, &s.note, 5)
    }

    #[test]
    fn a_consistent_log_advances_the_cosigned_size() {
        let mut f = fixture(3);
        submit(&mut f, 0).expect("first contact from 0");
        assert_eq!(f.state.cosigned(ORIGIN).expect("read").map(|c| c.0), Some(3));
        grow(&mut f.log, 4);
        submit(&mut f, 3).expect("from 3 to 7");
        assert_eq!(f.state.cosigned(ORIGIN).expect("read").map(|c| c.0), Some(7));
        submit(&mut f, 7).expect("the same checkpoint again");
        assert!(f.state.alarms().expect("alarms").is_empty());
    }

    #[test]
    fn a_stale_old_size_is_a_409_carrying_the_cosigned_size() {
        let mut f = fixture(3);
        submit(&mut f, 0).expect("cosign 3");
        grow(&mut f.log, 2);
        for stale in [0, 2] {
            assert_eq!(
                submit(&mut f, stale),
                Err(WitnessRefusal::Conflict {
                    origin: ORIGIN.into(),
                    witness_size: 3,
                    fork: false
                })
            );
        }
        assert_eq!(f.state.cosigned(ORIGIN).expect("read").map(|c| c.0), Some(3), "unchanged");
        assert!(f.state.alarms().expect("alarms").is_empty(), "a stale client is no alarm");
        submit(&mut f, 3).expect("retry from the size the 409 named");
    }

    #[test]
    fn a_bad_proof_is_a_422_and_kept_as_an_alarm() {
        let mut f = fixture(3);
        submit(&mut f, 0).expect("cosign 3");
        grow(&mut f.log, 3);
        let s = f.log.witness_submission(3).expect("submission").expect("non-empty");
        let (_, cp) = f.logs.open(&s.note).expect("signed");
        let mut proof = s.proof.clone();
        proof[0].0[0] ^= 1;
        let refused = f.state.add_checkpoint(3, &proof, &cp, &s.note, 9);
        assert!(
            matches!(&refused, Err(WitnessRefusal::BadProof { cosigned_size: 3, size: 6, .. })),
            "{refused:?}"
        );
        assert_eq!(refused.map_err(|r| r.code()), Err(tonic::Code::InvalidArgument));
        let alarms = f.state.alarms().expect("alarms");
        assert_eq!(alarms.len(), 1);
        assert_eq!((alarms[0].rule.as_str(), alarms[0].old_size), ("witness.bad_proof", 3));
        assert_eq!(alarms[0].note, s.note, "the refused checkpoint is kept as evidence");
        assert_eq!(f.state.cosigned(ORIGIN).expect("read").map(|c| c.0), Some(3));
    }

    #[test]
    fn a_forked_log_is_refused() {
        // Two logs at one origin under one key, diverging after the witness saw the first.
        let mut f = fixture(4);
        submit(&mut f, 0).expect("cosign the real log at 4");
        let dir = tempfile::tempdir().expect("tempdir");
        // Same origin, same key: the fork is signed by the log's real key.
        let fork_key = f.key.try_clone().expect("clone");
        let clock = Arc::new(MockClock::new(UnixMillis(2_000)));
        let mut fork =
            AuditLog::open(&dir.path().join("fork.db"), ORIGIN, fork_key, clock).expect("fork");
        for i in 0..6 {
            let entry = pb::AuditEntry { detail: format!("fork {i}"), ..Default::default() };
            fork.append(entry, None).expect("append");
        }
        // An honest proof within the fork, from the size the witness names: 422.
        let s = fork.witness_submission(4).expect("submission").expect("non-empty");
        let (_, cp) = f.logs.open(&s.note).expect("signed by the key");
        assert!(matches!(
            f.state.add_checkpoint(4, &s.proof, &cp, &s.note, 9),
            Err(WitnessRefusal::BadProof { cosigned_size: 4, size: 6, .. })
        ));
        // The fork's own checkpoint at the cosigned size: a second tree of size 4, a 409 that
        // is an alarm.
        let (root4, note4) = fork.checkpoint_at(4).expect("read").expect("signed at 4");
        let cp4 = Checkpoint { origin: ORIGIN.into(), size: 4, root: root4 };
        assert_eq!(
            f.state.add_checkpoint(4, &[], &cp4, &note4, 9),
            Err(WitnessRefusal::Conflict { origin: ORIGIN.into(), witness_size: 4, fork: true })
        );
        let rules: Vec<String> =
            f.state.alarms().expect("alarms").into_iter().map(|a| a.rule).collect();
        assert_eq!(rules, ["witness.bad_proof", "witness.conflict"]);
    }

    #[test]
    fn unknown_logs_and_bad_signatures_are_404_and_403() {
        let f = fixture(2);
        let (_, _, note) = f.log.latest_checkpoint().expect("read").expect("non-empty");
        let elsewhere = note.replacen(ORIGIN, "fedlink.audit/test/stranger", 1);
        assert_eq!(
            f.logs.open(&elsewhere).map(|_| ()).map_err(|r| r.code()),
            Err(tonic::Code::NotFound)
        );
        let other_key = IdentityKey::generate().expect("rng");
        let cp = Checkpoint::from_body(
            note.split("\n\n").next().map(|b| format!("{b}\n")).as_deref().unwrap_or(""),
        )
        .expect("body");
        let forged = sign_checkpoint(&cp, ORIGIN, &other_key);
        assert_eq!(
            f.logs.open(&forged).map(|_| ()).map_err(|r| r.code()),
            Err(tonic::Code::PermissionDenied)
        );
    }

    #[test]
    fn old_size_beyond_the_checkpoint_is_a_400() {
        let mut f = fixture(2);
        let s = f.log.witness_submission(0).expect("submission").expect("non-empty");
        let (_, cp) = f.logs.open(&s.note).expect("signed");
        assert_eq!(
            f.state.add_checkpoint(3, &[], &cp, &s.note, 1),
            Err(WitnessRefusal::OldSizeAfterNew { old_size: 3, size: 2 })
        );
        // From 0 the proof must be empty (tlog-witness: 422 otherwise).
        let proof = consistency_proof(&f.log, 1, 2).expect("proof");
        assert!(matches!(
            f.state.add_checkpoint(0, &proof, &cp, &s.note, 1),
            Err(WitnessRefusal::BadProof { .. })
        ));
    }

    #[test]
    fn compare_and_persist_is_atomic_across_connections() {
        // Two witnesses on one state file (two processes, say) racing to advance one log:
        // exactly one of two submissions from the same old size wins, the other gets a 409,
        // and the size never rolls back.
        let mut f = fixture(2);
        submit(&mut f, 0).expect("cosign 2");
        let path = f._dir.path().join("witness.db");
        grow(&mut f.log, 2);
        let a = f.log.witness_submission(2).expect("sub").expect("non-empty");
        grow(&mut f.log, 2);
        let b = f.log.witness_submission(2).expect("sub").expect("non-empty");
        let logs = f.logs.clone();
        let results: Vec<Result<(), WitnessRefusal>> = std::thread::scope(|scope| {
            [a, b]
                .into_iter()
                .map(|s| {
                    let logs = &logs;
                    let path = &path;
                    scope.spawn(move || {
                        let mut state = WitnessState::open(path).expect("state");
                        let (_, cp) = logs.open(&s.note).expect("signed");
                        state.add_checkpoint(2, &s.proof, &cp, &s.note, 3)
                    })
                })
                .collect::<Vec<_>>()
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect()
        });
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
        assert!(results.iter().any(|r| matches!(r, Err(WitnessRefusal::Conflict { .. }))));
        let size = f.state.cosigned(ORIGIN).expect("read").map(|c| c.0);
        assert!(size == Some(4) || size == Some(6), "{size:?}");
        // Whichever won, the other one's size is now stale or behind, never written over it.
        let behind = WitnessState::open(&path).expect("state").cosigned(ORIGIN).expect("read");
        assert_eq!(behind.map(|c| c.0), size);
    }
}
