use std::os::unix::fs::PermissionsExt as _;

use super::*;
use crate::normalise::date::Date;
use crate::normalise::name::normalise_name;
use crate::normalise::nhs::{NhsNumber, NhsNumberStatus};

fn key(b: u8) -> SubjectTokenKey {
    SubjectTokenKey::from_bytes(&[b; key::KEY_LEN])
}

fn name(raw: &str) -> crate::normalise::name::Name {
    normalise_name(raw).present().expect("a name")
}

fn record(fore: &str, sur: &str, dob: (u16, u8, u8), nhs: Option<&str>) -> Identifiers {
    Identifiers {
        nhs_number: nhs.map(|n| NhsNumber::parse(n).expect("valid")),
        forenames: Some(name(fore)),
        surname: Some(name(sur)),
        dob: Some(Date::from_ymd(dob.0, dob.1, dob.2).expect("date")),
        ..Identifiers::default()
    }
}

fn row(subject: i64, ids: Identifiers) -> SourceRow {
    SourceRow { subject, record_id: subject.to_string(), ids, event_date: None, label_value: None }
}

fn id_name(name: &str, dob: &str) -> SubjectIdentifier {
    SubjectIdentifier::name_dob(name, dob).expect("an identifier")
}

#[test]
fn the_same_subject_gives_the_same_token_and_another_key_another() {
    let a = SubjectIdentifier::nhs_number("943 476 5919").expect("valid");
    let b = SubjectIdentifier::nhs_number("9434765919").expect("valid");
    assert_eq!(key(1).token(&a), key(1).token(&b));
    assert_ne!(key(1).token(&a), key(2).token(&a));
    let other = SubjectIdentifier::nhs_number("4010232137").expect("valid");
    assert_ne!(key(1).token(&a), key(1).token(&other));
}

#[test]
fn names_normalise_as_import_does_in_either_order() {
    let k = key(1);
    let forward = k.token(&id_name("John Smith", "1980-01-02"));
    assert_eq!(k.token(&id_name("smith, JOHN", "1980-01-02")), forward);
    assert_eq!(k.token(&id_name("  Mr John  Smith ", "02/01/1980")), forward);
    // Only the first forename counts, as in the name_dob match key.
    assert_eq!(k.token(&id_name("Smith, John Paul", "1980-01-02")), forward);
    assert_ne!(k.token(&id_name("Jane Smith", "1980-01-02")), forward);
    assert_ne!(k.token(&id_name("John Smith", "1980-01-03")), forward);
    // Kinds are separated: the same text under two kinds never gives one token.
    assert_ne!(k.token_of("nhs", "JOHN|SMITH|1980-01-02"), forward);
}

#[test]
fn a_record_gives_the_tokens_a_search_for_it_makes() {
    let k = key(7);
    let mut ids = record("John", "O'Brien-Smith", (1980, 1, 2), Some("9434765919"));
    ids.nhs_status = Some(NhsNumberStatus::parse("05").expect("status").expect("some"));
    ids.aliases = vec![(name("Jack"), name("Brown"))];
    let mut tokens = Vec::new();
    k.tokens_of(&ids, &mut tokens);
    let nhs = k.token(&SubjectIdentifier::nhs_number("9434765919").expect("valid"));
    let own = k.token(&id_name("John O'Brien-Smith", "1980-01-02"));
    let alias = k.token(&id_name("Brown, Jack", "1980-01-02"));
    // A disputed NHS number (status 05) makes no match key, but it is still the number the
    // record holds, so a subject access request by that number must find the record.
    assert_eq!(tokens, vec![nhs, own, alias]);
    // A double-barrelled surname is typed in the comma form or hyphenated: spaces and
    // hyphens do not matter inside it, but "JOHN OBRIEN SMITH" would read OBRIEN as a forename.
    assert_eq!(k.token(&id_name("OBRIEN SMITH, John", "1980-01-02")), own);
    assert_ne!(k.token(&id_name("John OBRIEN SMITH", "1980-01-02")), own);
}

#[test]
fn name_dob_values_are_the_match_keys() {
    use crate::matchkey::{KeyType, derive_keys_of};
    let k = key(4);
    let mut with_aliases = record("Mary Jane", "Smith-Jones", (1975, 12, 31), None);
    with_aliases.aliases = vec![
        (name("Mary"), name("Smith Jones")),
        (name("Polly"), name("Jones")),
        (name("A"), name("B")),
        (name("C"), name("D")),
        (name("Beyond"), name("TheCap")),
    ];
    let mut no_surname = record("Ann", "Lee", (2001, 2, 3), None);
    no_surname.surname = None;
    let mut no_dob = record("Ann", "Lee", (2001, 2, 3), None);
    no_dob.dob = None;
    for ids in [with_aliases, no_surname, no_dob, record("Bob", "Mc Donald", (1950, 6, 7), None)] {
        let mut expected: Vec<SubjectToken> = derive_keys_of(&ids, &[KeyType::NameDob])
            .iter()
            .map(|key| k.token_of("name_dob", key.value()))
            .collect();
        let mut got = Vec::new();
        k.tokens_of(&ids, &mut got);
        for tokens in [&mut expected, &mut got] {
            tokens.sort_unstable();
            tokens.dedup();
        }
        assert_eq!(got, expected);
    }
}

