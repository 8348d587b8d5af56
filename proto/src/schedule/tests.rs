//! The ring schedule against the F7 invariant, and the checker against the bad schedules of
//! design-review.md Appendix A3.

use std::collections::{BTreeMap, BTreeSet};

use super::*;

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// Members for a ring of `n`, listed so that ring order is not alphabetical order.
fn ring_of(n: usize) -> Vec<String> {
    names(&["P", "I", "L", "A", "S"][..n])
}

fn hop(owner: &str, blinded_by: &[&str], from: &str, to: &str) -> Hop {
    Hop { owner: owner.into(), from: from.into(), to: to.into(), blinded_by: names(blinded_by) }
}

/// A hop as Appendix A3 writes a message: (owner, scalars applied so far, sender, receiver).
type Message = (String, BTreeSet<String>, String, String);

fn as_messages(hops: &[Hop]) -> BTreeSet<Message> {
    hops.iter()
        .map(|h| {
            let scalars = h.blinded_by.iter().cloned().collect();
            (h.owner.clone(), scalars, h.from.clone(), h.to.clone())
        })
        .collect()
}

/// The bad schedule of Appendix A3, generalised: each non-computing set comes back to its owner
/// after each other non-computing partner blinds it (as in two-party PSI), then goes to the
/// computing node; the computing node's own set goes round the ring. Here `blinded_by` does not
/// end with `from` when an owner forwards its own set again, because it does not reblind it.
fn return_to_owner_hops(members: &[String], computing: &str) -> Vec<Hop> {
    let others: Vec<&String> = members.iter().filter(|m| *m != computing).collect();
    let mut hops = Vec::new();
    for owner in &others {
        let mut applied = vec![(*owner).clone()];
        for partner in others.iter().filter(|p| *p != owner) {
            let there = Hop {
                owner: (*owner).clone(),
                from: (*owner).clone(),
                to: (*partner).clone(),
                blinded_by: applied.clone(),
            };
            applied.push((*partner).clone());
            let back = Hop {
                owner: (*owner).clone(),
                from: (*partner).clone(),
                to: (*owner).clone(),
                blinded_by: applied.clone(),
            };
            hops.extend([there, back]);
        }
        hops.push(Hop {
            owner: (*owner).clone(),
            from: (*owner).clone(),
            to: computing.to_owned(),
            blinded_by: applied,
        });
    }
    let mut applied = vec![computing.to_owned()];
    let mut at = computing.to_owned();
    for next in others.iter().map(|p| (*p).clone()).chain([computing.to_owned()]) {
        hops.push(Hop {
            owner: computing.to_owned(),
            from: at.clone(),
            to: next.clone(),
            blinded_by: applied.clone(),
        });
        applied.push(next.clone());
        at = next;
    }
    hops
}

/// Every (size, computing node) pair the tests sweep.
fn every_ring() -> Vec<RingSchedule> {
    let mut rings = Vec::new();
    for n in 3..=5 {
        let members = ring_of(n);
        for computing in &members {
            rings.push(RingSchedule::ring(&members, computing).expect("a valid ring"));
        }
    }
    rings
}

#[test]
fn the_ring_for_police_icb_council_is_appendix_a3s() {
    let schedule = RingSchedule::ring(&ring_of(3), "L").expect("a valid ring");
    let a3 = [
        hop("P", &["P"], "P", "I"),
        hop("P", &["P", "I"], "I", "L"),
        hop("I", &["I"], "I", "P"),
        hop("I", &["I", "P"], "P", "L"),
        hop("L", &["L"], "L", "P"),
        hop("L", &["L", "P"], "P", "I"),
        hop("L", &["L", "P", "I"], "I", "L"),
    ];
    assert_eq!(as_messages(schedule.hops()), as_messages(&a3));
    assert_eq!(schedule.hops().len(), a3.len());
}

