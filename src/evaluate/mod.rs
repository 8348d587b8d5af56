//! `fedlink linkage evaluate`: person-linkage accuracy measured on a freshly generated
//! synthetic county (issue 6 item 3), for development and for the figures in the docs.
//!
//! The sides are built exactly as a linked query builds them, in plaintext (the matchers only
//! compare slot values for equality, so plaintext and blinded runs link identically):
//!
//! - cohort: the police nominal register (`police/nominals`, POLE person), **NHS numbers
//!   removed** — the hard case, where police hold no NHS number — grouped into subjects by the
//!   import's subject hash ([`cohort_subjects`]);
//! - partner: the ICB's ED attendances (`icb/ecds`), grouped the same way
//!   ([`partner_subjects`]);
//! - both through the same [`KeySelection`], `slot_messages` and [`build_tuples`] with
//!   unique-or-random.
//!
//! The new matcher is calibrated without labels on the whole of both sides (a calibration run:
//! [`WithinFile`] u from the partner's own subjects, EM for m), then links at its calibrated
//! threshold; the evaluation also sweeps the threshold using the truth, to find the best-F1
//! and the precision-0.995 operating points. The key-pass matcher of issue 5
//! ([`UniqueKeyPasses`]) runs on the same tuples.
//!
//! # What counts
//!
//! A subject's true person is the person most of its rows belong to. A link is correct when
//! both subjects' persons are the same. Links are one-to-one, so a person with `a` cohort
//! subjects and `b` partner subjects can make at most min(a, b) correct links: recall's
//! denominator is Σ min(a, b) over persons.

mod county;
mod metrics;
mod render;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use fedlink_node::link::plan::layouts;
use fedlink_node::linkage::calibration::{Calibration, WithinFile, candidate_patterns};
use fedlink_node::linkage::cluster::cluster_rows;
use fedlink_node::linkage::{
    KeySelection, Label, LabelPolicy, Labelling, Matcher, Side, SourceRow, Tuple, UniqueKeyPasses,
    build_tuples, cohort_subjects, partner_subjects,
};
use fedlink_node::matchkey::{KeySubject, KeyType};
use fedlink_synth::{SynthConfig, generate};
use serde::Serialize;

pub use metrics::{Breakdown, OperatingPoint, Scores};
pub use render::to_table;

/// What to evaluate.
#[derive(Debug, Clone)]
pub struct EvaluateConfig {
    /// County scale (1.0 ≈ 1.1 million people).
    pub scale: f64,
    /// County seed.
    pub seed: u64,
    /// The key types to link on (default: every person key type).
    pub key_types: Vec<KeyType>,
    /// A county already generated with this scale and seed, instead of a fresh one.
    pub county: Option<PathBuf>,
    /// Group each side's rows with [`cluster_rows`] (NHS number, then exact name and DOB,
    /// without chaining) rather than by the import's subject hash alone.
    pub cluster: bool,
}

impl EvaluateConfig {
    /// Every person key type, a fresh county.
    pub fn new(scale: f64, seed: u64) -> EvaluateConfig {
        EvaluateConfig { scale, seed, key_types: person_key_types(), county: None, cluster: true }
    }
}

/// Every person key type.
pub fn person_key_types() -> Vec<KeyType> {
    KeyType::ALL.iter().copied().filter(|k| k.subject() == KeySubject::Person).collect()
}

