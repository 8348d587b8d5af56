//! F11 and F17, dummies and missing keys (design-review §2.7, §10 item 6): padding hides the
//! real size of each label class only if a dummy cannot be told from a real tuple — by its
//! points (a random 32-byte string mostly fails to decode as ristretto255; the identity point
//! survives reblinding; a point reused across slots links them), by its label, by its length,
//! or by where it sits in the sorted message. Unit-level, over the node's own tuple code:
//!
//! - every point of a padded, blinded side decodes canonically, none is the identity, none
//!   repeats within a side, and none recurs in a second session over the same data;
//! - a dummy is, before blinding, exactly a real subject with no usable key: same length, all
//!   slots missing, a label from the vocabulary (one outside it is refused);
//! - after sorting by bytes, dummies take every position equally often, and labels fed in
//!   sorted order come out in no more runs than chance (no streaming of input order).

use std::collections::{BTreeMap, HashSet};

use fedlink_node::link::wire::encode_batch;
use fedlink_node::linkage::{
    BlindedTuple, Label, LabelPolicy, LinkageError, SlotLabel, Subject, Tuple, TupleLayout,
    blind_tuples, blind_tuples_in_order, build_tuples, by_bytes, dummy_tuples,
};
use fedlink_node::matchkey::KeyType;
use fedlink_proto::blind::{BlindingKey, POINT_LEN};

use super::fixture::{Seeded, nhs_messages};

fn label(text: &str) -> Label {
    Label::new(text).expect("label")
}

fn policy() -> LabelPolicy {
    LabelPolicy::new([label("a"), label("b")], 2).expect("policy")
}

/// Real subjects: person `i` labelled by `labels[i]`, with an NHS key in the untimed slot.
fn subjects(labels: &[&str], from: u32) -> Vec<Subject> {
    labels
        .iter()
        .zip(from..)
        .map(|(l, i)| Subject { label: label(l), messages: nhs_messages(i, &[SlotLabel::UNTIMED]) })
        .collect()
}

/// One side as a node sends it: real tuples, then `per_class` dummies for each label.
fn side(
    key: &BlindingKey,
    layout: &TupleLayout,
    real: &[Subject],
    per_class: usize,
) -> Vec<BlindedTuple> {
    let mut tuples = build_tuples(real, layout, &mut Seeded(3)).expect("build").tuples;
    let plan: BTreeMap<Label, usize> = [(label("a"), per_class), (label("b"), per_class)].into();
    tuples.extend(dummy_tuples(layout, &plan, &policy()).expect("dummies"));
    blind_tuples(key, &[7; 16], layout, tuples).expect("blind")
}

#[test]
fn every_wire_point_decodes_is_not_the_identity_and_never_repeats() {
    let layout = TupleLayout::new([KeyType::Nhs, KeyType::NameDob], 6).expect("layout");
    let real = subjects(&["a", "a", "a", "b", "b", "b"], 0);
    let first = side(&BlindingKey::generate().expect("key"), &layout, &real, 10);
    assert_eq!(first.len(), 6 + 20);

    let mut seen = HashSet::new();
    for (t, tuple) in first.iter().enumerate() {
        assert_eq!(tuple.points().len(), layout.tuple_len(), "tuple {t} has the layout's length");
        assert!(
            policy().check_label(tuple.label()).is_ok(),
            "tuple {t}'s label is in the vocabulary"
        );
        for point in tuple.points() {
            assert_ne!(point.as_bytes(), &[0u8; POINT_LEN], "the identity point");
            point.decode().unwrap_or_else(|e| panic!("tuple {t}: a point does not decode: {e}"));
            assert!(seen.insert(*point), "tuple {t} repeats a point");
        }
    }
    // On the wire: exactly n × K × slots × 32 bytes of points, whatever is real.
    let batch = encode_batch(&first, &layout);
    assert_eq!(batch.points.len(), first.len() * layout.tuple_len() * POINT_LEN);

    // The same data in a second session (fresh scalar): no point recurs (F21).
    let second = side(&BlindingKey::generate().expect("key"), &layout, &real, 10);
    let recurring = second.iter().flat_map(|t| t.points()).filter(|p| seen.contains(*p)).count();
    assert_eq!(recurring, 0, "a point of session 1 recurs in session 2");
}

