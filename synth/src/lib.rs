//! fedlink-synth: a synthetic county with known answers (domain.md §9).
#![forbid(unsafe_code)]
