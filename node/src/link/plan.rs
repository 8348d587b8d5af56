//! Whether this node may take part in a linked query, decided before the request is admitted
//! (so a refusal is an ordinary logged denial naming its rule), and everything its part needs:
//! its side, its `[[linkage]]` rule, the key types, the window, the label policy, the tuple
//! layouts both sides must share, its peers, and — at the computing node — the DP mechanism
//! and the budget charge.

use fedlink_proto::aggregate::{Filter, IsoDate};
use fedlink_proto::audit::budget::{BudgetLimits, MICRO_PER_EPSILON as MICRO};
use fedlink_proto::envelope::{NodeRole, Participant, QueryBody};
use fedlink_proto::link::{LinkKind, LinkRequest, LinkSide, LinkUnit};
use fedlink_proto::pb;
use fedlink_proto::refusal::Refusal;

use super::calibrations::LoadedModel;
use crate::aggregate::answer::check_budget;
use crate::linkage::{KeySelection, LabelPolicy, TupleLayout, UnitRange, WindowTemplate};
use crate::matchkey::{KeySubject, KeyType};
use crate::normalise::date::Date;
use crate::policy::AuthorisedQuery;
use crate::policy::linkage::{LinkRole, LinkageRule};
use crate::privacy::{DiscreteLaplace, Ratio};
use crate::state::NodeState;

/// Slots per key type without a window: room for a few values of one key type (aliases give
/// several name keys, a building several UPRNs).
const UNTIMED_SLOTS: usize = 4;

/// Slots of key type `kt` without a window, on either side: the most values one record can
/// hold ([`KeyType::max_values`]), and never fewer than [`UNTIMED_SLOTS`], so a subject of
/// several records keeps room for its variants. An NHS number is one value per subject: a
/// cohort row holds one, and the import keys a person-subject by its NHS number
/// (`dataset::row::subject_key`), so it gets one slot — a quarter of the points (and of the
/// blinding work) of four. The deletion keys of the fuzzy tier get their 16 (the name and one
/// deletion per character), else a typo late in a long name would find its neighbour dropped.
/// A subject holding more values keeps its earliest and counts the rest in `BuildReport`'s
/// `messages_over_capacity`. Fixed by the key type, never by the data (F5, F11).
pub fn untimed_slots(kt: KeyType) -> usize {
    match kt {
        KeyType::Nhs => 1,
        // Address keys are one value per record, but an address subject is a building with
        // many flats' records: it keeps the general room.
        _ => kt.max_values().max(UNTIMED_SLOTS),
    }
}

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
    /// With a window, the units a partner event can fall in and still match a cohort row
    /// ([`partner_reach`]); `None` when neither side states a period.
    pub partner_reach: Option<UnitRange>,
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
    /// At a computing node whose rule has a `matcher`: the stored model this query links with
    /// (never for a calibration run, which fits a new one).
    pub calibration: Option<LoadedModel>,
}

