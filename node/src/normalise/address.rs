//! The building number in a free-text address line, for the postcode + house-number match key:
//! within one postcode (about 15 addresses) the building number almost always picks out one
//! building, while free-text street names are spelled too many ways to compare.
//!
//! Rule: the first number of one to four digits, with at most one letter straight after it
//! (12, 12A, 012a → 12A), that does not follow a sub-building word (FLAT, APARTMENT, APT, UNIT,
//! ROOM, SUITE, STUDIO, BLOCK, PLOT). So "Flat 3, 14 Park Road" gives 14: the key finds the
//! building, and the flat is left to the UPRN key. A range "12-14" gives 12. Ordinals
//! ("1st Floor") and postcode parts ("CH1", "2AB") are not numbers by this rule.

/// Words whose following number is a flat or unit, not the building.
const SUB_BUILDING: &[&str] =
    &["FLAT", "FLT", "APARTMENT", "APT", "UNIT", "ROOM", "RM", "SUITE", "STUDIO", "BLOCK", "PLOT"];

/// The building number of a free-text address, normalised to uppercase without leading zeros,
/// or `None` when there is none. See the module documentation for the rule.
pub fn house_number(address_text: &str) -> Option<String> {
    let mut after_sub_building = false;
    for token in address_text.split(|c: char| !c.is_ascii_alphanumeric()).filter(|t| !t.is_empty())
    {
        if let Some(number) = building_number(token).filter(|_| !after_sub_building) {
            return Some(number);
        }
        after_sub_building = SUB_BUILDING.iter().any(|w| token.eq_ignore_ascii_case(w));
    }
    None
}

/// `12`, `12A`, `0012a` → the number without leading zeros, letter uppercased.
fn building_number(token: &str) -> Option<String> {
    let digits = token.bytes().take_while(u8::is_ascii_digit).count();
    let suffix = token.get(digits..)?;
    let number = token.get(..digits)?.trim_start_matches('0');
    let suffix_ok =
        suffix.is_empty() || (suffix.len() == 1 && suffix.bytes().all(|b| b.is_ascii_alphabetic()));
    if !(1..=4).contains(&digits) || number.is_empty() || !suffix_ok {
        return None;
    }
    Some(format!("{number}{}", suffix.to_ascii_uppercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn building_numbers() {
        let cases = [
            ("12A High Street", Some("12A")),
            ("12a high street", Some("12A")),
            ("Flat 3, 14 Park Road", Some("14")),
            ("FLAT 3A 14 PARK ROAD", Some("14")),
            ("Apartment 7, Mill House, 2 Dee Lane, Chester CH1 2AB", Some("2")),
            ("12-14 High St", Some("12")),
            ("No. 5 The Row", Some("5")),
            ("012 Bridge St", Some("12")),
            ("1st Floor, 22 Eastgate", Some("22")),
            ("Rose Cottage, Lower Lane, CH1 2AB", None),
            ("Flat 3, Park House", None),
            ("0 Nowhere Road", None),
            ("123456 Long Number", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(house_number(text).as_deref(), want, "{text:?}");
        }
    }
}
