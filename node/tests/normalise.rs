//! Property tests for the identifier normalisers (issue 3): no panics on any input, canonical
//! output alphabets, idempotence, round trips, and the NHS check digit's detection guarantees.

use fedlink_node::normalise::address::house_number;
use fedlink_node::normalise::date::{Date, DateField, parse_date, parse_datetime};
use fedlink_node::normalise::name::{NameField, normalise_name, split_alias};
use fedlink_node::normalise::nhs::{NhsNumber, check_digit, test_range_len, test_range_number};
use fedlink_node::normalise::postcode::{PostcodeField, parse_postcode};
use fedlink_node::normalise::sex::{Sex, parse_sex};
use fedlink_node::normalise::uprn::Uprn;
use proptest::prelude::*;

/// domain.md §3.3's validation regex, with the optional space made a single required one.
const POSTCODE_REGEX: &str = concat!(
    "(GIR 0AA|[A-PR-UWYZ]([0-9]{1,2}|([A-HK-Y][0-9]([0-9ABEHMNPRV-Y])?)|[0-9][A-HJKPS-UW])",
    " [0-9][ABD-HJLNP-UW-Z]{2})"
);

/// Nine digits with a valid check digit, as the ten digits.
fn valid_nhs() -> impl Strategy<Value = [u8; 10]> {
    proptest::array::uniform9(0u8..10).prop_filter_map("no check digit", |nine| {
        let check = check_digit(&nine)?;
        let mut ten = [0u8; 10];
        ten[..9].copy_from_slice(&nine);
        ten[9] = check;
        Some(ten)
    })
}

fn digits_to_string(digits: &[u8]) -> String {
    digits.iter().map(|d| char::from(b'0' + d)).collect()
}

