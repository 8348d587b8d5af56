//! Calibrated Fellegi–Sunter models (issue 6; design-review F18): fitted once, at the computing
//! node, on a calibration run — its own dataset against a whole partner set its policy approves
//! — stored versioned beside its policy, and read unchanged by every later query, so a
//! requester's choice of cohort cannot steer the weights.
//!
//! - [`WithinFile`]: what a node computes alone from its own subjects' plaintext keys, before
//!   unique-or-random drops shared values: how often two *different* subjects agree at each
//!   level of each field comparison (key family, [`Comparisons`]). That fixes u.
//! - [`Calibration::fit`]: the agreement patterns of every candidate pair of a calibration run
//!   (pairs sharing at least one blinded key), read as per-field levels, EM for m with u
//!   fixed over all pairs of the run, and the decision threshold: [`DEFAULT_THRESHOLD`], the
//!   Bayes rule (link when a match is more likely than not). Choosing the threshold so that
//!   the model's own estimated precision reached 0.995 was tried and dropped: the posteriors
//!   are pessimistic (unique-or-random has already removed most ambiguous pairs), so it cut
//!   recall on the synthetic county from 0.96 to 0.91 while true precision stayed ≥ 0.998.
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
use super::scoring::levels::{Comparisons, LevelModel, LevelU, fit_levels};
use super::scoring::{Pattern, PatternCounts};
use super::tuple::Subject;
use crate::matchkey::KeyType;

/// The lowest posterior at which a pair may link, whatever a calibration estimates.
pub const DEFAULT_THRESHOLD: f64 = 0.5;

/// The model format a [`Calibration`] holds; a stored calibration of another format is
/// refused, not misread.
pub const MODEL_FORMAT: &str = "fs-levels/1";

/// EM settings for a calibration run.
const MAX_ITER: usize = 1000;
const TOL: f64 = 1e-10;

/// Values held by more of a node's own subjects than this are left out of within-file u
/// (unique-or-random drops them from every query anyway).
const MAX_HOLDERS: usize = 1000;

/// The fewest subjects with an NHS number for u to be taken from their pairs alone.
const MIN_DISTINCT_SUBJECTS: usize = 500;

/// A node's own statistics for u: per comparison level, how often two of its distinct
/// subjects agree at that level (before unique-or-random). Built from plaintext at the node;
/// never leaves it.
#[derive(Debug, Clone, PartialEq)]
pub struct WithinFile {
    key_types: Vec<KeyType>,
    levels: LevelU,
}

impl WithinFile {
    /// The statistics of `subjects` for `key_types` (the layout's order). Each subject counts
    /// once per value, whatever its slots.
    pub fn of_subjects(subjects: &[Subject], key_types: &[KeyType]) -> WithinFile {
        let values: Vec<Vec<(usize, &[u8])>> = subjects
            .iter()
            .map(|subject| {
                let mut seen: HashSet<&[u8]> = HashSet::new();
                subject
                    .messages
                    .iter()
                    .filter_map(|message| {
                        let key = message.key_bytes();
                        let group = key_types.iter().position(|&k| k == message.key_type())?;
                        seen.insert(key).then_some((group, key))
                    })
                    .collect()
            })
            .collect();
        let comparisons = Comparisons::of(key_types);
        // Two of a node's subjects may be one person (a record with an NHS number and one
        // without make two subjects), and such duplicates are exactly the pairs that agree on
        // strong keys: counted as non-matches they inflate u by orders of magnitude. Subjects
        // holding different NHS numbers are different people, so when enough subjects hold
        // one, u is taken from their pairs alone.
        let nhs_group = key_types.iter().position(|&k| k == KeyType::Nhs);
        let with_nhs: Vec<Vec<(usize, &[u8])>> = values
            .iter()
            .filter(|v| v.iter().filter(|(g, _)| Some(*g) == nhs_group).count() == 1)
            .cloned()
            .collect();
        let basis = if with_nhs.len() >= MIN_DISTINCT_SUBJECTS { &with_nhs } else { &values };
        let levels = LevelU::within_file(&comparisons, basis, MAX_HOLDERS);
        WithinFile { key_types: key_types.to_vec(), levels }
    }

    /// u per comparison level.
    pub fn level_u(&self) -> &[Vec<f64>] {
        &self.levels.u
    }
}

/// One field comparison of a stored model: its levels (key-type tags, strongest first, then
/// `none`) with m and u per level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonCalibration {
    /// The key family's name.
    pub family: String,
    /// The levels: key-type tags, strongest first, then "none".
    pub levels: Vec<String>,
    /// P(level | match).
    pub m: Vec<f64>,
    /// P(level | non-match), within-file.
    pub u: Vec<f64>,
}

