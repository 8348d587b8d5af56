//! Where the noise's randomness comes from: the [`RandomBits`] trait, the production source
//! [`OsRandom`] (the OS CSPRNG through `ring`), and `FixedDraws`, the fixed allowance of random
//! words that each sampler trial consumes in full whatever its outcome (see [`super::noise`]).

use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroize as _;

use super::noise::NoiseError;

/// A source of uniformly random 64-bit words. Fallible, so that a failing OS generator surfaces
/// as an error and never as a panic or a silent fallback to something weaker.
///
/// Production code uses [`OsRandom`]; tests use seeded generators of their own.
pub trait RandomBits {
    /// The next 64 uniformly random bits.
    fn next_u64(&mut self) -> Result<u64, RandomError>;
}

/// The operating system's random number generator failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the operating system's random number generator failed; no noise was drawn")]
pub struct RandomError;

/// Bytes fetched from the OS per refill: 512 words, a few samples' worth, so the system call is
/// amortised. Refills happen after a fixed number of words, so their timing depends only on how
/// many words were drawn, which the samplers keep independent of the noise.
const BUFFER_BYTES: usize = 4096;

/// The OS CSPRNG (`getrandom` on Linux) via `ring::rand::SystemRandom`, buffered.
///
/// No `Debug`: the buffer holds randomness that will become noise. Each word's bytes are zeroed
/// as it is handed out, and the rest on drop, so a later memory dump does not reveal the noise
/// (and with it the true count) of releases already made. `zeroize` keeps the wiping from being
/// optimised away.
pub struct OsRandom {
    /// The generator; stateless in `ring`, each fill is a fresh system call.
    rng: SystemRandom,
    /// Fetched bytes; those before `next` are already used (and zeroed).
    buffer: Box<[u8; BUFFER_BYTES]>,
    /// Offset of the first unused byte; `BUFFER_BYTES` when empty.
    next: usize,
}

impl OsRandom {
    /// A source with an empty buffer; the first draw fetches from the OS.
    pub fn new() -> Self {
        OsRandom {
            rng: SystemRandom::new(),
            buffer: Box::new([0; BUFFER_BYTES]),
            next: BUFFER_BYTES,
        }
    }
}

impl Default for OsRandom {
    fn default() -> Self {
        Self::new()
    }
}

impl RandomBits for OsRandom {
    fn next_u64(&mut self) -> Result<u64, RandomError> {
        if self.next + 8 > BUFFER_BYTES {
            // On failure `next` stays at the end, so nothing partially filled is ever used.
            self.rng.fill(&mut self.buffer[..]).map_err(|_| RandomError)?;
            self.next = 0;
        }
        let chunk = &mut self.buffer[self.next..self.next + 8];
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        chunk.zeroize();
        self.next += 8;
        Ok(u64::from_le_bytes(word))
    }
}

impl Drop for OsRandom {
    fn drop(&mut self) {
        self.buffer.zeroize();
    }
}

/// A fixed allowance of random words for one sampler trial.
///
/// The trial draws through it; [`finish`](Self::finish) then draws and discards whatever is
/// left, so every trial consumes exactly the allowance, accepted or rejected, whatever value it
/// produced. Running out mid-trial is [`NoiseError::BudgetExhausted`]: the caller fails closed
/// instead of returning a truncated (biased) sample.
pub(crate) struct FixedDraws<'a, R: RandomBits + ?Sized> {
    /// The underlying source.
    rng: &'a mut R,
    /// Words not yet drawn.
    left: u32,
}

impl<'a, R: RandomBits + ?Sized> FixedDraws<'a, R> {
    /// An allowance of `words` draws from `rng`.
    pub(crate) fn new(rng: &'a mut R, words: u32) -> Self {
        FixedDraws { rng, left: words }
    }

    /// One word from the allowance.
    pub(crate) fn next_u64(&mut self) -> Result<u64, NoiseError> {
        self.left = self.left.checked_sub(1).ok_or(NoiseError::BudgetExhausted)?;
        Ok(self.rng.next_u64()?)
    }

    /// A uniform integer in `[0, n)`, exactly: Lemire's multiply-and-shift with rejection of the
    /// biased zone ("Fast random integer generation in an interval", 2019). A rejection costs
    /// another word and happens with probability below n/2^64 (below 2^-32 for the moduli the
    /// samplers use, which are at most 2^32).
    pub(crate) fn uniform_below(&mut self, n: u64) -> Result<u64, NoiseError> {
        if n <= 1 {
            // [0, 1) has one value; no randomness needed (n = 0 is never passed).
            return Ok(0);
        }
        let mut product = u128::from(self.next_u64()?) * u128::from(n);
        if (product as u64) < n {
            // 2^64 mod n: the size of the zone that would make some values more likely.
            let zone = n.wrapping_neg() % n;
            while (product as u64) < zone {
                product = u128::from(self.next_u64()?) * u128::from(n);
            }
        }
        Ok((product >> 64) as u64)
    }

