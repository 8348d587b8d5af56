//! UK postcodes: checked against the Royal Mail format rules and written in the canonical form
//! "CH1 2AB" (uppercase, one space before the three-character inward code); NHS ZZ99
//! pseudo-postcodes and "no fixed abode" codes are placeholders (domain.md §3.3; F17).
//!
//! The check is the regex of domain.md §3.3 written out by hand (no regex engine per row):
//! `^(GIR ?0AA|[A-PR-UWYZ]([0-9]{1,2}|([A-HK-Y][0-9]([0-9ABEHMNPRV-Y])?)|[0-9][A-HJKPS-UW]) ?[0-9][ABD-HJLNP-UW-Z]{2})$`

use std::fmt;

/// A postcode in canonical form. Made only by parsing.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Postcode {
    /// The canonical text, e.g. `EC1A 1BB`, in the first `len` bytes (6–8 of them).
    text: [u8; 8],
    len: u8,
}

impl Postcode {
    /// Parses a real postcode; a placeholder (ZZ99 …) or an empty value is an error here. Use
    /// [`parse_postcode`] to tell them apart.
    pub fn parse(raw: &str) -> Result<Postcode, PostcodeError> {
        match parse_postcode(raw)? {
            PostcodeField::Valid(postcode) => Ok(postcode),
            PostcodeField::Placeholder(reason) => {
                Err(PostcodeError::Malformed { input: raw.trim().to_owned(), reason })
            }
            PostcodeField::Missing => Err(PostcodeError::Empty),
        }
    }

    /// The canonical form: `CH1 2AB`.
    pub fn as_str(&self) -> &str {
        // ASCII letters, digits and one space by construction, so this never falls back.
        std::str::from_utf8(self.text.get(..usize::from(self.len)).unwrap_or_default())
            .unwrap_or_default()
    }

    /// The outward code (area and district): `CH1`, `EC1A`.
    pub fn outward(&self) -> &str {
        self.as_str().get(..usize::from(self.len) - 4).unwrap_or_default()
    }

    /// The inward code (sector digit and unit): `2AB`.
    pub fn inward(&self) -> &str {
        self.as_str().get(usize::from(self.len) - 3..).unwrap_or_default()
    }

    /// The postcode sector: `CH1 2` (about 3,000 addresses).
    pub fn sector(&self) -> &str {
        self.as_str().get(..usize::from(self.len) - 2).unwrap_or_default()
    }

    /// The postcode district, here the whole outward code: `CH1`, `EC1A` (ONSPD treats EC1A
    /// as a sub-district of EC1; the outward code is what partners record).
    pub fn district(&self) -> &str {
        self.outward()
    }

    /// The postcode area, the leading letters: `CH`, `M`, `EC`.
    pub fn area(&self) -> &str {
        let outward = self.outward();
        let letters = outward.bytes().take_while(u8::is_ascii_alphabetic).count();
        outward.get(..letters).unwrap_or_default()
    }

    /// The canonical form without the space: `CH12AB` (how ONSPD joins, and how keys use it).
    pub fn no_space(&self) -> String {
        format!("{}{}", self.outward(), self.inward())
    }
}

impl fmt::Display for Postcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Postcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Postcode({:?})", self.as_str())
    }
}

/// A postcode field after normalisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostcodeField {
    /// A postcode of valid form (whether it is live is for ONSPD to say).
    Valid(Postcode),
    /// A code that stands for "no usable address"; the reason says which. Counts as missing.
    Placeholder(&'static str),
    /// Empty.
    Missing,
}

impl PostcodeField {
    /// The postcode, if valid.
    pub fn valid(self) -> Option<Postcode> {
        match self {
            PostcodeField::Valid(postcode) => Some(postcode),
            PostcodeField::Placeholder(_) | PostcodeField::Missing => None,
        }
    }
}