/// Why the evaluation failed.
#[derive(Debug, thiserror::Error)]
pub enum EvaluateError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A CSV file could not be read.
    #[error("{path}: {source}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: csv::Error,
    },
    /// The county is not as the generator writes it.
    #[error("the synthetic county: {0}")]
    County(String),
    /// Generating the county failed.
    #[error("generating the synthetic county: {0}")]
    Synth(#[from] fedlink_synth::error::SynthError),
    /// A linkage step refused its input.
    #[error("linkage: {0}")]
    Linkage(#[from] fedlink_node::linkage::LinkageError),
}

impl EvaluateError {
    fn io(path: &Path, source: std::io::Error) -> EvaluateError {
        EvaluateError::Io { path: path.to_path_buf(), source }
    }

    fn csv(path: &Path, source: csv::Error) -> EvaluateError {
        EvaluateError::Csv { path: path.to_path_buf(), source }
    }
}

/// The evaluation's result.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// County scale.
    pub scale: f64,
    /// County seed.
    pub seed: u64,
    /// Key types linked on, by tag.
    pub key_types: Vec<String>,
    /// Sizes of the two sides.
    pub sides: Sides,
    /// The key-pass matcher of issue 5.
    pub key_passes: Scores,
    /// The calibrated Fellegi–Sunter matcher: at its calibrated threshold, at the best-F1
    /// threshold and at the highest-recall threshold with precision ≥ 0.995.
    pub calibrated: Scores,
    /// Best F1 over the sweep.
    pub best_f1: Scores,
    /// Highest recall with precision ≥ 0.995 over the sweep (absent when none reaches it).
    pub precision_995: Option<Scores>,
    /// The calibration as the node would store it.
    pub calibration: Calibration,
    /// True (cohort subject, partner subject) pairs, and how many share no key at all.
    pub true_pairs: u64,
    /// True pairs sharing no key.
    pub true_pairs_without_key: u64,
    /// Seconds per stage.
    pub seconds: BTreeMap<String, f64>,
}

/// Side sizes.
#[derive(Debug, Clone, Serialize)]
pub struct Sides {
    /// Cohort rows (police nominals) and subjects.
    pub cohort_rows: usize,
    /// Cohort subjects.
    pub cohort_subjects: usize,
    /// Partner rows (ECDS attendances).
    pub partner_rows: usize,
    /// Partner subjects.
    pub partner_subjects: usize,
    /// Rows either import would quarantine.
    pub quarantined: usize,
    /// Σ min(cohort subjects, partner subjects) over true persons: the most correct links.
    pub linkable: u64,
}

/// The tuples' slot shuffles are reproducible for a seed.
use fedlink_node::privacy::SplitMix64 as Seeded;

