//! Matching cohort tuples to partner tuples, and counting the matches by label (DESIGN.md
//! "Flow for a linked count" step 4; design-review F4).
//!
//! The rule of issue 5 is [`UniqueKeyPasses`]: deterministic passes over key types, strongest
//! first, accepting only unambiguous agreements. It sits behind the [`Matcher`] trait so that
//! Fellegi–Sunter scoring over agreement patterns can replace it without touching the tuple or
//! counting code. Whatever the matcher, a [`Linkage`] can only be made one-to-one — each
//! partner subject credits at most one cohort tuple and each cohort tuple at most one partner
//! subject — so adding or removing one partner subject moves a (g, h) table by at most 2.
//!
//! Matchers compare slot values for equality only, so they work on plaintext
//! [`SlotMessage`](super::SlotMessage)s in tests and on doubly-blinded points in the protocol.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::Hash;

use super::LinkageError;
use super::label::Label;
use super::tuple::{Tuple, TupleLayout};
use crate::matchkey::KeyType;

/// One side of a linkage: its layout and its tuples.
#[derive(Debug)]
pub struct Side<'a, K> {
    /// The shape every tuple has.
    pub layout: &'a TupleLayout,
    /// The tuples, in the order results refer to by index.
    pub tuples: &'a [Tuple<K>],
}

impl<K> Clone for Side<'_, K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K> Copy for Side<'_, K> {}

/// A matching rule: which cohort tuple each partner subject credits.
pub trait Matcher<K> {
    /// Links the two sides one-to-one. Refuses tuples that do not fit their layout and
    /// layouts on different key types.
    fn link(&self, cohort: Side<'_, K>, partner: Side<'_, K>) -> Result<Linkage, LinkageError>;
}

/// A cohort tuple and the partner subject that credits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LinkedPair {
    /// Index of the cohort tuple.
    pub cohort: usize,
    /// Index of the partner tuple (one per partner subject).
    pub partner: usize,
    /// The key type whose agreement linked them.
    pub pass: KeyType,
}

/// A one-to-one set of linked pairs, in (cohort, partner) order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Linkage {
    /// The pairs.
    pairs: Vec<LinkedPair>,
}

impl Linkage {
    /// A linkage from any matcher's pairs, or why not: a pair outside either side, or a tuple
    /// in two pairs (the F4 bound would not hold).
    pub fn from_pairs(
        mut pairs: Vec<LinkedPair>,
        cohort_len: usize,
        partner_len: usize,
    ) -> Result<Linkage, LinkageError> {
        let (mut cohorts, mut partners) = (HashSet::new(), HashSet::new());
        for pair in &pairs {
            for (side, index, len, seen) in [
                ("cohort", pair.cohort, cohort_len, &mut cohorts),
                ("partner", pair.partner, partner_len, &mut partners),
            ] {
                if index >= len {
                    return Err(LinkageError::PairOutOfRange { side, index, len });
                }
                if !seen.insert(index) {
                    return Err(LinkageError::CreditedTwice { side, index });
                }
            }
        }
        pairs.sort();
        Ok(Linkage { pairs })
    }

    /// The linked pairs.
    pub fn pairs(&self) -> &[LinkedPair] {
        &self.pairs
    }

    /// How many pairs each pass linked, strongest first (key types that linked none are
    /// left out): the raw material of the query-level quality figures, which are released
    /// only noised (F10).
    pub fn by_pass(&self) -> BTreeMap<KeyType, usize> {
        let mut counts = BTreeMap::new();
        for pair in &self.pairs {
            *counts.entry(pair.pass).or_default() += 1;
        }
        counts
    }
}

/// The deterministic rule of issue 5: one pass per key type, strongest first ([`KeyType`]'s
/// order: NHS number, then the name/DOB composites, then the postcode composites, then
/// address keys).
///
/// In each pass, among the tuples on each side not yet linked:
/// - a value links a cohort tuple to a partner tuple only if exactly one unlinked cohort tuple
///   and exactly one unlinked partner tuple hold it (unique on both sides);
/// - a tuple that such values link to two different tuples in the same pass is ambiguous, and
///   none of its candidate pairs is accepted in that pass;
/// - accepted pairs are removed from later passes.
///
/// So a shared key (a twin's `name_dob`, two partner subjects that are really one person)
/// links nothing, and each tuple is credited at most once. The result does not depend on the
/// order of tuples or slots.
#[derive(Debug, Clone, Copy, Default)]
pub struct UniqueKeyPasses;

