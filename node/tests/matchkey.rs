//! Match keys (issue 4): each relaxed key type survives the error it is meant to survive, keys
//! are absent (not empty) when a field is missing, placeholders make no keys, and every key
//! string is well formed.

use std::collections::HashSet;

use fedlink_node::matchkey::phonetic::nysiis_full;
use fedlink_node::matchkey::{
    Identifiers, KeyType, MatchKey, canonical_forename, derive_keys, derive_keys_of, nysiis,
};
use fedlink_node::normalise::date::parse_date;
use fedlink_node::normalise::name::normalise_name;
use fedlink_node::normalise::nhs::{NhsNumber, NhsNumberStatus};
use fedlink_node::normalise::postcode::parse_postcode;
use fedlink_node::normalise::uprn::Uprn;
use proptest::prelude::*;

/// Identifiers as the importer builds them from raw fields: placeholders and sentinels → None.
fn person(forenames: &str, surname: &str, dob: &str, postcode: &str) -> Identifiers {
    Identifiers {
        forenames: normalise_name(forenames).present(),
        surname: normalise_name(surname).present(),
        dob: parse_date(dob).ok().and_then(|d| d.known()),
        postcode: parse_postcode(postcode).ok().and_then(|p| p.valid()),
        ..Identifiers::default()
    }
}

fn of_type(keys: &[MatchKey], key_type: KeyType) -> HashSet<String> {
    keys.iter().filter(|k| k.key_type() == key_type).map(|k| k.value().to_owned()).collect()
}

fn share(a: &Identifiers, b: &Identifiers, key_type: KeyType) -> bool {
    let (a, b) = (derive_keys(a), derive_keys(b));
    !of_type(&a, key_type).is_disjoint(&of_type(&b, key_type))
}

/// Key types that need a date of birth.
const DOB_KEYS: [KeyType; 15] = [
    KeyType::NameYearMonth,
    KeyType::NameMonthDay,
    KeyType::NameYearDay,
    KeyType::ForenameDeletionDob,
    KeyType::SurnameDeletionDob,
    KeyType::NameDob,
    KeyType::NameSurnamePartDob,
    KeyType::InitialSurnameDob,
    KeyType::PhoneticNameDob,
    KeyType::DobSwapNameDob,
    KeyType::TransposedNameDob,
    KeyType::NicknameDob,
    KeyType::NamePostcodeBirthYear,
    KeyType::SurnameDobPostcode,
    KeyType::ForenameDobPostcode,
];

#[test]
fn a_full_record_has_every_key_in_the_documented_form() {
    let mut ids = person("John Paul", "Smith", "02/01/1980", "ch1 2ab");
    ids.nhs_number = Some(NhsNumber::parse("943 476 5919").unwrap());
    ids.uprn = Uprn::parse("100012345678").unwrap();
    ids.parent_uprn = Uprn::parse("100012345600").unwrap();
    ids.house_number = Some("14".into());
    let keys: Vec<String> = derive_keys(&ids).iter().map(ToString::to_string).collect();
    assert_eq!(
        keys,
        [
            "nhs/1:9434765919",
            "name_dob/1:JOHN|SMITH|1980-01-02",
            "name_surpart_dob/1:JOHN|SMITH|1980-01-02",
            "init_sur_dob/1:J|SMITH|1980-01-02",
            "phon_name_dob/1:JAN|SNAT|1980-01-02",
            "dobswap_name_dob/1:JOHN|SMITH|1980|01-02",
            "transposed_name_dob/1:JOHN|SMITH|1980-01-02",
            "nick_name_dob/1:JOHN|SMITH|1980-01-02",
            "name_dob_ym/1:JOHN|SMITH|1980-01",
            "name_dob_md/1:JOHN|SMITH|01-02",
            "name_dob_yd/1:JOHN|SMITH|1980-02",
            "foredel_sur_dob/1:JOHN|SMITH|1980-01-02",
            "foredel_sur_dob/1:OHN|SMITH|1980-01-02",
            "foredel_sur_dob/1:JHN|SMITH|1980-01-02",
            "foredel_sur_dob/1:JON|SMITH|1980-01-02",
            "foredel_sur_dob/1:JOH|SMITH|1980-01-02",
            "fore_surdel_dob/1:JOHN|SMITH|1980-01-02",
            "fore_surdel_dob/1:JOHN|MITH|1980-01-02",
            "fore_surdel_dob/1:JOHN|SITH|1980-01-02",
            "fore_surdel_dob/1:JOHN|SMTH|1980-01-02",
            "fore_surdel_dob/1:JOHN|SMIH|1980-01-02",
            "fore_surdel_dob/1:JOHN|SMIT|1980-01-02",
            "name_pcd_yob/1:JOHN|SMITH|CH12AB|1980",
            "sur_dob_pcd/1:SMITH|1980-01-02|CH12AB",
            "fore_dob_pcd/1:JOHN|1980-01-02|CH12AB",
            "uprn/1:100012345678",
            "parent_uprn/1:100012345600",
            "pcd_house/1:CH12AB|14",
        ]
    );
}

