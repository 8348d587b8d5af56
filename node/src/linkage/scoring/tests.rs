use proptest::prelude::*;
use proptest::test_runner::{RngAlgorithm, TestRng};

use super::*;

fn model(m: &[f64], u: &[f64], lambda: f64) -> Model {
    Model::new(FieldProbabilities { m: m.to_vec(), u: u.to_vec() }, lambda).unwrap()
}

/// A uniform draw in [0, 1) from the top 53 bits.
fn uniform(rng: &mut TestRng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

// 1. EM with the true u fixed recovers m and lambda from simulated patterns.
#[test]
fn em_recovers_known_m_and_lambda() {
    let m = [0.95, 0.9, 0.85, 0.8, 0.7];
    let u = [0.001, 0.01, 0.02, 0.05, 0.1];
    let lambda = 0.05;
    let mut rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[6u8; 32]);
    let mut counts = PatternCounts::new(5).unwrap();
    for _ in 0..200_000 {
        let is_match = uniform(&mut rng) < lambda;
        let probs = if is_match { &m } else { &u };
        let agrees: Vec<bool> = probs.iter().map(|p| uniform(&mut rng) < *p).collect();
        counts.add(Pattern::from_agreements(&agrees).unwrap(), 1).unwrap();
    }
    assert_eq!(counts.total(), 200_000);
    let fitted = fit_m(&counts, &u, 1000, 1e-8).unwrap();
    eprintln!(
        "fitted m = {:?}, lambda = {}, iterations = {}",
        fitted.m(),
        fitted.lambda(),
        fitted.iterations()
    );
    assert!(fitted.converged());
    assert_eq!(fitted.u(), &u);
    for (i, (got, want)) in fitted.m().iter().zip(m).enumerate() {
        assert!(close(*got, want, 0.02), "m[{i}] = {got}, want {want}");
    }
    assert!(close(fitted.lambda(), lambda, 0.01), "lambda = {}", fitted.lambda());
}

// EM stops at max_iter without claiming convergence, and moves away from its start.
#[test]
fn em_respects_max_iter() {
    let u = [0.01, 0.02];
    let counts = PatternCounts::from_patterns(
        2,
        (0..90).map(|_| Pattern::from_bits(0)).chain((0..10).map(|_| Pattern::from_bits(0b11))),
    )
    .unwrap();
    let one = fit_m(&counts, &u, 1, 0.0).unwrap();
    assert_eq!(one.iterations(), 1);
    assert!(!one.converged());
    assert_ne!(one.lambda(), 0.1);
}

// The clamp keeps m above u even when the data say agreement is evidence against a match.
#[test]
fn em_keeps_m_above_u() {
    // Key type 1 agrees only on pairs that disagree on key type 0; matches (key 0 agrees)
    // never agree on key 1, so free EM would drive m_1 towards 0.
    let u = [0.01, 0.3];
    let counts = PatternCounts::from_patterns(
        2,
        (0..700)
            .map(|_| Pattern::from_bits(0))
            .chain((0..300).map(|_| Pattern::from_bits(0b10)))
            .chain((0..100).map(|_| Pattern::from_bits(0b01))),
    )
    .unwrap();
    let fitted = fit_m(&counts, &u, 500, 1e-10).unwrap();
    assert!(close(fitted.m()[1], 0.3 + M_ABOVE_U, 1e-12), "{:?}", fitted.m());
    assert!(fitted.weight(Pattern::from_bits(0b10)) > fitted.weight(Pattern::from_bits(0)));
}

// 2. Within-file u is Σ_v C(n_v, 2) / C(N, 2), clamped to [1e-9, 0.5].
#[test]
fn within_file_u_matches_hand_formula() {
    let mut one_big = vec![10u64];
    one_big.extend(std::iter::repeat_n(1, 90));
    let got = within_file_u(&[
        vec![3, 1, 2],    // N = 6: (3 + 0 + 1) / 15
        one_big,          // N = 100: 45 / 4950 = 1/110
        vec![1, 1, 1, 1], // nobody agrees: clamped up to 1e-9
        vec![5],          // everyone agrees: clamped down to 0.5
        vec![1],          // a single record: no pairs, 0.5
        vec![],           // no records: 0.5
    ]);
    let want = [4.0 / 15.0, 1.0 / 110.0, 1e-9, 0.5, 0.5, 0.5];
    assert_eq!(got.len(), want.len());
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(close(*g, w, 1e-15), "u[{i}] = {g}, want {w}");
    }
}

