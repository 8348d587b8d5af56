//! Uniform permutations from the OS CSPRNG, for slot order within a key type (design-review
//! F5 fix item 4). The randomness comes through [`RandomBits`] — `OsRandom` (ring's
//! `SystemRandom`) in production, a seeded generator in tests.

use crate::privacy::{RandomBits, RandomError};

/// Shuffles `items` uniformly (Fisher–Yates with exact uniform indices).
pub(crate) fn shuffle<T>(items: &mut [T], rng: &mut dyn RandomBits) -> Result<(), RandomError> {
    for last in (1..items.len()).rev() {
        let pick = uniform_at_most(last as u64, rng)?;
        // `pick <= last < items.len()`, so the cast back to usize is lossless.
        items.swap(last, pick as usize);
    }
    Ok(())
}

/// A uniform integer in `[0, max]`, exactly: Lemire's multiply-and-shift, rejecting the zone
/// that would make some values more likely ("Fast random integer generation in an interval",
/// 2019), as `privacy::random` does for noise.
fn uniform_at_most(max: u64, rng: &mut dyn RandomBits) -> Result<u64, RandomError> {
    let Some(n) = max.checked_add(1) else {
        return rng.next_u64();
    };
    // 2^64 mod n: the size of the biased zone.
    let zone = n.wrapping_neg() % n;
    loop {
        let product = u128::from(rng.next_u64()?) * u128::from(n);
        if (product as u64) >= zone {
            return Ok((product >> 64) as u64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::privacy::SplitMix64 as Seeded;

    #[test]
    fn every_position_is_equally_likely() {
        // Where item 0 of 4 ends up, over 40,000 shuffles: each count near 10,000.
        let mut rng = Seeded(1);
        let mut counts = [0u32; 4];
        for _ in 0..40_000 {
            let mut items = [0, 1, 2, 3];
            shuffle(&mut items, &mut rng).unwrap();
            let at = items.iter().position(|&x| x == 0).unwrap();
            counts[at] += 1;
        }
        // Chi-square with 3 degrees of freedom; 16.27 is the 0.1 % critical value.
        let chi2: f64 = counts.iter().map(|&c| (f64::from(c) - 10_000.0).powi(2) / 10_000.0).sum();
        assert!(chi2 < 16.27, "{counts:?}");
    }

    #[test]
    fn a_failing_generator_is_an_error() {
        struct Broken;
        impl RandomBits for Broken {
            fn next_u64(&mut self) -> Result<u64, RandomError> {
                Err(RandomError)
            }
        }
        assert_eq!(shuffle(&mut [1, 2], &mut Broken), Err(RandomError));
        assert_eq!(shuffle(&mut [1], &mut Broken), Ok(()));
    }
}
