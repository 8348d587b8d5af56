//! Small hand-computed cases: windows unioned without repeats, undated rows skipped and
//! counted, labels from the earliest row, labels outside the vocabulary refused, message order
//! by key type, and flag-back's one subject per row.

use super::*;
use crate::linkage::window::Granularity;
use crate::matchkey::{Identifiers, KeyType, MatchKey};
use crate::normalise::date::Date;
use crate::normalise::name::normalise_name;
use crate::normalise::nhs::NhsNumber;

fn date(y: u16, m: u8, d: u8) -> Date {
    Date::from_ymd(y, m, d).expect("a real date")
}

fn label(text: &str) -> Label {
    Label::new(text).expect("a valid label")
}

fn policy() -> LabelPolicy {
    LabelPolicy::new([label("all"), label("a"), label("b")], 1).expect("policy")
}

/// A person with an NHS number and name, date of birth for the name keys.
fn ids(nhs: &str) -> Identifiers {
    Identifiers {
        nhs_number: Some(NhsNumber::parse(nhs).expect("a valid NHS number")),
        forenames: normalise_name("John").present(),
        surname: normalise_name("Smith").present(),
        dob: Some(date(1980, 1, 2)),
        ..Identifiers::default()
    }
}

fn row(subject: i64, id: &str, event: Option<Date>, label: Option<&str>) -> SourceRow {
    SourceRow {
        subject,
        record_id: id.to_string(),
        ids: ids("9434765919"),
        event_date: event,
        label_value: label.map(str::to_string),
    }
}

fn nhs_only() -> KeySelection {
    KeySelection::new([KeyType::Nhs]).expect("selection")
}

fn month(y: u16, m: u8) -> SlotLabel {
    Granularity::Month.slot_of(date(y, m, 1)).expect("in range")
}

fn nhs_messages(slots: &[SlotLabel]) -> Vec<SlotMessage> {
    let key = MatchKey::new(KeyType::Nhs, "9434765919".into());
    slots.iter().map(|&s| SlotMessage::new(&key, s).expect("encodes")).collect()
}

#[test]
fn cohort_windows_are_unioned_without_repeats() {
    // Two months before, index month excluded: a row on 2025-06-10 covers April and May, one
    // on 2025-07-01 covers May and June. The union is April, May, June: three messages, not
    // four, the earlier row's first.
    let window = WindowTemplate::new("2m", Granularity::Month, 2, false).expect("window");
    let rows =
        [row(7, "r2", Some(date(2025, 7, 1)), None), row(7, "r1", Some(date(2025, 6, 10)), None)];
    let built =
        cohort_subjects(&rows, &nhs_only(), Some(&window), Labelling::All, &policy()).expect("ok");
    assert_eq!(built.subjects.len(), 1);
    assert_eq!((built.rows, built.skipped_undated), (2, 0));
    let subject = &built.subjects[0];
    assert_eq!(subject.label, label("all"));
    assert_eq!(subject.messages, nhs_messages(&[month(2025, 4), month(2025, 5), month(2025, 6)]));
}

#[test]
fn partner_rows_send_their_event_slot_or_untimed() {
    let window = WindowTemplate::new("2m", Granularity::Month, 2, false).expect("window");
    let rows = [
        row(3, "p1", Some(date(2025, 5, 20)), None),
        row(3, "p2", Some(date(2025, 5, 2)), None),
        row(3, "p3", Some(date(2025, 6, 1)), None),
        row(4, "p4", Some(date(2025, 1, 1)), None),
    ];
    let built =
        partner_subjects(&rows, &nhs_only(), Some(&window), Labelling::All, &policy()).expect("ok");
    assert_eq!(built.subjects.len(), 2);
    // Two May events are one message.
    assert_eq!(built.subjects[0].messages, nhs_messages(&[month(2025, 5), month(2025, 6)]));
    assert_eq!(built.subjects[1].messages, nhs_messages(&[month(2025, 1)]));
    let untimed =
        partner_subjects(&rows, &nhs_only(), None, Labelling::All, &policy()).expect("ok");
    assert_eq!(untimed.subjects[0].messages, nhs_messages(&[SlotLabel::UNTIMED]));
}

