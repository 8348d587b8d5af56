//! RFC 9162 inclusion and consistency proofs: generation over any [`TreeSource`] (§2.1.3.1,
//! §2.1.4.1) and verification exactly as the RFC writes it (§2.1.3.2, §2.1.4.2), plus the edge
//! cases it leaves open (audit-privacy-legal.md §1.2). Pure: no I/O.

use crate::audit::merkle::{Hash, TreeSource, empty_root, node_hash, split_point};

/// Why a proof, or the bytes carrying one, was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// Proof bytes in a receipt are not a whole number of 32-byte hashes.
    #[error("proof is {len} bytes, not a whole number of 32-byte hashes")]
    BadLength {
        /// Length of the bytes.
        len: usize,
    },
    /// A consistency proof between two different sizes was empty (RFC 9162 §2.1.4.2 step 1).
    #[error("the consistency proof is empty")]
    EmptyProof,
    /// The leaf index is not inside the tree (RFC 9162 §2.1.3.2 step 1).
    #[error("leaf index {index} is not below the tree size {size}")]
    IndexBeyondSize {
        /// Leaf index claimed.
        index: u64,
        /// Tree size claimed.
        size: u64,
    },
    /// The proof recomputes a different head for the new (second) tree.
    #[error("the proof leads to root {computed}, not the new root {expected}")]
    NewRootMismatch {
        /// What the proof leads to.
        computed: Hash,
        /// What the new checkpoint says.
        expected: Hash,
    },
    /// A tree of size 0 must have the empty-tree root `SHA-256("")`.
    #[error("a tree of size 0 has root {}, not {root}", empty_root())]
    NotEmptyTreeRoot {
        /// The root given for the empty tree.
        root: Hash,
    },
    /// The proof recomputes a different head for the old (first) tree.
    #[error("the proof leads to old root {computed}, not the old root {expected}")]
    OldRootMismatch {
        /// What the proof leads to.
        computed: Hash,
        /// What the old checkpoint says.
        expected: Hash,
    },
    /// The old tree is bigger than the new one: a log never shrinks.
    #[error("old size {old} is bigger than new size {new}: a log never shrinks")]
    OldSizeAfterNew {
        /// Old size.
        old: u64,
        /// New size.
        new: u64,
    },
    /// A proof was given where none can exist: between equal sizes or from the empty tree.
    #[error("expected an empty proof between sizes {old} and {new}, got {len} hashes")]
    ProofNotEmpty {
        /// Old size.
        old: u64,
        /// New size.
        new: u64,
        /// Hashes given.
        len: usize,
    },
    /// The proof has more hashes than the tree's shape allows.
    #[error("the proof has more hashes than a tree of this size needs")]
    ProofTooLong,
    /// The proof ran out before reaching the root.
    #[error("the proof has fewer hashes than a tree of this size needs")]
    ProofTooShort,
    /// The inclusion proof recomputes a different tree head.
    #[error("the proof leads to root {computed}, not the checkpoint's root {expected}")]
    RootMismatch {
        /// What the proof leads to.
        computed: Hash,
        /// What the checkpoint says.
        expected: Hash,
    },
}

/// Why a proof could not be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProveError<E> {
    /// The leaf index is not inside the requested tree.
    #[error("leaf index {index} is not below the tree size {size}")]
    IndexBeyondSize {
        /// Leaf index asked for.
        index: u64,
        /// Tree size asked for.
        size: u64,
    },
    /// The old size is bigger than the new one.
    #[error("old size {old} is bigger than new size {new}")]
    OldSizeAfterNew {
        /// Old size.
        old: u64,
        /// New size.
        new: u64,
    },
    /// The requested tree is bigger than the source holds.
    #[error("a tree of {size} leaves was asked for, but the log has {available}")]
    SizeBeyondSource {
        /// Size asked for.
        size: u64,
        /// Size the source has.
        available: u64,
    },
    /// The source could not hash a range.
    #[error(transparent)]
    Source(E),
}

