//! The plaintexts that travel sealed through the relay: tuple batches (packed points and
//! label indexes), the signed cohort descriptor and flag lists, encoded and — on receipt —
//! checked in one pass: sizes against the layout and the caps, labels against this node's
//! vocabulary, every point decoded once (identity and non-canonical encodings refused) and
//! none repeated (design-review §8 steps 3 and 5, F8, F11, F17).

use std::collections::BTreeSet;

use fedlink_proto::blind::{
    BatchRules, BlindedPoint, BlindingKey, POINT_LEN, PackedPoints, check_undecoded,
    reblind_received,
};
use fedlink_proto::identity::{IdentityKey, PublicKey, SigningContext};
use fedlink_proto::pb;
use prost::Message;

use crate::linkage::blinded::from_batch;
use crate::linkage::{BlindedTuple, Label, LabelPolicy, LinkageError, TupleLayout};

/// What a malformed payload is refused for.
pub type WireError = LinkageError;

/// Encodes tuples as a [`pb::TupleBatch`]: the labels present, sorted, as the batch's
/// vocabulary; one 2-byte index per tuple; every point packed in tuple order.
pub fn encode_batch(tuples: &[BlindedTuple], layout: &TupleLayout) -> pb::TupleBatch {
    let vocabulary: Vec<String> = tuples
        .iter()
        .map(|t| t.label().as_str().to_string())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut labels = Vec::with_capacity(tuples.len() * 2);
    let mut points = Vec::with_capacity(tuples.len() * layout.tuple_len() * 32);
    for tuple in tuples {
        let index = vocabulary.binary_search_by(|v| v.as_str().cmp(tuple.label().as_str()));
        // Every label is in the vocabulary built from these very tuples.
        let index = u16::try_from(index.unwrap_or(0)).unwrap_or(u16::MAX);
        labels.extend_from_slice(&index.to_be_bytes());
        for point in tuple.points() {
            points.extend_from_slice(point.as_bytes());
        }
    }
    pb::TupleBatch {
        tuple_len: u32::try_from(layout.tuple_len()).unwrap_or(u32::MAX),
        vocabulary,
        labels,
        points,
    }
}

/// Decodes and checks a received batch: the layout's tuple length, at most `max` tuples, every
/// label in `policy`'s vocabulary, tuples in byte order (as the sender must send them, F11),
/// every point valid and no point repeated anywhere. With `reblind`, every point comes back
/// multiplied by that key, each point decoded once for both the check and the product.
pub fn decode_batch(
    batch: pb::TupleBatch,
    layout: &TupleLayout,
    policy: &LabelPolicy,
    max: usize,
    reblind: Option<&BlindingKey>,
) -> Result<Vec<BlindedTuple>, WireError> {
    let points = match reblind {
        None => Points::Check,
        Some(key) => Points::Reblind(key),
    };
    decode(batch, layout, policy, max, points)
}

/// [`decode_batch`] for a batch whose points the receiver only compares with points it made
/// itself: every check but the decoding of each point (B on M3, design-review §8 step 5).
///
/// Sizes, labels, order and no-repeat are checked as for any batch. The points are not
/// decoded: B never multiplies them, and equality with one of B's own points — canonical
/// encodings of non-identity elements, as dalek's compression makes them — is all it asks of
/// them, so an undecodable or identity encoding can match nothing, like the random point an
/// honest M3 would carry in its place (`fedlink_proto::blind::check_undecoded`). Decoding 1M
/// points would cost about 3 s of one core for no protection.
pub fn decode_batch_to_compare(
    batch: pb::TupleBatch,
    layout: &TupleLayout,
    policy: &LabelPolicy,
    max: usize,
) -> Result<Vec<BlindedTuple>, WireError> {
    decode(batch, layout, policy, max, Points::Compare)
}

/// What a receiver does with a batch's points.
enum Points<'a> {
    /// Decode and check each (not the identity, canonical).
    Check,
    /// Decode and check each, and multiply it by this key.
    Reblind(&'a BlindingKey),
    /// Check only what needs no decoding (count, no repeat): see [`decode_batch_to_compare`].
    Compare,
}

fn decode(
    batch: pb::TupleBatch,
    layout: &TupleLayout,
    policy: &LabelPolicy,
    max: usize,
    mode: Points<'_>,
) -> Result<Vec<BlindedTuple>, WireError> {
    let len = layout.tuple_len();
    if usize::try_from(batch.tuple_len).ok() != Some(len) {
        return Err(LinkageError::TupleShape {
            index: 0,
            expected: len,
            found: batch.tuple_len as usize,
        });
    }
    if !batch.labels.len().is_multiple_of(2) {
        return Err(LinkageError::Wire("label indexes are 2 bytes each".into()));
    }
    let count = batch.labels.len() / 2;
    if count > max {
        return Err(LinkageError::TooManyTuples { count, max });
    }
    let vocabulary = batch
        .vocabulary
        .into_iter()
        .map(|text| {
            let label = Label::new(text)?;
            policy.check_label(&label)?;
            Ok(label)
        })
        .collect::<Result<Vec<Label>, LinkageError>>()?;
    check_sorted_bytes(&batch.points, len, &batch.labels)?;
    let rules = BatchRules::exactly(count.saturating_mul(len)).unique();
    let points = match mode {
        Points::Check => {
            PackedPoints::from_bytes(batch.points, &rules).map(PackedPoints::into_bytes)
        }
        Points::Reblind(key) => {
            reblind_received(key, &batch.points, &rules).map(PackedPoints::into_bytes)
        }
        Points::Compare => check_undecoded(&batch.points, &rules).map(|_| batch.points),
    };
    let points = points.map_err(|e| from_batch(e, len))?;
    let mut points = points.as_chunks::<POINT_LEN>().0.iter().map(|p| BlindedPoint::from_bytes(*p));
    let mut tuples = Vec::with_capacity(count);
    for pair in batch.labels.chunks_exact(2) {
        let index = u16::from_be_bytes([pair[0], pair[1]]);
        let label = vocabulary
            .get(usize::from(index))
            .cloned()
            .ok_or(LinkageError::LabelIndexOutOfRange { index, len: vocabulary.len() })?;
        let tuple_points: Vec<BlindedPoint> = points.by_ref().take(len).collect();
        tuples.push(BlindedTuple::new(label, tuple_points));
    }
    Ok(tuples)
}

