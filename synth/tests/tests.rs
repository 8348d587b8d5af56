//! fedlink-synth's tests, one binary with a module per topic. Most share one county generated
//! once (scale 0.04, ~44,000 people) under `CARGO_TARGET_TMPDIR`.

/// Same seed and scale, same bytes; thread count irrelevant.
mod determinism;
/// Scoring links against the truth bundle.
mod evaluate;
/// Export glitches: a few damaged background rows, never a scenario record.
mod glitches;
/// Marginals within tolerance of the configured rates.
mod marginals;
/// The public folder: the area lookup covers the extracts' codes; populations add up.
mod public;
/// Every planted scenario in the truth, its records in the data.
mod scenarios;
/// Schemas pass the node's checks; data honour them (headers, codes, bounds, ids, NHS range).
mod schemas;
/// Shared fixtures: the generated county and CSV helpers.
mod util;
