//! RFC 9162 Merkle tree hashing: leaf and node hashes, tree heads, and the [`TreeSource`] trait
//! through which proofs read subtree hashes, whether from memory or from the SQLite store.
//! Pure: no I/O.

use std::fmt;

use ring::digest::{Context, SHA256, digest};

/// Domain-separation prefix of a leaf hash (RFC 9162 §2.1.1).
const LEAF_PREFIX: u8 = 0x00;
/// Domain-separation prefix of an interior node hash (RFC 9162 §2.1.1).
const NODE_PREFIX: u8 = 0x01;

/// A SHA-256 digest: a leaf hash, a node hash or a tree head.
///
/// `==` is the derived, variable-time comparison, fine for bookkeeping; anything that decides
/// whether a proof or a root is accepted uses [`Hash::ct_eq`] (STYLE.md practice 14).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// Wraps exactly 32 bytes; anything else is not a SHA-256 digest. Refusing other lengths is
    /// one of the edge cases RFC 9162 leaves to implementers (audit-privacy-legal.md §1.2).
    pub fn from_slice(bytes: &[u8]) -> Option<Hash> {
        <[u8; 32]>::try_from(bytes).ok().map(Hash)
    }

    /// Parses 64 hex digits (either case).
    pub fn from_hex(text: &str) -> Option<Hash> {
        let bytes = hex::decode(text).ok()?;
        Hash::from_slice(&bytes)
    }

    /// The digest as 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Compares in time independent of where the digests differ, so an attacker probing a
    /// verifier learns nothing from its timing.
    pub fn ct_eq(&self, other: &Hash) -> bool {
        self.0.iter().zip(other.0.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// `SHA-256(0x00 ‖ entry)`: the hash of one log entry, exactly as stored (RFC 9162 §2.1.1).
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut ctx = Context::new(&SHA256);
    ctx.update(&[LEAF_PREFIX]);
    ctx.update(entry);
    finish(ctx)
}

/// `SHA-256(0x01 ‖ left ‖ right)`: the hash of an interior node (RFC 9162 §2.1.1).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut ctx = Context::new(&SHA256);
    ctx.update(&[NODE_PREFIX]);
    ctx.update(&left.0);
    ctx.update(&right.0);
    finish(ctx)
}

/// `MTH({}) = SHA-256("")`, the head of the empty tree (RFC 9162 §2.1.1).
pub fn empty_root() -> Hash {
    let d = digest(&SHA256, b"");
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    Hash(out)
}

fn finish(ctx: Context) -> Hash {
    let d = ctx.finish();
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    Hash(out)
}

