//! Scoring links against the truth: precision, recall and F1 overall, by planted scenario and
//! by subgroup (age band, sex, no fixed abode), and the threshold sweep.

use std::collections::{BTreeMap, HashMap, HashSet};

use fedlink_node::linkage::calibration::RankedLink;
use fedlink_node::linkage::scoring::Pattern;
use serde::Serialize;

use super::county::{AGE_BANDS, Truth};

/// Whether a true person belongs to a subgroup.
type Subgroup<'a> = Box<dyn Fn(u32) -> bool + 'a>;

/// Precision of the operating point the issue fixes.
pub const TARGET_PRECISION: f64 = 0.995;

/// Counts and their ratios.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct OperatingPoint {
    /// Links made.
    pub predicted: u64,
    /// Links to the right person.
    pub correct: u64,
    /// Correct links possible.
    pub actual: u64,
    /// correct / predicted (1 when nothing was predicted).
    pub precision: f64,
    /// correct / actual (1 when nothing was possible).
    pub recall: f64,
    /// 2 · correct / (predicted + actual).
    pub f1: f64,
}

impl OperatingPoint {
    fn new(predicted: u64, correct: u64, actual: u64) -> OperatingPoint {
        let ratio = |a: u64, b: u64| if b == 0 { 1.0 } else { a as f64 / b as f64 };
        OperatingPoint {
            predicted,
            correct,
            actual,
            precision: ratio(correct, predicted),
            recall: ratio(correct, actual),
            f1: ratio(2 * correct, predicted + actual),
        }
    }
}

/// One matcher at one operating point, overall and broken down.
#[derive(Debug, Clone, Serialize)]
pub struct Scores {
    /// Which matcher and operating point.
    pub name: String,
    /// The posterior threshold (none for the key passes).
    pub threshold: Option<f64>,
    /// Overall.
    pub overall: OperatingPoint,
    /// By subgroup: "age 18-24", "sex F", "nfa yes" …; links counted by the cohort person.
    pub subgroups: BTreeMap<String, OperatingPoint>,
    /// By planted scenario.
    pub scenarios: Vec<Breakdown>,
    /// Person-level recall, overall ("all") and by subgroup: of the people present on both
    /// sides, the share with at least one correct link — the question "is this person known
    /// to both agencies?", where a person whose records split into several subjects on a side
    /// counts once, not once per subject.
    pub persons: BTreeMap<String, (u64, u64)>,
}

/// One planted scenario: its possible correct links, those made, and wrong links touching
/// its people.
#[derive(Debug, Clone, Serialize)]
pub struct Breakdown {
    /// Scenario id.
    pub scenario: String,
    /// Scenario kind (decoy kinds start with `decoy`).
    pub kind: String,
    /// Correct links possible.
    pub linkable: u64,
    /// Correct links made.
    pub linked: u64,
    /// Wrong links with a member of the scenario on either side.
    pub false_links: u64,
}

/// The threshold sweep's operating points.
#[derive(Debug, Clone, Copy)]
pub struct Sweep {
    /// The threshold of the best F1.
    pub best_f1: f64,
    /// The lowest threshold with precision ≥ [`TARGET_PRECISION`].
    pub precision_995: Option<f64>,
}

/// The truth, indexed for scoring.
pub struct Evaluation<'a> {
    cohort: &'a [Option<u32>],
    partner: &'a [Option<u32>],
    truth: &'a Truth,
    /// Person → (cohort subjects, partner subjects).
    counts: HashMap<u32, (u64, u64)>,
}