/// A fitted model as stored (TOML) and read back: key types by tag, m and u per comparison
/// level, the prior λ and the decision threshold, and what it was fitted on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// [`MODEL_FORMAT`].
    pub format: String,
    /// Key types by tag, in layout order.
    pub key_types: Vec<String>,
    /// One per key family present, in family order.
    pub comparisons: Vec<ComparisonCalibration>,
    /// Prior proportion of matches among all pairs of the calibration run.
    pub lambda: f64,
    /// Posterior at or above which a pair may link.
    pub threshold: f64,
    /// The run's one-to-one links at the threshold: their mean posterior (the model's own
    /// precision estimate).
    pub estimated_precision: f64,
    /// Candidate pairs the fit saw.
    pub candidate_pairs: u64,
    /// All pairs of the run (cohort tuples × partner tuples).
    pub all_pairs: f64,
    /// EM iterations used.
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
        let key_types = cohort.layout.key_types();
        if within.key_types != key_types {
            return Err(LinkageError::KeyTypesDiffer);
        }
        let patterns = candidate_patterns(cohort, partner);
        let all_pairs = cohort.tuples.len() as f64 * partner.tuples.len() as f64;
        Calibration::fit_patterns(key_types, &patterns, all_pairs, within)
    }

    /// [`Calibration::fit`] on candidate patterns already found ([`candidate_patterns`]) and
    /// the number of all pairs of the run (cohort tuples × partner tuples).
    pub fn fit_patterns(
        key_types: &[KeyType],
        patterns: &HashMap<(usize, usize), Pattern>,
        all_pairs: f64,
        within: &WithinFile,
    ) -> Result<Calibration, LinkageError> {
        if within.key_types != key_types {
            return Err(LinkageError::KeyTypesDiffer);
        }
        let mut counts = PatternCounts::new(key_types.len()).map_err(scoring)?;
        for pattern in patterns.values() {
            counts.add(*pattern, 1).map_err(scoring)?;
        }
        if counts.total() == 0 {
            return Err(LinkageError::Wire("a calibration run with no candidate pair".into()));
        }
        let comparisons = Comparisons::of(key_types);
        let model =
            fit_levels(comparisons, within.levels.u.clone(), &counts, all_pairs, MAX_ITER, TOL)
                .map_err(scoring)?;
        let ranked = rank_links(&model, patterns);
        let (threshold, estimated_precision) = choose_threshold(&ranked);
        Ok(Calibration {
            format: MODEL_FORMAT.to_string(),
            key_types: key_types.iter().map(|k| k.tag().to_string()).collect(),
            comparisons: model
                .comparisons()
                .families()
                .iter()
                .zip(model.m().iter().zip(model.u()))
                .map(|((family, groups), (m, u))| ComparisonCalibration {
                    family: family.name().to_string(),
                    levels: groups
                        .iter()
                        .filter_map(|&g| key_types.get(g).map(|k| k.tag().to_string()))
                        .chain(std::iter::once("none".to_string()))
                        .collect(),
                    m: m.clone(),
                    u: u.clone(),
                })
                .collect(),
            lambda: model.lambda(),
            threshold,
            estimated_precision,
            candidate_pairs: counts.total(),
            all_pairs,
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

    /// The matcher later queries use. Refuses a calibration of another format, or whose
    /// comparisons do not follow from its key types.
    pub fn matcher(&self) -> Result<CalibratedMatcher, LinkageError> {
        if self.format != MODEL_FORMAT {
            return Err(LinkageError::Wire(format!(
                "a calibration of format {:?}; this node reads {MODEL_FORMAT:?}",
                self.format
            )));
        }
        let key_types = self.key_types()?;
        let comparisons = Comparisons::of(&key_types);
        for ((family, groups), stored) in comparisons.families().iter().zip(&self.comparisons) {
            let levels: Vec<&str> = groups
                .iter()
                .filter_map(|&g| key_types.get(g).map(|k| k.tag()))
                .chain(std::iter::once("none"))
                .collect();
            if stored.family != family.name() || stored.levels != levels {
                return Err(LinkageError::Wire(format!(
                    "the calibration's {:?} comparison does not match its key types",
                    stored.family
                )));
            }
        }
        if comparisons.families().len() != self.comparisons.len() {
            return Err(LinkageError::Wire("the calibration's comparisons do not match".into()));
        }
        let m = self.comparisons.iter().map(|c| c.m.clone()).collect();
        let u = self.comparisons.iter().map(|c| c.u.clone()).collect();
        let model = LevelModel::new(comparisons, m, u, self.lambda).map_err(scoring)?;
        if !(self.threshold > 0.0 && self.threshold < 1.0) {
            return Err(LinkageError::Wire(format!(
                "a calibration threshold must lie in (0, 1), not {}",
                self.threshold
            )));
        }
        Ok(CalibratedMatcher { key_types, model, threshold: self.threshold })
    }
}

/// Scores with a fixed calibrated model; never refits.
#[derive(Debug, Clone)]
pub struct CalibratedMatcher {
    key_types: Vec<KeyType>,
    model: LevelModel,
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

/// One link of a ranked one-to-one assignment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankedLink {
    /// Cohort tuple.
    pub cohort: usize,
    /// Partner tuple.
    pub partner: usize,
    /// log2 Bayes factor.
    pub weight: f64,
    /// Posterior match probability.
    pub posterior: f64,
}

impl CalibratedMatcher {
    /// The calibrated threshold.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// The same model with another threshold (evaluation sweeps; a node uses the stored one).
    pub fn with_threshold(mut self, threshold: f64) -> CalibratedMatcher {
        self.threshold = threshold;
        self
    }

    /// The model.
    pub fn model(&self) -> &LevelModel {
        &self.model
    }

    /// Every link of the one-to-one assignment with no threshold, highest weight first. The
    /// linkage at threshold t is exactly the prefix with posterior ≥ t: greedy assignment
    /// never revisits a decision, so lower-weight pairs cannot change higher ones.
    pub fn ranked<K: Eq + Hash>(
        &self,
        cohort: Side<'_, K>,
        partner: Side<'_, K>,
    ) -> Result<Vec<RankedLink>, LinkageError> {
        check_sides(cohort, partner)?;
        if cohort.layout.key_types() != self.key_types.as_slice() {
            return Err(LinkageError::KeyTypesDiffer);
        }
        Ok(rank_links(&self.model, &candidate_patterns(cohort, partner)))
    }

    /// [`CalibratedMatcher::ranked`] on candidate patterns already found.
    pub fn ranked_patterns(&self, patterns: &HashMap<(usize, usize), Pattern>) -> Vec<RankedLink> {
        rank_links(&self.model, patterns)
    }

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
        let ranked = rank_links(&self.model, &patterns);
        let linked: HashSet<(usize, usize)> = ranked
            .iter()
            .filter(|l| l.posterior >= self.threshold)
            .map(|l| (l.cohort, l.partner))
            .collect();
        let mut quality = EstimatedQuality::default();
        let mut missed_by_partner: HashMap<usize, f64> = HashMap::new();
        for (&(c, p), &pattern) in &patterns {
            let posterior = self.model.posterior(pattern);
            if linked.contains(&(c, p)) {
                quality.expected_true_links += posterior;
            } else {
                *missed_by_partner.entry(p).or_default() += posterior;
            }
        }
        quality.expected_missed_links = missed_by_partner.values().map(|s| s.min(1.0)).sum();
        let first = self.key_types.first().copied().ok_or(LinkageError::NoKeyTypes)?;
        let pairs = linked
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

/// One-to-one by highest weight first over every candidate pair: each tuple is taken by its
/// heaviest pair whose other tuple is still free. Equal weights go to the lower cohort index,
/// then the lower partner index, so the result does not depend on the order of the map.
fn rank_links(model: &LevelModel, patterns: &HashMap<(usize, usize), Pattern>) -> Vec<RankedLink> {
    let mut pairs: Vec<RankedLink> = patterns
        .iter()
        .map(|(&(cohort, partner), &pattern)| {
            let weight = model.weight(pattern);
            let posterior = super::scoring::levels::posterior_of(weight, model.lambda());
            RankedLink { cohort, partner, weight, posterior }
        })
        .collect();
    pairs.sort_by(|a, b| {
        b.weight.total_cmp(&a.weight).then(a.cohort.cmp(&b.cohort)).then(a.partner.cmp(&b.partner))
    });
    let (mut cohorts, mut partners) = (HashSet::new(), HashSet::new());
    pairs.retain(|l| {
        if cohorts.contains(&l.cohort) || partners.contains(&l.partner) {
            return false;
        }
        cohorts.insert(l.cohort);
        partners.insert(l.partner);
        true
    });
    pairs
}

/// The Bayes threshold, and the model's estimated precision there: the mean posterior of the
/// run's one-to-one links at or above it.
fn choose_threshold(ranked: &[RankedLink]) -> (f64, f64) {
    let kept: Vec<f64> = ranked
        .iter()
        .map(|link| link.posterior)
        .filter(|&posterior| posterior >= DEFAULT_THRESHOLD)
        .collect();
    let precision =
        if kept.is_empty() { 1.0 } else { kept.iter().sum::<f64>() / kept.len() as f64 };
    (DEFAULT_THRESHOLD, precision)
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
