//! What a node feeds into its tuples: its side's qualifying rows, read read-only from its
//! dataset store, turned into subjects; the cap on how many real subjects one query may carry;
//! and the dummy padding per label class, with a noised count so the padded size of a class
//! says little about its real size (design-review F2, F11).

use std::collections::BTreeMap;

use fedlink_proto::link::LinkUnit;
use fedlink_proto::refusal::Refusal;

use super::StepError;
use super::plan::LinkPlan;
use crate::aggregate::run::open_read_only;
use crate::error::NodeError;
use crate::linkage::cluster::cluster_rows;
use crate::linkage::source::{SourceRow, read_rows};
use crate::linkage::{Label, LabelPolicy};
use crate::privacy::{DiscreteLaplace, OsRandom, Ratio};
use crate::state::NodeState;

/// The side's qualifying rows. In an address linkage the subject of a row is its building
/// (the parent UPRN, or the UPRN of a building without one), not the person: every event at
/// one building becomes one subject, so a hostel's UPRN is that subject's key rather than a
/// value many subjects share (which unique-or-random would drop).
pub fn read_side(state: &NodeState, plan: &LinkPlan) -> Result<Vec<SourceRow>, StepError> {
    let mut rows = read_person_rows(state, plan)?;
    Ok(match plan.request.unit {
        LinkUnit::Person => {
            // The node's own records of one person become one subject before any key is
            // blinded (F4 item 1), without chaining unlike records (`cluster_rows`).
            cluster_rows(&mut rows);
            rows
        }
        LinkUnit::Address => by_building(rows),
    })
}

/// Rows re-keyed by building; rows with no UPRN are left out (they have no address key).
fn by_building(rows: Vec<SourceRow>) -> Vec<SourceRow> {
    rows.into_iter()
        .filter_map(|mut row| {
            let building = row.ids.parent_uprn.or(row.ids.uprn)?;
            row.subject = i64::try_from(building.value()).unwrap_or(i64::MAX);
            Some(row)
        })
        .collect()
}

fn read_person_rows(state: &NodeState, plan: &LinkPlan) -> Result<Vec<SourceRow>, StepError> {
    let schema = state
        .schema(&plan.side.dataset)
        .ok_or_else(|| Refusal::UnknownDataset { dataset: plan.side.dataset.clone() })?;
    let conn = open_read_only(&state.datasets_db())
        .map_err(|e| NodeError::Internal(format!("dataset store: {e}")))?;
    read_rows(&conn, schema, &plan.side.filters, plan.side.label_column.as_deref()).map_err(|e| {
        StepError::Refused(Refusal::QueryInvalid { problem: format!("link side: {e}") })
    })
}

/// Refuses a side with more real subjects than the rule allows in one query.
pub fn check_cap(plan: &LinkPlan, subjects: usize) -> Result<(), StepError> {
    let max = plan.rule.max_subjects_per_query as usize;
    if subjects > max {
        return Err(StepError::Refused(Refusal::LinkageNotAllowed {
            rule: "policy.linkage.caps",
            problem: format!(
                // Not the number itself: an exact count of a filtered side would reach the
                // coordinator past noise and disclosure control.
                "the side has more subjects than the {max} dataset {:?} allows per query",
                plan.side.dataset
            ),
        }));
    }
    Ok(())
}

/// The most tuples a peer may send for a side of at most `max_real` real subjects: the real
/// ones, and dummies of at most k + 20k per class (far beyond any noise draw) for each class
/// of the vocabulary.
pub fn max_tuples(max_real: usize, labels: &LabelPolicy) -> usize {
    let per_class = labels.k_min().saturating_mul(21);
    max_real.saturating_add(per_class.saturating_mul(labels.vocabulary().len()))
}

/// How many dummies each class gets: k plus the absolute value of a discrete Laplace draw of
/// scale k, from the OS CSPRNG — noised, so a padded class size does not give its real size.
pub fn dummy_counts(
    classes: &BTreeMap<Label, usize>,
    labels: &LabelPolicy,
) -> Result<BTreeMap<Label, usize>, StepError> {
    let k = labels.k_min().max(1) as u64;
    let internal = |e: &dyn std::fmt::Display| NodeError::Internal(format!("dummies: {e}"));
    let scale = Ratio::integer(k).map_err(|e| internal(&e))?;
    let noise = DiscreteLaplace::with_scale(scale).map_err(|e| internal(&e))?;
    let mut rng = OsRandom::new();
    let mut out = BTreeMap::new();
    for label in classes.keys() {
        let draw = noise.sample(&mut rng).map_err(|e| internal(&e))?;
        let extra = usize::try_from(draw.unsigned_abs()).unwrap_or(0).min(20 * k as usize);
        out.insert(label.clone(), k as usize + extra);
    }
    Ok(out)
}
