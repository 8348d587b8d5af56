//! Keys, tuples, unique-or-random, placeholders, labels and dummies.

use super::*;

#[test]
fn placeholders_never_become_keys() {
    let all = KeyType::ALL.iter().copied();
    let hospital = Uprn::parse("100012345678").unwrap().unwrap();
    let selection = KeySelection::new(all).unwrap().with_placeholder_uprns([hospital]);
    // ZZ99 3VZ and UNKNOWN are set aside by the normalisers; 1900-01-01 too.
    let nfa = person("John", "UNKNOWN", "1900-01-01", "ZZ99 3VZ", None);
    assert_eq!(nfa.surname, None);
    assert_eq!(nfa.dob, None);
    assert_eq!(nfa.postcode, None);
    assert!(selection.record_keys(&nfa).is_empty());
    // Typed values that still hold a placeholder: a sentinel DOB built directly, an NHS number
    // of equal digits, a UPRN the schema lists as the hospital's.
    let sneaky = Identifiers {
        nhs_number: Some(NhsNumber::parse("0000000000").unwrap()),
        dob: Some(date(1900, 1, 1)),
        uprn: Some(hospital),
        parent_uprn: Some(hospital),
        ..person("John", "Smith", "", "CH1 2AB", None)
    };
    assert!(selection.record_keys(&sneaky).is_empty());
    // F17's test: two unrelated NFA records with the same surname share no postcode key.
    let a = person("Anne", "Doe", "1970-01-01", "ZZ99 3VZ", None);
    let b = person("Bill", "Doe", "1981-02-03", "ZZ99 3VZ", None);
    let (ka, kb) = (selection.record_keys(&a), selection.record_keys(&b));
    assert!(ka.iter().all(|k| !kb.contains(k)));
    assert!(ka.iter().chain(&kb).all(|k| !k.value().contains("ZZ99")));
}

#[test]
fn tuples_have_a_fixed_length_whatever_the_data() {
    let layout =
        TupleLayout::new([KeyType::Nhs, KeyType::NameDob, KeyType::SurnameDobPostcode], 12)
            .unwrap();
    let selection = KeySelection::new(layout.key_types().iter().copied()).unwrap();
    let window = WindowTemplate::new("12m", Granularity::Month, 12, false).unwrap();
    let slots = window.cohort_slots(date(2025, 6, 1)).unwrap();
    let rich = Identifiers {
        aliases: vec![(
            normalise_name("Jon").present().unwrap(),
            normalise_name("Smyth").present().unwrap(),
        )],
        ..person("John", "Smith", "1980-01-02", "CH1 2AB", Some(1))
    };
    let records = [rich, person("Ann", "Lee", "1990-03-04", "", None), Identifiers::default()];
    let subjects: Vec<Subject> = records
        .iter()
        .map(|ids| Subject {
            label: label("all"),
            messages: slot_messages(&selection.record_keys(ids), &slots).unwrap(),
        })
        .collect();
    let built = build_tuples(&subjects, &layout, &mut Seeded(1)).unwrap();
    for tuple in &built.tuples {
        assert_eq!(tuple.slots().len(), 3 * 12);
        layout.check(0, tuple).unwrap();
    }
    let present = |t: &Tuple| t.slots().iter().flatten().count();
    assert_eq!(present(&built.tuples[0]), 36);
    assert_eq!(present(&built.tuples[1]), 12); // name_dob only
    assert_eq!(present(&built.tuples[2]), 0); // nothing usable: looks like a dummy
    // The alias's name_dob and sur_dob_pcd months overflow: 2 × 12 dropped.
    assert_eq!(built.report.messages_over_capacity, 24);
}

#[test]
fn unique_or_random_drops_values_shared_by_two_subjects() {
    let selection = KeySelection::new(person_key_types()).unwrap();
    let layout = TupleLayout::new(selection.key_types().iter().copied(), 2).unwrap();
    // Twins: one surname, DOB and postcode, different forenames and NHS numbers.
    let twin_a = person("Amy", "Hall", "2001-04-05", "CH1 2AB", Some(10));
    let twin_b = person("Zoe", "Hall", "2001-04-05", "CH1 2AB", Some(11));
    let subjects = untimed_subjects(&selection, &[twin_a, twin_b]);
    let shared: Vec<&SlotMessage> =
        subjects[0].messages.iter().filter(|m| subjects[1].messages.contains(m)).collect();
    assert_eq!(shared.len(), 1, "only sur_dob_pcd is shared");
    assert_eq!(shared[0].key_type(), KeyType::SurnameDobPostcode);
    let built = build_tuples(&subjects, &layout, &mut Seeded(2)).unwrap();
    assert_eq!(built.report.shared_values_removed, 1);
    let group = |kt| layout.key_types().iter().position(|k| *k == kt).unwrap();
    for tuple in &built.tuples {
        let sur_dob_pcd = tuple.group(&layout, group(KeyType::SurnameDobPostcode));
        assert!(sur_dob_pcd.iter().all(Option::is_none), "sur_dob_pcd is gone");
        assert!(tuple.slots().iter().flatten().all(|m| !shared.contains(&m)));
        assert_eq!(tuple.group(&layout, group(KeyType::Nhs)).iter().flatten().count(), 1);
    }
    check_no_repeated_values(&built.tuples).unwrap();
}