    /// Draws and discards the rest of the allowance.
    pub(crate) fn finish(mut self) -> Result<(), NoiseError> {
        while self.left > 0 {
            std::hint::black_box(self.next_u64()?);
        }
        Ok(())
    }
}

/// SplitMix64 (Steele, Lea & Flood 2014): a small, well-mixed, *seeded* generator, so tests
/// and the accuracy evaluation are reproducible. Never for noise, scalars or anything a node
/// sends: those take [`OsRandom`].
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl RandomBits for SplitMix64 {
    fn next_u64(&mut self) -> Result<u64, RandomError> {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Ok(z ^ (z >> 31))
    }
}

/// Deterministic sources for tests: failing, stuck and counting (and the seeded one).
#[cfg(test)]
pub(crate) mod testing {
    pub(crate) use super::SplitMix64;
    use super::{RandomBits, RandomError};

    /// Gives `remaining` good words, then fails like a broken OS generator.
    pub(crate) struct FailsAfter {
        pub(crate) inner: SplitMix64,
        pub(crate) remaining: u64,
    }

    impl RandomBits for FailsAfter {
        fn next_u64(&mut self) -> Result<u64, RandomError> {
            self.remaining = self.remaining.checked_sub(1).ok_or(RandomError)?;
            self.inner.next_u64()
        }
    }

    /// Returns the same word forever.
    pub(crate) struct Stuck(pub(crate) u64);

    impl RandomBits for Stuck {
        fn next_u64(&mut self) -> Result<u64, RandomError> {
            Ok(self.0)
        }
    }

    /// Counts the words drawn from an inner source.
    pub(crate) struct Counting<R> {
        pub(crate) inner: R,
        pub(crate) words: u64,
    }

    impl<R: RandomBits> RandomBits for Counting<R> {
        fn next_u64(&mut self) -> Result<u64, RandomError> {
            self.words += 1;
            self.inner.next_u64()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{FailsAfter, SplitMix64, Stuck};
    use super::*;

    #[test]
    fn os_source_produces_distinct_words() {
        let mut rng = OsRandom::new();
        // More than one buffer's worth, so a refill happens too.
        let words: Vec<u64> = (0..1200).map(|_| rng.next_u64().unwrap()).collect();
        let mut distinct = words.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), words.len(), "1200 CSPRNG words should not repeat");
        let ones: u32 = words.iter().map(|w| w.count_ones()).sum();
        // 76,800 fair bits: mean 38,400, s.d. ~139; 10 s.d. is a smoke test, not a statistic.
        assert!((37_000..39_800).contains(&ones), "{ones} one-bits");
    }

    #[test]
    fn uniform_below_is_exact_on_a_tiny_modulus() {
        // With n = 3 every value appears; counts near 1/3 each.
        let mut rng = SplitMix64(7);
        let mut counts = [0u32; 3];
        for _ in 0..30_000 {
            let mut draws = FixedDraws::new(&mut rng, 4);
            counts[draws.uniform_below(3).unwrap() as usize] += 1;
        }
        assert!(counts.iter().all(|&c| (9_500..10_500).contains(&c)), "{counts:?}");
    }

    #[test]
    fn uniform_below_rejects_the_biased_zone() {
        // Word 0 gives product 0 < zone for n = 3 (zone = 2^64 mod 3 = 1): it must be rejected
        // and the next word used; a stuck source therefore runs the allowance out.
        let mut stuck = Stuck(0);
        let mut draws = FixedDraws::new(&mut stuck, 5);
        assert!(matches!(draws.uniform_below(3), Err(NoiseError::BudgetExhausted)));
    }

    #[test]
    fn finish_consumes_the_whole_allowance() {
        let mut rng = FailsAfter { inner: SplitMix64(1), remaining: 10 };
        let mut draws = FixedDraws::new(&mut rng, 10);
        draws.uniform_below(1000).unwrap();
        draws.finish().unwrap();
        assert_eq!(rng.remaining, 0);
    }

    #[test]
    fn a_failing_source_is_an_error_not_a_panic() {
        let mut rng = FailsAfter { inner: SplitMix64(1), remaining: 0 };
        assert_eq!(rng.next_u64(), Err(RandomError));
        let mut draws = FixedDraws::new(&mut rng, 3);
        assert!(matches!(draws.uniform_below(10), Err(NoiseError::Random(RandomError))));
    }
}
