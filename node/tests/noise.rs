//! The DP noise samplers (issue 4 item 4): each draws from its exact pmf (a chi-square goodness
//! of fit at α = 0.001 with a fixed seed, plus mean and variance), the same test rejects a
//! sampler with the wrong scale, the Bernoulli building blocks hit their probabilities,
//! parameters are validated, and the OS-backed source drives the samplers.
//!
//! Floating point appears here only to evaluate the reference pmfs and the statistics.

use fedlink_node::privacy::{
    DiscreteGaussian, DiscreteLaplace, GAUSSIAN_MAX_TERM, NoiseError, OsRandom, RandomBits,
    RandomError, Ratio, bernoulli, bernoulli_exp,
};

/// Samples per goodness-of-fit test: enough to reject a 10% scale error by a wide margin, few
/// enough that the whole file runs in a few seconds in a debug build.
const SAMPLES: usize = 50_000;

/// Upper 0.001 quantiles of χ² for 1..=60 degrees of freedom, from the regularised incomplete
/// gamma function (mpmath `gammainc`, 30 digits); they agree with printed tables, e.g. the
/// NIST/SEMATECH e-Handbook §1.3.6.7.4 (10.828 for 1, 29.588 for 10, 59.703 for 30).
const CHI2_CRITICAL_0_001: [f64; 60] = [
    10.828, 13.816, 16.266, 18.467, 20.515, 22.458, 24.322, 26.124, 27.877, 29.588, 31.264, 32.909,
    34.528, 36.123, 37.697, 39.252, 40.790, 42.312, 43.820, 45.315, 46.797, 48.268, 49.728, 51.179,
    52.620, 54.052, 55.476, 56.892, 58.301, 59.703, 61.098, 62.487, 63.870, 65.247, 66.619, 67.985,
    69.346, 70.703, 72.055, 73.402, 74.745, 76.084, 77.419, 78.750, 80.077, 81.400, 82.720, 84.037,
    85.351, 86.661, 87.968, 89.272, 90.573, 91.872, 93.168, 94.461, 95.751, 97.039, 98.324, 99.607,
];

// Seeded, so every run sees the same samples and the statistical tests are reproducible
// rather than flaky.
use fedlink_node::privacy::SplitMix64;

/// A source whose OS generator has failed.
struct Broken;

impl RandomBits for Broken {
    fn next_u64(&mut self) -> Result<u64, RandomError> {
        Err(RandomError)
    }
}

fn ratio(num: u64, den: u64) -> Ratio {
    Ratio::new(num, den).expect("test parameters are valid rationals")
}

/// The discrete Laplace pmf with scale b: (1 − q)/(1 + q) · q^|x|, q = e^(−1/b).
fn laplace_pmf(scale: f64) -> impl Fn(i64) -> f64 {
    let q = (-1.0 / scale).exp();
    move |x| (1.0 - q) / (1.0 + q) * q.powf(x.unsigned_abs() as f64)
}

/// The discrete Gaussian pmf: e^(−x²/2σ²) normalised over a window far wider than its mass.
fn gaussian_pmf(sigma_squared: f64) -> impl Fn(i64) -> f64 {
    let weight = move |x: i64| (-((x * x) as f64) / (2.0 * sigma_squared)).exp();
    let reach = 50 * (sigma_squared.sqrt() as i64 + 1);
    let total: f64 = (-reach..=reach).map(weight).sum();
    move |x| weight(x) / total
}

/// A goodness-of-fit result.
struct Fit {
    statistic: f64,
    df: usize,
    critical: f64,
}

