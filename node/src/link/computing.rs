//! The partner and computing node B (design-review §8 steps 3–6; F3, F4, F6, F8, F12): checks
//! A's M1 (signed descriptor, accepted source, sizes, labels, points) and reblinds it with its
//! own scalar, sends its own tuples as M2, checks M3 against M2 (same size, same label
//! multiset, valid distinct points), matches the two doubly-blinded sides one-to-one and
//! releases a DP-noised, protected table — or, for a flag-back, one flag and one label per M1
//! tuple in M1's order, only after an operator here approved the request. With a `matcher`
//! in its rule it links with its stored calibrated model and releases the model's quality
//! estimates too; a calibration run ends instead by fitting a new model and storing it
//! (issue 6, F18), releasing nothing but its version and digest.

use std::sync::Arc;
use std::thread::JoinHandle;

use fedlink_proto::blind::{BlindedPoint, BlindingKey};
use fedlink_proto::envelope::sha256;
use fedlink_proto::link::LinkKind;
use fedlink_proto::pb;
use fedlink_proto::refusal::Refusal;
use fedlink_proto::relay::{Handshake, SecureChannel};

use super::inputs::{check_cap, dummy_counts, max_tuples, read_side};
use super::plan::LinkPlan;
use super::release::linked_table;
use super::wire::{
    self, decode_batch, decode_batch_to_compare, encode_batch, encode_flags, payload, read_payload,
};
use super::{StepError, Stepped, digest_line, finish_handshake, open_one, peer_key, seal};
use crate::approvals::{ApprovalRequest, ApprovalState, ApprovalStore};
use crate::error::NodeError;
use crate::gate::Logged;
use crate::linkage::calibration::{Calibration, WithinFile};
use crate::linkage::subjects::{Labelling, partner_subjects};
use crate::linkage::{
    BlindedTuple, Label, Matcher, Side, Tuple, UniqueKeyPasses, blind_tuples, build_tuples,
    dummy_tuples, same_label_multiset,
};
use crate::policy::AuthorisedQuery;
use crate::privacy::OsRandom;
use crate::state::NodeState;
use crate::subject_tokens::PendingTokens;
use fedlink_proto::audit::payload::SubjectToken;

/// How often a pending flag-back looks for the operator's decision.
const APPROVAL_POLL: std::time::Duration = std::time::Duration::from_millis(250);

/// What B keeps between M2 and M3. No `Debug`: doubly-blinded cohort points.
struct AfterM2 {
    /// A's tuples times b, in M1's order (flags go back in this order).
    cohort: Vec<BlindedTuple>,
    /// The labels of B's tuples as sent in M2 (real and dummy), for the multiset check.
    m2_labels: Vec<Label>,
    /// Tuples in M1 and M2, for the released sizes.
    m1_len: usize,
    /// For a calibration run: B's own within-file statistics, from its plaintext subjects.
    within: Option<WithinFile>,
}

enum Phase {
    Hello(Handshake),
    Cohort(SecureChannel),
    Reblinded(SecureChannel, Box<AfterM2>),
    Done,
}

/// B's own tuples for M2, blinded under its scalar and sorted (with its within-file statistics
/// in a calibration run), and the subject tokens of its side; or why they could not be.
type OwnTuples = Result<(Vec<BlindedTuple>, Option<WithinFile>, Vec<SubjectToken>), StepError>;

/// B's session. No `Debug`: it holds the scalar.
pub struct ComputingSession {
    logged: Logged<AuthorisedQuery>,
    /// Shared with the thread that blinds B's own tuples.
    plan: Arc<LinkPlan>,
    /// Shared with the thread that blinds B's own tuples; zeroised when the last holder drops.
    key: Arc<BlindingKey>,
    phase: Phase,
    digests: Vec<String>,
    /// B's own tuples, being built and blinded on a thread started at LinkOpen (`None` once
    /// taken, or if the thread could not be started: then they are made in the M1 step).
    own: Option<JoinHandle<OwnTuples>>,
}

