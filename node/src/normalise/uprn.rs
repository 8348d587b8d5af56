//! UPRNs: the Unique Property Reference Number, a positive integer of up to 12 digits that
//! stays with a property for its whole life (domain.md §3.4).

use std::fmt;

/// The largest UPRN: twelve nines.
const MAX: u64 = 999_999_999_999;

/// A Unique Property Reference Number, 1–999 999 999 999. Made only by parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uprn(u64);

impl Uprn {
    /// Parses a raw UPRN. Empty is `Ok(None)`. Leading zeros are allowed (some extracts pad
    /// to 12 digits) as long as there are at most 12 digits in all; a trailing `.0` is allowed
    /// because spreadsheet exports write whole numbers that way. Scientific notation
    /// (`1.00012E+11`) is refused: its lost digits cannot be recovered.
    pub fn parse(raw: &str) -> Result<Option<Uprn>, UprnError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Ok(None);
        }
        let input = || trimmed.to_owned();
        let digits = match trimmed.split_once('.') {
            Some((whole, fraction)) if fraction.bytes().all(|b| b == b'0') => whole,
            _ => trimmed,
        };
        if digits.bytes().any(|b| b == b'E' || b == b'e') && digits.contains(['.', '+']) {
            return Err(UprnError::Scientific { input: input() });
        }
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(UprnError::NotDigits { input: input() });
        }
        if digits.len() > 12 {
            return Err(UprnError::TooLong { input: input() });
        }
        match digits.parse::<u64>() {
            Ok(0) => Err(UprnError::Zero),
            Ok(value) => Ok(Some(Uprn(value))),
            Err(_) => Err(UprnError::NotDigits { input: input() }),
        }
    }

    /// A UPRN from its value, if in range (1–999 999 999 999).
    pub fn from_value(value: u64) -> Result<Uprn, UprnError> {
        match value {
            0 => Err(UprnError::Zero),
            v if v > MAX => Err(UprnError::TooLong { input: v.to_string() }),
            v => Ok(Uprn(v)),
        }
    }

    /// The number.
    pub fn value(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Uprn {
    /// Decimal digits without leading zeros.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Why a value is not a UPRN. The `Display` text is the quarantine reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UprnError {
    /// Something other than digits.
    #[error("UPRN {input:?} is not a whole number")]
    NotDigits {
        /// The value as written (trimmed).
        input: String,
    },
    /// More than 12 digits.
    #[error("UPRN {input:?} has more than 12 digits")]
    TooLong {
        /// The value as written (trimmed).
        input: String,
    },
    /// Zero is not a UPRN.
    #[error("UPRN 0 is not a property")]
    Zero,
    /// Scientific notation, as spreadsheets write long numbers: digits have been lost.
    #[error("UPRN {input:?} is in scientific notation, so its digits are lost")]
    Scientific {
        /// The value as written (trimmed).
        input: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted() {
        assert_eq!(Uprn::parse(" 100012345678 ").unwrap().unwrap().value(), 100_012_345_678);
        assert_eq!(Uprn::parse("000010012345").unwrap().unwrap().to_string(), "10012345");
        assert_eq!(Uprn::parse("10012345.0").unwrap().unwrap().value(), 10_012_345);
        assert_eq!(Uprn::parse("1").unwrap().unwrap().value(), 1);
        assert_eq!(Uprn::parse(""), Ok(None));
        assert_eq!(Uprn::from_value(42).unwrap().value(), 42);
    }

    #[test]
    fn refused() {
        assert_eq!(Uprn::parse("0"), Err(UprnError::Zero));
        assert_eq!(Uprn::parse("000"), Err(UprnError::Zero));
        assert!(matches!(Uprn::parse("1000123456789"), Err(UprnError::TooLong { .. })));
        assert!(matches!(Uprn::parse("1.00012E+11"), Err(UprnError::Scientific { .. })));
        for bad in ["-5", "12a", "1 2", "10.5", ".", "+1"] {
            assert!(matches!(Uprn::parse(bad), Err(UprnError::NotDigits { .. })), "{bad}");
        }
        assert!(Uprn::from_value(0).is_err());
        assert!(Uprn::from_value(MAX + 1).is_err());
    }
}