/// Why a value is not a postcode. The `Display` text is the quarantine reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostcodeError {
    /// Nothing there ([`Postcode::parse`] only; [`parse_postcode`] says `Missing`).
    #[error("postcode is empty")]
    Empty,
    /// Not 5–7 letters and digits once spaces and punctuation are removed.
    #[error("postcode {input:?} has {length} letters and digits; a postcode has 5 to 7")]
    WrongLength {
        /// The value as written (trimmed).
        input: String,
        /// Letters and digits found.
        length: usize,
    },
    /// The right length but the wrong shape.
    #[error("postcode {input:?} is not valid: {reason}")]
    Malformed {
        /// The value as written (trimmed).
        input: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
}

/// Normalises a raw postcode: uppercase, every character other than a letter or digit
/// removed, the format rules checked, one space put before the last three characters.
///
/// Placeholders: any ZZ99 code (the NHS pseudo-postcodes: ZZ99 3VZ no fixed abode, ZZ99 3WZ
/// address not known, ZZ99 3CZ England not otherwise specified, ZZ99 3GZ Wales, and the
/// country codes for overseas residents), a BFPO number, and words such as NFA, N/K, UNKNOWN,
/// NO FIXED ABODE.
pub fn parse_postcode(raw: &str) -> Result<PostcodeField, PostcodeError> {
    let mut buf = [0u8; 16];
    let mut n = 0usize;
    for b in raw.bytes().filter(u8::is_ascii_alphanumeric) {
        if let Some(slot) = buf.get_mut(n) {
            *slot = b.to_ascii_uppercase();
        }
        n += 1;
    }
    if n == 0 {
        return Ok(if raw.trim().is_empty() {
            PostcodeField::Missing
        } else {
            PostcodeField::Placeholder("no letters or digits")
        });
    }
    let code = buf.get(..n).unwrap_or(&buf);
    if code.starts_with(b"ZZ99") {
        return Ok(PostcodeField::Placeholder("an NHS ZZ99 pseudo-postcode"));
    }
    if code.starts_with(b"BFPO") {
        return Ok(PostcodeField::Placeholder("a British Forces Post Office number"));
    }
    if PLACEHOLDER_WORDS.iter().any(|w| w.as_bytes() == code) {
        return Ok(PostcodeField::Placeholder("a code for no fixed or known address"));
    }
    let input = || raw.trim().to_owned();
    if !(5..=7).contains(&n) {
        return Err(PostcodeError::WrongLength { input: input(), length: n });
    }
    if let Err(reason) = check_shape(code) {
        return Err(PostcodeError::Malformed { input: input(), reason });
    }
    let mut text = [0u8; 8];
    let (outward, inward) = code.split_at(n - 3);
    for (slot, b) in text.iter_mut().zip(outward.iter().chain(b" ").chain(inward)) {
        *slot = *b;
    }
    Ok(PostcodeField::Valid(Postcode { text, len: (n + 1) as u8 }))
}

/// Letters-only values (after punctuation is removed) that mean "no fixed or known address".
const PLACEHOLDER_WORDS: &[&str] =
    &["NFA", "NK", "NA", "UNK", "UNKNOWN", "NOTKNOWN", "NOFIXEDABODE", "NONE", "NIL", "TBC"];

/// The format rules, on 5–7 uppercase letters and digits without the space.
fn check_shape(code: &[u8]) -> Result<(), &'static str> {
    if code == b"GIR0AA" {
        return Ok(());
    }
    let (outward, inward) = code.split_at(code.len() - 3);
    match inward {
        [d, u1, u2] if d.is_ascii_digit() && unit_letter(*u1) && unit_letter(*u2) => {}
        [d, ..] if !d.is_ascii_digit() => {
            return Err("the inward code (last three characters) must start with a digit");
        }
        _ => return Err("the inward code's letters cannot be C, I, K, M, O or V (or digits)"),
    }
    let letter = |b: &u8| b.is_ascii_uppercase();
    let digit = |b: &u8| b.is_ascii_digit();
    let first = outward.first().copied().unwrap_or(b'Q');
    if !letter(&first) || matches!(first, b'Q' | b'V' | b'X') {
        return Err("the first character must be a letter other than Q, V or X");
    }
    match outward {
        // AN, ANN
        [_, d] | [_, d, _] if digit(d) && outward.iter().skip(2).all(digit) => Ok(()),
        // ANA: the third character is one of A–H, J, K, P, S–U, W.
        [_, d, a] if digit(d) => {
            if b"ABCDEFGHJKPSTUW".contains(a) {
                Ok(())
            } else {
                Err("in an ANA outward code the letter must be one of A-H, J, K, P, S, T, U, W")
            }
        }
        // AAN, AANN, AANA
        [_, second, rest @ ..] if letter(second) => {
            if matches!(second, b'I' | b'J' | b'Z') {
                return Err("the second letter cannot be I, J or Z");
            }
            match rest {
                [d] | [d, _] if digit(d) && rest.iter().all(digit) => Ok(()),
                [d, a] if digit(d) && b"ABEHMNPRVWXY".contains(a) => Ok(()),
                [d, _] if digit(d) => Err(
                    "in an AANA outward code the last letter must be A, B, E, H, M, N, P, R, V-Y",
                ),
                _ => Err("the outward code must have a district number after its letters"),
            }
        }
        _ => {
            Err("the outward code must be one or two letters, a district number, perhaps one more")
        }
    }
}