impl ComputingSession {
    /// A fresh session with a fresh scalar from the OS CSPRNG. Starts building and blinding
    /// B's own tuples (M2) at once, on a thread of its own: they depend on nothing A sends,
    /// and blinding them while A blinds M1 keeps both cores busy where the relay would
    /// otherwise leave B idle for the whole of A's first step. Nothing of them leaves B before
    /// M1 has passed every check (step 3); a refusal of B's own side (its cap, its label
    /// classes) is raised there too, after M1's checks, as when B built them in that step.
    pub fn open(
        state: &Arc<NodeState>,
        logged: Logged<AuthorisedQuery>,
        plan: LinkPlan,
        handshakes: Vec<Handshake>,
    ) -> Result<Self, String> {
        let (handshake, key) = super::two_sided_start(handshakes)?;
        let (plan, key) = (Arc::new(plan), Arc::new(key));
        let session_id = *logged.query().checked().envelope().session_id.as_bytes();
        let own = {
            let (state, plan, key) = (Arc::clone(state), Arc::clone(&plan), Arc::clone(&key));
            std::thread::Builder::new()
                .name("link-own-tuples".into())
                .spawn(move || own_tuples(&state, &plan, &key, &session_id))
                .ok()
        };
        Ok(Self { logged, plan, key, phase: Phase::Hello(handshake), digests: Vec::new(), own })
    }

    /// The admitted query this session serves.
    pub fn logged(&self) -> &Logged<AuthorisedQuery> {
        &self.logged
    }

    /// The digest lines of every relay message this session sent and received so far.
    pub fn digests(&self) -> &[String] {
        &self.digests
    }

    /// One relay step. The hello and M1 may come in one step or two.
    pub fn step(
        &mut self,
        state: &NodeState,
        mut hellos: Vec<pb::RelayHello>,
        mut messages: Vec<pb::RelayMessage>,
    ) -> Result<Stepped, StepError> {
        if let Phase::Hello(_) = self.phase
            && let Phase::Hello(handshake) = std::mem::replace(&mut self.phase, Phase::Done)
        {
            let channel = finish_handshake(state, handshake, &mut hellos)?;
            self.phase = Phase::Cohort(channel);
            if messages.is_empty() {
                return Ok(Stepped { outgoing: Vec::new(), outcome: None });
            }
        }
        if !hellos.is_empty() {
            return Err(protocol("linkage.session", "a hello arrived after the handshake"));
        }
        match std::mem::replace(&mut self.phase, Phase::Done) {
            Phase::Cohort(mut channel) => {
                let (m2, after) = self.answer_cohort(state, &mut channel, &mut messages)?;
                self.phase = Phase::Reblinded(channel, Box::new(after));
                Ok(Stepped { outgoing: vec![m2], outcome: None })
            }
            Phase::Reblinded(mut channel, after) => {
                self.finish_query(state, &mut channel, &mut messages, *after)
            }
            Phase::Hello(_) | Phase::Done => {
                Err(protocol("linkage.session", "this session has no further steps"))
            }
        }
    }