/// Generates the county (or reads the given one), builds both sides, calibrates, links and
/// scores. `progress` gets one line per stage.
pub fn evaluate(
    config: &EvaluateConfig,
    progress: &mut dyn FnMut(&str),
) -> Result<Report, EvaluateError> {
    let mut seconds = BTreeMap::new();
    let mut clock = Instant::now();
    let mut lap = |name: &str, seconds: &mut BTreeMap<String, f64>| {
        seconds.insert(name.to_string(), clock.elapsed().as_secs_f64());
        clock = Instant::now();
    };
    let temp = tempfile::tempdir().map_err(|e| EvaluateError::io(Path::new("temp dir"), e))?;
    let county = match &config.county {
        Some(path) => path.clone(),
        None => {
            let out = temp.path().join("county");
            progress(&format!("generating county (scale {}, seed {})", config.scale, config.seed));
            let synth = SynthConfig::new(config.scale, config.seed);
            generate(&synth, &out, &mut |_| {})?;
            out
        }
    };
    lap("generate", &mut seconds);
    progress("reading police nominals and ECDS through the import normalisers");
    let (mut cohort_rows, cq) = county::read_rows(&county, "police", "nominals", true)?;
    let (mut partner_rows, pq) = county::read_rows(&county, "icb", "ecds", false)?;
    if config.cluster {
        cluster_rows(&mut cohort_rows);
        cluster_rows(&mut partner_rows);
    }
    let truth = county::read_truth(&county, (2026, 3, 31))?;
    lap("read", &mut seconds);

    progress("building subjects and tuples (unique-or-random)");
    let selection = KeySelection::new(config.key_types.iter().copied())?;
    let policy = LabelPolicy::new([Label::new("all")?], 1)?;
    let cohort = cohort_subjects(&cohort_rows, &selection, None, Labelling::All, &policy)?;
    let partner = partner_subjects(&partner_rows, &selection, None, Labelling::All, &policy)?;
    let cohort_person = subject_persons(&cohort_rows, "police", "nominals", &truth);
    let partner_person = subject_persons(&partner_rows, "icb", "ecds", &truth);
    // The protocol's own untimed layouts, so values beyond a key type's slots are dropped
    // here exactly as a linked query drops them.
    let (layout_c, layout_p) = layouts(selection.key_types(), None, None)?;
    // Matchers compare slot values for equality only, so each message is replaced by a 64-bit
    // digest of its bytes (as blinding replaces it by a point): the same links, less memory.
    let c = digests(build_tuples(&cohort.subjects, &layout_c, &mut Seeded(config.seed ^ 13))?);
    let p = digests(build_tuples(&partner.subjects, &layout_p, &mut Seeded(config.seed ^ 14))?);
    let cohort_side = Side { layout: &layout_c, tuples: &c };
    let partner_side = Side { layout: &layout_p, tuples: &p };
    lap("tuples", &mut seconds);

    progress("key passes");
    let passes = UniqueKeyPasses.link(cohort_side, partner_side)?;
    lap("key passes", &mut seconds);

    progress("calibrating (within-file u, EM for m) and linking");
    let within = WithinFile::of_subjects(&partner.subjects, layout_p.key_types());
    let patterns = candidate_patterns(cohort_side, partner_side);
    let all_pairs = c.len() as f64 * p.len() as f64;
    let calibration =
        Calibration::fit_patterns(layout_c.key_types(), &patterns, all_pairs, &within)?;
    lap("calibrate", &mut seconds);
    let matcher = calibration.matcher()?;
    let ranked = matcher.ranked_patterns(&patterns);
    lap("link", &mut seconds);

    let eval = metrics::Evaluation::new(&cohort_person, &partner_person, &truth);
    let key_passes = eval.scores(
        "key passes",
        None,
        &passes.pairs().iter().map(|p| (p.cohort, p.partner)).collect::<Vec<_>>(),
    );
    let at = |threshold: f64| -> Vec<(usize, usize)> {
        ranked.iter().filter(|l| l.posterior >= threshold).map(|l| (l.cohort, l.partner)).collect()
    };
    // What the node does: the prefix of the ranking at the calibrated threshold.
    let calibrated_links = at(calibration.threshold);
    let calibrated = eval.scores("calibrated", Some(calibration.threshold), &calibrated_links);
    let sweep = eval.sweep(&ranked);
    let best_f1 = eval.scores("best F1", Some(sweep.best_f1), &at(sweep.best_f1));
    let precision_995 =
        sweep.precision_995.map(|t| eval.scores("precision 0.995", Some(t), &at(t)));

    if let Some(path) = std::env::var_os("FEDLINK_EVALUATE_MISSED") {
        let best: Vec<(usize, usize)> = at(sweep.best_f1);
        dump_missed(
            Path::new(&path),
            &best,
            &cohort_rows,
            &partner_rows,
            &cohort_person,
            &partner_person,
            &truth,
        )?;
    }
    let (true_pairs, true_pairs_without_key) = eval.true_pairs_without_key(&patterns);
    lap("score", &mut seconds);
    Ok(Report {
        scale: config.scale,
        seed: config.seed,
        key_types: selection.key_types().iter().map(|k| k.tag().to_string()).collect(),
        sides: Sides {
            cohort_rows: cohort_rows.len(),
            cohort_subjects: cohort.subjects.len(),
            partner_rows: partner_rows.len(),
            partner_subjects: partner.subjects.len(),
            quarantined: cq + pq,
            linkable: eval.linkable(),
        },
        key_passes,
        calibrated,
        best_f1,
        precision_995,
        calibration,
        true_pairs,
        true_pairs_without_key,
        seconds,
    })
}

/// The tuples with each message replaced by a 64-bit digest of its bytes.
fn digests(built: fedlink_node::linkage::BuiltTuples) -> Vec<Tuple<u64>> {
    use std::hash::{Hash as _, Hasher as _};
    built
        .tuples
        .into_iter()
        .map(|tuple| {
            let mapped: Result<Tuple<u64>, std::convert::Infallible> =
                tuple.try_map_slots(|slot| {
                    Ok(slot.map(|message| {
                        let mut h = std::collections::hash_map::DefaultHasher::new();
                        message.as_bytes().hash(&mut h);
                        h.finish()
                    }))
                });
            match mapped {
                Ok(t) => t,
                Err(never) => match never {},
            }
        })
        .collect()
}

