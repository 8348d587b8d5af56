//! The nickname table: BOB → ROBERT, PEGGY → MARGARET, STEVEN → STEPHEN … so that a record
//! using a familiar form still shares the `nick_name_dob` key with one using the formal name.
//!
//! The table is data, `node/data/nicknames.csv` (written for fedlink), compiled into the
//! binary with `include_str!` so a node needs no file beside it to derive the same keys.

use std::collections::HashMap;
use std::sync::LazyLock;

/// The table's source text: `canonical,variant` lines and `#` comments.
const SOURCE: &str = include_str!("../../data/nicknames.csv");

/// Variant → canonical, parsed once on first use.
static TABLE: LazyLock<HashMap<&'static str, &'static str>> =
    LazyLock::new(|| entries().map(|(canonical, variant)| (variant, canonical)).collect());

/// The table's (canonical, variant) pairs in file order. Malformed lines are skipped here;
/// the tests prove there are none.
pub fn entries() -> impl Iterator<Item = (&'static str, &'static str)> {
    SOURCE
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once(','))
        .map(|(canonical, variant)| (canonical.trim(), variant.trim()))
}

/// The canonical form of a normalised forename (one uppercase token): BOB → ROBERT. A name
/// the table does not list, including every canonical form, maps to itself.
pub fn canonical_forename(name: &str) -> &str {
    TABLE.get(name).copied().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn examples() {
        assert_eq!(canonical_forename("BOB"), "ROBERT");
        assert_eq!(canonical_forename("ROBERT"), "ROBERT");
        assert_eq!(canonical_forename("PEGGY"), "MARGARET");
        assert_eq!(canonical_forename("BILL"), "WILLIAM");
        assert_eq!(canonical_forename("KATE"), "CATHERINE");
        assert_eq!(canonical_forename("ZEBEDEE"), "ZEBEDEE");
        assert_eq!(canonical_forename(""), "");
    }

    #[test]
    fn the_table_is_well_formed() {
        let data_lines = SOURCE.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
        assert_eq!(data_lines.count(), entries().count(), "every data line is canonical,variant");
        assert!(entries().count() >= 300);
        let is_name = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_uppercase());
        let mut variants = HashSet::new();
        for (canonical, variant) in entries() {
            assert!(is_name(canonical) && is_name(variant), "{canonical},{variant}");
            assert_ne!(canonical, variant);
            assert!(variants.insert(variant), "{variant} is listed twice");
        }
        for (canonical, _) in entries() {
            assert!(!variants.contains(canonical), "{canonical} is both canonical and a variant");
            assert_eq!(canonical_forename(canonical), canonical);
        }
    }
}