    /// Checks M1, keeps b·M1, sends M2.
    fn answer_cohort(
        &mut self,
        state: &NodeState,
        channel: &mut SecureChannel,
        messages: &mut Vec<pb::RelayMessage>,
    ) -> Result<(pb::RelayMessage, AfterM2), StepError> {
        let plan = &self.plan;
        let mut timer = super::StepTimer::start("computing M1 to M2");
        let env = self.logged.query().checked().envelope();
        let plaintext = open_one(channel, messages, &mut self.digests)?;
        timer.phase("open and decode");
        let pb::link_payload::Body::Cohort(m1) = read_payload(&plaintext)? else {
            return Err(protocol("linkage.message", "step 1 must carry the cohort (M1)"));
        };
        let peer = channel.context().peer().to_string();
        let descriptor =
            wire::open_descriptor(&m1.descriptor, &m1.signature, &peer_key(state, &peer)?)?;
        let cohort_side = plan.request.side(&peer).ok_or_else(|| {
            protocol("linkage.message", "the cohort node has no side in the query")
        })?;
        let batch = m1.tuples.ok_or_else(|| protocol("linkage.message", "M1 carries no tuples"))?;
        let claimed = batch.labels.len() / 2;
        if descriptor.query_id.as_slice() != env.query_id.as_bytes()
            || descriptor.session_id.as_slice() != env.session_id.as_bytes()
            || descriptor.query_digest.as_slice() != env.shared_digest()
            || descriptor.member != peer
            || descriptor.dataset != cohort_side.dataset
            || usize::try_from(descriptor.tuples).ok() != Some(claimed)
        {
            return Err(protocol(
                "linkage.descriptor",
                "the cohort descriptor does not match this query, its sender or its tuples",
            ));
        }
        if !plan.rule.accepts_cohort(&descriptor.member, &descriptor.dataset) {
            return Err(StepError::Refused(Refusal::LinkageNotAllowed {
                rule: "policy.linkage.cohort_sources",
                problem: format!(
                    "{}/{} is not an accepted cohort",
                    descriptor.member, descriptor.dataset
                ),
            }));
        }
        let max = match (plan.request.kind, &plan.rule.flag_back) {
            (LinkKind::FlagBack, Some(f)) => f.max_rows_per_case as usize,
            _ => max_tuples(plan.rule.max_subjects_per_query as usize, &plan.labels),
        };
        let cohort = decode_batch(batch, &plan.cohort_layout, &plan.labels, max, Some(&self.key))?;
        timer.phase("check and reblind M1");

        let session_id = *env.session_id.as_bytes();
        let (m2, within, subjects) = match self.own.take() {
            Some(thread) => thread.join().map_err(|_| {
                NodeError::Internal("the thread blinding this node's tuples panicked".into())
            })??,
            None => own_tuples(state, plan, &self.key, &session_id)?,
        };
        timer.phase("wait for own tuples");
        let layout = &plan.partner_layout;
        let body = pb::link_payload::Body::PartnerTuples(encode_batch(&m2, layout));
        let (message, digest) = seal(channel, &payload(body))?;
        timer.phase("encode and seal");
        self.digests.push(digest_line(&message, &digest));
        let output = pb::OutputRecord {
            output_class: "LINKAGE_BLINDED".into(),
            result_hash: digest.to_vec(),
            records_released: m2.len() as u64,
            disclosure_rule: "blinded;unique-or-random;slots-permuted;padded;sorted".into(),
            ..Default::default()
        };
        let detail = format!(
            "M1 from {peer} ({} tuples, descriptor sha256 {}) accepted; M2 sent: {} tuples (padded; \
             the real count is not logged, F5)",
            cohort.len(),
            super::cohort::hex(&sha256(&m1.descriptor)),
            m2.len(),
        );
        // The M2 entry names every person of B's side (subject search, issue 7).
        state.audit.disclose_linked_concerning(
            &self.logged,
            output,
            vec![peer],
            detail,
            &self.digests,
            subjects,
        )?;
        let after = AfterM2 {
            m1_len: cohort.len(),
            m2_labels: m2.iter().map(|t| t.label().clone()).collect(),
            cohort,
            within,
        };
        Ok((message, after))
    }

