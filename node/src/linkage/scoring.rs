//! Fellegi–Sunter scoring of blinded agreement patterns (issue 6).
//!
//! At the computing node, every candidate pair — a cohort tuple and a partner tuple sharing at
//! least one blinded key — shows only *which* of K key types agree, never the values: a
//! [`Pattern`]. This module weighs those patterns. It is pure: no I/O and no blinding.
//!
//! # The model
//!
//! Each pair is a true match with prior probability λ (`lambda`). Given its match status, key
//! types agree independently (conditional independence): key type i agrees with probability
//! `m_i` for a match and `u_i` for a non-match. A pattern's log2 Bayes factor is
//! [`Model::weight`] = Σ_i [agree_i ? log2(m_i/u_i) : log2((1−m_i)/(1−u_i))], and
//! [`Model::posterior`] turns it into P(match | pattern) with λ. [`assign_one_to_one`] then
//! accepts pairs at or above a posterior threshold, highest weight first, each tuple at most
//! once (the same one-to-one rule as [`Linkage`](super::Linkage)).
//!
//! # Why u is fixed from within-file statistics
//!
//! The experiments found that plain EM with both m and u free collapsed: it took the
//! "match" class to be "agrees on everything" and the weights stopped separating twins and
//! household members from true matches. So u is not estimated from the candidate pairs at all:
//! each node computes it alone, from its own records ([`within_file_u`]: the chance that key
//! type i agrees between two *different* records of the same file, which are non-matches by
//! construction). With u held fixed, EM estimates only m and λ ([`fit_m`]), and m is kept
//! above u so that agreement is always evidence for a match. That within-file u made a
//! precision-0.995 operating point usable.
//!
//! # Who sets m and u (design-review F18)
//!
//! m and u decide which pairs count, so they must not be steerable by a requester's cohort: a
//! crafted cohort fitted on the fly could tilt the weights. F18 therefore has them estimated on
//! calibration runs and stored in policy, with live requests only reading them. That storage
//! (and loading a [`Model`] from policy) is later work; this module provides the estimators and
//! the scoring they feed, and [`Model::new`] for parameters fixed in advance.

use std::collections::{BTreeMap, BTreeSet};

pub mod levels;

/// The most key types a [`Pattern`] can hold.
pub const MAX_KEY_TYPES: usize = 32;

/// The smallest and largest within-file u ([`within_file_u`] clamps to this range).
pub const U_RANGE: (f64, f64) = (1e-9, 0.5);

/// How far above u_i the fitted m_i must stay ([`fit_m`]).
pub const M_ABOVE_U: f64 = 1e-6;

/// The largest fitted m_i ([`fit_m`]).
pub const M_MAX: f64 = 1.0 - 1e-6;

/// The range the fitted λ is kept in, so that neither class vanishes ([`fit_m`]).
const LAMBDA_RANGE: (f64, f64) = (1e-9, 1.0 - 1e-9);

/// Where EM starts: m_i = 0.9 (clamped to its range) and λ = 0.1.
const M_START: f64 = 0.9;
const LAMBDA_START: f64 = 0.1;

/// Which of K key types agree for one candidate pair: bit i set = key type i agrees. K ≤ 32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pattern(u32);

impl Pattern {
    /// The pattern with these bits (bit i = key type i agrees).
    pub fn from_bits(bits: u32) -> Pattern {
        Pattern(bits)
    }

    /// The pattern of a list of agreements, key type 0 first (at most 32).
    pub fn from_agreements(agrees: &[bool]) -> Result<Pattern, ScoringError> {
        if agrees.len() > MAX_KEY_TYPES {
            return Err(ScoringError::TooManyKeyTypes(agrees.len()));
        }
        let bits = agrees
            .iter()
            .enumerate()
            .filter(|(_, a)| **a)
            .fold(0u32, |bits, (i, _)| bits | (1 << i));
        Ok(Pattern(bits))
    }

    /// The bits.
    pub fn bits(self) -> u32 {
        self.0
    }

    /// Whether key type `i` agrees (false for i ≥ 32).
    pub fn agrees(self, i: usize) -> bool {
        i < MAX_KEY_TYPES && self.0 & (1 << i) != 0
    }

