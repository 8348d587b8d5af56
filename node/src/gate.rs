//! The audit gate: the only way from an [`AuthorisedQuery`] to a [`Logged`] one is a durable
//! append to the node's audit log, and every refusal is appended too. So "in the audit log before
//! any answer leaves" holds by construction: answers are built from `Logged` values.
//!
//! Each answered request makes two entries: the request (CONSULTATION, ALLOWED) before any work,
//! then the disclosure (what left, its hash and rule) whose receipt travels with the answer. A
//! refused request makes one entry (DENIED, naming the rule), and its receipt travels in the
//! `fedlink-receipt-bin` header of the error status.

use std::sync::{Arc, Mutex, mpsc};

use fedlink_proto::audit::budget::{BudgetKey, BudgetLimits};
use fedlink_proto::audit::payload::{Payload, SubjectToken};
use fedlink_proto::audit::store::payload::{Erasure, SubjectSearch};
use fedlink_proto::audit::store::{AuditLog, StoreError, decode_entry};
use fedlink_proto::clock::Clock;
use fedlink_proto::envelope::{
    Envelope, VerifiedEnvelope, lawful_basis_to_pb, mode_to_pb, requester_to_pb, role_to_pb,
};
use fedlink_proto::pb;
use fedlink_proto::refusal::{BudgetShortfall, Refusal};

use crate::error::NodeError;
use crate::policy::AuthorisedQuery;
use crate::request::{AuthenticatedPeer, PeerEvidence};

/// A query that is durably in the audit log. Only [`AuditGate::admit`] makes one.
#[derive(Debug)]
pub struct Logged<T> {
    query: T,
    request_index: u64,
}

impl<T> Logged<T> {
    /// The logged query.
    pub fn query(&self) -> &T {
        &self.query
    }

    /// Leaf index of the entry that logged the request.
    pub fn request_index(&self) -> u64 {
        self.request_index
    }
}

/// Everything known about a refused request, for its audit entry.
#[derive(Debug)]
pub struct Denial {
    /// Why it was refused.
    pub refusal: Refusal,
    /// Who asked, as far as known.
    pub peer: PeerEvidence,
    /// The envelope, if its signature verified.
    pub verified: Option<VerifiedEnvelope>,
    /// SHA-256 of the envelope bytes as received, if any arrived.
    pub envelope_hash: Option<[u8; 32]>,
}

/// The node's audit log with the entry shapes the node writes.
pub struct AuditGate {
    /// The log. A std mutex: it is only locked inside `spawn_blocking`, never across an await,
    /// and SQLite wants one writer at a time anyway. Shared with the subject indexer.
    log: Arc<Mutex<AuditLog>>,
    /// The node's clock, shared with the envelope checks.
    clock: Arc<dyn Clock>,
    /// How long a payload (subject tokens) is kept before it may be erased, in ms.
    payload_retention_ms: i64,
    /// Wakes the thread that copies new payloads' tokens into the subject index, off the
    /// answer's path (`fedlink_proto::audit::store::payload`).
    indexer: Option<mpsc::Sender<()>>,
}

