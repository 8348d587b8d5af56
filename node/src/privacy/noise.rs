//! Exact integer noise for counts: the discrete Laplace and discrete Gaussian samplers of
//! Canonne, Kamath & Steinke (CKS20, "The Discrete Gaussian for Differential Privacy",
//! arXiv:2004.00010, Algorithms 1–3), on rational parameters, with integer arithmetic only and
//! a fixed amount of randomness per rejection trial so that sampling time does not track the
//! noise.
//!
//! # Mechanisms
//!
//! - [`DiscreteLaplace`]: `P(x) ∝ exp(−|x|/b)` on the integers. For a count with L1 sensitivity
//!   Δ (the most rows one subject can contribute, after bounding) `b = Δ/ε` gives pure ε-DP.
//! - [`DiscreteGaussian`]: `P(x) ∝ exp(−x²/2σ²)`. `σ² = Δ²/(2ρ)` gives ρ-zCDP (Δ the L2
//!   sensitivity), which composes well over many queries.
//!
//! # Exactness
//!
//! No floating point is used. A Bernoulli(a/b) compares one random word with the first 64 bits
//! of a/b's binary expansion and looks further only on a tie (probability 2^-64), so it is exact.
//! Bernoulli(exp(−γ)) is CKS Algorithm 1: the irrational probability is produced by an
//! alternating series of Bernoulli(γ/k) draws, never computed. Laplace is CKS Algorithm 2 and
//! the Gaussian CKS Algorithm 3. So the output distribution is the exact pmf (conditioned on not
//! failing, below), not a floating-point approximation with the "porous" gaps Mironov (2012) and
//! Haney et al. (2022) exploit.
//!
//! # Timing: what is and is not constant
//!
//! The samplers never see the data (the count is added afterwards), so their timing can only
//! reveal the *noise*. But a CKS sampler is a rejection sampler whose inner loops run longer
//! for larger values: Algorithm 2's geometric loop runs about |noise|/b times, so a timer would
//! learn roughly |noise|, and with it the count up to sign (timing attacks on DP samplers: Jin et
//! al., IEEE S&P 2022, cited in audit-privacy-legal.md §2.2, marked there to verify). So:
//!
//! 1. **Fixed work per trial.** Every trial (one pass of Algorithm 2's loop, or one acceptance
//!    test of Algorithm 3) draws from an allowance of exactly [`TRIAL_WORDS`] random words, and
//!    the unused remainder is drawn and discarded. Accepted or rejected, noise 0 or noise 40, a
//!    trial draws the same number of words: the deciding loops stop early, and the padding loop
//!    makes up the difference word for word.
//! 2. **The number of trials is independent of the result.** Trials are independent and
//!    identically distributed, and an accepted trial's value has the same distribution whichever
//!    trial it was. So the number of trials, and hence total work (trials × allowance), is
//!    statistically independent of the noise returned. For the Gaussian this holds at both
//!    levels: each outer trial is one Laplace sample (its trial count independent of its value)
//!    plus one padded acceptance test.
//! 3. **Fail closed, with negligible probability.** A trial that needs more than the allowance
//!    (an unusually long run of draws), or a sample that needs more than [`MAX_TRIALS`] trials,
//!    is [`NoiseError::BudgetExhausted`], never a truncated and so biased value. With 120 words a
//!    trial fails with probability below 2^-70 (`tests::allowance_failure_is_negligible`
//!    recomputes it); reaching 160 trials has probability below 2^-87 (a Laplace trial is
//!    accepted with probability at least (1 − e⁻¹)/2 ≈ 0.316, a Gaussian one at least ≈ 0.44).
//!    A sample therefore fails with probability below 2^-64, independently of the data; the
//!    guarantee conditioned on success weakens by at most that (a δ of 2^-64).
//!
//! Not constant: cycle-level timing (the u128 division in the Gaussian's γ, `X / s`, the rare
//! Lemire rejection in the uniform draw, branch prediction, caches); the number of trials
//! (independent of the noise, as above) and with it the refills of
//! [`OsRandom`](super::random::OsRandom)'s buffer; and everything after sampling. Work is fixed
//! in random words per trial, not in cycles. The release path should still answer at a fixed
//! deadline or in batches (audit-privacy-legal.md §2.2, "Don't leak sampling time").
//!
//! Cost: a Laplace sample is 120 words per trial, about 1.5–3.2 trials; a Gaussian sample is
//! about 1.3–2.3 outer trials of (one Laplace sample + 120 words).
//!
//! # Limits
//!
//! A Laplace scale `t/s` may have terms up to 2^32 (any [`Ratio`]); σ² = n/d terms up to 2^24
//! ([`GAUSSIAN_MAX_TERM`]). Then every product below fits: Bernoulli denominators `t·k` with
//! `k ≤ 121` stay under 2^39; `X = U + t·V` under 2^39; for the Gaussian, with `t = ⌊σ⌋ + 1`,
//! `d·t² ≤ (√n + √d)² ≤ 2^26`, so γ's denominator `2·n·d·t²` is under 2^51 (times k, under 2^58)
//! and its numerator `(|Y|·d·t − n)²` under 2^64 (as `|Y| ≤ 61·t`). Arithmetic is checked all the
//! same; an overflow would be [`NoiseError::Overflow`], not a wrong sample.

