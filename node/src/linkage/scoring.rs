//! Agreement patterns of blinded candidate pairs (issue 6).
//!
//! At the computing node, every candidate pair — a cohort tuple and a partner tuple sharing at
//! least one blinded key — shows only *which* of K key types agree, never the values: a
//! [`Pattern`]. [`PatternCounts`] is the histogram of patterns a calibration run fits on. The
//! model that weighs them — per-family agreement levels, within-file u, EM for m with u fixed
//! — is [`levels`]; it is fitted and stored by `linkage::calibration` (design-review F18).
//! Pure: no I/O and no blinding.

use std::collections::BTreeMap;

pub mod levels;

/// The most key types a [`Pattern`] can hold.
pub const MAX_KEY_TYPES: usize = 32;

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

#[cfg(test)]
mod tests;