impl AuditGate {
    /// Wraps an opened log, keeping payloads `payload_retention_days` (the policy's
    /// `[audit]`), and starts the subject indexer, which first finishes any payload a previous
    /// run left unindexed.
    pub fn new(log: AuditLog, clock: Arc<dyn Clock>, payload_retention_days: u32) -> Self {
        let log = Arc::new(Mutex::new(log));
        let indexer = start_indexer(Arc::clone(&log));
        let payload_retention_ms = i64::from(payload_retention_days) * 86_400_000;
        Self { log, clock, payload_retention_ms, indexer }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, AuditLog>, NodeError> {
        self.log.lock().map_err(|_| NodeError::Internal("audit log lock poisoned".into()))
    }

    /// The node's clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The log's current size, read from the database: another process (an import) may have
    /// appended since this one last did.
    pub fn size(&self) -> Result<u64, NodeError> {
        Ok(self.lock()?.latest_checkpoint()?.map_or(0, |(size, _, _)| size))
    }

    /// Whether a query id is already in the log, and where.
    pub fn query_id_seen(&self, id: &[u8; 16]) -> Result<Option<u64>, NodeError> {
        Ok(self.lock()?.query_id_seen(id)?)
    }

    /// Appends a system event (start-up, policy loaded).
    pub fn system_event(&self, event: pb::EventType, detail: String) -> Result<u64, NodeError> {
        let entry = pb::AuditEntry {
            event_type: event as i32,
            decision: pb::Decision::Allowed as i32,
            detail,
            ..Default::default()
        };
        Ok(self.lock()?.append(entry, None)?.index)
    }

    /// Logs an authorised request, claiming its query id. A query id that another request
    /// claimed in the meantime turns into a logged replay refusal.
    pub fn admit(&self, query: AuthorisedQuery) -> Result<Logged<AuthorisedQuery>, NodeError> {
        let checked = query.checked();
        let entry = pb::AuditEntry {
            event_type: pb::EventType::Consultation as i32,
            decision: pb::Decision::Allowed as i32,
            rule: "policy".into(),
            reason: "envelope verified and accepted by policy".into(),
            actor: Some(actor(Some(checked.peer()), None, Some(checked.envelope()))),
            query: Some(query_record(checked.envelope(), checked.hash())),
            ..Default::default()
        };
        let claim = *checked.envelope().query_id.as_bytes();
        let appended = self.lock()?.append(entry, Some(claim));
        match appended {
            Ok(a) => Ok(Logged { query, request_index: a.index }),
            Err(StoreError::QueryIdSeen { first_index }) => {
                let peer = PeerEvidence {
                    fingerprint: Some(checked.peer().fingerprint().to_string()),
                    member: Some(checked.peer().member().name.clone()),
                };
                let envelope_hash = Some(checked.hash());
                let known = checked.envelope().known_log_size;
                let status = self.deny_inner(
                    Denial {
                        refusal: Refusal::Replayed { first_index },
                        peer,
                        verified: None,
                        envelope_hash,
                    },
                    known,
                );
                Err(NodeError::Refused(status))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Logs a refusal and returns the status to send, carrying the entry's receipt.
    pub fn deny(&self, denial: Denial) -> tonic::Status {
        let known = denial.verified.as_ref().map_or(0, |v| v.envelope().known_log_size);
        self.deny_inner(denial, known)
    }

    fn deny_inner(&self, denial: Denial, known_log_size: u64) -> tonic::Status {
        let env = denial.verified.as_ref().map(|v| v.envelope());
        let mut query = env.map(|e| query_record(e, denial.envelope_hash.unwrap_or_default()));
        if query.is_none() {
            query = denial
                .envelope_hash
                .map(|h| pb::QueryRecord { envelope_hash: h.to_vec(), ..Default::default() });
        }
        let entry = pb::AuditEntry {
            event_type: pb::EventType::Consultation as i32,
            decision: pb::Decision::Denied as i32,
            rule: denial.refusal.rule().into(),
            reason: denial.refusal.to_string(),
            actor: Some(actor(None, Some(&denial.peer), env)),
            query,
            ..Default::default()
        };
        // A verified envelope claims its query id even when refused, so it can never be
        // retried as it is; an unverified one claims nothing (anyone could have sent it).
        let claim = match (&denial.refusal, env) {
            (Refusal::Replayed { .. }, _) | (_, None) => None,
            (_, Some(e)) => Some(*e.query_id.as_bytes()),
        };
        self.status_with_receipt(&denial.refusal, entry, claim, known_log_size)
    }

    /// Appends a refusal entry and builds the status that carries its rule and receipt.
    fn status_with_receipt(
        &self,
        refusal: &Refusal,
        entry: pb::AuditEntry,
        claim: Option<[u8; 16]>,
        known_log_size: u64,
    ) -> tonic::Status {
        let message = refusal.to_string();
        self.status_with_receipt_parts(
            refusal.code(),
            &message,
            Some(refusal.rule()),
            entry,
            claim,
            known_log_size,
        )
    }

    fn status_with_receipt_parts(
        &self,
        code: tonic::Code,
        message: &str,
        rule: Option<&str>,
        entry: pb::AuditEntry,
        claim: Option<[u8; 16]>,
        known_log_size: u64,
    ) -> tonic::Status {
        let mut status = tonic::Status::new(code, message);
        if let Some(Ok(v)) = rule.map(tonic::metadata::MetadataValue::try_from) {
            status.metadata_mut().insert(fedlink_proto::refusal::REFUSAL_HEADER, v);
        }
        let receipt = self.lock().map_err(|e| e.to_string()).and_then(|mut log| {
            let appended = log.append(entry, claim).map_err(|e| e.to_string())?;
            let from = known_log_size.min(appended.size);
            log.receipt(appended.index, from).map_err(|e| e.to_string())
        });
        match receipt {
            Ok(receipt) => {
                let bytes = prost::Message::encode_to_vec(&receipt);
                status.metadata_mut().insert_bin(
                    fedlink_proto::refusal::RECEIPT_HEADER,
                    tonic::metadata::MetadataValue::from_bytes(&bytes),
                );
                status
            }
            Err(e) => {
                // Nothing is answered that was not logged: if even the refusal cannot be
                // logged, the client gets an internal error instead.
                tracing::error!(error = %e, "could not log a refusal");
                tonic::Status::internal("the node could not write its audit log")
            }
        }
    }

    /// Logs what leaves for a logged query and returns the disclosure entry's receipt.
    pub fn disclose(
        &self,
        logged: &Logged<AuthorisedQuery>,
        output: pb::OutputRecord,
    ) -> Result<pb::Receipt, NodeError> {
        self.append_disclosure(logged, disclosure_entry(logged, output), None)
    }

    /// Logs what leaves for a logged query together with its privacy-budget charge. The charge
    /// is checked against `limits` and booked in the same transaction as the entry, so two
    /// concurrent queries can never both spend the last of a budget. Overspending logs a
    /// refusal instead and returns its status.
    pub fn disclose_charged(
        &self,
        logged: &Logged<AuthorisedQuery>,
        output: pb::OutputRecord,
        charge: pb::BudgetCharge,
        limits: &BudgetLimits,
    ) -> Result<pb::Receipt, NodeError> {
        self.append_disclosure(logged, disclosure_entry(logged, output), Some((charge, limits)))
    }

    /// Logs one step of a linked query: what this node sends a peer through the relay (or
    /// releases at the end), to whom, a readable `detail`, the digest lines of every relay
    /// message it sent and received so far in `relay_digests` (auditors match them across the
    /// sender's and the receiver's logs), and the budget charge of a released table.
    pub fn disclose_linked(
        &self,
        logged: &Logged<AuthorisedQuery>,
        output: pb::OutputRecord,
        recipients: Vec<String>,
        detail: String,
        relay_digests: &[String],
        charge: Option<(pb::BudgetCharge, &BudgetLimits)>,
    ) -> Result<pb::Receipt, NodeError> {
        let entry = pb::AuditEntry {
            recipients,
            detail,
            relay_digests: relay_digests.to_vec(),
            ..disclosure_entry(logged, output)
        };
        self.append_disclosure(logged, entry, charge)
    }

    /// [`AuditGate::disclose_linked`] for the step that processed identifiable people of this
    /// node: the entry also carries a payload of their subject tokens, kept for the policy's
    /// retention period (issue 7 item 4). No tokens, no payload.
    ///
    /// The entry's `subject_count` is left at 0: the entry leaves the node (receipts to the
    /// coordinator, exports to auditors), and the number of people on a side is what the
    /// padding with a noised number of dummies hides (design-review F2, F5); it stays in the
    /// payload, which never leaves.
    pub fn disclose_linked_concerning(
        &self,
        logged: &Logged<AuthorisedQuery>,
        output: pb::OutputRecord,
        recipients: Vec<String>,
        detail: String,
        relay_digests: &[String],
        subjects: Vec<SubjectToken>,
    ) -> Result<pb::Receipt, NodeError> {
        if subjects.is_empty() {
            return self.disclose_linked(logged, output, recipients, detail, relay_digests, None);
        }
        let entry = pb::AuditEntry {
            recipients,
            detail,
            relay_digests: relay_digests.to_vec(),
            ..disclosure_entry(logged, output)
        };
        let payload = Payload::new(subjects, String::new());
        let env = logged.query().checked().envelope();
        let receipt = {
            let mut log = self.lock()?;
            let appended =
                log.append_with_payload(entry, None, &payload, self.payload_retention_ms)?;
            let from = env.known_log_size.min(appended.size);
            log.receipt(appended.index, from)?
        };
        self.wake_indexer();
        Ok(receipt)
    }

    /// Appends a system event whose payload holds subject tokens (a subject search logs the
    /// token it searched for, never the identifier).
    pub fn system_event_concerning(
        &self,
        entry: pb::AuditEntry,
        subjects: Vec<SubjectToken>,
    ) -> Result<u64, NodeError> {
        let payload = Payload::new(subjects, String::new());
        let index = self
            .lock()?
            .append_with_payload(entry, None, &payload, self.payload_retention_ms)?
            .index;
        self.wake_indexer();
        Ok(index)
    }

    /// Erases every payload whose retention has ended and logs the erasure (an ERASURE entry
    /// naming how many and which index range) in the same transaction. `None` when none was
    /// due.
    pub fn erase_expired_payloads(
        &self,
        actor: pb::Actor,
    ) -> Result<Option<(Erasure, u64)>, NodeError> {
        let erased = self.lock()?.erase_expired_payloads(|e| erasure_entry(e, actor))?;
        Ok(erased.map(|(erasure, appended)| (erasure, appended.index)))
    }

    /// Every entry whose payload holds any of `tokens` (see
    /// [`AuditLog::search_subjects`]).
    pub fn search_subjects(&self, tokens: &[SubjectToken]) -> Result<SubjectSearch, NodeError> {
        Ok(self.lock()?.search_subjects(tokens)?)
    }

    /// Entry `index`, decoded.
    pub fn entry(&self, index: u64) -> Result<pb::AuditEntry, NodeError> {
        let bytes = self.lock()?.entry(index)?;
        decode_entry(&bytes).map_err(|e| NodeError::Internal(format!("audit entry {index}: {e}")))
    }

    fn wake_indexer(&self) {
        if let Some(indexer) = &self.indexer {
            // A stopped indexer leaves the payload pending: the next search or start indexes it.
            let _ = indexer.send(());
        }
    }

    fn append_disclosure(
        &self,
        logged: &Logged<AuthorisedQuery>,
        entry: pb::AuditEntry,
        charge: Option<(pb::BudgetCharge, &BudgetLimits)>,
    ) -> Result<pb::Receipt, NodeError> {
        let env = logged.query().checked().envelope();
        let mut log = self.lock()?;
        let Some((charge, limits)) = charge else {
            let appended = log.append(entry, None)?;
            let from = env.known_log_size.min(appended.size);
            return Ok(log.receipt(appended.index, from)?);
        };
        // A refusal for want of budget still lists the relay messages the entry would have.
        let relay_digests = entry.relay_digests.clone();
        let entry = pb::AuditEntry { budget: Some(charge.clone()), ..entry };
        match log.append_charged(entry, limits) {
            Ok(appended) => {
                let from = env.known_log_size.min(appended.size);
                Ok(log.receipt(appended.index, from)?)
            }
            Err(StoreError::BudgetExceeded { scope, spent_micro, limit_micro, .. }) => {
                drop(log);
                let refusal = Refusal::BudgetExhausted(Box::new(BudgetShortfall {
                    scope: scope.as_str().to_string(),
                    dataset: charge.dataset,
                    period: charge.period,
                    requested_micro: charge.epsilon_micro,
                    remaining_micro: limit_micro.saturating_sub(spent_micro),
                }));
                Err(NodeError::Refused(self.refuse_relayed(logged, &refusal, &relay_digests)))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Logs the refusal of a query that was already admitted (its request entry holds the query
    /// id, so this entry points back to it) and returns the status to send.
    pub fn refuse(&self, logged: &Logged<AuthorisedQuery>, refusal: &Refusal) -> tonic::Status {
        self.refuse_relayed(logged, refusal, &[])
    }

    /// As [`AuditGate::refuse`], for a linked query's session: the entry lists the digest lines
    /// of every relay message the node sent and received before it refused (the refused
    /// message among them), so the sender's log and this one still match message by message.
    pub fn refuse_relayed(
        &self,
        logged: &Logged<AuthorisedQuery>,
        refusal: &Refusal,
        relay_digests: &[String],
    ) -> tonic::Status {
        let env = logged.query().checked().envelope();
        let entry = pb::AuditEntry {
            relay_digests: relay_digests.to_vec(),
            ..after_admission(logged, pb::Decision::Denied, refusal.rule(), refusal.to_string())
        };
        self.status_with_receipt(refusal, entry, None, env.known_log_size)
    }

    /// Logs that an admitted query failed inside the node (decision ERROR, with a fixed reason:
    /// the detail could depend on the data, so it goes to the service log only) and returns
    /// the status to send, carrying the entry's receipt.
    pub fn fail(&self, logged: &Logged<AuthorisedQuery>, problem: &NodeError) -> tonic::Status {
        self.fail_relayed(logged, problem, &[])
    }

    /// As [`AuditGate::fail`], listing the relay messages the session sent and received.
    pub fn fail_relayed(
        &self,
        logged: &Logged<AuthorisedQuery>,
        problem: &NodeError,
        relay_digests: &[String],
    ) -> tonic::Status {
        tracing::error!(error = %problem, "an admitted query failed");
        let env = logged.query().checked().envelope();
        let reason = "the node could not complete the answer; nothing was released";
        let entry = pb::AuditEntry {
            relay_digests: relay_digests.to_vec(),
            ..after_admission(logged, pb::Decision::Error, "node.internal", reason.into())
        };
        // Not a refusal: no refusal header, only the receipt.
        self.status_with_receipt_parts(
            tonic::Code::Internal,
            reason,
            None,
            entry,
            None,
            env.known_log_size,
        )
    }

    /// A privacy-budget balance, in millionths of ε.
    pub fn balance(&self, key: &BudgetKey) -> Result<u64, NodeError> {
        Ok(self.lock()?.balance(key)?)
    }

    /// Milliseconds since the epoch by the node's clock.
    pub fn now_ms(&self) -> i64 {
        self.clock.now().0
    }

    /// Runs `f` on the log under its lock. For the witness (`witness::member`), which keeps
    /// cosignatures of this log beside it and reads what to send witnesses; entries it writes
    /// are its alarms.
    pub fn with_log<T>(
        &self,
        f: impl FnOnce(&mut AuditLog) -> Result<T, StoreError>,
    ) -> Result<T, NodeError> {
        let mut log = self.lock()?;
        Ok(f(&mut log)?)
    }
}

/// Starts the thread that fills the subject index from new payloads, a chunk at a time so an
/// append never waits long for the lock; it runs once at once (payloads an earlier run left
/// pending) and again after each wake-up. `None` if the thread cannot start: searches then
/// index what they need themselves.
fn start_indexer(log: Arc<Mutex<AuditLog>>) -> Option<mpsc::Sender<()>> {
    let (wake, woken) = mpsc::channel::<()>();
    let _ = wake.send(());
    // A weak handle: when the gate is dropped at shutdown the log closes at once (SQLite then
    // checkpoints its WAL into audit.db), rather than when this thread next wakes.
    let log = Arc::downgrade(&log);
    std::thread::Builder::new()
        .name("audit-subject-index".into())
        .spawn(move || {
            while woken.recv().is_ok() {
                while woken.try_recv().is_ok() {}
                loop {
                    let Some(log) = log.upgrade() else { return };
                    let more = match log.lock() {
                        Ok(log) => log.index_pending_payloads(),
                        Err(_) => return,
                    };
                    match more {
                        Ok(true) => continue,
                        Ok(false) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, "could not index audit payloads yet");
                            break;
                        }
                    }
                }
            }
        })
        .ok()
        .map(|_| wake)
}

/// The ERASURE entry for a retention sweep run by `actor` (the node at start-up, or an
/// operator).
fn erasure_entry(erasure: &Erasure, actor: pb::Actor) -> pb::AuditEntry {
    pb::AuditEntry {
        event_type: pb::EventType::Erasure as i32,
        decision: pb::Decision::Allowed as i32,
        rule: "policy.audit.payload_retention_days".into(),
        reason: "payload retention ended".into(),
        actor: Some(actor),
        detail: format!(
            "erased the payloads (subject tokens) of {} entries from entry {} to entry {} \
             whose retention had ended; the entries themselves still verify",
            erasure.count, erasure.first_index, erasure.last_index
        ),
        ..Default::default()
    }
}

/// The actor of something done on the node itself: by the node (`operator` `None`), or by an
/// operator at its command line.
pub fn local_actor(member: &str, organisation: &str, operator: Option<&str>) -> pb::Actor {
    pb::Actor {
        member: member.to_string(),
        auth_method: "local".into(),
        requester: operator.map(|operator| pb::Requester {
            officer_id: operator.to_string(),
            role: "node operator".into(),
            organisation: organisation.to_string(),
        }),
        ..Default::default()
    }
}

/// The entry for an admitted query that ends without an answer (refused or failed), pointing
/// back to the entry that admitted it.
fn after_admission(
    logged: &Logged<AuthorisedQuery>,
    decision: pb::Decision,
    rule: &str,
    reason: String,
) -> pb::AuditEntry {
    let checked = logged.query().checked();
    let env = checked.envelope();
    pb::AuditEntry {
        event_type: pb::EventType::Consultation as i32,
        decision: decision as i32,
        rule: rule.into(),
        reason,
        actor: Some(actor(Some(checked.peer()), None, Some(env))),
        query: Some(query_record(env, checked.hash())),
        request_index: Some(logged.request_index()),
        ..Default::default()
    }
}

/// The DISCLOSURE entry for what leaves in answer to a logged query.
fn disclosure_entry(logged: &Logged<AuthorisedQuery>, output: pb::OutputRecord) -> pb::AuditEntry {
    let checked = logged.query().checked();
    let env = checked.envelope();
    pb::AuditEntry {
        event_type: pb::EventType::Disclosure as i32,
        decision: pb::Decision::Allowed as i32,
        rule: output.disclosure_rule.clone(),
        reason: format!("{} answer released", env.mode.name()),
        actor: Some(actor(Some(checked.peer()), None, Some(env))),
        query: Some(query_record(env, checked.hash())),
        output: Some(output),
        recipients: vec![env.coordinator.clone()],
        request_index: Some(logged.request_index()),
        ..Default::default()
    }
}

fn actor(
    peer: Option<&AuthenticatedPeer>,
    evidence: Option<&PeerEvidence>,
    env: Option<&Envelope>,
) -> pb::Actor {
    let (member, fingerprint, auth_method) = match (peer, evidence) {
        (Some(p), _) => (p.member().name.clone(), p.fingerprint().to_string(), "mtls+ed25519"),
        (None, Some(e)) => (
            e.member.clone().unwrap_or_default(),
            e.fingerprint.clone().unwrap_or_default(),
            if e.fingerprint.is_some() { "mtls" } else { "none" },
        ),
        (None, None) => (String::new(), String::new(), "none"),
    };
    pb::Actor {
        member,
        cert_fingerprint: fingerprint,
        auth_method: auth_method.into(),
        requester: env.map(|e| requester_to_pb(&e.requester)),
    }
}

fn query_record(env: &Envelope, envelope_hash: [u8; 32]) -> pb::QueryRecord {
    pb::QueryRecord {
        query_id: env.query_id.as_bytes().to_vec(),
        session_id: env.session_id.as_bytes().to_vec(),
        envelope_hash: envelope_hash.to_vec(),
        mode: mode_to_pb(env.mode) as i32,
        role: role_to_pb(env.role) as i32,
        audience: env.audience.clone(),
        coordinator: env.coordinator.clone(),
        purpose: env.purpose.clone(),
        lawful_basis: Some(lawful_basis_to_pb(&env.lawful_basis)),
        dsa_ref: env.dsa_ref.clone(),
        case_ref: env.case_ref.clone().unwrap_or_default(),
        justification: env.justification.clone(),
        authoriser_id: env
            .authorisation
            .as_ref()
            .map(|a| a.authoriser_id.clone())
            .unwrap_or_default(),
        issued_at_ms: env.issued_at.0,
        expires_at_ms: env.expires_at.0,
        participants: env
            .participants
            .iter()
            .map(|p| pb::Participant { member: p.member.clone(), role: role_to_pb(p.role) as i32 })
            .collect(),
    }
}
