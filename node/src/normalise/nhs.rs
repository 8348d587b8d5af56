//! NHS numbers: ten digits whose last is a Modulus 11 check digit, exactly as the NHS Data
//! Dictionary defines it (domain.md §3.1), and the NHS NUMBER STATUS INDICATOR CODE kept
//! alongside (domain.md §2.2A).

use std::fmt;
use std::sync::LazyLock;

/// The Modulus 11 check digit for the first nine digits (each 0–9), or `None` when the
/// computed check is 10: such prefixes are never issued.
///
/// Weights 10, 9, …, 2; remainder = sum mod 11; check = 11 − remainder, with 11 → 0.
pub fn check_digit(first_nine: &[u8; 9]) -> Option<u8> {
    let sum: u32 = first_nine.iter().zip((2..=10u32).rev()).map(|(d, w)| u32::from(*d) * w).sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        check => u8::try_from(check).ok(),
    }
}

/// A syntactically valid NHS number: ten ASCII digits whose check digit is right.
///
/// It can only be made by [`NhsNumber::parse`] or [`test_range_number`], so holding one proves
/// the Modulus 11 check passed. It cannot prove the number belongs to this person (a parent's
/// or sibling's number passes too; domain.md §4 pitfall 1).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NhsNumber {
    /// The ten digits as ASCII bytes, no separators.
    digits: [u8; 10],
}

/// Debug output never shows the number: a value logged by accident (a `{:?}` in a trace)
/// must not put an identifier in a log file. `Display` and `as_str` give the number on purpose.
impl std::fmt::Debug for NhsNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NhsNumber(<redacted>)")
    }
}

impl NhsNumber {
    /// Parses a raw NHS number: spaces (any whitespace) and hyphens are removed, then exactly
    /// ten ASCII digits must remain and the tenth must be the Modulus 11 check digit.
    pub fn parse(raw: &str) -> Result<NhsNumber, NhsNumberError> {
        let mut digits = [0u8; 10];
        let (mut length, mut count, mut non_digit) = (0usize, 0usize, None);
        for c in raw.chars().filter(|c| !c.is_whitespace() && *c != '-') {
            length += 1;
            if c.is_ascii_digit() {
                if let Some(slot) = digits.get_mut(count) {
                    *slot = c as u8;
                }
                count += 1;
            } else if non_digit.is_none() {
                non_digit = Some(c);
            }
        }
        if length == 0 {
            return Err(NhsNumberError::Empty);
        }
        if non_digit.is_some() || count != 10 {
            return Err(NhsNumberError::NotTenDigits { length, non_digit });
        }
        let number = NhsNumber { digits };
        let found = digits[9] - b'0';
        match check_digit(&number.first_nine()) {
            None => Err(NhsNumberError::NoValidCheckDigit),
            Some(expected) if expected != found => {
                Err(NhsNumberError::BadCheckDigit { expected, found })
            }
            Some(_) => Ok(number),
        }
    }

    /// The ten digits, no separators: `9434765919`.
    pub fn as_str(&self) -> &str {
        // Always ten ASCII digits by construction, so this never falls back.
        std::str::from_utf8(&self.digits).unwrap_or_default()
    }

    /// The 3-3-4 display form: `943 476 5919`.
    pub fn spaced(&self) -> String {
        let s = self.as_str();
        format!("{} {} {}", &s[..3], &s[3..6], &s[6..])
    }

    /// True for 999 000 0000–999 999 9999, the range reserved for testing and never issued.
    pub fn is_test_range(&self) -> bool {
        self.digits.starts_with(b"999")
    }

    /// The first nine digits as numbers 0–9.
    fn first_nine(&self) -> [u8; 9] {
        let mut nine = [0u8; 9];
        for (n, d) in nine.iter_mut().zip(self.digits) {
            *n = d - b'0';
        }
        nine
    }
}

impl fmt::Display for NhsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a raw value is not a valid NHS number. The `Display` text is the quarantine reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NhsNumberError {
    /// Nothing but spaces and hyphens.
    #[error("NHS number is empty")]
    Empty,
    /// Not exactly ten digits once spaces and hyphens are removed.
    #[error("{}", not_ten_digits(*length, *non_digit))]
    NotTenDigits {
        /// Characters left after removing spaces and hyphens.
        length: usize,
        /// The first character that is not an ASCII digit, if any.
        non_digit: Option<char>,
    },
    /// The first nine digits give a check value of 10: no such number is ever issued.
    #[error(
        "NHS number fails the Modulus 11 check (its first nine digits give check value 10, \
         so no such number is ever issued)"
    )]
    NoValidCheckDigit,
    /// The tenth digit is not the check digit of the first nine.
    #[error(
        "NHS number fails the Modulus 11 check (check digit should be {expected}, not {found})"
    )]
    BadCheckDigit {
        /// The check digit the first nine digits give.
        expected: u8,
        /// The tenth digit as written.
        found: u8,
    },
}

