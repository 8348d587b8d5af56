//! The ring schedule of an overlap query across three or more nodes, and the checker of the
//! invariant it must keep (design-review.md F7 and Appendix A3; DESIGN.md "Overlap matrices").
//!
//! In an overlap query every participant owns a set and a secret scalar, and each set must end
//! up blinded by every scalar so that the computing node can compare them. "Blinded by every
//! participant" leaves the *order* open, and the order decides who can compare what: a node
//! holding two owners' sets under the same scalars can intersect them. The natural
//! return-to-owner order of generalised two-party PSI hands the police a person-level
//! intersection with each partner (F7). So this module fixes the schedule and checks it:
//!
//! - [`RingSchedule::ring`]: each set starts at its owner, visits every other non-computing
//!   member in ring order, and ends at the computing node, which therefore applies the last
//!   scalar to every other owner's set. The computing node's own set goes round the ring from it
//!   and comes back to it.
//! - [`check`]: replays a list of [`Hop`]s and reports the first party that holds two owners'
//!   sets under the same subset of scalars, the relay included when it can read the hops
//!   ([`Sealing::HopByHopRelayReads`]). The ring passes only with [`Sealing::EndToEnd`], which is
//!   why every hop goes through the sealed relay channel ([`crate::relay`], F1).
//!
//! The model is symbolic, as in Appendix A3: a set is "held under" the subset of scalars applied
//! to it, and a member may multiply anything it holds by its own scalar. It does no I/O and no
//! group arithmetic.
//!
//! One consequence of the ring for the computing node's own set: the node applies its scalar
//! *first* (the set must not leave it in the clear), so the set returns already under every
//! scalar, and the node keeps it as it is. Applying its scalar again would square it in the
//! group and the set would no longer match the others.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The holder name [`check`] gives the relay when it can read the hops. [`RingSchedule::ring`]
/// refuses a member of that name, so a violation's holder is never ambiguous.
pub const RELAY_HOLDER: &str = "coordinator";

/// Fewest members an overlap ring may have: with two, the computing node would learn the other
/// side's set outright, which is a linked count, not an overlap.
pub const MIN_MEMBERS: usize = 3;

/// One hop: `from` sends the set of `owner`, already blinded by `blinded_by` (in order, `from`
/// included as the last), to `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    /// Whose set travels.
    pub owner: String,
    /// The sender, which has just applied its scalar.
    pub from: String,
    /// The receiver.
    pub to: String,
    /// The scalars applied so far, in the order they were applied; `from` is the last.
    pub blinded_by: Vec<String>,
}

/// Why a ring schedule could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// Fewer than [`MIN_MEMBERS`] members.
    #[error("an overlap ring needs at least {min} members, not {count}")]
    TooFewMembers {
        /// How many members were given.
        count: usize,
        /// The minimum.
        min: usize,
    },
    /// A member name is empty.
    #[error("member {position} of the ring has an empty name")]
    EmptyName {
        /// Its position in the ring, from 0.
        position: usize,
    },
    /// A member is listed twice, so its set and scalar would be counted twice.
    #[error("{member} is listed more than once in the ring")]
    DuplicateMember {
        /// The member.
        member: String,
    },
    /// A member has the name the checker gives the relay.
    #[error("{member} is the name reserved for the relay in schedule checks")]
    ReservedName {
        /// The member.
        member: String,
    },
    /// The computing node does not take part.
    #[error("the computing node {computing} is not a member of the ring")]
    ComputingNotMember {
        /// The computing node named by the query.
        computing: String,
    },
}

/// The ring schedule: every set starts at its owner, is blinded by every participant in ring
/// order, and the computing node applies the last scalar to every set (its own set included,
/// which goes round the ring and comes back to it, already under every scalar).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RingSchedule {
    /// Members in ring order.
    members: Vec<String>,
    computing: String,
    /// One route per owner, in ring order of owners.
    routes: Vec<Vec<String>>,
    /// Every hop, round after round.
    hops: Vec<Hop>,
    /// Where each round ends in `hops` (exclusive), so rounds can be handed out as slices.
    round_ends: Vec<usize>,
}

