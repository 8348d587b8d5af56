//! Corruption primitives (GeCo/Gecko-style, domain.md §9(a)7): keyboard typos, hyphen and
//! diacritic changes, wrong dates of birth, NHS numbers keyed wrongly, postcode formatting.
//! Each returns a changed copy; none can produce an impossible date or leave the 999 range.

use crate::date::Date;
use crate::ids::nhs_valid;
use crate::rng::{Rng, between, chance, index, weighted};

/// Neighbouring keys on a UK QWERTY keyboard, for substitution typos.
fn neighbours(c: char) -> &'static str {
    match c.to_ascii_lowercase() {
        'q' => "wa",
        'w' => "qes",
        'e' => "wrd",
        'r' => "etf",
        't' => "ryg",
        'y' => "tuh",
        'u' => "yij",
        'i' => "uok",
        'o' => "ipl",
        'p' => "ol",
        'a' => "qsz",
        's' => "adwx",
        'd' => "sfe",
        'f' => "dgr",
        'g' => "fht",
        'h' => "gjy",
        'j' => "hku",
        'k' => "jli",
        'l' => "ko",
        'z' => "xa",
        'x' => "zcs",
        'c' => "xvd",
        'v' => "cbf",
        'b' => "vng",
        'n' => "bmh",
        'm' => "nj",
        _ => "e",
    }
}

/// One typing error: substitution by a neighbouring key, deletion, doubling or transposition
/// of adjacent letters. Names of one letter are left alone.
pub fn typo(s: &str, rng: &mut Rng) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    let letters: Vec<usize> =
        chars.iter().enumerate().filter(|(_, c)| c.is_alphabetic()).map(|(i, _)| i).collect();
    if letters.len() < 2 {
        return s.to_string();
    }
    // Leave the first letter alone most of the time: clerks rarely mistype it.
    let pick = 1 + index(rng, letters.len() - 1);
    let i = letters[pick];
    match weighted(rng, &[(0u8, 0.4), (1, 0.2), (2, 0.15), (3, 0.25)]) {
        0 => {
            let n = neighbours(chars[i]);
            let mut r = n.chars().nth(index(rng, n.len())).unwrap_or('e');
            if chars[i].is_uppercase() {
                r = r.to_ascii_uppercase();
            }
            chars[i] = r;
        }
        1 => {
            chars.remove(i);
        }
        2 => chars.insert(i, chars[i]),
        _ => {
            // Swap with the next letter (never moving the first letter).
            match letters.get(pick + 1) {
                Some(&k) if k == i + 1 => chars.swap(i, k),
                _ if pick >= 2 && letters[pick - 1] + 1 == i => chars.swap(i - 1, i),
                _ => {
                    chars.remove(i);
                }
            }
        }
    }
    chars.into_iter().collect()
}

/// The name without diacritics (Wójcik → Wojcik), as ASCII-only systems store it.
pub fn strip_diacritics(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'ą' | 'ă' | 'â' | 'á' | 'à' | 'ã' => 'a',
            'Ą' | 'Ă' | 'Â' | 'Á' => 'A',
            'ć' | 'č' | 'ç' => 'c',
            'Ć' | 'Č' => 'C',
            'ę' | 'é' | 'è' | 'ê' | 'ė' => 'e',
            'Ę' | 'É' => 'E',
            'ł' => 'l',
            'Ł' => 'L',
            'ń' | 'ñ' => 'n',
            'ó' | 'õ' | 'ô' => 'o',
            'Ó' => 'O',
            'ś' | 'š' | 'ș' => 's',
            'Ś' | 'Š' | 'Ș' => 'S',
            'ț' => 't',
            'Ț' => 'T',
            'ź' | 'ż' | 'ž' => 'z',
            'Ź' | 'Ż' | 'Ž' => 'Z',
            'î' | 'í' => 'i',
            'ū' | 'ú' => 'u',
            other => other,
        })
        .collect()
}

/// A changed hyphenated surname: space for hyphen, run together, or only one part.
pub fn hyphen_variant(s: &str, rng: &mut Rng) -> String {
    let Some((a, b)) = s.split_once('-') else { return s.to_string() };
    match index(rng, 4) {
        0 => format!("{a} {b}"),
        1 => format!("{a}{b}"),
        2 => a.to_string(),
        _ => b.to_string(),
    }
}