#[test]
fn a_dummy_is_a_real_subject_without_keys() {
    let layout = TupleLayout::new([KeyType::Nhs, KeyType::NameDob], 6).expect("layout");
    let keyless = [Subject { label: label("b"), messages: Vec::new() }];
    let real: Vec<Tuple> = build_tuples(&keyless, &layout, &mut Seeded(9)).expect("build").tuples;
    let plan: BTreeMap<Label, usize> = [(label("b"), 3)].into();
    let dummies: Vec<Tuple> = dummy_tuples(&layout, &plan, &policy()).expect("dummies");
    assert_eq!(dummies.len(), 3);
    for dummy in &dummies {
        assert_eq!(dummy, &real[0], "a dummy is built exactly like a keyless real subject");
    }
    // Dummies only carry labels of the vocabulary.
    let outside: BTreeMap<Label, usize> = [(label("LABEL-ZEBRA"), 1)].into();
    assert_eq!(
        dummy_tuples::<fedlink_node::linkage::SlotMessage>(&layout, &outside, &policy()),
        Err(LinkageError::LabelNotInVocabulary(label("LABEL-ZEBRA")))
    );
}

#[test]
fn after_sorting_dummies_take_every_position_and_labels_show_no_runs() {
    // 400 sessions of 4 real tuples (labels a, a, b, b, fed in that order) and 4 dummies (2 a,
    // 2 b); one key type, 2 slots, to keep it fast.
    const TRIALS: usize = 400;
    let layout = TupleLayout::new([KeyType::Nhs], 2).expect("layout");
    let mut dummy_at = [0u64; 8];
    let mut runs = 0usize;
    for trial in 0..TRIALS {
        let real = subjects(&["a", "a", "b", "b"], 4 * trial as u32);
        let mut tuples = build_tuples(&real, &layout, &mut Seeded(trial as u64)).expect("b").tuples;
        let plan: BTreeMap<Label, usize> = [(label("a"), 2), (label("b"), 2)].into();
        tuples.extend(dummy_tuples(&layout, &plan, &policy()).expect("dummies"));
        let key = BlindingKey::generate().expect("key");
        let in_order = blind_tuples_in_order(&key, &[1; 16], &layout, tuples).expect("blind");
        let mut order: Vec<usize> = (0..8).collect();
        order.sort_by(|&x, &y| by_bytes(&in_order[x], &in_order[y]));
        for (position, &input) in order.iter().enumerate() {
            if input >= 4 {
                dummy_at[position] += 1;
            }
        }
        let labels: Vec<&Label> = order.iter().map(|&i| in_order[i].label()).collect();
        runs += 1 + labels.windows(2).filter(|w| w[0] != w[1]).count();
    }
    // Each position holds a dummy with probability 1/2: within 5 standard deviations.
    let sd = (TRIALS as f64 / 4.0).sqrt();
    for (position, &n) in dummy_at.iter().enumerate() {
        let z = (n as f64 - TRIALS as f64 / 2.0) / sd;
        assert!(z.abs() < 5.0, "position {position} holds a dummy {n} times of {TRIALS}");
    }
    // Runs of labels in a random order of 4 a and 4 b: mean 5, variance 12/7.
    let mean = runs as f64 / TRIALS as f64;
    let z = (mean - 5.0) / (12.0 / 7.0 / TRIALS as f64).sqrt();
    eprintln!("dummy positions after sorting {dummy_at:?}; mean label runs {mean:.2} (chance 5)");
    assert!(z.abs() < 5.0, "label runs {mean} are not those of a random order");
}
