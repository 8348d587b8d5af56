//! The blinding primitives against published vectors (RFC 9380 K.3, RFC 9496 Appendix A,
//! RFC 9497 A.1.1), then their protocol properties: commutativity, per-session tags, fresh
//! keys, packed-batch refusals and the parallel helpers. `cargo test -p fedlink-proto --test
//! blind -- --nocapture` prints each vector's name as it goes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::num::NonZeroUsize;

use fedlink_proto::blind::dalek::ristretto::RistrettoPoint;
use fedlink_proto::blind::dalek::scalar::Scalar;
use fedlink_proto::blind::dalek::{constants::RISTRETTO_BASEPOINT_POINT, traits::Identity};
use fedlink_proto::blind::{
    BatchError, BatchRules, BlindedPoint, BlindingKey, Dst, PackedPoints, PointError, blind_all,
    blind_all_with, expand_message_xmd, hash_to_ristretto255, linkage_dst, reblind_all,
    reblind_all_with, reblind_received,
};
use serde::Deserialize;

fn vectors<T: for<'de> Deserialize<'de>>(name: &str) -> T {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect("read vector file")).expect("parse")
}

fn b32(s: &str) -> [u8; 32] {
    hex::decode(s).unwrap().try_into().unwrap()
}

fn scalar(s: &str) -> Scalar {
    Option::from(Scalar::from_canonical_bytes(b32(s))).expect("canonical scalar")
}

fn threads(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).unwrap()
}

// ---- RFC 9380 Appendix K.3 ---------------------------------------------------------------

#[derive(Deserialize)]
struct Xmd {
    dst: String,
    dst_prime: String,
    tests: Vec<XmdCase>,
}
#[derive(Deserialize)]
struct XmdCase {
    msg: String,
    len_in_bytes: usize,
    uniform_bytes: String,
}

#[test]
fn rfc9380_k3_expand_message_xmd_sha512() {
    let file: Xmd = vectors("rfc9380_expand_message_xmd_sha512.json");
    assert_eq!(file.tests.len(), 10, "5 messages × lengths 0x20 and 0x80");
    let dst = Dst::new(file.dst.as_bytes()).unwrap();
    assert_eq!(hex::encode(dst.prime()), file.dst_prime);
    for case in &file.tests {
        println!("RFC 9380 K.3: msg {:.12?}… len {:#x}", case.msg, case.len_in_bytes);
        let out = expand_message_xmd(case.msg.as_bytes(), &dst, case.len_in_bytes).unwrap();
        assert_eq!(hex::encode(out), case.uniform_bytes, "msg {:.12?}", case.msg);
    }
}

// ---- RFC 9496 Appendix A -----------------------------------------------------------------

#[derive(Deserialize)]
struct Ristretto {
    multiples_of_generator: Vec<String>,
    invalid_encodings: Vec<Invalid>,
    from_uniform_bytes: Vec<Uniform>,
    from_uniform_bytes_same_output: SameOutput,
}
#[derive(Deserialize)]
struct Invalid {
    why: String,
    encoding: String,
}
#[derive(Deserialize)]
struct Uniform {
    input: String,
    output: String,
}
#[derive(Deserialize)]
struct SameOutput {
    inputs: Vec<String>,
    output: String,
}

#[test]
fn rfc9496_a1_multiples_of_the_generator() {
    let file: Ristretto = vectors("rfc9496_ristretto255.json");
    assert_eq!(file.multiples_of_generator.len(), 16);
    let mut sum = RistrettoPoint::identity();
    for (i, want) in file.multiples_of_generator.iter().enumerate() {
        println!("RFC 9496 A.1: B[{i}]");
        assert_eq!(hex::encode(sum.compress().as_bytes()), *want, "B[{i}] by addition");
        let by_mul = RistrettoPoint::mul_base(&Scalar::from(i as u64));
        assert_eq!(hex::encode(by_mul.compress().as_bytes()), *want, "B[{i}] = i·G");
        let point = BlindedPoint::from_bytes(b32(want));
        if i == 0 {
            assert_eq!(point.decode(), Err(PointError::Identity), "B[0] is the identity");
        } else {
            assert_eq!(point.decode().unwrap().encode(), point, "B[{i}] decodes and re-encodes");
        }
        sum += RISTRETTO_BASEPOINT_POINT;
    }
}

