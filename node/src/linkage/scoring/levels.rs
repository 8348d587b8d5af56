//! Agreement patterns read as per-field agreement levels (issue 6): the key types of one
//! [`KeyFamily`] are not independent pieces of evidence — a pair that agrees on `name_dob`
//! agrees on `init_sur_dob` and `phon_name_dob` too — so each family is one comparison whose
//! *level* is its strongest agreeing key type, or "none". A family with L key types in the
//! layout has L + 1 levels, the last being "none".
//!
//! The model is Fellegi–Sunter over those comparisons: comparisons are conditionally
//! independent given match status, each with a multinomial m (P(level | match)) and u
//! (P(level | non-match)). u is fixed from the node's own records ([`LevelU::within_file`]);
//! EM estimates m and the prior λ ([`fit_levels`]) over *every* pair of the two sides — the
//! pairs sharing no key are all "none" everywhere, and are counted as such — so λ is the
//! match rate among all pairs and the within-file u (also over all pairs) applies unchanged.

use std::collections::HashMap;

use super::{Pattern, PatternCounts, ScoringError};
use crate::matchkey::{KeyFamily, KeyType};

/// The smallest probability any level keeps, so every level has a finite weight.
pub const P_FLOOR: f64 = 1e-12;

/// How far above u an agreement level's fitted m must stay (agreement is never evidence
/// against a match: free EM collapsed when allowed that).
const M_ABOVE_U: f64 = 1.0 + 1e-6;

/// The range λ is kept in.
const LAMBDA_RANGE: (f64, f64) = (1e-15, 1.0 - 1e-9);

/// Which layout groups make up each comparison, strongest level first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparisons {
    /// One entry per family present in the layout, in [`KeyFamily`] order.
    families: Vec<(KeyFamily, Vec<usize>)>,
}

impl Comparisons {
    /// The comparisons of a layout's key types (group `i` holds `key_types[i]`).
    pub fn of(key_types: &[KeyType]) -> Comparisons {
        let mut families: Vec<(KeyFamily, Vec<usize>)> = Vec::new();
        let mut order: Vec<(KeyType, usize)> =
            key_types.iter().copied().enumerate().map(|(g, k)| (k, g)).collect();
        order.sort();
        for (key_type, group) in order {
            let family = key_type.family();
            match families.iter_mut().find(|(f, _)| *f == family) {
                Some((_, groups)) => groups.push(group),
                None => families.push((family, vec![group])),
            }
        }
        families.sort_by_key(|(f, _)| *f);
        Comparisons { families }
    }

    /// The families, each with its layout groups, strongest level first.
    pub fn families(&self) -> &[(KeyFamily, Vec<usize>)] {
        &self.families
    }

    /// The level of comparison `c` for a pattern: the index of its strongest agreeing group,
    /// or the number of groups ("none").
    pub fn level(&self, c: usize, pattern: Pattern) -> usize {
        let groups = self.families.get(c).map(|(_, g)| g.as_slice()).unwrap_or_default();
        groups.iter().position(|&g| pattern.agrees(g)).unwrap_or(groups.len())
    }

    /// Levels per comparison (groups + 1).
    pub fn level_counts(&self) -> Vec<usize> {
        self.families.iter().map(|(_, g)| g.len() + 1).collect()
    }
}

/// u per comparison level, from pairs of a node's own subjects (non-matches by construction).
#[derive(Debug, Clone, PartialEq)]
pub struct LevelU {
    /// Per comparison, P(level | non-match), "none" last; each sums to 1.
    pub u: Vec<Vec<f64>>,
    /// Subjects the statistics came from.
    pub subjects: u64,
}

