//! Tuples through the blinding layer (design-review §8 steps 3–5): commutativity across the
//! tuple API, missing slots as uniform points, sorting, the receiver's checks, the wire form
//! and A's slot permutation.

use std::collections::HashSet;

use fedlink_node::linkage::{
    BlindedTuple, blind_tuples, check_received, reblind_tuples, same_label_multiset,
};
use fedlink_proto::blind::{BatchError, BlindedPoint, BlindingKey, PointError};

use super::*;

const SID: [u8; 16] = [7; 16];

fn key() -> BlindingKey {
    BlindingKey::generate().expect("the OS generator works")
}

fn policy() -> LabelPolicy {
    LabelPolicy::new([label("all"), label("other")], 1).expect("a valid policy")
}

/// NHS number and name + DOB, `slots` per key type.
fn layout(slots: usize) -> TupleLayout {
    TupleLayout::new([KeyType::Nhs, KeyType::NameDob], slots).expect("a valid layout")
}

/// Plaintext tuples of untimed subjects labelled "all".
fn tuples(layout: &TupleLayout, records: &[Identifiers], seed: u64) -> Vec<Tuple> {
    let selection =
        KeySelection::new(layout.key_types().iter().copied()).expect("the layout's key types");
    build_tuples(&untimed_subjects(&selection, records), layout, &mut Seeded(seed))
        .expect("tuples build")
        .tuples
}

fn points(tuples: &[BlindedTuple]) -> HashSet<BlindedPoint> {
    tuples.iter().flat_map(|t| t.points().iter().copied()).collect()
}

fn shared() -> Identifiers {
    person("John", "Smith", "1980-01-02", "CH1 2AB", Some(1))
}

/// A blinds, B reblinds; B blinds, A reblinds: the shared person's two keys meet, nothing
/// else does, the matcher links them, and another session's tags meet nowhere.
#[test]
fn shared_keys_meet_after_both_keys_in_either_order() {
    let layout = layout(3);
    let (a, b) = (key(), key());
    let a_side = [shared(), person("Ann", "Lee", "1990-03-04", "", Some(2))];
    let b_side = [person("Bob", "Jones", "1975-05-06", "", Some(3)), shared()];

    let m1 = blind_tuples(&a, &SID, &layout, tuples(&layout, &a_side, 1)).unwrap();
    check_received(&m1, &layout, &policy(), 10).unwrap();
    let ab = reblind_tuples(&b, m1, &layout, &mut Seeded(2)).unwrap();
    let m2 = blind_tuples(&b, &SID, &layout, tuples(&layout, &b_side, 3)).unwrap();
    check_received(&m2, &layout, &policy(), 10).unwrap();
    let m3 = reblind_tuples(&a, m2.clone(), &layout, &mut Seeded(4)).unwrap();
    check_received(&m3, &layout, &policy(), 10).unwrap();
    let labels =
        |t: &[BlindedTuple]| t.iter().map(BlindedTuple::label).cloned().collect::<Vec<_>>();
    assert!(same_label_multiset(&labels(&m2), &labels(&m3)));

    let met = points(&m3);
    assert_eq!(points(&ab).intersection(&met).count(), 2);
    let cohort: Vec<_> = ab.into_iter().map(BlindedTuple::into_tuple).collect();
    let partner: Vec<_> = m3.into_iter().map(BlindedTuple::into_tuple).collect();
    let linkage = UniqueKeyPasses
        .link(Side { layout: &layout, tuples: &cohort }, Side { layout: &layout, tuples: &partner })
        .unwrap();
    assert_eq!(linkage.pairs().len(), 1);
    assert_eq!(linkage.pairs()[0].pass, KeyType::Nhs);

    // The same keys under another session id share no point.
    let other = blind_tuples(&a, &[8; 16], &layout, tuples(&layout, &a_side, 1)).unwrap();
    let other = reblind_tuples(&b, other, &layout, &mut Seeded(2)).unwrap();
    assert_eq!(points(&other).intersection(&met).count(), 0);
}

