//! Differential privacy for released counts: exact integer noise (discrete Laplace, discrete
//! Gaussian) from the OS CSPRNG, with no floating point and fixed work per sampling trial. The
//! linkage and aggregate queries draw every protected count's noise from here.
//!
//! # Layout
//!
//! - [`rational`]: `Ratio`, the exact non-negative rationals privacy parameters are given in.
//! - [`random`]: the `RandomBits` source trait, `OsRandom` over `ring`'s `SystemRandom`, and the
//!   fixed allowance of random words each sampler trial consumes.
//! - [`noise`]: the CKS20 samplers (`bernoulli`, `bernoulli_exp`, `DiscreteLaplace`,
//!   `DiscreteGaussian`), their timing argument and their limits.
//!
//! # How a protected count is made
//!
//! 1. The query layer bounds each subject's contribution (e.g. at most `c` rows per person per
//!    cell); the sensitivity is then `c` (L1, for Laplace) or the L2 norm of one subject's
//!    contributions across cells (for the Gaussian). That layer, not this module, owns it.
//! 2. It builds the mechanism from the budget it is spending: `DiscreteLaplace::new(ε, Δ)` (scale
//!    Δ/ε, ε-DP) or `DiscreteGaussian::new(ρ, Δ)` (σ² = Δ²/2ρ, ρ-zCDP), and records the spend.
//! 3. `add_to(count, &mut OsRandom)` adds one integer noise value. Suppression, rounding and
//!    clamping at zero come after, as post-processing, which costs no privacy.
//!
//! Noise is drawn only at the node, never at the coordinator (audit-privacy-legal.md §2.2).

pub mod noise;
pub mod random;
pub mod rational;

pub use noise::{
    DiscreteGaussian, DiscreteLaplace, GAUSSIAN_MAX_TERM, MAX_TRIALS, NoiseError, TRIAL_WORDS,
    bernoulli, bernoulli_exp,
};
pub use random::{OsRandom, RandomBits, RandomError, SplitMix64};
pub use rational::{Ratio, RatioError};