impl LevelU {
    /// Within-file u: `subject_values[s]` holds subject s's (layout group, value) pairs. For
    /// every pair of distinct subjects, the level of each comparison is read from the groups
    /// on which they share a value; u of a level is the share of all N(N−1)/2 pairs at that
    /// level. A level no pair reached gets half a pair's share, so its weight stays finite
    /// without claiming it never happens. Values held by more than `max_holders` subjects are
    /// skipped (they would be dropped by unique-or-random anyway, and are quadratic to count).
    pub fn within_file<V: Eq + std::hash::Hash>(
        comparisons: &Comparisons,
        subject_values: &[Vec<(usize, V)>],
        max_holders: usize,
    ) -> LevelU {
        let n = subject_values.len() as u64;
        let mut holders: HashMap<(usize, &V), Vec<u32>> = HashMap::new();
        for (s, values) in subject_values.iter().enumerate() {
            for (group, value) in values {
                let list = holders.entry((*group, value)).or_default();
                let s = s as u32;
                if list.last() != Some(&s) {
                    list.push(s);
                }
            }
        }
        let mut pairs: HashMap<(u32, u32), u32> = HashMap::new();
        for ((group, _), list) in &holders {
            if list.len() < 2 || list.len() > max_holders || *group >= 32 {
                continue;
            }
            for (i, &a) in list.iter().enumerate() {
                for &b in &list[i + 1..] {
                    let key = if a < b { (a, b) } else { (b, a) };
                    *pairs.entry(key).or_default() |= 1 << group;
                }
            }
        }
        let all_pairs = (n as f64) * (n.saturating_sub(1) as f64) / 2.0;
        let counts = comparisons.level_counts();
        let mut agreeing: Vec<Vec<f64>> = counts.iter().map(|&l| vec![0.0; l]).collect();
        for bits in pairs.values() {
            let pattern = Pattern::from_bits(*bits);
            for (c, levels) in agreeing.iter_mut().enumerate() {
                let level = comparisons.level(c, pattern);
                if let Some(slot) = levels.get_mut(level) {
                    *slot += 1.0;
                }
            }
        }
        let u = agreeing
            .into_iter()
            .map(|levels| {
                let last = levels.len().saturating_sub(1);
                let mut u: Vec<f64> = levels
                    .iter()
                    .take(last)
                    .map(|&k| {
                        if all_pairs > 0.0 {
                            (k.max(0.5) / all_pairs).clamp(P_FLOOR, 0.5)
                        } else {
                            0.5
                        }
                    })
                    .collect();
                let agree: f64 = u.iter().sum();
                u.push((1.0 - agree).max(P_FLOOR));
                u
            })
            .collect();
        LevelU { u, subjects: n }
    }
}

/// A fitted (or stored) level model.
#[derive(Debug, Clone, PartialEq)]
pub struct LevelModel {
    comparisons: Comparisons,
    /// Per comparison, P(level | match), "none" last.
    m: Vec<Vec<f64>>,
    /// Per comparison, P(level | non-match), "none" last.
    u: Vec<Vec<f64>>,
    /// Prior match rate among all pairs.
    lambda: f64,
    /// EM iterations run, and whether it converged.
    iterations: usize,
    converged: bool,
    /// Precomputed log2(m/u) per comparison level.
    weights: Vec<Vec<f64>>,
}

impl LevelModel {
    /// A model with parameters fixed in advance; checks shapes and that every value is in
    /// (0, 1).
    pub fn new(
        comparisons: Comparisons,
        m: Vec<Vec<f64>>,
        u: Vec<Vec<f64>>,
        lambda: f64,
    ) -> Result<LevelModel, ScoringError> {
        let counts = comparisons.level_counts();
        for (which, table) in [("m", &m), ("u", &u)] {
            if table.len() != counts.len() {
                return Err(ScoringError::KMismatch { expected: counts.len(), got: table.len() });
            }
            for (levels, &want) in table.iter().zip(&counts) {
                if levels.len() != want {
                    return Err(ScoringError::KMismatch { expected: want, got: levels.len() });
                }
                if let Some(index) = levels.iter().position(|v| !(*v > 0.0 && *v < 1.0)) {
                    let value = levels.get(index).copied().unwrap_or(f64::NAN);
                    return Err(ScoringError::ProbabilityOutOfRange { which, index, value });
                }
            }
        }
        if !(lambda > 0.0 && lambda < 1.0) {
            return Err(ScoringError::ProbabilityOutOfRange {
                which: "lambda",
                index: 0,
                value: lambda,
            });
        }
        let weights = weights(&m, &u);
        Ok(LevelModel { comparisons, m, u, lambda, iterations: 0, converged: false, weights })
    }