#[test]
fn the_ring_keeps_the_invariant_end_to_end_for_three_to_five_nodes_and_any_computing_node() {
    for ring in every_ring() {
        let result = check(ring.hops(), ring.members(), ring.computing(), Sealing::EndToEnd);
        assert_eq!(result, Ok(()), "{:?} computing at {}", ring.members(), ring.computing());
    }
}

#[test]
fn a_relay_that_reads_the_ring_holds_every_other_set_under_the_same_scalars() {
    for ring in every_ring() {
        let (hops, members, computing) = (ring.hops(), ring.members(), ring.computing());
        let found = violations(hops, members, computing, Sealing::HopByHopRelayReads);
        // The only collision is what reaches the computing node: every non-computing set under
        // every non-computing scalar. No member is flagged; only the relay.
        let others: BTreeSet<&String> = members.iter().filter(|m| *m != computing).collect();
        let mut sorted = others.iter();
        let first = sorted.next().expect("three or more members");
        let second = sorted.next().expect("three or more members");
        let expected = Violation {
            holder: RELAY_HOLDER.into(),
            owners: ((*first).clone(), (*second).clone()),
            scalars: others.iter().map(|m| (*m).clone()).collect(),
        };
        assert_eq!(found, vec![expected.clone()], "{members:?} computing at {computing}");
        assert_eq!(check(hops, members, computing, Sealing::HopByHopRelayReads), Err(expected));
    }
    let ring = RingSchedule::ring(&ring_of(3), "L").expect("a valid ring");
    let err = check(ring.hops(), ring.members(), "L", Sealing::HopByHopRelayReads)
        .expect_err("the relay can intersect the police and ICB sets");
    assert_eq!(
        err.to_string(),
        "coordinator holds the sets of I and P under the same scalars {I,P}"
    );
}

#[test]
fn return_to_owner_lets_the_police_intersect_with_the_icb() {
    let members = ring_of(3);
    let bad = return_to_owner_hops(&members, "L");
    let a3 = [
        hop("P", &["P"], "P", "I"),
        hop("P", &["P", "I"], "I", "P"),
        hop("I", &["I"], "I", "P"),
        hop("I", &["I", "P"], "P", "I"),
        hop("P", &["P", "I"], "P", "L"),
        hop("I", &["I", "P"], "I", "L"),
        hop("L", &["L"], "L", "P"),
        hop("L", &["L", "P"], "P", "I"),
        hop("L", &["L", "P", "I"], "I", "L"),
    ];
    assert_eq!(as_messages(&bad), as_messages(&a3), "the fixture is Appendix A3's schedule");

    let err = check(&bad, &members, "L", Sealing::EndToEnd).expect_err("P can intersect");
    assert_eq!(err.holder, "P");
    assert_eq!(err.owners, ("I".into(), "P".into()));
    assert_eq!(err.scalars, names(&["I", "P"]));
    // The ICB learns the converse, and sealing does not help: the leak is in the schedule.
    let holders: Vec<String> =
        violations(&bad, &members, "L", Sealing::EndToEnd).into_iter().map(|v| v.holder).collect();
    assert_eq!(holders, names(&["P", "I"]));
}

#[test]
fn return_to_owner_is_flagged_for_larger_rings_too() {
    for n in 4..=5 {
        let members = ring_of(n);
        for computing in &members {
            let bad = return_to_owner_hops(&members, computing);
            let err = check(&bad, &members, computing, Sealing::EndToEnd)
                .expect_err("a set back at its owner can be compared with the partner's");
            assert_ne!(err.holder, *computing);
        }
    }
}