/// Letters allowed in the unit: not C, I, K, M, O or V.
fn unit_letter(b: u8) -> bool {
    b.is_ascii_uppercase() && !matches!(b, b'C' | b'I' | b'K' | b'M' | b'O' | b'V')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(raw: &str) -> String {
        Postcode::parse(raw).unwrap_or_else(|e| panic!("{raw:?}: {e}")).to_string()
    }

    #[test]
    fn domain_md_examples_are_valid() {
        for good in ["M1 1AA", "M60 1NW", "CR2 6XH", "DN55 1PT", "W1A 1HQ", "EC1A 1BB", "GIR 0AA"] {
            assert_eq!(canonical(good), good);
            assert_eq!(canonical(&good.to_lowercase().replace(' ', "")), good);
        }
        assert_eq!(canonical(" ch1-2ab "), "CH1 2AB");
        assert_eq!(canonical("c h 1 2 a b"), "CH1 2AB");
    }

    #[test]
    fn parts() {
        let p = Postcode::parse("ec1a1bb").unwrap();
        assert_eq!((p.outward(), p.inward(), p.sector()), ("EC1A", "1BB", "EC1A 1"));
        assert_eq!((p.district(), p.area(), p.no_space()), ("EC1A", "EC", "EC1A1BB".to_owned()));
        let p = Postcode::parse("M1 1AA").unwrap();
        assert_eq!((p.outward(), p.inward(), p.sector(), p.area()), ("M1", "1AA", "M1 1", "M"));
    }

    #[test]
    fn letters_in_the_wrong_places() {
        for bad in [
            "QA1 1AA",  // Q never first
            "V1 1AA",   // V never first
            "XA1 1AA",  // X never first
            "AI1 1AA",  // I never second
            "AZ1 1AA",  // Z never second
            "A1L 1AA",  // L not allowed third in ANA
            "AA1C 1AA", // C not allowed fourth in AANA
            "CH1 2CA",  // C never in the unit
            "CH1 2AI",  // I never in the unit
            "CH1 AAB",  // inward must start with a digit
            "1H1 2AB",  // must start with a letter
            "CHH 2AB",  // no district number
            "C12A 2AB", // ANNA is not a shape
        ] {
            assert!(matches!(parse_postcode(bad), Err(PostcodeError::Malformed { .. })), "{bad}");
        }
        assert!(matches!(parse_postcode("CH1"), Err(PostcodeError::WrongLength { length: 3, .. })));
        assert!(matches!(parse_postcode("CH12 2ABC"), Err(PostcodeError::WrongLength { .. })));
    }

    #[test]
    fn placeholders() {
        for raw in [
            "ZZ99 3VZ", "zz993wz", "ZZ99 3CZ", "ZZ99 3GZ", "NFA", "N/K", "n.f.a.", "BFPO 123", "--",
        ] {
            assert!(matches!(parse_postcode(raw), Ok(PostcodeField::Placeholder(_))), "{raw}");
        }
        assert_eq!(parse_postcode("   "), Ok(PostcodeField::Missing));
        assert!(Postcode::parse("ZZ99 3VZ").is_err());
    }
}