#[test]
fn a_record_without_a_name_or_number_gives_only_what_it_has() {
    let k = key(3);
    let mut tokens = Vec::new();
    let ids = Identifiers {
        nhs_number: Some(NhsNumber::parse("9434765919").expect("valid")),
        ..Identifiers::default()
    };
    k.tokens_of(&ids, &mut tokens);
    assert_eq!(tokens.len(), 1);
    k.tokens_of(&Identifiers::default(), &mut tokens);
    assert_eq!(tokens.len(), 1, "nothing identifiable, no token");
}

#[test]
fn a_large_side_gives_the_same_sorted_tokens_on_every_core_as_on_one() {
    let k = key(5);
    let rows: Vec<SourceRow> = (0..PARALLEL_FROM_ROWS as i64 + 5)
        .map(|i| {
            let day = 1 + (i % 28) as u8;
            let year = 1930 + (i / 28 % 80) as u16;
            row(i, record(&format!("N{}", i % 7), "Smith", (year, 1, day), None))
        })
        .collect();
    let parallel = k.tokens_of_rows(&rows);
    let mut sequential = k.tokens_of_part(&rows);
    sequential.sort_unstable();
    sequential.dedup();
    assert_eq!(parallel, sequential);
    assert!(parallel.windows(2).all(|w| w[0] < w[1]), "sorted and distinct");
    // 7 forenames cycle against 28 × 80 dates: names repeat across rows, so some rows share
    // a subject's token and it appears once.
    assert!(parallel.len() < rows.len() + 1);
}

#[test]
fn identifiers_that_name_no_one_are_refused_without_repeating_them() {
    assert!(matches!(
        SubjectIdentifier::nhs_number("9434765918"),
        Err(IdentifierError::NhsNumber(_))
    ));
    assert_eq!(SubjectIdentifier::name_dob("Smith", "1980-01-02"), Err(IdentifierError::Name));
    assert_eq!(
        SubjectIdentifier::name_dob("Unknown Smith", "1980-01-02"),
        Err(IdentifierError::Name)
    );
    let bad = SubjectIdentifier::name_dob("John Smith", "31/02/1980").expect_err("no such date");
    assert!(!bad.to_string().contains("1980"), "{bad}");
    assert!(matches!(
        SubjectIdentifier::name_dob("John Smith", "1900-01-01"),
        Err(IdentifierError::Dob(_))
    ));
}

#[test]
fn the_key_file_is_made_once_private_and_reused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = SubjectTokenKey::load_or_create(dir.path()).expect("made");
    let path = dir.path().join(key::KEY_FILE);
    let mode = std::fs::metadata(&path).expect("file").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(std::fs::read(&path).expect("read").len(), key::KEY_LEN);
    let again = SubjectTokenKey::load_or_create(dir.path()).expect("read back");
    let id = SubjectIdentifier::nhs_number("9434765919").expect("valid");
    assert_eq!(first.token(&id), again.token(&id));
    let other = tempfile::tempdir().expect("tempdir");
    let fresh = SubjectTokenKey::load_or_create(other.path()).expect("made");
    assert_ne!(fresh.token(&id), first.token(&id), "each node makes its own key");
    let leftovers = std::fs::read_dir(dir.path()).expect("dir").count();
    assert_eq!(leftovers, 1, "no temporary file left behind");

    std::fs::write(&path, [0u8; 31]).expect("damage");
    let err = SubjectTokenKey::load_or_create(dir.path()).err().expect("refused");
    assert!(matches!(err, KeyFileError::Length { len: 31, .. }), "{err}");
}

/// Not a test of behaviour: what tokens cost for a large side. Run with `cargo test -p
/// fedlink-node --release --lib subject_tokens::tests::token_cost -- --ignored --nocapture`.
#[test]
#[ignore = "timing only"]
fn token_cost() {
    let k = key(9);
    for n in [100_000i64, 1_000_000] {
        let rows: Vec<SourceRow> = (0..n)
            .map(|i| {
                let serial =
                    u32::try_from(i).expect("small") % crate::normalise::nhs::test_range_len();
                let nhs = crate::normalise::nhs::test_range_number(serial).expect("in range");
                let mut ids = record("John", "Smith", (1930 + (i % 80) as u16, 1, 1), None);
                ids.nhs_number = Some(nhs);
                row(i, ids)
            })
            .collect();
        let started = std::time::Instant::now();
        let tokens = k.tokens_of_rows(&rows);
        let parallel = started.elapsed().as_secs_f64();
        let started = std::time::Instant::now();
        let _ = k.tokens_of_part(&rows);
        let one = started.elapsed().as_secs_f64();
        println!(
            "{n} rows (NHS number + name and DOB): {} tokens, {parallel:.2} s on every core, \
             {one:.2} s on one",
            tokens.len()
        );
    }
}
