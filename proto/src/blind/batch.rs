//! Packed batches of points ([`PackedPoints`]): the wire form, and the checks a received
//! batch must pass.
//!
//! Points travel as one protobuf `bytes` field of n×32 bytes, never one message or one
//! `repeated bytes` entry per point: rust-stack.md §6.4 measured packed tokens at 1.3–2 GB/s
//! through tonic and `repeated bytes` 5–6× slower. A received batch is checked whole before any
//! scalar touches it (design-review §8 steps 3 and 5): length, count, every point decodable and
//! not the identity, and where the protocol says so, no point repeated. Refusals name the first
//! offending index so a node can log exactly what it refused.
//!
//! Blinding a batch on all cores is in [`super::parallel`].

use std::collections::HashMap;

use super::parallel::{default_threads, par_chunks};
use super::point::{BlindedPoint, POINT_LEN, PointError};

/// What a received batch must satisfy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchRules {
    /// Exactly this many points, when the count is known in advance (|M3| = |M2|).
    pub expected_count: Option<usize>,
    /// At most this many points: the receiver's size cap, checked before any decoding.
    pub max: usize,
    /// Refuse a batch in which any point appears twice (unique-or-random makes repeats
    /// impossible in an honest message; a repeat is a probe).
    pub unique: bool,
}

impl BatchRules {
    /// Up to `max` points, repeats allowed.
    pub const fn up_to(max: usize) -> Self {
        Self { expected_count: None, max, unique: false }
    }

    /// Exactly `count` points, repeats allowed.
    pub const fn exactly(count: usize) -> Self {
        Self { expected_count: Some(count), max: count, unique: false }
    }

    /// The same rules, also refusing repeated points.
    pub const fn unique(self) -> Self {
        Self { unique: true, ..self }
    }
}

/// Why a received batch was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// The byte length is not a whole number of 32-byte points.
    #[error("a packed batch of {len} bytes is not a multiple of {POINT_LEN}")]
    BadLength {
        /// The length received.
        len: usize,
    },
    /// More points than the receiver accepts.
    #[error("{count} points; at most {max} are accepted")]
    TooMany {
        /// Points received.
        count: usize,
        /// The cap.
        max: usize,
    },
    /// Not the number of points the protocol step requires.
    #[error("{count} points; exactly {expected} are required")]
    WrongCount {
        /// Points received.
        count: usize,
        /// Points required.
        expected: usize,
    },
    /// A point that does not decode, or is the identity.
    #[error("point {index}: {source}")]
    Point {
        /// Its position in the batch, from 0.
        index: usize,
        /// What is wrong with it.
        source: PointError,
    },
    /// A point equal to an earlier one.
    #[error("point {index} repeats point {first}")]
    Repeated {
        /// The later position, from 0.
        index: usize,
        /// The earlier position it equals.
        first: usize,
    },
}

/// n points packed as n×32 bytes, every one a canonical, non-identity ristretto255 encoding.
///
/// Made only by [`PackedPoints::from_bytes`] (which checks) or by blinding with a
/// [`super::BlindingKey`] (whose outputs are valid by construction), so holding one means the
/// checks were done.
#[derive(Clone, PartialEq, Eq)]
pub struct PackedPoints {
    pub(super) bytes: Vec<u8>,
}

impl PackedPoints {
    /// Checks a received batch against `rules`, decoding every point on all cores.
    ///
    /// Cheap checks (length, count, repeats) come before the decoding, and a refusal names the
    /// lowest offending index among the points decoded.
    pub fn from_bytes(bytes: Vec<u8>, rules: &BatchRules) -> Result<Self, BatchError> {
        let count = check_shape(&bytes, rules)?;
        let (points, _) = bytes.as_chunks::<POINT_LEN>();
        debug_assert_eq!(points.len(), count);
        if rules.unique {
            check_unique(points)?;
        }
        let failures = par_chunks(points, default_threads(), |offset, chunk| {
            chunk.iter().enumerate().find_map(|(i, p)| {
                BlindedPoint::from_bytes(*p).decode().err().map(|e| (offset + i, e))
            })
        });
        if let Some((index, source)) = failures.into_iter().flatten().next() {
            return Err(BatchError::Point { index, source });
        }
        Ok(Self { bytes })
    }