    /// Checks M3, matches, and releases the table or the flags.
    fn finish_query(
        &mut self,
        state: &NodeState,
        channel: &mut SecureChannel,
        messages: &mut Vec<pb::RelayMessage>,
        after: AfterM2,
    ) -> Result<Stepped, StepError> {
        let plan = &self.plan;
        let mut timer = super::StepTimer::start("computing M3 to result");
        let plaintext = open_one(channel, messages, &mut self.digests)?;
        timer.phase("open and decode");
        let pb::link_payload::Body::Reblinded(batch) = read_payload(&plaintext)? else {
            return Err(protocol("linkage.message", "step 3 must carry M2 reblinded (M3)"));
        };
        // M3's points are only compared with b·M1, which B computed itself: every check but
        // decoding each point (see `decode_batch_to_compare`).
        let m3 = decode_batch_to_compare(
            batch,
            &plan.partner_layout,
            &plan.labels,
            after.m2_labels.len(),
        )?;
        let received: Vec<Label> = m3.iter().map(|t| t.label().clone()).collect();
        if !same_label_multiset(&after.m2_labels, &received) {
            return Err(protocol(
                "linkage.tuples",
                "M3 does not carry M2's tuples: its size or its label multiset changed",
            ));
        }
        let cohort_labels: Vec<Label> = after.cohort.iter().map(|t| t.label().clone()).collect();
        let partner_labels = received;
        let cohort: Vec<Tuple<BlindedPoint>> =
            after.cohort.into_iter().map(BlindedTuple::into_tuple).collect();
        let partner: Vec<Tuple<BlindedPoint>> =
            m3.into_iter().map(BlindedTuple::into_tuple).collect();
        timer.phase("check M3");
        let cohort_side = Side { layout: &plan.cohort_layout, tuples: &cohort };
        let partner_side = Side { layout: &plan.partner_layout, tuples: &partner };
        let peer = channel.context().peer().to_string();
        if plan.request.kind == LinkKind::Calibrate {
            let within = after.within.ok_or_else(|| {
                protocol("linkage.session", "a calibration run kept no within-file statistics")
            })?;
            return self.store_calibration(state, &peer, cohort_side, partner_side, &within);
        }
        let (linkage, estimated) = match &plan.calibration {
            Some(model) => {
                let scored =
                    model.stored.model.matcher()?.link_scored(cohort_side, partner_side)?;
                (scored.linkage, Some(scored.quality))
            }
            None => (UniqueKeyPasses.link(cohort_side, partner_side)?, None),
        };
        timer.phase("match");

        if plan.request.kind == LinkKind::FlagBack {
            let mut flags: Vec<Option<Label>> = vec![None; cohort.len()];
            for pair in linkage.pairs() {
                if let (Some(flag), Some(label)) =
                    (flags.get_mut(pair.cohort), partner_labels.get(pair.partner))
                {
                    *flag = Some(label.clone());
                }
            }
            let approver = self.await_approval(state, cohort.len())?;
            let list = encode_flags(&flags);
            let (message, digest) = seal(channel, &payload(pb::link_payload::Body::Flags(list)))?;
            self.digests.push(digest_line(&message, &digest));
            let output = pb::OutputRecord {
                output_class: "FLAG_BACK".into(),
                // B's part ends here: the entry commits to its contribution record, which
                // lists the flags message's digest with the others.
                result_hash: super::cohort::contribution_hash(&self.digests).to_vec(),
                records_released: flags.len() as u64,
                disclosure_rule: "flag-back;one-flag-one-label-per-row;approved".into(),
                ..Default::default()
            };
            let detail = format!(
                "flags for {} cohort rows sent to {peer}, approved by {approver}",
                flags.len(),
            );
            let receipt = state.audit.disclose_linked(
                &self.logged,
                output,
                vec![peer],
                detail,
                &self.digests,
                None,
            )?;
            let outcome = pb::LinkOutcome {
                result: Some(pb::link_outcome::Result::Contributed(pb::LinkContribution {
                    digests: self.digests.clone(),
                })),
                receipt: Some(receipt),
            };
            return Ok(Stepped { outgoing: vec![message], outcome: Some(outcome) });
        }

        let sizes = vec![
            pb::SideSize { member: peer.clone(), tuples: after.m1_len as u64 },
            pb::SideSize { member: state.me.name.clone(), tuples: partner.len() as u64 },
        ];
        let table = linked_table(
            state.danger_exact_linked_counts,
            plan,
            &linkage,
            estimated.as_ref(),
            &cohort_labels,
            &partner_labels,
            sizes,
        )?;
        let privacy = plan.privacy.as_ref().ok_or_else(|| {
            protocol("linkage.session", "a linked count needs DP at the computing node")
        })?;
        let matcher = plan
            .calibration
            .as_ref()
            .map_or(super::release::KEY_PASSES.to_string(), |m| m.describe());
        let detail = format!("linked table released; matcher {matcher}");
        let outcome = super::release::release_and_log(
            state,
            &self.logged,
            privacy,
            table,
            detail,
            &self.digests,
        )?;
        Ok(Stepped { outgoing: Vec::new(), outcome: Some(outcome) })
    }

