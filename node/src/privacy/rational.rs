//! Exact non-negative rationals for privacy parameters (ε, ρ, a noise scale, σ²). Terms are kept
//! reduced and at most 2^32, so every product the samplers form fits in `u64`/`u128` with room to
//! spare; anything larger is refused here, at the boundary, with a clear error.

use std::fmt;
use std::str::FromStr;

/// A reduced fraction `num/den` with `den > 0` and both terms at most [`Ratio::MAX_TERM`].
///
/// Because the form is reduced, `==` is equality of values. Parsing accepts what a policy file
/// would say: `"1/2"`, `"0.25"`, `"3"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ratio {
    /// Numerator; may be zero (callers that need a positive value check for that).
    num: u64,
    /// Denominator; never zero.
    den: u64,
}

/// Why a rational was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RatioError {
    /// The text is not `a/b`, an integer or a plain decimal (signs and exponents are refused).
    #[error("`{0}` is not a non-negative rational such as 1/2, 0.25 or 3")]
    Malformed(String),
    /// A term of the reduced fraction exceeds [`Ratio::MAX_TERM`].
    #[error("{num}/{den} is too large: after reduction both terms must be at most 2^32")]
    TooLarge {
        /// The numerator as given (before the bound was applied).
        num: u128,
        /// The denominator as given.
        den: u128,
    },
    /// The denominator is zero.
    #[error("a rational cannot have a zero denominator")]
    ZeroDenominator,
}

impl Ratio {
    /// The largest numerator or denominator a `Ratio` may have (2^32).
    pub const MAX_TERM: u64 = 1 << 32;

    /// The reduced form of `num/den`.
    pub fn new(num: u64, den: u64) -> Result<Self, RatioError> {
        Self::from_u128(u128::from(num), u128::from(den))
    }

    /// The integer `n` as a ratio.
    pub fn integer(n: u64) -> Result<Self, RatioError> {
        Self::new(n, 1)
    }

    /// The reduced form of `num/den` computed in `u128`, for products of two terms.
    pub(crate) fn from_u128(num: u128, den: u128) -> Result<Self, RatioError> {
        if den == 0 {
            return Err(RatioError::ZeroDenominator);
        }
        let g = gcd(num, den);
        let (n, d) = (num / g, den / g);
        let max = u128::from(Self::MAX_TERM);
        if n > max || d > max {
            return Err(RatioError::TooLarge { num, den });
        }
        // Both are at most 2^32 here, so the conversions cannot fail; the fallback is unused.
        match (u64::try_from(n), u64::try_from(d)) {
            (Ok(num), Ok(den)) => Ok(Ratio { num, den }),
            _ => Err(RatioError::TooLarge { num, den }),
        }
    }

    /// The numerator of the reduced form.
    pub fn num(&self) -> u64 {
        self.num
    }

    /// The denominator of the reduced form (never zero).
    pub fn den(&self) -> u64 {
        self.den
    }

    /// Whether the value is zero.
    pub fn is_zero(&self) -> bool {
        self.num == 0
    }
}

impl FromStr for Ratio {
    type Err = RatioError;

    /// Parses `a/b`, an integer `a`, or a decimal `a.b` (e.g. `0.3` → 3/10), all exactly.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let malformed = || RatioError::Malformed(text.to_owned());
        let digits = |s: &str| -> Result<u128, RatioError> {
            // At most 20 digits keeps the value inside u128 with room for the decimal scaling.
            if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(malformed());
            }
            s.parse::<u128>().map_err(|_| malformed())
        };
        let text_trimmed = text.trim();
        if let Some((num, den)) = text_trimmed.split_once('/') {
            return Self::from_u128(digits(num.trim())?, digits(den.trim())?);
        }
        match text_trimmed.split_once('.') {
            Some((whole, frac)) => {
                let whole = if whole.is_empty() { 0 } else { digits(whole)? };
                let den = 10u128.checked_pow(u32::try_from(frac.len()).map_err(|_| malformed())?);
                let den = den.ok_or_else(malformed)?;
                let frac = digits(frac)?;
                let num = whole
                    .checked_mul(den)
                    .and_then(|w| w.checked_add(frac))
                    .ok_or_else(malformed)?;
                Self::from_u128(num, den)
            }
            None => Self::from_u128(digits(text_trimmed)?, 1),
        }
    }
}

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else {
            write!(f, "{}/{}", self.num, self.den)
        }
    }
}

/// Greatest common divisor (Euclid); `gcd(0, d) = d`.
pub(crate) fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_reduces_and_compares_by_value() {
        let half = Ratio::new(2, 4).unwrap();
        assert_eq!((half.num(), half.den()), (1, 2));
        assert_eq!(half, Ratio::new(1, 2).unwrap());
        assert_eq!(Ratio::new(0, 7).unwrap(), Ratio::integer(0).unwrap());
        assert!(Ratio::new(0, 7).unwrap().is_zero());
    }

    #[test]
    fn zero_denominator_and_oversized_terms_are_refused() {
        assert_eq!(Ratio::new(1, 0), Err(RatioError::ZeroDenominator));
        assert!(Ratio::new(Ratio::MAX_TERM, 1).is_ok());
        assert!(matches!(Ratio::new(Ratio::MAX_TERM + 1, 1), Err(RatioError::TooLarge { .. })));
        assert!(matches!(Ratio::new(1, u64::MAX), Err(RatioError::TooLarge { .. })));
        // Large terms that reduce to small ones are fine.
        assert_eq!(Ratio::new(u64::MAX, u64::MAX).unwrap(), Ratio::integer(1).unwrap());
    }

    #[test]
    fn parses_fractions_integers_and_decimals_exactly() {
        let parse = |s: &str| s.parse::<Ratio>();
        assert_eq!(parse("1/2").unwrap(), Ratio::new(1, 2).unwrap());
        assert_eq!(parse(" 6 / 4 ").unwrap(), Ratio::new(3, 2).unwrap());
        assert_eq!(parse("0.5").unwrap(), Ratio::new(1, 2).unwrap());
        assert_eq!(parse("0.3").unwrap(), Ratio::new(3, 10).unwrap());
        assert_eq!(parse(".25").unwrap(), Ratio::new(1, 4).unwrap());
        assert_eq!(parse("2.50").unwrap(), Ratio::new(5, 2).unwrap());
        assert_eq!(parse("3").unwrap(), Ratio::integer(3).unwrap());
        assert_eq!(parse("0").unwrap(), Ratio::integer(0).unwrap());
    }

    #[test]
    fn refuses_signs_exponents_garbage_and_zero_denominators() {
        for bad in ["-1", "-0.5", "+1", "1e-3", "abc", "", "1/", "/2", "1.2.3", "0x10", "1/2/3"] {
            assert!(
                matches!(bad.parse::<Ratio>(), Err(RatioError::Malformed(_))),
                "accepted {bad:?}"
            );
        }
        assert_eq!("1/0".parse::<Ratio>(), Err(RatioError::ZeroDenominator));
        assert!(matches!("4294967297".parse::<Ratio>(), Err(RatioError::TooLarge { .. })));
        assert!(matches!("0.0000000001".parse::<Ratio>(), Err(RatioError::TooLarge { .. })));
    }

    #[test]
    fn displays_as_a_fraction_or_an_integer() {
        assert_eq!(Ratio::new(5, 2).unwrap().to_string(), "5/2");
        assert_eq!(Ratio::new(4, 2).unwrap().to_string(), "2");
    }
}
