//! Uniformly random group elements ([`random_point`]) for the slots a tuple leaves missing.
//!
//! A missing slot, a value dropped by unique-or-random and every slot of a dummy tuple must
//! look exactly like a blinded key (design-review F11, F17). A blinded key `k·H(m)` is a
//! uniform non-identity element of ristretto255, encoded canonically; random 32-byte strings
//! are not (most do not decode at all), so a peer could tell them apart at a glance. Here a
//! missing slot is `from_uniform_bytes` of 64 fresh bytes from the OS CSPRNG — RFC 9496 §4.3.4's
//! one-way map, which is uniform over the group — so it passes every check a blinded key passes
//! and is as likely as any blinded key to be any given element.

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::traits::IsIdentity;
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroize;

use super::point::BlindedPoint;
use super::scalar::KeyError;

/// Draws before giving up on a generator whose output keeps mapping to the identity. One such
/// draw has probability about 2⁻²⁵²; several in a row mean the generator is broken.
const MAX_DRAWS: usize = 4;

/// A fresh uniform element of ristretto255 that is never the identity, canonically encoded:
/// indistinguishable from a blinded key to anyone without the blinding scalar.
///
/// Errors with [`KeyError::Rng`] if the OS generator fails, or if four draws in a row
/// all map to the identity (which only a broken generator produces).
pub fn random_point() -> Result<BlindedPoint, KeyError> {
    let rng = SystemRandom::new();
    random_point_from(|wide| rng.fill(wide).map_err(|_| KeyError::Rng))
}

/// [`random_point`] with a given source of 64-byte draws, so the identity retry can be tested
/// (ring's generator trait is sealed).
fn random_point_from(
    mut fill: impl FnMut(&mut [u8; 64]) -> Result<(), KeyError>,
) -> Result<BlindedPoint, KeyError> {
    let mut wide = [0u8; 64];
    for _ in 0..MAX_DRAWS {
        fill(&mut wide)?;
        let point = RistrettoPoint::from_uniform_bytes(&wide);
        wide.zeroize();
        if !point.is_identity() {
            return Ok(BlindedPoint::from_bytes(point.compress().to_bytes()));
        }
    }
    Err(KeyError::Rng)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::blind::point::PointError;

    #[test]
    fn random_points_decode_are_not_the_identity_and_differ() {
        let points: Vec<BlindedPoint> = (0..64).map(|_| random_point().unwrap()).collect();
        for p in &points {
            assert_eq!(p.decode().unwrap().encode(), *p);
            assert_ne!(p.decode(), Err(PointError::Identity));
        }
        assert_eq!(points.iter().collect::<HashSet<_>>().len(), points.len());
    }

    /// A generator of all zeros maps to the identity every time: refused, not looped on.
    #[test]
    fn a_generator_stuck_on_the_identity_is_refused() {
        assert!(RistrettoPoint::from_uniform_bytes(&[0; 64]).is_identity());
        let mut draws = 0;
        let zeros = |wide: &mut [u8; 64]| {
            draws += 1;
            wide.fill(0);
            Ok(())
        };
        assert_eq!(random_point_from(zeros), Err(KeyError::Rng));
        assert_eq!(draws, MAX_DRAWS);
        assert_eq!(random_point_from(|_| Err(KeyError::Rng)), Err(KeyError::Rng));
    }
}
