//! F7, the overlap schedule (design-review §3.2, Appendix A3, §10 item 9): in an overlap ring
//! no party but the computing node may ever hold two owners' sets under the same scalars, or
//! it can intersect them. A thin check over `fedlink_proto::schedule` (its own unit tests cover
//! more): the ring passes for 3 to 5 members when hops are sealed end to end, fails when the
//! relay can read hops, and the checker catches the natural return-to-owner schedule.

use fedlink_proto::schedule::{Hop, RELAY_HOLDER, RingSchedule, Sealing, check, violations};

fn members(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("m{i}")).collect()
}

#[test]
fn the_ring_keeps_the_invariant_for_three_to_five_members() {
    for n in 3..=5 {
        let members = members(n);
        let computing = members[n - 1].clone();
        let ring = RingSchedule::ring(&members, &computing).expect("ring");
        assert_eq!(check(ring.hops(), &members, &computing, Sealing::EndToEnd), Ok(()), "n = {n}");
        // Every owner's set ends at the computing node, which applies the last scalar: with it,
        // every member's scalar is applied exactly once.
        for owner in &members {
            let last = ring.hops().iter().rfind(|h| &h.owner == owner).expect("hops");
            assert_eq!(last.to, computing, "n = {n}, owner {owner}");
            let mut scalars = last.blinded_by.clone();
            if !scalars.contains(&computing) {
                scalars.push(computing.clone());
            }
            let applied = scalars.len();
            scalars.sort();
            scalars.dedup();
            assert_eq!(scalars.len(), applied, "n = {n}, owner {owner}: a scalar applied twice");
            assert_eq!(scalars, members, "n = {n}, owner {owner}: every scalar applied");
        }
        // The same hops read by the relay (hop-by-hop TLS only) break it.
        let broken = check(ring.hops(), &members, &computing, Sealing::HopByHopRelayReads)
            .expect_err("a reading relay holds two owners' sets under the same scalars");
        assert_eq!(broken.holder, RELAY_HOLDER, "n = {n}: {broken}");
    }
}

#[test]
fn a_return_to_owner_schedule_is_caught() {
    // m0's set goes to m1 and comes back to m0 under {m0, m1}; m1 sends its own set to m0,
    // which multiplies it by its own scalar: m0 now holds both under {m0, m1} and can
    // intersect the police's set with a partner's (F7's person-level PSI).
    let members = members(3);
    let hop = |owner: &str, from: &str, to: &str, by: &[&str]| Hop {
        owner: owner.into(),
        from: from.into(),
        to: to.into(),
        blinded_by: by.iter().map(|s| s.to_string()).collect(),
    };
    let hops = vec![
        hop("m0", "m0", "m1", &["m0"]),
        hop("m0", "m1", "m0", &["m0", "m1"]),
        hop("m1", "m1", "m0", &["m1"]),
    ];
    let found = violations(&hops, &members, "m2", Sealing::EndToEnd);
    assert!(
        found.iter().any(|v| v.holder == "m0"
            && v.owners == ("m0".to_string(), "m1".to_string())
            && v.scalars == ["m0", "m1"]),
        "{found:?}"
    );
}
