//! The computing node's release (design-review §8 step 6, F3, F10): links counted by
//! (cohort label g, partner label h) over the fixed vocabularies, discrete Laplace noise scaled
//! to ℓ1 sensitivity 2 on every cell, then suppression and rounding as post-processing; and the
//! query's quality figures (links made by each key pass, and with a calibrated matcher the
//! model's expected true and missed links, F10), noised and protected the same way.
//! The exact counts live only inside this function: they are never stored or logged.

use fedlink_proto::audit::budget::micro_to_string;
use fedlink_proto::pb;

use super::plan::{LINKED_TABLE_SENSITIVITY, LinkPlan};
use crate::aggregate::answer::{release_table, released_count, table_body};
use crate::aggregate::run::RawCell;
use crate::disclosure::{CountKind, Dimension, Rounding, SdcRules};
use crate::error::NodeError;
use crate::linkage::calibration::EstimatedQuality;
use crate::linkage::{Label, Linkage, LinkageError, count_by_labels};

/// The disclosure rules of the test seam (`danger_exact_linked_counts`): nothing suppressed or
/// rounded, so tests compare released counts with hand-computed ones.
pub fn seam_rules(base: SdcRules, release_margins: bool) -> SdcRules {
    SdcRules { min_cell: 1, rounding: Rounding::Nearest(1), release_margins, ..base }
}

/// The matcher a query linked with, as released tables name it.
pub const KEY_PASSES: &str = "key-passes";

/// The protected linked table and quality figures for one query; `estimated` is the calibrated
/// matcher's estimate, `None` for the key passes.
pub fn linked_table(
    exact_for_tests: bool,
    plan: &LinkPlan,
    linkage: &Linkage,
    estimated: Option<&EstimatedQuality>,
    cohort_labels: &[Label],
    partner_labels: &[Label],
    sizes: Vec<pb::SideSize>,
) -> Result<pb::LinkedTable, NodeError> {
    let internal = |e: &dyn std::fmt::Display| NodeError::Internal(format!("linked table: {e}"));
    let privacy = plan
        .privacy
        .as_ref()
        .ok_or_else(|| internal(&"a linked output without DP is never released"))?;
    let vocabulary: Vec<String> =
        plan.labels.vocabulary().iter().map(|l| l.as_str().to_string()).collect();
    let dims = vec![
        Dimension::new("cohort_label", vocabulary.clone()).map_err(|e| internal(&e))?,
        Dimension::new("partner_label", vocabulary).map_err(|e| internal(&e))?,
    ];
    let counts = count_by_labels(linkage, cohort_labels, partner_labels)
        .map_err(|e: LinkageError| internal(&e))?;
    let raw: Vec<RawCell> = counts
        .into_iter()
        .map(|((g, h), n)| RawCell {
            groups: vec![Some(g.as_str().to_string()), Some(h.as_str().to_string())],
            value: i64::try_from(n).unwrap_or(i64::MAX),
        })
        .collect();
    // The test seam: exact counts, nothing suppressed or rounded, and marked as such below.
    let (rules, mechanism, quality_mechanism) = if exact_for_tests {
        (seam_rules(plan.rule.disclosure, true), None, None)
    } else {
        (plan.rule.disclosure, Some(&privacy.mechanism), Some(&privacy.quality_mechanism))
    };
    let protected = release_table(&dims, raw, mechanism, &rules)?;

    let passes: Vec<String> =
        plan.selection.key_types().iter().map(|k| k.tag().to_string()).collect();
    let pass_dim = vec![Dimension::new("pass", passes.clone()).map_err(|e| internal(&e))?];
    let raw_passes: Vec<RawCell> = linkage
        .by_pass()
        .into_iter()
        .map(|(kt, n)| RawCell {
            groups: vec![Some(kt.tag().to_string())],
            value: i64::try_from(n).unwrap_or(i64::MAX),
        })
        .collect();
    let quality_rules = SdcRules { release_margins: false, ..rules };
    let quality = release_table(&pass_dim, raw_passes, quality_mechanism, &quality_rules)?;
    let expected = match estimated {
        None => None,
        Some(e) => {
            let names = vec!["expected_true_links".to_string(), "expected_missed_links".into()];
            let dim = vec![Dimension::new("estimate", names.clone()).map_err(|e| internal(&e))?];
            let raw = [e.expected_true_links, e.expected_missed_links]
                .into_iter()
                .zip(names)
                .map(|(value, name)| RawCell {
                    groups: vec![Some(name)],
                    // Rounded before noise: the noise is what protects, not the rounding.
                    value: value.round().clamp(0.0, i64::MAX as f64) as i64,
                })
                .collect();
            let released = release_table(&dim, raw, quality_mechanism, &quality_rules)?;
            let cells: Vec<pb::ReleasedCount> =
                released.cells().iter().map(|c| released_count(*c)).collect();
            Some((cells.first().cloned(), cells.get(1).cloned()))
        }
    };
    let matcher = match &plan.calibration {
        Some(model) => model.describe(),
        None => KEY_PASSES.to_string(),
    };

    let epsilon = micro_to_string(privacy.epsilon_micro);
    let mut applied = if exact_for_tests {
        vec!["test-seam:exact".to_string()]
    } else {
        vec![format!("dp.discrete_laplace(eps={epsilon},sensitivity={LINKED_TABLE_SENSITIVITY})")]
    };
    applied.extend(protected.applied().iter().map(|r| r.code()));
    let legend = format!(
        "linked subjects: each cohort tuple counted at most once and credited by at most one \
         partner subject; counts carry random noise (differential privacy, epsilon {epsilon}); \
         {}",
        rules.legend(CountKind::Noised)
    );
    let env_sides: Vec<String> =
        plan.request.sides.iter().map(|s| format!("{}/{}", s.member, s.dataset)).collect();
    let table = pb::ProtectedTable {
        dataset: env_sides.join(" x "),
        // Each released count is of distinct cohort subjects (one per linked cohort tuple).
        metric: "distinct_subjects".into(),
        applied_rules: applied,
        legend,
        privacy: Some(pb::PrivacyApplied {
            mechanism: "discrete_laplace".into(),
            epsilon_micro: privacy.epsilon_micro,
            max_rows_per_subject: 1,
            requester_remaining_micro: 0,
            budget_period: privacy.charge.period.clone(),
        }),
        ..table_body(&dims, &protected)
    };
    let quality = passes
        .iter()
        .zip(quality.cells())
        .map(|(pass, cell)| pb::LinkQuality {
            pass: pass.clone(),
            links: Some(released_count(*cell)),
        })
        .collect();
    let (expected_true_links, expected_missed_links) = expected.unwrap_or((None, None));
    Ok(pb::LinkedTable {
        table: Some(table),
        quality,
        sizes,
        matcher,
        expected_true_links,
        expected_missed_links,
    })
}

