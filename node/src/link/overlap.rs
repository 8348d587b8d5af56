//! The overlap matrix across three or more nodes (issue 5; design-review F7): how many people
//! are known to each combination of agencies, computed on sets every participant has blinded,
//! with the ring schedule of `fedlink_proto::schedule` — each set starts at its owner, visits
//! every other participant once, and ends at the computing node, which applies the last scalar
//! to every set but its own (its own set it blinds first and gets back last). The schedule's
//! invariant — no party other than the computing node ever holds two owners' sets under the
//! same scalars — is checked by `schedule::check` before a node takes part.
//!
//! The computing node links every pair of fully blinded sets one-to-one (the same matcher as
//! linked counts), joins linked tuples into people, and counts people by the set of agencies
//! that know them. It releases the combinations of two or more agencies only: a single-agency
//! count would be that agency's padded set size less its overlaps, and padding (dummies, which
//! never link) is what hides set sizes from the ring. Noise is scaled to 2·(n − 1): one
//! person's tuple sits in one link per other set, and each link moves one person between two
//! cells. The strictest participant's minimum cell and smallest ε apply (F7).

use std::collections::{BTreeMap, HashMap};

use fedlink_proto::audit::budget::MICRO_PER_EPSILON;
use fedlink_proto::blind::{BlindedPoint, BlindingKey};
use fedlink_proto::pb;
use fedlink_proto::refusal::Refusal;
use fedlink_proto::relay::{Handshake, SecureChannel};
use fedlink_proto::schedule::{RingSchedule, Sealing, check};

use super::inputs::{check_cap, dummy_counts, max_tuples, read_side};
use super::plan::LinkPlan;
use super::wire::{decode_batch, encode_batch, payload, read_payload};
use super::{StepError, Stepped, digest_line, finish_handshake, seal};
use crate::aggregate::answer::{release_table, table_body};
use crate::aggregate::run::RawCell;
use crate::disclosure::{CountKind, Dimension, SdcRules};
use crate::error::NodeError;
use crate::gate::Logged;
use crate::linkage::subjects::{Labelling, cohort_subjects};
use crate::linkage::{
    BlindedTuple, Matcher, Side, Tuple, UniqueKeyPasses, blind_tuples, build_tuples, dummy_tuples,
    permute_slots_and_sort,
};
use crate::policy::AuthorisedQuery;
use crate::privacy::{DiscreteLaplace, OsRandom, Ratio};
use crate::state::NodeState;
use crate::subject_tokens::PendingTokens;
use fedlink_proto::audit::payload::SubjectToken;

/// One participant's session in an overlap. No `Debug`: it holds the scalar.
pub struct OverlapSession {
    logged: Logged<AuthorisedQuery>,
    plan: LinkPlan,
    key: BlindingKey,
    schedule: RingSchedule,
    handshakes: Vec<Handshake>,
    channels: HashMap<String, SecureChannel>,
    /// (owner, sender) pairs still to arrive.
    expected: Vec<(String, String)>,
    /// At the computing node: every owner's fully blinded set, and its rules.
    finished: BTreeMap<String, (Vec<BlindedTuple>, u64, u64)>,
    digests: Vec<String>,
}

fn protocol(problem: String) -> StepError {
    StepError::Refused(Refusal::LinkageProtocol { rule: "linkage.overlap", problem })
}