impl NhsNumberError {
    /// True when the value has the right shape but fails the Modulus 11 check: the schema's
    /// `invalid_nhs_number` setting decides whether such a row is quarantined or kept without
    /// the NHS-number key.
    pub fn is_check_digit_failure(&self) -> bool {
        matches!(self, NhsNumberError::NoValidCheckDigit | NhsNumberError::BadCheckDigit { .. })
    }
}

fn not_ten_digits(length: usize, non_digit: Option<char>) -> String {
    match non_digit {
        Some(c) => format!("NHS number contains {c:?}; it must be ten digits"),
        None => format!("NHS number has {length} digits, not 10"),
    }
}

/// The valid nine-digit prefixes 999 000 000–999 999 999 (their last six digits), in order.
/// Built on first use only: the synthetic generator needs it, a node does not.
static TEST_RANGE: LazyLock<Vec<u32>> = LazyLock::new(|| {
    (0..1_000_000u32).filter(|suffix| check_digit(&test_prefix(*suffix)).is_some()).collect()
});

fn test_prefix(suffix: u32) -> [u8; 9] {
    let mut nine = [9u8; 9];
    let mut rest = suffix;
    for slot in nine[3..].iter_mut().rev() {
        *slot = (rest % 10) as u8;
        rest /= 10;
    }
    nine
}

/// How many valid NHS numbers the test range 999 000 0000–999 999 9999 holds (909,091).
pub fn test_range_len() -> u32 {
    u32::try_from(TEST_RANGE.len()).unwrap_or(u32::MAX)
}

/// The `serial`-th valid NHS number of the test range, counting from 0 in ascending order, or
/// `None` past the end ([`test_range_len`]). Deterministic: the synthetic generator uses it
/// to give people valid numbers that can never be real.
pub fn test_range_number(serial: u32) -> Option<NhsNumber> {
    let suffix = *TEST_RANGE.get(usize::try_from(serial).ok()?)?;
    let nine = test_prefix(suffix);
    let check = check_digit(&nine)?;
    let mut digits = [0u8; 10];
    for (out, d) in digits.iter_mut().zip(nine.iter().chain([check].iter())) {
        *out = b'0' + d;
    }
    Some(NhsNumber { digits })
}

/// How much an NHS number can be trusted, from its status indicator (domain.md §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NhsStrength {
    /// Status 01: present and verified against the Personal Demographics Service.
    Strong,
    /// Status 02: present but not traced.
    Weak,
    /// Statuses 03–08: a trace is needed, failed, pending or postponed; treat as missing.
    Missing,
}

/// NHS NUMBER STATUS INDICATOR CODE, 01–08 (NHS Data Dictionary; domain.md §2.2A).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NhsNumberStatus {
    /// 01: number present and verified.
    PresentVerified,
    /// 02: number present but not traced.
    PresentNotTraced,
    /// 03: trace required.
    TraceRequired,
    /// 04: trace attempted, no match or multiple matches found.
    TraceAttemptedNoMatch,
    /// 05: trace needs to be resolved (NHS number or patient detail conflict).
    TraceToBeResolved,
    /// 06: trace in progress.
    TraceInProgress,
    /// 07: number not present and trace not required.
    NotPresentTraceNotRequired,
    /// 08: trace postponed (baby under six weeks old).
    TracePostponed,
}

impl NhsNumberStatus {
    /// Every status, in code order.
    pub const ALL: [NhsNumberStatus; 8] = [
        NhsNumberStatus::PresentVerified,
        NhsNumberStatus::PresentNotTraced,
        NhsNumberStatus::TraceRequired,
        NhsNumberStatus::TraceAttemptedNoMatch,
        NhsNumberStatus::TraceToBeResolved,
        NhsNumberStatus::TraceInProgress,
        NhsNumberStatus::NotPresentTraceNotRequired,
        NhsNumberStatus::TracePostponed,
    ];

    /// Parses a status code: `01`–`08`, also written without the leading zero (`1`–`8`).
    /// An empty value is `Ok(None)`: the status was not recorded.
    pub fn parse(raw: &str) -> Result<Option<NhsNumberStatus>, NhsStatusError> {
        let code = raw.trim();
        if code.is_empty() {
            return Ok(None);
        }
        let digit = match code.as_bytes() {
            [d] | [b'0', d] => *d,
            _ => 0,
        };
        digit
            .checked_sub(b'1')
            .and_then(|index| NhsNumberStatus::ALL.get(usize::from(index)))
            .map(|status| Some(*status))
            .ok_or_else(|| NhsStatusError::Unknown { input: code.to_owned() })
    }

