//! Sex and gender codes: the NHS, police and council codings mapped onto one scale of four
//! values (domain.md §3.2), so that records from different agencies compare.
//!
//! Sources: NHS Data Dictionary PERSON STATED GENDER CODE (1 male, 2 female, 9 indeterminate,
//! X not known; used by ECDS), the older PERSON GENDER CODE and e-GIF gender type (0 not known,
//! 9 not specified, i.e. indeterminate), and police IC-style M/F/U.

use std::fmt;

/// One value on the shared scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Sex {
    /// Female.
    Female,
    /// Male.
    Male,
    /// Indeterminate: recorded, but unable to be classified as male or female (NHS code 9).
    Indeterminate,
    /// Not known or not recorded (NHS X or 0, police U, empty).
    Unknown,
}

impl Sex {
    /// Every value.
    pub const ALL: [Sex; 4] = [Sex::Female, Sex::Male, Sex::Indeterminate, Sex::Unknown];

    /// fedlink's one-letter code: `F`, `M`, `I` (indeterminate), `U` (unknown).
    ///
    /// Not `X` for indeterminate: in NHS data `X` means *not known*, so [`parse_sex`] reads it
    /// as [`Sex::Unknown`], and a code this function wrote must parse back to itself.
    pub fn code(self) -> &'static str {
        match self {
            Sex::Female => "F",
            Sex::Male => "M",
            Sex::Indeterminate => "I",
            Sex::Unknown => "U",
        }
    }
}

impl fmt::Display for Sex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Parses a sex or gender code, case-insensitively, ignoring surrounding spaces:
///
/// | input | value |
/// |---|---|
/// | `F`, `FEMALE`, `2`, `W`, `WOMAN`, `GIRL` | Female |
/// | `M`, `MALE`, `1`, `MAN`, `BOY` | Male |
/// | `9`, `I`, `INDETERMINATE`, `NOT SPECIFIED` | Indeterminate |
/// | empty, `0`, `X`, `U`, `UNKNOWN`, `NOT KNOWN`, `NK`, `NOT STATED`, `Z` | Unknown |
pub fn parse_sex(raw: &str) -> Result<Sex, SexError> {
    let code = raw.trim();
    let is = |options: &[&str]| options.iter().any(|o| code.eq_ignore_ascii_case(o));
    if is(&["F", "FEMALE", "2", "W", "WOMAN", "GIRL"]) {
        Ok(Sex::Female)
    } else if is(&["M", "MALE", "1", "MAN", "BOY"]) {
        Ok(Sex::Male)
    } else if is(&["9", "I", "INDETERMINATE", "NOT SPECIFIED"]) {
        Ok(Sex::Indeterminate)
    } else if code.is_empty()
        || is(&[
            "0",
            "X",
            "U",
            "UNKNOWN",
            "NOT KNOWN",
            "NK",
            "N/K",
            "NOT STATED",
            "NOT RECORDED",
            "Z",
        ])
    {
        Ok(Sex::Unknown)
    } else {
        Err(SexError::Unrecognised { input: code.to_owned() })
    }
}

/// A value that is not a known sex or gender code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SexError {
    /// Not in the table of [`parse_sex`].
    #[error("sex {input:?} is not a known code (M/F/U, 1/2/9/X/0, MALE/FEMALE, NOT KNOWN …)")]
    Unrecognised {
        /// The value as written (trimmed).
        input: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codings() {
        let cases = [
            ("f", Sex::Female),
            ("Female", Sex::Female),
            ("2", Sex::Female),
            ("M", Sex::Male),
            (" male ", Sex::Male),
            ("1", Sex::Male),
            ("9", Sex::Indeterminate),
            ("I", Sex::Indeterminate),
            ("Not Specified", Sex::Indeterminate),
            ("X", Sex::Unknown),
            ("0", Sex::Unknown),
            ("U", Sex::Unknown),
            ("not known", Sex::Unknown),
            ("", Sex::Unknown),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_sex(raw), Ok(want), "{raw:?}");
        }
        assert!(parse_sex("3").is_err());
        assert!(parse_sex("Q").is_err());
        for sex in Sex::ALL {
            assert_eq!(parse_sex(sex.code()), Ok(sex));
        }
    }
}
