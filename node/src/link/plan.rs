//! Whether this node may take part in a linked query, decided before the request is admitted
//! (so a refusal is an ordinary logged denial naming its rule), and everything its part needs:
//! its side, its `[[linkage]]` rule, the key types, the window, the label policy, the tuple
//! layouts both sides must share, its peers, and — at the computing node — the DP mechanism
//! and the budget charge.

use fedlink_proto::audit::budget::{BudgetLimits, MICRO_PER_EPSILON as MICRO};
use fedlink_proto::envelope::{NodeRole, QueryBody};
use fedlink_proto::link::{LinkKind, LinkRequest, LinkSide, LinkUnit};
use fedlink_proto::pb;
use fedlink_proto::refusal::Refusal;

use crate::aggregate::answer::check_budget;
use crate::linkage::{KeySelection, LabelPolicy, TupleLayout, WindowTemplate};
use crate::matchkey::{KeySubject, KeyType};
use crate::policy::AuthorisedQuery;
use crate::policy::linkage::{LinkRole, LinkageRule};
use crate::privacy::{DiscreteLaplace, Ratio};
use crate::state::NodeState;

/// Slots per key type on the cohort side without a window: room for a few values of one key
/// type (aliases give several name keys).
const UNTIMED_SLOTS: usize = 4;

/// The ℓ1 sensitivity of a (g, h) table to one subject on either side: a one-to-one linkage
/// moves one pair, so one cell down and one up at most (design-review F3, F4, §8 step 6).
pub const LINKED_TABLE_SENSITIVITY: u64 = 2;

/// A linked query this node may take part in, and how.
pub struct LinkPlan {
    /// The request as the envelope carries it.
    pub request: LinkRequest,
    /// What this node contributes.
    pub side: LinkSide,
    /// Its role, from the envelope.
    pub role: NodeRole,
    /// Its `[[linkage]]` rule for the side's dataset and the purpose.
    pub rule: LinkageRule,
    /// The key types, strength order.
    pub selection: KeySelection,
    /// The window, if any (from this node's catalogue).
    pub window: Option<WindowTemplate>,
    /// Its label vocabulary and k.
    pub labels: LabelPolicy,
    /// The shape of the cohort side's tuples.
    pub cohort_layout: TupleLayout,
    /// The shape of the partner side's tuples.
    pub partner_layout: TupleLayout,
    /// The peers it talks to through the relay.
    pub peers: Vec<String>,
    /// The noise and the charge, at the computing node.
    pub privacy: Option<LinkPrivacyPlan>,
}

/// The DP of a computing node's release.
pub struct LinkPrivacyPlan {
    /// Noise for the (g, h) table.
    pub mechanism: DiscreteLaplace,
    /// Noise for the quality figures (links by key pass).
    pub quality_mechanism: DiscreteLaplace,
    /// ε of the table, in millionths; the quality figures spend the same again.
    pub epsilon_micro: u64,
    /// The charge booked with the disclosure entry.
    pub charge: pb::BudgetCharge,
    /// The budget limits it is checked against.
    pub limits: BudgetLimits,
}

fn not_allowed(rule: &'static str, problem: String) -> Refusal {
    Refusal::LinkageNotAllowed { rule, problem }
}