    /// The two-digit code: `01`–`08`.
    pub fn code(self) -> &'static str {
        match self {
            NhsNumberStatus::PresentVerified => "01",
            NhsNumberStatus::PresentNotTraced => "02",
            NhsNumberStatus::TraceRequired => "03",
            NhsNumberStatus::TraceAttemptedNoMatch => "04",
            NhsNumberStatus::TraceToBeResolved => "05",
            NhsNumberStatus::TraceInProgress => "06",
            NhsNumberStatus::NotPresentTraceNotRequired => "07",
            NhsNumberStatus::TracePostponed => "08",
        }
    }

    /// 01 is strong, 02 weak, 03–08 missing (domain.md §3.1).
    pub fn strength(self) -> NhsStrength {
        match self {
            NhsNumberStatus::PresentVerified => NhsStrength::Strong,
            NhsNumberStatus::PresentNotTraced => NhsStrength::Weak,
            _ => NhsStrength::Missing,
        }
    }
}

/// A status indicator that is not one of the codes 01–08.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NhsStatusError {
    /// Not a known code.
    #[error("NHS number status {input:?} is not one of the codes 01–08")]
    Unknown {
        /// The value as written (trimmed).
        input: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_dictionary_worked_example() {
        // 9×10+4×9+3×8+4×7+7×6+6×5+5×4+9×3+1×2 = 299; 299 mod 11 = 2; 11−2 = 9.
        assert_eq!(check_digit(&[9, 4, 3, 4, 7, 6, 5, 9, 1]), Some(9));
    }

    #[test]
    fn domain_md_fixtures_are_valid() {
        for raw in ["943 476 5919", "401 023 2137", "987 654 3210", "943-476-5919", " 9434765919 "]
        {
            assert!(NhsNumber::parse(raw).is_ok(), "{raw}");
        }
        assert_eq!(NhsNumber::parse("943 476 5919").unwrap().as_str(), "9434765919");
        assert_eq!(NhsNumber::parse("9434765919").unwrap().spaced(), "943 476 5919");
    }

    #[test]
    fn domain_md_counter_examples_fail_for_the_stated_reasons() {
        // Often quoted, but the computed check digit is 2.
        assert_eq!(
            NhsNumber::parse("987 654 4321"),
            Err(NhsNumberError::BadCheckDigit { expected: 2, found: 1 })
        );
        // The remainder gives 10: never issued.
        assert_eq!(NhsNumber::parse("999 123 4560"), Err(NhsNumberError::NoValidCheckDigit));
        let reason = NhsNumber::parse("9434765918").unwrap_err().to_string();
        assert_eq!(
            reason,
            "NHS number fails the Modulus 11 check (check digit should be 9, not 8)"
        );
    }

    #[test]
    fn shape_errors() {
        assert_eq!(NhsNumber::parse(" - "), Err(NhsNumberError::Empty));
        assert_eq!(
            NhsNumber::parse("943476591"),
            Err(NhsNumberError::NotTenDigits { length: 9, non_digit: None })
        );
        assert_eq!(
            NhsNumber::parse("94347659I9"),
            Err(NhsNumberError::NotTenDigits { length: 10, non_digit: Some('I') })
        );
        assert!(!NhsNumberError::Empty.is_check_digit_failure());
        assert!(NhsNumberError::NoValidCheckDigit.is_check_digit_failure());
    }

    #[test]
    fn statuses() {
        assert_eq!(NhsNumberStatus::parse(""), Ok(None));
        assert_eq!(NhsNumberStatus::parse("1"), Ok(Some(NhsNumberStatus::PresentVerified)));
        assert_eq!(NhsNumberStatus::parse(" 02 "), Ok(Some(NhsNumberStatus::PresentNotTraced)));
        assert_eq!(NhsNumberStatus::parse("08"), Ok(Some(NhsNumberStatus::TracePostponed)));
        for bad in ["00", "09", "0", "10", "001", "1a", "x"] {
            assert!(NhsNumberStatus::parse(bad).is_err(), "{bad}");
        }
        for status in NhsNumberStatus::ALL {
            assert_eq!(NhsNumberStatus::parse(status.code()), Ok(Some(status)));
        }
        assert_eq!(NhsNumberStatus::PresentVerified.strength(), NhsStrength::Strong);
        assert_eq!(NhsNumberStatus::PresentNotTraced.strength(), NhsStrength::Weak);
        assert_eq!(NhsNumberStatus::TraceRequired.strength(), NhsStrength::Missing);
    }

    #[test]
    fn the_test_range() {
        assert_eq!(test_range_len(), 909_091);
        let first = test_range_number(0).unwrap();
        assert!(first.is_test_range());
        assert_eq!(first.as_str(), "9990000018");
        assert!(test_range_number(test_range_len() - 1).is_some());
        assert!(test_range_number(test_range_len()).is_none());
    }
}