/// A wrong but possible date of birth: day and month swapped (if both ≤ 12), a day or month
/// digit wrong, or the year off by one or ten.
pub fn wrong_dob(d: Date, rng: &mut Rng) -> Date {
    let (y, m, day) = d.ymd();
    for _ in 0..10 {
        let (ny, nm, nd) = match index(rng, 4) {
            0 if day <= 12 && day != m => (y, day, m),
            1 => (y, m, (day as i64 + between(rng, -9, 9)).clamp(1, 28) as u32),
            2 => (y, (m as i64 + between(rng, -2, 2)).clamp(1, 12) as u32, day),
            _ => (
                y + if chance(rng, 0.7) { if chance(rng, 0.5) { 1 } else { -1 } } else { 10 },
                m,
                day,
            ),
        };
        if (ny, nm, nd) != (y, m, day) && Date::is_valid(ny, nm, nd) {
            return Date::from_ymd(ny, nm, nd);
        }
    }
    d.add_days(1)
}

/// An estimated date of birth: 1 January (or 1 July) of the year someone looked to be born,
/// give or take two years, as police record "approx age 30".
pub fn estimated_dob(d: Date, rng: &mut Rng) -> Date {
    let y = d.year() + between(rng, -2, 2) as i32;
    if chance(rng, 0.8) { Date::from_ymd(y, 1, 1) } else { Date::from_ymd(y, 7, 1) }
}

/// An NHS number keyed wrongly: one digit changed, or two adjacent digits swapped, anywhere
/// after the 999 prefix. Modulus 11 catches every such error (domain.md §3.1); the result is
/// checked to fail and to stay in the 999 range.
pub fn keyed_nhs(n: u64, rng: &mut Rng) -> u64 {
    let digits: Vec<u8> = format!("{n:010}").bytes().map(|b| b - b'0').collect();
    for _ in 0..20 {
        let mut d = digits.clone();
        if chance(rng, 0.6) {
            let i = 3 + index(rng, 7);
            let old = d[i];
            d[i] = (old + 1 + index(rng, 9) as u8) % 10;
        } else {
            let i = 3 + index(rng, 6);
            d.swap(i, i + 1);
        }
        let m = d.iter().fold(0u64, |acc, &x| acc * 10 + u64::from(x));
        if m != n && !nhs_valid(m) {
            return m;
        }
    }
    n
}

/// A postcode as a clerk might key it: without its space, or in lower case.
pub fn postcode_format(p: &str, rng: &mut Rng) -> String {
    if chance(rng, 0.5) { p.replace(' ', "") } else { p.to_lowercase() }
}

/// Title case for names held in upper case ("O'BRIEN" → "O'Brien", "SMITH-JONES" →
/// "Smith-Jones").
pub fn title_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        start = !c.is_alphabetic();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::stream;

    #[test]
    fn keyed_numbers_fail_the_check_and_stay_in_range() {
        let mut rng = stream(2, "corrupt", 0);
        let good = 9_434_765_919u64; // domain.md §3.1 worked example (outside 999 only here)
        assert!(nhs_valid(good));
        for _ in 0..500 {
            let n = 9_990_000_000 + between(&mut rng, 0, 9_999_999) as u64;
            if !nhs_valid(n) {
                continue;
            }
            let k = keyed_nhs(n, &mut rng);
            assert!(!nhs_valid(k));
            assert!((9_990_000_000..=9_999_999_999).contains(&k));
        }
    }

    #[test]
    fn corruptions_are_plausible() {
        let mut rng = stream(2, "corrupt", 1);
        for _ in 0..200 {
            let t = typo("Stephenson", &mut rng);
            assert!(t.starts_with('S') && (8..=11).contains(&t.len()), "{t}");
            let d = wrong_dob(Date::from_ymd(1990, 2, 28), &mut rng);
            assert_ne!(d, Date::from_ymd(1990, 2, 28));
        }
        assert_eq!(strip_diacritics("Wójcik Łukasz"), "Wojcik Lukasz");
        assert_eq!(title_case("O'BRIEN-SMITH"), "O'Brien-Smith");
        assert!(wrong_dob(Date::from_ymd(2001, 3, 4), &mut stream(1, "x", 3)).year() > 1990);
    }
}
