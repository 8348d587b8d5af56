//! The coordinator's core: build and sign envelopes, log every query it issues in its own audit
//! log *before* sending it, and verify, store, cosign and log every receipt that comes back.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};

use fedlink_proto::audit::cosignature::Cosigner;
use fedlink_proto::audit::store::AuditLog;
use fedlink_proto::clock::{Clock, SystemClock, UnixMillis};
use fedlink_proto::envelope::{
    Envelope, Mode, NodeRole, Participant, QueryBody, QueryId, SessionId, lawful_basis_to_pb,
    mode_to_pb, requester_to_pb, role_to_pb, sha256,
};
use fedlink_proto::federation::{Member, MemberRole};
use fedlink_proto::link::{LinkKind, LinkRequest};
use fedlink_proto::pb;
use fedlink_proto::witness::member_cosigner_name;

use crate::client::ClientTls;
use crate::config::CoordinatorSettings;
use crate::error::CoordinatorError;
use crate::receipts::{ReceiptStore, VerifiedReceipt, verify_receipt};

/// Per-command changes to the configured query defaults.
#[derive(Debug, Clone, Default)]
pub struct QueryOverrides {
    /// Use this purpose code instead of the configured one.
    pub purpose: Option<String>,
    /// The case reference to state (person-level modes need one by policy).
    pub case_ref: Option<String>,
}

/// An open coordinator: settings, its audit log and its receipt store.
pub struct Coordinator {
    /// Config, keys and federation.
    settings: CoordinatorSettings,
    /// The coordinator's own audit log. A std mutex: held only for one short SQLite write.
    log: Mutex<AuditLog>,
    /// Verified node checkpoints and receipts.
    receipts: Mutex<ReceiptStore>,
    /// Time source for envelopes and log entries.
    clock: Arc<dyn Clock>,
    /// The coordinator as a witness of node logs: it cosigns every node checkpoint whose
    /// receipt it verified (consistency with the last one it saw included).
    cosigner: Cosigner,
    /// Nodes whose receipts this command verified: at its end they are sent the coordinator's
    /// checkpoint to cosign and its cosignatures of theirs ([`crate::witness`]).
    contacted: Mutex<BTreeSet<String>>,
}

impl Coordinator {
    /// Opens the coordinator's log and receipt store in its data folder.
    pub fn open(settings: CoordinatorSettings) -> Result<Self, CoordinatorError> {
        Self::open_with_clock(settings, Arc::new(SystemClock::new()))
    }

    /// As [`Coordinator::open`], with a given clock.
    pub fn open_with_clock(
        settings: CoordinatorSettings,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, CoordinatorError> {
        std::fs::create_dir_all(&settings.data_dir).map_err(|source| CoordinatorError::Read {
            what: "the data folder",
            path: settings.data_dir.clone(),
            source,
        })?;
        let origin = settings.me.log_origin(&settings.federation.name);
        // The log signs with its own copy of the identity key; the settings keep theirs for
        // envelopes.
        let log_key =
            settings.identity.try_clone().map_err(|e| CoordinatorError::Store(e.to_string()))?;
        let log = AuditLog::open(
            &settings.data_dir.join("audit.db"),
            &origin,
            log_key,
            Arc::clone(&clock),
        )?;
        let receipts = ReceiptStore::open(&settings.data_dir.join("receipts.db"))?;
        let cosigner_key =
            settings.identity.try_clone().map_err(|e| CoordinatorError::Store(e.to_string()))?;
        let cosigner = Cosigner::new(
            &member_cosigner_name(&settings.federation.name, &settings.me.name),
            cosigner_key,
        )
        .map_err(|e| CoordinatorError::Store(e.to_string()))?;
        Ok(Self {
            settings,
            log: Mutex::new(log),
            receipts: Mutex::new(receipts),
            clock,
            cosigner,
            contacted: Mutex::new(BTreeSet::new()),
        })
    }

    /// The settings.
    pub fn settings(&self) -> &CoordinatorSettings {
        &self.settings
    }

    /// The TLS material for connecting to nodes.
    pub fn client_tls(&self) -> ClientTls {
        ClientTls {
            ca_pem: self.settings.ca_pem.clone(),
            cert_pem: Some(self.settings.cert_pem.clone()),
            key_pem: Some(self.settings.key_pem.clone()),
        }
    }

    /// The coordinator's own audit log. Held only for short SQLite calls, never across an
    /// await.
    pub(crate) fn log(&self) -> Result<MutexGuard<'_, AuditLog>, CoordinatorError> {
        self.log.lock().map_err(|_| CoordinatorError::Store("audit log lock poisoned".into()))
    }

