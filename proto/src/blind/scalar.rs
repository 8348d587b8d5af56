//! A node's secret blinding scalar for one query ([`BlindingKey`]).
//!
//! Commutative blinding: node A sends `a·H(x)`, node B returns `b·(a·H(x))`, and equal keys on
//! both sides meet at `a·b·H(x) = b·(a·H(x))`. Without `a`, `a·H(x)` cannot be tested against a
//! guessed `x` (that needs `a`, and recovering `a` from `a·H(x)` and `H(x)` is a discrete
//! logarithm), so the bounded identifier spaces that make plain hashing useless (all 9.1×10⁸
//! NHS numbers) stay out of reach.
//!
//! The key is made only from the operating system's CSPRNG, one per query, and is wiped when
//! dropped; it has no `Debug`, `Clone` or serialisation, so it cannot be logged, copied into a
//! second place, or stored by accident (design-review §8 step 6: zeroise `b` after release).

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroize;

use super::hash::{Dst, hash_to_ristretto255};
use super::point::{BlindedPoint, ValidPoint};

/// Why a key could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The operating system's random generator failed.
    #[error("the system random number generator failed")]
    Rng,
    /// The generator produced bytes that reduce to zero: with a working generator this has
    /// probability about 2⁻²⁵², so it means the generator is broken (for example all zeros).
    #[error("the random bytes reduced to the zero scalar; the generator is not trustworthy")]
    Zero,
}

/// A secret nonzero scalar `k` of ristretto255, used for one query and then dropped.
pub struct BlindingKey {
    k: Scalar,
    /// `k / 2 mod ℓ`, for the batch paths: `compress(2·(k/2)·P) = compress(k·P)`, and dalek's
    /// `double_and_compress_batch` shares one field inversion across a whole batch.
    half_k: Scalar,
}

impl BlindingKey {
    /// A fresh key from 64 bytes of the OS CSPRNG reduced mod ℓ (RFC 9496 §4.4: a uniform
    /// 64-byte string gives a uniform scalar; the bias is about 2⁻²⁵⁹).
    pub fn generate() -> Result<Self, KeyError> {
        let mut wide = [0u8; 64];
        SystemRandom::new().fill(&mut wide).map_err(|_| KeyError::Rng)?;
        let k = Scalar::from_bytes_mod_order_wide(&wide);
        wide.zeroize();
        Self::from_scalar(k).ok_or(KeyError::Zero)
    }

    /// A key from a canonical little-endian scalar, for published test vectors only.
    #[cfg(test)]
    pub(crate) fn from_canonical_bytes(bytes: [u8; 32]) -> Option<Self> {
        Option::<Scalar>::from(Scalar::from_canonical_bytes(bytes)).and_then(Self::from_scalar)
    }

    fn from_scalar(mut k: Scalar) -> Option<Self> {
        if k == Scalar::ZERO {
            k.zeroize();
            return None;
        }
        let half_k = k * Scalar::from(2u8).invert();
        Some(Self { k, half_k })
    }

    /// `k·G`, the key's public commitment (A_pub in design-review §8), used for canaries.
    pub fn public(&self) -> BlindedPoint {
        BlindedPoint::from_bytes(RistrettoPoint::mul_base(&self.k).compress().to_bytes())
    }

    /// `k·H(msg)`: blinds one of this node's own keys.
    pub fn blind(&self, msg: &[u8], dst: &Dst) -> BlindedPoint {
        let point = self.k * hash_to_ristretto255(msg, dst);
        BlindedPoint::from_bytes(point.compress().to_bytes())
    }

    /// `k·P`: blinds a point the peer already blinded.
    pub fn reblind(&self, point: &ValidPoint) -> BlindedPoint {
        BlindedPoint::from_bytes((self.k * point.point()).compress().to_bytes())
    }

    /// `(k/2)·H(msg)`, to be doubled and compressed in a batch.
    pub(crate) fn half_blind(&self, msg: &[u8], dst: &Dst) -> RistrettoPoint {
        self.half_k * hash_to_ristretto255(msg, dst)
    }

    /// `(k/2)·P`, to be doubled and compressed in a batch.
    pub(crate) fn half_reblind(&self, point: &RistrettoPoint) -> RistrettoPoint {
        self.half_k * point
    }

    /// `k` itself, for the unit tests' algebra.
    #[cfg(test)]
    pub(crate) fn scalar(&self) -> &Scalar {
        &self.k
    }
}

impl Drop for BlindingKey {
    fn drop(&mut self) {
        self.k.zeroize();
        self.half_k.zeroize();
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::blind::hash::Dst;
    use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
    use serde::Deserialize;

    /// RFC 9497 Appendix A.1.1 (OPRF and VOPRF modes): see `tests/vectors/README.md`.
    const RFC9497: &str = include_str!("../../tests/vectors/rfc9497_ristretto255_sha512.json");

    #[derive(Deserialize)]
    struct File {
        modes: Vec<Mode>,
    }
    #[derive(Deserialize)]
    struct Mode {
        name: String,
        hash_to_group_dst: String,
        sk_sm: String,
        vectors: Vec<Vector>,
    }
    #[derive(Deserialize)]
    struct Vector {
        input: String,
        blind: String,
        blinded_element: String,
        evaluation_element: String,
    }

    fn b32(s: &str) -> [u8; 32] {
        hex::decode(s).unwrap().try_into().unwrap()
    }

    /// Our `blind` and `reblind` through `BlindingKey` reproduce RFC 9497's Blind and
    /// BlindEvaluate with the RFC's own scalars: `blind·H(input)` = BlindedElement and
    /// `skSm·BlindedElement` = EvaluationElement.
    #[test]
    fn rfc9497_blind_and_evaluate_through_blinding_key() {
        let file: File = serde_json::from_str(RFC9497).unwrap();
        for mode in &file.modes {
            let dst = Dst::new(&hex::decode(&mode.hash_to_group_dst).unwrap()).unwrap();
            let server = BlindingKey::from_canonical_bytes(b32(&mode.sk_sm)).unwrap();
            for v in &mode.vectors {
                let client = BlindingKey::from_canonical_bytes(b32(&v.blind)).unwrap();
                let input = hex::decode(&v.input).unwrap();
                let blinded = client.blind(&input, &dst);
                assert_eq!(hex::encode(blinded.as_bytes()), v.blinded_element, "{}", mode.name);
                let evaluated = server.reblind(&blinded.decode().unwrap());
                assert_eq!(hex::encode(evaluated.as_bytes()), v.evaluation_element);
            }
        }
    }

    #[test]
    fn zero_is_refused_and_halves_double_back() {
        assert!(BlindingKey::from_canonical_bytes([0; 32]).is_none());
        let key = BlindingKey::generate().unwrap();
        assert_eq!(key.half_k + key.half_k, key.k);
        let p = RISTRETTO_BASEPOINT_POINT;
        assert_eq!(key.half_reblind(&p) + key.half_reblind(&p), key.scalar() * p);
        let public = key.public().decode().unwrap();
        assert_eq!(*public.point(), key.scalar() * RISTRETTO_BASEPOINT_POINT);
    }
}