/// Missing slots and dummies become valid, non-identity points equal to nothing else, and
/// fresh ones every time.
#[test]
fn missing_slots_are_fresh_valid_points() {
    let layout = layout(4);
    let mut plain = tuples(&layout, &[shared()], 1);
    let per_class = BTreeMap::from([(label("all"), 3)]);
    plain.extend(dummy_tuples(&layout, &per_class, &policy()).unwrap());
    assert_eq!(plain.iter().flat_map(|t| t.slots()).filter(|s| s.is_some()).count(), 2);
    let k = key();
    let once = blind_tuples(&k, &SID, &layout, plain.clone()).unwrap();
    let twice = blind_tuples(&k, &SID, &layout, plain).unwrap();
    for tuple in once.iter().chain(&twice) {
        assert_eq!(tuple.points().len(), 8);
        for p in tuple.points() {
            assert_eq!(p.decode().unwrap().encode(), *p);
        }
    }
    let (once, twice) = (points(&once), points(&twice));
    assert_eq!(once.len(), 4 * 8, "every point differs from every other");
    // Only the two real keys are the same across the runs; every random point is fresh.
    assert_eq!(once.intersection(&twice).count(), 2);
}

/// The output is sorted by bytes and does not depend on the input order.
#[test]
fn sorting_hides_the_input_order() {
    let layout = layout(1);
    let records = [
        shared(),
        person("Ann", "Lee", "1990-03-04", "", Some(2)),
        person("Bob", "Jones", "1975-05-06", "", Some(3)),
        person("Cat", "Brown", "1991-07-08", "", Some(4)),
    ];
    let plain = tuples(&layout, &records, 1);
    assert!(plain.iter().all(|t| t.slots().iter().all(Option::is_some)));
    let mut reversed = plain.clone();
    reversed.reverse();
    let (a, b) = (key(), key());
    let forward = blind_tuples(&a, &SID, &layout, plain).unwrap();
    let backward = blind_tuples(&a, &SID, &layout, reversed).unwrap();
    assert_eq!(forward, backward);
    assert!(forward.windows(2).all(|w| w[0].points() < w[1].points()));

    let mut reversed = forward.clone();
    reversed.reverse();
    let forward = reblind_tuples(&b, forward, &layout, &mut Seeded(1)).unwrap();
    let backward = reblind_tuples(&b, reversed, &layout, &mut Seeded(9)).unwrap();
    assert_eq!(forward, backward);
    assert!(forward.windows(2).all(|w| w[0].points() < w[1].points()));
}

/// A valid message of three tuples of 2 × 2 points.
fn message() -> (TupleLayout, Vec<BlindedTuple>) {
    let layout = layout(2);
    let records =
        [shared(), person("Ann", "Lee", "1990-03-04", "", Some(2)), Identifiers::default()];
    let m = blind_tuples(&key(), &SID, &layout, tuples(&layout, &records, 1)).expect("blinds");
    check_received(&m, &layout, &policy(), 3).expect("an honest message passes");
    (layout, m)
}

/// The message with tuple `t`'s points (and label) changed.
fn altered(
    m: &[BlindedTuple],
    t: usize,
    label: Option<Label>,
    f: impl FnOnce(&mut Vec<BlindedPoint>),
) -> Vec<BlindedTuple> {
    let mut m = m.to_vec();
    let mut points = m[t].points().to_vec();
    f(&mut points);
    m[t] = BlindedTuple::new(label.unwrap_or_else(|| m[t].label().clone()), points);
    m
}

