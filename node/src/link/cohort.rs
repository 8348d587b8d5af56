//! The cohort node A (design-review §8 steps 3, 5 and 7): after the handshake it sends M1 —
//! its signed cohort descriptor and one fixed-length tuple per cohort subject under its own
//! scalar, unique-or-random, slots permuted, padded with dummies per label class, sorted by
//! bytes — then turns B's M2 into M3 (reblinded with its scalar, slots re-permuted, labels
//! kept, resorted) and, for a flag-back, maps B's flags back to its own rows. It logs every
//! message it sends and receives by digest.

use fedlink_proto::blind::BlindingKey;
use fedlink_proto::envelope::sha256;
use fedlink_proto::link::LinkKind;
use fedlink_proto::pb;
use fedlink_proto::refusal::Refusal;
use fedlink_proto::relay::{Handshake, SecureChannel};

use super::inputs::{check_cap, dummy_counts, max_tuples, read_side};
use super::plan::LinkPlan;
use super::wire::{self, decode_batch, decode_flags, encode_batch, payload, read_payload};
use super::{StepError, Stepped, digest_line, finish_handshake, open_one, seal};
use crate::gate::Logged;
use crate::linkage::subjects::{Labelling, cohort_subjects, row_subjects};
use crate::linkage::{
    BlindedTuple, blind_tuples, blind_tuples_in_order, build_tuples, by_bytes, dummy_tuples,
    permute_slots_and_sort,
};
use crate::policy::AuthorisedQuery;
use crate::privacy::OsRandom;
use crate::state::NodeState;
use crate::subject_tokens::PendingTokens;
use fedlink_proto::audit::payload::SubjectToken;

/// Where A is.
enum Phase {
    /// Waiting for B's hello.
    Hello(Handshake),
    /// M1 sent; waiting for M2.
    Partner(SecureChannel),
    /// M3 sent (flag-back); waiting for the flags.
    Flags(SecureChannel),
    /// Between steps or finished.
    Done,
}

/// A's session. No `Debug`: it holds the scalar.
pub struct CohortSession {
    logged: Logged<AuthorisedQuery>,
    plan: LinkPlan,
    key: BlindingKey,
    phase: Phase,
    /// Digests of every message sent and received, `step:hex`.
    digests: Vec<String>,
    /// Flag-back: the record id of each M1 tuple, in M1's order.
    rows_in_m1_order: Vec<String>,
    /// Flag-back: the subject tokens of the cohort, for the entry that releases its flags.
    flag_back_subjects: Vec<SubjectToken>,
}

impl CohortSession {
    /// A fresh session with a fresh scalar from the OS CSPRNG.
    pub fn open(
        logged: Logged<AuthorisedQuery>,
        plan: LinkPlan,
        handshakes: Vec<Handshake>,
    ) -> Result<Self, String> {
        let (handshake, key) = super::two_sided_start(handshakes)?;
        Ok(Self {
            logged,
            plan,
            key,
            phase: Phase::Hello(handshake),
            digests: Vec::new(),
            rows_in_m1_order: Vec::new(),
            flag_back_subjects: Vec::new(),
        })
    }

    /// The admitted query this session serves.
    pub fn logged(&self) -> &Logged<AuthorisedQuery> {
        &self.logged
    }

    /// The digest lines of every relay message this session sent and received so far.
    pub fn digests(&self) -> &[String] {
        &self.digests
    }

    /// One relay step.
    pub fn step(
        &mut self,
        state: &NodeState,
        mut hellos: Vec<pb::RelayHello>,
        mut messages: Vec<pb::RelayMessage>,
    ) -> Result<Stepped, StepError> {
        match std::mem::replace(&mut self.phase, Phase::Done) {
            Phase::Hello(handshake) => {
                let mut channel = finish_handshake(state, handshake, &mut hellos)?;
                let m1 = self.send_cohort(state, &mut channel)?;
                self.phase = Phase::Partner(channel);
                Ok(Stepped { outgoing: vec![m1], outcome: None })
            }
            Phase::Partner(mut channel) => {
                let (m3, receipt) = self.send_reblinded(state, &mut channel, &mut messages)?;
                if self.plan.request.kind == LinkKind::FlagBack {
                    self.phase = Phase::Flags(channel);
                    return Ok(Stepped { outgoing: vec![m3], outcome: None });
                }
                let outcome = pb::LinkOutcome {
                    result: Some(pb::link_outcome::Result::Contributed(pb::LinkContribution {
                        digests: self.digests.clone(),
                    })),
                    receipt: Some(receipt),
                };
                Ok(Stepped { outgoing: vec![m3], outcome: Some(outcome) })
            }
            Phase::Flags(mut channel) => {
                let outcome = self.receive_flags(state, &mut channel, &mut messages)?;
                Ok(Stepped { outgoing: Vec::new(), outcome: Some(outcome) })
            }
            Phase::Done => Err(StepError::Refused(Refusal::LinkageProtocol {
                rule: "linkage.session",
                problem: "this session has no further steps".into(),
            })),
        }
    }