    /// Whether every set bit is below `k`.
    fn fits(self, k: usize) -> bool {
        k >= MAX_KEY_TYPES || self.0 >> k == 0
    }
}

/// Counts of each observed pattern among candidate pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternCounts {
    k: usize,
    counts: BTreeMap<Pattern, u64>,
}

impl PatternCounts {
    /// No pairs yet, over `k` key types (1 ≤ k ≤ 32).
    pub fn new(k: usize) -> Result<PatternCounts, ScoringError> {
        if k == 0 {
            return Err(ScoringError::NoKeyTypes);
        }
        if k > MAX_KEY_TYPES {
            return Err(ScoringError::TooManyKeyTypes(k));
        }
        Ok(PatternCounts { k, counts: BTreeMap::new() })
    }

    /// Counts these patterns over `k` key types.
    pub fn from_patterns(
        k: usize,
        patterns: impl IntoIterator<Item = Pattern>,
    ) -> Result<PatternCounts, ScoringError> {
        let mut counts = PatternCounts::new(k)?;
        for p in patterns {
            counts.add(p, 1)?;
        }
        Ok(counts)
    }

    /// Adds `n` pairs with pattern `p`; refuses a pattern with a bit at or above k.
    pub fn add(&mut self, p: Pattern, n: u64) -> Result<(), ScoringError> {
        if !p.fits(self.k) {
            return Err(ScoringError::PatternOutOfRange { pattern: p.bits(), k: self.k });
        }
        if n > 0 {
            *self.counts.entry(p).or_insert(0) += n;
        }
        Ok(())
    }

    /// The number of key types.
    pub fn k(&self) -> usize {
        self.k
    }

    /// The number of pairs counted.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    /// Each observed pattern with its count, in pattern order.
    pub fn iter(&self) -> impl Iterator<Item = (Pattern, u64)> + '_ {
        self.counts.iter().map(|(p, n)| (*p, *n))
    }
}

/// Per-key-type probabilities, each in (0, 1).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldProbabilities {
    /// P(key type i agrees | match).
    pub m: Vec<f64>,
    /// P(key type i agrees | non-match).
    pub u: Vec<f64>,
}

impl FieldProbabilities {
    /// Checks that m and u have the same length, 1 to 32, and every value is in (0, 1).
    pub fn validate(&self) -> Result<(), ScoringError> {
        if self.m.len() != self.u.len() {
            return Err(ScoringError::KMismatch { expected: self.m.len(), got: self.u.len() });
        }
        check_k(self.m.len())?;
        check_open_unit("m", &self.m)?;
        check_open_unit("u", &self.u)
    }
}

fn check_k(k: usize) -> Result<(), ScoringError> {
    match k {
        0 => Err(ScoringError::NoKeyTypes),
        k if k > MAX_KEY_TYPES => Err(ScoringError::TooManyKeyTypes(k)),
        _ => Ok(()),
    }
}

fn check_open_unit(which: &'static str, values: &[f64]) -> Result<(), ScoringError> {
    match values.iter().position(|v| !(*v > 0.0 && *v < 1.0)) {
        Some(index) => {
            Err(ScoringError::ProbabilityOutOfRange { which, index, value: values[index] })
        }
        None => Ok(()),
    }
}

/// The fitted model: m, u, the prior match proportion lambda, iterations used, converged flag.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    probabilities: FieldProbabilities,
    lambda: f64,
    iterations: usize,
    converged: bool,
}

impl Model {
    /// A model with parameters fixed in advance (e.g. from a calibration run, F18). Every m, u
    /// and λ must be in (0, 1).
    pub fn new(probabilities: FieldProbabilities, lambda: f64) -> Result<Model, ScoringError> {
        probabilities.validate()?;
        check_open_unit("lambda", &[lambda])?;
        Ok(Model { probabilities, lambda, iterations: 0, converged: false })
    }

    /// The number of key types.
    pub fn k(&self) -> usize {
        self.probabilities.m.len()
    }

    /// P(agree | match) per key type.
    pub fn m(&self) -> &[f64] {
        &self.probabilities.m
    }

    /// P(agree | non-match) per key type.
    pub fn u(&self) -> &[f64] {
        &self.probabilities.u
    }

