//! Identifiers with their real formats and check characters (domain.md §3): NHS numbers from the
//! 999 test range only, DfE Unique Pupil Numbers with their check letter, PNC IDs with their
//! Modulus 23 check character.

use fedlink_node::normalise::nhs::check_digit;
use rand::seq::SliceRandom as _;

use crate::rng::Rng;

/// Every valid NHS number in the test range 999 000 0000–999 999 9999 (domain.md §3.1: reserved
/// for testing and never issued), i.e. those whose nine-digit prefix has a check digit, in a
/// seeded random order, handed out one by one.
#[derive(Debug)]
pub struct NhsPool {
    numbers: Vec<u64>,
    next: usize,
}

impl NhsPool {
    /// All ~909,000 valid test-range numbers, shuffled by `rng`.
    pub fn new(rng: &mut Rng) -> NhsPool {
        let mut numbers = Vec::with_capacity(910_000);
        for serial in 0..1_000_000u64 {
            let prefix = 999_000_000 + serial;
            if let Some(check) = check_digit(&nine_digits(prefix)) {
                numbers.push(prefix * 10 + u64::from(check));
            }
        }
        numbers.shuffle(rng);
        NhsPool { numbers, next: 0 }
    }

    /// How many valid numbers the range holds.
    pub fn capacity(&self) -> usize {
        self.numbers.len()
    }

    /// The next unused number, if any remain.
    pub fn take(&mut self) -> Option<u64> {
        let n = self.numbers.get(self.next).copied();
        self.next += 1;
        n
    }
}

/// The nine digits of a nine-digit prefix.
pub fn nine_digits(prefix: u64) -> [u8; 9] {
    let mut d = [0u8; 9];
    let mut x = prefix;
    for slot in d.iter_mut().rev() {
        *slot = (x % 10) as u8;
        x /= 10;
    }
    d
}

/// Whether a ten-digit number passes Modulus 11.
pub fn nhs_valid(n: u64) -> bool {
    check_digit(&nine_digits(n / 10)) == Some((n % 10) as u8)
}

/// Check letters used by DfE UPNs and PNC IDs (no I, O or S).
const CHECK_LETTERS: &[u8; 23] = b"ABCDEFGHJKLMNPQRTUVWXYZ";

/// A DfE Unique Pupil Number: check letter, 3-digit LA code, 4-digit establishment number,
/// 2-digit year of allocation and 3-digit serial (domain.md §3.6). The check letter is the sum
/// of each of characters 2–13 times its position (2–13), modulo 23, as an index into
/// `ABCDEFGHJKLMNPQRTUVWXYZ` [verify against the DfE UPN guide].
pub fn upn(la: u16, establishment: u16, year: u16, serial: u16) -> String {
    let body = format!(
        "{:03}{:04}{:02}{:03}",
        la % 1000,
        establishment % 10_000,
        year % 100,
        serial % 1000
    );
    let sum: u32 =
        body.bytes().enumerate().map(|(i, b)| u32::from(b - b'0') * (i as u32 + 2)).sum();
    let letter = CHECK_LETTERS[(sum % 23) as usize] as char;
    format!("{letter}{body}")
}

/// A PNC ID `YYYY/NNNNNNNC`: the 2-digit year and 7-digit serial as one number, modulo 23, index
/// the check letters `ZABCDEFGHJKLMNPQRTUVWXY` (remainder 0 → Z) (domain.md §3.5).
pub fn pnc_id(year: u16, serial: u32) -> String {
    const PNC_LETTERS: &[u8; 23] = b"ZABCDEFGHJKLMNPQRTUVWXY";
    let n = u64::from(year % 100) * 10_000_000 + u64::from(serial % 10_000_000);
    let letter = PNC_LETTERS[(n % 23) as usize] as char;
    format!("{year:04}/{:07}{letter}", serial % 10_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;

    #[test]
    fn pool_holds_only_valid_test_range_numbers() {
        let mut pool = NhsPool::new(&mut stream(1, "nhs", 0));
        // domain.md §3.1: 1/11 of prefixes have no valid check digit → ~909,091 numbers.
        assert!((905_000..=912_000).contains(&pool.capacity()), "{}", pool.capacity());
        for _ in 0..1000 {
            let n = pool.take().unwrap();
            assert!((9_990_000_000..=9_999_999_999).contains(&n));
            assert!(nhs_valid(n));
        }
    }

    #[test]
    fn pnc_example_from_domain_notes() {
        // domain.md §3.5 [derived]: year 2001, serial 23456 → 2001/0023456K.
        assert_eq!(pnc_id(2001, 23_456), "2001/0023456K");
    }

    #[test]
    fn upn_has_thirteen_characters_and_a_check_letter() {
        let u = upn(991, 4012, 18, 7);
        assert_eq!(u.len(), 13);
        assert!(!u.starts_with(['I', 'O', 'S']));
    }
}