/// Refuses tuples not in byte order, judged on the bytes as received (points, then the label
/// index as a tie-break, which distinct points never need).
fn check_sorted_bytes(points: &[u8], len: usize, labels: &[u8]) -> Result<(), WireError> {
    let width = len * POINT_LEN;
    if width == 0 || !points.len().is_multiple_of(width) {
        // The batch check that follows names the shape problem.
        return Ok(());
    }
    let tuples: Vec<&[u8]> = points.chunks_exact(width).collect();
    for (i, pair) in tuples.windows(2).enumerate() {
        let order = pair[0]
            .cmp(pair[1])
            .then_with(|| labels.get(i * 2..i * 2 + 2).cmp(&labels.get(i * 2 + 2..i * 2 + 4)));
        if order.is_gt() {
            return Err(LinkageError::NotSorted { index: i + 1 });
        }
    }
    Ok(())
}

/// Wraps a payload for sealing.
pub fn payload(body: pb::link_payload::Body) -> Vec<u8> {
    pb::LinkPayload { body: Some(body) }.encode_to_vec()
}

/// Reads a sealed message's plaintext back into its body.
pub fn read_payload(bytes: &[u8]) -> Result<pb::link_payload::Body, WireError> {
    pb::LinkPayload::decode(bytes)
        .map_err(|e| LinkageError::Wire(format!("not a link payload: {e}")))?
        .body
        .ok_or_else(|| LinkageError::Wire("an empty link payload".into()))
}

/// The cohort descriptor signed with the cohort node's federation key (F8): the receiver and
/// the auditors can hold the cohort node to what it claimed to send.
pub fn sign_descriptor(
    descriptor: &pb::CohortDescriptor,
    identity: &IdentityKey,
) -> (Vec<u8>, Vec<u8>) {
    let bytes = descriptor.encode_to_vec();
    let signature = identity.sign(SigningContext::COHORT, &bytes).as_bytes().to_vec();
    (bytes, signature)
}

/// Verifies a descriptor's signature under the cohort node's key and decodes it.
pub fn open_descriptor(
    bytes: &[u8],
    signature: &[u8],
    key: &PublicKey,
) -> Result<pb::CohortDescriptor, WireError> {
    key.verify(SigningContext::COHORT, bytes, signature).map_err(|_| {
        LinkageError::Wire("the cohort descriptor's signature does not verify".into())
    })?;
    pb::CohortDescriptor::decode(bytes)
        .map_err(|e| LinkageError::Wire(format!("not a cohort descriptor: {e}")))
}

/// Flags for the cohort node, one per M1 tuple in M1's order, with one coarse label each.
pub fn encode_flags(flags: &[Option<Label>]) -> pb::FlagList {
    let vocabulary: Vec<String> = flags
        .iter()
        .flatten()
        .map(|l| l.as_str().to_string())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut bits = Vec::with_capacity(flags.len());
    let mut labels = Vec::with_capacity(flags.len() * 2);
    for flag in flags {
        let index = match flag {
            Some(l) => vocabulary
                .binary_search_by(|v| v.as_str().cmp(l.as_str()))
                .ok()
                .and_then(|i| u16::try_from(i).ok())
                .unwrap_or(u16::MAX),
            None => u16::MAX,
        };
        bits.push(u8::from(flag.is_some()));
        labels.extend_from_slice(&index.to_be_bytes());
    }
    pb::FlagList { flags: bits, labels, vocabulary }
}

/// Reads flags back: exactly `expected` entries, each 0 or 1, a label for each 1 and none for
/// each 0 (F6: one flag and one coarse label per row, nothing else).
pub fn decode_flags(list: pb::FlagList, expected: usize) -> Result<Vec<Option<String>>, WireError> {
    if list.flags.len() != expected || list.labels.len() != expected * 2 {
        return Err(LinkageError::Wire(format!(
            "{} flags for {expected} cohort rows",
            list.flags.len()
        )));
    }
    list.flags
        .iter()
        .zip(list.labels.chunks_exact(2))
        .map(|(&flag, pair)| {
            let index = u16::from_be_bytes([pair[0], pair[1]]);
            match (flag, index) {
                (0, u16::MAX) => Ok(None),
                (1, i) => list
                    .vocabulary
                    .get(usize::from(i))
                    .cloned()
                    .map(Some)
                    .ok_or_else(|| LinkageError::Wire("a flag's label is out of range".into())),
                _ => Err(LinkageError::Wire("a flag is neither 0 nor 1 with its label".into())),
            }
        })
        .collect()
}
