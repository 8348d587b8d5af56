//! F9, F5 handle 3: time windows and slot order (design-review §4, §2.7, §10 item 7). A cohort
//! tuple carries one slot per month of its window; if the slots kept their month order, the
//! ICB, which knows the month of every one of its own events, would read each cohort row's
//! index month off the position of the matching slot — and the length of a tuple would date a
//! row if it varied. Unit-level, over the node's own tuple code with a seeded generator (so the
//! statistics are the same on every run):
//!
//! - the slot that holds the month just before the index month lands on every one of the 24
//!   positions of its group equally often (chi-square, 23 degrees of freedom);
//! - A's re-permutation of B's slots in M3 puts B's slot 0 anywhere (chi-square, 7 d.f.);
//! - every tuple has the layout's length, whatever the number of index dates or keys, and
//!   every index date gives W slots.

use fedlink_node::linkage::{
    BlindedTuple, Granularity, Label, Subject, TupleLayout, WindowTemplate, build_tuples,
    permute_slots_and_sort,
};
use fedlink_node::matchkey::KeyType;
use fedlink_node::normalise::date::Date;
use fedlink_proto::blind::random_point;

use super::fixture::{Seeded, chi_square, nhs_messages};

/// The 0.1 % critical values of chi-square with 23 and 7 degrees of freedom.
const CHI2_23_999: f64 = 49.73;
const CHI2_7_999: f64 = 24.32;

fn window() -> WindowTemplate {
    WindowTemplate::new("12m-before", Granularity::Month, 12, false).expect("window")
}

fn all() -> Label {
    Label::new("all").expect("label")
}

#[test]
fn the_slot_of_the_month_before_the_index_month_is_uniform_over_positions() {
    let window = window();
    // The cohort layout of a 12-month window: 2W = 24 slots per key type.
    let layout = TupleLayout::new([KeyType::Nhs], 2 * window.slot_count()).expect("layout");
    let index = Date::from_ymd(2025, 6, 15).expect("date");
    let slots = window.cohort_slots(index).expect("slots");
    assert_eq!(slots.len(), 12);
    // Oldest first: the last is May 2025, the month just before the index month.
    let month_before = *slots.last().expect("slot");
    assert_eq!(
        month_before,
        Granularity::Month.slot_of(Date::from_ymd(2025, 5, 1).expect("d")).expect("slot")
    );

    // 2,400 cohort subjects with the same window (distinct people, so nothing is dropped).
    let subjects: Vec<Subject> =
        (0..2400).map(|i| Subject { label: all(), messages: nhs_messages(i, &slots) }).collect();
    let targets: Vec<_> =
        (0..2400).map(|i| nhs_messages(i, &[month_before]).pop().expect("message")).collect();
    let built = build_tuples(&subjects, &layout, &mut Seeded(2025)).expect("tuples");
    let mut counts = vec![0u64; layout.group_len(0)];
    for (tuple, target) in built.tuples.iter().zip(&targets) {
        assert_eq!(tuple.slots().len(), layout.tuple_len());
        let at = tuple
            .slots()
            .iter()
            .position(|s| s.as_ref() == Some(target))
            .expect("the month-before slot is in the tuple");
        counts[at] += 1;
    }
    let chi2 = chi_square(&counts);
    eprintln!("month-before slot positions over 24 slots: {counts:?}, chi-square {chi2:.1}");
    assert!(chi2 < CHI2_23_999, "slot order is not uniform: chi-square {chi2:.1}, {counts:?}");
    // The test can fail: without the shuffle the slot would sit at position 11 every time.
    let mut unshuffled = vec![0u64; layout.group_len(0)];
    unshuffled[11] = 2400;
    assert!(chi_square(&unshuffled) > CHI2_23_999);
}

#[test]
fn m3_slots_are_permuted_afresh_so_b_cannot_align_positions() {
    // B's tuples (1 key type × 8 slots) as A receives them; A re-permutes every tuple's slots.
    let layout = TupleLayout::new([KeyType::Nhs], 8).expect("layout");
    let tuples: Vec<BlindedTuple> = (0..800)
        .map(|_| {
            let points = (0..8).map(|_| random_point().expect("rng")).collect();
            BlindedTuple::new(all(), points)
        })
        .collect();
    let first_points: Vec<_> = tuples.iter().map(|t| t.points()[0]).collect();
    let m3 = permute_slots_and_sort(tuples, &layout, &mut Seeded(7)).expect("permuted");
    let mut counts = vec![0u64; 8];
    for first in &first_points {
        let at = m3
            .iter()
            .find_map(|t| t.points().iter().position(|p| p == first))
            .expect("the point is still there");
        counts[at] += 1;
    }
    let chi2 = chi_square(&counts);
    eprintln!("B's slot 0 after A's permutation: {counts:?}, chi-square {chi2:.1}");
    assert!(chi2 < CHI2_7_999, "{counts:?}");
}

#[test]
fn every_tuple_has_the_layouts_length_and_every_index_date_w_slots() {
    let window = window();
    let layout = TupleLayout::new([KeyType::Nhs], 2 * window.slot_count()).expect("layout");
    // Index dates across month lengths, a leap day and a year end: always W = 12 slots.
    let dates = [(2024, 2, 29), (2025, 1, 1), (2025, 12, 31), (2023, 3, 31), (2025, 6, 15)];
    for (y, m, d) in dates {
        let slots = window.cohort_slots(Date::from_ymd(y, m, d).expect("date")).expect("slots");
        assert_eq!(slots.len(), window.slot_count(), "{y}-{m}-{d}");
    }
    let at = |y, m, d| window.cohort_slots(Date::from_ymd(y, m, d).expect("date")).expect("s");
    // No key, one index date, two index dates (windows unioned), and more messages than slots.
    let mut two = at(2025, 6, 15);
    two.extend(at(2024, 1, 15));
    let mut many = two.clone();
    many.extend(at(2022, 1, 15));
    let subjects = vec![
        Subject { label: all(), messages: Vec::new() },
        Subject { label: all(), messages: nhs_messages(1, &at(2025, 6, 15)) },
        Subject { label: all(), messages: nhs_messages(2, &two) },
        Subject { label: all(), messages: nhs_messages(3, &many) },
    ];
    let built = build_tuples(&subjects, &layout, &mut Seeded(1)).expect("tuples");
    let lengths: Vec<usize> = built.tuples.iter().map(|t| t.slots().len()).collect();
    assert_eq!(lengths, vec![layout.tuple_len(); 4], "constant tuple length");
    let present: Vec<usize> =
        built.tuples.iter().map(|t| t.slots().iter().flatten().count()).collect();
    assert_eq!(present, [0, 12, 24, 24], "messages beyond the layout are dropped, not appended");
    assert_eq!(built.report.messages_over_capacity, 12);
}