proptest! {
    #[test]
    fn nhs_valid_numbers_parse_and_round_trip(ten in valid_nhs(), spaced in any::<bool>()) {
        let plain = digits_to_string(&ten);
        let raw = if spaced {
            format!("{} {}-{}", &plain[..3], &plain[3..6], &plain[6..])
        } else {
            plain.clone()
        };
        let number = NhsNumber::parse(&raw).unwrap();
        prop_assert_eq!(number.as_str(), plain.as_str());
        prop_assert_eq!(NhsNumber::parse(&number.to_string()).unwrap(), number);
        prop_assert_eq!(NhsNumber::parse(&number.spaced()).unwrap(), number);
    }

    #[test]
    fn nhs_every_substitution_is_detected(
        ten in valid_nhs(),
        position in 0usize..10,
        delta in 1u8..10,
    ) {
        let mut wrong = ten;
        wrong[position] = (wrong[position] + delta) % 10;
        prop_assert!(NhsNumber::parse(&digits_to_string(&wrong)).is_err());
    }

    #[test]
    fn nhs_every_adjacent_transposition_is_detected(ten in valid_nhs(), position in 0usize..9) {
        if ten[position] == ten[position + 1] {
            return Ok(()); // Swapping equal digits changes nothing.
        }
        let mut wrong = ten;
        wrong.swap(position, position + 1);
        prop_assert!(NhsNumber::parse(&digits_to_string(&wrong)).is_err());
    }

    #[test]
    fn nhs_never_panics(raw in ".{0,20}") {
        if let Ok(number) = NhsNumber::parse(&raw) {
            let digits = number.as_str();
            prop_assert!(digits.len() == 10 && digits.bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn nhs_test_range_numbers_are_valid_and_ascending(serial in 0u32..909_090) {
        let a = test_range_number(serial).unwrap();
        let b = test_range_number(serial + 1).unwrap();
        prop_assert!(a.is_test_range() && b.is_test_range() && a < b);
        prop_assert_eq!(NhsNumber::parse(a.as_str()).unwrap(), a);
    }

    #[test]
    fn names_never_panic_and_are_canonical(raw in "\\PC{0,40}") {
        if let NameField::Present(name) = normalise_name(&raw) {
            prop_assert!(!name.tokens().is_empty());
            for token in name.tokens() {
                prop_assert!(!token.is_empty() && token.bytes().all(|b| b.is_ascii_uppercase()));
            }
            // Idempotent: the display form normalises to the same name.
            prop_assert_eq!(normalise_name(&name.to_string()), NameField::Present(name.clone()));
            prop_assert_eq!(name.joined(), name.tokens().concat());
        }
    }

    #[test]
    fn names_ignore_case_and_apostrophes(raw in "[A-Za-z' -]{1,30}") {
        prop_assume!(raw.bytes().any(|b| b.is_ascii_alphabetic()));
        let plain: String = raw.chars().filter(|c| *c != '\'').collect();
        prop_assert_eq!(normalise_name(&raw.to_lowercase()), normalise_name(&raw.to_uppercase()));
        prop_assert_eq!(normalise_name(&raw), normalise_name(&plain));
        prop_assert_eq!(normalise_name(&raw.replace('-', " ")), normalise_name(&raw));
    }

    #[test]
    fn aliases_never_panic(raw in "\\PC{0,60}") {
        for (fore, sur) in split_alias(&raw) {
            for field in [fore, sur] {
                if let NameField::Present(name) = field {
                    let upper = |t: &String| t.bytes().all(|b| b.is_ascii_uppercase());
                    prop_assert!(name.tokens().iter().all(upper));
                }
            }
        }
    }

    #[test]
    fn dates_round_trip(year in 1u16..=9999, month in 1u8..=12, day in 1u8..=31) {
        let Ok(date) = Date::from_ymd(year, month, day) else {
            // Only days past the month's end are refused.
            prop_assert!(day > 28);
            return Ok(());
        };
        let expect = |field: DateField| match field {
            DateField::Known(d) | DateField::Sentinel(d) => d == date,
            DateField::Missing => false,
        };
        let iso = date.to_string();
        let mon =
            ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        let forms = [
            iso.clone(),
            format!("{day:02}/{month:02}/{year:04}"),
            format!("{day}/{month}/{year:04}"),
            format!("{year:04}{month:02}{day:02}"),
            format!("{day}-{}-{year:04}", mon[usize::from(month) - 1]),
        ];
        for form in forms {
            prop_assert!(expect(parse_date(&form).unwrap()), "{}", form);
        }
        prop_assert_eq!(date.is_sentinel(), matches!(parse_date(&iso), Ok(DateField::Sentinel(_))));
        let at_midnight = parse_datetime(&iso).unwrap().unwrap();
        prop_assert_eq!(at_midnight.date(), date);
        prop_assert_eq!(parse_datetime(&at_midnight.to_string()).unwrap(), Some(at_midnight));
        if let Some(swapped) = date.swapped() {
            prop_assert_ne!(swapped, date);
            prop_assert_eq!(swapped.swapped(), Some(date));
        }
    }

    #[test]
    fn datetimes_round_trip(
        day in 1u8..=28,
        month in 1u8..=12,
        h in 0u8..24,
        m in 0u8..60,
        s in 0u8..60,
    ) {
        let raw = format!("2024-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}");
        let at = parse_datetime(&raw).unwrap().unwrap();
        prop_assert_eq!(at.to_string(), raw);
        prop_assert_eq!((at.hour(), at.minute(), at.second()), (h, m, s));
    }

    #[test]
    fn dates_never_panic(raw in "\\PC{0,30}") {
        let _ = parse_date(&raw);
        let _ = parse_datetime(&raw);
    }

    #[test]
    fn valid_postcodes_normalise_to_one_canonical_form(
        postcode in POSTCODE_REGEX,
        lower in any::<bool>(),
        spaces in 0usize..3,
    ) {
        let (outward, inward) = postcode.split_once(' ').unwrap();
        let mut raw = format!("{outward}{}{inward}", " ".repeat(spaces));
        if lower {
            raw = raw.to_lowercase();
        }
        let parsed = parse_postcode(&raw).unwrap().valid().unwrap();
        prop_assert_eq!(parsed.as_str(), postcode.as_str());
        prop_assert_eq!(parse_postcode(parsed.as_str()).unwrap(), PostcodeField::Valid(parsed));
        prop_assert_eq!(parsed.no_space(), format!("{outward}{inward}"));
        prop_assert_eq!(format!("{} {}", parsed.outward(), parsed.inward()), postcode.clone());
        prop_assert!(parsed.sector().starts_with(parsed.district()));
        prop_assert!(parsed.outward().starts_with(parsed.area()));
    }

    #[test]
    fn postcode_rules_agree_with_the_regex(
        postcode in POSTCODE_REGEX,
        at in 0usize..8,
        with in "[A-Z0-9]",
    ) {
        // Mutate one character of a valid postcode: near misses are where hand-written rules
        // go wrong.
        let mut chars: Vec<char> = postcode.replace(' ', "").chars().collect();
        let at = at % chars.len();
        chars[at] = with.chars().next().unwrap();
        let code: String = chars.iter().collect();
        prop_assume!(!code.starts_with("ZZ99"));
        let spaced = format!("{} {}", &code[..code.len() - 3], &code[code.len() - 3..]);
        let regex = regex::Regex::new(&format!("^{POSTCODE_REGEX}$")).unwrap();
        let ours = matches!(parse_postcode(&code), Ok(PostcodeField::Valid(_)));
        prop_assert_eq!(ours, regex.is_match(&spaced), "{}", spaced);
    }

    #[test]
    fn postcodes_never_panic(raw in "\\PC{0,12}") {
        if let Ok(PostcodeField::Valid(p)) = parse_postcode(&raw) {
            let canonical = |b: u8| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' ';
            prop_assert!(p.as_str().bytes().all(canonical));
            prop_assert_eq!(p.as_str().matches(' ').count(), 1);
        }
    }

    #[test]
    fn uprns_round_trip(value in 1u64..=999_999_999_999) {
        let uprn = Uprn::parse(&value.to_string()).unwrap().unwrap();
        prop_assert_eq!(uprn.value(), value);
        prop_assert_eq!(Uprn::parse(&format!("{value:012}")).unwrap(), Some(uprn));
        prop_assert_eq!(Uprn::parse(&uprn.to_string()).unwrap(), Some(uprn));
    }

    #[test]
    fn uprns_never_panic(raw in "\\PC{0,16}") {
        if let Ok(Some(uprn)) = Uprn::parse(&raw) {
            prop_assert!(uprn.value() >= 1 && uprn.value() <= 999_999_999_999);
        }
    }

    #[test]
    fn sex_never_panics(raw in "\\PC{0,12}") {
        if let Ok(sex) = parse_sex(&raw) {
            prop_assert_eq!(parse_sex(sex.code()), Ok(sex));
        }
    }

    #[test]
    fn house_numbers_are_canonical(raw in "\\PC{0,40}") {
        if let Some(number) = house_number(&raw) {
            let digits = number.bytes().take_while(u8::is_ascii_digit).count();
            prop_assert!((1..=4).contains(&digits) && !number.starts_with('0'));
            prop_assert!(number.len() - digits <= 1);
            prop_assert!(number.bytes().skip(digits).all(|b| b.is_ascii_uppercase()));
            prop_assert_eq!(house_number(&number), Some(number.clone()));
        }
    }
}

#[test]
fn one_prefix_in_eleven_has_no_check_digit() {
    // Over a sample of a million nine-digit prefixes spread across the whole space.
    let mut none = 0u32;
    for i in 0..1_000_000u64 {
        let mut prefix = i * 997 % 1_000_000_000;
        let mut nine = [0u8; 9];
        for slot in nine.iter_mut().rev() {
            *slot = (prefix % 10) as u8;
            prefix /= 10;
        }
        none += u32::from(check_digit(&nine).is_none());
    }
    let share = f64::from(none) / 1_000_000.0;
    assert!((share - 1.0 / 11.0).abs() < 0.001, "share {share}");
    // The test range holds the other 10/11 of its million prefixes.
    assert_eq!(test_range_len(), 1_000_000 - 90_909);
}

#[test]
fn every_sex_code_round_trips() {
    for sex in Sex::ALL {
        assert_eq!(parse_sex(sex.code()), Ok(sex));
        assert_eq!(parse_sex(&sex.code().to_lowercase()), Ok(sex));
    }
}