    /// The number of points.
    pub fn len(&self) -> usize {
        self.bytes.len() / POINT_LEN
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The packed bytes, as they go into a protobuf `bytes` field.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The packed bytes, by value.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The point at `index`.
    pub fn get(&self, index: usize) -> Option<BlindedPoint> {
        self.chunks().get(index).map(|p| BlindedPoint::from_bytes(*p))
    }

    /// The points in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = BlindedPoint> + '_ {
        self.chunks().iter().map(|p| BlindedPoint::from_bytes(*p))
    }

    pub(super) fn chunks(&self) -> &[[u8; POINT_LEN]] {
        self.bytes.as_chunks::<POINT_LEN>().0
    }
}

impl std::fmt::Debug for PackedPoints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PackedPoints({} points)", self.len())
    }
}

/// The checks of [`PackedPoints::from_bytes`] that need no decoding — length, cap, count and,
/// where `rules` say so, no point repeated — for a batch the receiver will only compare, byte
/// for byte, with points it computed itself (B on M3). Such a receiver never multiplies or
/// decodes these points, and its own points are canonical encodings of non-identity elements,
/// so a non-canonical or identity encoding can equal none of them: it links nothing, exactly
/// like a uniform random point, and decoding it would only cost a square root per point.
/// Returns the point count.
pub fn check_undecoded(bytes: &[u8], rules: &BatchRules) -> Result<usize, BatchError> {
    let count = check_shape(bytes, rules)?;
    if rules.unique {
        check_unique(bytes.as_chunks::<POINT_LEN>().0)?;
    }
    Ok(count)
}

/// Length, cap and count, before anything is decoded; returns the point count.
pub(super) fn check_shape(bytes: &[u8], rules: &BatchRules) -> Result<usize, BatchError> {
    if !bytes.len().is_multiple_of(POINT_LEN) {
        return Err(BatchError::BadLength { len: bytes.len() });
    }
    let count = bytes.len() / POINT_LEN;
    if count > rules.max {
        return Err(BatchError::TooMany { count, max: rules.max });
    }
    match rules.expected_count {
        Some(expected) if expected != count => Err(BatchError::WrongCount { count, expected }),
        _ => Ok(count),
    }
}

/// Refuses the first point (by index) equal to an earlier one.
pub(super) fn check_unique(points: &[[u8; POINT_LEN]]) -> Result<(), BatchError> {
    let mut seen: HashMap<&[u8; POINT_LEN], usize> = HashMap::with_capacity(points.len());
    for (index, p) in points.iter().enumerate() {
        if let Some(&first) = seen.get(p) {
            return Err(BatchError::Repeated { index, first });
        }
        seen.insert(p, index);
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn rules_and_shape() {
        assert_eq!(
            BatchRules::exactly(3).unique(),
            BatchRules { expected_count: Some(3), max: 3, unique: true }
        );
        assert_eq!(
            check_shape(&[0; 33], &BatchRules::up_to(9)),
            Err(BatchError::BadLength { len: 33 })
        );
        assert_eq!(
            check_shape(&[0; 96], &BatchRules::up_to(2)),
            Err(BatchError::TooMany { count: 3, max: 2 })
        );
        assert_eq!(
            check_shape(&[0; 64], &BatchRules { expected_count: Some(3), ..BatchRules::up_to(9) }),
            Err(BatchError::WrongCount { count: 2, expected: 3 })
        );
        assert_eq!(check_shape(&[], &BatchRules::up_to(0)), Ok(0));
    }
}
