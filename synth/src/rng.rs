//! Random streams and samplers. Every part of the world draws from its own ChaCha8 stream, keyed
//! by the master seed, a label and an index, so that output is the same for a seed however the
//! work is ordered or split across threads, and a change to one part does not shift another.

use rand::{RngExt as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;

/// The generator's random number generator.
pub type Rng = ChaCha8Rng;

/// A stream for `label` (and `index` within it) under the master seed.
pub fn stream(seed: u64, label: &str, index: u64) -> Rng {
    Rng::seed_from_u64(key(seed, label, index))
}

/// A 64-bit key mixing the seed, a label and an index (FNV-1a over the label, then SplitMix64).
pub fn key(seed: u64, label: &str, index: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in label.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    mix(mix(seed ^ h) ^ index)
}

/// SplitMix64's finaliser: a good 64-bit mixer.
pub fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// True with probability `p` (clamped to 0–1).
pub fn chance(rng: &mut Rng, p: f64) -> bool {
    if p <= 0.0 {
        false
    } else if p >= 1.0 {
        true
    } else {
        rng.random::<f64>() < p
    }
}

/// A uniform float in `[0, 1)`.
pub fn unit(rng: &mut Rng) -> f64 {
    rng.random::<f64>()
}

/// A uniform integer in `lo..=hi` (returns `lo` if `hi < lo`).
pub fn between(rng: &mut Rng, lo: i64, hi: i64) -> i64 {
    if hi <= lo { lo } else { rng.random_range(lo..=hi) }
}

/// A uniform index below `n` (0 if `n` is 0).
pub fn index(rng: &mut Rng, n: usize) -> usize {
    if n <= 1 { 0 } else { rng.random_range(0..n) }
}

/// One element of a slice, uniformly (None if empty).
pub fn pick<'a, T>(rng: &mut Rng, items: &'a [T]) -> Option<&'a T> {
    items.get(index(rng, items.len()))
}

/// One value from a small table of `(value, weight)` pairs (linear scan; for code lists).
pub fn weighted<T: Copy>(rng: &mut Rng, table: &[(T, f64)]) -> T {
    let total: f64 = table.iter().map(|(_, w)| w.max(0.0)).sum();
    let mut x = unit(rng) * total;
    for (v, w) in table {
        let w = w.max(0.0);
        if x < w {
            return *v;
        }
        x -= w;
    }
    // Rounding can leave `x` a hair above the last bound: take the last entry. Tables are
    // static code lists, never empty.
    table[table.len().saturating_sub(1)].0
}

/// A Poisson draw (Knuth's method for small means, a rounded normal approximation above 30).
pub fn poisson(rng: &mut Rng, mean: f64) -> u32 {
    if mean <= 0.0 {
        return 0;
    }
    if mean > 30.0 {
        let n = normal(rng) * mean.sqrt() + mean;
        return n.round().max(0.0) as u32;
    }
    let limit = (-mean).exp();
    let mut k = 0u32;
    let mut p = unit(rng);
    while p > limit {
        k += 1;
        p *= unit(rng);
    }
    k
}

/// A standard normal draw (Box–Muller).
pub fn normal(rng: &mut Rng) -> f64 {
    let u1 = unit(rng).max(f64::MIN_POSITIVE);
    let u2 = unit(rng);
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Rounds `x` to an integer, up with probability equal to its fractional part, so that small
/// expected counts at small scales are right on average.
pub fn round_stochastic(rng: &mut Rng, x: f64) -> u64 {
    if x <= 0.0 {
        return 0;
    }
    let floor = x.floor();
    let up = chance(rng, x - floor);
    floor as u64 + u64::from(up)
}

/// Draws indices with probability proportional to fixed weights (cumulative table and binary
/// search: O(n) to build, O(log n) to draw).
#[derive(Debug, Clone)]
pub struct Picker {
    cumulative: Vec<f64>,
}

impl Picker {
    /// A picker over `weights` (negative weights count as 0).
    pub fn new(weights: impl IntoIterator<Item = f64>) -> Picker {
        let mut total = 0.0;
        let cumulative = weights
            .into_iter()
            .map(|w| {
                total += w.max(0.0);
                total
            })
            .collect();
        Picker { cumulative }
    }

    /// The sum of the weights.
    pub fn total(&self) -> f64 {
        self.cumulative.last().copied().unwrap_or(0.0)
    }

    /// Whether every weight is zero.
    pub fn is_empty(&self) -> bool {
        self.total() <= 0.0
    }

    /// An index, or None if every weight is zero.
    pub fn pick(&self, rng: &mut Rng) -> Option<usize> {
        let total = self.total();
        if total <= 0.0 {
            return None;
        }
        let x = unit(rng) * total;
        let i = self.cumulative.partition_point(|&c| c <= x);
        Some(i.min(self.cumulative.len() - 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: u64 = stream(7, "x", 1).random();
        let b: u64 = stream(7, "x", 1).random();
        let c: u64 = stream(7, "x", 2).random();
        let d: u64 = stream(7, "y", 1).random();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn picker_and_poisson_behave() {
        let mut rng = stream(1, "t", 0);
        let p = Picker::new([0.0, 1.0, 0.0, 3.0]);
        let mut counts = [0u32; 4];
        for _ in 0..4000 {
            counts[p.pick(&mut rng).unwrap()] += 1;
        }
        assert_eq!(counts[0] + counts[2], 0);
        assert!((counts[3] as f64 / counts[1] as f64 - 3.0).abs() < 0.4, "{counts:?}");
        let mean: f64 = (0..4000).map(|_| f64::from(poisson(&mut rng, 2.5))).sum::<f64>() / 4000.0;
        assert!((mean - 2.5).abs() < 0.1, "{mean}");
        assert!(Picker::new([0.0, 0.0]).pick(&mut rng).is_none());
    }
}