#[test]
fn check_received_refuses_bad_messages() {
    let (layout, m) = message();
    let check = |m: &[BlindedTuple]| check_received(m, &layout, &policy(), 3);

    let repeat = m[0].points()[3];
    assert_eq!(
        check(&altered(&m, 2, None, |p| p[1] = repeat)),
        Err(LinkageError::RepeatedValue { first: 0, second: 2 })
    );
    assert_eq!(
        check(&altered(&m, 1, None, |p| p[0] = p[2])),
        Err(LinkageError::RepeatedValue { first: 1, second: 1 })
    );
    assert_eq!(
        check(&altered(&m, 1, None, |p| {
            p.pop();
        })),
        Err(LinkageError::TupleShape { index: 1, expected: 4, found: 3 })
    );
    assert_eq!(
        check(&altered(&m, 2, None, |p| p[3] = BlindedPoint::from_bytes([0; 32]))),
        Err(LinkageError::BadPoint { tuple: 2, slot: 3, source: PointError::Identity })
    );
    assert_eq!(
        check(&altered(&m, 0, None, |p| p[1] = BlindedPoint::from_bytes([0xff; 32]))),
        Err(LinkageError::BadPoint { tuple: 0, slot: 1, source: PointError::Undecodable })
    );
    assert_eq!(
        check(&altered(&m, 0, Some(label("secret")), |_| ())),
        Err(LinkageError::LabelNotInVocabulary(label("secret")))
    );
    assert_eq!(
        check_received(&m, &layout, &policy(), 2),
        Err(LinkageError::TooManyTuples { count: 3, max: 2 })
    );
    // A valid message sent out of byte order is refused: its order could be a handle.
    let mut reversed = m.clone();
    reversed.reverse();
    assert_eq!(check(&reversed), Err(LinkageError::NotSorted { index: 1 }));
    // Reblinding checks the same way before multiplying.
    let bad = altered(&m, 2, None, |p| p[3] = BlindedPoint::from_bytes([0; 32]));
    assert_eq!(
        reblind_tuples(&key(), bad, &layout, &mut Seeded(1)),
        Err(LinkageError::BadPoint { tuple: 2, slot: 3, source: PointError::Identity })
    );
}

#[test]
fn same_label_multiset_catches_a_changed_or_dropped_label() {
    let (layout, m) = message();
    let m3 = reblind_tuples(&key(), m.clone(), &layout, &mut Seeded(1)).unwrap();
    let labels =
        |t: &[BlindedTuple]| t.iter().map(BlindedTuple::label).cloned().collect::<Vec<_>>();
    assert!(same_label_multiset(&labels(&m), &labels(&m3)));
    let other = altered(&m3, 1, Some(label("other")), |_| ());
    assert!(!same_label_multiset(&labels(&m), &labels(&other)));
    assert!(!same_label_multiset(&labels(&m), &labels(&m3[1..])));
    let mut doubled = m3.clone();
    doubled[0] = BlindedTuple::new(m3[1].label().clone(), m3[0].points().to_vec());
    assert!(same_label_multiset(&labels(&m), &labels(&doubled)), "all three are labelled \"all\"");
}

/// The wire form the nodes use (`link::wire`): a batch round-trips, and a receiver refuses a
/// label index out of range, a truncated batch, more tuples than its cap, a repeated point and
/// a label outside its vocabulary.
#[test]
fn a_tuple_batch_round_trips_and_is_refused_when_malformed() {
    use fedlink_node::link::wire::{decode_batch, encode_batch};
    let (layout, m) = message();
    let m = altered(&m, 1, Some(label("other")), |_| ());
    let batch = encode_batch(&m, &layout);
    assert_eq!(batch.points.len(), 3 * 4 * 32);
    assert_eq!(batch.vocabulary, ["all", "other"], "the labels present, sorted");
    assert_eq!(decode_batch(batch.clone(), &layout, &policy(), 3, None).unwrap(), m);

    let mut out_of_range = batch.clone();
    out_of_range.labels[2..4].copy_from_slice(&2u16.to_be_bytes());
    assert_eq!(
        decode_batch(out_of_range, &layout, &policy(), 3, None),
        Err(LinkageError::LabelIndexOutOfRange { index: 2, len: 2 })
    );
    let mut truncated = batch.clone();
    truncated.points.pop();
    assert_eq!(
        decode_batch(truncated, &layout, &policy(), 3, None),
        Err(LinkageError::Batch(BatchError::BadLength { len: 3 * 4 * 32 - 1 }))
    );
    assert_eq!(
        decode_batch(batch.clone(), &layout, &policy(), 2, None),
        Err(LinkageError::TooManyTuples { count: 3, max: 2 })
    );
    let mut repeated = batch.clone();
    repeated.points.copy_within(0..32, 32);
    assert!(
        matches!(
            decode_batch(repeated, &layout, &policy(), 3, None),
            Err(LinkageError::RepeatedValue { .. } | LinkageError::NotSorted { .. })
        ),
        "a repeated point is refused"
    );
    let secret = encode_batch(&altered(&m, 0, Some(label("secret")), |_| ()), &layout);
    assert_eq!(
        decode_batch(secret, &layout, &policy(), 3, None),
        Err(LinkageError::LabelNotInVocabulary(label("secret")))
    );
}