use super::random::{FixedDraws, RandomBits, RandomError};
use super::rational::{Ratio, RatioError};

/// Random words each rejection trial consumes, whatever it does with them.
pub const TRIAL_WORDS: u32 = 120;

/// Trials a sample may take before failing closed.
pub const MAX_TRIALS: u32 = 160;

/// The largest numerator or denominator of a discrete Gaussian's σ² (2^24; σ up to 4096).
pub const GAUSSIAN_MAX_TERM: u64 = 1 << 24;

/// Words for a plain Bernoulli draw: one, plus slack for ties (each probability 2^-64).
const BERNOULLI_WORDS: u32 = 4;

/// Why no noise was drawn.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoiseError {
    /// A trial ran out of its fixed allowance of random words, or a sample out of trials.
    /// Probability below 2^-64 per sample with a working source; nothing was released.
    #[error(
        "the noise sampler used up its fixed allowance of random draws (probability below \
         2^-64 unless the random source is broken); nothing was released"
    )]
    BudgetExhausted,
    /// A probability greater than one was given to [`bernoulli`].
    #[error("{0} is not a probability")]
    NotAProbability(Ratio),
    /// A parameter that must be positive (ε, ρ, a scale, σ², a sensitivity) is zero.
    #[error("{what} must be positive")]
    NotPositive {
        /// Which parameter.
        what: &'static str,
    },
    /// An integer result left its type (e.g. a count above `i64::MAX`); should not happen
    /// within the documented limits.
    #[error("arithmetic overflow in {what}")]
    Overflow {
        /// Where.
        what: &'static str,
    },
    /// The random source failed.
    #[error(transparent)]
    Random(#[from] RandomError),
    /// A rational parameter is malformed or too large.
    #[error(transparent)]
    Ratio(#[from] RatioError),
    /// A derived parameter is too large to sample exactly with 128-bit arithmetic.
    #[error(
        "{what} = {num}/{den} is too large for exact sampling: reduced, its numerator and \
         denominator must be at most 2^{limit_bits}"
    )]
    TooLarge {
        /// Which parameter (e.g. "the Laplace scale Δ/ε").
        what: &'static str,
        /// Its numerator, unreduced.
        num: u128,
        /// Its denominator, unreduced.
        den: u128,
        /// The bound on each reduced term, as a power of two.
        limit_bits: u32,
    },
}

/// The discrete Laplace (two-sided geometric) mechanism: `P(x) ∝ exp(−|x|/scale)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiscreteLaplace {
    /// The scale `b = Δ/ε`; positive.
    scale: Ratio,
}

impl DiscreteLaplace {
    /// The mechanism giving ε-DP to a query of L1 `sensitivity`: scale `sensitivity/ε`.
    pub fn new(epsilon: Ratio, sensitivity: u64) -> Result<Self, NoiseError> {
        if epsilon.is_zero() {
            return Err(NoiseError::NotPositive { what: "epsilon" });
        }
        if sensitivity == 0 {
            return Err(NoiseError::NotPositive { what: "sensitivity" });
        }
        let num = u128::from(sensitivity) * u128::from(epsilon.den());
        let den = u128::from(epsilon.num());
        let scale = Ratio::from_u128(num, den).map_err(|_| NoiseError::TooLarge {
            what: "the Laplace scale Δ/ε",
            num,
            den,
            limit_bits: 32,
        })?;
        Self::with_scale(scale)
    }