/// Pearson's χ² of `samples` against a pmf symmetric about zero. Bins: a central window where
/// each integer's expected count is at least 20, cut into at most 45 runs of equal width (one
/// integer each for the small scales), plus the two pooled tails (expected count at least 5).
fn chi_square(samples: &[i64], pmf: &impl Fn(i64) -> f64) -> Fit {
    let n = samples.len() as f64;
    let mut reach: i64 = 0;
    while n * pmf(reach + 1) >= 20.0 {
        reach += 1;
    }
    let tail = |reach: i64| (1.0 - (-reach..=reach).map(pmf).sum::<f64>()) / 2.0;
    while reach > 0 && n * tail(reach) < 5.0 {
        reach -= 1;
    }
    let run = (2 * reach + 1 + 44) / 45;
    let central = ((2 * reach + 1 + run - 1) / run) as usize;
    // Bin 0 is the left tail, 1..=central the window, central + 1 the right tail.
    let bin_of = |x: i64| {
        if x < -reach {
            0
        } else if x > reach {
            central + 1
        } else {
            ((x + reach) / run) as usize + 1
        }
    };
    let mut observed = vec![0u64; central + 2];
    let mut expected = vec![n * tail(reach); central + 2];
    expected[1..=central].fill(0.0);
    for x in -reach..=reach {
        expected[bin_of(x)] += n * pmf(x);
    }
    for &x in samples {
        observed[bin_of(x)] += 1;
    }
    let statistic = observed.iter().zip(&expected).map(|(&o, &e)| (o as f64 - e).powi(2) / e).sum();
    let df = observed.len() - 1;
    Fit { statistic, df, critical: CHI2_CRITICAL_0_001[df - 1] }
}

/// Checks the sample mean and variance against the pmf's, each within 5 standard errors.
fn assert_moments(samples: &[i64], pmf: &impl Fn(i64) -> f64, what: &str) {
    let n = samples.len() as f64;
    // Far beyond the largest sample, the pmf's remaining mass (and moments) are negligible.
    let window = 50 * samples.iter().map(|x| x.abs()).max().unwrap_or(0) + 100;
    let moment = |k: i32| (-window..=window).map(|x| pmf(x) * (x as f64).powi(k)).sum::<f64>();
    let (variance, fourth) = (moment(2), moment(4));
    let mean = samples.iter().map(|&x| x as f64).sum::<f64>() / n;
    let sample_variance =
        samples.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let mean_se = (variance / n).sqrt();
    let variance_se = ((fourth - variance * variance) / n).sqrt();
    println!(
        "{what}: mean {mean:+.4} (5 s.e. {:.4}), variance {sample_variance:.4} vs {variance:.4} \
         (5 s.e. {:.4})",
        5.0 * mean_se,
        5.0 * variance_se
    );
    assert!(mean.abs() <= 5.0 * mean_se, "{what}: mean {mean}");
    assert!((sample_variance - variance).abs() <= 5.0 * variance_se, "{what}: variance");
}

/// Draws `SAMPLES` values with a fixed seed.
fn draw(seed: u64, sample: impl FnMut(&mut SplitMix64) -> Result<i64, NoiseError>) -> Vec<i64> {
    draw_n(SAMPLES, seed, sample)
}

fn draw_n(
    count: usize,
    seed: u64,
    mut sample: impl FnMut(&mut SplitMix64) -> Result<i64, NoiseError>,
) -> Vec<i64> {
    let mut rng = SplitMix64(seed);
    (0..count).map(|_| sample(&mut rng).expect("a working source yields samples")).collect()
}

fn assert_fits(samples: &[i64], pmf: &impl Fn(i64) -> f64, what: &str) {
    let fit = chi_square(samples, pmf);
    println!("{what}: χ² = {:.2} on {} df, critical {:.3}", fit.statistic, fit.df, fit.critical);
    assert!(fit.statistic < fit.critical, "{what}: χ² {} ≥ {}", fit.statistic, fit.critical);
    assert_moments(samples, pmf, what);
}