/// A's reblinding permutes the slots of each key type afresh: the same tuple reblinded twice
/// holds the same points in another order, within its group, with its label.
#[test]
fn reblinding_permutes_slots_within_key_types() {
    let layout = TupleLayout::new([KeyType::Nhs, KeyType::NameDob], 8).unwrap();
    let selection = KeySelection::new(layout.key_types().iter().copied()).unwrap();
    let window = WindowTemplate::new("6m", Granularity::Month, 6, true).unwrap();
    let slots = window.cohort_slots(date(2025, 6, 1)).unwrap();
    let subject = Subject {
        label: label("other"),
        messages: slot_messages(&selection.record_keys(&shared()), &slots).unwrap(),
    };
    let plain = build_tuples(&[subject], &layout, &mut Seeded(1)).unwrap().tuples;
    assert!(plain[0].group(&layout, 0).iter().filter(|s| s.is_some()).count() >= 6);
    let (a, b) = (key(), key());
    let m2 = blind_tuples(&b, &SID, &layout, plain).unwrap();
    let first = reblind_tuples(&a, m2.clone(), &layout, &mut Seeded(10)).unwrap();
    let second = reblind_tuples(&a, m2, &layout, &mut Seeded(11)).unwrap();
    assert_eq!(first[0].label(), &label("other"));
    for group in 0..2 {
        let (x, y) = (first[0].group(&layout, group), second[0].group(&layout, group));
        assert_ne!(x, y, "group {group} in the same order twice");
        let (mut xs, mut ys) = (x.to_vec(), y.to_vec());
        xs.sort();
        ys.sort();
        assert_eq!(xs, ys, "group {group} holds the same points");
    }
}

/// The sender refuses a tuple of the wrong length and a message in another key type's slots,
/// whose tag would not be the one its group is compared under.
#[test]
fn blind_tuples_refuses_misshapen_input() {
    let layout = layout(1);
    let nhs_only = KeySelection::new([KeyType::Nhs]).unwrap();
    let nhs = slot_messages(&nhs_only.record_keys(&shared()), &[SlotLabel::UNTIMED]).unwrap();
    let misplaced = Tuple::new(label("all"), vec![None, Some(nhs[0].clone())]);
    assert_eq!(
        blind_tuples(&key(), &SID, &layout, vec![misplaced]),
        Err(LinkageError::SlotInWrongGroup {
            index: 0,
            expected: KeyType::NameDob,
            found: KeyType::Nhs
        })
    );
    let short = Tuple::new(label("all"), vec![None]);
    assert_eq!(
        blind_tuples(&key(), &SID, &layout, vec![short]),
        Err(LinkageError::TupleShape { index: 0, expected: 2, found: 1 })
    );
}