/// `PATH(index, D[size])` (RFC 9162 §2.1.3.1): the sibling hashes from the leaf up to the root
/// of the tree of the first `size` leaves of `src`.
pub fn inclusion_proof<S: TreeSource + ?Sized>(
    src: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, ProveError<S::Error>> {
    if size > src.size() {
        return Err(ProveError::SizeBeyondSource { size, available: src.size() });
    }
    if index >= size {
        return Err(ProveError::IndexBeyondSize { index, size });
    }
    let mut proof = Vec::new();
    path(src, index, 0, size, &mut proof)?;
    Ok(proof)
}

/// `PATH(m, D[start:end])`, appending bottom-up: the subtree holding `m` is walked first, and
/// the hash of its sibling range follows it.
fn path<S: TreeSource + ?Sized>(
    src: &S,
    m: u64,
    start: u64,
    end: u64,
    out: &mut Vec<Hash>,
) -> Result<(), ProveError<S::Error>> {
    let n = end - start;
    if n <= 1 {
        return Ok(());
    }
    let k = split_point(n);
    if m < k {
        path(src, m, start, start + k, out)?;
        out.push(src.range_hash(start + k, end).map_err(ProveError::Source)?);
    } else {
        path(src, m - k, start + k, end, out)?;
        out.push(src.range_hash(start, start + k).map_err(ProveError::Source)?);
    }
    Ok(())
}

/// `PROOF(old_size, D[new_size])` (RFC 9162 §2.1.4.1). Empty when `old_size` is 0 (every tree
/// extends the empty one) or equals `new_size`.
pub fn consistency_proof<S: TreeSource + ?Sized>(
    src: &S,
    old_size: u64,
    new_size: u64,
) -> Result<Vec<Hash>, ProveError<S::Error>> {
    if new_size > src.size() {
        return Err(ProveError::SizeBeyondSource { size: new_size, available: src.size() });
    }
    if old_size > new_size {
        return Err(ProveError::OldSizeAfterNew { old: old_size, new: new_size });
    }
    let mut proof = Vec::new();
    if old_size > 0 && old_size < new_size {
        subproof(src, old_size, 0, new_size, true, &mut proof)?;
    }
    Ok(proof)
}

/// `SUBPROOF(m, D[start:end], b)` (RFC 9162 §2.1.4.1), appending bottom-up.
fn subproof<S: TreeSource + ?Sized>(
    src: &S,
    m: u64,
    start: u64,
    end: u64,
    b: bool,
    out: &mut Vec<Hash>,
) -> Result<(), ProveError<S::Error>> {
    let n = end - start;
    if m == n {
        // The old tree is this whole subtree: the verifier knows its hash already when `b`
        // (it is the old root), otherwise the proof must carry it.
        if !b {
            out.push(src.range_hash(start, end).map_err(ProveError::Source)?);
        }
        return Ok(());
    }
    let k = split_point(n);
    if m <= k {
        subproof(src, m, start, start + k, b, out)?;
        out.push(src.range_hash(start + k, end).map_err(ProveError::Source)?);
    } else {
        subproof(src, m - k, start + k, end, false, out)?;
        out.push(src.range_hash(start, start + k).map_err(ProveError::Source)?);
    }
    Ok(())
}

/// Verifies that `leaf` is leaf `index` of the tree of `size` leaves whose head is `root`,
/// following RFC 9162 §2.1.3.2 step by step.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    // Step 1.
    if index >= size {
        return Err(ProofError::IndexBeyondSize { index, size });
    }
    // Step 2.
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = *leaf;
    // Step 3.
    for p in proof {
        if s_n == 0 {
            return Err(ProofError::ProofTooLong);
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    // Step 4.
    if s_n != 0 {
        return Err(ProofError::ProofTooShort);
    }
    if !r.ct_eq(root) {
        return Err(ProofError::RootMismatch { computed: r, expected: *root });
    }
    Ok(())
}

/// Verifies that the tree of `new_size` leaves with head `new_root` extends the tree of
/// `old_size` leaves with head `old_root`, following RFC 9162 §2.1.4.2 step by step.
///
/// The cases the RFC leaves open (audit-privacy-legal.md §1.2; the `tlog-witness` rules):
/// equal sizes need equal roots and an empty proof; from size 0 the proof must be empty; and
/// a size-0 tree must have the empty-tree root.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::OldSizeAfterNew { old: old_size, new: new_size });
    }
    if old_size == new_size || old_size == 0 {
        if !proof.is_empty() {
            return Err(ProofError::ProofNotEmpty {
                old: old_size,
                new: new_size,
                len: proof.len(),
            });
        }
        if old_size == 0 && !old_root.ct_eq(&empty_root()) {
            return Err(ProofError::NotEmptyTreeRoot { root: *old_root });
        }
        if old_size == new_size && !old_root.ct_eq(new_root) {
            return Err(ProofError::NewRootMismatch { computed: *old_root, expected: *new_root });
        }
        return Ok(());
    }
    // Step 1: 0 < old_size < new_size, so a proof is needed.
    let Some((first, rest)) = proof.split_first() else {
        return Err(ProofError::EmptyProof);
    };
    // Step 2: a power-of-two old tree is a perfect subtree whose hash the proof leaves out.
    let (seed, rest) = if old_size.is_power_of_two() { (old_root, proof) } else { (first, rest) };
    // Steps 3 and 4.
    let (mut f_n, mut s_n) = (old_size - 1, new_size - 1);
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    // Step 5.
    let (mut fr, mut sr) = (*seed, *seed);
    // Step 6.
    for c in rest {
        if s_n == 0 {
            return Err(ProofError::ProofTooLong);
        }
        if f_n & 1 == 1 || f_n == s_n {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    // Step 7.
    if s_n != 0 {
        return Err(ProofError::ProofTooShort);
    }
    if !fr.ct_eq(old_root) {
        return Err(ProofError::OldRootMismatch { computed: fr, expected: *old_root });
    }
    if !sr.ct_eq(new_root) {
        return Err(ProofError::NewRootMismatch { computed: sr, expected: *new_root });
    }
    Ok(())
}

/// Concatenates hashes as a `pb::Receipt` carries them.
pub fn hashes_to_bytes(hashes: &[Hash]) -> Vec<u8> {
    hashes.iter().flat_map(|h| h.0).collect()
}

/// Splits `pb::Receipt` proof bytes into 32-byte hashes, rejecting a ragged tail.
pub fn hashes_from_bytes(bytes: &[u8]) -> Result<Vec<Hash>, ProofError> {
    if !bytes.len().is_multiple_of(32) {
        return Err(ProofError::BadLength { len: bytes.len() });
    }
    Ok(bytes.chunks_exact(32).filter_map(Hash::from_slice).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::merkle::{MemoryTree, leaf_hash, root};

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(format!("entry {i}").as_bytes())).collect()
    }

    #[test]
    fn every_generated_proof_verifies_up_to_33() {
        let all = leaves(33);
        let mut tree = MemoryTree::new();
        for leaf in &all {
            tree.push(*leaf);
        }
        for size in 1..=33u64 {
            let head = root(&all[..size as usize]);
            for index in 0..size {
                let p = inclusion_proof(&tree, index, size).expect("prove");
                assert_eq!(p, inclusion_proof(all.as_slice(), index, size).expect("prove"));
                verify_inclusion(index, size, &all[index as usize], &p, &head)
                    .unwrap_or_else(|e| panic!("inclusion {index} in {size}: {e}"));
            }
            for old in 0..=size {
                let old_head = root(&all[..old as usize]);
                let p = consistency_proof(&tree, old, size).expect("prove");
                verify_consistency(old, size, &old_head, &head, &p)
                    .unwrap_or_else(|e| panic!("consistency {old} to {size}: {e}"));
            }
        }
    }

    #[test]
    fn proof_bytes_round_trip_and_reject_ragged_tails() {
        let hs = leaves(3);
        let bytes = hashes_to_bytes(&hs);
        assert_eq!(bytes.len(), 96);
        assert_eq!(hashes_from_bytes(&bytes), Ok(hs));
        assert_eq!(hashes_from_bytes(&[]), Ok(vec![]));
        assert_eq!(hashes_from_bytes(&bytes[..95]), Err(ProofError::BadLength { len: 95 }));
    }

    #[test]
    fn generation_refuses_impossible_requests() {
        let all = leaves(4);
        assert!(matches!(
            inclusion_proof(all.as_slice(), 4, 4),
            Err(ProveError::IndexBeyondSize { .. })
        ));
        assert!(matches!(
            inclusion_proof(all.as_slice(), 0, 5),
            Err(ProveError::SizeBeyondSource { .. })
        ));
        assert!(matches!(
            consistency_proof(all.as_slice(), 3, 2),
            Err(ProveError::OldSizeAfterNew { .. })
        ));
    }

    #[test]
    fn edge_cases_of_consistency() {
        let e = empty_root();
        let one = leaf_hash(b"one");
        // From the empty tree: only the empty root, only an empty proof.
        assert_eq!(verify_consistency(0, 1, &e, &one, &[]), Ok(()));
        assert!(verify_consistency(0, 1, &one, &one, &[]).is_err());
        assert!(verify_consistency(0, 1, &e, &one, &[e]).is_err());
        assert_eq!(verify_consistency(0, 0, &e, &e, &[]), Ok(()));
        assert!(verify_consistency(0, 0, &one, &one, &[]).is_err());
        // Equal sizes: equal roots, empty proof.
        assert_eq!(verify_consistency(1, 1, &one, &one, &[]), Ok(()));
        assert!(verify_consistency(1, 1, &one, &e, &[]).is_err());
        assert!(verify_consistency(1, 1, &one, &one, &[one]).is_err());
        // Shrinking.
        assert!(verify_consistency(2, 1, &one, &one, &[]).is_err());
    }
}
