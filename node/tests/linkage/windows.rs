//! Window edges at every granularity, and fixed slot counts.

use super::*;

/// One hand-computed edge: does an event on `event` match a row with index date `index`, with
/// the index unit excluded and included?
struct Edge {
    what: &'static str,
    event: Date,
    excluded: bool,
    included: bool,
}

fn check_edges(granularity: Granularity, units_before: u32, index: Date, edges: &[Edge]) {
    for include in [false, true] {
        let template =
            WindowTemplate::new("t", granularity, units_before, include).expect("a valid window");
        let cohort = template.cohort_slots(index).expect("an index date in range");
        assert_eq!(cohort.len(), template.slot_count());
        assert_eq!(template.slot_count(), units_before as usize + usize::from(include));
        for edge in edges {
            let expected = if include { edge.included } else { edge.excluded };
            let partner = template.partner_slot(edge.event).expect("an event date in range");
            assert_eq!(
                cohort.contains(&partner),
                expected,
                "{granularity}, index unit included: {include}: {} ({})",
                edge.what,
                edge.event
            );
            assert_eq!(template.covers(index, edge.event), expected, "{}", edge.what);
        }
    }
}

#[test]
fn day_window_edges() {
    // Index 2025-03-10, 30 days before.
    let e = |what, event, excluded, included| Edge { what, event, excluded, included };
    check_edges(
        Granularity::Day,
        30,
        date(2025, 3, 10),
        &[
            e("on the index date", date(2025, 3, 10), false, true),
            e("one day before", date(2025, 3, 9), true, true),
            e("exactly 30 days before", date(2025, 2, 8), true, true),
            e("31 days before", date(2025, 2, 7), false, false),
            e("the day after", date(2025, 3, 11), false, false),
        ],
    );
}

#[test]
fn week_window_edges() {
    // Index Wednesday 2025-03-12; its week is Mon 03-10 to Sun 03-16. 4 weeks before: the weeks
    // starting 02-10, 02-17, 02-24 and 03-03.
    let e = |what, event, excluded, included| Edge { what, event, excluded, included };
    check_edges(
        Granularity::Week,
        4,
        date(2025, 3, 12),
        &[
            e("on the index date", date(2025, 3, 12), false, true),
            e("earlier in the index week", date(2025, 3, 10), false, true),
            e("later in the index week (after the index date)", date(2025, 3, 16), false, true),
            e("one week before", date(2025, 3, 5), true, true),
            e("the Sunday before the index week", date(2025, 3, 9), true, true),
            e("exactly 4 weeks before: its Monday, 30 days back", date(2025, 2, 10), true, true),
            e("exactly 4 weeks before", date(2025, 2, 12), true, true),
            e("5 weeks before: the Sunday just outside", date(2025, 2, 9), false, false),
            e("5 weeks before", date(2025, 2, 5), false, false),
            e("the week after", date(2025, 3, 17), false, false),
        ],
    );
}

#[test]
fn month_window_edges() {
    // Index 2025-03-10, 12 calendar months before: 2024-03 to 2025-02.
    let e = |what, event, excluded, included| Edge { what, event, excluded, included };
    check_edges(
        Granularity::Month,
        12,
        date(2025, 3, 10),
        &[
            e("on the index date", date(2025, 3, 10), false, true),
            e("earlier in the index month", date(2025, 3, 1), false, true),
            e("later in the index month (after the index date)", date(2025, 3, 31), false, true),
            e("one month before (its last day)", date(2025, 2, 28), true, true),
            e("one month before", date(2025, 2, 10), true, true),
            e(
                "exactly 12 months before (its first day, 374 days back)",
                date(2024, 3, 1),
                true,
                true,
            ),
            e("exactly 12 months before", date(2024, 3, 10), true, true),
            e("13 months before (its last day, leap day)", date(2024, 2, 29), false, false),
            e("the month after", date(2025, 4, 1), false, false),
        ],
    );
}

#[test]
fn every_cohort_row_emits_exactly_w_distinct_slots() {
    for (granularity, n) in
        [(Granularity::Day, 90), (Granularity::Week, 13), (Granularity::Month, 24)]
    {
        for include in [false, true] {
            let template = WindowTemplate::new("t", granularity, n, include).unwrap();
            let mut index = date(2023, 12, 25);
            for _ in 0..40 {
                let slots = template.cohort_slots(index).unwrap();
                let distinct: std::collections::BTreeSet<_> = slots.iter().collect();
                assert_eq!(slots.len(), template.slot_count());
                assert_eq!(distinct.len(), template.slot_count());
                index =
                    date(index.year() + u16::from(index.month() == 12), index.month() % 12 + 1, 28);
            }
        }
    }
}

#[test]
fn window_templates_deserialise_with_the_same_checks() {
    let ok: WindowTemplate =
        toml::from_str("name = \"ed_12m_before\"\ngranularity = \"month\"\nunits_before = 12\n")
            .unwrap();
    assert_eq!(ok, WindowTemplate::new("ed_12m_before", Granularity::Month, 12, false).unwrap());
    let empty = toml::from_str::<WindowTemplate>(
        "name = \"x\"\ngranularity = \"day\"\nunits_before = 0\ninclude_index_unit = false\n",
    );
    assert!(empty.unwrap_err().to_string().contains("has no slots"));
    let unknown = toml::from_str::<WindowTemplate>(
        "name = \"x\"\ngranularity = \"day\"\nunits_before = 3\ndays = 3\n",
    );
    assert!(unknown.is_err());
}