    /// The prior proportion of matches among candidate pairs.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }

    /// EM iterations run ([`fit_m`]; 0 for [`Model::new`]).
    pub fn iterations(&self) -> usize {
        self.iterations
    }

    /// Whether EM stopped because the log-likelihood changed by less than the tolerance.
    pub fn converged(&self) -> bool {
        self.converged
    }

    /// log2 Bayes factor of a pattern: Σ_i [agree_i ? log2(m_i/u_i) : log2((1−m_i)/(1−u_i))].
    /// Bits at or above K are ignored.
    pub fn weight(&self, p: Pattern) -> f64 {
        let (m, u) = (self.m(), self.u());
        (0..self.k())
            .map(|i| {
                if p.agrees(i) {
                    (m[i] / u[i]).log2()
                } else {
                    ((1.0 - m[i]) / (1.0 - u[i])).log2()
                }
            })
            .sum()
    }

    /// Posterior match probability given lambda: λ·M / (λ·M + (1−λ)·U), computed from the
    /// weight in the log domain.
    pub fn posterior(&self, p: Pattern) -> f64 {
        let log_odds =
            self.weight(p) * std::f64::consts::LN_2 + (self.lambda / (1.0 - self.lambda)).ln();
        1.0 / (1.0 + (-log_odds).exp())
    }

    /// ln P(pattern | match) and ln P(pattern | non-match).
    fn log_likelihoods(&self, p: Pattern) -> (f64, f64) {
        let (m, u) = (self.m(), self.u());
        (0..self.k()).fold((0.0, 0.0), |(lm, lu), i| {
            if p.agrees(i) {
                (lm + m[i].ln(), lu + u[i].ln())
            } else {
                (lm + (1.0 - m[i]).ln(), lu + (1.0 - u[i]).ln())
            }
        })
    }
}

/// Why scoring refused its input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScoringError {
    /// No candidate pairs to fit on.
    #[error("no candidate pairs to fit the model on")]
    NoPairs,
    /// Two inputs disagree on the number of key types.
    #[error("expected {expected} key types, got {got}")]
    KMismatch {
        /// The number of key types of the first input (the pattern counts, or m).
        expected: usize,
        /// The number of the second (u).
        got: usize,
    },
    /// More key types than a pattern holds.
    #[error("{0} key types; a pattern holds at most {MAX_KEY_TYPES}")]
    TooManyKeyTypes(usize),
    /// Zero key types.
    #[error("no key types")]
    NoKeyTypes,
    /// A pattern with a key type at or above K.
    #[error("pattern {pattern:#b} has a key type at or above k = {k}")]
    PatternOutOfRange {
        /// The pattern's bits.
        pattern: u32,
        /// The number of key types.
        k: usize,
    },
    /// A probability that is not strictly between 0 and 1 (or not a number).
    #[error("{which}[{index}] = {value} is not strictly between 0 and 1")]
    ProbabilityOutOfRange {
        /// Which parameter: "m", "u" or "lambda".
        which: &'static str,
        /// Its key type (0 for lambda).
        index: usize,
        /// The value.
        value: f64,
    },
}

/// Within-file u: from a node's OWN records, the chance key type i agrees between two
/// different records: Σ_v (n_v choose 2) / (N choose 2), where `value_counts_per_key[i]` holds
/// n_v, the number of records with each value of key type i, and N = Σ_v n_v (records without
/// a value of that key are left out: they agree with nothing). Clamped to [1e-9, 0.5]: never
/// 0, so an agreement has a finite weight; never above 0.5, so agreement stays informative. A
/// key type with fewer than two records carries no information and gets the conservative 0.5.
pub fn within_file_u(value_counts_per_key: &[Vec<u64>]) -> Vec<f64> {
    value_counts_per_key
        .iter()
        .map(|counts| {
            let pairs = |n: u64| n as f64 * n.saturating_sub(1) as f64 / 2.0;
            let n: u64 = counts.iter().sum();
            if n < 2 {
                return U_RANGE.1;
            }
            let agreeing: f64 = counts.iter().map(|c| pairs(*c)).sum();
            (agreeing / pairs(n)).clamp(U_RANGE.0, U_RANGE.1)
        })
        .collect()
}

