//! The adversarial suite of design-review.md §10: real node processes (a police node holding a
//! cohort, an ICB node computing) attacked by a malicious relay or coordinator through the
//! coordinator library, and unit-level property tests of what travels on the wire.
//!
//! Each module names the attack it plays, the findings it checks (F1–F7, F9, F11–F13, F16,
//! F17, F19) and what the node must do: refuse by a named rule, or keep a released cell within
//! its bound. Process tests share [`fixture`]: a police + ICB federation of a few crafted rows,
//! started per test, and [`fixture::Mitm`], a `LinkTransport` over the real mTLS transport
//! that rewrites, redirects and records every LinkStep. Statistical tests use a seeded
//! generator or bounds of five standard deviations, so they do not flake.

// A police + ICB federation with crafted datasets, and a malicious transport.
pub(crate) mod fixture;

// F4: copies of one person in a cohort (identical, split by key type, spread over windows).
mod amplifying;

// F1: a malicious relay alters, substitutes, replays, reflects and reorders sealed messages,
// and reads its capture.
mod relay;

// F3: a differencing coordinator asks X and X ∪ {y} until the budget refuses.
mod differencing;

// F2, F5: label columns that make labels per-person, or carry values no vocabulary allows.
mod labels;

// F6, F12: flag-back gives one flag per row, no near misses, and needs its own approval.
mod flagback;

// F13, F19: envelopes replayed, misaddressed, relabelled or malformed; sessions stepped by others.
mod envelopes;

// F11, F17: dummy and missing points are valid, fresh and indistinguishable from real ones.
mod dummies;

// F9: slot order carries no month; tuples have one length.
mod windows;

// F7: the overlap ring schedule and its invariant.
mod schedule;

// F16: a duplicated tuple in a reblinded batch is refused.
mod reblinding;
