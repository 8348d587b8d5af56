//! F2 and F5, label abuse (design-review §2.4, §2.5, §10 item 4): labels travel in clear
//! beside the blinded tuples (sealed from the relay, but read by the peer), so a coordinator
//! that chooses the label column can try to turn them into per-person handles:
//!
//! - a cohort label column with a different value for every row makes each cohort tuple
//!   identifiable at the ICB (which learns which of its own patients match which police row);
//! - a label outside a vocabulary smuggles a value nobody approved;
//! - a fine partner label h makes the ICB's own classes person-level in the table.
//!
//! Every label must be in the sending node's vocabulary and every label class must hold at
//! least k real subjects (checked by the sender on its own data), and the receiver checks every
//! label of what it receives against its own vocabulary.

use super::fixture::{
    KEY_TYPES, LinkFed, Person, Row, Setup, count_query, count_query_with, describe, fillers,
};
use crate::util::runtime;

const UNIQUE: [&str; 6] = ["L1", "L2", "L3", "L4", "L5", "L6"];
const FINE_H: [&str; 6] = ["H1", "H2", "H3", "H4", "H5", "H6"];

/// Police: groups of cohort rows labelled in the ways under test. ICB: 6 attendances, each
/// with its own label, and 4 more.
fn setup() -> Setup {
    let day = "2025-06-15";
    let mut police = fillers("B", 100, 4, day, "base");
    // One label per row, every label in the police vocabulary.
    police.extend(UNIQUE.iter().enumerate().map(|(i, l)| {
        Row::new(format!("U{i}"), Person::synthetic(200 + i as u32), day, "unique").labelled(l)
    }));
    // One label per row, none in any vocabulary.
    police.extend((0..4).map(|i| {
        Row::new(format!("N{i}"), Person::synthetic(300 + i), day, "unlisted")
            .labelled(&format!("ROW-{i}"))
    }));
    // A class of 4 (k = 3) under a label the police allow and the ICB does not.
    police
        .extend(fillers("Z", 400, 4, day, "zebra").into_iter().map(|r| r.labelled("LABEL-ZEBRA")));
    let mut icb: Vec<Row> = FINE_H
        .iter()
        .enumerate()
        .map(|(i, h)| {
            Row::new(format!("E{i}"), Person::synthetic(100 + i as u32), "2025-03-10", "assault")
                .labelled(h)
        })
        .collect();
    icb.extend(fillers("G", 2000, 4, "2025-02-01", "assault"));
    let mut police_vocabulary = vec!["all", "LABEL-ZEBRA"];
    police_vocabulary.extend(UNIQUE);
    let mut icb_vocabulary = vec!["all"];
    icb_vocabulary.extend(UNIQUE);
    icb_vocabulary.extend(FINE_H);
    Setup {
        police_labels: (police_vocabulary, 3),
        icb_labels: (icb_vocabulary, 3),
        ..Setup::exact(police, icb)
    }
}

/// The rule and message of the node that refused, and the call it refused at.
fn refusal(run: &fedlink_coordinator::link::LinkRun, member: &str) -> (String, String, String) {
    run.parts
        .iter()
        .find_map(|p| match &p.status {
            fedlink_coordinator::link::PartStatus::Refused { rule, message, at, .. }
                if p.member == member =>
            {
                Some((rule.clone(), message.clone(), at.clone()))
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("{member} did not refuse: {}", describe(run)))
}

#[test]
fn person_level_and_unlisted_labels_are_refused() {
    let fed = LinkFed::start(&setup());
    let rt = runtime();
    let run = |q| rt.block_on(fed.run_with(&q, &mut fed.transport(), None));

    // Sanity: the same cohort nodes with a coarse label link and release.
    let ok = run(count_query(&["grp=base"], Some("lbl")));
    assert!(ok.ok(), "{}", describe(&ok));

    // Each cohort row its own label: every class holds one subject, fewer than k = 3.
    let unique = run(count_query(&["grp=unique"], Some("lbl")));
    let (rule, message, at) = refusal(&unique, "police");
    eprintln!("unique g per row: police refused at {at} by {rule}: {message}");
    assert_eq!(rule, "policy.linkage.labels", "{message}");
    assert!(message.contains("fewer than 3 real subjects"), "{message}");

    // Each cohort row its own label, none in the police vocabulary.
    let unlisted = run(count_query(&["grp=unlisted"], Some("lbl")));
    let (rule, message, at) = refusal(&unlisted, "police");
    eprintln!("labels outside the cohort vocabulary: police refused at {at} by {rule}: {message}");
    assert_eq!(rule, "policy.linkage.labels", "{message}");
    assert!(message.contains("not in this node's label vocabulary"), "{message}");
    assert!(!message.contains("ROW-"), "a refusal never repeats a label value: {message}");

    // A label the police allow but the computing node's vocabulary lacks: the ICB refuses M1.
    let zebra = run(count_query(&["grp=zebra"], Some("lbl")));
    let (rule, message, at) = refusal(&zebra, "icb");
    eprintln!("a label outside the ICB's vocabulary: ICB refused at {at} by {rule}: {message}");
    // Labels must come from a vocabulary both policies allow: the ICB's own rule refuses it.
    assert_eq!(rule, "policy.linkage.labels", "{message}");
    assert!(message.contains("not in this node's label vocabulary"), "{message}");
    assert!(!message.contains("LABEL-ZEBRA"), "a refusal never repeats a label value: {message}");

    // A fine partner label: each ICB attendance its own h.
    let fine = run(count_query_with(KEY_TYPES, &["grp=base"], None, Some("lbl")));
    let (rule, message, at) = refusal(&fine, "icb");
    eprintln!("fine h at the ICB: refused at {at} by {rule}: {message}");
    assert_eq!(rule, "policy.linkage.labels", "{message}");
    assert!(message.contains("fewer than 3 real subjects"), "{message}");

    for run in [&unique, &unlisted, &zebra, &fine] {
        assert!(run.release().is_none(), "nothing released: {}", describe(run));
    }
}
