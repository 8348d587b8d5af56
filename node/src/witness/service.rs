//! The `Witness` gRPC service (C2SP `tlog-witness` over gRPC): parse the submission, find the
//! log and check its signature, take any cosignatures delivered for this member's own log,
//! advance the witness state, and answer with a cosignature. A node serves it beside `Node`,
//! witnessing the coordinator's log; `fedlink witness serve` serves it alone.

use std::sync::{Arc, Mutex};

use fedlink_proto::audit::cosignature::{CosignatureVerifier, Cosigner};
use fedlink_proto::clock::Clock;
use fedlink_proto::pb;
use fedlink_proto::witness::{Submission, WitnessRefusal};
use tonic::{Request, Response, Status};

use crate::witness::state::{WitnessState, WitnessedLog, WitnessedLogs};

/// What a witness that is also a federation member does with cosignatures of its own log that
/// the owner of a witnessed log delivers (mutual cosigning), and with alarms.
pub trait OwnLog: Send + Sync + 'static {
    /// Verifies every delivered cosignature, `(size, line)`, with `from` over this member's
    /// own checkpoint at that size, and stores them all, or none: one that does not verify
    /// is a split view ([`WitnessRefusal::SplitView`]). Returns how many are held.
    fn accept_cosignatures(
        &self,
        from: &CosignatureVerifier,
        delivered: &[(u64, String)],
    ) -> Result<u32, WitnessRefusal>;

    /// Records an alarm about `log` in this member's audit log.
    fn record_alarm(&self, log: &WitnessedLog, refusal: &WitnessRefusal, note: &str);
}

/// Everything a witness needs to answer.
pub struct WitnessCore {
    /// The last cosigned checkpoint of every witnessed log. A std mutex, only locked inside
    /// `spawn_blocking`; the transactions inside make the check-and-write atomic anyway.
    state: Mutex<WitnessState>,
    /// The logs witnessed, and their keys.
    logs: WitnessedLogs,
    /// This witness's cosigning name and key.
    cosigner: Cosigner,
    /// Cosignature timestamps and alarm times.
    clock: Arc<dyn Clock>,
    /// The member's own log, for a witness that is a node; `None` for an independent witness.
    own_log: Option<Arc<dyn OwnLog>>,
}

impl WitnessCore {
    /// A witness of `logs` that cosigns as `cosigner`.
    pub fn new(
        state: WitnessState,
        logs: WitnessedLogs,
        cosigner: Cosigner,
        clock: Arc<dyn Clock>,
        own_log: Option<Arc<dyn OwnLog>>,
    ) -> Self {
        Self { state: Mutex::new(state), logs, cosigner, clock, own_log }
    }

    /// The logs witnessed.
    pub fn logs(&self) -> &WitnessedLogs {
        &self.logs
    }

    /// Answers one submission: the checks in the order `tlog-witness` gives them, then the
    /// delivered cosignatures, then the atomic compare-and-persist, then the cosignature. The
    /// state is persisted before the cosignature leaves.
    pub fn add_checkpoint(
        &self,
        submission: Submission,
    ) -> Result<pb::AddCheckpointResponse, WitnessRefusal> {
        let (log, checkpoint) = self.logs.open(&submission.note)?;
        if submission.old_size > checkpoint.size {
            return Err(WitnessRefusal::OldSizeAfterNew {
                old_size: submission.old_size,
                size: checkpoint.size,
            });
        }
        let now = self.clock.now().0;
        let stored = if submission.delivered.is_empty() {
            0
        } else {
            let (Some(own), Some(from)) = (&self.own_log, &log.owner_cosigner) else {
                return Err(WitnessRefusal::NoOwnLog);
            };
            match own.accept_cosignatures(from, &submission.delivered) {
                Ok(n) => n,
                Err(refusal) => {
                    self.alarm(log, &refusal, &submission, now);
                    return Err(refusal);
                }
            }
        };
        let advanced = self.lock()?.add_checkpoint(
            submission.old_size,
            &submission.proof,
            &checkpoint,
            &submission.note,
            now,
        );
        if let Err(refusal) = &advanced
            && refusal.is_alarm()
        {
            // The state kept it already; the member's audit log keeps it too, and the
            // service log says so at once.
            tracing::error!(log = %log.origin, owner = %log.owner, rule = refusal.rule(),
                "witness alarm: {refusal}");
            if let Some(own) = &self.own_log {
                own.record_alarm(log, refusal, &submission.note);
            }
        }
        advanced?;
        let timestamp = u64::try_from(now / 1000).unwrap_or(0);
        let cosignature = self
            .cosigner
            .cosign(&checkpoint, timestamp)
            .map_err(|e| WitnessRefusal::Internal(e.to_string()))?;
        tracing::info!(log = %log.origin, size = checkpoint.size, "cosigned");
        Ok(pb::AddCheckpointResponse {
            cosignature: cosignature.to_line(),
            cosignatures_stored: stored,
        })
    }