#[test]
fn undated_rows_are_skipped_and_counted_when_a_window_is_given() {
    let window = WindowTemplate::new("1m", Granularity::Month, 1, false).expect("window");
    let rows = [
        row(1, "a", None, None),
        row(1, "b", Some(date(2025, 3, 3)), None),
        row(2, "c", None, None),
    ];
    for side in [cohort_subjects, partner_subjects] {
        let built = side(&rows, &nhs_only(), Some(&window), Labelling::All, &policy()).expect("ok");
        // Subject 2 has no dated row, so it is not a subject at all.
        assert_eq!(built.subjects.len(), 1);
        assert_eq!((built.rows, built.skipped_undated), (1, 2));
        // Without a window nothing needs a date.
        let all = side(&rows, &nhs_only(), None, Labelling::All, &policy()).expect("ok");
        assert_eq!(all.subjects.len(), 2);
        assert_eq!((all.rows, all.skipped_undated), (3, 0));
    }
    let flags = row_subjects(&rows, &nhs_only(), Some(&window), &policy()).expect("ok");
    assert_eq!(flags.record_ids, ["b"]);
    assert_eq!(flags.skipped_undated, 2);
}

#[test]
fn a_subject_is_labelled_by_its_earliest_row() {
    let rows = [
        row(5, "late", Some(date(2025, 3, 1)), Some("b")),
        row(5, "undated", None, Some("b")),
        row(5, "early", Some(date(2025, 1, 1)), Some("a")),
        row(6, "only", None, Some("b")),
    ];
    for side in [cohort_subjects, partner_subjects] {
        let built = side(&rows, &nhs_only(), None, Labelling::Column, &policy()).expect("ok");
        let labels: Vec<&Label> = built.subjects.iter().map(|s| &s.label).collect();
        assert_eq!(labels, [&label("a"), &label("b")]);
    }
}

#[test]
fn labels_outside_the_vocabulary_or_missing_are_refused() {
    let outside = [row(1, "x", None, Some("zzz"))];
    assert_eq!(
        cohort_subjects(&outside, &nhs_only(), None, Labelling::Column, &policy()).unwrap_err(),
        LinkageError::LabelNotInVocabulary(label("zzz"))
    );
    let missing = [row(1, "x", None, None)];
    assert_eq!(
        partner_subjects(&missing, &nhs_only(), None, Labelling::Column, &policy()).unwrap_err(),
        LinkageError::MissingLabel
    );
    let bad = [row(1, "x", None, Some("a b"))];
    assert_eq!(
        cohort_subjects(&bad, &nhs_only(), None, Labelling::Column, &policy()).unwrap_err(),
        LinkageError::InvalidLabel("a b".into())
    );
    // "all" must be in the vocabulary too.
    let no_all = LabelPolicy::new([label("a")], 1).expect("policy");
    let rows = [row(1, "x", None, None)];
    assert_eq!(
        cohort_subjects(&rows, &nhs_only(), None, Labelling::All, &no_all).unwrap_err(),
        LinkageError::LabelNotInVocabulary(label("all"))
    );
    assert_eq!(
        row_subjects(&rows, &nhs_only(), None, &no_all).unwrap_err(),
        LinkageError::LabelNotInVocabulary(label("all"))
    );
}

#[test]
fn messages_go_strongest_key_type_first_across_rows() {
    let selection = KeySelection::new([KeyType::NameDob, KeyType::Nhs]).expect("selection");
    let mut second = row(9, "r2", None, None);
    second.ids.nhs_number = Some(NhsNumber::parse("4010232137").expect("valid"));
    let rows = [row(9, "r1", None, None), second];
    let built = cohort_subjects(&rows, &selection, None, Labelling::All, &policy()).expect("ok");
    let types: Vec<KeyType> = built.subjects[0].messages.iter().map(|m| m.key_type()).collect();
    // Both rows' NHS numbers before the one (shared) name key.
    assert_eq!(types, [KeyType::Nhs, KeyType::Nhs, KeyType::NameDob]);
}

#[test]
fn flag_back_keeps_one_subject_per_row_in_order() {
    let window = WindowTemplate::new("1m", Granularity::Month, 1, true).expect("window");
    let rows = [
        row(2, "second-subject", Some(date(2025, 2, 5)), Some("b")),
        row(1, "first-subject", Some(date(2025, 4, 9)), Some("a")),
        row(2, "second-again", Some(date(2025, 2, 5)), Some("b")),
    ];
    let flags = row_subjects(&rows, &nhs_only(), Some(&window), &policy()).expect("ok");
    assert_eq!(flags.record_ids, ["second-subject", "first-subject", "second-again"]);
    assert_eq!(flags.subjects.len(), 3);
    assert!(flags.subjects.iter().all(|s| s.label == label("all")));
    assert_eq!(flags.subjects[0].messages, nhs_messages(&[month(2025, 1), month(2025, 2)]));
    assert_eq!(flags.subjects[1].messages, nhs_messages(&[month(2025, 3), month(2025, 4)]));
    // Two rows of one subject stay two subjects here: a flag is per row.
    assert_eq!(flags.subjects[0], flags.subjects[2]);
    assert_eq!(format!("{flags:?}"), "RowSubjects { .. }");
}