/// The DP of a computing node's release.
pub struct LinkPrivacyPlan {
    /// Noise for the (g, h) table.
    pub mechanism: DiscreteLaplace,
    /// Noise for the quality figures (links by key pass and, with a calibrated matcher, the
    /// model's expected true and missed links: sensitivity 2 for each of the three).
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
        (LinkKind::Count | LinkKind::FlagBack | LinkKind::Calibrate, NodeRole::Cohort) => {
            &[LinkRole::Cohort]
        }
        (LinkKind::Count | LinkKind::FlagBack | LinkKind::Calibrate, NodeRole::Computing) => {
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
    if request.kind == LinkKind::Overlap && window.is_some() {
        return Err(not_allowed(
            "policy.linkage.windows",
            "an overlap matrix takes no time window (state each side's period in its filters)"
                .into(),
        ));
    }

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
    let mut side = side;
    if request.kind == LinkKind::Calibrate {
        check_calibration_run(request, &rule, env.role, &side.dataset)?;
        // The computing node fits on the rows its operator chose, whatever the request says.
        if let (NodeRole::Computing, Some(matcher)) = (env.role, &rule.matcher) {
            side.filters =
                matcher.own_filters().map_err(|e| not_allowed("policy.linkage.calibration", e))?;
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

    // The day's cap last, so only a query the policy otherwise allows takes a place.
    let today = state.audit.clock().now().date().to_string();
    match super::usage::take_place(&state.data_dir, &side.dataset, &today, rule.max_queries_per_day)
    {
        Ok((true, _)) => {}
        Ok((false, taken)) => {
            return Err(not_allowed(
                "policy.linkage.caps",
                format!(
                    "dataset {:?} has taken part in {taken} linked queries today, its limit",
                    side.dataset
                ),
            ));
        }
        Err(e) => return Err(Refusal::QueryInvalid { problem: e.to_string() }),
    }
    let partner_reach = match &window {
        Some(w) => partner_reach(request, &env.participants, w)?,
        None => None,
    };
    let (cohort_layout, partner_layout) =
        layouts(&key_types, window.as_ref(), partner_reach.as_ref())
            .map_err(|e| Refusal::QueryInvalid { problem: e.to_string() })?;
    let peers = peers(me, &env.participants);
    let calibration = match (request.kind, env.role, &rule.matcher) {
        // A flag-back keeps the exact strong-key passes (F6): a person-level flag rests on
        // an identifier agreeing, never on a model's weighing of weaker keys.
        (LinkKind::Count, NodeRole::Computing, Some(matcher)) => {
            Some(stored_model(state, &side.dataset, matcher.version, &key_types)?)
        }
        _ => None,
    };
    let privacy = match (request.kind, env.role) {
        (LinkKind::Count | LinkKind::Overlap, NodeRole::Computing) => {
            Some(privacy_plan(state, query, &rule, &side.dataset, calibration.is_some())?)
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
        partner_reach,
        labels,
        cohort_layout,
        partner_layout,
        peers,
        privacy,
        calibration,
    })
}

/// A calibration run fits on two whole datasets (F18): no filters, no window, the one label
/// "all", and — at the computing node — a cohort its `matcher` section lists.
fn check_calibration_run(
    request: &LinkRequest,
    rule: &LinkageRule,
    role: NodeRole,
    dataset: &str,
) -> Result<(), Refusal> {
    let refuse = |problem: String| not_allowed("policy.linkage.calibration", problem);
    if request.window.is_some() {
        return Err(refuse("a calibration run takes no time window".into()));
    }
    if let Some(side) = request.sides.iter().find(|s| !s.filters.is_empty()) {
        return Err(refuse(format!(
            "a calibration run uses whole datasets, but side {:?} has filters",
            side.member
        )));
    }
    if let Some(side) = request.sides.iter().find(|s| s.label_column.is_some()) {
        return Err(refuse(format!(
            "a calibration run takes no labels, but side {:?} has a label column",
            side.member
        )));
    }
    if role != NodeRole::Computing {
        return Ok(());
    }
    let Some(matcher) = &rule.matcher else {
        return Err(refuse(format!(
            "dataset {dataset:?} has no [linkage.matcher] section, so nothing is calibrated"
        )));
    };
    for other in request.sides.iter().filter(|s| s.dataset != dataset || s.member.is_empty()) {
        let source = format!("{}/{}", other.member, other.dataset);
        if !matcher.calibrate_against.contains(&source) {
            return Err(refuse(format!(
                "{source} is not in matcher.calibrate_against for dataset {dataset:?}"
            )));
        }
    }
    Ok(())
}

/// The stored model a computing node's query links with; refused, naming the rule, when there
/// is none for the query's key types.
fn stored_model(
    state: &NodeState,
    dataset: &str,
    pinned: Option<u32>,
    key_types: &[KeyType],
) -> Result<LoadedModel, Refusal> {
    let tags: Vec<&str> = key_types.iter().map(|k| k.tag()).collect();
    match super::calibrations::find(&state.data_dir, dataset, pinned, key_types) {
        Ok(Some(model)) => Ok(model),
        Ok(None) => Err(not_allowed(
            "policy.linkage.calibration",
            match pinned {
                Some(v) => format!(
                    "dataset {dataset:?} links with calibration v{v}, which is not stored for \
                     key types {}",
                    tags.join(", ")
                ),
                None => format!(
                    "dataset {dataset:?} links with a calibrated model, and none is stored for \
                     key types {}: run a calibration first (kind = \"calibrate\")",
                    tags.join(", ")
                ),
            },
        )),
        Err(e) => {
            // The detail (a path in this node's data folder) stays in the service log.
            tracing::error!(error = %e, dataset, "reading the stored calibrations");
            Err(not_allowed(
                "policy.linkage.calibration",
                format!(
                    "the stored calibrations of dataset {dataset:?} could not be read; the \
                     node's operator has the details"
                ),
            ))
        }
    }
}

/// The two tuple shapes of a query, the same at both nodes: K key types × W window slots
/// (twice over, for a subject with two index dates or two values of a key type) on the cohort
/// side; on the partner side K × T, where T is the number of units in `partner_reach` — one
/// slot for every unit its events can match in, so no event that can match is ever crowded
/// out of its tuple by others — or, when no side states a period, 2W. Without a window both
/// sides get [`untimed_slots`] of each key type.
pub fn layouts(
    key_types: &[KeyType],
    window: Option<&WindowTemplate>,
    partner_reach: Option<&UnitRange>,
) -> Result<(TupleLayout, TupleLayout), crate::linkage::LinkageError> {
    let (cohort, partner) = match (window, partner_reach) {
        (None, _) => {
            let untimed = TupleLayout::per_key_type(key_types.iter().copied(), untimed_slots)?;
            return Ok((untimed.clone(), untimed));
        }
        (Some(w), Some(reach)) => (2 * w.slot_count(), reach.units()),
        (Some(w), None) => (2 * w.slot_count(), 2 * w.slot_count()),
    };
    Ok((
        TupleLayout::new(key_types.iter().copied(), cohort)?,
        TupleLayout::new(key_types.iter().copied(), partner)?,
    ))
}

/// The units a partner event can fall in and still match (a linked count or flag-back with
/// a window): the [reach](WindowTemplate::reach) of the window over the cohort side's period
/// (its index dates), cut to the partner side's own period; either alone when only one side
/// states one; `None` when neither does. Both nodes derive it from the request, so they agree
/// on the partner's tuple shape. Refuses periods that leave nothing to match.
pub fn partner_reach(
    request: &LinkRequest,
    participants: &[Participant],
    window: &WindowTemplate,
) -> Result<Option<UnitRange>, Refusal> {
    if request.kind == LinkKind::Overlap {
        return Ok(None);
    }
    let invalid = |problem: String| Refusal::QueryInvalid { problem };
    let is_cohort = |s: &&LinkSide| {
        participants.iter().any(|p| p.member == s.member && p.role == NodeRole::Cohort)
    };
    let (Some(cohort), Some(partner)) =
        (request.sides.iter().find(is_cohort), request.sides.iter().find(|s| !is_cohort(s)))
    else {
        return Ok(None);
    };
    let empty =
        |side: &LinkSide| invalid(format!("side {:?}: its periods share no day", side.member));
    let cohort_reach = match period(cohort).map_err(invalid)? {
        None => None,
        Some((from, to)) => Some(window.reach(from, to).ok_or_else(|| empty(cohort))?),
    };
    let partner_units = match period(partner).map_err(invalid)? {
        None => None,
        Some((from, to)) => Some(
            UnitRange::of_dates(window.granularity(), from, to).ok_or_else(|| empty(partner))?,
        ),
    };
    Ok(match (cohort_reach, partner_units) {
        (Some(reach), Some(units)) => Some(reach.intersect(&units).ok_or_else(|| {
            invalid(format!(
                "side {:?}: its period lies outside every window of the cohort's period, so \
                 nothing could match",
                partner.member
            ))
        })?),
        (reach, units) => reach.or(units),
    })
}

/// The event dates a side keeps: the intersection of its period filters, if it has any;
/// `from` may come out after `to`, which the callers refuse.
fn period(side: &LinkSide) -> Result<Option<(Date, Date)>, String> {
    let date = |d: &IsoDate| {
        Date::from_ymd(d.year(), d.month(), d.day()).map_err(|e| format!("period {d}: {e}"))
    };
    let mut kept: Option<(Date, Date)> = None;
    for filter in &side.filters {
        if let Filter::EventDates { from, to } = filter {
            let (from, to) = (date(from)?, date(to)?);
            kept = Some(match kept {
                None => (from, to),
                Some((f, t)) => (f.max(from), t.min(to)),
            });
        }
    }
    Ok(kept)
}

/// Who this node exchanges messages with: every other participant (the other side of a
/// two-sided query; in an overlap, every ring member, since the ring schedule may route a set
/// through any of them).
fn peers(me: &str, participants: &[fedlink_proto::envelope::Participant]) -> Vec<String> {
    participants.iter().filter(|p| p.member != me).map(|p| p.member.clone()).collect()
}

fn privacy_plan(
    state: &NodeState,
    query: &AuthorisedQuery,
    rule: &LinkageRule,
    dataset: &str,
    calibrated: bool,
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
    // The quality figures share one ε: links by pass, and with a calibrated matcher the
    // expected true and missed links too, each of sensitivity 2 (one subject moves one pair,
    // and one posterior share of at most 1 each way).
    let quality_groups = if calibrated { 3 } else { 1 };
    let quality_mechanism =
        DiscreteLaplace::new(epsilon, LINKED_TABLE_SENSITIVITY * quality_groups)
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

#[cfg(test)]
mod tests {
    use fedlink_proto::aggregate::text::parse_period;

    use super::*;
    use crate::linkage::Granularity;

    fn side(member: &str, period: Option<&str>) -> LinkSide {
        let filters = period
            .map(|p| {
                let (from, to) = parse_period(p).expect("period");
                vec![Filter::EventDates { from, to }]
            })
            .unwrap_or_default();
        LinkSide { member: member.into(), dataset: "d".into(), filters, label_column: None }
    }

    fn reach(cohort: Option<&str>, partner: Option<&str>) -> Result<Option<usize>, Refusal> {
        let request = LinkRequest {
            kind: LinkKind::Count,
            unit: LinkUnit::Person,
            key_types: vec!["nhs".into()],
            window: Some("3m".into()),
            // The partner first: sides are told apart by the participants' roles.
            sides: vec![side("icb", partner), side("police", cohort)],
        };
        let participants = [
            Participant { member: "police".into(), role: NodeRole::Cohort },
            Participant { member: "icb".into(), role: NodeRole::Computing },
        ];
        let window = WindowTemplate::new("3m", Granularity::Month, 3, false).expect("window");
        Ok(partner_reach(&request, &participants, &window)?.map(|r| r.units()))
    }

    #[test]
    fn the_partner_reach_comes_from_the_periods_both_sides_state() {
        // Index dates January to June 2025: October 2024 to May 2025.
        let cohort = Some("2025-01-01..2025-06-30");
        assert_eq!(reach(cohort, None).expect("ok"), Some(8));
        // Cut to the partner's data from March: March to May.
        assert_eq!(reach(cohort, Some("2025-03-15..2025-12-31")).expect("ok"), Some(3));
        // The partner's period alone: every month of it.
        assert_eq!(reach(None, Some("2024-04-01..2026-03-31")).expect("ok"), Some(24));
        assert_eq!(reach(None, None).expect("ok"), None);
        // A partner period after every window: nothing could match.
        let refused = reach(cohort, Some("2025-06-01..2025-12-31")).expect_err("disjoint");
        assert_eq!(refused.rule(), "aggregate.invalid", "{refused}");
        assert!(refused.to_string().contains("nothing could match"), "{refused}");
    }

    #[test]
    fn the_partner_layout_has_one_slot_per_unit_of_the_reach() {
        let window = WindowTemplate::new("3m", Granularity::Month, 3, false).expect("window");
        let reach = UnitRange::of_dates(
            Granularity::Month,
            Date::from_ymd(2024, 10, 1).expect("date"),
            Date::from_ymd(2025, 5, 31).expect("date"),
        )
        .expect("range");
        let (cohort, partner) =
            layouts(&[KeyType::Nhs], Some(&window), Some(&reach)).expect("layouts");
        assert_eq!((cohort.group_len(0), partner.group_len(0)), (6, 8));
        let (_, partner) = layouts(&[KeyType::Nhs], Some(&window), None).expect("layouts");
        assert_eq!(partner.group_len(0), 6);
        let (cohort, partner) = layouts(&[KeyType::Nhs], None, Some(&reach)).expect("layouts");
        assert_eq!((cohort.tuple_len(), partner.tuple_len()), (1, 1));
    }

    /// Without a window the slots depend on the key type alone: one NHS number, a few of
    /// every other key, the same on both sides.
    #[test]
    fn untimed_slots_are_fixed_by_key_type() {
        let (cohort, partner) =
            layouts(&[KeyType::NameDob, KeyType::Nhs, KeyType::SurnameDobPostcode], None, None)
                .expect("layouts");
        assert_eq!(cohort, partner);
        assert_eq!(cohort.key_types()[0], KeyType::Nhs);
        let groups: Vec<usize> = (0..3).map(|g| cohort.group_len(g)).collect();
        assert_eq!(groups, vec![1, UNTIMED_SLOTS, UNTIMED_SLOTS]);
        assert_eq!(cohort.tuple_len(), 1 + 2 * UNTIMED_SLOTS);
        assert_eq!(cohort.group_range(1), 1..1 + UNTIMED_SLOTS);
    }
}