/// Each subject's true person, in the order [`cohort_subjects`] and [`partner_subjects`] give
/// subjects (ascending subject hash): the person most of its rows belong to.
fn subject_persons(
    rows: &[SourceRow],
    node: &str,
    dataset: &str,
    truth: &county::Truth,
) -> Vec<Option<u32>> {
    let mut by_subject: BTreeMap<i64, HashMap<u32, usize>> = BTreeMap::new();
    for row in rows {
        let counts = by_subject.entry(row.subject).or_default();
        let key = (node.to_string(), dataset.to_string(), row.record_id.clone());
        if let Some(&person) = truth.person_of.get(&key) {
            *counts.entry(person).or_default() += 1;
        }
    }
    by_subject
        .into_values()
        .map(|counts| {
            counts.into_iter().max_by_key(|&(p, n)| (n, std::cmp::Reverse(p))).map(|(p, _)| p)
        })
        .collect()
}

/// Development aid (`FEDLINK_EVALUATE_MISSED=FILE`): the identifiers of every true person with
/// fewer correct links than possible, cohort rows then partner rows.
fn dump_missed(
    path: &Path,
    links: &[(usize, usize)],
    cohort_rows: &[SourceRow],
    partner_rows: &[SourceRow],
    cohort_person: &[Option<u32>],
    partner_person: &[Option<u32>],
    truth: &county::Truth,
) -> Result<(), EvaluateError> {
    use std::fmt::Write as _;
    let mut found: HashMap<u32, u64> = HashMap::new();
    for &(c, p) in links {
        if let (Some(Some(a)), Some(Some(b))) = (cohort_person.get(c), partner_person.get(p))
            && a == b
        {
            *found.entry(*a).or_default() += 1;
        }
    }
    let mut counts: HashMap<u32, (u64, u64)> = HashMap::new();
    for p in cohort_person.iter().flatten() {
        counts.entry(*p).or_default().0 += 1;
    }
    for p in partner_person.iter().flatten() {
        counts.entry(*p).or_default().1 += 1;
    }
    let mut out = String::new();
    let rows_of = |rows: &[SourceRow], node: &str, dataset: &str, person: u32| -> Vec<String> {
        rows.iter()
            .filter(|r| {
                truth.person_of.get(&(node.into(), dataset.into(), r.record_id.clone()))
                    == Some(&person)
            })
            .map(|r| {
                let i = &r.ids;
                format!(
                    "{:?} | {:?} | {:?} | {:?} | {:?} | nhs {}",
                    i.forenames.as_ref().map(ToString::to_string),
                    i.surname.as_ref().map(ToString::to_string),
                    i.dob.map(|d| d.to_string()),
                    i.postcode.map(|p| p.no_space()),
                    i.aliases.iter().map(|(f, s)| format!("{f} {s}")).collect::<Vec<_>>(),
                    i.nhs_number.is_some()
                )
            })
            .collect()
    };
    let mut missed: Vec<u32> = counts
        .iter()
        .filter(|(p, (a, b))| found.get(p).copied().unwrap_or(0) < (*a).min(*b))
        .map(|(p, _)| *p)
        .collect();
    missed.sort_unstable();
    for person in missed {
        let nfa = truth.attributes.get(&person).is_some_and(|a| a.nfa);
        let _ = writeln!(out, "person {person}{}", if nfa { " (no fixed abode)" } else { "" });
        for line in rows_of(cohort_rows, "police", "nominals", person) {
            let _ = writeln!(out, "  C {line}");
        }
        for line in rows_of(partner_rows, "icb", "ecds", person) {
            let _ = writeln!(out, "  P {line}");
        }
    }
    std::fs::write(path, out).map_err(|e| EvaluateError::io(path, e))
}