impl<K: Eq + Hash + Clone> Matcher<K> for UniqueKeyPasses {
    fn link(&self, cohort: Side<'_, K>, partner: Side<'_, K>) -> Result<Linkage, LinkageError> {
        if cohort.layout.key_types() != partner.layout.key_types() {
            return Err(LinkageError::KeyTypesDiffer);
        }
        for side in [cohort, partner] {
            for (index, tuple) in side.tuples.iter().enumerate() {
                side.layout.check(index, tuple)?;
            }
        }
        let mut cohort_linked = vec![false; cohort.tuples.len()];
        let mut partner_linked = vec![false; partner.tuples.len()];
        let mut pairs = Vec::new();
        for (group, &key_type) in cohort.layout.key_types().iter().enumerate() {
            let cohort_values = unique_holders(cohort, group, &cohort_linked);
            let partner_values = unique_holders(partner, group, &partner_linked);
            let mut candidates: HashSet<(usize, usize)> = HashSet::new();
            for (value, holder) in &cohort_values {
                if let (Holder::One(c), Some(Holder::One(p))) = (holder, partner_values.get(value))
                {
                    candidates.insert((*c, *p));
                }
            }
            let mut partners_of: HashMap<usize, usize> = HashMap::new();
            let mut cohorts_of: HashMap<usize, usize> = HashMap::new();
            for &(c, p) in &candidates {
                *partners_of.entry(c).or_default() += 1;
                *cohorts_of.entry(p).or_default() += 1;
            }
            for (c, p) in candidates {
                if partners_of.get(&c) == Some(&1) && cohorts_of.get(&p) == Some(&1) {
                    if let Some(linked) = cohort_linked.get_mut(c) {
                        *linked = true;
                    }
                    if let Some(linked) = partner_linked.get_mut(p) {
                        *linked = true;
                    }
                    pairs.push(LinkedPair { cohort: c, partner: p, pass: key_type });
                }
            }
        }
        Linkage::from_pairs(pairs, cohort.tuples.len(), partner.tuples.len())
    }
}

/// Who holds a value among the unlinked tuples of one side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Holder {
    /// Exactly one tuple.
    One(usize),
    /// Two or more.
    Several,
}

/// Every present value of one key-type group among unlinked tuples, with its holder.
fn unique_holders<'a, K: Eq + Hash>(
    side: Side<'a, K>,
    group: usize,
    linked: &[bool],
) -> HashMap<&'a K, Holder> {
    let mut holders: HashMap<&'a K, Holder> = HashMap::new();
    for (index, tuple) in side.tuples.iter().enumerate() {
        if linked.get(index).copied().unwrap_or(true) {
            continue;
        }
        for value in tuple.group(side.layout, group).iter().flatten() {
            holders
                .entry(value)
                .and_modify(|h| {
                    if *h != Holder::One(index) {
                        *h = Holder::Several;
                    }
                })
                .or_insert(Holder::One(index));
        }
    }
    holders
}

/// Linked pairs counted by (cohort label g, partner label h). Only cells with a match appear;
/// the released table's cells come from the vocabularies, never from this map's keys, so its
/// shape does not depend on the data.
pub fn count_by_labels(
    linkage: &Linkage,
    cohort_labels: &[Label],
    partner_labels: &[Label],
) -> Result<BTreeMap<(Label, Label), u64>, LinkageError> {
    let mut counts: BTreeMap<(Label, Label), u64> = BTreeMap::new();
    for pair in linkage.pairs() {
        let g = cohort_labels.get(pair.cohort).ok_or(LinkageError::PairOutOfRange {
            side: "cohort",
            index: pair.cohort,
            len: cohort_labels.len(),
        })?;
        let h = partner_labels.get(pair.partner).ok_or(LinkageError::PairOutOfRange {
            side: "partner",
            index: pair.partner,
            len: partner_labels.len(),
        })?;
        *counts.entry((g.clone(), h.clone())).or_default() += 1;
    }
    Ok(counts)
}