impl OverlapSession {
    /// A session with a fresh scalar, after checking the schedule's invariant.
    pub fn open(
        logged: Logged<AuthorisedQuery>,
        plan: LinkPlan,
        handshakes: Vec<Handshake>,
        me: &str,
    ) -> Result<Self, String> {
        let schedule = schedule_for(logged.query().checked().envelope())?;
        let expected = schedule.expected_from(me);
        let key = BlindingKey::generate().map_err(|e| e.to_string())?;
        Ok(Self {
            logged,
            plan,
            key,
            schedule,
            handshakes,
            channels: HashMap::new(),
            expected,
            finished: BTreeMap::new(),
            digests: Vec::new(),
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

    fn me<'a>(&self, state: &'a NodeState) -> &'a str {
        &state.me.name
    }

    fn is_computing(&self, state: &NodeState) -> bool {
        self.schedule.computing() == self.me(state)
    }

    /// One relay step: the first carries every peer's hello (and starts this node's own set
    /// round the ring); later ones carry sets to blind and pass on, or, at the computing node,
    /// to keep.
    pub fn step(
        &mut self,
        state: &NodeState,
        mut hellos: Vec<pb::RelayHello>,
        messages: Vec<pb::RelayMessage>,
    ) -> Result<Stepped, StepError> {
        let mut outgoing = Vec::new();
        if !self.handshakes.is_empty() {
            for handshake in std::mem::take(&mut self.handshakes) {
                let peer = handshake.context().peer().to_string();
                let channel = finish_handshake(state, handshake, &mut hellos)?;
                self.channels.insert(peer, channel);
            }
            outgoing.push(self.send_own_set(state)?);
        } else if !hellos.is_empty() {
            return Err(protocol("a hello arrived after the handshakes".into()));
        }
        for message in messages {
            if let Some(next) = self.receive_set(state, message)? {
                outgoing.push(next);
            }
        }
        if !self.expected.is_empty() {
            return Ok(Stepped { outgoing, outcome: None });
        }
        let outcome = if self.is_computing(state) {
            self.release(state)?
        } else {
            let result = pb::LinkContribution { digests: self.digests.clone() };
            let output = pb::OutputRecord {
                output_class: "LINKAGE_BLINDED".into(),
                result_hash: super::cohort::contribution_hash(&self.digests).to_vec(),
                records_released: self.digests.len() as u64,
                disclosure_rule: "overlap-ring;blinded;padded;sorted".into(),
                ..Default::default()
            };
            let detail = "overlap part done".to_string();
            let env = self.logged.query().checked().envelope();
            let receipt = state.audit.disclose_linked(
                &self.logged,
                output,
                vec![env.coordinator.clone()],
                detail,
                &self.digests,
                None,
            )?;
            pb::LinkOutcome {
                result: Some(pb::link_outcome::Result::Contributed(result)),
                receipt: Some(receipt),
            }
        };
        Ok(Stepped { outgoing, outcome: Some(outcome) })
    }

    /// Blinds this node's own set (padded with dummies) and sends it to its first hop.
    fn send_own_set(&mut self, state: &NodeState) -> Result<pb::RelayMessage, StepError> {
        let me = self.me(state).to_string();
        let plan = &self.plan;
        let rows = std::sync::Arc::new(read_side(state, plan)?);
        // The entry sending this node's own set names every person in it (subject search).
        let people = PendingTokens::start(&state.subject_tokens, &rows);
        let subjects = cohort_subjects(&rows, &plan.selection, None, Labelling::All, &plan.labels)?;
        check_cap(plan, subjects.subjects.len())?;
        let classes = plan.labels.check_classes(subjects.subjects.iter().map(|s| &s.label))?;
        let layout = &plan.cohort_layout;
        let mut rng = OsRandom::new();
        let mut tuples = build_tuples(&subjects.subjects, layout, &mut rng)?.tuples;
        tuples.extend(dummy_tuples(layout, &dummy_counts(&classes, &plan.labels)?, &plan.labels)?);
        let session_id = *self.logged.query().checked().envelope().session_id.as_bytes();
        let blinded = blind_tuples(&self.key, &session_id, layout, tuples)?;
        let to = self
            .schedule
            .next_hop(&me, &me)
            .ok_or_else(|| protocol("the schedule gives this node's set no first hop".into()))?
            .to_string();
        let set = pb::RingSet {
            owner: me.clone(),
            blinded_by: vec![me],
            tuples: Some(encode_batch(&blinded, layout)),
            owner_min_cell: plan.rule.disclosure.min_cell,
            owner_epsilon_micro: epsilon_micro(plan)?,
        };
        self.forward(state, &to, set, blinded.len(), people.wait())
    }

    /// Takes one set: checks it is expected from its sender, applies this node's scalar and
    /// passes it on — or, at the computing node, keeps it.
    fn receive_set(
        &mut self,
        state: &NodeState,
        message: pb::RelayMessage,
    ) -> Result<Option<pb::RelayMessage>, StepError> {
        let me = self.me(state).to_string();
        let sender = message.sender.clone();
        let Some(channel) = self.channels.get_mut(&sender) else {
            // Logged as received all the same: the refusal's entry lists it.
            self.digests.push(super::received_line(&message));
            return Err(protocol(format!("no channel with {sender:?}")));
        };
        let plaintext = super::open_one(channel, &mut vec![message], &mut self.digests)?;
        let pb::link_payload::Body::Ring(set) = read_payload(&plaintext)? else {
            return Err(protocol("an overlap step must carry a ring set".into()));
        };
        let Some(position) =
            self.expected.iter().position(|(o, s)| *o == set.owner && *s == sender)
        else {
            return Err(protocol(format!(
                "the set of {:?} from {sender:?} is not expected here",
                set.owner
            )));
        };
        self.expected.remove(position);
        let route = self.schedule.route(&set.owner).unwrap_or_default();
        let own_returning = set.owner == me;
        // The scalars so far must be exactly the route up to the sender.
        let travelled = route.iter().position(|n| *n == sender).map(|i| &route[..=i]);
        if travelled != Some(set.blinded_by.as_slice()) {
            return Err(protocol(format!(
                "the set of {:?} claims scalars {:?}, not its route",
                set.owner, set.blinded_by
            )));
        }
        let plan = &self.plan;
        let layout = &plan.cohort_layout;
        let batch = set.tuples.ok_or_else(|| protocol("a ring set with no tuples".into()))?;
        let max = max_tuples(plan.rule.max_subjects_per_query as usize, &plan.labels);
        // The computing node's own set comes back under every scalar, its own included.
        let key = if own_returning { None } else { Some(&self.key) };
        let tuples = decode_batch(batch, layout, &plan.labels, max, key)?;
        if self.is_computing(state) {
            self.finished
                .insert(set.owner.clone(), (tuples, set.owner_min_cell, set.owner_epsilon_micro));
            return Ok(None);
        }
        let mut rng = OsRandom::new();
        let tuples = permute_slots_and_sort(tuples, layout, &mut rng)?;
        let to = self
            .schedule
            .next_hop(&set.owner, &me)
            .ok_or_else(|| protocol(format!("no next hop for the set of {:?}", set.owner)))?
            .to_string();
        let mut blinded_by = set.blinded_by;
        blinded_by.push(me);
        let count = tuples.len();
        let next = pb::RingSet {
            owner: set.owner,
            blinded_by,
            tuples: Some(encode_batch(&tuples, layout)),
            owner_min_cell: set.owner_min_cell,
            owner_epsilon_micro: set.owner_epsilon_micro,
        };
        self.forward(state, &to, next, count, Vec::new()).map(Some)
    }

    /// Seals a set to `to`, logging it first (with the subject tokens of this node's own set,
    /// when it is that set).
    fn forward(
        &mut self,
        state: &NodeState,
        to: &str,
        set: pb::RingSet,
        tuples: usize,
        subjects: Vec<SubjectToken>,
    ) -> Result<pb::RelayMessage, StepError> {
        let owner = set.owner.clone();
        let channel =
            self.channels.get_mut(to).ok_or_else(|| protocol(format!("no channel with {to:?}")))?;
        let (message, digest) = seal(channel, &payload(pb::link_payload::Body::Ring(set)))?;
        self.digests.push(digest_line(&message, &digest));
        let output = pb::OutputRecord {
            output_class: "LINKAGE_BLINDED".into(),
            result_hash: digest.to_vec(),
            records_released: tuples as u64,
            disclosure_rule: "overlap-ring;blinded;padded;sorted".into(),
            ..Default::default()
        };
        let detail = format!("the set of {owner} ({tuples} tuples) sent on to {to}");
        let to = vec![to.to_string()];
        state.audit.disclose_linked_concerning(
            &self.logged,
            output,
            to,
            detail,
            &self.digests,
            subjects,
        )?;
        Ok(message)
    }

    /// Links every pair of sets, counts people by their combination of agencies, and releases
    /// the protected matrix.
    fn release(&mut self, state: &NodeState) -> Result<pb::LinkOutcome, StepError> {
        let plan = &self.plan;
        let members: Vec<String> = self.schedule.members().to_vec();
        let sets: Vec<(String, Vec<Tuple<BlindedPoint>>)> = members
            .iter()
            .map(|m| {
                let tuples = self
                    .finished
                    .get(m)
                    .map(|(t, _, _)| t.iter().cloned().map(BlindedTuple::into_tuple).collect())
                    .unwrap_or_default();
                (m.clone(), tuples)
            })
            .collect();
        let combos = combinations(&sets, plan)?;
        let levels: Vec<String> = combination_levels(&members);
        let dims = vec![
            Dimension::new("agencies", levels)
                .map_err(|e| NodeError::Internal(format!("overlap: {e}")))?,
        ];
        let raw: Vec<RawCell> = combos
            .into_iter()
            .map(|(combo, n)| RawCell {
                groups: vec![Some(combo)],
                value: i64::try_from(n).unwrap_or(i64::MAX),
            })
            .collect();
        // The strictest contributor's rules (F7).
        let min_cell = self
            .finished
            .values()
            .map(|(_, min_cell, _)| *min_cell)
            .chain([plan.rule.disclosure.min_cell])
            .max()
            .unwrap_or(plan.rule.disclosure.min_cell);
        let epsilon = self
            .finished
            .values()
            .map(|(_, _, e)| *e)
            .filter(|e| *e > 0)
            .chain([epsilon_micro(plan)?])
            .min()
            .unwrap_or(MICRO_PER_EPSILON);
        let sensitivity = 2 * (members.len() as u64 - 1);
        // The matrix is the one output, released at ε: that is what is charged. (The plan
        // books a linked count's charge, 2ε of this node's rule, for its table and its
        // quality figures; an overlap has no quality figures, and may spend a smaller ε.)
        let no_dp = || protocol("an overlap needs DP at the computing node".into());
        self.plan.privacy.as_mut().ok_or_else(no_dp)?.charge.epsilon_micro = epsilon;
        let plan = &self.plan;
        let privacy = plan.privacy.as_ref().ok_or_else(no_dp)?;
        let exact = state.danger_exact_linked_counts;
        let internal = |e: &dyn std::fmt::Display| NodeError::Internal(format!("overlap: {e}"));
        let mechanism = DiscreteLaplace::new(
            Ratio::new(epsilon, MICRO_PER_EPSILON).map_err(|e| internal(&e))?,
            sensitivity,
        )
        .map_err(|e| internal(&e))?;
        let rules = if exact {
            super::release::seam_rules(plan.rule.disclosure, false)
        } else {
            SdcRules { min_cell, release_margins: false, ..plan.rule.disclosure }
        };
        let protected =
            release_table(&dims, raw, if exact { None } else { Some(&mechanism) }, &rules)?;
        let eps_text = fedlink_proto::audit::budget::micro_to_string(epsilon);
        let mut applied = if exact {
            vec!["test-seam:exact".to_string()]
        } else {
            vec![format!("dp.discrete_laplace(eps={eps_text},sensitivity={sensitivity})")]
        };
        applied.extend(protected.applied().iter().map(|r| r.code()));
        let table = pb::ProtectedTable {
            dataset: plan
                .request
                .sides
                .iter()
                .map(|s| format!("{}/{}", s.member, s.dataset))
                .collect::<Vec<_>>()
                .join(" x "),
            metric: "distinct_subjects".into(),
            applied_rules: applied,
            legend: format!(
                "people known to each combination of two or more agencies, each person once; \
                 counts carry random noise (differential privacy, epsilon {eps_text}, the \
                 strictest participant's); {}",
                rules.legend(CountKind::Noised)
            ),
            privacy: Some(pb::PrivacyApplied {
                mechanism: "discrete_laplace".into(),
                epsilon_micro: epsilon,
                max_rows_per_subject: 1,
                requester_remaining_micro: 0,
                budget_period: privacy.charge.period.clone(),
            }),
            ..table_body(&dims, &protected)
        };
        let sizes = members
            .iter()
            .map(|m| pb::SideSize {
                member: m.clone(),
                tuples: self.finished.get(m).map_or(0, |(t, _, _)| t.len() as u64),
            })
            .collect();
        let linked = pb::LinkedTable {
            table: Some(table),
            quality: Vec::new(),
            sizes,
            ..Default::default()
        };
        let detail = "overlap matrix released".to_string();
        Ok(super::release::release_and_log(
            state,
            &self.logged,
            privacy,
            linked,
            detail,
            &self.digests,
        )?)
    }
}

/// The ring schedule the envelope's participants make, after checking it keeps the F7
/// invariant: no party but the computing node ever holds two owners' sets under the same
/// scalars. Checked when the query is opened, so a bad schedule is refused by rule and logged.
pub fn schedule_for(env: &fedlink_proto::envelope::Envelope) -> Result<RingSchedule, String> {
    let members: Vec<String> = env.participants.iter().map(|p| p.member.clone()).collect();
    let computing = env
        .participants
        .iter()
        .find(|p| p.role == fedlink_proto::envelope::NodeRole::Computing)
        .map(|p| p.member.clone())
        .ok_or("an overlap names no computing node")?;
    let schedule = RingSchedule::ring(&members, &computing).map_err(|e| e.to_string())?;
    check(schedule.hops(), &members, &computing, Sealing::EndToEnd)
        .map_err(|v| format!("the overlap schedule breaks the F7 invariant: {v}"))?;
    Ok(schedule)
}

/// ε of the linkage rule, in millionths.
fn epsilon_micro(plan: &LinkPlan) -> Result<u64, StepError> {
    fedlink_proto::audit::budget::parse_epsilon(&plan.rule.privacy.epsilon)
        .map_err(|e| StepError::Failed(NodeError::Internal(format!("epsilon: {e}"))))
}

/// Every combination of two or more members, as "a+b" in member order: the matrix's levels,
/// fixed before any data is read.
pub fn combination_levels(members: &[String]) -> Vec<String> {
    let n = members.len();
    (1u32..(1 << n))
        .filter(|mask| mask.count_ones() >= 2)
        .map(|mask| combo_name(members, mask))
        .collect()
}

fn combo_name(members: &[String], mask: u32) -> String {
    members
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, m)| m.as_str())
        .collect::<Vec<_>>()
        .join("+")
}