    /// The mechanism with the given scale.
    pub fn with_scale(scale: Ratio) -> Result<Self, NoiseError> {
        if scale.is_zero() {
            return Err(NoiseError::NotPositive { what: "the Laplace scale" });
        }
        Ok(DiscreteLaplace { scale })
    }

    /// The scale `b`.
    pub fn scale(&self) -> Ratio {
        self.scale
    }

    /// One noise value.
    pub fn sample<R: RandomBits + ?Sized>(&self, rng: &mut R) -> Result<i64, NoiseError> {
        laplace(self.scale.num(), self.scale.den(), rng)
    }

    /// `count` plus one noise value. May be negative: clamping, suppression and rounding are
    /// post-processing for the caller.
    pub fn add_to<R: RandomBits + ?Sized>(
        &self,
        count: u64,
        rng: &mut R,
    ) -> Result<i64, NoiseError> {
        add(count, self.sample(rng)?)
    }
}

/// The discrete Gaussian mechanism: `P(x) ∝ exp(−x²/2σ²)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiscreteGaussian {
    /// The variance parameter σ²; positive, terms at most [`GAUSSIAN_MAX_TERM`].
    sigma_squared: Ratio,
}

impl DiscreteGaussian {
    /// The mechanism giving ρ-zCDP to a query of L2 `sensitivity`: `σ² = sensitivity²/(2ρ)`.
    pub fn new(rho: Ratio, sensitivity: u64) -> Result<Self, NoiseError> {
        if rho.is_zero() {
            return Err(NoiseError::NotPositive { what: "rho" });
        }
        if sensitivity == 0 {
            return Err(NoiseError::NotPositive { what: "sensitivity" });
        }
        let what = "the Gaussian σ² = Δ²/(2ρ)";
        let overflow = NoiseError::Overflow { what };
        let num = u128::from(sensitivity)
            .checked_mul(u128::from(sensitivity))
            .and_then(|d2| d2.checked_mul(u128::from(rho.den())))
            .ok_or(overflow)?;
        let den = 2 * u128::from(rho.num());
        let too_large = NoiseError::TooLarge { what, num, den, limit_bits: 24 };
        let sigma_squared = Ratio::from_u128(num, den).map_err(|_| too_large.clone())?;
        Self::with_sigma_squared(sigma_squared).map_err(|_| too_large)
    }

    /// The mechanism with the given σ².
    pub fn with_sigma_squared(sigma_squared: Ratio) -> Result<Self, NoiseError> {
        if sigma_squared.is_zero() {
            return Err(NoiseError::NotPositive { what: "σ²" });
        }
        if sigma_squared.num() > GAUSSIAN_MAX_TERM || sigma_squared.den() > GAUSSIAN_MAX_TERM {
            return Err(NoiseError::TooLarge {
                what: "σ²",
                num: sigma_squared.num().into(),
                den: sigma_squared.den().into(),
                limit_bits: 24,
            });
        }
        Ok(DiscreteGaussian { sigma_squared })
    }

    /// σ².
    pub fn sigma_squared(&self) -> Ratio {
        self.sigma_squared
    }

    /// One noise value.
    pub fn sample<R: RandomBits + ?Sized>(&self, rng: &mut R) -> Result<i64, NoiseError> {
        gaussian(self.sigma_squared.num(), self.sigma_squared.den(), rng)
    }

    /// `count` plus one noise value; see [`DiscreteLaplace::add_to`].
    pub fn add_to<R: RandomBits + ?Sized>(
        &self,
        count: u64,
        rng: &mut R,
    ) -> Result<i64, NoiseError> {
        add(count, self.sample(rng)?)
    }
}

/// Bernoulli(p), exactly, from a fixed allowance of a few words.
pub fn bernoulli<R: RandomBits + ?Sized>(p: Ratio, rng: &mut R) -> Result<bool, NoiseError> {
    if p.num() > p.den() {
        return Err(NoiseError::NotAProbability(p));
    }
    let mut draws = FixedDraws::new(rng, BERNOULLI_WORDS);
    let outcome = bernoulli_fraction(&mut draws, p.num(), p.den())?;
    draws.finish()?;
    Ok(outcome)
}