    /// Builds, logs and seals M1.
    fn send_cohort(
        &mut self,
        state: &NodeState,
        channel: &mut SecureChannel,
    ) -> Result<pb::RelayMessage, StepError> {
        let plan = &self.plan;
        let mut timer = super::StepTimer::start("cohort M1");
        let rows = std::sync::Arc::new(read_side(state, plan)?);
        timer.phase("read and cluster rows");
        // The M1 entry names every person of the side (subject search, issue 7); their tokens
        // are computed while the tuples are built and blinded.
        let subjects = PendingTokens::start(&state.subject_tokens, &rows);
        let window = plan.window.as_ref();
        let layout = &plan.cohort_layout;
        let mut rng = OsRandom::new();
        let env = self.logged.query().checked().envelope();
        let session_id = *env.session_id.as_bytes();

        let blinded = if plan.request.kind == LinkKind::FlagBack {
            // One tuple per row, no dummies: B answers exactly one flag per tuple, and A maps
            // them back through the order it remembers (F6).
            let rows = row_subjects(&rows, &plan.selection, window, &plan.labels)
                .map_err(StepError::from)?;
            check_cap(plan, rows.subjects.len())?;
            let built = build_tuples(&rows.subjects, layout, &mut rng)?;
            let in_order = blind_tuples_in_order(&self.key, &session_id, layout, built.tuples)?;
            let mut order: Vec<usize> = (0..in_order.len()).collect();
            order.sort_by(|&a, &b| by_bytes(&in_order[a], &in_order[b]));
            self.rows_in_m1_order =
                order.iter().filter_map(|&i| rows.record_ids.get(i).cloned()).collect();
            let sorted: Vec<BlindedTuple> =
                order.iter().filter_map(|&i| in_order.get(i).cloned()).collect();
            sorted
        } else {
            let labelling =
                if plan.side.label_column.is_some() { Labelling::Column } else { Labelling::All };
            let subjects = cohort_subjects(&rows, &plan.selection, window, labelling, &plan.labels)
                .map_err(StepError::from)?;
            check_cap(plan, subjects.subjects.len())?;
            let classes = plan
                .labels
                .check_classes(subjects.subjects.iter().map(|s| &s.label))
                .map_err(StepError::from)?;
            timer.phase("subjects");
            let mut tuples = build_tuples(&subjects.subjects, layout, &mut rng)?.tuples;
            tuples.extend(dummy_tuples(
                layout,
                &dummy_counts(&classes, &plan.labels)?,
                &plan.labels,
            )?);
            timer.phase("tuples");
            let blinded = blind_tuples(&self.key, &session_id, layout, tuples)?;
            timer.phase("blind and sort");
            blinded
        };

        let descriptor = pb::CohortDescriptor {
            query_id: env.query_id.as_bytes().to_vec(),
            session_id: session_id.to_vec(),
            query_digest: env.shared_digest().to_vec(),
            member: state.me.name.clone(),
            dataset: plan.side.dataset.clone(),
            tuples: blinded.len() as u64,
            public_point: self.key.public().as_bytes().to_vec(),
            created_at_ms: state.audit.now_ms(),
        };
        let (descriptor_bytes, signature) = wire::sign_descriptor(&descriptor, &state.identity);
        let body = pb::link_payload::Body::Cohort(pb::CohortMessage {
            descriptor: descriptor_bytes.clone(),
            signature,
            tuples: Some(encode_batch(&blinded, layout)),
        });
        let (message, digest) = seal(channel, &payload(body))?;
        timer.phase("encode and seal");
        self.digests.push(digest_line(&message, &digest));
        let output = pb::OutputRecord {
            output_class: "LINKAGE_BLINDED".into(),
            result_hash: digest.to_vec(),
            records_released: blinded.len() as u64,
            disclosure_rule: "blinded;unique-or-random;slots-permuted;padded;sorted".into(),
            ..Default::default()
        };
        let detail = format!(
            "M1 sent: {} tuples (padded, except for a flag-back), descriptor sha256 {}",
            blinded.len(),
            hex(&sha256(&descriptor_bytes)),
        );
        let subjects = subjects.wait();
        timer.phase("subject tokens");
        if plan.request.kind == LinkKind::FlagBack {
            self.flag_back_subjects = subjects.clone();
        }
        state.audit.disclose_linked_concerning(
            &self.logged,
            output,
            vec![channel.context().peer().to_string()],
            detail,
            &self.digests,
            subjects,
        )?;
        Ok(message)
    }