#[test]
fn discrete_laplace_matches_its_exact_pmf() {
    // (ε, Δ) → scale Δ/ε: 1, 2, 5/2, and 1/3 (which exercises ⌊X/s⌋ with s > 1).
    for (seed, epsilon, scale) in [
        (101, ratio(1, 1), 1.0),
        (102, ratio(1, 2), 2.0),
        (103, ratio(2, 5), 2.5),
        (104, ratio(3, 1), 1.0 / 3.0),
    ] {
        let laplace = DiscreteLaplace::new(epsilon, 1).unwrap();
        let samples = draw(seed, |rng| laplace.sample(rng));
        assert_fits(&samples, &laplace_pmf(scale), &format!("Laplace(scale {})", laplace.scale()));
    }
}

#[test]
fn discrete_gaussian_matches_its_exact_pmf() {
    // (ρ, Δ) → σ² = Δ²/2ρ: 1, 4, and 9/4 (non-integer σ², t = ⌊σ⌋ + 1 = 2).
    for (seed, rho, sigma_squared) in
        [(201, ratio(1, 2), 1.0), (202, ratio(1, 8), 4.0), (203, ratio(2, 9), 2.25)]
    {
        let gaussian = DiscreteGaussian::new(rho, 1).unwrap();
        let samples = draw(seed, |rng| gaussian.sample(rng));
        let what = format!("Gaussian(σ² {})", gaussian.sigma_squared());
        assert_fits(&samples, &gaussian_pmf(sigma_squared), &what);
    }
}

#[test]
fn the_fit_rejects_a_sampler_with_the_wrong_scale() {
    // Samples at scale 11/10 (ε = 10/11) tested as if they were scale 1; σ² 9/2 as if 4.
    let laplace = DiscreteLaplace::new(ratio(10, 11), 1).unwrap();
    let samples = draw(301, |rng| laplace.sample(rng));
    let fit = chi_square(&samples, &laplace_pmf(1.0));
    println!(
        "Laplace 11/10 vs 1: χ² = {:.2} on {} df, critical {:.3}",
        fit.statistic, fit.df, fit.critical
    );
    assert!(fit.statistic > fit.critical, "a 10% scale error went unnoticed");

    let gaussian = DiscreteGaussian::with_sigma_squared(ratio(9, 2)).unwrap();
    let samples = draw(302, |rng| gaussian.sample(rng));
    let fit = chi_square(&samples, &gaussian_pmf(4.0));
    println!(
        "Gaussian 9/2 vs 4: χ² = {:.2} on {} df, critical {:.3}",
        fit.statistic, fit.df, fit.critical
    );
    assert!(fit.statistic > fit.critical, "a 12.5% variance error went unnoticed");
}

/// |observed − expected| within `z` standard errors of a binomial proportion.
fn assert_frequency(hits: u32, n: u32, p: f64, what: &str) {
    let observed = f64::from(hits) / f64::from(n);
    let se = (p * (1.0 - p) / f64::from(n)).sqrt();
    assert!(
        (observed - p).abs() <= 5.0 * se + 1e-12,
        "{what}: observed {observed:.5}, expected {p:.5} (5 s.e. = {:.5})",
        5.0 * se
    );
}

#[test]
fn bernoulli_frequency_matches_the_ratio() {
    let mut rng = SplitMix64(11);
    for (num, den) in [(1, 3), (7, 10), (1, 1000), (999_999, 1_000_000)] {
        let n = 100_000;
        let hits = (0..n).filter(|_| bernoulli(ratio(num, den), &mut rng).unwrap()).count();
        let hits = u32::try_from(hits).unwrap();
        assert_frequency(hits, n, num as f64 / den as f64, &format!("Bernoulli({num}/{den})"));
    }
    assert!(bernoulli(ratio(0, 1), &mut rng).is_ok_and(|b| !b));
    assert!(bernoulli(ratio(1, 1), &mut rng).is_ok_and(|b| b));
    assert_eq!(bernoulli(ratio(3, 2), &mut rng), Err(NoiseError::NotAProbability(ratio(3, 2))));
}

