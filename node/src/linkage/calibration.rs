//! Calibrated Fellegi–Sunter models (issue 6; design-review F18): fitted once, at the computing
//! node, on a calibration run — its own dataset against a whole partner set its policy approves
//! — stored versioned beside its policy, and read unchanged by every later query, so a
//! requester's choice of cohort cannot steer the weights.
//!
//! - [`WithinFile`]: what a node computes alone from its own subjects' plaintext keys, before
//!   unique-or-random drops shared values: how often two *different* subjects agree on each key
//!   type. That fixes u.
//! - [`Calibration::fit`]: the agreement patterns of every candidate pair of a calibration run
//!   (pairs sharing at least one blinded key), EM for m with u fixed, and the decision
//!   threshold.
//! - [`Calibration::matcher`]: the [`CalibratedMatcher`] later queries use: it only scores,
//!   never refits, and reports the query's [`EstimatedQuality`] beside its [`Linkage`].
//!
//! The matcher compares slot values for equality only, like every [`Matcher`], so the same
//! code runs on plaintext messages in tests and the evaluation, and on blinded points in the
//! protocol.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

use serde::{Deserialize, Serialize};

use super::LinkageError;
use super::matcher::{Linkage, LinkedPair, Matcher, Side};
use super::scoring::{
    FieldProbabilities, Model, Pattern, PatternCounts, assign_one_to_one, fit_m, within_file_u,
};
use super::tuple::Subject;
use crate::matchkey::KeyType;

/// The posterior at or above which a pair may link, unless a calibration says otherwise.
pub const DEFAULT_THRESHOLD: f64 = 0.5;

/// EM settings for a calibration run.
const MAX_ITER: usize = 500;
const TOL: f64 = 1e-9;

/// A node's own statistics for u: per key type, how many of its subjects hold each value
/// (before unique-or-random). Built from plaintext at the node; never leaves it.
#[derive(Debug, Clone, PartialEq)]
pub struct WithinFile {
    key_types: Vec<KeyType>,
    u: Vec<f64>,
}

impl WithinFile {
    /// The statistics of `subjects` for `key_types` (the layout's order). Each subject counts
    /// once per value, whatever its slots.
    pub fn of_subjects(subjects: &[Subject], key_types: &[KeyType]) -> WithinFile {
        let mut per_key: Vec<HashMap<&[u8], u64>> = vec![HashMap::new(); key_types.len()];
        for subject in subjects {
            let mut seen: HashSet<&[u8]> = HashSet::new();
            for message in &subject.messages {
                let key = message.key_bytes();
                if let Some(group) = key_types.iter().position(|&k| k == message.key_type())
                    && seen.insert(key)
                    && let Some(counts) = per_key.get_mut(group)
                {
                    *counts.entry(key).or_default() += 1;
                }
            }
        }
        let counts: Vec<Vec<u64>> = per_key
            .into_iter()
            .map(|m| {
                let mut v: Vec<u64> = m.into_values().collect();
                // Subjects without the key are distinct non-agreeing values.
                let missing = (subjects.len() as u64).saturating_sub(v.iter().sum());
                v.extend(std::iter::repeat_n(1, usize::try_from(missing).unwrap_or(0)));
                v
            })
            .collect();
        WithinFile { key_types: key_types.to_vec(), u: within_file_u(&counts) }
    }

    /// u per key type, in the order given.
    pub fn u(&self) -> &[f64] {
        &self.u
    }
}

/// A fitted model as stored (TOML) and read back: key types by tag, m and u per key type,
/// the prior λ and the decision threshold, and what it was fitted on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Key types by tag, in layout order.
    pub key_types: Vec<String>,
    /// P(agree | match) per key type.
    pub m: Vec<f64>,
    /// P(agree | non-match) per key type (within-file).
    pub u: Vec<f64>,
    /// Prior proportion of matches among candidate pairs.
    pub lambda: f64,
    /// Posterior at or above which a pair may link.
    pub threshold: f64,
    /// Candidate pairs the fit saw.
    pub candidate_pairs: u64,
    /// EM iterations used, and whether it converged.
    pub iterations: u64,
    /// Whether EM converged.
    pub converged: bool,
}