impl<'a> Evaluation<'a> {
    /// Indexes the subjects' persons.
    pub fn new(
        cohort: &'a [Option<u32>],
        partner: &'a [Option<u32>],
        truth: &'a Truth,
    ) -> Evaluation<'a> {
        let mut counts: HashMap<u32, (u64, u64)> = HashMap::new();
        for p in cohort.iter().flatten() {
            counts.entry(*p).or_default().0 += 1;
        }
        for p in partner.iter().flatten() {
            counts.entry(*p).or_default().1 += 1;
        }
        Evaluation { cohort, partner, truth, counts }
    }

    /// Σ min(cohort subjects, partner subjects) over persons.
    pub fn linkable(&self) -> u64 {
        self.linkable_of(|_| true)
    }

    fn linkable_of(&self, keep: impl Fn(u32) -> bool) -> u64 {
        self.counts.iter().filter(|(p, _)| keep(**p)).map(|(_, (a, b))| (*a).min(*b)).sum()
    }

    fn correct(&self, c: usize, p: usize) -> Option<u32> {
        match (self.cohort.get(c).copied().flatten(), self.partner.get(p).copied().flatten()) {
            (Some(a), Some(b)) if a == b => Some(a),
            _ => None,
        }
    }

    /// Scores a set of links.
    pub fn scores(&self, name: &str, threshold: Option<f64>, links: &[(usize, usize)]) -> Scores {
        let correct = links.iter().filter(|&&(c, p)| self.correct(c, p).is_some()).count() as u64;
        let overall = OperatingPoint::new(links.len() as u64, correct, self.linkable());
        let mut subgroups = BTreeMap::new();
        let groups: Vec<(String, Subgroup<'_>)> = AGE_BANDS
            .iter()
            .map(|band| {
                let f: Box<dyn Fn(u32) -> bool> = Box::new(move |p: u32| {
                    self.truth.attributes.get(&p).is_some_and(|a| a.age_band == *band)
                });
                (format!("age {band}"), f)
            })
            .chain(["F", "M"].into_iter().map(|sex| {
                let f: Box<dyn Fn(u32) -> bool> = Box::new(move |p: u32| {
                    self.truth.attributes.get(&p).is_some_and(|a| a.sex == sex)
                });
                (format!("sex {sex}"), f)
            }))
            .chain([true, false].into_iter().map(|nfa| {
                let f: Box<dyn Fn(u32) -> bool> = Box::new(move |p: u32| {
                    self.truth.attributes.get(&p).is_some_and(|a| a.nfa == nfa)
                });
                (format!("no fixed abode {}", if nfa { "yes" } else { "no" }), f)
            }))
            .collect();
        let linked_persons: HashSet<u32> =
            links.iter().filter_map(|&(c, p)| self.correct(c, p)).collect();
        let on_both: Vec<u32> =
            self.counts.iter().filter(|(_, (a, b))| *a > 0 && *b > 0).map(|(p, _)| *p).collect();
        let persons_of = |keep: &dyn Fn(u32) -> bool| {
            let present: Vec<&u32> = on_both.iter().filter(|p| keep(**p)).collect();
            let linked = present.iter().filter(|p| linked_persons.contains(p)).count() as u64;
            (linked, present.len() as u64)
        };
        let mut persons = BTreeMap::new();
        persons.insert("all".to_string(), persons_of(&|_| true));
        for (name, keep) in &groups {
            persons.insert(name.clone(), persons_of(keep.as_ref()));
        }
        for (name, keep) in &groups {
            let predicted = links
                .iter()
                .filter(|&&(c, _)| self.cohort.get(c).copied().flatten().is_some_and(keep))
                .count() as u64;
            let correct =
                links.iter().filter(|&&(c, p)| self.correct(c, p).is_some_and(keep)).count() as u64;
            subgroups.insert(
                name.clone(),
                OperatingPoint::new(predicted, correct, self.linkable_of(keep)),
            );
        }
        let scenarios = self
            .truth
            .scenarios
            .iter()
            .map(|(id, (kind, members))| {
                let members: HashSet<u32> = members.iter().copied().collect();
                let linkable = self.linkable_of(|p| members.contains(&p));
                let linked = links
                    .iter()
                    .filter(|&&(c, p)| self.correct(c, p).is_some_and(|x| members.contains(&x)))
                    .count() as u64;
                let false_links = links
                    .iter()
                    .filter(|&&(c, p)| {
                        self.correct(c, p).is_none()
                            && [self.cohort.get(c), self.partner.get(p)]
                                .into_iter()
                                .flatten()
                                .flatten()
                                .any(|x| members.contains(x))
                    })
                    .count() as u64;
                Breakdown {
                    scenario: id.clone(),
                    kind: kind.clone(),
                    linkable,
                    linked,
                    false_links,
                }
            })
            .collect();
        Scores { name: name.to_string(), threshold, overall, subgroups, scenarios, persons }
    }

    /// Sweeps the threshold over the ranked links' posteriors (cutting only between distinct
    /// posteriors).
    pub fn sweep(&self, ranked: &[RankedLink]) -> Sweep {
        let actual = self.linkable();
        let (mut correct, mut best, mut p995) = (0u64, (f64::MIN, 1.0), None);
        for (i, link) in ranked.iter().enumerate() {
            if self.correct(link.cohort, link.partner).is_some() {
                correct += 1;
            }
            let last_of_tie = ranked.get(i + 1).is_none_or(|next| next.posterior < link.posterior);
            if !last_of_tie {
                continue;
            }
            let point = OperatingPoint::new(i as u64 + 1, correct, actual);
            if point.f1 > best.0 {
                best = (point.f1, link.posterior);
            }
            if point.precision >= TARGET_PRECISION {
                p995 = Some(link.posterior);
            }
        }
        Sweep { best_f1: best.1, precision_995: p995 }
    }

    /// True (cohort subject, partner subject) pairs, and how many of them share no key.
    pub fn true_pairs_without_key(
        &self,
        patterns: &HashMap<(usize, usize), Pattern>,
    ) -> (u64, u64) {
        let total: u64 = self.counts.values().map(|(a, b)| a * b).sum();
        let with_key =
            patterns.keys().filter(|&&(c, p)| self.correct(c, p).is_some()).count() as u64;
        (total, total.saturating_sub(with_key))
    }
}