#[test]
fn bernoulli_exp_frequency_matches_exp_minus_gamma() {
    let mut rng = SplitMix64(12);
    for (num, den) in [(0, 1), (1, 2), (1, 1), (3, 2), (7, 3), (4, 1)] {
        let n = 40_000;
        let hits = (0..n).filter(|_| bernoulli_exp(ratio(num, den), &mut rng).unwrap()).count();
        let hits = u32::try_from(hits).unwrap();
        let p = (-(num as f64) / den as f64).exp();
        assert_frequency(hits, n, p, &format!("Bernoulli(exp(-{num}/{den}))"));
    }
}

#[test]
fn epsilon_and_rho_become_scale_and_variance() {
    let half = "1/2".parse::<Ratio>().unwrap();
    assert_eq!(DiscreteLaplace::new(half, 1).unwrap().scale(), ratio(2, 1));
    assert_eq!(DiscreteLaplace::new(ratio(2, 5), 1).unwrap().scale(), ratio(5, 2));
    assert_eq!(DiscreteLaplace::new(ratio(3, 10), 3).unwrap().scale(), ratio(10, 1));
    assert_eq!(DiscreteGaussian::new(half, 1).unwrap().sigma_squared(), ratio(1, 1));
    assert_eq!(DiscreteGaussian::new(ratio(1, 8), 1).unwrap().sigma_squared(), ratio(4, 1));
    assert_eq!(DiscreteGaussian::new(ratio(1, 50), 2).unwrap().sigma_squared(), ratio(100, 1));
}

#[test]
fn zero_and_oversized_parameters_are_refused() {
    let zero = ratio(0, 1);
    assert_eq!(DiscreteLaplace::new(zero, 1), Err(NoiseError::NotPositive { what: "epsilon" }));
    assert_eq!(
        DiscreteLaplace::new(ratio(1, 1), 0),
        Err(NoiseError::NotPositive { what: "sensitivity" })
    );
    assert!(DiscreteLaplace::with_scale(zero).is_err());
    assert_eq!(DiscreteGaussian::new(zero, 1), Err(NoiseError::NotPositive { what: "rho" }));
    assert!(DiscreteGaussian::with_sigma_squared(zero).is_err());
    // Scale Δ/ε = 2·2^32/1: above 2^32.
    let tiny = ratio(1, Ratio::MAX_TERM);
    assert!(matches!(DiscreteLaplace::new(tiny, 2), Err(NoiseError::TooLarge { .. })));
    assert!(DiscreteLaplace::new(tiny, 1).is_ok());
    // σ² = 1/(2·2^-25) = 2^24 is the largest accepted; ρ = 2^-26 gives 2^25.
    assert!(DiscreteGaussian::new(ratio(1, 1 << 25), 1).is_ok());
    assert!(matches!(
        DiscreteGaussian::new(ratio(1, 1 << 26), 1),
        Err(NoiseError::TooLarge { .. })
    ));
    assert!(matches!(
        DiscreteGaussian::with_sigma_squared(ratio(1, (1 << 24) + 1)),
        Err(NoiseError::TooLarge { .. })
    ));
    // Δ² fits in u128 but σ² does not fit the limit; Δ²·(ρ's denominator) overflows u128.
    assert!(matches!(
        DiscreteGaussian::new(ratio(1, 1), u64::MAX),
        Err(NoiseError::TooLarge { .. })
    ));
    assert!(matches!(
        DiscreteGaussian::new(ratio(1, Ratio::MAX_TERM), u64::MAX),
        Err(NoiseError::Overflow { .. })
    ));
    // A count that does not fit in i64 is refused, not wrapped.
    let laplace = DiscreteLaplace::with_scale(ratio(1, 1)).unwrap();
    assert!(matches!(
        laplace.add_to(u64::MAX, &mut SplitMix64(1)),
        Err(NoiseError::Overflow { .. })
    ));
}

