//! Tuples after blinding (design-review §8 steps 3–5): the bridge between the plaintext tuples
//! of [`super::tuple`] and the group arithmetic of `fedlink_proto::blind`.
//!
//! - [`blind_tuples`] (steps 3 and 4, the sender's own tuples): every present slot becomes
//!   `k·H(DST(sid, key type) ‖ message)`, every missing slot a fresh uniform point, so a
//!   missing slot, a value dropped by unique-or-random and a dummy's slot look like any
//!   blinded key (F11, F17); then the tuples are sorted by their bytes, so the order carries
//!   nothing about subjects (F11).
//! - [`reblind_tuples`] (step 5, A on M2): every point multiplied by A's key, the slots of each
//!   key type permuted afresh (so B cannot align positions with what it sent, F5), labels kept
//!   with their tuples, sorted by bytes again.
//! - [`check_received`] and [`same_label_multiset`]: the receiver's checks of steps 3 and 5.
//! - the wire form — one packed `bytes` field of points and one label index per tuple into the
//!   vocabulary both sides share — is `link::wire`.

use std::collections::HashMap;

use fedlink_proto::blind::{
    BatchError, BatchRules, BlindedPoint, BlindingKey, KeyError, POINT_LEN, PackedPoints,
    blind_all, linkage_dst, random_points, reblind_received,
};

use super::LinkageError;
use super::keys::SlotMessage;
use super::label::{Label, LabelPolicy};
use super::shuffle::shuffle;
use super::tuple::{Tuple, TupleLayout};
use crate::privacy::RandomBits;

/// One tuple as it travels: a label in clear and `layout.tuple_len()` points, grouped by key
/// type in layout order. Every slot holds a point; which were missing cannot be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlindedTuple {
    label: Label,
    points: Vec<BlindedPoint>,
}

impl BlindedTuple {
    /// A tuple from its parts; check received ones with [`check_received`].
    pub fn new(label: Label, points: Vec<BlindedPoint>) -> BlindedTuple {
        BlindedTuple { label, points }
    }

    /// The label.
    pub fn label(&self) -> &Label {
        &self.label
    }

    /// All points, key type by key type.
    pub fn points(&self) -> &[BlindedPoint] {
        &self.points
    }

    /// The points of the `group`-th key type of `layout` (empty if out of range).
    pub fn group(&self, layout: &TupleLayout, group: usize) -> &[BlindedPoint] {
        self.points.get(layout.group_range(group)).unwrap_or_default()
    }

    /// The same tuple as a [`Tuple`] with every slot present, for a [`super::Matcher`].
    pub fn into_tuple(self) -> Tuple<BlindedPoint> {
        Tuple::new(self.label, self.points.into_iter().map(Some).collect())
    }
}

/// Blinds one side's tuples with `key` under the session's tags and sorts them by bytes.
pub fn blind_tuples(
    key: &BlindingKey,
    session_id: &[u8; 16],
    layout: &TupleLayout,
    tuples: Vec<Tuple<SlotMessage>>,
) -> Result<Vec<BlindedTuple>, LinkageError> {
    let mut out = blind_tuples_in_order(key, session_id, layout, tuples)?;
    sort_by_bytes(&mut out);
    Ok(out)
}