/// States in the table what the requester has left once this release's charge is booked, as
/// the aggregate path does.
pub fn state_remaining_budget(
    state: &crate::state::NodeState,
    privacy: &super::plan::LinkPrivacyPlan,
    table: &mut pb::LinkedTable,
) -> Result<(), NodeError> {
    use fedlink_proto::audit::budget::{BudgetKey, BudgetScope, keys_of};
    if let Some(applied) = table.table.as_mut().and_then(|t| t.privacy.as_mut()) {
        let key =
            BudgetKey { scope: BudgetScope::Requester, ..keys_of(&privacy.charge)[1].clone() };
        let spent = state.audit.balance(&key)?;
        applied.requester_remaining_micro = privacy
            .limits
            .requester_micro
            .saturating_sub(spent.saturating_add(privacy.charge.epsilon_micro));
    }
    Ok(())
}

/// Logs a computing node's release — the hash of exactly what is returned, the rules applied,
/// the relay messages' digest lines, and the budget charge booked in the same transaction — and
/// wraps it with the entry's receipt. The remaining budget is stated in the table first.
pub fn release_and_log(
    state: &crate::state::NodeState,
    logged: &crate::gate::Logged<crate::policy::AuthorisedQuery>,
    privacy: &super::plan::LinkPrivacyPlan,
    mut linked: pb::LinkedTable,
    detail: String,
    relay_digests: &[String],
) -> Result<pb::LinkOutcome, NodeError> {
    state_remaining_budget(state, privacy, &mut linked)?;
    let bytes = prost::Message::encode_to_vec(&linked);
    let output = pb::OutputRecord {
        output_class: "LINKED_DP".into(),
        result_hash: fedlink_proto::envelope::sha256(&bytes).to_vec(),
        records_released: linked.table.as_ref().map_or(0, |t| t.cells.len() as u64),
        disclosure_rule: linked
            .table
            .as_ref()
            .map(|t| t.applied_rules.join(";"))
            .unwrap_or_default(),
        ..Default::default()
    };
    let coordinator = logged.query().checked().envelope().coordinator.clone();
    let receipt = state.audit.disclose_linked(
        logged,
        output,
        vec![coordinator],
        detail,
        relay_digests,
        Some((privacy.charge.clone(), &privacy.limits)),
    )?;
    Ok(pb::LinkOutcome {
        result: Some(pb::link_outcome::Result::Table(linked)),
        receipt: Some(receipt),
    })
}