#[test]
fn rfc9496_a2_invalid_encodings_are_refused() {
    let file: Ristretto = vectors("rfc9496_ristretto255.json");
    assert_eq!(file.invalid_encodings.len(), 29);
    for case in &file.invalid_encodings {
        println!("RFC 9496 A.2: {} {}", case.why, &case.encoding[..16]);
        let point = BlindedPoint::from_bytes(b32(&case.encoding));
        assert_eq!(point.decode(), Err(PointError::Undecodable), "{}", case.why);
        // And inside a batch, with its index.
        let mut bytes = RISTRETTO_BASEPOINT_POINT.compress().to_bytes().repeat(3);
        bytes[64..].copy_from_slice(point.as_bytes());
        assert_eq!(
            PackedPoints::from_bytes(bytes, &BatchRules::up_to(3)),
            Err(BatchError::Point { index: 2, source: PointError::Undecodable })
        );
    }
}

#[test]
fn rfc9496_a3_group_elements_from_uniform_bytes() {
    let file: Ristretto = vectors("rfc9496_ristretto255.json");
    assert_eq!(file.from_uniform_bytes.len(), 7);
    for case in &file.from_uniform_bytes {
        println!("RFC 9496 A.3: {}…", &case.input[..16]);
        let input: [u8; 64] = hex::decode(&case.input).unwrap().try_into().unwrap();
        let point = RistrettoPoint::from_uniform_bytes(&input);
        assert_eq!(hex::encode(point.compress().as_bytes()), case.output);
    }
    let same = &file.from_uniform_bytes_same_output;
    assert_eq!(same.inputs.len(), 4);
    for input in &same.inputs {
        let input: [u8; 64] = hex::decode(input).unwrap().try_into().unwrap();
        let point = RistrettoPoint::from_uniform_bytes(&input);
        assert_eq!(hex::encode(point.compress().as_bytes()), same.output);
    }
}

// ---- RFC 9497 Appendix A.1.1 -------------------------------------------------------------

#[derive(Deserialize)]
struct Oprf {
    modes: Vec<OprfMode>,
}
#[derive(Deserialize)]
struct OprfMode {
    name: String,
    hash_to_group_dst: String,
    sk_sm: String,
    vectors: Vec<OprfVector>,
}
#[derive(Deserialize)]
struct OprfVector {
    input: String,
    blind: String,
    blinded_element: String,
    evaluation_element: String,
    output: String,
}

/// HashToGroup, both scalar multiplications and the Finalize hash: `blind·H(input)` =
/// BlindedElement, `skSm·BlindedElement` = EvaluationElement, and
/// `SHA-512(I2OSP(len(input), 2) || input || I2OSP(32, 2) || blind⁻¹·Evaluation || "Finalize")`
/// = Output. (`BlindingKey` runs the same vectors in its unit tests.)
#[test]
fn rfc9497_a11_oprf_ristretto255_sha512() {
    let file: Oprf = vectors("rfc9497_ristretto255_sha512.json");
    for mode in &file.modes {
        let dst = Dst::new(&hex::decode(&mode.hash_to_group_dst).unwrap()).unwrap();
        assert!(dst.as_bytes().starts_with(b"HashToGroup-OPRFV1-"));
        let sk = scalar(&mode.sk_sm);
        for (n, v) in mode.vectors.iter().enumerate() {
            println!("RFC 9497 A.1.1: {} vector {}", mode.name, n + 1);
            let input = hex::decode(&v.input).unwrap();
            let blind = scalar(&v.blind);
            let element = hash_to_ristretto255(&input, &dst);
            let blinded = (blind * element).compress();
            assert_eq!(hex::encode(blinded.as_bytes()), v.blinded_element);
            let evaluated = sk * blinded.decompress().unwrap();
            assert_eq!(hex::encode(evaluated.compress().as_bytes()), v.evaluation_element);

            let unblinded = blind.invert() * evaluated;
            assert_eq!(unblinded, sk * element, "Finalize recovers the server's Evaluate");
            let mut framed = Vec::new();
            framed.extend_from_slice(&(input.len() as u16).to_be_bytes());
            framed.extend_from_slice(&input);
            framed.extend_from_slice(&32u16.to_be_bytes());
            framed.extend_from_slice(unblinded.compress().as_bytes());
            framed.extend_from_slice(b"Finalize");
            let output = ring::digest::digest(&ring::digest::SHA512, &framed);
            assert_eq!(hex::encode(output.as_ref()), v.output);
        }
    }
}