#[test]
fn one_typo_in_a_name_shares_a_deletion_key_and_a_wrong_dob_part_a_partial_dob_key() {
    let truth = person("Andrew", "Walden", "1965-02-09", "");
    for typo in
        [("Andeew", "Walden"), ("Andrw", "Walden"), ("Andrrew", "Walden"), ("Anrdew", "Walden")]
    {
        let typo = person(typo.0, typo.1, "1965-02-09", "");
        assert!(share(&truth, &typo, KeyType::ForenameDeletionDob));
        assert!(!share(&truth, &typo, KeyType::NameDob));
    }
    let surname = person("Andrew", "Waldne", "1965-02-09", "");
    assert!(share(&truth, &surname, KeyType::SurnameDeletionDob));
    // Two typos in one name are beyond the fuzzy tier.
    assert!(!share(
        &truth,
        &person("Andeeq", "Walden", "1965-02-09", ""),
        KeyType::ForenameDeletionDob
    ));
    let year = person("Andrew", "Walden", "1966-02-09", "");
    assert!(
        share(&truth, &year, KeyType::NameMonthDay)
            && !share(&truth, &year, KeyType::NameYearMonth)
    );
    let day = person("Andrew", "Walden", "1965-02-19", "");
    assert!(share(&truth, &day, KeyType::NameYearMonth));
    let month = person("Andrew", "Walden", "1965-04-09", "");
    assert!(share(&truth, &month, KeyType::NameYearDay));
}

#[test]
fn a_day_month_swap_shares_the_dobswap_key() {
    let truth = person("John", "Smith", "1980-01-02", "");
    let swapped = person("John", "Smith", "1980-02-01", "");
    assert!(share(&truth, &swapped, KeyType::DobSwapNameDob));
    assert!(!share(&truth, &swapped, KeyType::NameDob));
    // Day over 12: no swap is possible, and the key is absent rather than empty.
    let late = person("John", "Smith", "1980-01-13", "");
    assert!(of_type(&derive_keys(&late), KeyType::DobSwapNameDob).is_empty());
}

#[test]
fn transposed_names_share_the_transposed_key() {
    let truth = person("John", "Smith", "1980-01-02", "");
    let transposed = person("Smith", "John", "1980-01-02", "");
    assert!(share(&truth, &transposed, KeyType::TransposedNameDob));
    assert!(!share(&truth, &transposed, KeyType::NameDob));
}

#[test]
fn bob_and_robert_share_the_nickname_key() {
    let robert = person("Robert", "Smith", "1980-01-02", "");
    let bob = person("Bob", "Smith", "1980-01-02", "");
    assert!(share(&robert, &bob, KeyType::NicknameDob));
    assert!(!share(&robert, &bob, KeyType::NameDob));
    let peggy = person("Peggy", "Jones", "1950-06-07", "");
    let margaret = person("Margaret", "Jones", "1950-06-07", "");
    assert!(share(&peggy, &margaret, KeyType::NicknameDob));
}