/// Bernoulli(exp(−γ)), exactly (CKS Algorithm 1), from a fixed allowance of [`TRIAL_WORDS`].
pub fn bernoulli_exp<R: RandomBits + ?Sized>(
    gamma: Ratio,
    rng: &mut R,
) -> Result<bool, NoiseError> {
    let (num, den) = (gamma.num(), gamma.den());
    let mut draws = FixedDraws::new(rng, TRIAL_WORDS);
    let outcome = bernoulli_exp_mixed(&mut draws, u128::from(num / den), num % den, den)?;
    draws.finish()?;
    Ok(outcome)
}

/// `count + noise`, checked.
fn add(count: u64, noise: i64) -> Result<i64, NoiseError> {
    let overflow = NoiseError::Overflow { what: "count + noise" };
    i64::try_from(count).ok().and_then(|c| c.checked_add(noise)).ok_or(overflow)
}

/// A discrete Laplace sample with scale `t/s` (CKS Algorithm 2), trial by padded trial.
fn laplace<R: RandomBits + ?Sized>(t: u64, s: u64, rng: &mut R) -> Result<i64, NoiseError> {
    for _ in 0..MAX_TRIALS {
        let mut draws = FixedDraws::new(rng, TRIAL_WORDS);
        let outcome = laplace_trial(&mut draws, t, s)?;
        draws.finish()?;
        if let Some(noise) = outcome {
            return Ok(noise);
        }
    }
    Err(NoiseError::BudgetExhausted)
}

/// One pass of CKS Algorithm 2's loop: the noise if accepted, `None` if rejected.
///
/// `X = U + t·V` is geometric with `P(X ≥ x) = exp(−x/t)`: `U` uniform on `[0, t)` kept with
/// probability `exp(−U/t)`, `V` counting Bernoulli(exp(−1)) successes. Then `⌊X/s⌋` is geometric
/// with ratio `exp(−s/t)`, a random sign makes it two-sided, and "−0" is rejected so that zero
/// is not counted twice.
fn laplace_trial<R: RandomBits + ?Sized>(
    draws: &mut FixedDraws<'_, R>,
    t: u64,
    s: u64,
) -> Result<Option<i64>, NoiseError> {
    let u = draws.uniform_below(t)?;
    if !bernoulli_exp_fraction(draws, u, t)? {
        return Ok(None);
    }
    let mut v: u64 = 0;
    while bernoulli_exp_fraction(draws, 1, 1)? {
        // At most TRIAL_WORDS iterations: each success draws at least two words.
        v += 1;
    }
    let overflow = NoiseError::Overflow { what: "the Laplace sampler" };
    let x = t.checked_mul(v).and_then(|tv| tv.checked_add(u)).ok_or(overflow.clone())?;
    let magnitude = i64::try_from(x / s).map_err(|_| overflow)?;
    let negative = bernoulli_fraction(draws, 1, 2)?;
    if negative && magnitude == 0 {
        return Ok(None);
    }
    Ok(Some(if negative { -magnitude } else { magnitude }))
}

/// A discrete Gaussian sample with σ² = `n/d` (CKS Algorithm 3): a discrete Laplace proposal
/// with integer scale `t = ⌊σ⌋ + 1`, accepted with probability `exp(−(|Y| − σ²/t)²/(2σ²))`.
fn gaussian<R: RandomBits + ?Sized>(n: u64, d: u64, rng: &mut R) -> Result<i64, NoiseError> {
    let overflow = NoiseError::Overflow { what: "the Gaussian sampler" };
    // ⌊√(n/d)⌋ = ⌊√⌊n/d⌋⌋.
    let t = (n / d).isqrt() + 1;
    let (n128, d128, t128) = (u128::from(n), u128::from(d), u128::from(t));
    // γ = (|Y| − n/(d·t))² / (2n/d) = (|Y|·d·t − n)² / (2·n·d·t²).
    let gamma_den = (2 * n128 * d128).checked_mul(t128 * t128).ok_or(overflow.clone())?;
    let gamma_den_u64 = u64::try_from(gamma_den).map_err(|_| overflow.clone())?;
    for _ in 0..MAX_TRIALS {
        let y = laplace(t, 1, rng)?;
        let shifted = u128::from(y.unsigned_abs())
            .checked_mul(d128 * t128)
            .map(|ydt| ydt.abs_diff(n128))
            .ok_or(overflow.clone())?;
        let gamma_num = shifted.checked_mul(shifted).ok_or(overflow.clone())?;
        // The remainder is below gamma_den, which fits in u64.
        let rest = u64::try_from(gamma_num % gamma_den).map_err(|_| overflow.clone())?;
        let mut draws = FixedDraws::new(rng, TRIAL_WORDS);
        let accept = bernoulli_exp_mixed(&mut draws, gamma_num / gamma_den, rest, gamma_den_u64)?;
        draws.finish()?;
        if accept {
            return Ok(y);
        }
    }
    Err(NoiseError::BudgetExhausted)
}

