//! RFC 6962 / RFC 9162 Merkle vectors from transparency-dev/merkle (see
//! `tests/vectors/README.md` for commits): hasher outputs, the 8-leaf tree's node hashes and
//! roots, published proofs, the RFC worked example, and every inclusion and consistency probe
//! of `testdata/`, valid and mutated.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use fedlink_proto::audit::merkle::{
    Hash, MemoryTree, TreeSource, empty_root, leaf_hash, node_hash, root,
};
use fedlink_proto::audit::proof::{
    consistency_proof, inclusion_proof, verify_consistency, verify_inclusion,
};
use serde::Deserialize;

use crate::util::{unhex, vectors};

#[derive(Deserialize)]
struct Constants {
    leaf_inputs_hex: Vec<String>,
    node_hashes_hex: Vec<Vec<String>>,
    root_hashes_hex: Vec<String>,
    hasher: Hasher,
    inclusion_proofs: Vec<InclusionVector>,
    consistency_proofs: Vec<ConsistencyVector>,
    rfc9162_worked_example: WorkedExample,
}

#[derive(Deserialize)]
struct Hasher {
    empty_root: String,
    empty_leaf: String,
    #[serde(rename = "leaf_L123456")]
    leaf_l123456: String,
    #[serde(rename = "children_N123_N456")]
    children_n123_n456: String,
}

#[derive(Deserialize)]
struct InclusionVector {
    leaf: u64,
    size: u64,
    proof: Vec<String>,
}

#[derive(Deserialize)]
struct ConsistencyVector {
    size1: u64,
    size2: u64,
    proof: Vec<String>,
}

#[derive(Deserialize)]
struct WorkedExample {
    size: u64,
    root_prefix: String,
    paths: Vec<WorkedPath>,
    proofs: Vec<WorkedProof>,
}

#[derive(Deserialize)]
struct WorkedPath {
    index: u64,
    letters: String,
    prefixes: Vec<String>,
}

#[derive(Deserialize)]
struct WorkedProof {
    old_size: u64,
    letters: String,
    prefixes: Vec<String>,
}

fn h(hex: &str) -> Hash {
    Hash::from_hex(hex).expect("64 hex digits")
}

fn constants() -> (Constants, Vec<Hash>) {
    let c: Constants = vectors("merkle.json");
    let leaves = c.leaf_inputs_hex.iter().map(|x| leaf_hash(&unhex(x))).collect();
    (c, leaves)
}

#[test]
fn hasher_vectors() {
    let (c, _) = constants();
    assert_eq!(empty_root(), h(&c.hasher.empty_root));
    assert_eq!(leaf_hash(b""), h(&c.hasher.empty_leaf));
    assert_eq!(leaf_hash(b"L123456"), h(&c.hasher.leaf_l123456));
    // The RFC 6962 test hashes the raw strings "N123" and "N456" as children, so this checks
    // the 0x01 prefix and the order, using a helper that takes any bytes.
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(&[0x01]);
    ctx.update(b"N123");
    ctx.update(b"N456");
    assert_eq!(ctx.finish().as_ref(), unhex(&c.hasher.children_n123_n456).as_slice());
}

#[test]
fn node_hashes_and_roots_of_the_eight_leaf_tree() {
    let (c, leaves) = constants();
    let mut tree = MemoryTree::new();
    for leaf in &leaves {
        tree.push(*leaf);
    }
    for (level, row) in c.node_hashes_hex.iter().enumerate() {
        for (index, want) in row.iter().enumerate() {
            println!("testing node hash level {level} index {index}");
            let got = tree.perfect(level as u32, index as u64).expect("perfect subtree");
            assert_eq!(got, h(want), "level {level} index {index}");
        }
    }
    assert_eq!(c.root_hashes_hex.len(), 9);
    for (size, want) in c.root_hashes_hex.iter().enumerate() {
        println!("testing root of size {size}");
        assert_eq!(root(&leaves[..size]), h(want), "size {size}");
    }
    // node_hash is the hash of two children.
    assert_eq!(node_hash(&leaves[0], &leaves[1]), h(&c.node_hashes_hex[1][0]));
}