impl RingSchedule {
    /// The ring over `members` (in ring order) with `computing` last on every route.
    ///
    /// Refuses fewer than [`MIN_MEMBERS`] members, empty or repeated names, the relay's
    /// reserved name, and a computing node that is not a member.
    pub fn ring(members: &[String], computing: &str) -> Result<RingSchedule, ScheduleError> {
        if members.len() < MIN_MEMBERS {
            return Err(ScheduleError::TooFewMembers { count: members.len(), min: MIN_MEMBERS });
        }
        let mut seen = BTreeSet::new();
        for (position, member) in members.iter().enumerate() {
            if member.is_empty() {
                return Err(ScheduleError::EmptyName { position });
            }
            if member == RELAY_HOLDER {
                return Err(ScheduleError::ReservedName { member: member.clone() });
            }
            if !seen.insert(member.as_str()) {
                return Err(ScheduleError::DuplicateMember { member: member.clone() });
            }
        }
        let Some(c) = members.iter().position(|m| m == computing) else {
            return Err(ScheduleError::ComputingNotMember { computing: computing.to_owned() });
        };

        let n = members.len();
        // Each owner's route: itself, then its ring successors without the computing node, then
        // the computing node. For the computing node's own set the successors are every other
        // member, so the set goes once round the ring and comes home. Every non-computing node
        // then sees each other owner's set exactly once, under a ring interval of scalars that
        // starts at that owner, so no two of them coincide; only the computing node sees all
        // the sets under the same scalars, and that is the point.
        let routes: Vec<Vec<String>> = (0..n)
            .map(|owner| {
                let mut route = Vec::with_capacity(n + 1);
                route.push(members[owner].clone());
                route.extend(
                    (1..n)
                        .map(|step| (owner + step) % n)
                        .filter(|&j| j != c)
                        .map(|j| members[j].clone()),
                );
                route.push(members[c].clone());
                route
            })
            .collect();

        // Round r carries hop r of every route still travelling. Hop r of a route needs only hop
        // r - 1 of the same route, so every hop of a round can go as soon as the previous round has.
        let mut hops = Vec::new();
        let mut round_ends = Vec::new();
        let longest = routes.iter().map(Vec::len).max().unwrap_or(0);
        for round in 0..longest.saturating_sub(1) {
            for route in &routes {
                if let (Some(from), Some(to)) = (route.get(round), route.get(round + 1)) {
                    hops.push(Hop {
                        owner: route[0].clone(),
                        from: from.clone(),
                        to: to.clone(),
                        blinded_by: route[..=round].to_vec(),
                    });
                }
            }
            round_ends.push(hops.len());
        }

        Ok(RingSchedule {
            members: members.to_vec(),
            computing: computing.to_owned(),
            routes,
            hops,
            round_ends,
        })
    }

    /// The members in ring order.
    pub fn members(&self) -> &[String] {
        &self.members
    }

    /// The computing node.
    pub fn computing(&self) -> &str {
        &self.computing
    }

    /// Every hop, in an order that can be executed: round by round (see [`Self::rounds`]).
    pub fn hops(&self) -> &[Hop] {
        &self.hops
    }

    /// The hops round by round: every hop of a round depends only on hops of earlier rounds, so
    /// a round's hops may run in parallel.
    pub fn rounds(&self) -> impl Iterator<Item = &[Hop]> + '_ {
        let starts = std::iter::once(0).chain(self.round_ends.iter().copied());
        starts.zip(self.round_ends.iter().copied()).map(|(start, end)| &self.hops[start..end])
    }

    /// The nodes the owner's set visits, owner first, computing node last; `None` for a node
    /// that is not a member.
    pub fn route(&self, owner: &str) -> Option<&[String]> {
        self.routes
            .iter()
            .find(|route| route.first().is_some_and(|first| first == owner))
            .map(Vec::as_slice)
    }

    /// Where a node that has just applied its scalar to `owner`'s set sends it next.
    ///
    /// `None` at the computing node, which keeps every set that reaches it, and for a node that
    /// is not on the owner's route. The computing node's own set is the one exception at its
    /// start: the computing node blinds it first and sends it to its ring successor.
    pub fn next_hop(&self, owner: &str, at: &str) -> Option<&str> {
        let route = self.route(owner)?;
        if at == self.computing && owner != self.computing {
            return None;
        }
        // A node other than the computing one is on a route at most once; the computing node is
        // first on its own route, and its second visit (the last) keeps the set.
        let position = route.iter().position(|node| node == at)?;
        route.get(position + 1).map(String::as_str)
    }

    /// The sets a node must receive before it can finish, as (owner, sender) pairs, in the
    /// order they are scheduled. Empty for a node that is not a member.
    pub fn expected_from(&self, at: &str) -> Vec<(String, String)> {
        self.hops
            .iter()
            .filter(|hop| hop.to == at)
            .map(|hop| (hop.owner.clone(), hop.from.clone()))
            .collect()
    }
}

/// Who can read what each hop carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sealing {
    /// Sealed from node to node through the relay (F1): only the receiver reads a hop.
    EndToEnd,
    /// Hop-by-hop TLS only: the relay reads every hop as well as the receiver.
    HopByHopRelayReads,
}

/// A party that holds two different owners' sets under the same subset of scalars, which lets it
/// intersect them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The member, or [`RELAY_HOLDER`] for the relay.
    pub holder: String,
    /// Two of the owners whose sets it holds under those scalars, the first two by name.
    pub owners: (String, String),
    /// The scalars, by member name, sorted; empty for sets in the clear.
    pub scalars: Vec<String>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (a, b) = &self.owners;
        write!(f, "{} holds the sets of {a} and {b} ", self.holder)?;
        if self.scalars.is_empty() {
            write!(f, "in the clear")
        } else {
            write!(f, "under the same scalars {{{}}}", self.scalars.join(","))
        }
    }
}