#[test]
fn other_relaxations_survive_their_errors() {
    let truth = person("Catherine", "Smyth", "1980-01-02", "CH1 2AB");
    let misspelt = person("Katherine", "Smythe", "1980-01-02", "CH1 2AB");
    assert!(share(&truth, &misspelt, KeyType::PhoneticNameDob));
    let initial = person("C", "Smyth", "1980-01-02", "");
    assert!(share(&truth, &initial, KeyType::InitialSurnameDob));
    let married = person("Catherine", "Jones", "1980-01-02", "ch12ab");
    assert!(share(&truth, &married, KeyType::ForenameDobPostcode));
    let wrong_day = person("Catherine", "Smyth", "1980-01-20", "CH1 2AB");
    assert!(share(&truth, &wrong_day, KeyType::NamePostcodeBirthYear));
    let wrong_forename = person("Kate", "Smyth", "1980-01-02", "CH1 2AB");
    assert!(share(&truth, &wrong_forename, KeyType::SurnameDobPostcode));
    let double = person("Catherine", "Smyth-Jones", "1980-01-02", "");
    assert!(share(&truth, &double, KeyType::NameSurnamePartDob));
    assert!(!share(&truth, &double, KeyType::NameDob));
    let spaced = person("Catherine", "Smyth Jones", "1980-01-02", "");
    assert!(share(&double, &spaced, KeyType::NameDob));
}

#[test]
fn no_dob_means_no_dob_keys() {
    for dob in ["", "1900-01-01", "11/11/1811"] {
        let mut ids = person("John", "Smith", dob, "CH1 2AB");
        ids.uprn = Uprn::parse("12345").unwrap();
        let keys = derive_keys(&ids);
        assert!(keys.iter().all(|k| !DOB_KEYS.contains(&k.key_type())), "{dob:?}: {keys:?}");
        assert_eq!(keys.len(), 1, "only the UPRN key");
        assert!(keys.iter().all(|k| !k.value().is_empty()));
    }
}

#[test]
fn placeholders_make_no_keys() {
    // Design review F17: two unrelated people of no fixed abode with the same surname.
    let a = person("John", "Smith", "1980-01-02", "ZZ99 3VZ");
    let b = person("Mary", "Smith", "1980-01-02", "ZZ99 3VZ");
    assert!(a.postcode.is_none());
    let (ka, kb) = (derive_keys(&a), derive_keys(&b));
    assert!(ka.iter().all(|k| !k.value().contains("ZZ99")));
    for key_type in
        [KeyType::SurnameDobPostcode, KeyType::NamePostcodeBirthYear, KeyType::PostcodeHouse]
    {
        assert!(of_type(&ka, key_type).is_empty() && of_type(&kb, key_type).is_empty());
    }
    assert!(derive_keys(&person("Unknown", "Baby of Smith", "1980-01-02", "")).is_empty());
    let unknown_forename = derive_keys(&person("UNKNOWN", "Smith", "1980-01-02", "CH1 2AB"));
    let types: Vec<KeyType> = unknown_forename.iter().map(MatchKey::key_type).collect();
    assert_eq!(types, [KeyType::SurnameDobPostcode]);
}

#[test]
fn nhs_key_follows_the_status() {
    let mut ids =
        Identifiers { nhs_number: NhsNumber::parse("4010232137").ok(), ..Identifiers::default() };
    assert_eq!(derive_keys(&ids).len(), 1, "no status column: keyed");
    for (code, keyed) in [("01", true), ("02", true), ("03", false), ("04", false), ("08", false)] {
        ids.nhs_status = NhsNumberStatus::parse(code).unwrap();
        assert_eq!(derive_keys(&ids).len(), usize::from(keyed), "status {code}");
    }
}

#[test]
fn aliases_add_name_keys_once() {
    let mut ids = person("Robert", "Smith", "1980-01-02", "");
    let alias = |f: &str, s: &str| {
        (normalise_name(f).present().unwrap(), normalise_name(s).present().unwrap())
    };
    ids.aliases = vec![alias("Bobby", "Smith"), alias("Robert", "Smith")];
    let keys = derive_keys(&ids);
    assert_eq!(of_type(&keys, KeyType::NameDob).len(), 2, "ROBERT and BOBBY, the duplicate once");
    assert_eq!(of_type(&keys, KeyType::NicknameDob).len(), 1, "both canonicalise to ROBERT");
    let unique: HashSet<_> = keys.iter().collect();
    assert_eq!(unique.len(), keys.len());
}

