//! The unique-key matcher on hand-made cases and one-to-one crediting.

use super::*;

/// A hand-made county: each case below names the pair it expects, or none.
#[test]
fn the_matcher_on_hand_made_cases() {
    let selection = KeySelection::new(person_key_types()).unwrap();
    let layout = TupleLayout::new(selection.key_types().iter().copied(), 4).unwrap();
    let cohort = [
        // 0: NHS number agrees; the forename is misspelt on the partner side.
        person("Alice", "Smith", "1980-01-02", "CH1 2AB", Some(100)),
        // 1: no NHS number in the cohort: linked by the name/DOB composite.
        person("Bob", "Jones", "1975-05-06", "CH2 3CD", None),
        // 2: one of twins with one name (different NHS numbers); both twins are in the partner
        // data. NHS links the right one, and the other is not linked.
        person("Carl", "Brown", "1990-07-08", "CH3 4EF", Some(300)),
        // 3: two partner namesakes share this name and DOB, so the key is not unique there and
        // links nothing (no postcode, so no other key either).
        person("Dan", "Green", "1960-02-03", "", None),
        // 4: nobody on the partner side.
        person("Eve", "White", "1999-09-09", "CH9 9ZZ", Some(500)),
    ];
    let partner = [
        person("Alise", "Smith", "1980-01-02", "WA1 1AA", Some(100)),
        person("Bob", "Jones", "1975-05-06", "CH2 3CD", Some(200)),
        person("Carl", "Brown", "1990-07-08", "CH3 4EF", Some(300)),
        person("Carl", "Brown", "1990-07-08", "CH3 4EF", Some(301)),
        person("Dan", "Green", "1960-02-03", "SK1 1AA", None),
        person("Dan", "Green", "1960-02-03", "SK2 2BB", None),
    ];
    let c = build_tuples(&untimed_subjects(&selection, &cohort), &layout, &mut Seeded(5)).unwrap();
    let p = build_tuples(&untimed_subjects(&selection, &partner), &layout, &mut Seeded(6)).unwrap();
    let linkage = UniqueKeyPasses
        .link(
            Side { layout: &layout, tuples: &c.tuples },
            Side { layout: &layout, tuples: &p.tuples },
        )
        .unwrap();
    let got: Vec<(usize, usize, KeyType)> =
        linkage.pairs().iter().map(|p| (p.cohort, p.partner, p.pass)).collect();
    assert_eq!(got, [(0, 0, KeyType::Nhs), (1, 1, KeyType::NameDob), (2, 2, KeyType::Nhs)]);
    assert_eq!(linkage.by_pass(), BTreeMap::from([(KeyType::Nhs, 2), (KeyType::NameDob, 1)]));
}

/// The known limit of key agreement under blinding: a disagreeing NHS number looks exactly like
/// a missing one, so a lone twin with the same name and DOB (and no sibling in the data to make
/// the key ambiguous) is linked by `name_dob`. Agreement-pattern scoring with m/u weights is
/// where this is to be weighed; this test pins today's behaviour.
#[test]
fn known_limit_a_lone_twin_with_another_nhs_number_links_on_name_and_dob() {
    let selection = KeySelection::new(person_key_types()).unwrap();
    let layout = TupleLayout::new(selection.key_types().iter().copied(), 4).unwrap();
    let cohort = [person("Carl", "Brown", "1990-07-08", "CH3 4EF", Some(300))];
    let partner = [person("Carl", "Brown", "1990-07-08", "CH3 4EF", Some(301))];
    let c = build_tuples(&untimed_subjects(&selection, &cohort), &layout, &mut Seeded(7)).unwrap();
    let p = build_tuples(&untimed_subjects(&selection, &partner), &layout, &mut Seeded(8)).unwrap();
    let linkage = UniqueKeyPasses
        .link(
            Side { layout: &layout, tuples: &c.tuples },
            Side { layout: &layout, tuples: &p.tuples },
        )
        .unwrap();
    assert_eq!(linkage.pairs().len(), 1);
    assert_eq!(linkage.pairs()[0].pass, KeyType::NameDob);
}