#[test]
fn the_exception_for_the_computing_node_needs_every_other_scalar() {
    // L receives the police and ICB sets under {P,I}, but A never blinded them: L would compare
    // sets that are still missing a participant's scalar.
    let members = names(&["P", "I", "A", "L"]);
    let skips_a = [
        hop("P", &["P"], "P", "I"),
        hop("P", &["P", "I"], "I", "L"),
        hop("I", &["I"], "I", "P"),
        hop("I", &["I", "P"], "P", "L"),
    ];
    let err = check(&skips_a, &members, "L", Sealing::EndToEnd).expect_err("A's scalar is missing");
    assert_eq!(
        err,
        Violation {
            holder: "L".into(),
            owners: ("I".into(), "P".into()),
            scalars: names(&["I", "P"])
        }
    );
    // Among P, I and L alone the same hops are the ring, and L may compare.
    assert_eq!(check(&skips_a, &names(&["P", "I", "L"]), "L", Sealing::EndToEnd), Ok(()));

    // Only the computing node has the exception: name another one and L is flagged.
    let ring = RingSchedule::ring(&ring_of(3), "L").expect("a valid ring");
    let err =
        check(ring.hops(), ring.members(), "P", Sealing::EndToEnd).expect_err("L is not computing");
    assert_eq!(err.holder, "L");
}

#[test]
fn a_set_sent_in_the_clear_is_held_next_to_the_receivers_own() {
    let members = ring_of(3);
    let clear = [hop("I", &[], "I", "P")];
    let err =
        check(&clear, &members, "L", Sealing::EndToEnd).expect_err("P holds X_I in the clear");
    assert_eq!(
        err,
        Violation { holder: "P".into(), owners: ("I".into(), "P".into()), scalars: vec![] }
    );
    assert_eq!(err.to_string(), "P holds the sets of I and P in the clear");
}

#[test]
fn every_route_runs_from_its_owner_through_every_member_to_the_computing_node() {
    for ring in every_ring() {
        let (members, computing) = (ring.members(), ring.computing());
        let all: BTreeSet<&String> = members.iter().collect();
        for owner in members {
            let route = ring.route(owner).expect("every member has a route");
            assert_eq!(route.first(), Some(owner));
            assert_eq!(route.last().map(String::as_str), Some(computing));
            let visited: Vec<&String> = if owner == computing {
                assert_eq!(route.len(), members.len() + 1, "{route:?}");
                route[..route.len() - 1].iter().collect()
            } else {
                route.iter().collect()
            };
            assert_eq!(visited.len(), members.len(), "{route:?}");
            assert_eq!(visited.iter().copied().collect::<BTreeSet<_>>(), all, "{route:?}");
        }
        assert_eq!(ring.route("X"), None);
    }
}

#[test]
fn routes_follow_ring_order_and_skip_the_computing_node_until_the_end() {
    let ring = RingSchedule::ring(&names(&["A", "B", "C", "D"]), "A").expect("a valid ring");
    assert_eq!(ring.route("A").expect("A"), names(&["A", "B", "C", "D", "A"]));
    assert_eq!(ring.route("B").expect("B"), names(&["B", "C", "D", "A"]));
    assert_eq!(ring.route("C").expect("C"), names(&["C", "D", "B", "A"]));
    assert_eq!(ring.route("D").expect("D"), names(&["D", "B", "C", "A"]));
}

#[test]
fn the_hops_run_round_by_round_and_leave_every_set_fully_blinded_at_the_computing_node() {
    for ring in every_ring() {
        let (members, computing) = (ring.members(), ring.computing());
        let rounds: Vec<&[Hop]> = ring.rounds().collect();
        assert_eq!(rounds.concat(), ring.hops());
        assert_eq!(rounds.len(), members.len(), "the computing node's own set takes n hops");
        // Where each set is and which scalars it carries; a set starts at its owner in the clear.
        let mut state: BTreeMap<&str, (&str, Vec<String>)> =
            members.iter().map(|m| (m.as_str(), (m.as_str(), Vec::new()))).collect();
        for round in rounds {
            // Every hop of a round must be possible from the state before the round.
            let before = state.clone();
            for hop in round {
                let (at, applied) = &before[hop.owner.as_str()];
                assert_eq!(*at, hop.from, "{hop:?} sent from where the set is not");
                let mut expected = applied.clone();
                expected.push(hop.from.clone());
                assert_eq!(hop.blinded_by, expected, "{hop:?}");
                state.insert(&hop.owner, (&hop.to, expected));
            }
        }
        for (owner, (at, applied)) in &state {
            assert_eq!(*at, computing, "{owner}'s set ends elsewhere");
            // The computing node applies the last scalar to every other set, and its own set
            // arrives already under every scalar.
            let mut missing: BTreeSet<&String> = members.iter().collect();
            for scalar in applied {
                assert!(missing.remove(scalar), "{scalar} applied twice or unknown: {applied:?}");
            }
            let left: Vec<&str> = missing.iter().map(|m| m.as_str()).collect();
            let want: Vec<&str> = if *owner == computing { vec![] } else { vec![computing] };
            assert_eq!(left, want, "{owner}: {applied:?}");
        }
    }
}