#[test]
fn bad_house_numbers_count_as_missing() {
    for house in ["", "12|3", "flat 1"] {
        let mut ids = person("", "", "", "CH1 2AB");
        ids.house_number = Some(house.into());
        assert!(derive_keys(&ids).is_empty(), "{house:?}");
    }
}

/// The number of `|`-separated fields each key type's value has.
fn field_count(key_type: KeyType) -> usize {
    match key_type {
        KeyType::Nhs | KeyType::Uprn | KeyType::ParentUprn => 1,
        KeyType::PostcodeHouse => 2,
        KeyType::DobSwapNameDob | KeyType::NamePostcodeBirthYear => 4,
        _ => 3,
    }
}

proptest! {
    #[test]
    fn keys_are_well_formed(
        fore in "\\PC{0,20}",
        sur in "\\PC{0,20}",
        dob in "(19[0-9]{2}|20[0-2][0-9])-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|",
        pcd in "[A-Z]{1,2}[0-9] [0-9][A-Z]{2}|ZZ99 3VZ|",
        house in proptest::option::of("[1-9][0-9]{0,2}[A-Z]?"),
    ) {
        let mut ids = person(&fore, &sur, &dob, &pcd);
        ids.house_number = house;
        let keys = derive_keys(&ids);
        let unique: HashSet<_> = keys.iter().collect();
        prop_assert_eq!(unique.len(), keys.len());
        for key in &keys {
            let fields: Vec<&str> = key.value().split('|').collect();
            prop_assert_eq!(fields.len(), field_count(key.key_type()), "{}", key);
            prop_assert!(fields.iter().all(|f| !f.is_empty()), "{}", key);
            let allowed = |b: u8| b.is_ascii_uppercase() || b.is_ascii_digit() || b"|-".contains(&b);
            prop_assert!(key.value().bytes().all(allowed));
            if ids.dob.is_none() {
                prop_assert!(!DOB_KEYS.contains(&key.key_type()));
            }
        }
        prop_assert_eq!(derive_keys(&ids), keys, "deterministic");
    }

    #[test]
    fn nysiis_is_short_uppercase_and_total(name in "\\PC{0,20}") {
        let code = nysiis(&name);
        prop_assert!(code.len() <= 6 && code.bytes().all(|b| b.is_ascii_uppercase()));
        prop_assert_eq!(code.is_empty(), !name.bytes().any(|b| b.is_ascii_alphabetic()));
        prop_assert!(nysiis_full(&name).starts_with(&code));
    }

    #[test]
    fn canonical_forenames_are_fixed_points(name in "[A-Z]{1,10}") {
        let canonical = canonical_forename(&name);
        prop_assert_eq!(canonical_forename(canonical), canonical);
    }
}

#[test]
fn keys_of_some_types_are_those_types_of_all_keys_in_the_same_order() {
    let mut ids = person("Mary Anne", "Smith-Jones", "1980-03-04", "CH1 2AB");
    ids.aliases = vec![(
        normalise_name("Molly").present().expect("name"),
        normalise_name("Jones").present().expect("name"),
    )];
    let all = derive_keys(&ids);
    let subsets: [&[KeyType]; 4] = [
        &[KeyType::Nhs, KeyType::NameDob],
        &[KeyType::PhoneticNameDob, KeyType::ForenameDeletionDob, KeyType::SurnameDobPostcode],
        &[KeyType::NicknameDob, KeyType::SurnameDeletionDob, KeyType::NameSurnamePartDob],
        KeyType::ALL,
    ];
    for wanted in subsets {
        let expected: Vec<MatchKey> =
            all.iter().filter(|k| wanted.contains(&k.key_type())).cloned().collect();
        assert!(!expected.is_empty(), "{wanted:?}");
        assert_eq!(derive_keys_of(&ids, wanted), expected, "{wanted:?}");
    }
}
