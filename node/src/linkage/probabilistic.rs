//! A Fellegi–Sunter matcher behind the [`Matcher`] seam (issue 6, first step): every pair of a
//! cohort tuple and a partner tuple that share at least one value is a candidate; its
//! agreement pattern (which key types share a value) is weighed by a model whose u comes from
//! within-file statistics and whose m is fitted by EM with u fixed ([`super::scoring`]); pairs
//! at or above the posterior threshold are assigned one-to-one, highest weight first.
//!
//! Like [`super::UniqueKeyPasses`] it compares slot values for equality only, so it runs on
//! plaintext messages in tests and on doubly-blinded points in the protocol. Not yet wired into
//! the nodes: m and u must be fitted on calibration runs and stored in policy first, so that a
//! requester's cohort cannot steer them (design-review F18).

use std::collections::HashMap;
use std::hash::Hash;

use super::LinkageError;
use super::matcher::{Linkage, LinkedPair, Matcher, Side};
use super::scoring::{Pattern, PatternCounts, assign_one_to_one, fit_m};

/// The matcher's settings.
#[derive(Debug, Clone)]
pub struct FellegiSunter {
    /// Within-file u per key type, in the layout's key-type order.
    pub u: Vec<f64>,
    /// Posterior probability at or above which a pair may link.
    pub threshold: f64,
    /// EM iterations at most.
    pub max_iter: usize,
    /// EM stops when the log-likelihood changes by less than this.
    pub tol: f64,
}

impl<K: Eq + Hash + Clone> Matcher<K> for FellegiSunter {
    fn link(&self, cohort: Side<'_, K>, partner: Side<'_, K>) -> Result<Linkage, LinkageError> {
        if cohort.layout.key_types() != partner.layout.key_types() {
            return Err(LinkageError::KeyTypesDiffer);
        }
        for side in [cohort, partner] {
            for (index, tuple) in side.tuples.iter().enumerate() {
                side.layout.check(index, tuple)?;
            }
        }
        let key_types = cohort.layout.key_types();
        let first = key_types.first().copied().ok_or(LinkageError::NoKeyTypes)?;
        let scoring = |e: super::scoring::ScoringError| LinkageError::Wire(e.to_string());
        // Which partner tuples hold each value, per key-type group.
        let mut patterns: HashMap<(usize, usize), u32> = HashMap::new();
        for group in 0..key_types.len() {
            let mut holders: HashMap<&K, Vec<usize>> = HashMap::new();
            for (p, tuple) in partner.tuples.iter().enumerate() {
                for value in tuple.group(partner.layout, group).iter().flatten() {
                    holders.entry(value).or_default().push(p);
                }
            }
            for (c, tuple) in cohort.tuples.iter().enumerate() {
                for value in tuple.group(cohort.layout, group).iter().flatten() {
                    for &p in holders.get(value).map(Vec::as_slice).unwrap_or_default() {
                        *patterns.entry((c, p)).or_default() |= 1 << group;
                    }
                }
            }
        }
        let mut counts = PatternCounts::new(key_types.len()).map_err(scoring)?;
        for bits in patterns.values() {
            counts.add(Pattern::from_bits(*bits), 1).map_err(scoring)?;
        }
        if counts.total() == 0 {
            return Linkage::from_pairs(Vec::new(), cohort.tuples.len(), partner.tuples.len());
        }
        let model = fit_m(&counts, &self.u, self.max_iter, self.tol).map_err(scoring)?;
        let mut candidates: Vec<(usize, usize, Pattern)> =
            patterns.iter().map(|(&(c, p), &bits)| (c, p, Pattern::from_bits(bits))).collect();
        candidates.sort_unstable_by_key(|&(c, p, _)| (c, p));
        let assigned = assign_one_to_one(&candidates, &model, self.threshold);
        let pairs = assigned
            .into_iter()
            .map(|(c, p)| {
                let bits = patterns.get(&(c, p)).copied().unwrap_or(0);
                // The strongest agreeing key type names the "pass" for the quality figures.
                let pass = (0..key_types.len())
                    .find(|g| bits & (1 << g) != 0)
                    .and_then(|g| key_types.get(g).copied())
                    .unwrap_or(first);
                LinkedPair { cohort: c, partner: p, pass }
            })
            .collect();
        Linkage::from_pairs(pairs, cohort.tuples.len(), partner.tuples.len())
    }
}
