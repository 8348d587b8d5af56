//! Identifier normalisation: parse each raw field of a partner's extract into a validated,
//! canonical value, or say why it cannot be one (domain.md §3).
//!
//! # Layout
//!
//! - [`nhs`]: NHS numbers (Modulus 11) and their status indicator.
//! - [`name`]: names as uppercase ASCII tokens; titles, Mc/Mac, placeholders; police aliases.
//! - [`date`]: dates and date-times in the formats partners send; sentinel dates flagged.
//! - [`postcode`]: UK postcodes in canonical form; ZZ99 pseudo-postcodes as placeholders.
//! - [`uprn`]: Unique Property Reference Numbers.
//! - [`sex`]: sex and gender codes of NHS, police and council systems, on one scale.
//! - [`address`]: the building number in a free-text address, for the postcode + house key.
//!
//! Every normaliser takes `&str` and returns a type that can only be made by parsing, so code
//! downstream never sees an unchecked identifier. Placeholders and sentinels (ZZ99 3VZ,
//! "UNKNOWN", 1900-01-01) are told apart from values: they count as missing, and no match key
//! is built from them (design review F17). All normalised text is uppercase ASCII.

pub mod address;
pub mod date;
pub mod name;
pub mod nhs;
pub mod postcode;
pub mod sex;
pub mod uprn;