/// [`blind_tuples`] without the final sort: tuple `i` of the output is input tuple `i`. For a
/// sender that must remember which tuple is which (flag-back: A maps the flags back to its
/// rows) and then sends them sorted anyway.
///
/// Present slots of each key type are blinded together on all cores ([`blind_all`]) with
/// `linkage_dst(session_id, key_type.wire_id())`; missing slots get fresh uniform points ([`random_points`], one batch). Refuses
/// a tuple not of the layout's length, a message in another key type's group, and output in
/// which a point repeats (which unique-or-random rules out; the peer would refuse it).
pub fn blind_tuples_in_order(
    key: &BlindingKey,
    session_id: &[u8; 16],
    layout: &TupleLayout,
    tuples: Vec<Tuple<SlotMessage>>,
) -> Result<Vec<BlindedTuple>, LinkageError> {
    for (index, tuple) in tuples.iter().enumerate() {
        layout.check(index, tuple)?;
        for (group, &expected) in layout.key_types().iter().enumerate() {
            let mut found = tuple.group(layout, group).iter().flatten().map(SlotMessage::key_type);
            if let Some(found) = found.find(|&found| found != expected) {
                return Err(LinkageError::SlotInWrongGroup { index, expected, found });
            }
        }
    }
    let mut blinded: Vec<Vec<Option<BlindedPoint>>> =
        vec![vec![None; layout.tuple_len()]; tuples.len()];
    for (group, &key_type) in layout.key_types().iter().enumerate() {
        let offset = layout.group_range(group).start;
        let mut positions = Vec::new();
        let mut messages: Vec<&[u8]> = Vec::new();
        for (t, tuple) in tuples.iter().enumerate() {
            for (s, slot) in tuple.group(layout, group).iter().enumerate() {
                if let Some(message) = slot {
                    positions.push((t, offset + s));
                    messages.push(message.as_bytes());
                }
            }
        }
        let dst = linkage_dst(session_id, key_type.wire_id());
        let points = blind_all(key, &messages, &dst);
        for ((t, s), point) in positions.into_iter().zip(points.iter()) {
            if let Some(slot) = blinded.get_mut(t).and_then(|slots| slots.get_mut(s)) {
                *slot = Some(point);
            }
        }
    }
    // Every missing slot gets a fresh random point, drawn in one batch on all cores.
    let missing = blinded.iter().flatten().filter(|slot| slot.is_none()).count();
    let randoms = random_points(missing)?;
    let mut fresh = randoms.iter();
    let mut out = Vec::with_capacity(tuples.len());
    for (tuple, slots) in tuples.iter().zip(blinded) {
        let points = slots
            .into_iter()
            .map(|slot| slot.or_else(|| fresh.next()).ok_or(KeyError::Rng))
            .collect::<Result<Vec<_>, KeyError>>()?;
        out.push(BlindedTuple { label: tuple.label().clone(), points });
    }
    // Our own points are valid by construction; only a repeat needs looking for.
    let mut first_seen: HashMap<&BlindedPoint, usize> = HashMap::new();
    for (index, tuple) in out.iter().enumerate() {
        for point in &tuple.points {
            if let Some(&first) = first_seen.get(point) {
                return Err(LinkageError::RepeatedValue { first, second: index });
            }
            first_seen.insert(point, index);
        }
    }
    Ok(out)
}

/// A's step 5 on B's tuples (M2 → M3): checks every point as [`check_received`] does (a
/// refusal names the tuple and slot), multiplies it by `key`, permutes the slots within each
/// key type with a fresh permutation from `rng`, keeps each label with its tuple, and sorts by
/// bytes.
pub fn reblind_tuples(
    key: &BlindingKey,
    tuples: Vec<BlindedTuple>,
    layout: &TupleLayout,
    rng: &mut dyn RandomBits,
) -> Result<Vec<BlindedTuple>, LinkageError> {
    for (index, tuple) in tuples.iter().enumerate() {
        check_shape(index, tuple, layout)?;
    }
    let len = layout.tuple_len();
    let count = tuples.len() * len;
    let reblinded =
        reblind_received(key, &packed_bytes(&tuples), &BatchRules::exactly(count).unique())
            .map_err(|e| from_batch(e, len))?;
    let mut points = reblinded.iter();
    let out = tuples
        .into_iter()
        .map(|tuple| BlindedTuple {
            label: tuple.label,
            points: points.by_ref().take(len).collect(),
        })
        .collect();
    permute_slots_and_sort(out, layout, rng)
}

/// The second half of [`reblind_tuples`] for tuples already reblinded as they were received
/// (`link::wire::decode_batch` with a key): a fresh permutation of the slots within each key
/// type of every tuple (F5, F9), labels kept, then sorted by bytes.
pub fn permute_slots_and_sort(
    mut tuples: Vec<BlindedTuple>,
    layout: &TupleLayout,
    rng: &mut dyn RandomBits,
) -> Result<Vec<BlindedTuple>, LinkageError> {
    for (index, tuple) in tuples.iter_mut().enumerate() {
        check_shape(index, tuple, layout)?;
        for group in layout.groups_mut(&mut tuple.points) {
            shuffle(group, rng)?;
        }
    }
    sort_by_bytes(&mut tuples);
    Ok(tuples)
}