/// The largest power of two strictly less than `n` (RFC 9162 §2.1.1's `k`). Needs `n > 1`.
pub(crate) fn split_point(n: u64) -> u64 {
    debug_assert!(n > 1);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// `MTH(D[n])` over leaf hashes (RFC 9162 §2.1.1), recursing on `k`, the largest power of two
/// below `n`.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            // usize → u64 is lossless on every platform Rust supports; back again the value
            // is below `n`, so it fits.
            let k = split_point(n as u64) as usize;
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// Asked for a range of leaves the tree does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("leaves {start}..{end} are not a non-empty range of a tree of {size} leaves")]
pub struct OutOfRange {
    /// First leaf asked for.
    pub start: u64,
    /// One past the last leaf asked for.
    pub end: u64,
    /// Leaves the tree has.
    pub size: u64,
}

/// A tree that can hash any range of its leaves, so that the proof generators in
/// [`crate::audit::proof`] run unchanged over a slice in memory or over the SQLite store.
pub trait TreeSource {
    /// Why a range could not be hashed (a storage error, say).
    type Error;

    /// Number of leaves.
    fn size(&self) -> u64;

    /// `MTH(D[start:end])` for `0 <= start < end <= size()` (RFC 9162 §2.1.1).
    fn range_hash(&self, start: u64, end: u64) -> Result<Hash, Self::Error>;
}

impl TreeSource for [Hash] {
    type Error = OutOfRange;

    fn size(&self) -> u64 {
        self.len() as u64
    }

    /// O(end − start): it hashes the leaves again. Fine for tests and small trees; large ones
    /// use [`MemoryTree`] or the store, which keep perfect subtrees.
    fn range_hash(&self, start: u64, end: u64) -> Result<Hash, OutOfRange> {
        let size = self.len() as u64;
        if start >= end || end > size {
            return Err(OutOfRange { start, end, size });
        }
        // Both bounds are at most `len()`, so they fit in usize.
        Ok(root(&self[start as usize..end as usize]))
    }
}

impl TreeSource for Vec<Hash> {
    type Error = OutOfRange;

    fn size(&self) -> u64 {
        self.as_slice().size()
    }

    fn range_hash(&self, start: u64, end: u64) -> Result<Hash, OutOfRange> {
        self.as_slice().range_hash(start, end)
    }
}

/// Hashes `D[start:end]`, `start < end`, from perfect subtree hashes: `perfect(level, index)` must return the
/// hash of leaves `index·2^level .. (index+1)·2^level`. An aligned power-of-two range is one
/// lookup; any other range splits at RFC 9162's `k`, so a range costs O(log n) lookups.
pub(crate) fn hash_range_from_perfect<E>(
    start: u64,
    end: u64,
    perfect: &mut impl FnMut(u32, u64) -> Result<Hash, E>,
) -> Result<Hash, E> {
    let len = end - start;
    if len.is_power_of_two() {
        let level = len.trailing_zeros();
        if start.is_multiple_of(len) {
            return perfect(level, start >> level);
        }
        // Unaligned power-of-two range: no stored subtree covers it, so halve it. The proof
        // generators never ask for one, but other callers may.
        let half = len / 2;
        let left = hash_range_from_perfect(start, start + half, perfect)?;
        let right = hash_range_from_perfect(start + half, end, perfect)?;
        return Ok(node_hash(&left, &right));
    }
    let k = split_point(len);
    let left = hash_range_from_perfect(start, start + k, perfect)?;
    let right = hash_range_from_perfect(start + k, end, perfect)?;
    Ok(node_hash(&left, &right))
}

/// An append-only tree in memory that keeps every perfect subtree, as the store does, so
/// ranges hash in O(log n). The offline verifier rebuilds a log's tree in one of these.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    /// `levels[l][i]` is the hash of leaves `i·2^l .. (i+1)·2^l`; level 0 holds the leaf hashes.
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a leaf hash and records the perfect subtrees it completes: as many merges as
    /// the new leaf's index has trailing one bits (the RFC 9162 §2.1.2 stack rule).
    pub fn push(&mut self, leaf: Hash) {
        let mut index = self.size();
        let mut hash = leaf;
        let mut level = 0usize;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            self.levels[level].push(hash);
            if index & 1 == 0 {
                break;
            }
            // The left sibling is the previous subtree on this level.
            let left = self.levels[level][self.levels[level].len() - 2];
            hash = node_hash(&left, &hash);
            index >>= 1;
            level += 1;
        }
    }

    /// `MTH` of the whole tree.
    pub fn root(&self) -> Hash {
        match self.size() {
            0 => empty_root(),
            // The range is the whole tree, so it cannot be out of range.
            n => self.range_hash(0, n).unwrap_or_else(|_| empty_root()),
        }
    }

    /// The stored perfect subtree at `level`, `index`, if the tree has it.
    pub fn perfect(&self, level: u32, index: u64) -> Option<Hash> {
        let row = self.levels.get(usize::try_from(level).ok()?)?;
        row.get(usize::try_from(index).ok()?).copied()
    }
}

impl TreeSource for MemoryTree {
    type Error = OutOfRange;

    fn size(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    fn range_hash(&self, start: u64, end: u64) -> Result<Hash, OutOfRange> {
        let size = self.size();
        let out = OutOfRange { start, end, size };
        if start >= end || end > size {
            return Err(out);
        }
        hash_range_from_perfect(start, end, &mut |level, index| {
            self.perfect(level, index).ok_or(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn split_point_is_largest_power_of_two_below() {
        for (n, k) in [(2, 1), (3, 2), (4, 2), (5, 4), (8, 4), (9, 8), (1 << 40, 1 << 39)] {
            assert_eq!(split_point(n), k, "n = {n}");
        }
    }

    #[test]
    fn hex_round_trip_and_lengths() {
        let h = leaf_hash(b"x");
        assert_eq!(Hash::from_hex(&h.to_hex()), Some(h));
        assert_eq!(format!("{h}"), h.to_hex());
        assert_eq!(format!("{h:?}"), h.to_hex());
        assert_eq!(Hash::from_slice(&[0u8; 31]), None);
        assert_eq!(Hash::from_slice(&[0u8; 33]), None);
        assert_eq!(Hash::from_hex("zz"), None);
    }

    #[test]
    fn ct_eq_agrees_with_eq() {
        let a = leaf_hash(b"a");
        let mut b = a;
        assert!(a.ct_eq(&b));
        b.0[31] ^= 1;
        assert!(!a.ct_eq(&b));
        b = a;
        b.0[0] ^= 0x80;
        assert!(!a.ct_eq(&b));
    }

    #[test]
    fn memory_tree_matches_recursive_root_and_ranges() {
        let all = leaves(37);
        let mut tree = MemoryTree::new();
        assert_eq!(tree.root(), empty_root());
        for (i, leaf) in all.iter().enumerate() {
            tree.push(*leaf);
            assert_eq!(tree.root(), root(&all[..=i]), "size {}", i + 1);
        }
        for start in 0..37u64 {
            for end in start + 1..=37 {
                assert_eq!(
                    tree.range_hash(start, end),
                    all.range_hash(start, end),
                    "range {start}..{end}"
                );
            }
        }
        assert!(tree.range_hash(3, 3).is_err());
        assert!(tree.range_hash(0, 38).is_err());
    }
}
