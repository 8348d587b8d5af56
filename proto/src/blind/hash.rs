//! Hashing identifier keys to ristretto255: RFC 9380 `expand_message_xmd` with SHA-512, and
//! `hash_to_ristretto255` (RFC 9380 Appendix B) on top of it.
//!
//! Why a hash-to-group at all: a node must turn a match key such as `nhs:9434765919` into a
//! group element whose discrete logarithm nobody knows, so that after multiplying by its secret
//! scalar the result reveals nothing and cannot be reversed by hashing candidate identifiers.
//! `H(m) = from_uniform_bytes(expand_message_xmd(m, DST, 64))` is the construction RFC 9380
//! Appendix B names for ristretto255 (suite identifier `ristretto255_XMD:SHA-512_R255MAP_RO_`);
//! the 64-byte map is RFC 9496 §4.3.4 "element derivation". RFC 9497's OPRF uses exactly this
//! `HashToGroup`, so its published vectors check ours byte for byte.
//!
//! SHA-512 comes from ring, which fedlink already links for its signatures; no second hash crate.

use curve25519_dalek::ristretto::RistrettoPoint;
use ring::digest::{Context, SHA512};

/// SHA-512 output size in bytes (`b_in_bytes` in RFC 9380 §5.3.1).
const B_IN_BYTES: usize = 64;
/// SHA-512 input block size in bytes (`s_in_bytes` in RFC 9380 §5.3.1).
const S_IN_BYTES: usize = 128;
/// `Z_pad = I2OSP(0, s_in_bytes)`.
const Z_PAD: [u8; S_IN_BYTES] = [0; S_IN_BYTES];

/// The longest domain separation tag `expand_message_xmd` takes as is (RFC 9380 §5.3.1 aborts
/// beyond this; §5.3.3 would hash longer tags first, which fedlink never needs, so it refuses).
pub const MAX_DST_LEN: usize = 255;
/// The most output `expand_message_xmd` with SHA-512 can give: 255 blocks of 64 bytes.
pub const MAX_EXPAND_LEN: usize = 255 * B_IN_BYTES;

/// The fixed prefix of every fedlink linkage tag: protocol, version, then the RFC 9380 suite
/// identifier for `hash_to_ristretto255` with `expand_message_xmd`/SHA-512.
pub const LINKAGE_DST_PREFIX: &[u8] = b"fedlink-link-v1-ristretto255_XMD:SHA-512_R255MAP_RO_";

/// Why a tag or a requested length was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    /// RFC 9380 §3.1: tags MUST have nonzero length.
    #[error("the domain separation tag is empty")]
    EmptyDst,
    /// RFC 9380 §5.3.1 aborts on tags over 255 bytes; fedlink does not apply the long-tag rule.
    #[error("the domain separation tag is {len} bytes; at most {MAX_DST_LEN} are allowed")]
    DstTooLong {
        /// The length that was offered.
        len: usize,
    },
    /// RFC 9380 §5.3.1 aborts when more than 255 hash blocks are asked for; zero is refused
    /// too, since an empty output hashes nothing.
    #[error("expand_message_xmd cannot produce {len} bytes (1..={MAX_EXPAND_LEN})")]
    BadLength {
        /// The length that was asked for.
        len: usize,
    },
}

/// A checked domain separation tag, kept as `DST_prime = DST || I2OSP(len(DST), 1)`.
///
/// Checking once when the tag is made means hashing each of a million keys cannot fail, and
/// the suffix byte is not rebuilt per key.
#[derive(Clone, PartialEq, Eq)]
pub struct Dst {
    prime: Vec<u8>,
}

impl Dst {
    /// Checks a tag: 1 to [`MAX_DST_LEN`] bytes.
    pub fn new(dst: &[u8]) -> Result<Self, HashError> {
        let len = u8::try_from(dst.len()).map_err(|_| HashError::DstTooLong { len: dst.len() })?;
        if len == 0 {
            return Err(HashError::EmptyDst);
        }
        let mut prime = Vec::with_capacity(dst.len() + 1);
        prime.extend_from_slice(dst);
        prime.push(len);
        Ok(Self { prime })
    }

    /// The tag itself, without the length byte.
    pub fn as_bytes(&self) -> &[u8] {
        &self.prime[..self.prime.len() - 1]
    }

    /// `DST_prime` as RFC 9380 §5.3.1 step 3 defines it (the published vectors list it).
    pub fn prime(&self) -> &[u8] {
        &self.prime
    }
}

impl std::fmt::Debug for Dst {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Dst({})", self.as_bytes().escape_ascii())
    }
}

/// The tag for one key type in one linkage session:
/// [`LINKAGE_DST_PREFIX`] `|| session_id || I2OSP(key_type, 2)` (70 bytes).
///
/// A fresh tag per session means equal keys give unrelated points in different sessions even
/// before any scalar is applied, so nothing hashed in one query can be matched against another
/// query's values, and a table of precomputed `H(key)` is useless beyond one session. The key
/// type in the tag keeps, for example, an NHS number and a UPRN with the same digits apart.
pub fn linkage_dst(session_id: &[u8; 16], key_type: u16) -> Dst {
    let mut dst = Vec::with_capacity(LINKAGE_DST_PREFIX.len() + 16 + 2);
    dst.extend_from_slice(LINKAGE_DST_PREFIX);
    dst.extend_from_slice(session_id);
    dst.extend_from_slice(&key_type.to_be_bytes());
    let len = dst.len() as u8; // 70: the prefix is 52 bytes, see the unit test
    dst.push(len);
    Dst { prime: dst }
}