// ---- Protocol properties -----------------------------------------------------------------

const SID: [u8; 16] = *b"session-00000001";

#[test]
fn blinding_commutes() {
    let dst = linkage_dst(&SID, 1);
    for _ in 0..8 {
        let (a, b) = (BlindingKey::generate().unwrap(), BlindingKey::generate().unwrap());
        let m = b"nhs:9434765919";
        let ab = a.reblind(&b.blind(m, &dst).decode().unwrap());
        let ba = b.reblind(&a.blind(m, &dst).decode().unwrap());
        assert_eq!(ab, ba, "a·(b·H(m)) = b·(a·H(m))");
        let other = b.reblind(&a.blind(b"nhs:9434765870", &dst).decode().unwrap());
        assert_ne!(ab, other, "different keys stay apart");
    }
}

#[test]
fn tags_separate_sessions_and_key_types() {
    let m = b"9434765919";
    let h = |sid: &[u8; 16], key_type| hash_to_ristretto255(m, &linkage_dst(sid, key_type));
    let base = h(&SID, 1);
    assert_eq!(base, h(&SID, 1), "deterministic within a session");
    assert_ne!(base, h(b"session-00000002", 1), "another session");
    assert_ne!(base, h(&SID, 2), "another key type");
    // Even the doubly-blinded values under the same scalars differ across sessions.
    let (a, b) = (BlindingKey::generate().unwrap(), BlindingKey::generate().unwrap());
    let twice = |dst: &Dst| b.reblind(&a.blind(m, dst).decode().unwrap());
    assert_ne!(twice(&linkage_dst(&SID, 1)), twice(&linkage_dst(b"session-00000002", 1)));
}

#[test]
fn keys_are_fresh() {
    let publics: HashSet<_> =
        (0..64).map(|_| BlindingKey::generate().unwrap().public().to_bytes()).collect();
    assert_eq!(publics.len(), 64, "64 keys, 64 distinct k·G");
    let dst = linkage_dst(&SID, 1);
    let (a, b) = (BlindingKey::generate().unwrap(), BlindingKey::generate().unwrap());
    assert_ne!(a.blind(b"x", &dst), b.blind(b"x", &dst));
    assert!(a.public().decode().is_ok(), "k·G is a valid non-identity point");
}

#[test]
fn packed_batch_refusals_name_the_index() {
    let key = BlindingKey::generate().unwrap();
    let msgs: Vec<Vec<u8>> = (0..40u32).map(|i| i.to_be_bytes().to_vec()).collect();
    let good = blind_all(&key, &msgs, &linkage_dst(&SID, 1)).into_bytes();
    let rules = BatchRules::up_to(40).unique();

    // Both ways of taking a batch in refuse the same way: checking it, and checking while
    // reblinding it.
    let other = BlindingKey::generate().unwrap();
    let refused = |bytes: Vec<u8>, rules: &BatchRules| {
        let fused = reblind_received(&other, &bytes, rules).map(|p| p.len());
        let checked = PackedPoints::from_bytes(bytes, rules).map(|p| p.len());
        assert_eq!(fused, checked, "reblind_received refuses exactly as from_bytes");
        checked
    };
    assert_eq!(refused(good.clone(), &rules), Ok(40));
    assert_eq!(
        refused(good[..good.len() - 1].to_vec(), &rules),
        Err(BatchError::BadLength { len: 1279 })
    );
    assert_eq!(
        refused(good.clone(), &BatchRules::up_to(39)),
        Err(BatchError::TooMany { count: 40, max: 39 })
    );
    assert_eq!(
        refused(good.clone(), &BatchRules::exactly(41)),
        Err(BatchError::WrongCount { count: 40, expected: 41 })
    );

    let with = |index: usize, point: [u8; 32]| {
        let mut bytes = good.clone();
        bytes[index * 32..][..32].copy_from_slice(&point);
        bytes
    };
    assert_eq!(
        refused(with(17, [0; 32]), &rules),
        Err(BatchError::Point { index: 17, source: PointError::Identity })
    );
    let mut non_canonical = [0xff; 32];
    non_canonical[31] = 0x7f; // 2^255 - 1 ≥ p
    assert_eq!(
        refused(with(39, non_canonical), &rules),
        Err(BatchError::Point { index: 39, source: PointError::Undecodable })
    );
    // Two bad points in different chunks: the lower index is reported.
    let mut two = with(30, [0; 32]);
    two[3 * 32..][..32].copy_from_slice(&non_canonical);
    assert_eq!(
        refused(two, &rules),
        Err(BatchError::Point { index: 3, source: PointError::Undecodable })
    );
    let repeat: [u8; 32] = good[12 * 32..][..32].try_into().unwrap();
    assert_eq!(
        refused(with(25, repeat), &rules),
        Err(BatchError::Repeated { index: 25, first: 12 })
    );
    assert_eq!(refused(with(25, repeat), &BatchRules::up_to(40)), Ok(40), "repeats allowed");
    assert_eq!(refused(Vec::new(), &BatchRules::exactly(0)), Ok(0));
}

