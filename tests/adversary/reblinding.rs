//! F16, malicious reblinding (design-review §2.8, §10 item 11): a cohort node that deviates can
//! duplicate B's tuples in M3 to double the counts of chosen classes. Under unique-or-random an
//! honest M2 has no repeated point, so B refuses any received batch in which a point repeats —
//! a duplicated tuple, even one swapped for another so the size and the label multiset still
//! match, or a point copied within a tuple. Unit-level through the wire decoder both nodes
//! use (`link::wire::decode_batch`), with the neighbouring checks: the identity point, order,
//! vocabulary and size. (Fragmenting, caught by canaries, is later hardening.)

use fedlink_node::link::wire::{decode_batch, encode_batch};
use fedlink_node::linkage::{
    BlindedTuple, Label, LabelPolicy, LinkageError, TupleLayout, blind_tuples, by_bytes,
    dummy_tuples,
};
use fedlink_node::matchkey::KeyType;
use fedlink_proto::blind::{BlindedPoint, BlindingKey};
use fedlink_proto::pb;

fn label(text: &str) -> Label {
    Label::new(text).expect("label")
}

fn policy() -> LabelPolicy {
    LabelPolicy::new([label("a"), label("b")], 1).expect("policy")
}

fn layout() -> TupleLayout {
    TupleLayout::new([KeyType::Nhs, KeyType::NameDob], 4).expect("layout")
}

/// M2 as B sends it: 12 tuples (6 per label) of fresh points, sorted by bytes.
fn m2() -> Vec<BlindedTuple> {
    let plan = [(label("a"), 6), (label("b"), 6)].into();
    let tuples = dummy_tuples(&layout(), &plan, &policy()).expect("tuples");
    blind_tuples(&BlindingKey::generate().expect("key"), &[3; 16], &layout(), tuples)
        .expect("blind")
}

fn decode(tuples: &[BlindedTuple], max: usize) -> Result<Vec<BlindedTuple>, LinkageError> {
    decode_batch(encode_batch(tuples, &layout()), &layout(), &policy(), max, None)
}

fn sorted(mut tuples: Vec<BlindedTuple>) -> Vec<BlindedTuple> {
    tuples.sort_by(by_bytes);
    tuples
}

#[test]
fn a_duplicated_tuple_in_m3_is_refused() {
    let honest = m2();
    assert_eq!(decode(&honest, 12).expect("the honest batch decodes"), honest);
    // Also on A's path, reblinding as it decodes.
    let key = BlindingKey::generate().expect("key");
    let batch = encode_batch(&honest, &layout());
    assert_eq!(decode_batch(batch, &layout(), &policy(), 12, Some(&key)).expect("ok").len(), 12);

    // One tuple of class a duplicated in place of another of class a: same size, same label
    // multiset, so only the no-repeat check can see it.
    let first_a = honest.iter().position(|t| t.label() == &label("a")).expect("an a");
    let other_a = honest.iter().rposition(|t| t.label() == &label("a")).expect("another a");
    let mut tampered = honest.clone();
    tampered[other_a] = honest[first_a].clone();
    let tampered = sorted(tampered);
    assert_eq!(tampered.len(), honest.len());
    match decode(&tampered, 12) {
        Err(LinkageError::RepeatedValue { first, second }) => assert_eq!(second, first + 1),
        other => panic!("a duplicated tuple was not refused: {other:?}"),
    }
    // Duplicated on top (13 tuples where 12 were sent): refused by the no-repeat check too.
    let mut grown = honest.clone();
    grown.push(honest[first_a].clone());
    assert!(matches!(decode(&sorted(grown), 13), Err(LinkageError::RepeatedValue { .. })));
    // The same on A's path.
    let mut on_a = honest.clone();
    on_a[other_a] = honest[first_a].clone();
    let batch = encode_batch(&sorted(on_a), &layout());
    assert!(matches!(
        decode_batch(batch, &layout(), &policy(), 12, Some(&key)),
        Err(LinkageError::RepeatedValue { .. })
    ));
}

#[test]
fn copied_identity_unsorted_unlisted_and_oversized_batches_are_refused() {
    let honest = m2();

    // A point copied to another slot of its own tuple.
    let mut copied = honest.clone();
    let points = copied[0].points().to_vec();
    let mut changed = points.clone();
    changed[1] = points[0];
    copied[0] = BlindedTuple::new(copied[0].label().clone(), changed);
    assert!(matches!(decode(&sorted(copied), 12), Err(LinkageError::RepeatedValue { .. })));

    // The identity point (all zero bytes), which every key maps to itself.
    let mut identity = honest.clone();
    let mut changed = identity[5].points().to_vec();
    changed[3] = BlindedPoint::from_bytes([0; 32]);
    identity[5] = BlindedTuple::new(identity[5].label().clone(), changed);
    assert!(matches!(decode(&sorted(identity), 12), Err(LinkageError::BadPoint { .. })));

    // Out of byte order: an order chosen by the sender could carry its records' order.
    let mut unsorted = honest.clone();
    unsorted.swap(0, 11);
    assert!(matches!(decode(&unsorted, 12), Err(LinkageError::NotSorted { .. })));

    // A label outside the receiver's vocabulary.
    let mut batch: pb::TupleBatch = encode_batch(&honest, &layout());
    batch.vocabulary[0] = "LABEL-ZEBRA".into();
    assert_eq!(
        decode_batch(batch, &layout(), &policy(), 12, None),
        Err(LinkageError::LabelNotInVocabulary(label("LABEL-ZEBRA")))
    );

    // More tuples than the receiver allows.
    assert_eq!(decode(&honest, 11), Err(LinkageError::TooManyTuples { count: 12, max: 11 }));

    // Another tuple length than the layout's.
    let mut batch = encode_batch(&honest, &layout());
    batch.tuple_len += 1;
    assert!(matches!(
        decode_batch(batch, &layout(), &policy(), 12, None),
        Err(LinkageError::TupleShape { .. })
    ));
}