    /// The comparisons.
    pub fn comparisons(&self) -> &Comparisons {
        &self.comparisons
    }

    /// P(level | match) per comparison.
    pub fn m(&self) -> &[Vec<f64>] {
        &self.m
    }

    /// P(level | non-match) per comparison.
    pub fn u(&self) -> &[Vec<f64>] {
        &self.u
    }

    /// The prior match rate among all pairs.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }

    /// EM iterations run.
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// Whether EM converged.
    pub fn converged(&self) -> bool {
        self.converged
    }

    /// log2 Bayes factor of a pattern: Σ over comparisons of log2(m/u) at its level.
    pub fn weight(&self, pattern: Pattern) -> f64 {
        self.weights
            .iter()
            .enumerate()
            .map(|(c, w)| w.get(self.comparisons.level(c, pattern)).copied().unwrap_or(0.0))
            .sum()
    }

    /// P(match | pattern) with prior λ.
    pub fn posterior(&self, pattern: Pattern) -> f64 {
        posterior_of(self.weight(pattern), self.lambda)
    }
}

/// P(match) from a log2 Bayes factor and the prior λ.
pub fn posterior_of(weight: f64, lambda: f64) -> f64 {
    let log_odds = weight * std::f64::consts::LN_2 + (lambda / (1.0 - lambda)).ln();
    1.0 / (1.0 + (-log_odds).exp())
}

fn weights(m: &[Vec<f64>], u: &[Vec<f64>]) -> Vec<Vec<f64>> {
    m.iter().zip(u).map(|(m, u)| m.iter().zip(u).map(|(m, u)| (m / u).log2()).collect()).collect()
}

/// EM for m and λ with u fixed. `counts` holds the candidate pairs' patterns; `all_pairs` is
/// the number of pairs of the two sides (cohort × partner tuples): those not among the
/// candidates agree on nothing and are counted at every comparison's "none" level. Starts from
/// m = 0.9 spread over the agreement levels, λ = (candidates / all pairs) / 10. Each agreement
/// level's m is kept at or above its u.
pub fn fit_levels(
    comparisons: Comparisons,
    u: Vec<Vec<f64>>,
    counts: &PatternCounts,
    all_pairs: f64,
    max_iter: usize,
    tol: f64,
) -> Result<LevelModel, ScoringError> {
    let candidates = counts.total() as f64;
    if candidates == 0.0 {
        return Err(ScoringError::NoPairs);
    }
    let rest = (all_pairs - candidates).max(0.0);
    let total = candidates + rest;
    let start_m: Vec<Vec<f64>> = u
        .iter()
        .map(|levels| {
            let agree = levels.len().saturating_sub(1).max(1) as f64;
            let mut m = vec![0.9 / agree; levels.len().saturating_sub(1)];
            m.push(0.1);
            m
        })
        .collect();
    let lambda = (candidates / total / 10.0).clamp(LAMBDA_RANGE.0, LAMBDA_RANGE.1);
    let mut model = LevelModel::new(comparisons, start_m, u, lambda)?;
    // Distinct level vectors with their counts (patterns differing only within a level merge).
    let k = model.comparisons.families.len();
    let mut grouped: HashMap<Vec<usize>, f64> = HashMap::new();
    for (pattern, n) in counts.iter() {
        let levels: Vec<usize> = (0..k).map(|c| model.comparisons.level(c, pattern)).collect();
        *grouped.entry(levels).or_default() += n as f64;
    }
    let none: Vec<usize> = model.comparisons.level_counts().iter().map(|l| l - 1).collect();
    *grouped.entry(none).or_default() += rest;
    let grouped: Vec<(Vec<usize>, f64)> = grouped.into_iter().collect();
    let mut previous: Option<f64> = None;
    while model.iterations < max_iter {
        let (ln_l, ln_r) = (model.lambda.ln(), (1.0 - model.lambda).ln());
        let mut matches = 0.0;
        let mut at_level: Vec<Vec<f64>> = model.m.iter().map(|l| vec![0.0; l.len()]).collect();
        let mut log_likelihood = 0.0;
        for (levels, n) in &grouped {
            let (mut lm, mut lu) = (ln_l, ln_r);
            for (c, &level) in levels.iter().enumerate() {
                lm += model.m[c][level].ln();
                lu += model.u[c][level].ln();
            }
            let top = lm.max(lu);
            let ln_mix = top + ((lm - top).exp() + (lu - top).exp()).ln();
            log_likelihood += n * ln_mix;
            let g = n * (lm - ln_mix).exp();
            matches += g;
            for (c, &level) in levels.iter().enumerate() {
                at_level[c][level] += g;
            }
        }
        if let Some(previous) = previous
            && (log_likelihood - previous).abs() < tol * log_likelihood.abs().max(1.0)
        {
            model.converged = true;
            break;
        }
        previous = Some(log_likelihood);
        model.lambda = (matches / total).clamp(LAMBDA_RANGE.0, LAMBDA_RANGE.1);
        if matches > 0.0 {
            for (c, levels) in at_level.iter().enumerate() {
                model.m[c] = constrained_m(levels, matches, &model.u[c]);
            }
        }
        model.iterations += 1;
    }
    model.weights = weights(&model.m, &model.u);
    Ok(model)
}