// 3. Weights and posteriors against hand-computed values.
#[test]
fn weights_and_posteriors_match_hand_values() {
    let fitted = model(&[0.9, 0.8], &[0.01, 0.2], 0.05);
    // Agreement on key 0 adds log2(0.9/0.01) = log2(90) = 6.4918530963...; disagreement adds
    // log2(0.1/0.99) = -3.3074285251...; key 1: agree log2(4) = 2, disagree log2(0.25) = -2.
    let cases = [
        (0b00, -5.307428525192247),
        (0b01, 4.491853096329675),
        (0b10, -1.3074285251922473),
        (0b11, 8.491853096329674),
    ];
    for (bits, want) in cases {
        let got = fitted.weight(Pattern::from_bits(bits));
        assert!(close(got, want, 1e-12), "weight({bits:#b}) = {got}, want {want}");
    }
    // Full agreement: λM / (λM + (1−λ)U) = 0.05·0.72 / (0.05·0.72 + 0.95·0.002).
    let got = fitted.posterior(Pattern::from_bits(0b11));
    assert!(close(got, 0.949868073878628, 1e-12), "{got}");
    // No agreement: 0.05·0.02 / (0.05·0.02 + 0.95·0.792).
    let want = 0.05 * 0.02 / (0.05 * 0.02 + 0.95 * 0.792);
    let got = fitted.posterior(Pattern::from_bits(0));
    assert!(close(got, want, 1e-15), "{got} vs {want}");
}

#[test]
fn posterior_is_monotone_in_weight() {
    let fitted = model(&[0.95, 0.9, 0.85, 0.8], &[0.001, 0.01, 0.02, 0.5 - 1e-3], 0.02);
    let mut scored: Vec<(f64, f64)> = (0..16u32)
        .map(|b| {
            let p = Pattern::from_bits(b);
            (fitted.weight(p), fitted.posterior(p))
        })
        .collect();
    scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    for w in scored.windows(2) {
        assert!(w[0].0 < w[1].0, "weights not distinct: {scored:?}");
        assert!(w[0].1 < w[1].1, "posterior not increasing: {scored:?}");
    }
    assert!(scored.iter().all(|(_, p)| *p > 0.0 && *p < 1.0));
}

// 4. One-to-one assignment on crafted cases.
fn three_keys() -> Model {
    // Key 0: NHS number; key 1: name+DOB; key 2: surname+DOB (low m, high u).
    model(&[0.95, 0.9, 0.6], &[0.001, 0.001, 0.05], 0.05)
}

const FULL: Pattern = Pattern(0b111);
const NAME_DOB: Pattern = Pattern(0b110);
const NHS_ONLY: Pattern = Pattern(0b001);
const SURNAME_DOB: Pattern = Pattern(0b100);

#[test]
fn cohort_tuple_takes_its_higher_weight_candidate() {
    let fitted = three_keys();
    assert!(fitted.weight(FULL) > fitted.weight(NAME_DOB));
    // Listed lower weight first, so input order is not what decides.
    let pairs = [(0, 1, NAME_DOB), (0, 0, FULL)];
    assert_eq!(assign_one_to_one(&pairs, &fitted, 0.5), vec![(0, 0)]);
    let pairs = [(0, 0, NAME_DOB), (0, 1, FULL)];
    assert_eq!(assign_one_to_one(&pairs, &fitted, 0.5), vec![(0, 1)]);
}

#[test]
fn partner_claimed_twice_goes_to_the_higher_weight() {
    let fitted = three_keys();
    assert!(fitted.weight(FULL) > fitted.weight(NHS_ONLY));
    assert!(fitted.posterior(NHS_ONLY) >= 0.5);
    // Cohort 0 (lower index) has the weaker claim on partner 7; cohort 1 gets it, and cohort 0
    // falls back to its other candidate.
    let pairs = [(0, 7, NHS_ONLY), (1, 7, FULL), (0, 3, NAME_DOB)];
    assert_eq!(assign_one_to_one(&pairs, &fitted, 0.5), vec![(0, 3), (1, 7)]);
}

#[test]
fn ties_go_to_lower_indices_whatever_the_input_order() {
    let fitted = three_keys();
    let pairs = [(2, 5, FULL), (1, 5, FULL), (1, 4, FULL), (2, 4, FULL)];
    let mut reversed = pairs;
    reversed.reverse();
    // Greedy by (cohort, partner): (1, 4), then (2, 5).
    assert_eq!(assign_one_to_one(&pairs, &fitted, 0.5), vec![(1, 4), (2, 5)]);
    assert_eq!(assign_one_to_one(&reversed, &fitted, 0.5), vec![(1, 4), (2, 5)]);
}

#[test]
fn pairs_below_threshold_are_never_assigned() {
    let fitted = three_keys();
    let p = fitted.posterior(NHS_ONLY);
    let pairs = [(0, 0, NHS_ONLY)];
    assert_eq!(assign_one_to_one(&pairs, &fitted, p), vec![(0, 0)]);
    assert_eq!(assign_one_to_one(&pairs, &fitted, p + 1e-9), vec![]);
    // Even with no competitor at all.
    assert_eq!(assign_one_to_one(&[(3, 3, Pattern(0))], &fitted, 0.5), vec![]);
}