/// Checks a linked query against this node's policy and plans its part.
pub fn plan(state: &NodeState, query: &AuthorisedQuery) -> Result<LinkPlan, Refusal> {
    let env = query.checked().envelope();
    let QueryBody::Link(request) = &env.body else {
        return Err(Refusal::Malformed { problem: "the body is not a linked query".into() });
    };
    let me = &state.me.name;
    let side = request.side(me).cloned().ok_or_else(|| {
        not_allowed("policy.linkage.dataset", format!("the query gives {me} no side"))
    })?;
    for s in &request.sides {
        if !env.participants.iter().any(|p| p.member == s.member) {
            return Err(Refusal::Malformed {
                problem: format!("side {:?} is not a participant", s.member),
            });
        }
    }
    if state.schema(&side.dataset).is_none() {
        return Err(Refusal::UnknownDataset { dataset: side.dataset.clone() });
    }
    let rule = state
        .policy
        .linkage
        .iter()
        .find(|r| r.dataset == side.dataset && r.purposes.iter().any(|p| p == &env.purpose))
        .cloned()
        .ok_or_else(|| {
            not_allowed(
                "policy.linkage.dataset",
                format!(
                    "no [[linkage]] rule lets dataset {:?} take part for purpose {:?}",
                    side.dataset, env.purpose
                ),
            )
        })?;

    let needed: &[LinkRole] = match (request.kind, env.role) {
        (LinkKind::Count | LinkKind::FlagBack, NodeRole::Cohort) => &[LinkRole::Cohort],
        (LinkKind::Count | LinkKind::FlagBack, NodeRole::Computing) => {
            &[LinkRole::Partner, LinkRole::Computing]
        }
        (LinkKind::Overlap, NodeRole::Computing) => &[LinkRole::Computing],
        (LinkKind::Overlap, NodeRole::Blinder) => &[LinkRole::Blinder],
        (kind, role) => {
            return Err(Refusal::Malformed {
                problem: format!("role {role:?} has no part in a {kind:?} query"),
            });
        }
    };
    if let Some(missing) = needed.iter().find(|r| !rule.roles.contains(r)) {
        return Err(not_allowed(
            "policy.linkage.roles",
            format!("dataset {:?} may not take the {missing:?} role", side.dataset),
        ));
    }

    let allowed = rule.key_types().map_err(|e| not_allowed("policy.linkage.key_types", e))?;
    let mut key_types = Vec::with_capacity(request.key_types.len());
    for tag in &request.key_types {
        let kt = KeyType::from_tag(tag).ok_or_else(|| {
            not_allowed("policy.linkage.key_types", format!("unknown key type {tag:?}"))
        })?;
        if !allowed.contains(&kt) {
            return Err(not_allowed(
                "policy.linkage.key_types",
                format!("key type {tag:?} is not allowed for dataset {:?}", side.dataset),
            ));
        }
        let unit = match kt.subject() {
            KeySubject::Person => LinkUnit::Person,
            KeySubject::Address => LinkUnit::Address,
        };
        if unit != request.unit {
            return Err(not_allowed(
                "policy.linkage.key_types",
                format!("key type {tag:?} is not a {} key", request.unit.name()),
            ));
        }
        key_types.push(kt);
    }
    let selection = KeySelection::new(key_types.iter().copied())
        .map_err(|e| not_allowed("policy.linkage.key_types", e.to_string()))?;

    let window = match &request.window {
        None => None,
        Some(name) => Some(rule.window(name).cloned().ok_or_else(|| {
            not_allowed(
                "policy.linkage.windows",
                format!("window {name:?} is not in this node's catalogue for {:?}", side.dataset),
            )
        })?),
    };
    let labels = rule.label_policy().map_err(|e| not_allowed("policy.linkage.labels", e))?;

    if env.role == NodeRole::Computing || env.role == NodeRole::Blinder {
        for other in request.sides.iter().filter(|s| s.member != *me) {
            if !rule.accepts_cohort(&other.member, &other.dataset) {
                return Err(not_allowed(
                    "policy.linkage.cohort_sources",
                    format!(
                        "{}/{} is not an accepted source for {:?}",
                        other.member, other.dataset, side.dataset
                    ),
                ));
            }
        }
    }
    if request.kind == LinkKind::FlagBack && env.role == NodeRole::Computing {
        let Some(flag_back) = &rule.flag_back else {
            return Err(not_allowed(
                "policy.linkage.flag_back",
                format!("flag-back is not allowed for dataset {:?}", side.dataset),
            ));
        };
        if !flag_back.purposes.iter().any(|p| p == &env.purpose) {
            return Err(not_allowed(
                "policy.linkage.flag_back",
                format!("flag-back is not allowed for purpose {:?}", env.purpose),
            ));
        }
        // Strong keys only (F6): a flag is person-level, and a weak key would flag a twin or a
        // namesake at the same address for someone else's record.
        let strong =
            rule.flag_back_key_types().map_err(|e| not_allowed("policy.linkage.flag_back", e))?;
        if let Some(weak) = key_types.iter().find(|kt| !strong.contains(kt)) {
            let listed: Vec<&str> = strong.iter().map(|kt| kt.tag()).collect();
            return Err(not_allowed(
                "policy.linkage.flag_back",
                format!(
                    "key type {:?} is not allowed for flag-back on dataset {:?}; flags link only \
                     on {}",
                    weak.tag(),
                    side.dataset,
                    listed.join(", ")
                ),
            ));
        }
        if env.case_ref.as_deref().is_none_or(|c| c.trim().is_empty()) {
            return Err(not_allowed(
                "policy.linkage.flag_back",
                "a flag-back needs a case reference".into(),
            ));
        }
        // The authoriser's own key, registered in the federation file, signed this query
        // (F12, F15): the coordinator alone cannot mint an authorised case.
        env.check_authorisation(&state.federation)?;
    }

    let (cohort_layout, partner_layout) = layouts(&key_types, window.as_ref())
        .map_err(|e| Refusal::QueryInvalid { problem: e.to_string() })?;
    let peers = peers(request, env.role, me, &env.participants);
    let privacy = match (request.kind, env.role) {
        (LinkKind::Count | LinkKind::Overlap, NodeRole::Computing) => {
            Some(privacy_plan(state, query, &rule, &side.dataset)?)
        }
        _ => None,
    };
    Ok(LinkPlan {
        request: request.clone(),
        side,
        role: env.role,
        rule,
        selection,
        window,
        labels,
        cohort_layout,
        partner_layout,
        peers,
        privacy,
    })
}