    /// Keeps and reports an alarm found in delivered cosignatures.
    fn alarm(
        &self,
        log: &WitnessedLog,
        refusal: &WitnessRefusal,
        submission: &Submission,
        now: i64,
    ) {
        tracing::error!(log = %log.origin, owner = %log.owner, rule = refusal.rule(),
            "witness alarm: {refusal}");
        if let Ok(mut state) = self.lock()
            && let Err(e) =
                state.record_alarm(&log.origin, refusal, &submission.note, submission.old_size, now)
        {
            tracing::error!(error = %e, "could not keep the alarm in the witness state");
        }
        if let Some(own) = &self.own_log {
            own.record_alarm(log, refusal, &submission.note);
        }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, WitnessState>, WitnessRefusal> {
        self.state
            .lock()
            .map_err(|_| WitnessRefusal::Internal("witness state lock poisoned".into()))
    }
}

/// The gRPC service over a [`WitnessCore`].
pub struct WitnessService {
    core: Arc<WitnessCore>,
}

impl WitnessService {
    /// A service answering with `core`.
    pub fn new(core: Arc<WitnessCore>) -> Self {
        Self { core }
    }
}

#[tonic::async_trait]
impl pb::witness_server::Witness for WitnessService {
    async fn add_checkpoint(
        &self,
        request: Request<pb::AddCheckpointRequest>,
    ) -> Result<Response<pb::AddCheckpointResponse>, Status> {
        let submission = Submission::try_from(request.into_inner()).map_err(|r| r.to_status())?;
        let core = Arc::clone(&self.core);
        match tokio::task::spawn_blocking(move || core.add_checkpoint(submission)).await {
            Ok(answer) => answer.map(Response::new).map_err(|r| r.to_status()),
            Err(e) => Err(Status::internal(format!("witness task failed: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use fedlink_proto::audit::checkpoint::NoteVerifier;
    use fedlink_proto::audit::store::AuditLog;
    use fedlink_proto::clock::{MockClock, UnixMillis};
    use fedlink_proto::identity::IdentityKey;

    use super::*;

    const ORIGIN: &str = "fedlink.audit/test/coordinator";

    /// An own log that refuses every delivery as a split view and counts alarms.
    #[derive(Default)]
    struct Suspicious {
        alarms: Mutex<Vec<&'static str>>,
    }

    impl OwnLog for Suspicious {
        fn accept_cosignatures(
            &self,
            from: &CosignatureVerifier,
            delivered: &[(u64, String)],
        ) -> Result<u32, WitnessRefusal> {
            Err(WitnessRefusal::SplitView {
                cosigner: from.name().into(),
                size: delivered[0].0,
                problem: "test".into(),
            })
        }

        fn record_alarm(&self, _: &WitnessedLog, refusal: &WitnessRefusal, _: &str) {
            self.alarms.lock().expect("lock").push(refusal.rule());
        }
    }

    struct Fixture {
        log: AuditLog,
        core: WitnessCore,
        cosigner_verifier: CosignatureVerifier,
        _dir: tempfile::TempDir,
    }

    fn fixture(own: Option<Arc<dyn OwnLog>>) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let key = IdentityKey::generate().expect("rng");
        let pk = key.public_key();
        let clock = Arc::new(MockClock::new(UnixMillis(1_700_000_000_000)));
        let mut log =
            AuditLog::open(&dir.path().join("audit.db"), ORIGIN, key, clock.clone()).expect("log");
        for _ in 0..3 {
            log.append(fedlink_proto::pb::AuditEntry::default(), None).expect("append");
        }
        let logs = WitnessedLogs::new([WitnessedLog {
            origin: ORIGIN.into(),
            owner: "coordinator".into(),
            verifier: NoteVerifier::new(ORIGIN, pk),
            owner_cosigner: Some(CosignatureVerifier::new("fedlink.witness/test/coordinator", pk)),
        }]);
        let cosigner =
            Cosigner::new("fedlink.witness/test/police", IdentityKey::generate().expect("rng"))
                .expect("name");
        let cosigner_verifier = cosigner.verifier();
        let state = WitnessState::open(&dir.path().join("witness.db")).expect("state");
        let core = WitnessCore::new(state, logs, cosigner, clock, own);
        Fixture { log, core, cosigner_verifier, _dir: dir }
    }

    fn submission(f: &Fixture, delivered: Vec<(u64, String)>) -> Submission {
        let s = f.log.witness_submission(0).expect("submission").expect("non-empty");
        Submission { old_size: 0, proof: s.proof, note: s.note, delivered }
    }

    #[test]
    fn a_cosignature_comes_back_over_the_checkpoint() {
        let f = fixture(None);
        let answer = f.core.add_checkpoint(submission(&f, Vec::new())).expect("cosigned");
        let (_, _, note) = f.log.latest_checkpoint().expect("read").expect("non-empty");
        let cp = fedlink_proto::audit::checkpoint::open_checkpoint(&note, &f.log.verifier())
            .expect("open");
        let cosignature = f.cosigner_verifier.verify(&cp, &answer.cosignature).expect("verifies");
        assert_eq!(cosignature.timestamp, 1_700_000_000);
    }

    #[test]
    fn an_independent_witness_refuses_delivered_cosignatures() {
        let f = fixture(None);
        let refused = f.core.add_checkpoint(submission(&f, vec![(1, "line".into())]));
        assert_eq!(refused, Err(WitnessRefusal::NoOwnLog));
    }

    #[test]
    fn a_split_view_is_refused_kept_and_entered_and_nothing_is_cosigned() {
        let own = Arc::new(Suspicious::default());
        let f = fixture(Some(own.clone()));
        let refused = f.core.add_checkpoint(submission(&f, vec![(2, "line".into())]));
        assert!(matches!(refused, Err(WitnessRefusal::SplitView { size: 2, .. })), "{refused:?}");
        assert_eq!(*own.alarms.lock().expect("lock"), ["witness.split_view"]);
        let state = f.core.lock().expect("lock");
        assert_eq!(state.alarms().expect("alarms")[0].rule, "witness.split_view");
        assert_eq!(state.cosigned(ORIGIN).expect("read"), None, "the checkpoint was not taken");
    }
}