impl Calibration {
    /// Fits a model on a calibration run's two doubly-blinded sides, with u from the computing
    /// node's own [`WithinFile`] statistics.
    pub fn fit<K: Eq + Hash>(
        cohort: Side<'_, K>,
        partner: Side<'_, K>,
        within: &WithinFile,
    ) -> Result<Calibration, LinkageError> {
        check_sides(cohort, partner)?;
        if within.key_types != cohort.layout.key_types() {
            return Err(LinkageError::KeyTypesDiffer);
        }
        let patterns = candidate_patterns(cohort, partner);
        let k = cohort.layout.key_types().len();
        let mut counts = PatternCounts::new(k).map_err(scoring)?;
        for pattern in patterns.values() {
            counts.add(*pattern, 1).map_err(scoring)?;
        }
        if counts.total() == 0 {
            return Err(LinkageError::Wire("a calibration run with no candidate pair".into()));
        }
        let model = fit_m(&counts, within.u(), MAX_ITER, TOL).map_err(scoring)?;
        Ok(Calibration {
            key_types: cohort.layout.key_types().iter().map(|k| k.tag().to_string()).collect(),
            m: model.m().to_vec(),
            u: model.u().to_vec(),
            lambda: model.lambda(),
            threshold: DEFAULT_THRESHOLD,
            candidate_pairs: counts.total(),
            iterations: model.iterations() as u64,
            converged: model.converged(),
        })
    }

    /// The key types, parsed from their tags.
    pub fn key_types(&self) -> Result<Vec<KeyType>, LinkageError> {
        self.key_types
            .iter()
            .map(|tag| {
                KeyType::from_tag(tag)
                    .ok_or_else(|| LinkageError::Wire(format!("unknown key type {tag:?}")))
            })
            .collect()
    }

    /// The matcher later queries use.
    pub fn matcher(&self) -> Result<CalibratedMatcher, LinkageError> {
        let probabilities = FieldProbabilities { m: self.m.clone(), u: self.u.clone() };
        let model = Model::new(probabilities, self.lambda).map_err(scoring)?;
        if !(self.threshold > 0.0 && self.threshold < 1.0) {
            return Err(LinkageError::Wire(format!(
                "a calibration threshold must lie in (0, 1), not {}",
                self.threshold
            )));
        }
        Ok(CalibratedMatcher { key_types: self.key_types()?, model, threshold: self.threshold })
    }
}

/// Scores with a fixed calibrated model; never refits.
#[derive(Debug, Clone)]
pub struct CalibratedMatcher {
    key_types: Vec<KeyType>,
    model: Model,
    threshold: f64,
}

/// What the model expects of one query's linkage: the query-level quality figures of F10,
/// before noise. Precision ≈ `expected_true_links / links`; recall ≈ `expected_true_links /
/// (expected_true_links + expected_missed_links)`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EstimatedQuality {
    /// Σ posterior over the linked pairs.
    pub expected_true_links: f64,
    /// Σ posterior over candidate pairs left unlinked, each partner subject's share capped at
    /// 1 (it can be at most one missed link), so one subject moves it by at most 1.
    pub expected_missed_links: f64,
}

/// A linkage and its estimated quality.
#[derive(Debug, Clone)]
pub struct ScoredLinkage {
    /// The one-to-one linkage.
    pub linkage: Linkage,
    /// What the model expects of it.
    pub quality: EstimatedQuality,
}