/// The two tuple shapes of a query, the same at both nodes: K key types × W window slots
/// (twice over, for a subject with two index dates or two values of a key type) on the cohort
/// side, K × 2W on the partner side (its events over the window's reach); a few slots each
/// without a window.
pub fn layouts(
    key_types: &[KeyType],
    window: Option<&WindowTemplate>,
) -> Result<(TupleLayout, TupleLayout), crate::linkage::LinkageError> {
    let (cohort, partner) = match window {
        None => (UNTIMED_SLOTS, UNTIMED_SLOTS),
        Some(w) => (2 * w.slot_count(), 2 * w.slot_count()),
    };
    Ok((
        TupleLayout::new(key_types.iter().copied(), cohort)?,
        TupleLayout::new(key_types.iter().copied(), partner)?,
    ))
}

/// Who this node exchanges messages with: in a two-sided query, the other side; in an overlap,
/// its ring neighbours (decided by the schedule, later).
fn peers(
    request: &LinkRequest,
    role: NodeRole,
    me: &str,
    participants: &[fedlink_proto::envelope::Participant],
) -> Vec<String> {
    match request.kind {
        LinkKind::Count | LinkKind::FlagBack => {
            let _ = role;
            participants.iter().filter(|p| p.member != me).map(|p| p.member.clone()).collect()
        }
        LinkKind::Overlap => {
            participants.iter().filter(|p| p.member != me).map(|p| p.member.clone()).collect()
        }
    }
}

fn privacy_plan(
    state: &NodeState,
    query: &AuthorisedQuery,
    rule: &LinkageRule,
    dataset: &str,
) -> Result<LinkPrivacyPlan, Refusal> {
    let env = query.checked().envelope();
    let invalid = |problem: String| Refusal::QueryInvalid { problem };
    let budget = state.policy.budget.as_ref().ok_or_else(|| {
        not_allowed(
            "policy.linkage.privacy",
            "linked outputs need DP and this node's policy has no [budget]".into(),
        )
    })?;
    let limits = budget.limits().map_err(invalid)?;
    let epsilon_micro = fedlink_proto::audit::budget::parse_epsilon(&rule.privacy.epsilon)
        .map_err(|e| invalid(e.to_string()))?;
    let epsilon = Ratio::new(epsilon_micro, MICRO).map_err(|e| invalid(e.to_string()))?;
    let mechanism = DiscreteLaplace::new(epsilon, LINKED_TABLE_SENSITIVITY)
        .map_err(|e| invalid(e.to_string()))?;
    let quality_mechanism = DiscreteLaplace::new(epsilon, LINKED_TABLE_SENSITIVITY)
        .map_err(|e| invalid(e.to_string()))?;
    let today = state.audit.clock().now().date();
    let charge = pb::BudgetCharge {
        coordinator: env.coordinator.clone(),
        requester: format!("{}@{}", env.requester.officer_id, env.requester.organisation),
        dataset: dataset.to_string(),
        period: budget.period.label(today),
        // The table and the quality figures each spend ε.
        epsilon_micro: epsilon_micro.saturating_mul(2),
    };
    check_budget(state, &charge, &limits)?;
    Ok(LinkPrivacyPlan { mechanism, quality_mechanism, epsilon_micro, charge, limits })
}