/// People by combination: pairwise one-to-one links, joined into components; each component
/// is one person known to the agencies whose tuples it holds. Exact: never stored or logged.
fn combinations(
    sets: &[(String, Vec<Tuple<BlindedPoint>>)],
    plan: &LinkPlan,
) -> Result<BTreeMap<String, u64>, StepError> {
    let offsets: Vec<usize> = sets
        .iter()
        .scan(0, |acc, (_, t)| {
            let start = *acc;
            *acc += t.len();
            Some(start)
        })
        .collect();
    let total: usize = sets.iter().map(|(_, t)| t.len()).sum();
    let mut parent: Vec<usize> = (0..total).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let layout = &plan.cohort_layout;
    for a in 0..sets.len() {
        for b in a + 1..sets.len() {
            let linkage = UniqueKeyPasses
                .link(Side { layout, tuples: &sets[a].1 }, Side { layout, tuples: &sets[b].1 })?;
            for pair in linkage.pairs() {
                let (x, y) = (offsets[a] + pair.cohort, offsets[b] + pair.partner);
                let (rx, ry) = (root(&mut parent, x), root(&mut parent, y));
                if rx != ry {
                    parent[rx] = ry;
                }
            }
        }
    }
    let mut masks: HashMap<usize, u32> = HashMap::new();
    for (set_index, (_, tuples)) in sets.iter().enumerate() {
        for i in 0..tuples.len() {
            let r = root(&mut parent, offsets[set_index] + i);
            *masks.entry(r).or_default() |= 1 << set_index;
        }
    }
    let members: Vec<String> = sets.iter().map(|(m, _)| m.clone()).collect();
    let mut counts = BTreeMap::new();
    for mask in masks.into_values().filter(|m| m.count_ones() >= 2) {
        *counts.entry(combo_name(&members, mask)).or_default() += 1;
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matrix_levels_are_every_combination_of_two_or_more() {
        let members: Vec<String> = ["police", "icb", "council"].map(String::from).to_vec();
        assert_eq!(
            combination_levels(&members),
            ["police+icb", "police+council", "icb+council", "police+icb+council"]
        );
    }
}