    /// Ends a calibration run: fits the model on the two doubly-blinded whole sides with u from
    /// B's own subjects, stores it as the dataset's next version, and logs the run. Only the
    /// version and the file's digest leave the node; the fitted figures stay in the file.
    fn store_calibration(
        &self,
        state: &NodeState,
        peer: &str,
        cohort: Side<'_, BlindedPoint>,
        partner: Side<'_, BlindedPoint>,
        within: &WithinFile,
    ) -> Result<Stepped, StepError> {
        let plan = &self.plan;
        let env = self.logged.query().checked().envelope();
        let model = Calibration::fit(cohort, partner, within).map_err(|e| {
            StepError::Refused(Refusal::LinkageNotAllowed {
                rule: "policy.linkage.calibration",
                problem: format!("nothing was stored: {e}"),
            })
        })?;
        let cohort_dataset = plan.request.side(peer).map(|s| s.dataset.clone()).unwrap_or_default();
        let fitted_at = super::calibrations::utc_time(state.audit.now_ms());
        let stored = super::calibrations::save(
            &state.data_dir,
            &plan.side.dataset,
            fitted_at,
            env.query_id.to_string(),
            format!("{peer}/{cohort_dataset}"),
            model,
        )
        .map_err(|e| crate::error::NodeError::Internal(format!("calibration store: {e}")))?;
        let note = pb::CalibrationStored {
            dataset: plan.side.dataset.clone(),
            version: stored.stored.version,
            key_types: plan.request.key_types.clone(),
            sha256: stored.sha256.to_vec(),
        };
        let output = pb::OutputRecord {
            output_class: "CALIBRATION_STORED".into(),
            result_hash: sha256(&prost::Message::encode_to_vec(&note)).to_vec(),
            records_released: 0,
            disclosure_rule: "calibration;model-kept-at-node".into(),
            ..Default::default()
        };
        let detail = format!(
            "calibration run against {peer}/{cohort_dataset}: model stored as {}",
            stored.describe(),
        );
        let result = pb::link_outcome::Result::Calibrated(note);
        let outcome = super::release_to_coordinator(
            state,
            &self.logged,
            output,
            detail,
            &self.digests,
            result,
        )?;
        Ok(Stepped { outgoing: Vec::new(), outcome: Some(outcome) })
    }