/// The receiver's checks on a blinded message (§8 steps 3 and 5), cheapest first: at most
/// `max` tuples, each of the layout's length with a label in `policy`'s vocabulary, then every
/// point decodable and not the identity, and no point anywhere in the message repeated.
pub fn check_received(
    tuples: &[BlindedTuple],
    layout: &TupleLayout,
    policy: &LabelPolicy,
    max: usize,
) -> Result<(), LinkageError> {
    if tuples.len() > max {
        return Err(LinkageError::TooManyTuples { count: tuples.len(), max });
    }
    for (index, tuple) in tuples.iter().enumerate() {
        check_shape(index, tuple, layout)?;
        policy.check_label(&tuple.label)?;
    }
    let len = layout.tuple_len();
    let rules = BatchRules::exactly(tuples.len() * len).unique();
    PackedPoints::from_bytes(packed_bytes(tuples), &rules).map_err(|e| from_batch(e, len))?;
    // §8: tuples travel sorted by their bytes, so their order carries nothing. An unsorted
    // message could carry an order, a handle back to the sender's records.
    check_sorted(tuples)
}

/// Whether two messages carry the same labels the same number of times (§8 step 5: M3 must
/// keep M2's labels, only reordered).
pub fn same_label_multiset(a: &[Label], b: &[Label]) -> bool {
    fn sorted(labels: &[Label]) -> Vec<&Label> {
        let mut labels: Vec<&Label> = labels.iter().collect();
        labels.sort_unstable();
        labels
    }
    a.len() == b.len() && sorted(a) == sorted(b)
}

/// Refuses a tuple whose length is not the layout's.
fn check_shape(
    index: usize,
    tuple: &BlindedTuple,
    layout: &TupleLayout,
) -> Result<(), LinkageError> {
    if tuple.points.len() == layout.tuple_len() {
        Ok(())
    } else {
        Err(LinkageError::TupleShape {
            index,
            expected: layout.tuple_len(),
            found: tuple.points.len(),
        })
    }
}

/// Every point of every tuple, in order, as one packed byte string.
fn packed_bytes(tuples: &[BlindedTuple]) -> Vec<u8> {
    let mut bytes =
        Vec::with_capacity(tuples.iter().map(|t| t.points.len()).sum::<usize>() * POINT_LEN);
    for point in tuples.iter().flat_map(|t| &t.points) {
        bytes.extend_from_slice(point.as_bytes());
    }
    bytes
}

/// Sorts tuples by their points' bytes (ties, impossible with distinct points, by label), so
/// the order says nothing about subjects or input order (F11).
fn sort_by_bytes(tuples: &mut [BlindedTuple]) {
    tuples.sort_unstable_by(by_bytes);
}

/// Refuses tuples that are not in the order they must travel in (by bytes, F11).
pub fn check_sorted(tuples: &[BlindedTuple]) -> Result<(), LinkageError> {
    match tuples.windows(2).position(|w| by_bytes(&w[0], &w[1]).is_gt()) {
        Some(i) => Err(LinkageError::NotSorted { index: i + 1 }),
        None => Ok(()),
    }
}

/// The order tuples travel in: by their points' bytes, then label.
pub fn by_bytes(a: &BlindedTuple, b: &BlindedTuple) -> std::cmp::Ordering {
    a.points.cmp(&b.points).then_with(|| a.label.cmp(&b.label))
}

/// A batch refusal in tuple terms, for tuples of `len` points packed one after another.
pub(crate) fn from_batch(error: BatchError, len: usize) -> LinkageError {
    let len = len.max(1);
    match error {
        BatchError::Point { index, source } => {
            LinkageError::BadPoint { tuple: index / len, slot: index % len, source }
        }
        BatchError::Repeated { index, first } => {
            LinkageError::RepeatedValue { first: first / len, second: index / len }
        }
        other => LinkageError::Batch(other),
    }
}