/// The matcher works on any `Eq + Hash` value; here bare strings stand for blinded points.
fn link_strings(
    layout: &TupleLayout,
    cohort: &[Vec<Option<&'static str>>],
    partner: &[Vec<Option<&'static str>>],
) -> Vec<(usize, usize, KeyType)> {
    let wrap = |rows: &[Vec<Option<&'static str>>]| -> Vec<Tuple<&'static str>> {
        rows.iter().map(|slots| Tuple::new(label("all"), slots.clone())).collect()
    };
    let (c, p) = (wrap(cohort), wrap(partner));
    let linkage = UniqueKeyPasses
        .link(Side { layout, tuples: &c }, Side { layout, tuples: &p })
        .expect("tuples fit the layout");
    linkage.pairs().iter().map(|p| (p.cohort, p.partner, p.pass)).collect()
}

#[test]
fn each_tuple_is_credited_at_most_once() {
    // Two key types (NHS, name_dob), two slots each.
    let layout = TupleLayout::new([KeyType::Nhs, KeyType::NameDob], 2).unwrap();
    // Partner 0 agrees with cohort 0 on NHS and with cohort 1 on name_dob: the NHS pass links
    // it first, and the later pass no longer sees it.
    let got = link_strings(
        &layout,
        &[vec![Some("nhs-x"), None, None, None], vec![None, None, Some("name-y"), None]],
        &[vec![Some("nhs-x"), None, Some("name-y"), None]],
    );
    assert_eq!(got, [(0, 0, KeyType::Nhs)]);
    // Cohort 0 agrees with two partner subjects in one pass (two month slots): ambiguous, so
    // neither pair is taken in that pass; the name_dob pass then settles it.
    let got = link_strings(
        &layout,
        &[vec![Some("nhs-x|m1"), Some("nhs-x|m2"), Some("name-z|m1"), None]],
        &[
            vec![Some("nhs-x|m1"), None, None, None],
            vec![Some("nhs-x|m2"), None, Some("name-z|m1"), None],
        ],
    );
    assert_eq!(got, [(0, 1, KeyType::NameDob)]);
    // A value held by two cohort tuples links neither.
    let got = link_strings(
        &layout,
        &[vec![Some("nhs-x"), None, None, None], vec![Some("nhs-x"), None, None, None]],
        &[vec![Some("nhs-x"), None, None, None]],
    );
    assert_eq!(got, []);
}

#[test]
fn twenty_copies_of_one_person_credit_at_most_once() {
    let selection = KeySelection::new(person_key_types()).unwrap();
    let layout = TupleLayout::new(selection.key_types().iter().copied(), 4).unwrap();
    let y = person("Yara", "Moss", "1985-10-11", "CH4 5GH", Some(900));
    let cohort = untimed_subjects(&selection, &vec![y.clone(); 20]);
    let partner = untimed_subjects(&selection, &[y]);
    let p = build_tuples(&partner, &layout, &mut Seeded(9)).unwrap();
    // Built honestly, unique-or-random empties all 20 tuples: nothing links.
    let c = build_tuples(&cohort, &layout, &mut Seeded(10)).unwrap();
    assert!(c.tuples.iter().all(|t| t.slots().iter().all(Option::is_none)));
    let side = |tuples| Side { layout: &layout, tuples };
    let linkage = UniqueKeyPasses.link(side(&c.tuples), side(&p.tuples)).unwrap();
    assert_eq!(linkage.pairs().len(), 0);
    // Forged copies that skip unique-or-random: the receiver refuses them, and the matcher
    // would still credit at most one (here none: no value is unique on the cohort side).
    let forged: Vec<Tuple> = (0..20).map(|_| p.tuples[0].clone()).collect();
    assert_eq!(
        check_no_repeated_values(&forged),
        Err(LinkageError::RepeatedValue { first: 0, second: 1 })
    );
    let linkage = UniqueKeyPasses.link(side(&forged), side(&p.tuples)).unwrap();
    assert!(linkage.pairs().len() <= 1);
    let counts = count_by_labels(&linkage, &vec![label("all"); 20], &[label("all")]).unwrap();
    assert!(counts.values().sum::<u64>() <= 1);
}

#[test]
fn a_windowed_linkage_counts_by_label() {
    // Cohort: deaths with index dates; partner: ED attendances. 12 months before, index month
    // excluded.
    let key_types = [KeyType::Nhs, KeyType::NameDob];
    let selection = KeySelection::new(key_types).unwrap();
    let window = WindowTemplate::new("ed_12m_before", Granularity::Month, 12, false).unwrap();
    let cohort_layout = TupleLayout::new(key_types, window.slot_count()).unwrap();
    let partner_layout = TupleLayout::new(key_types, 36).unwrap();
    let deaths = [
        (person("Ann", "Ash", "1950-01-01", "", Some(1)), date(2025, 3, 10), "F"),
        (person("Ben", "Birch", "1960-02-02", "", Some(2)), date(2025, 3, 10), "M"),
        (person("Cat", "Cedar", "1970-03-03", "", Some(3)), date(2025, 3, 10), "F"),
    ];
    let attendances = [
        // Ann: 9 months before: in the window.
        (person("Ann", "Ash", "1950-01-01", "", Some(1)), date(2024, 6, 15), "adult"),
        // Ben: in the death month: the index month is excluded.
        (person("Ben", "Birch", "1960-02-02", "", Some(2)), date(2025, 3, 2), "adult"),
        // Cat: 14 months before: outside.
        (person("Cat", "Cedar", "1970-03-03", "", Some(3)), date(2024, 1, 20), "adult"),
    ];
    let cohort: Vec<Subject> = deaths
        .iter()
        .map(|(ids, index, g)| Subject {
            label: label(g),
            messages: slot_messages(
                &selection.record_keys(ids),
                &window.cohort_slots(*index).unwrap(),
            )
            .unwrap(),
        })
        .collect();
    let partner: Vec<Subject> = attendances
        .iter()
        .map(|(ids, event, h)| Subject {
            label: label(h),
            messages: slot_messages(
                &selection.record_keys(ids),
                &[window.partner_slot(*event).unwrap()],
            )
            .unwrap(),
        })
        .collect();
    let c = build_tuples(&cohort, &cohort_layout, &mut Seeded(11)).unwrap();
    let p = build_tuples(&partner, &partner_layout, &mut Seeded(12)).unwrap();
    let linkage = UniqueKeyPasses
        .link(
            Side { layout: &cohort_layout, tuples: &c.tuples },
            Side { layout: &partner_layout, tuples: &p.tuples },
        )
        .unwrap();
    let g: Vec<Label> = c.tuples.iter().map(|t| t.label().clone()).collect();
    let h: Vec<Label> = p.tuples.iter().map(|t| t.label().clone()).collect();
    let counts = count_by_labels(&linkage, &g, &h).unwrap();
    assert_eq!(counts, BTreeMap::from([((label("F"), label("adult")), 1)]));
}

#[test]
fn mismatched_sides_are_refused() {
    let a = TupleLayout::new([KeyType::Nhs], 2).unwrap();
    let b = TupleLayout::new([KeyType::NameDob], 2).unwrap();
    let t = vec![Tuple::<&str>::new(label("all"), vec![None, None])];
    let short = vec![Tuple::<&str>::new(label("all"), vec![None])];
    assert_eq!(
        UniqueKeyPasses.link(Side { layout: &a, tuples: &t }, Side { layout: &b, tuples: &t }),
        Err(LinkageError::KeyTypesDiffer)
    );
    assert_eq!(
        UniqueKeyPasses.link(Side { layout: &a, tuples: &t }, Side { layout: &a, tuples: &short }),
        Err(LinkageError::TupleShape { index: 0, expected: 2, found: 1 })
    );
}
