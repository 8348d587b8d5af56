//! Blinded points on the wire ([`BlindedPoint`], 32 bytes) and decoded, checked points
//! ([`ValidPoint`]).
//!
//! Two types because bytes from a peer are untrusted: only [`BlindedPoint::decode`] turns them
//! into something a secret scalar may multiply, and it refuses everything RFC 9496 §4.3.1
//! refuses (non-canonical field encodings, negative `s`, non-square `x²`, negative `xy`,
//! `y = 0`) plus the identity. The identity is refused because it is the one value every
//! scalar maps to itself, so a peer sending it would learn whether it came back unchanged, and
//! because it is what a careless "missing key" would hash to (DESIGN.md, unique-or-random).

use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::traits::IsIdentity;

/// Length of one encoded ristretto255 point.
pub const POINT_LEN: usize = 32;

/// Why 32 bytes (or a slice) are not a usable point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PointError {
    /// A point is exactly 32 bytes.
    #[error("a point is {POINT_LEN} bytes, not {len}")]
    WrongLength {
        /// The length that was offered.
        len: usize,
    },
    /// Not the canonical encoding of any ristretto255 element (RFC 9496 §4.3.1 decode fails).
    #[error("not a canonical ristretto255 encoding")]
    Undecodable,
    /// The identity element, which fedlink never sends or accepts.
    #[error("the identity element")]
    Identity,
}

/// A point as it travels: the canonical 32-byte ristretto255 encoding, not yet checked.
///
/// Equality and ordering are on the bytes, which for canonical encodings is equality of group
/// elements; protocol messages are sorted by these bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlindedPoint([u8; POINT_LEN]);

impl BlindedPoint {
    /// Wraps 32 bytes as received; nothing is checked until [`Self::decode`].
    pub const fn from_bytes(bytes: [u8; POINT_LEN]) -> Self {
        Self(bytes)
    }

    /// Wraps a slice that must be exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, PointError> {
        let bytes = <[u8; POINT_LEN]>::try_from(bytes)
            .map_err(|_| PointError::WrongLength { len: bytes.len() })?;
        Ok(Self(bytes))
    }

    /// The encoding.
    pub const fn as_bytes(&self) -> &[u8; POINT_LEN] {
        &self.0
    }

    /// The encoding, by value.
    pub const fn to_bytes(self) -> [u8; POINT_LEN] {
        self.0
    }

    /// Decodes and checks: canonical per RFC 9496 §4.3.1, and not the identity.
    pub fn decode(&self) -> Result<ValidPoint, PointError> {
        let point = CompressedRistretto(self.0).decompress().ok_or(PointError::Undecodable)?;
        if point.is_identity() {
            return Err(PointError::Identity);
        }
        Ok(ValidPoint(point))
    }
}

impl std::fmt::Debug for BlindedPoint {
    /// The first 8 bytes in hex: enough to tell points apart in a log, never a whole value.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BlindedPoint({}…)", hex::encode(&self.0[..8]))
    }
}

/// A decoded ristretto255 element that is not the identity: what a [`super::BlindingKey`]
/// multiplies.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ValidPoint(RistrettoPoint);

impl ValidPoint {
    /// The canonical encoding.
    pub fn encode(&self) -> BlindedPoint {
        BlindedPoint(self.0.compress().to_bytes())
    }

    /// The group element, for the blinding code in this module.
    pub(crate) fn point(&self) -> &RistrettoPoint {
        &self.0
    }
}

impl std::fmt::Debug for ValidPoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ValidPoint({}…)", hex::encode(&self.encode().0[..8]))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;

    #[test]
    fn round_trip_and_refusals() {
        let g = RISTRETTO_BASEPOINT_POINT.compress().to_bytes();
        let p = BlindedPoint::from_bytes(g);
        assert_eq!(p.decode().unwrap().encode(), p);
        assert_eq!(BlindedPoint::from_bytes([0; 32]).decode(), Err(PointError::Identity));
        assert_eq!(BlindedPoint::from_bytes([0xff; 32]).decode(), Err(PointError::Undecodable));
        assert_eq!(BlindedPoint::from_slice(&g[..31]), Err(PointError::WrongLength { len: 31 }));
        assert_eq!(format!("{p:?}"), "BlindedPoint(e2f2ae0a6abc4e71…)");
    }
}