/// A party that can hold sets: a member, or the relay reading hops it should only carry. Kept
/// apart from member names so that a member named like the relay is still a different party.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Party<'a> {
    Member(&'a str),
    Relay,
}

/// Checks the invariant of design-review.md F7 over `hops` and returns the first violation.
///
/// Every party's holdings are replayed: each member holds its own set under ∅ and under its own
/// scalar, and every set a hop delivers to it, each also multiplied by its own scalar; the relay
/// (named [`RELAY_HOLDER`]) holds what it can read, which under [`Sealing::HopByHopRelayReads`]
/// is every hop, and has no scalar of its own. The invariant: no party other than `computing`
/// ever holds two different owners' sets under the same subset of scalars; `computing` may do so
/// only if that subset plus its own scalar is every member's scalar.
///
/// Parties are checked in the order of `members`, then receivers that are not members, then the
/// relay; within a party, smaller subsets first, then subsets in sorted order.
pub fn check(
    hops: &[Hop],
    members: &[String],
    computing: &str,
    sealing: Sealing,
) -> Result<(), Violation> {
    match violations(hops, members, computing, sealing).into_iter().next() {
        Some(violation) => Err(violation),
        None => Ok(()),
    }
}

/// Every violation [`check`] would find, one per party and subset, in the order it checks them.
pub fn violations(
    hops: &[Hop],
    members: &[String],
    computing: &str,
    sealing: Sealing,
) -> Vec<Violation> {
    let member_names: BTreeSet<&str> = members.iter().map(String::as_str).collect();
    let holdings = holdings(hops, members, sealing);
    let mut found = Vec::new();
    for (party, held) in &holdings {
        // A member can multiply what it holds by its own scalar, so it holds that too. Once is
        // enough: in this model applying a scalar twice names the same subset again.
        // Keyed by size first, so the smallest subset (nearest to what was sent) is reported.
        let mut closed: BTreeMap<(usize, BTreeSet<&str>), BTreeSet<&str>> = BTreeMap::new();
        for (owner, scalars) in held {
            closed.entry((scalars.len(), scalars.clone())).or_default().insert(owner);
            if let Party::Member(me) = party
                && member_names.contains(me)
            {
                let mut more = scalars.clone();
                more.insert(me);
                closed.entry((more.len(), more)).or_default().insert(owner);
            }
        }
        for ((_, scalars), owners) in &closed {
            let mut owners = owners.iter();
            let (Some(first), Some(second)) = (owners.next(), owners.next()) else { continue };
            if *party == Party::Member(computing) && completes(scalars, computing, &member_names) {
                continue;
            }
            found.push(Violation {
                holder: match party {
                    Party::Member(name) => (*name).to_owned(),
                    Party::Relay => RELAY_HOLDER.to_owned(),
                },
                owners: ((*first).to_owned(), (*second).to_owned()),
                scalars: scalars.iter().map(|s| (*s).to_owned()).collect(),
            });
        }
    }
    found
}

/// Whether `scalars` plus the computing node's own scalar is every member's scalar.
fn completes(scalars: &BTreeSet<&str>, computing: &str, members: &BTreeSet<&str>) -> bool {
    let mut with_own = scalars.clone();
    with_own.insert(computing);
    with_own == *members
}

/// (owner, scalars) pairs each party holds, parties in checking order.
type Holdings<'a> = Vec<(Party<'a>, BTreeSet<(&'a str, BTreeSet<&'a str>)>)>;

/// What every party holds before any multiplication by its own scalar.
fn holdings<'a>(hops: &'a [Hop], members: &'a [String], sealing: Sealing) -> Holdings<'a> {
    let mut parties: Vec<Party<'a>> = Vec::new();
    for member in members {
        if !parties.contains(&Party::Member(member)) {
            parties.push(Party::Member(member));
        }
    }
    // A receiver outside the member list still holds what it is sent; it has no scalar in the
    // ring, so it gets no closure, but sending it two sets is still a violation.
    for hop in hops {
        if !parties.contains(&Party::Member(&hop.to)) {
            parties.push(Party::Member(&hop.to));
        }
    }
    if sealing == Sealing::HopByHopRelayReads {
        parties.push(Party::Relay);
    }

    let mut held: Holdings<'a> =
        parties.into_iter().map(|party| (party, BTreeSet::new())).collect();
    let mut give = |party: Party<'a>, owner: &'a str, scalars: BTreeSet<&'a str>| {
        if let Some((_, set)) = held.iter_mut().find(|(p, _)| *p == party) {
            set.insert((owner, scalars));
        }
    };
    for member in members {
        give(Party::Member(member), member, BTreeSet::new());
        give(Party::Member(member), member, BTreeSet::from([member.as_str()]));
    }
    for hop in hops {
        let scalars: BTreeSet<&str> = hop.blinded_by.iter().map(String::as_str).collect();
        if sealing == Sealing::HopByHopRelayReads {
            give(Party::Relay, &hop.owner, scalars.clone());
        }
        give(Party::Member(&hop.to), &hop.owner, scalars);
    }
    held
}

#[cfg(test)]
mod tests;