impl CalibratedMatcher {
    /// Links one-to-one and estimates the linkage's quality.
    pub fn link_scored<K: Eq + Hash>(
        &self,
        cohort: Side<'_, K>,
        partner: Side<'_, K>,
    ) -> Result<ScoredLinkage, LinkageError> {
        check_sides(cohort, partner)?;
        if cohort.layout.key_types() != self.key_types.as_slice() {
            return Err(LinkageError::KeyTypesDiffer);
        }
        let patterns = candidate_patterns(cohort, partner);
        let mut candidates: Vec<(usize, usize, Pattern)> =
            patterns.iter().map(|(&(c, p), &pattern)| (c, p, pattern)).collect();
        candidates.sort_unstable_by_key(|&(c, p, _)| (c, p));
        let assigned = assign_one_to_one(&candidates, &self.model, self.threshold);
        let linked: HashSet<(usize, usize)> = assigned.iter().copied().collect();
        let mut quality = EstimatedQuality::default();
        let mut missed_by_partner: HashMap<usize, f64> = HashMap::new();
        for &(c, p, pattern) in &candidates {
            let posterior = self.model.posterior(pattern);
            if linked.contains(&(c, p)) {
                quality.expected_true_links += posterior;
            } else {
                *missed_by_partner.entry(p).or_default() += posterior;
            }
        }
        quality.expected_missed_links = missed_by_partner.values().map(|s| s.min(1.0)).sum();
        let first = self.key_types.first().copied().ok_or(LinkageError::NoKeyTypes)?;
        let pairs = assigned
            .into_iter()
            .map(|(c, p)| {
                let pattern = patterns.get(&(c, p)).copied().unwrap_or(Pattern::from_bits(0));
                // The strongest agreeing key type names the pass, for the quality figures.
                let pass = (0..self.key_types.len())
                    .find(|&g| pattern.agrees(g))
                    .and_then(|g| self.key_types.get(g).copied())
                    .unwrap_or(first);
                LinkedPair { cohort: c, partner: p, pass }
            })
            .collect();
        let linkage = Linkage::from_pairs(pairs, cohort.tuples.len(), partner.tuples.len())?;
        Ok(ScoredLinkage { linkage, quality })
    }
}

impl<K: Eq + Hash> Matcher<K> for CalibratedMatcher {
    fn link(&self, cohort: Side<'_, K>, partner: Side<'_, K>) -> Result<Linkage, LinkageError> {
        Ok(self.link_scored(cohort, partner)?.linkage)
    }
}

/// Both sides share key types and every tuple fits its layout.
fn check_sides<K>(cohort: Side<'_, K>, partner: Side<'_, K>) -> Result<(), LinkageError> {
    if cohort.layout.key_types() != partner.layout.key_types() {
        return Err(LinkageError::KeyTypesDiffer);
    }
    for side in [cohort, partner] {
        for (index, tuple) in side.tuples.iter().enumerate() {
            side.layout.check(index, tuple)?;
        }
    }
    Ok(())
}

/// Every (cohort, partner) pair sharing at least one value, with which key types agree.
pub fn candidate_patterns<K: Eq + Hash>(
    cohort: Side<'_, K>,
    partner: Side<'_, K>,
) -> HashMap<(usize, usize), Pattern> {
    let mut bits: HashMap<(usize, usize), u32> = HashMap::new();
    for group in 0..cohort.layout.key_types().len().min(32) {
        let mut holders: HashMap<&K, Vec<usize>> = HashMap::new();
        for (p, tuple) in partner.tuples.iter().enumerate() {
            for value in tuple.group(partner.layout, group).iter().flatten() {
                holders.entry(value).or_default().push(p);
            }
        }
        for (c, tuple) in cohort.tuples.iter().enumerate() {
            for value in tuple.group(cohort.layout, group).iter().flatten() {
                for &p in holders.get(value).map(Vec::as_slice).unwrap_or_default() {
                    *bits.entry((c, p)).or_default() |= 1 << group;
                }
            }
        }
    }
    bits.into_iter().map(|(pair, b)| (pair, Pattern::from_bits(b))).collect()
}

fn scoring(e: super::scoring::ScoringError) -> LinkageError {
    LinkageError::Wire(e.to_string())
}
