//! The plaintext side of linked counts (issue 5, items 3–5): window edges at every granularity,
//! fixed-length tuples, unique-or-random, placeholders, k per label class, dummies and the
//! unique-key matcher on hand-made cases, a side's rows read back from a real dataset store,
//! and its quality on a synthetic county.

use std::collections::{BTreeMap, HashMap};

use fedlink_node::dataset::plan::ImportPlan;
use fedlink_node::dataset::row::{NormalisedRow, normalise_record};
use fedlink_node::dataset::schema::DatasetSchema;
use fedlink_node::linkage::calibration::{Calibration, WithinFile};
use fedlink_node::linkage::{
    Granularity, KeySelection, Label, LabelPolicy, LinkageError, Matcher, Side, SlotLabel,
    SlotMessage, Subject, Tuple, TupleLayout, UniqueKeyPasses, WindowTemplate, build_tuples,
    check_no_repeated_values, count_by_labels, dummy_tuples, slot_messages,
};
use fedlink_node::matchkey::{Identifiers, KeySubject, KeyType};
use fedlink_node::normalise::date::{Date, parse_date};
use fedlink_node::normalise::name::normalise_name;
use fedlink_node::normalise::nhs::{NhsNumber, test_range_number};
use fedlink_node::normalise::postcode::parse_postcode;
use fedlink_node::normalise::uprn::Uprn;

/// A seeded stand-in for the OS generator, so shuffles are reproducible.
use fedlink_node::privacy::SplitMix64 as Seeded;

fn date(y: u16, m: u8, d: u8) -> Date {
    Date::from_ymd(y, m, d).expect("a real date")
}

fn label(text: &str) -> Label {
    Label::new(text).expect("a valid label")
}

/// Identifiers as the importer builds them: placeholders and sentinels → None.
fn person(
    forenames: &str,
    surname: &str,
    dob: &str,
    postcode: &str,
    nhs: Option<u32>,
) -> Identifiers {
    Identifiers {
        nhs_number: nhs.map(|serial| test_range_number(serial).expect("a test-range serial")),
        forenames: normalise_name(forenames).present(),
        surname: normalise_name(surname).present(),
        dob: parse_date(dob).ok().and_then(|d| d.known()),
        postcode: parse_postcode(postcode).ok().and_then(|p| p.valid()),
        ..Identifiers::default()
    }
}

/// Every person key type, strongest first.
fn person_key_types() -> Vec<KeyType> {
    KeyType::ALL.iter().copied().filter(|kt| kt.subject() == KeySubject::Person).collect()
}

/// One untimed subject per record.
fn untimed_subjects(selection: &KeySelection, records: &[Identifiers]) -> Vec<Subject> {
    records
        .iter()
        .map(|ids| Subject {
            label: label("all"),
            messages: slot_messages(&selection.record_keys(ids), &[SlotLabel::UNTIMED])
                .expect("real keys encode"),
        })
        .collect()
}

// Window edges at every granularity, and fixed slot counts.
mod windows;

// A side's rows read from a real store, and the subjects made from them.
mod source;

// Keys, tuples, unique-or-random, labels and dummies.
mod tuples;

// Tuples through blinding: commutativity, random slots, sorting, receiver checks, wire form.
mod blinded;

// The unique-key matcher and one-to-one crediting.
mod matching;

// Quality on a small synthetic county, printed.
mod county;

// The calibrated Fellegi–Sunter matcher on twins, father and son, a shared NHS number.
mod calibrated;