    /// The receipt store. Held only for short SQLite calls, never across an await.
    pub(crate) fn receipts(&self) -> Result<MutexGuard<'_, ReceiptStore>, CoordinatorError> {
        self.receipts.lock().map_err(|_| CoordinatorError::Store("receipt lock poisoned".into()))
    }

    /// The nodes whose receipts were verified since this coordinator was opened, by name.
    pub fn contacted_nodes(&self) -> Vec<String> {
        self.contacted.lock().map(|c| c.iter().cloned().collect()).unwrap_or_default()
    }

    /// Milliseconds since the epoch by the coordinator's clock.
    pub(crate) fn now_ms(&self) -> i64 {
        self.clock.now().0
    }

    /// Builds an envelope for one node answering alone.
    pub fn envelope_for(
        &self,
        node: &Member,
        mode: Mode,
        body: QueryBody,
        overrides: &QueryOverrides,
    ) -> Result<Envelope, CoordinatorError> {
        let ids = self.fresh_ids()?;
        let alone = vec![Participant { member: node.name.clone(), role: NodeRole::Responder }];
        let envelope =
            self.envelope(&node.name, NodeRole::Responder, alone, body, overrides, ids)?;
        Ok(Envelope { mode, ..envelope })
    }

    /// Builds one envelope per participant of a linked query, in schedule order.
    ///
    /// `roles` is the schedule: every participant with its role, the computing node last
    /// (count and flag-back: the cohort node, then the computing node; overlap: the blinders in
    /// ring order, then the computing node). The envelopes differ only in audience, role and
    /// the log size last seen of the audience, so their [`Envelope::shared_digest`]s are equal:
    /// nodes bind that digest into their relay handshake, and a coordinator that told two nodes
    /// different things under one query id could not pair them.
    ///
    /// Refuses a schedule that does not fit the query: a participant that is not a node of the
    /// federation or has no side (or a side without a participant), a member twice, or roles
    /// that do not match the kind. Nothing is logged here; each envelope is logged when it is
    /// [issued](Self::issue_all).
    pub fn envelopes_for_link(
        &self,
        request: &LinkRequest,
        roles: &[(String, NodeRole)],
        overrides: &QueryOverrides,
    ) -> Result<Vec<Envelope>, CoordinatorError> {
        self.check_schedule(request, roles)?;
        // What the node will parse must be what the coordinator means: a request the proto
        // crate would refuse is refused here, before anything is logged or sent.
        LinkRequest::from_pb(request.to_pb(), request.kind.mode())
            .map_err(|e| CoordinatorError::Plan(e.to_string()))?;
        let participants: Vec<Participant> = roles
            .iter()
            .map(|(member, role)| Participant { member: member.clone(), role: *role })
            .collect();
        // A flag-back releases person-level facts: the authoriser's own key signs it (F12,
        // F15), and every node checks that signature against the federation file.
        let authoriser = match (request.kind, &self.settings.authoriser) {
            (LinkKind::FlagBack, None) => {
                return Err(CoordinatorError::Plan(
                    "a flag-back needs an authoriser: add [authoriser] (id, role, key) to the \
                     coordinator config"
                        .into(),
                ));
            }
            (LinkKind::FlagBack, Some(a)) => Some(a),
            _ => None,
        };
        let ids = self.fresh_ids()?;
        roles
            .iter()
            .map(|(member, role)| {
                let body = QueryBody::Link(request.clone());
                let mut envelope =
                    self.envelope(member, *role, participants.clone(), body, overrides, ids)?;
                if let Some(a) = authoriser {
                    envelope.authorise(&a.id, &a.role, &a.key);
                }
                Ok(envelope)
            })
            .collect()
    }

    /// Checks a linked query's schedule against its request and the federation.
    fn check_schedule(
        &self,
        request: &LinkRequest,
        roles: &[(String, NodeRole)],
    ) -> Result<(), CoordinatorError> {
        let plan = |problem: String| CoordinatorError::Plan(problem);
        let federation = &self.settings.federation;
        let mut seen = std::collections::BTreeSet::new();
        for (member, _) in roles {
            if !federation.member(member).is_some_and(|m| m.role == MemberRole::Node) {
                return Err(plan(format!(
                    "{member:?} is not a node of federation {:?}",
                    federation.name
                )));
            }
            if !seen.insert(member.as_str()) {
                return Err(plan(format!("{member:?} is scheduled twice")));
            }
            if request.side(member).is_none() {
                return Err(plan(format!("participant {member:?} contributes no side")));
            }
        }
        if let Some(side) = request.sides.iter().find(|s| !seen.contains(s.member.as_str())) {
            return Err(plan(format!("side {:?} is not a participant", side.member)));
        }
        let listed: Vec<NodeRole> = roles.iter().map(|(_, role)| *role).collect();
        let fits = match request.kind {
            LinkKind::Count | LinkKind::FlagBack | LinkKind::Calibrate => {
                listed == [NodeRole::Cohort, NodeRole::Computing]
            }
            LinkKind::Overlap => {
                listed.len() >= 3
                    && listed.last() == Some(&NodeRole::Computing)
                    && listed[..listed.len() - 1].iter().all(|r| *r == NodeRole::Blinder)
            }
        };
        if !fits {
            return Err(plan(format!(
                "a {} query is scheduled {}, not {listed:?}",
                request.kind.mode().name(),
                match request.kind {
                    LinkKind::Count | LinkKind::FlagBack | LinkKind::Calibrate => {
                        "[Cohort, Computing]"
                    }
                    LinkKind::Overlap => "as two or more Blinders, then one Computing node",
                }
            )));
        }
        Ok(())
    }

    /// A fresh query id, session id and issue time: one set per query, shared by all its
    /// envelopes.
    fn fresh_ids(&self) -> Result<(QueryId, SessionId, UnixMillis), CoordinatorError> {
        let now = self.clock.now();
        let session = SessionId::random().map_err(|e| CoordinatorError::Store(e.to_string()))?;
        Ok((QueryId::new_v7(now), session, now))
    }

    /// One envelope with the configured defaults (requester, purpose, lawful basis, DSA,
    /// justification, lifetime), the mode of its body, and the log size last verified of its
    /// audience.
    fn envelope(
        &self,
        audience: &str,
        role: NodeRole,
        participants: Vec<Participant>,
        body: QueryBody,
        overrides: &QueryOverrides,
        (query_id, session_id, now): (QueryId, SessionId, UnixMillis),
    ) -> Result<Envelope, CoordinatorError> {
        let q = &self.settings.query;
        let known = self.receipts()?.known(audience)?;
        Ok(Envelope {
            query_id,
            session_id,
            audience: audience.to_string(),
            role,
            mode: body.mode(),
            participants,
            issued_at: now,
            expires_at: now.plus_ms(i64::from(q.envelope_lifetime_s) * 1000),
            coordinator: self.settings.me.name.clone(),
            requester: self.settings.requester.clone(),
            purpose: overrides.purpose.clone().unwrap_or_else(|| q.purpose.clone()),
            lawful_basis: q.lawful_basis.clone(),
            dsa_ref: q.dsa_ref.clone(),
            case_ref: overrides.case_ref.clone(),
            justification: q.justification.clone(),
            authorisation: None,
            known_log_size: known.map_or(0, |k| k.size),
            body,
        })
    }

    /// Logs the query as issued, then signs it. Nothing is sent that is not in the log.
    pub fn issue(&self, envelope: &Envelope) -> Result<pb::SignedEnvelope, CoordinatorError> {
        self.log_issued(envelope, true)
    }

    /// Logs every envelope of one multi-node query as issued (one QUERY_ISSUED entry each) and
    /// signs them, in order. The query id is claimed once, by the first entry: the log refuses
    /// a second claim of an id, which is what keeps the coordinator from ever reusing one.
    /// Envelopes of different queries are refused before anything is logged.
    pub fn issue_all(
        &self,
        envelopes: &[Envelope],
    ) -> Result<Vec<pb::SignedEnvelope>, CoordinatorError> {
        if let Some(first) = envelopes.first()
            && envelopes.iter().any(|e| e.query_id != first.query_id)
        {
            return Err(CoordinatorError::Plan("envelopes of different queries".into()));
        }
        envelopes.iter().enumerate().map(|(i, e)| self.log_issued(e, i == 0)).collect()
    }

    /// Appends the QUERY_ISSUED entry of one envelope, claiming its query id if `claim`, and
    /// returns the envelope signed.
    fn log_issued(
        &self,
        envelope: &Envelope,
        claim: bool,
    ) -> Result<pb::SignedEnvelope, CoordinatorError> {
        let signed = envelope.sign(&self.settings.identity);
        let entry = pb::AuditEntry {
            event_type: pb::EventType::QueryIssued as i32,
            decision: pb::Decision::Allowed as i32,
            rule: "coordinator.issue".into(),
            reason: format!("{} query sent to {}", envelope.mode.name(), envelope.audience),
            actor: Some(pb::Actor {
                member: self.settings.me.name.clone(),
                auth_method: "local".into(),
                requester: Some(requester_to_pb(&envelope.requester)),
                ..Default::default()
            }),
            query: Some(pb::QueryRecord {
                query_id: envelope.query_id.as_bytes().to_vec(),
                session_id: envelope.session_id.as_bytes().to_vec(),
                envelope_hash: sha256(&signed.envelope).to_vec(),
                mode: mode_to_pb(envelope.mode) as i32,
                role: role_to_pb(envelope.role) as i32,
                audience: envelope.audience.clone(),
                coordinator: envelope.coordinator.clone(),
                purpose: envelope.purpose.clone(),
                lawful_basis: Some(lawful_basis_to_pb(&envelope.lawful_basis)),
                dsa_ref: envelope.dsa_ref.clone(),
                case_ref: envelope.case_ref.clone().unwrap_or_default(),
                justification: envelope.justification.clone(),
                issued_at_ms: envelope.issued_at.0,
                expires_at_ms: envelope.expires_at.0,
                participants: envelope
                    .participants
                    .iter()
                    .map(|p| pb::Participant {
                        member: p.member.clone(),
                        role: role_to_pb(p.role) as i32,
                    })
                    .collect(),
                ..Default::default()
            }),
            recipients: vec![envelope.audience.clone()],
            ..Default::default()
        };
        self.log()?.append(entry, claim.then(|| *envelope.query_id.as_bytes()))?;
        Ok(signed)
    }

    /// Verifies a node's receipt for `query_id`, checks the logged result hash when the answer
    /// came with a body, stores it and logs RESULT_RECEIVED.
    pub fn accept_receipt(
        &self,
        node: &Member,
        query_id: &QueryId,
        receipt: &pb::Receipt,
        result_hash: Option<[u8; 32]>,
    ) -> Result<VerifiedReceipt, CoordinatorError> {
        let fail = |problem: String| CoordinatorError::Receipt { node: node.name.clone(), problem };
        let known = self.receipts()?.known(&node.name)?;
        let verified =
            verify_receipt(receipt, node, &self.settings.federation.name, known.as_ref())?;
        let logged_query = verified.entry.query.as_ref().map(|q| q.query_id.as_slice());
        // A replay refusal is logged before the envelope is trusted, so it may carry no id.
        if logged_query.is_some_and(|q| !q.is_empty() && q != query_id.as_bytes()) {
            return Err(fail("the receipt's entry is for another query".into()));
        }
        if let Some(expected) = result_hash {
            let logged = verified.entry.output.as_ref().map(|o| o.result_hash.as_slice());
            if logged != Some(expected.as_slice()) {
                return Err(fail(
                    "the logged result hash does not match the answer received".into(),
                ));
            }
        }
        let now = self.clock.now().0;
        // Witness semantics (tlog-witness): the receipt's checkpoint is consistent with the
        // last one seen of this node (verify_receipt checked), so the coordinator cosigns it.
        let cosignature = self
            .cosigner
            .cosign(&verified.checkpoint, u64::try_from(now / 1000).unwrap_or(0))
            .map_err(|e| CoordinatorError::Store(e.to_string()))?
            .to_line();
        self.receipts()?.record(&node.name, query_id.as_bytes(), &verified, &cosignature, now)?;
        if let Ok(mut contacted) = self.contacted.lock() {
            contacted.insert(node.name.clone());
        }
        let entry = pb::AuditEntry {
            event_type: pb::EventType::ResultReceived as i32,
            decision: verified.entry.decision,
            rule: "coordinator.receipt_verified".into(),
            reason: format!("receipt for entry {} verified", verified.leaf_index),
            actor: Some(pb::Actor {
                member: node.name.clone(),
                auth_method: "mtls+ed25519".into(),
                ..Default::default()
            }),
            query: Some(pb::QueryRecord {
                query_id: query_id.as_bytes().to_vec(),
                audience: node.name.clone(),
                ..Default::default()
            }),
            output: Some(pb::OutputRecord {
                result_hash: result_hash.map(|h| h.to_vec()).unwrap_or_default(),
                node_log_size: verified.checkpoint.size,
                node_log_root: verified.checkpoint.root.0.to_vec(),
                ..Default::default()
            }),
            ..Default::default()
        };
        self.log()?.append(entry, None)?;
        Ok(verified)
    }
}