/// RFC 9380 §5.3.1 `expand_message_xmd(msg, DST, len_in_bytes)` with SHA-512.
pub fn expand_message_xmd(
    msg: &[u8],
    dst: &Dst,
    len_in_bytes: usize,
) -> Result<Vec<u8>, HashError> {
    let mut out = vec![0; len_in_bytes];
    expand_into(msg, dst, &mut out)?;
    Ok(out)
}

/// `expand_message_xmd` writing `out.len()` bytes into `out`.
fn expand_into(msg: &[u8], dst: &Dst, out: &mut [u8]) -> Result<(), HashError> {
    let len = out.len();
    if len == 0 || len > MAX_EXPAND_LEN {
        return Err(HashError::BadLength { len });
    }
    let len_bytes = (len as u16).to_be_bytes(); // ≤ 16320, checked above

    // b_0 = H(Z_pad || msg || I2OSP(len_in_bytes, 2) || I2OSP(0, 1) || DST_prime)
    let mut ctx = Context::new(&SHA512);
    ctx.update(&Z_PAD);
    ctx.update(msg);
    ctx.update(&len_bytes);
    ctx.update(&[0]);
    ctx.update(dst.prime());
    let b_0 = ctx.finish();
    let b_0 = b_0.as_ref();

    // b_1 = H(b_0 || I2OSP(1, 1) || DST_prime);
    // b_i = H(strxor(b_0, b_(i-1)) || I2OSP(i, 1) || DST_prime), for i up to
    // ell = ceil(len / 64) ≤ 255; the last block is truncated.
    let mut prev = [0u8; B_IN_BYTES];
    for (i, chunk) in out.chunks_mut(B_IN_BYTES).enumerate() {
        let mut input = [0u8; B_IN_BYTES];
        for (x, (a, b)) in input.iter_mut().zip(b_0.iter().zip(prev.iter())) {
            *x = a ^ b; // prev is all zero for i = 0, so this is b_0 itself
        }
        let mut ctx = Context::new(&SHA512);
        ctx.update(&input);
        ctx.update(&[(i + 1) as u8]); // i + 1 ≤ ell ≤ 255
        ctx.update(dst.prime());
        let b_i = ctx.finish();
        prev.copy_from_slice(b_i.as_ref());
        chunk.copy_from_slice(&prev[..chunk.len()]);
    }
    Ok(())
}

/// RFC 9380 Appendix B `hash_to_ristretto255` with `expand_message_xmd`/SHA-512:
/// `from_uniform_bytes(expand_message_xmd(msg, DST, 64))`.
///
/// The result is the identity only with probability about 2⁻²⁵², and a receiver refuses the
/// identity anyway ([`super::BlindedPoint::decode`]).
pub fn hash_to_ristretto255(msg: &[u8], dst: &Dst) -> RistrettoPoint {
    let mut uniform = [0u8; 64];
    // Unwrap safety: 64 is within 1..=MAX_EXPAND_LEN, the only thing `expand_into` checks.
    #[allow(clippy::unwrap_used)]
    expand_into(msg, dst, &mut uniform).unwrap();
    RistrettoPoint::from_uniform_bytes(&uniform)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn dst_limits() {
        assert_eq!(Dst::new(b""), Err(HashError::EmptyDst));
        assert!(Dst::new(&[b'x'; 255]).is_ok());
        assert_eq!(Dst::new(&[b'x'; 256]), Err(HashError::DstTooLong { len: 256 }));
        let dst = Dst::new(b"abc").unwrap();
        assert_eq!(dst.as_bytes(), b"abc");
        assert_eq!(dst.prime(), b"abc\x03");
    }

    #[test]
    fn length_limits() {
        let dst = Dst::new(b"t").unwrap();
        assert_eq!(expand_message_xmd(b"", &dst, 0), Err(HashError::BadLength { len: 0 }));
        assert_eq!(expand_message_xmd(b"", &dst, MAX_EXPAND_LEN).unwrap().len(), 16320);
        assert_eq!(
            expand_message_xmd(b"", &dst, MAX_EXPAND_LEN + 1),
            Err(HashError::BadLength { len: 16321 })
        );
        // A shorter output is a prefix of a longer one only within the first block's worth of
        // inputs, since len_in_bytes is hashed into b_0: different lengths, unrelated outputs.
        let a = expand_message_xmd(b"m", &dst, 32).unwrap();
        let b = expand_message_xmd(b"m", &dst, 64).unwrap();
        assert_ne!(a[..], b[..32]);
    }

    #[test]
    fn linkage_dst_layout() {
        assert_eq!(LINKAGE_DST_PREFIX.len(), 52);
        let sid = [7u8; 16];
        let dst = linkage_dst(&sid, 0x0102);
        let mut want = LINKAGE_DST_PREFIX.to_vec();
        want.extend_from_slice(&sid);
        want.extend_from_slice(&[1, 2]);
        assert_eq!(dst.as_bytes(), want.as_slice());
        assert_eq!(dst, Dst::new(&want).unwrap(), "same DST_prime as the checked constructor");
    }
}