#[test]
fn extreme_parameters_sample_without_overflow() {
    let mut rng = SplitMix64(16);
    let max = Ratio::MAX_TERM;
    for scale in [ratio(max, 1), ratio(1, max), ratio(max - 1, max), ratio(max, 3)] {
        let laplace = DiscreteLaplace::with_scale(scale).unwrap();
        for _ in 0..200 {
            laplace.sample(&mut rng).unwrap();
        }
    }
    let g = GAUSSIAN_MAX_TERM;
    for s2 in [ratio(g, 1), ratio(1, g), ratio(g - 1, g), ratio(g, 3), ratio(g - 1, g - 3)] {
        let gaussian = DiscreteGaussian::with_sigma_squared(s2).unwrap();
        for _ in 0..200 {
            gaussian.sample(&mut rng).unwrap();
        }
    }
}

/// Wider parameters and more samples than the debug-build budget allows:
/// `cargo test --release -p fedlink-node --test noise -- --ignored`.
#[test]
#[ignore = "heavy: run in release with --ignored"]
fn wide_parameters_match_their_pmfs() {
    const HEAVY: usize = 400_000;
    for (seed, scale) in [(401, ratio(100, 3)), (402, ratio(1000, 1)), (403, ratio(7, 11))] {
        let laplace = DiscreteLaplace::with_scale(scale).unwrap();
        let samples = draw_n(HEAVY, seed, |rng| laplace.sample(rng));
        let pmf = laplace_pmf(scale.num() as f64 / scale.den() as f64);
        assert_fits(&samples, &pmf, &format!("Laplace(scale {scale})"));
    }
    for (seed, sigma_squared) in [(404, ratio(100, 1)), (405, ratio(2500, 7)), (406, ratio(1, 10))]
    {
        let gaussian = DiscreteGaussian::with_sigma_squared(sigma_squared).unwrap();
        let samples = draw_n(HEAVY, seed, |rng| gaussian.sample(rng));
        let pmf = gaussian_pmf(sigma_squared.num() as f64 / sigma_squared.den() as f64);
        assert_fits(&samples, &pmf, &format!("Gaussian(σ² {sigma_squared})"));
    }
}

#[test]
fn noisy_counts_add_the_noise_to_the_count() {
    let laplace = DiscreteLaplace::new(ratio(1, 2), 1).unwrap();
    let (mut a, mut b) = (SplitMix64(7), SplitMix64(7));
    for count in [0, 1, 8, 1_000_000] {
        assert_eq!(
            laplace.add_to(count, &mut a).unwrap(),
            count as i64 + laplace.sample(&mut b).unwrap()
        );
    }
}

#[test]
fn the_os_source_drives_the_samplers() {
    let mut rng = OsRandom::new();
    let laplace = DiscreteLaplace::new(ratio(1, 2), 1).unwrap();
    let gaussian = DiscreteGaussian::new(ratio(1, 8), 1).unwrap();
    let noise: Vec<i64> = (0..2_000).map(|_| laplace.sample(&mut rng).unwrap()).collect();
    // Scale 2: P(0) ≈ 0.24, so 2,000 draws are not all one value, and all are modest.
    assert!(noise.iter().any(|&x| x != noise[0]));
    assert!(noise.iter().all(|x| x.abs() < 100));
    let noisy: Vec<i64> = (0..200).map(|_| gaussian.add_to(50, &mut rng).unwrap()).collect();
    assert!(noisy.iter().all(|x| (0..100).contains(x)), "σ = 2 around 50");
}

#[test]
fn a_failed_os_generator_is_an_error() {
    let laplace = DiscreteLaplace::new(ratio(1, 1), 1).unwrap();
    assert_eq!(laplace.add_to(5, &mut Broken), Err(NoiseError::Random(RandomError)));
    let gaussian = DiscreteGaussian::new(ratio(1, 1), 1).unwrap();
    assert_eq!(gaussian.sample(&mut Broken), Err(NoiseError::Random(RandomError)));
}
