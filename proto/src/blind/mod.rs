//! Commutative blinding on ristretto255 for private linkage (DESIGN.md "Linkage",
//! design-review §8).
//!
//! A node maps each identifier key to a group element with a hash-to-group whose tag is fresh
//! per session and key type ([`hash`]), multiplies it by its secret per-query scalar
//! ([`BlindingKey`]), and sends the points packed ([`PackedPoints`]). The peer checks every
//! point ([`BlindedPoint::decode`], [`PackedPoints::from_bytes`]) and multiplies again; equal
//! keys on both sides give equal doubly-blinded points, because `a·(b·H(x)) = b·(a·H(x))`.
//!
//! - [`hash`]: RFC 9380 `expand_message_xmd` (SHA-512), `hash_to_ristretto255`, the linkage tag.
//! - [`point`]: wire points and checked points.
//! - [`scalar`]: the secret per-query key.
//! - [`batch`]: packed batches and the checks a received batch must pass.
//! - [`parallel`]: blinding and reblinding whole batches on all cores.
//! - [`random`]: uniform non-identity points for missing slots.
//!
//! Checked against RFC 9380 K.3, RFC 9496 Appendix A and RFC 9497 A.1.1 (`tests/blind.rs`).

pub mod batch;
pub mod hash;
pub mod parallel;
pub mod point;
pub mod random;
pub mod scalar;

pub use batch::{BatchError, BatchRules, PackedPoints, check_undecoded};
pub use hash::{Dst, HashError, expand_message_xmd, hash_to_ristretto255, linkage_dst};
pub use parallel::{
    blind_all, blind_all_with, default_threads, random_points, reblind_all, reblind_all_with,
    reblind_received,
};
pub use point::{BlindedPoint, POINT_LEN, PointError, ValidPoint};
pub use random::random_point;
pub use scalar::{BlindingKey, KeyError};

/// The curve crate behind these types, re-exported so that tests, benches and callers name the
/// same version ([`hash_to_ristretto255`] returns its `RistrettoPoint`).
pub use curve25519_dalek as dalek;