#[test]
fn a_key_shared_by_twins_is_dropped_in_every_slot_whatever_their_windows() {
    // Twins sharing sur_dob_pcd whose windows overlap only partly: judged by (key, slot), the
    // months only one twin covers would keep the key and link to that twin alone.
    let selection = KeySelection::new([KeyType::SurnameDobPostcode]).unwrap();
    let window = WindowTemplate::new("3m", Granularity::Month, 3, false).unwrap();
    let layout = TupleLayout::new([KeyType::SurnameDobPostcode], window.slot_count()).unwrap();
    let twin_a = person("Amy", "Hall", "2001-04-05", "CH1 2AB", Some(10));
    let twin_b = person("Zoe", "Hall", "2001-04-05", "CH1 2AB", Some(11));
    let subjects: Vec<Subject> = [(twin_a, date(2025, 6, 10)), (twin_b, date(2025, 8, 20))]
        .iter()
        .map(|(ids, index)| Subject {
            label: label("all"),
            messages: slot_messages(
                &selection.record_keys(ids),
                &window.cohort_slots(*index).unwrap(),
            )
            .unwrap(),
        })
        .collect();
    let built = build_tuples(&subjects, &layout, &mut Seeded(3)).unwrap();
    assert_eq!(built.report.shared_values_removed, 1, "one key, shared");
    for tuple in &built.tuples {
        assert!(tuple.slots().iter().all(Option::is_none), "no slot keeps the shared key");
    }
}

#[test]
fn slot_positions_do_not_depend_on_the_month() {
    // Where the oldest month of a 12-month window lands, over 6,000 tuples: uniform.
    let layout = TupleLayout::new([KeyType::Nhs], 12).unwrap();
    let selection = KeySelection::new([KeyType::Nhs]).unwrap();
    let window = WindowTemplate::new("12m", Granularity::Month, 12, false).unwrap();
    let index = date(2025, 6, 1);
    let slots = window.cohort_slots(index).unwrap();
    let subjects: Vec<Subject> = (0..6_000)
        .map(|serial| {
            let ids = person("", "", "", "", Some(serial));
            Subject {
                label: label("all"),
                messages: slot_messages(&selection.record_keys(&ids), &slots).unwrap(),
            }
        })
        .collect();
    let built = build_tuples(&subjects, &layout, &mut Seeded(3)).unwrap();
    let mut counts = [0u32; 12];
    for (subject, tuple) in subjects.iter().zip(&built.tuples) {
        let oldest = &subject.messages[0];
        let at = tuple.slots().iter().position(|s| s.as_ref() == Some(oldest)).unwrap();
        counts[at] += 1;
    }
    // Chi-square, 11 degrees of freedom; 31.26 is the 0.1 % critical value.
    let chi2: f64 = counts.iter().map(|&c| (f64::from(c) - 500.0).powi(2) / 500.0).sum();
    assert!(chi2 < 31.26, "{counts:?}");
}

#[test]
fn label_classes_need_k_real_subjects_and_a_vocabulary_label() {
    let policy = LabelPolicy::new([label("F"), label("M")], 3).unwrap();
    let ok = [label("F"), label("M"), label("F"), label("M"), label("F"), label("M")];
    let sizes = policy.check_classes(&ok).unwrap();
    assert_eq!(sizes, BTreeMap::from([(label("F"), 3), (label("M"), 3)]));
    let small = [label("F"), label("F"), label("F"), label("M"), label("M")];
    assert_eq!(
        policy.check_classes(&small),
        Err(LinkageError::LabelClassTooSmall { label: label("M"), k_min: 3 })
    );
    let outside = [label("F"), label("F"), label("F"), label("U")];
    assert_eq!(policy.check_classes(&outside), Err(LinkageError::LabelNotInVocabulary(label("U"))));
}

#[test]
fn dummies_look_like_real_tuples_with_every_slot_missing() {
    let policy = LabelPolicy::new([label("F"), label("M")], 1).unwrap();
    let layout = TupleLayout::new([KeyType::Nhs, KeyType::NameDob], 5).unwrap();
    let plan = BTreeMap::from([(label("F"), 2), (label("M"), 1)]);
    let dummies: Vec<Tuple> = dummy_tuples(&layout, &plan, &policy).unwrap();
    assert_eq!(dummies.len(), 3);
    // A real subject with no usable key gives exactly the same tuple.
    let keyless = Subject { label: label("M"), messages: Vec::new() };
    let real = build_tuples(&[keyless], &layout, &mut Seeded(4)).unwrap().tuples;
    assert_eq!(dummies[2], real[0]);
    for dummy in &dummies {
        layout.check(0, dummy).unwrap();
        assert!(dummy.slots().iter().all(Option::is_none));
    }
    let bad = BTreeMap::from([(label("dummy"), 1)]);
    assert_eq!(
        dummy_tuples::<SlotMessage>(&layout, &bad, &policy),
        Err(LinkageError::LabelNotInVocabulary(label("dummy")))
    );
}