/// m of one comparison from expected counts per level: each agreement level at least its u,
/// "none" what is left (at least [`P_FLOOR`]), renormalised.
fn constrained_m(expected: &[f64], matches: f64, u: &[f64]) -> Vec<f64> {
    let last = expected.len().saturating_sub(1);
    let mut m: Vec<f64> = expected
        .iter()
        .zip(u)
        .enumerate()
        .map(|(l, (e, u))| {
            let share = e / matches;
            if l < last { share.max(u * M_ABOVE_U) } else { share }
        })
        .collect();
    let agree: f64 = m.iter().take(last).sum();
    if let Some(none) = m.get_mut(last) {
        *none = (1.0 - agree).max(P_FLOOR);
    }
    let sum: f64 = m.iter().sum();
    m.iter_mut().for_each(|v| *v = (*v / sum).clamp(P_FLOOR, 1.0 - P_FLOOR));
    m
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use proptest::test_runner::{RngAlgorithm, TestRng};

    use super::*;

    fn uniform(rng: &mut TestRng) -> f64 {
        (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn draw(rng: &mut TestRng, probabilities: &[f64]) -> usize {
        let x = uniform(rng);
        let mut sum = 0.0;
        for (i, p) in probabilities.iter().enumerate() {
            sum += p;
            if x < sum {
                return i;
            }
        }
        probabilities.len() - 1
    }

    // Layout: name_dob, init_sur_dob, phon_name_dob (family name_dob, 3 levels + none) and
    // name_pcd_yob, sur_dob_pcd (family postcode, 2 levels + none).
    fn layout() -> Vec<KeyType> {
        vec![
            KeyType::NameDob,
            KeyType::InitialSurnameDob,
            KeyType::PhoneticNameDob,
            KeyType::NamePostcodeBirthYear,
            KeyType::SurnameDobPostcode,
        ]
    }

    #[test]
    fn comparisons_follow_key_families_strongest_first() {
        let c = Comparisons::of(&layout());
        assert_eq!(
            c.families(),
            &[(KeyFamily::NameDob, vec![0, 1, 2]), (KeyFamily::Postcode, vec![3, 4])]
        );
        // The strongest agreeing key type is the level; weaker ones agreeing too change nothing.
        assert_eq!(c.level(0, Pattern::from_bits(0b00111)), 0);
        assert_eq!(c.level(0, Pattern::from_bits(0b00110)), 1);
        assert_eq!(c.level(0, Pattern::from_bits(0b11000)), 3);
        assert_eq!(c.level(1, Pattern::from_bits(0b10000)), 1);
        assert_eq!(c.level_counts(), vec![4, 3]);
    }

    // EM with the true u fixed recovers the per-level m and λ from simulated patterns, where
    // a pair at level l also agrees on some weaker key types of the family (as real keys do).
    #[test]
    fn em_recovers_known_level_m_and_lambda() {
        let comparisons = Comparisons::of(&layout());
        let m = [vec![0.80, 0.08, 0.04, 0.08], vec![0.5, 0.2, 0.3]];
        let u = [vec![1e-4, 3e-4, 1e-3, 0.9986], vec![2e-4, 1e-3, 0.9988]];
        let lambda = 0.01;
        let mut rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[9u8; 32]);
        let mut counts = PatternCounts::new(5).unwrap();
        let mut none = 0u64;
        let pairs = 400_000u64;
        for _ in 0..pairs {
            let table = if uniform(&mut rng) < lambda { &m } else { &u };
            let mut bits = 0u32;
            for (c, (_, groups)) in comparisons.families().iter().enumerate() {
                let level = draw(&mut rng, &table[c]);
                for (l, g) in groups.iter().enumerate() {
                    if l == level || (l > level && level < groups.len() && uniform(&mut rng) < 0.7)
                    {
                        bits |= 1 << g;
                    }
                }
            }
            if bits == 0 {
                none += 1;
            } else {
                counts.add(Pattern::from_bits(bits), 1).unwrap();
            }
        }
        // Only candidates are counted; the rest are all "none", passed as the pair total.
        assert!(none > 0);
        let fitted =
            fit_levels(comparisons, u.to_vec(), &counts, pairs as f64, 2000, 1e-12).unwrap();
        assert!(fitted.converged());
        for (c, want) in m.iter().enumerate() {
            for (l, want) in want.iter().enumerate() {
                let got = fitted.m()[c][l];
                assert!((got - want).abs() < 0.03, "m[{c}][{l}] = {got}, want {want}");
            }
        }
        let got = fitted.lambda();
        assert!((got - lambda).abs() < 0.002, "lambda = {got}");
        // Agreement at the exact level outweighs agreement at a relaxed one.
        let exact = fitted.weight(Pattern::from_bits(0b00111));
        let relaxed = fitted.weight(Pattern::from_bits(0b00100));
        assert!(exact > relaxed && relaxed > fitted.weight(Pattern::from_bits(0)));
    }

    // Within-file u counts each pair of distinct subjects at its strongest shared level.
    #[test]
    fn within_file_u_counts_pairs_at_their_strongest_level() {
        let comparisons = Comparisons::of(&layout());
        // Subjects 0 and 1 share name_dob and init_sur_dob values; 1 and 2 only init_sur_dob;
        // 3 shares nothing.
        let subjects: Vec<Vec<(usize, &str)>> = vec![
            vec![(0, "a"), (1, "b")],
            vec![(0, "a"), (1, "b"), (1, "c")],
            vec![(1, "c")],
            vec![(0, "z")],
        ];
        let u = LevelU::within_file(&comparisons, &subjects, 100);
        let pairs = 6.0;
        assert!((u.u[0][0] - 1.0 / pairs).abs() < 1e-12);
        assert!((u.u[0][1] - 1.0 / pairs).abs() < 1e-12);
        assert!((u.u[0][2] - 0.5 / pairs).abs() < 1e-12, "an unseen level gets half a pair");
        let sum: f64 = u.u[0].iter().sum();
        assert!((sum - 1.0).abs() < 1e-9);
    }
}