#[test]
fn next_hop_and_expected_from_agree_with_the_hops() {
    for ring in every_ring() {
        let computing = ring.computing();
        for hop in ring.hops() {
            assert_eq!(ring.next_hop(&hop.owner, &hop.from), Some(hop.to.as_str()), "{hop:?}");
            assert!(ring.expected_from(&hop.to).contains(&(hop.owner.clone(), hop.from.clone())));
        }
        for owner in ring.members() {
            if owner != computing {
                assert_eq!(ring.next_hop(owner, computing), None, "the computing node keeps it");
            }
            let received = ring.expected_from(owner).len();
            let others = ring.members().len() - 1;
            assert_eq!(received, if owner == computing { others + 1 } else { others });
        }
        assert_eq!(ring.next_hop("X", computing), None);
        assert_eq!(ring.expected_from("X"), vec![]);
    }

    let ring = RingSchedule::ring(&ring_of(3), "L").expect("a valid ring");
    assert_eq!(ring.next_hop("L", "L"), Some("P"), "L blinds its own set first and sends it on");
    assert_eq!(ring.next_hop("P", "P"), Some("I"));
    assert_eq!(ring.next_hop("I", "P"), Some("L"));
    let pairs = |list: &[(&str, &str)]| -> BTreeSet<(String, String)> {
        list.iter().map(|(o, s)| ((*o).to_owned(), (*s).to_owned())).collect()
    };
    let at_l: BTreeSet<_> = ring.expected_from("L").into_iter().collect();
    assert_eq!(at_l, pairs(&[("P", "I"), ("I", "P"), ("L", "I")]));
    let at_p: BTreeSet<_> = ring.expected_from("P").into_iter().collect();
    assert_eq!(at_p, pairs(&[("I", "I"), ("L", "L")]));
}

#[test]
fn bad_rings_are_refused() {
    let refused = |members: &[&str], computing: &str| {
        RingSchedule::ring(&names(members), computing).expect_err("a bad ring")
    };
    assert_eq!(refused(&["P", "I"], "P"), ScheduleError::TooFewMembers { count: 2, min: 3 });
    assert_eq!(refused(&[], "P"), ScheduleError::TooFewMembers { count: 0, min: 3 });
    assert_eq!(
        refused(&["P", "I", "P"], "P"),
        ScheduleError::DuplicateMember { member: "P".into() }
    );
    assert_eq!(refused(&["P", "", "L"], "P"), ScheduleError::EmptyName { position: 1 });
    assert_eq!(
        refused(&["P", "I", "L"], "X"),
        ScheduleError::ComputingNotMember { computing: "X".into() }
    );
    assert_eq!(
        refused(&["P", "I", "L"], ""),
        ScheduleError::ComputingNotMember { computing: "".into() }
    );
    assert_eq!(
        refused(&["P", RELAY_HOLDER, "L"], "P"),
        ScheduleError::ReservedName { member: RELAY_HOLDER.into() }
    );
    assert_eq!(
        refused(&["P", "I"], "P").to_string(),
        "an overlap ring needs at least 3 members, not 2"
    );
}