#[test]
fn published_proofs() {
    let (c, leaves) = constants();
    for (i, v) in c.inclusion_proofs.iter().enumerate() {
        println!("testing inclusion vector {i}: leaf {} of {}", v.leaf, v.size);
        let index = v.leaf - 1;
        let want: Vec<Hash> = v.proof.iter().map(|x| h(x)).collect();
        let got = inclusion_proof(leaves.as_slice(), index, v.size).expect("prove");
        assert_eq!(got, want);
        let head = root(&leaves[..v.size as usize]);
        verify_inclusion(index, v.size, &leaves[index as usize], &want, &head).expect("verify");
    }
    for (i, v) in c.consistency_proofs.iter().enumerate() {
        println!("testing consistency vector {i}: {} to {}", v.size1, v.size2);
        let want: Vec<Hash> = v.proof.iter().map(|x| h(x)).collect();
        let got = consistency_proof(leaves.as_slice(), v.size1, v.size2).expect("prove");
        assert_eq!(got, want);
        let (old, new) = (root(&leaves[..v.size1 as usize]), root(&leaves[..v.size2 as usize]));
        verify_consistency(v.size1, v.size2, &old, &new, &want).expect("verify");
    }
}

#[test]
fn every_proof_up_to_eight_leaves_verifies() {
    let (_, leaves) = constants();
    for size in 0..=8u64 {
        let head = root(&leaves[..size as usize]);
        for index in 0..size {
            let proof = inclusion_proof(leaves.as_slice(), index, size).expect("prove");
            verify_inclusion(index, size, &leaves[index as usize], &proof, &head)
                .unwrap_or_else(|e| panic!("PATH({index}, D[{size}]): {e}"));
            // The same proof must not prove any other leaf.
            for other in (0..size).filter(|o| *o != index) {
                assert!(
                    verify_inclusion(other, size, &leaves[index as usize], &proof, &head).is_err()
                );
            }
        }
        for old in 0..=size {
            let proof = consistency_proof(leaves.as_slice(), old, size).expect("prove");
            let old_head = root(&leaves[..old as usize]);
            verify_consistency(old, size, &old_head, &head, &proof)
                .unwrap_or_else(|e| panic!("PROOF({old}, D[{size}]): {e}"));
        }
    }
}

#[test]
fn rfc9162_worked_example() {
    let (c, leaves) = constants();
    let ex = &c.rfc9162_worked_example;
    let d7 = &leaves[..ex.size as usize];
    assert!(root(d7).to_hex().starts_with(&ex.root_prefix));
    // Letters of the RFC figure: a..f and j are leaves, g h i pairs, k and l the halves.
    let letter = |name: &str| -> Hash {
        match name {
            "a" | "b" | "c" | "d" | "e" | "f" => leaves[(name.as_bytes()[0] - b'a') as usize],
            "j" => leaves[6],
            "g" => root(&d7[0..2]),
            "h" => root(&d7[2..4]),
            "i" => root(&d7[4..6]),
            "k" => root(&d7[0..4]),
            "l" => root(&d7[4..7]),
            other => panic!("no letter {other}"),
        }
    };
    for p in &ex.paths {
        println!("testing PATH({}, D7) = {}", p.index, p.letters);
        let got = inclusion_proof(d7, p.index, ex.size).expect("prove");
        let want: Vec<Hash> = p.letters.split(' ').map(letter).collect();
        assert_eq!(got, want);
        for (hash, prefix) in got.iter().zip(&p.prefixes) {
            assert!(hash.to_hex().starts_with(prefix.as_str()), "{hash} vs {prefix}");
        }
    }
    for p in &ex.proofs {
        println!("testing PROOF({}, D7) = {}", p.old_size, p.letters);
        let got = consistency_proof(d7, p.old_size, ex.size).expect("prove");
        let want: Vec<Hash> = p.letters.split(' ').map(letter).collect();
        assert_eq!(got, want);
        for (hash, prefix) in got.iter().zip(&p.prefixes) {
            assert!(hash.to_hex().starts_with(prefix.as_str()), "{hash} vs {prefix}");
        }
    }
}