/// EM for m and lambda with u FIXED (conditional independence across key types), from pattern
/// counts. Starts from m_i = 0.9 and λ = 0.1; stops when the log-likelihood changes by less
/// than `tol` (then [`Model::converged`]) or after `max_iter` iterations. Each m_i is clamped
/// to [u_i + 1e-6, 1 − 1e-6], so agreement always counts as evidence for a match — free EM
/// collapsed to "agree on everything" (see the module docs) — and λ to (1e-9, 1 − 1e-9).
pub fn fit_m(
    counts: &PatternCounts,
    u: &[f64],
    max_iter: usize,
    tol: f64,
) -> Result<Model, ScoringError> {
    let k = counts.k();
    if u.len() != k {
        return Err(ScoringError::KMismatch { expected: k, got: u.len() });
    }
    check_open_unit("u", u)?;
    let total = counts.total();
    if total == 0 {
        return Err(ScoringError::NoPairs);
    }
    let total = total as f64;
    let clamp_m = |i: usize, m: f64| m.clamp((u[i] + M_ABOVE_U).min(M_MAX), M_MAX);
    let mut model = Model {
        probabilities: FieldProbabilities {
            m: (0..k).map(|i| clamp_m(i, M_START)).collect(),
            u: u.to_vec(),
        },
        lambda: LAMBDA_START,
        iterations: 0,
        converged: false,
    };
    let mut previous: Option<f64> = None;
    while model.iterations < max_iter {
        // E-step: expected matches overall and per agreeing key type; and the log-likelihood of
        // the current parameters.
        let (ln_lambda, ln_rest) = (model.lambda.ln(), (1.0 - model.lambda).ln());
        let mut matches = 0.0;
        let mut agreeing = vec![0.0; k];
        let mut log_likelihood = 0.0;
        for (p, n) in counts.iter() {
            let n = n as f64;
            let (lm, lu) = model.log_likelihoods(p);
            let (a, b) = (ln_lambda + lm, ln_rest + lu);
            let top = a.max(b);
            let ln_mix = top + ((a - top).exp() + (b - top).exp()).ln();
            log_likelihood += n * ln_mix;
            let g = n * (a - ln_mix).exp();
            matches += g;
            for (i, s) in agreeing.iter_mut().enumerate() {
                if p.agrees(i) {
                    *s += g;
                }
            }
        }
        if let Some(previous) = previous
            && (log_likelihood - previous).abs() < tol
        {
            model.converged = true;
            break;
        }
        previous = Some(log_likelihood);
        // M-step, with u fixed.
        model.lambda = (matches / total).clamp(LAMBDA_RANGE.0, LAMBDA_RANGE.1);
        for (i, m) in model.probabilities.m.iter_mut().enumerate() {
            let estimate = if matches > 0.0 { agreeing[i] / matches } else { M_START };
            *m = clamp_m(i, estimate);
        }
        model.iterations += 1;
    }
    Ok(model)
}

/// Assigns one-to-one by highest weight first among pairs with posterior ≥ threshold: returns
/// (cohort index, partner index) pairs, sorted. Equal weights go to the lower cohort index,
/// then the lower partner index, so the result does not depend on the order of `pairs`.
pub fn assign_one_to_one(
    pairs: &[(usize, usize, Pattern)],
    model: &Model,
    threshold: f64,
) -> Vec<(usize, usize)> {
    let mut eligible: Vec<(f64, usize, usize)> = pairs
        .iter()
        .filter(|(_, _, p)| model.posterior(*p) >= threshold)
        .map(|(c, q, p)| (model.weight(*p), *c, *q))
        .collect();
    eligible.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let (mut cohorts, mut partners) = (BTreeSet::new(), BTreeSet::new());
    let mut assigned: Vec<(usize, usize)> = eligible
        .into_iter()
        .filter(|(_, c, q)| {
            if cohorts.contains(c) || partners.contains(q) {
                return false;
            }
            cohorts.insert(*c);
            partners.insert(*q);
            true
        })
        .map(|(_, c, q)| (c, q))
        .collect();
    assigned.sort_unstable();
    assigned
}

#[cfg(test)]
mod tests;