    /// Checks M2, reblinds it into M3, logs and seals M3.
    fn send_reblinded(
        &mut self,
        state: &NodeState,
        channel: &mut SecureChannel,
        messages: &mut Vec<pb::RelayMessage>,
    ) -> Result<(pb::RelayMessage, pb::Receipt), StepError> {
        let plan = &self.plan;
        let mut timer = super::StepTimer::start("cohort M2 to M3");
        let plaintext = open_one(channel, messages, &mut self.digests)?;
        timer.phase("open and decode");
        let pb::link_payload::Body::PartnerTuples(batch) = read_payload(&plaintext)? else {
            return Err(wire_refusal("step 2 must carry the partner's tuples (M2)"));
        };
        let max = max_tuples(plan.rule.max_subjects_per_query as usize, &plan.labels);
        let reblinded =
            decode_batch(batch, &plan.partner_layout, &plan.labels, max, Some(&self.key))?;
        timer.phase("check and reblind");
        let mut rng = OsRandom::new();
        let m3 = permute_slots_and_sort(reblinded, &plan.partner_layout, &mut rng)?;
        timer.phase("permute and sort");
        let body = pb::link_payload::Body::Reblinded(encode_batch(&m3, &plan.partner_layout));
        let (message, digest) = seal(channel, &payload(body))?;
        timer.phase("encode and seal");
        self.digests.push(digest_line(&message, &digest));
        // When M3 ends A's part (a count), the entry's hash is that of the contribution record
        // A returns, which lists every message digest, M3's included; the coordinator checks
        // that hash against the receipt.
        let result_hash = if plan.request.kind == LinkKind::FlagBack {
            digest.to_vec()
        } else {
            contribution_hash(&self.digests).to_vec()
        };
        let output = pb::OutputRecord {
            output_class: "LINKAGE_REBLINDED".into(),
            result_hash,
            records_released: m3.len() as u64,
            disclosure_rule: "reblinded;slots-permuted;sorted".into(),
            ..Default::default()
        };
        let detail = format!("M3 sent: {} tuples", m3.len());
        let receipt = state.audit.disclose_linked(
            &self.logged,
            output,
            vec![channel.context().peer().to_string()],
            detail,
            &self.digests,
            None,
        )?;
        Ok((message, receipt))
    }

    /// Reads B's flags (exactly one per M1 tuple), maps them to A's rows and releases them to
    /// A's own coordinator.
    fn receive_flags(
        &mut self,
        state: &NodeState,
        channel: &mut SecureChannel,
        messages: &mut Vec<pb::RelayMessage>,
    ) -> Result<pb::LinkOutcome, StepError> {
        let plaintext = open_one(channel, messages, &mut self.digests)?;
        let pb::link_payload::Body::Flags(list) = read_payload(&plaintext)? else {
            return Err(wire_refusal("step 4 must carry the flags"));
        };
        let flags = decode_flags(list, self.rows_in_m1_order.len())?;
        let mut rows: Vec<pb::FlagRow> = self
            .rows_in_m1_order
            .iter()
            .zip(flags)
            .map(|(record_id, label)| pb::FlagRow {
                record_id: record_id.clone(),
                flag: label.is_some(),
                label: label.unwrap_or_default(),
            })
            .collect();
        rows.sort_by(|a, b| a.record_id.cmp(&b.record_id));
        let result = pb::FlagBackResult { rows };
        let bytes = prost::Message::encode_to_vec(&result);
        let flagged = result.rows.iter().filter(|r| r.flag).count();
        let output = pb::OutputRecord {
            output_class: "FLAG_BACK".into(),
            result_hash: sha256(&bytes).to_vec(),
            records_released: result.rows.len() as u64,
            disclosure_rule: "flag-back;one-flag-one-label-per-row".into(),
            ..Default::default()
        };
        let env = self.logged.query().checked().envelope();
        let detail = format!(
            "flags received for {} rows ({flagged} flagged) under case {}",
            result.rows.len(),
            env.case_ref.clone().unwrap_or_default(),
        );
        // Person-level: the release entry names the whole flag-back cohort (every row gets a
        // flag, 0 or 1), so a subject search finds it as well as M1.
        let coordinator = env.coordinator.clone();
        let subjects = std::mem::take(&mut self.flag_back_subjects);
        let receipt = state.audit.disclose_linked_concerning(
            &self.logged,
            output,
            vec![coordinator],
            detail,
            &self.digests,
            subjects,
        )?;
        let result = Some(pb::link_outcome::Result::Flags(result));
        Ok(pb::LinkOutcome { result, receipt: Some(receipt) })
    }
}

/// SHA-256 of the contribution record a node returns when its part ends without a table or
/// flags: what its final log entry's `result_hash` commits to.
pub fn contribution_hash(digests: &[String]) -> [u8; 32] {
    sha256(&prost::Message::encode_to_vec(&pb::LinkContribution { digests: digests.to_vec() }))
}

fn wire_refusal(problem: &str) -> StepError {
    StepError::Refused(Refusal::LinkageProtocol {
        rule: "linkage.message",
        problem: problem.into(),
    })
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