#[test]
fn twin_on_surname_dob_stays_below_half() {
    let fitted = three_keys();
    assert!(fitted.posterior(SURNAME_DOB) < 0.5);
    assert!(fitted.posterior(FULL) > 0.5);
    // Cohort 0's true match is partner 0; partner 1 is a twin sharing only surname+DOB with
    // cohort 0 and with cohort 1 (its sibling's record on the cohort side).
    let pairs = [(0, 1, SURNAME_DOB), (0, 0, FULL), (1, 1, SURNAME_DOB)];
    assert_eq!(assign_one_to_one(&pairs, &fitted, 0.5), vec![(0, 0)]);
}

proptest! {
    #[test]
    fn assignment_is_one_to_one_and_above_threshold(
        pairs in proptest::collection::vec((0usize..6, 0usize..6, 0u32..8), 0..30),
        threshold in 0.0f64..1.0,
    ) {
        let fitted = three_keys();
        let pairs: Vec<(usize, usize, Pattern)> =
            pairs.into_iter().map(|(c, q, b)| (c, q, Pattern(b))).collect();
        let got = assign_one_to_one(&pairs, &fitted, threshold);
        let cohorts: BTreeSet<usize> = got.iter().map(|(c, _)| *c).collect();
        let partners: BTreeSet<usize> = got.iter().map(|(_, q)| *q).collect();
        prop_assert_eq!(cohorts.len(), got.len());
        prop_assert_eq!(partners.len(), got.len());
        for (c, q) in &got {
            prop_assert!(pairs.iter().any(|(pc, pq, p)| pc == c && pq == q
                && fitted.posterior(*p) >= threshold));
        }
        // Maximal: every eligible pair left out has a tuple already taken.
        for (c, q, p) in &pairs {
            if fitted.posterior(*p) >= threshold {
                prop_assert!(cohorts.contains(c) || partners.contains(q));
            }
        }
    }
}

// 5. Errors.
#[test]
fn empty_counts_are_refused() {
    let counts = PatternCounts::new(3).unwrap();
    assert_eq!(fit_m(&counts, &[0.01, 0.02, 0.03], 10, 1e-6), Err(ScoringError::NoPairs));
    // Adding zero pairs is still no pairs.
    let mut counts = counts;
    counts.add(Pattern(0b1), 0).unwrap();
    assert_eq!(fit_m(&counts, &[0.01, 0.02, 0.03], 10, 1e-6), Err(ScoringError::NoPairs));
}

#[test]
fn mismatched_k_is_refused() {
    let counts = PatternCounts::from_patterns(3, [Pattern(0b101)]).unwrap();
    assert_eq!(
        fit_m(&counts, &[0.01, 0.02], 10, 1e-6),
        Err(ScoringError::KMismatch { expected: 3, got: 2 })
    );
    assert_eq!(
        Model::new(FieldProbabilities { m: vec![0.9, 0.8], u: vec![0.1] }, 0.1),
        Err(ScoringError::KMismatch { expected: 2, got: 1 })
    );
}

#[test]
fn too_many_or_no_key_types_and_stray_bits_are_refused() {
    assert_eq!(PatternCounts::new(33), Err(ScoringError::TooManyKeyTypes(33)));
    assert_eq!(PatternCounts::new(0), Err(ScoringError::NoKeyTypes));
    assert!(PatternCounts::new(32).is_ok());
    assert_eq!(Pattern::from_agreements(&[true; 33]), Err(ScoringError::TooManyKeyTypes(33)));
    assert_eq!(Pattern::from_agreements(&[true, false, true]), Ok(Pattern(0b101)));
    let mut counts = PatternCounts::new(2).unwrap();
    assert_eq!(
        counts.add(Pattern(0b100), 1),
        Err(ScoringError::PatternOutOfRange { pattern: 0b100, k: 2 })
    );
    let mut wide = PatternCounts::new(32).unwrap();
    assert!(wide.add(Pattern(u32::MAX), 1).is_ok());
}

#[test]
fn probabilities_outside_the_open_unit_interval_are_refused() {
    let counts = PatternCounts::from_patterns(2, [Pattern(0b11)]).unwrap();
    for bad in [0.0, 1.0, -0.1, f64::NAN] {
        let err = fit_m(&counts, &[0.1, bad], 10, 1e-6).unwrap_err();
        assert!(
            matches!(err, ScoringError::ProbabilityOutOfRange { which: "u", index: 1, .. }),
            "{err:?}"
        );
    }
    let probs = FieldProbabilities { m: vec![1.0, 0.9], u: vec![0.1, 0.1] };
    assert!(matches!(
        Model::new(probs, 0.1),
        Err(ScoringError::ProbabilityOutOfRange { which: "m", index: 0, .. })
    ));
    let probs = FieldProbabilities { m: vec![0.9, 0.9], u: vec![0.1, 0.1] };
    assert!(matches!(
        Model::new(probs, 0.0),
        Err(ScoringError::ProbabilityOutOfRange { which: "lambda", .. })
    ));
}