/// Bernoulli(exp(−γ)) for `γ = whole + num/den`, `num < den` (CKS Algorithm 1): `whole`
/// Bernoulli(exp(−1)) draws that must all succeed, then one for the fractional part.
fn bernoulli_exp_mixed<R: RandomBits + ?Sized>(
    draws: &mut FixedDraws<'_, R>,
    whole: u128,
    num: u64,
    den: u64,
) -> Result<bool, NoiseError> {
    let mut done: u128 = 0;
    while done < whole {
        // Each pass draws at least one word, so the allowance bounds this loop.
        if !bernoulli_exp_fraction(draws, 1, 1)? {
            return Ok(false);
        }
        done += 1;
    }
    bernoulli_exp_fraction(draws, num, den)
}

/// Bernoulli(exp(−num/den)) for `0 ≤ num/den ≤ 1` (CKS Algorithm 1, first part): draw
/// Bernoulli(γ/k) for k = 1, 2, … until one fails; the result is whether that k is odd, which
/// has probability `Σ (−γ)^j/j! = exp(−γ)`.
fn bernoulli_exp_fraction<R: RandomBits + ?Sized>(
    draws: &mut FixedDraws<'_, R>,
    num: u64,
    den: u64,
) -> Result<bool, NoiseError> {
    let mut k: u64 = 1;
    loop {
        let den_k = den.checked_mul(k).ok_or(NoiseError::Overflow { what: "Bernoulli(γ/k)" })?;
        if !bernoulli_fraction(draws, num, den_k)? {
            return Ok(k % 2 == 1);
        }
        k += 1;
    }
}