    /// Records the flag-back for an operator here and waits for the decision (F12): the
    /// approval is bound to this envelope's hash, and the operator sees the attested row count
    /// and the case reference's history before deciding.
    fn await_approval(&self, state: &NodeState, rows: usize) -> Result<String, StepError> {
        let checked = self.logged.query().checked();
        let env = checked.envelope();
        let store = ApprovalStore::open(&crate::approvals::path_in(&state.data_dir))
            .map_err(|e| crate::error::NodeError::Internal(format!("approvals store: {e}")))?;
        let request = ApprovalRequest {
            query_hash: checked.hash(),
            query_id: env.query_id.to_string(),
            case_ref: env.case_ref.clone().unwrap_or_default(),
            purpose: env.purpose.clone(),
            lawful_basis: env.lawful_basis.to_string(),
            requester: format!("{} ({})", env.requester.officer_id, env.requester.organisation),
            authoriser: env
                .authorisation
                .as_ref()
                .map(|a| a.authoriser_id.clone())
                .unwrap_or_default(),
            dataset: self.plan.side.dataset.clone(),
            attested_rows: u32::try_from(rows).unwrap_or(u32::MAX),
            requested_at_ms: state.audit.now_ms(),
            expires_at_ms: env.expires_at.0,
        };
        let id = store
            .request(&request)
            .map_err(|e| crate::error::NodeError::Internal(format!("approvals store: {e}")))?;
        tracing::info!(id, case_ref = %request.case_ref, rows, "flag-back waiting for approval");
        let clock = || state.audit.now_ms();
        let decision = store
            .wait(id, APPROVAL_POLL, &clock)
            .map_err(|e| crate::error::NodeError::Internal(format!("approvals store: {e}")))?;
        let refused = |problem: String| {
            StepError::Refused(Refusal::LinkageNotAllowed {
                rule: "policy.linkage.flag_back",
                problem,
            })
        };
        match decision {
            ApprovalState::Approved { approver, .. } => Ok(approver),
            ApprovalState::Denied { approver, reason, .. } => {
                Err(refused(format!("flag-back request {id} was denied by {approver}: {reason}")))
            }
            ApprovalState::Expired | ApprovalState::Pending => Err(refused(format!(
                "flag-back request {id} was not approved before the query expired"
            ))),
        }
    }
}

/// B's own side for M2 (§8 step 4): its qualifying rows (within the partner reach, if any) as
/// subjects, checked against its cap and its label classes, one tuple each, padded with dummies
/// per class, blinded under `key` and sorted by bytes; for a calibration run, with B's
/// within-file statistics.
fn own_tuples(
    state: &NodeState,
    plan: &LinkPlan,
    key: &BlindingKey,
    session_id: &[u8; 16],
) -> OwnTuples {
    let mut timer = super::StepTimer::start("partner own tuples");
    let mut rows = read_side(state, plan)?;
    timer.phase("read and cluster rows");
    if let Some(reach) = &plan.partner_reach {
        // An event outside the reach of the cohort's windows can match no cohort row:
        // leave it out, so that it never takes a slot an event that can match needs (the
        // partner layout has one slot per unit of the reach). A subject's label is then
        // that of its earliest row within the reach.
        rows.retain(|row| row.event_date.is_some_and(|d| reach.contains(d)));
    }
    // The side's people, as read for this query (after the reach), while the tuples are made.
    let rows = std::sync::Arc::new(rows);
    let subject_tokens = PendingTokens::start(&state.subject_tokens, &rows);
    let labelling =
        if plan.side.label_column.is_some() { Labelling::Column } else { Labelling::All };
    let subjects =
        partner_subjects(&rows, &plan.selection, plan.window.as_ref(), labelling, &plan.labels)
            .map_err(StepError::from)?;
    drop(rows);
    timer.phase("subjects");
    check_cap(plan, subjects.subjects.len())?;
    // A calibration run fixes u from B's own subjects, in plaintext, before unique-or-random.
    let within = (plan.request.kind == LinkKind::Calibrate)
        .then(|| WithinFile::of_subjects(&subjects.subjects, plan.partner_layout.key_types()));
    let classes = plan
        .labels
        .check_classes(subjects.subjects.iter().map(|s| &s.label))
        .map_err(StepError::from)?;
    let layout = &plan.partner_layout;
    let mut rng = OsRandom::new();
    let mut tuples = build_tuples(&subjects.subjects, layout, &mut rng)?.tuples;
    drop(subjects);
    tuples.extend(dummy_tuples(layout, &dummy_counts(&classes, &plan.labels)?, &plan.labels)?);
    timer.phase("tuples");
    let blinded = blind_tuples(key, session_id, layout, tuples)?;
    timer.phase("blind and sort");
    let subjects = subject_tokens.wait();
    timer.phase("subject tokens");
    Ok((blinded, within, subjects))
}

fn protocol(rule: &'static str, problem: &str) -> StepError {
    StepError::Refused(Refusal::LinkageProtocol { rule, problem: problem.into() })
}