/// A layout with different slot counts per key type (one NHS number, several name keys, as
/// untimed layouts have): the keys meet after both keys, each group keeps its own size, and
/// A's reblinding permutes points only within their group.
#[test]
fn uneven_layouts_blind_meet_and_permute_within_groups() {
    let layout = TupleLayout::per_key_type([KeyType::NameDob, KeyType::Nhs], |kt| match kt {
        KeyType::Nhs => 1,
        _ => 5,
    })
    .unwrap();
    assert_eq!((layout.tuple_len(), layout.group_range(0), layout.group_range(1)), (6, 0..1, 1..6));
    let (a, b) = (key(), key());
    let a_side = [shared(), person("Ann", "Lee", "1990-03-04", "", Some(2))];
    let b_side = [person("Bob", "Jones", "1975-05-06", "", Some(3)), shared()];
    let plain = tuples(&layout, &a_side, 1);
    assert!(plain.iter().all(|t| t.group(&layout, 0).len() == 1 && t.group(&layout, 1).len() == 5));
    let m1 = blind_tuples(&a, &SID, &layout, plain).unwrap();
    check_received(&m1, &layout, &policy(), 10).unwrap();
    let ab = reblind_tuples(&b, m1, &layout, &mut Seeded(2)).unwrap();
    let m2 = blind_tuples(&b, &SID, &layout, tuples(&layout, &b_side, 3)).unwrap();
    let m3 = reblind_tuples(&a, m2, &layout, &mut Seeded(4)).unwrap();
    // Exactly the shared person's NHS number and name + DOB key meet.
    let common: Vec<BlindedPoint> = points(&ab).intersection(&points(&m3)).copied().collect();
    assert_eq!(common.len(), 2, "one NHS key and one name + DOB key in common");
    assert!(m3.iter().all(|t| t.group(&layout, 0).len() == 1 && t.points().len() == 6));
    // The NHS point stays the NHS point: permutation never crosses groups.
    let nhs_common = common
        .iter()
        .filter(|p| ab.iter().any(|t| t.group(&layout, 0).contains(p)))
        .filter(|p| m3.iter().any(|t| t.group(&layout, 0).contains(p)))
        .count();
    assert_eq!(nhs_common, 1, "the NHS keys meet in the NHS groups of both sides");
}

/// B's decoder for M3 (`decode_batch_to_compare`) keeps every check that needs no decoding —
/// shape, cap, labels, order, no repeat — and lets an undecodable point through, which can
/// then match none of B's own (canonical, non-identity) points.
#[test]
fn the_compare_only_decoder_checks_all_but_decoding() {
    use fedlink_node::link::wire::{decode_batch, decode_batch_to_compare, encode_batch};
    let (layout, m) = message();
    let batch = encode_batch(&m, &layout);
    assert_eq!(decode_batch_to_compare(batch.clone(), &layout, &policy(), 3).unwrap(), m);
    assert_eq!(
        decode_batch_to_compare(batch.clone(), &layout, &policy(), 2),
        Err(LinkageError::TooManyTuples { count: 3, max: 2 })
    );
    let mut truncated = batch.clone();
    truncated.points.pop();
    assert!(decode_batch_to_compare(truncated, &layout, &policy(), 3).is_err());
    let mut repeated = batch.clone();
    repeated.points.copy_within(0..32, 32);
    assert!(matches!(
        decode_batch_to_compare(repeated, &layout, &policy(), 3),
        Err(LinkageError::RepeatedValue { .. } | LinkageError::NotSorted { .. })
    ));
    let mut unsorted = m.clone();
    unsorted.swap(0, 2);
    assert!(matches!(
        decode_batch_to_compare(encode_batch(&unsorted, &layout), &layout, &policy(), 3),
        Err(LinkageError::NotSorted { .. })
    ));
    // The identity in the last slot of the last tuple (order unchanged): the full decoder
    // refuses it, the compare-only one passes it on, and it equals no point B could hold.
    let mut identity = batch.clone();
    let end = identity.points.len();
    identity.points[end - 32..].fill(0);
    assert!(matches!(
        decode_batch(identity.clone(), &layout, &policy(), 3, None),
        Err(LinkageError::BadPoint { .. })
    ));
    let passed = decode_batch_to_compare(identity, &layout, &policy(), 3).unwrap();
    assert!(!points(&m).contains(&BlindedPoint::from_bytes([0; 32])));
    assert_eq!(passed[2].points()[3], BlindedPoint::from_bytes([0; 32]));
}