#[test]
fn exactly_refuses_a_short_batch() {
    let key = BlindingKey::generate().unwrap();
    let bytes = blind_all(&key, &[b"a", b"b"], &linkage_dst(&SID, 1)).into_bytes();
    let rules = BatchRules { expected_count: Some(3), ..BatchRules::up_to(10) };
    assert_eq!(
        PackedPoints::from_bytes(bytes, &rules),
        Err(BatchError::WrongCount { count: 2, expected: 3 })
    );
}

#[test]
fn parallel_helpers_match_one_at_a_time_in_order() {
    let dst = linkage_dst(&SID, 3);
    let key = BlindingKey::generate().unwrap();
    // Small sizes on purpose: unoptimised dalek takes milliseconds per multiplication. The
    // sub-batch boundary (256 points) is covered by `batch`'s unit tests with a small batch.
    for n in [0, 1, 2, 5, 33] {
        let msgs: Vec<String> = (0..n).map(|i| format!("name_dob:SMITH|JOHN|{i}")).collect();
        let one_by_one: Vec<BlindedPoint> =
            msgs.iter().map(|m| key.blind(m.as_bytes(), &dst)).collect();
        for t in [1, 2, 7] {
            let packed = blind_all_with(&key, &msgs, &dst, threads(t));
            assert_eq!(packed.len(), n);
            assert_eq!(packed.iter().collect::<Vec<_>>(), one_by_one, "blind n={n} threads={t}");
        }
        let packed = blind_all(&key, &msgs, &dst);
        let other = BlindingKey::generate().unwrap();
        let want: Vec<BlindedPoint> =
            packed.iter().map(|p| other.reblind(&p.decode().unwrap())).collect();
        for t in [1, 3] {
            let twice = reblind_all_with(&other, &packed, threads(t));
            assert_eq!(twice.iter().collect::<Vec<_>>(), want, "reblind n={n} threads={t}");
        }
        assert_eq!(reblind_all(&other, &packed).iter().collect::<Vec<_>>(), want);
        let received = reblind_received(&other, packed.as_bytes(), &BatchRules::exactly(n));
        assert_eq!(received.unwrap().iter().collect::<Vec<_>>(), want, "fused n={n}");
        assert_eq!(packed.get(n), None);
    }
}

/// Two nodes with overlapping key sets find exactly the overlap, through packed batches that
/// each side checks before multiplying.
#[test]
fn two_nodes_find_their_overlap() {
    let dst = linkage_dst(&SID, 1);
    let a_keys: Vec<String> = (0..30).map(|i| format!("nhs:{i:010}")).collect();
    let b_keys: Vec<String> = (20..70).map(|i| format!("nhs:{i:010}")).collect();
    let (a, b) = (BlindingKey::generate().unwrap(), BlindingKey::generate().unwrap());

    // A → B: a·H(x); B checks and computes b·a·H(x).
    let m1 = blind_all(&a, &a_keys, &dst).into_bytes();
    let m1 = PackedPoints::from_bytes(m1, &BatchRules::up_to(1000).unique()).unwrap();
    let ab = reblind_all(&b, &m1);
    // B → A: b·H(y); A checks and returns a·b·H(y) in one pass; B checks that.
    let m2 = blind_all(&b, &b_keys, &dst).into_bytes();
    let m3 = reblind_received(&a, &m2, &BatchRules::up_to(1000).unique()).unwrap().into_bytes();
    let ba = PackedPoints::from_bytes(m3, &BatchRules::exactly(b_keys.len()).unique()).unwrap();

    let left: HashSet<BlindedPoint> = ab.iter().collect();
    let matches = ba.iter().filter(|p| left.contains(p)).count();
    assert_eq!(matches, 10, "keys 20..30 are on both sides");
}
