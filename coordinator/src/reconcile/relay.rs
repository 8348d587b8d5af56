//! Relay digests agree (design-review.md F14): for each query and each ordered pair of nodes,
//! the digest lines `sender>receiver#step:hex` the sender logged as sent are the ones the
//! receiver logged as received, step by step. A relay that substituted a message shows as two
//! digests for one step; one that dropped a message, as a step only the sender logged; one
//! that forged a message, as a step only the receiver logged.
//!
//! A message sent but never received is expected when the query stopped early — a node
//! refused or failed (its entry for the query is DENIED or ERROR) — and is not reported then.

use std::collections::{BTreeMap, BTreeSet};

use fedlink_proto::pb;

use super::{Check, Context, EntryRef, FindingKind, query_label};

/// One parsed digest line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DigestLine {
    /// Sending node.
    pub sender: String,
    /// Receiving node.
    pub receiver: String,
    /// The sender's step number on that channel.
    pub step: u64,
    /// SHA-256 of the sealed message, hex.
    pub digest: String,
}

impl DigestLine {
    /// Parses `sender>receiver#step:hex`.
    pub fn parse(line: &str) -> Option<DigestLine> {
        let (head, digest) = line.split_once(':')?;
        let (route, step) = head.split_once('#')?;
        let (sender, receiver) = route.split_once('>')?;
        let hex_ok = digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit());
        if sender.is_empty() || receiver.is_empty() || !hex_ok {
            return None;
        }
        Some(DigestLine {
            sender: sender.to_string(),
            receiver: receiver.to_string(),
            step: step.parse().ok()?,
            digest: digest.to_ascii_lowercase(),
        })
    }
}

/// (sender, receiver, step) → (digest, first entry that lists it).
type Side = BTreeMap<(String, String, u64), (String, u64)>;

/// What one node logged for one query.
#[derive(Default)]
struct Logged {
    sent: Side,
    received: Side,
    /// Whether the node refused or failed the query.
    stopped: bool,
}

/// Runs the check.
pub fn check(ctx: &mut Context<'_>) {
    let mut queries: BTreeSet<Vec<u8>> = BTreeSet::new();
    for view in ctx.nodes.values() {
        for (id, indices) in view.queries() {
            let relayed = indices
                .iter()
                .any(|i| view.decoded(*i).is_some_and(|e| !e.relay_digests.is_empty()));
            if relayed {
                queries.insert(id.clone());
            }
        }
    }
    let mut found = Vec::new();
    let mut checked: BTreeMap<String, u64> = BTreeMap::new();
    for id in queries {
        let label = query_label(&id);
        let mut logged: BTreeMap<String, Logged> = BTreeMap::new();
        for (member, view) in &ctx.nodes {
            let mut mine = Logged::default();
            for index in view.entries_for_query(&id) {
                let Some(entry) = view.decoded(*index) else { continue };
                if entry.decision == pb::Decision::Denied as i32
                    || entry.decision == pb::Decision::Error as i32
                {
                    mine.stopped = true;
                }
                for line in &entry.relay_digests {
                    let Some(parsed) = DigestLine::parse(line) else {
                        found.push((
                            FindingKind::RelayDigestMalformed,
                            member.clone(),
                            vec![EntryRef::new(member, *index)],
                            format!(
                                "query {label}: {member}'s entry {index} lists relay digest \
                                 {line:?}, which is not sender>receiver#step:hex"
                            ),
                        ));
                        continue;
                    };
                    let side = if parsed.sender == *member {
                        &mut mine.sent
                    } else if parsed.receiver == *member {
                        &mut mine.received
                    } else {
                        continue;
                    };
                    side.entry((parsed.sender, parsed.receiver, parsed.step))
                        .or_insert((parsed.digest, *index));
                }
            }
            logged.insert(member.clone(), mine);
        }
        let stopped = logged.values().any(|l| l.stopped);
        // Every message either side logged, by (sender, receiver, step).
        let mut keys: BTreeSet<(String, String, u64)> = BTreeSet::new();
        for l in logged.values() {
            keys.extend(l.sent.keys().cloned());
            keys.extend(l.received.keys().cloned());
        }
        for key in keys {
            let (sender, receiver, step) = &key;
            let (Some(s), Some(r)) = (logged.get(sender), logged.get(receiver)) else {
                ctx.note(format!(
                    "relay messages between {sender} and {receiver} were not checked: only one \
                     of their logs was given"
                ));
                continue;
            };
            *checked.entry(receiver.clone()).or_default() += 1;
            let message = format!("query {label}: message {sender}>{receiver} step {step}");
            match (s.sent.get(&key), r.received.get(&key)) {
                (Some((a, ia)), Some((b, ib))) if a != b => found.push((
                    FindingKind::RelayDigestMismatch,
                    receiver.clone(),
                    vec![EntryRef::new(sender, *ia), EntryRef::new(receiver, *ib)],
                    format!(
                        "{message}: {sender} logged sending {a} (entry {ia}), but {receiver} \
                         logged receiving {b} (entry {ib}): the relay substituted it"
                    ),
                )),
                (Some((a, ia)), None) if !stopped => found.push((
                    FindingKind::RelayMessageNotReceived,
                    receiver.clone(),
                    vec![EntryRef::new(sender, *ia)],
                    format!(
                        "{message}: {sender} logged sending {a} (entry {ia}), but {receiver}'s \
                         log never received it: the relay dropped it"
                    ),
                )),
                (None, Some((b, ib))) => found.push((
                    FindingKind::RelayMessageNotSent,
                    receiver.clone(),
                    vec![EntryRef::new(receiver, *ib)],
                    format!(
                        "{message}: {receiver} logged receiving {b} (entry {ib}), but {sender}'s \
                         log never sent it"
                    ),
                )),
                _ => {}
            }
        }
    }
    for (member, n) in checked {
        ctx.checked(&member, Check::RelayDigests, n);
    }
    for (kind, member, entries, detail) in found {
        ctx.find(kind, &member, entries, detail);
    }
}