#[derive(Deserialize)]
struct Probes<T> {
    cases: Vec<T>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InclusionProbe {
    file: String,
    leaf_idx: u64,
    tree_size: u64,
    root: String,
    leaf_hash: String,
    proof: Option<Vec<String>>,
    want_err: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConsistencyProbe {
    file: String,
    size1: u64,
    size2: u64,
    root1: String,
    root2: String,
    proof: Option<Vec<String>>,
    want_err: bool,
}

/// A base64 field as a hash; `None` when it is not 32 bytes, which fedlink's typed API cannot
/// even express, so such a probe counts as rejected.
fn hash64(text: &str) -> Option<Hash> {
    Hash::from_slice(&BASE64.decode(text).expect("base64"))
}

fn hashes64(proof: &Option<Vec<String>>) -> Option<Vec<Hash>> {
    proof.iter().flatten().map(|p| hash64(p)).collect()
}

/// Probes where fedlink deliberately disagrees with transparency-dev: with equal sizes,
/// upstream accepts 12-byte "don't care" roots; fedlink takes only 32-byte roots, and at size
/// 0 only the empty-tree root (audit-privacy-legal.md §1.6).
const DIVERGENT: [&str; 2] = [
    "testdata/consistency/additional/sizes-are-equal-one-and-proof-is-empty.json",
    "testdata/consistency/additional/sizes-are-equal-zero-and-proof-is-empty.json",
];

#[test]
fn transparency_dev_inclusion_probes() {
    let probes: Probes<InclusionProbe> = vectors("merkle_inclusion.json");
    assert_eq!(probes.cases.len(), 94);
    for p in &probes.cases {
        let outcome = match (hash64(&p.root), hash64(&p.leaf_hash), hashes64(&p.proof)) {
            (Some(root), Some(leaf), Some(proof)) => {
                verify_inclusion(p.leaf_idx, p.tree_size, &leaf, &proof, &root)
                    .map_err(|e| e.to_string())
            }
            _ => Err("a hash is not 32 bytes".to_string()),
        };
        println!("testing {}: want error {}, got {outcome:?}", p.file, p.want_err);
        assert_eq!(outcome.is_err(), p.want_err, "{}", p.file);
    }
}

#[test]
fn transparency_dev_consistency_probes() {
    let probes: Probes<ConsistencyProbe> = vectors("merkle_consistency.json");
    assert_eq!(probes.cases.len(), 98);
    let mut diverged = Vec::new();
    for p in &probes.cases {
        let outcome = match (hash64(&p.root1), hash64(&p.root2), hashes64(&p.proof)) {
            (Some(r1), Some(r2), Some(proof)) => {
                verify_consistency(p.size1, p.size2, &r1, &r2, &proof).map_err(|e| e.to_string())
            }
            _ => Err("a hash is not 32 bytes".to_string()),
        };
        println!("testing {}: want error {}, got {outcome:?}", p.file, p.want_err);
        if outcome.is_err() != p.want_err {
            diverged.push(p.file.as_str());
        }
    }
    assert_eq!(diverged, DIVERGENT, "only the recorded divergences may differ from upstream");
}

#[test]
fn generated_proofs_match_upstream_happy_paths() {
    // Upstream's happy paths come from its own generator; ours must produce the same bytes.
    let (_, leaves) = constants();
    let inclusion: Probes<InclusionProbe> = vectors("merkle_inclusion.json");
    for p in inclusion.cases.iter().filter(|p| p.file.ends_with("/happy-path.json")) {
        println!("testing generation of {}", p.file);
        let want = hashes64(&p.proof).expect("32-byte hashes");
        let got = inclusion_proof(leaves.as_slice(), p.leaf_idx, p.tree_size).expect("prove");
        assert_eq!(got, want, "{}", p.file);
    }
    let consistency: Probes<ConsistencyProbe> = vectors("merkle_consistency.json");
    for p in consistency.cases.iter().filter(|p| p.file.ends_with("/happy-path.json")) {
        println!("testing generation of {}", p.file);
        let want = hashes64(&p.proof).expect("32-byte hashes");
        let got = consistency_proof(leaves.as_slice(), p.size1, p.size2).expect("prove");
        assert_eq!(got, want, "{}", p.file);
        assert_eq!(leaves.as_slice().size(), 8);
    }
}
