//! Match keys: typed, versioned strings derived from a record's normalised identifiers, each
//! relaxing some field so that a record with an error still shares keys with its true match
//! (DESIGN.md "Linkage — match keys").
//!
//! # Layout
//!
//! - [`keytype`]: the key types (tag, version, description) and the `MatchKey` value.
//! - [`derive`](mod@derive): a record's `Identifiers` → its keys.
//! - [`phonetic`]: the NYSIIS phonetic code.
//! - [`nickname`]: the nickname table (BOB → ROBERT), data in `node/data/nicknames.csv`.
//!
//! # Key types
//!
//! A key is written `tag/version:value`, fields joined by `|`, e.g.
//! `name_dob/1:JOHN|SMITH|1980-01-02`. Names are normalised ([`crate::normalise::name`]);
//! "forename" is the *first* forename token, "surname" the surname's tokens joined
//! (SMITH-JONES → SMITHJONES); DOB is ISO; postcode is the canonical form without its space
//! (CH12AB). "Shared by" is the rough number of people in England who would have the same
//! value, which sets how much an agreement on that key alone is worth.
//!
//! | tag | v | fields | survives | shared by |
//! |---|---|---|---|---|
//! | `nhs` | 1 | NHS number; only when the status is 01, 02 or not recorded | any error elsewhere | 1 (but a relative's valid number passes too) |
//! | `name_dob` | 1 | forename, surname, DOB | no NHS number, a move | ~1; twins with one name |
//! | `name_surpart_dob` | 1 | forename, one surname token, DOB; one key per token | SMITH-JONES recorded as JONES | ~1–2 |
//! | `init_sur_dob` | 1 | forename initial, surname, DOB | misspelt or shortened forename, middle name used | ~1–3 |
//! | `phon_name_dob` | 1 | NYSIIS (6 chars) of forename and surname, DOB | spelling variants (SMYTH/SMYTHE, KATHERINE/CATHERINE; not SMITH/SMYTH, as Y is a consonant) | ~1–3 |
//! | `dobswap_name_dob` | 1 | forename, surname, birth year, {day, month} unordered; only when day ≤ 12 and ≠ month | US-style day/month entry | ~1–2 |
//! | `transposed_name_dob` | 1 | {forename, surname} unordered, DOB | forename and surname swapped | ~1 |
//! | `nick_name_dob` | 1 | nickname-canonical forename, surname, DOB | BOB for ROBERT, PEGGY for MARGARET | ~1 |
//! | `name_dob_ym` | 1 | forename, surname, birth year and month | a wrong day of birth | ~1 (name × a month) |
//! | `name_dob_md` | 1 | forename, surname, birth month and day | a wrong or estimated-by-a-year year | ~1–2 (a father and son of one name share it only if born on one day) |
//! | `name_dob_yd` | 1 | forename, surname, birth year and day | a wrong month of birth | ~1 |
//! | `foredel_sur_dob` | 1 | the forename or one of its one-character deletions (first 15 characters), surname, DOB; own name only, ≤ 16 values | one typo in the forename (substitution, insertion, deletion, adjacent swap) | ~1; twins with forenames one edit apart (JACK/JAKE share JAK) |
//! | `fore_surdel_dob` | 1 | forename, the surname or one of its one-character deletions, DOB; own name only, ≤ 16 values | one typo in the surname | ~1 |
//! | `name_pcd_yob` | 1 | forename, surname, postcode, birth year | wrong or estimated day/month of birth | ~1 (a father and son of one name differ by year) |
//! | `sur_dob_pcd` | 1 | surname, DOB, postcode | any forename error | ~1 (twins share it) |
//! | `fore_dob_pcd` | 1 | forename, DOB, postcode | surname change (marriage) or misspelling | ~1 |
//! | `uprn` | 1 | UPRN | (address key) | a household, ~2.4; hostels and care homes far more |
//! | `parent_uprn` | 1 | parent UPRN | (address key) flats of one building | a building: tens to hundreds |
//! | `pcd_house` | 1 | postcode, building number | (address key) no UPRN matched | a building; flats share it |
//!
//! # What the computing node learns (frequency leakage, issue 6 item 2)
//!
//! Every key joins a full name or two name fields to a date (or a date and a postcode), so a
//! value is held by about one person and unique-or-random drops any value two subjects of a
//! side share: the computing node never sees a class of equal values, hence no name
//! frequency. No key is a coarse class such as name + sex, forename + DOB or name + birth
//! year alone. What remains, per candidate pair, is *which* key types agree (the pattern),
//! and for the multi-valued families *how many* slots agree, which the matcher does not read
//! but the node could: for the deletion keys two identical names agree on up to L + 1 values
//! (L the name's length, repeated letters fewer), so an exact-name pair discloses roughly the
//! length of a name it already knows agrees. Layouts pad every key type to
//! [`KeyType::max_values`] per record, so the number of values a record has (aliases,
//! surname parts, name length) does not show in the tuple. Missing keys are random points and
//! are never revealed as missing.
//!
//! # Rules
//!
//! - **Absent, not empty.** A key is derived only when all its fields are present. A
//!   placeholder or sentinel is not present: `Identifiers` holds `None` for it, so ZZ99 3VZ,
//!   "UNKNOWN" and 1900-01-01 give no key at all (design review F17).
//! - **NHS status.** Statuses 03–08 (trace needed, failed, pending, postponed) mean the number is
//!   unverified or disputed, so no `nhs` key is made (domain.md §3.1 treats them as missing).
//!   A source with no status column gets the key.
//! - **Aliases.** Every name-based key is derived for the record's name and for each alias;
//!   identical values appear once. So one record may hold several keys of a type.
//! - **Several forenames.** Only the first forename token is used: middle names are recorded
//!   inconsistently. A person known by a middle name is left to `sur_dob_pcd`.
//! - **Double-barrelled surnames.** Every surname key uses the joined form, so spacing and
//!   hyphens do not matter (SMITH JONES = SMITH-JONES = SMITHJONES); `name_surpart_dob` adds one
//!   key per surname token so a record holding only one part still meets the full one. Order
//!   swaps (JONES-SMITH) are not covered.
//! - **Versions.** A key type's version changes whenever its value for the same record would
//!   (a normaliser rule, the nickname table, the phonetic code): keys of different versions
//!   never compare equal because the version is part of the hashed string.

pub mod derive;
pub mod keytype;
pub mod nickname;
pub mod phonetic;

pub use derive::{Identifiers, derive_keys, derive_keys_of};
pub use keytype::{KeyFamily, KeySubject, KeyType, MatchKey};
pub use nickname::canonical_forename;
pub use phonetic::nysiis;