/// Bernoulli(num/den), exactly: a uniform U in [0, 1) is below num/den iff its base-2^64 digits,
/// drawn one word at a time, first differ from num/den's expansion downwards. Almost always one
/// word; a tie (probability 2^-64) looks at the next digit.
fn bernoulli_fraction<R: RandomBits + ?Sized>(
    draws: &mut FixedDraws<'_, R>,
    num: u64,
    den: u64,
) -> Result<bool, NoiseError> {
    if num == 0 {
        return Ok(false);
    }
    if num >= den {
        return Ok(true);
    }
    let den = u128::from(den);
    let mut rest = u128::from(num);
    loop {
        // rest < den ≤ 2^64, so the shift fits and the digit is below 2^64.
        let scaled = rest << 64;
        let digit = (scaled / den) as u64;
        let word = draws.next_u64()?;
        if word != digit {
            return Ok(word < digit);
        }
        rest = scaled % den;
        if rest == 0 {
            // The expansion ended: the remaining digits of U are ≥ 0 = the rest of num/den.
            return Ok(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::random::testing::{Counting, FailsAfter, SplitMix64, Stuck};
    use super::*;

    fn ratio(num: u64, den: u64) -> Ratio {
        Ratio::new(num, den).unwrap()
    }

    #[test]
    fn a_tie_with_the_expansion_looks_at_the_next_word() {
        // 1/3 = 0.5555…₁₆: a word equal to the first digit must not decide; the next does.
        let digit = 0x5555_5555_5555_5555;
        let mut below = [digit, 0].into_iter().map(Ok);
        let mut tied = TestWords(&mut below);
        let mut draws = FixedDraws::new(&mut tied, 2);
        assert!(bernoulli_fraction(&mut draws, 1, 3).unwrap());
        let mut above = [digit, u64::MAX].into_iter().map(Ok);
        let mut tied = TestWords(&mut above);
        let mut draws = FixedDraws::new(&mut tied, 2);
        assert!(!bernoulli_fraction(&mut draws, 1, 3).unwrap());
        // 1/2 = 0.8₁₆ exactly: a tie means U ≥ 1/2.
        let mut half = [1u64 << 63].into_iter().map(Ok);
        let mut tied = TestWords(&mut half);
        let mut draws = FixedDraws::new(&mut tied, 1);
        assert!(!bernoulli_fraction(&mut draws, 1, 2).unwrap());
    }

    /// Words from a list, for hand-built draws.
    struct TestWords<'a, I: Iterator<Item = Result<u64, RandomError>>>(&'a mut I);

    impl<I: Iterator<Item = Result<u64, RandomError>>> RandomBits for TestWords<'_, I> {
        fn next_u64(&mut self) -> Result<u64, RandomError> {
            self.0.next().unwrap_or(Err(RandomError))
        }
    }

    #[test]
    fn every_trial_draws_exactly_the_allowance() {
        // Whatever values come out, the words drawn are a whole number of trials.
        let laplace = DiscreteLaplace::with_scale(ratio(5, 2)).unwrap();
        let gaussian = DiscreteGaussian::with_sigma_squared(ratio(4, 1)).unwrap();
        let mut rng = Counting { inner: SplitMix64(13), words: 0 };
        for _ in 0..500 {
            let before = rng.words;
            laplace.sample(&mut rng).unwrap();
            gaussian.sample(&mut rng).unwrap();
            assert_eq!((rng.words - before) % u64::from(TRIAL_WORDS), 0);
        }
        let before = rng.words;
        bernoulli_exp(ratio(9, 1), &mut rng).unwrap();
        assert_eq!(rng.words - before, u64::from(TRIAL_WORDS));
        let before = rng.words;
        bernoulli(ratio(1, 3), &mut rng).unwrap();
        assert_eq!(rng.words - before, u64::from(BERNOULLI_WORDS));
    }

    #[test]
    fn trial_count_does_not_track_the_noise() {
        // Mean trials for small and for large |noise| agree (they would differ by several
        // trials' worth of words if the geometric loop were not padded).
        let laplace = DiscreteLaplace::with_scale(ratio(4, 1)).unwrap();
        let mut rng = Counting { inner: SplitMix64(14), words: 0 };
        let (mut small, mut large) = ((0u64, 0u64), (0u64, 0u64));
        for _ in 0..20_000 {
            let before = rng.words;
            let noise = laplace.sample(&mut rng).unwrap();
            let trials = (rng.words - before) / u64::from(TRIAL_WORDS);
            let bucket = if noise.unsigned_abs() <= 2 { &mut small } else { &mut large };
            bucket.0 += trials;
            bucket.1 += 1;
        }
        let mean = |(t, n): (u64, u64)| t as f64 / n as f64;
        let (s, l) = (mean(small), mean(large));
        println!("mean trials: {s:.3} for |noise| ≤ 2, {l:.3} for |noise| > 2");
        // Expected trials ≈ 1.6 here; the s.e. of each mean is below 0.01.
        assert!((s - l).abs() < 0.05, "mean trials {s:.3} (|noise| ≤ 2) vs {l:.3} (> 2)");
    }

    /// The words a Laplace trial needs are stochastically below `2 + K + W`, where `K` is the
    /// Bernoulli(exp(−U/t)) draw count bounded by its γ → 1 case (`P(K > k) = 1/k!`) and `W`
    /// the words of the geometric loop of Bernoulli(exp(−1)) calls (each: `K − 1` words, since
    /// Bernoulli(1/1) needs none, succeeding iff `K` is odd). The Gaussian's acceptance test is
    /// below `W + K`. This recomputes the tail at the allowance from those pmfs.
    #[test]
    fn allowance_failure_is_negligible() {
        const LEN: usize = 256;
        let factorial = |k: usize| (1..=k).map(|i| i as f64).product::<f64>();
        // P(K = k) = 1/(k−1)! − 1/k! for k ≥ 1.
        let p_k = |k: usize| 1.0 / factorial(k - 1) - 1.0 / factorial(k);
        let (mut success, mut failure, mut k_words) = ([0.0; LEN], [0.0; LEN], [0.0; LEN]);
        for k in 1..60 {
            k_words[k] = p_k(k);
            if k >= 2 {
                let slot = if k % 2 == 1 { &mut success } else { &mut failure };
                slot[k - 1] = p_k(k);
            }
        }
        let convolve = |a: &[f64; LEN], b: &[f64; LEN]| {
            let mut c = [0.0; LEN];
            for (i, x) in a.iter().enumerate().filter(|(_, x)| **x > 0.0) {
                for (j, y) in b.iter().enumerate().take(LEN - i) {
                    c[i + j] += x * y;
                }
            }
            c
        };
        // W = words of (successes…, one failure).
        let (mut geometric, mut run) = ([0.0; LEN], failure);
        for _ in 0..100 {
            for (g, r) in geometric.iter_mut().zip(run.iter()) {
                *g += r;
            }
            run = convolve(&run, &success);
        }
        let acceptance = convolve(&geometric, &k_words);
        let tail = |pmf: &[f64; LEN], budget: usize| pmf[budget + 1..].iter().sum::<f64>();
        let budget = TRIAL_WORDS as usize;
        let laplace_tail = tail(&acceptance, budget - 2);
        let gaussian_tail = tail(&acceptance, budget);
        assert!(laplace_tail < 2f64.powi(-70), "Laplace trial: {laplace_tail:e}");
        assert!(gaussian_tail < 2f64.powi(-70), "Gaussian acceptance: {gaussian_tail:e}");
        // Running out of trials: a Laplace trial is accepted with probability at least
        // (1 − e⁻¹)/2 ≈ 0.316, a Gaussian one at least 0.44.
        let cap = (1.0f64 - 0.316).powi(MAX_TRIALS as i32);
        assert!(cap < 2f64.powi(-87), "{cap:e}");
        // Per sample: at most 1/0.316 ≈ 3.2 Laplace trials; a Gaussian sample is at most
        // 1/0.44 ≈ 2.3 outer trials of (≤ 2.3 Laplace trials with integer scale, + 1 test).
        let per_sample = 2.3 * (2.3 + 1.0) * laplace_tail + 2.0 * cap;
        assert!(per_sample < 2f64.powi(-64), "{per_sample:e}");
        println!(
            "P(fail) per Laplace trial {laplace_tail:e}, per acceptance test {gaussian_tail:e}, \
             trial cap {cap:e}, per sample below {per_sample:e}"
        );
    }

    #[test]
    fn a_failing_source_propagates_its_error() {
        let laplace = DiscreteLaplace::with_scale(ratio(1, 1)).unwrap();
        let gaussian = DiscreteGaussian::with_sigma_squared(ratio(1, 1)).unwrap();
        for remaining in [0, 1, 50, 111] {
            let mut rng = FailsAfter { inner: SplitMix64(15), remaining };
            assert_eq!(laplace.sample(&mut rng), Err(NoiseError::Random(RandomError)));
            let mut rng = FailsAfter { inner: SplitMix64(15), remaining };
            assert_eq!(gaussian.add_to(10, &mut rng), Err(NoiseError::Random(RandomError)));
        }
        let mut rng = FailsAfter { inner: SplitMix64(15), remaining: 0 };
        assert_eq!(bernoulli(ratio(1, 2), &mut rng), Err(NoiseError::Random(RandomError)));
    }

    #[test]
    fn a_stuck_source_fails_closed() {
        // All-zero words make every Bernoulli succeed, so no loop ever ends: the allowance
        // runs out and the sampler refuses rather than returning a truncated value.
        let laplace = DiscreteLaplace::with_scale(ratio(3, 1)).unwrap();
        assert_eq!(laplace.sample(&mut Stuck(0)), Err(NoiseError::BudgetExhausted));
        let gaussian = DiscreteGaussian::with_sigma_squared(ratio(2, 1)).unwrap();
        assert_eq!(gaussian.sample(&mut Stuck(0)), Err(NoiseError::BudgetExhausted));
        assert_eq!(bernoulli_exp(ratio(1, 2), &mut Stuck(0)), Err(NoiseError::BudgetExhausted));
    }
}
