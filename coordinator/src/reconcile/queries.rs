//! Two-sided by query id. Every QUERY_ISSUED at the coordinator for node X has X's entries for
//! that query (and X logged the same envelope); every entry of X for a query of this
//! coordinator has the coordinator's QUERY_ISSUED for X; every RESULT_RECEIVED matches the node
//! entry its stored receipt proves (or, with no store, an entry of X for that query within the
//! size the coordinator saw), and the store holds a receipt for each.

use std::collections::BTreeMap;

use fedlink_proto::pb;

use super::view::LogView;
use super::{Check, Context, EntryRef, FindingKind, query_label};
use crate::receipts::{ReceiptSnapshot, StoredReceipt};

/// A RESULT_RECEIVED entry of the coordinator's log.
#[derive(Debug, Clone)]
pub struct ResultReceived<'a> {
    /// Its index in the coordinator's log.
    pub index: u64,
    /// The query.
    pub query_id: &'a [u8],
    /// The node that answered.
    pub node: &'a str,
    /// The node's log size the receipt was verified to.
    pub node_log_size: u64,
    /// The node's root at that size.
    pub node_log_root: &'a [u8],
    /// The hash of the answer received (empty for a refusal).
    pub result_hash: &'a [u8],
}

/// A RESULT_RECEIVED entry and the stored receipt it was logged for, paired by query and node
/// in order; either may be missing.
#[derive(Debug, Clone)]
pub struct ResultPair<'a> {
    /// The coordinator's entry.
    pub result: Option<ResultReceived<'a>>,
    /// The store's receipt.
    pub receipt: Option<&'a StoredReceipt>,
}

impl ResultPair<'_> {
    /// The node concerned.
    pub fn node(&self) -> &str {
        self.result.as_ref().map(|r| r.node).or(self.receipt.map(|r| r.node.as_str())).unwrap_or("")
    }

    /// The query concerned.
    pub fn query_id(&self) -> &[u8] {
        self.result
            .as_ref()
            .map(|r| r.query_id)
            .or(self.receipt.map(|r| r.query_id.as_slice()))
            .unwrap_or(&[])
    }

    /// The coordinator entry, as a reference.
    pub fn result_ref(&self, coordinator: &str) -> Option<EntryRef> {
        self.result.as_ref().map(|r| EntryRef::new(coordinator, r.index))
    }
}

/// Pairs the coordinator's RESULT_RECEIVED entries with the store's receipts: the k-th entry
/// for a (query, node) with the k-th receipt stored for it (the coordinator stores the receipt,
/// then logs the entry, one at a time).
pub fn pair_results<'a>(
    coordinator: &LogView<'a>,
    receipts: Option<&'a ReceiptSnapshot>,
) -> Vec<ResultPair<'a>> {
    type Key<'k> = (&'k [u8], &'k str);
    let mut results: BTreeMap<Key<'a>, Vec<ResultReceived<'a>>> = BTreeMap::new();
    let mut order: Vec<Key<'a>> = Vec::new();
    for (index, entry) in coordinator.decoded_entries() {
        if entry.event_type != pb::EventType::ResultReceived as i32 {
            continue;
        }
        let Some(query) = entry.query.as_ref() else { continue };
        let output = entry.output.as_ref();
        let result = ResultReceived {
            index,
            query_id: &query.query_id,
            node: &query.audience,
            node_log_size: output.map_or(0, |o| o.node_log_size),
            node_log_root: output.map_or(&[], |o| o.node_log_root.as_slice()),
            result_hash: output.map_or(&[], |o| o.result_hash.as_slice()),
        };
        let key = (result.query_id, result.node);
        if !results.contains_key(&key) {
            order.push(key);
        }
        results.entry(key).or_default().push(result);
    }
    let mut stored: BTreeMap<Key<'a>, Vec<&'a StoredReceipt>> = BTreeMap::new();
    for receipt in receipts.into_iter().flat_map(|s| s.receipts.iter()) {
        let key = (receipt.query_id.as_slice(), receipt.node.as_str());
        if !results.contains_key(&key) && !stored.contains_key(&key) {
            order.push(key);
        }
        stored.entry(key).or_default().push(receipt);
    }
    let mut pairs = Vec::new();
    for key in order {
        let logged = results.remove(&key).unwrap_or_default();
        let kept = stored.remove(&key).unwrap_or_default();
        let n = logged.len().max(kept.len());
        let mut logged = logged.into_iter();
        let mut kept = kept.into_iter();
        for _ in 0..n {
            pairs.push(ResultPair { result: logged.next(), receipt: kept.next() });
        }
    }
    pairs
}

/// Runs the check.
pub fn check(ctx: &mut Context<'_>) {
    issued_reached_the_node(ctx);
    node_queries_were_issued(ctx);
    results_match_node_entries(ctx);
}

/// Every QUERY_ISSUED has its node's entries, under the same envelope.
fn issued_reached_the_node(ctx: &mut Context<'_>) {
    let coordinator = ctx.coordinator_name().to_string();
    let mut found = Vec::new();
    let mut checked: BTreeMap<String, u64> = BTreeMap::new();
    let mut unchecked: BTreeMap<String, u64> = BTreeMap::new();
    for (index, entry) in ctx.coordinator.decoded_entries() {
        if entry.event_type != pb::EventType::QueryIssued as i32 {
            continue;
        }
        let Some(query) = entry.query.as_ref() else { continue };
        let node = query.audience.as_str();
        let Some(view) = ctx.nodes.get(node) else {
            *unchecked.entry(node.to_string()).or_default() += 1;
            continue;
        };
        *checked.entry(node.to_string()).or_default() += 1;
        let mut at_node = view.entries_for_query(&query.query_id).to_vec();
        if at_node.is_empty() {
            at_node = view.entries_for_envelope(&query.envelope_hash).to_vec();
        }
        let issued = EntryRef::new(&coordinator, index);
        let label = query_label(&query.query_id);
        if at_node.is_empty() {
            let ends = match view.last_time_ms() {
                Some(t) if t < entry.time_ms => {
                    format!(
                        "; its log ends before the query was issued ({t} < {} ms)",
                        entry.time_ms
                    )
                }
                _ => String::new(),
            };
            found.push((
                FindingKind::QueryOnlyAtCoordinator,
                node.to_string(),
                vec![issued],
                format!(
                    "coordinator entry {index} issued query {label} to {node}, but {node}'s log \
                     ({}) has no entry for it{ends}",
                    super::count(view.size(), "entry", "entries")
                ),
            ));
            continue;
        }
        let differing: Vec<u64> = at_node
            .iter()
            .copied()
            .filter(|i| {
                view.decoded(*i).and_then(|e| e.query.as_ref()).is_some_and(|q| {
                    !q.envelope_hash.is_empty() && q.envelope_hash != query.envelope_hash
                })
            })
            .collect();
        if !differing.is_empty() {
            let mut entries = vec![issued];
            entries.extend(differing.iter().map(|i| EntryRef::new(node, *i)));
            found.push((
                FindingKind::EnvelopeDiffers,
                node.to_string(),
                entries,
                format!(
                    "query {label}: coordinator entry {index} issued an envelope with hash {}, \
                     but {node} logged another envelope under that query id (entries {})",
                    hex(&query.envelope_hash),
                    list(&differing)
                ),
            ));
        }
    }
    let total: u64 = checked.values().sum();
    ctx.checked(&coordinator, Check::Queries, total);
    for (node, n) in checked {
        ctx.checked(&node, Check::Queries, n);
    }
    for (node, n) in unchecked {
        ctx.note(format!(
            "{} the coordinator issued to {node} not checked: no log of {node} was given",
            super::count(n, "query", "queries")
        ));
    }
    for (kind, member, entries, detail) in found {
        ctx.find(kind, &member, entries, detail);
    }
}

/// Every node entry for a query of this coordinator has the coordinator's QUERY_ISSUED.
fn node_queries_were_issued(ctx: &mut Context<'_>) {
    let coordinator = ctx.coordinator_name().to_string();
    let mut issued: BTreeMap<(&[u8], &str), u64> = BTreeMap::new();
    for (index, entry) in ctx.coordinator.decoded_entries() {
        if entry.event_type == pb::EventType::QueryIssued as i32
            && let Some(q) = entry.query.as_ref()
        {
            issued.entry((q.query_id.as_slice(), q.audience.as_str())).or_insert(index);
        }
    }
    let mut found = Vec::new();
    let mut others: BTreeMap<String, u64> = BTreeMap::new();
    for (member, view) in &ctx.nodes {
        for (query_id, indices) in view.queries() {
            let named = indices.iter().find_map(|i| {
                view.decoded(*i).and_then(|e| e.query.as_ref()).map(|q| q.coordinator.as_str())
            });
            if named != Some(coordinator.as_str()) {
                *others.entry(member.clone()).or_default() += 1;
                continue;
            }
            if issued.contains_key(&(query_id.as_slice(), member.as_str())) {
                continue;
            }
            found.push((
                member.clone(),
                indices.iter().map(|i| EntryRef::new(member, *i)).collect::<Vec<_>>(),
                format!(
                    "{member} logged query {} from {coordinator} (entries {}), but the \
                     coordinator's log has no QUERY_ISSUED for it to {member}",
                    query_label(query_id),
                    list(indices)
                ),
            ));
        }
    }
    for (member, entries, detail) in found {
        ctx.find(FindingKind::QueryOnlyAtNode, &member, entries, detail);
    }
    for (member, n) in others {
        ctx.note(format!("{member}: {n} queries from another coordinator were not reconciled"));
    }
}

/// Every RESULT_RECEIVED matches a node entry and a stored receipt, and every stored receipt
/// was logged.
fn results_match_node_entries(ctx: &mut Context<'_>) {
    let coordinator = ctx.coordinator_name().to_string();
    let have_store = ctx.receipts.is_some();
    let mut found = Vec::new();
    let mut checked: BTreeMap<String, u64> = BTreeMap::new();
    for pair in &ctx.results {
        let node = pair.node().to_string();
        let label = query_label(pair.query_id());
        match (&pair.result, pair.receipt) {
            (Some(result), None) if have_store => found.push((
                FindingKind::ResultWithoutReceipt,
                node.clone(),
                vec![EntryRef::new(&coordinator, result.index)],
                format!(
                    "coordinator entry {} records a result from {node} for query {label}, but \
                     the receipt store holds no receipt for it",
                    result.index
                ),
            )),
            (None, Some(receipt)) => found.push((
                FindingKind::ReceiptNotLogged,
                node.clone(),
                Vec::new(),
                format!(
                    "the receipt store holds a receipt from {node} for query {label} (row {}, \
                     entry {}) that the coordinator's log never recorded receiving",
                    receipt.id, receipt.leaf_index
                ),
            )),
            _ => {}
        }
        let Some(view) = ctx.nodes.get(&node) else { continue };
        let Some(result) = &pair.result else { continue };
        *checked.entry(node.clone()).or_default() += 1;
        let issued_ref = EntryRef::new(&coordinator, result.index);
        match pair.receipt {
            Some(receipt) => {
                // A leaf past the end of the node's log is a deleted tail (`checkpoints`).
                let Some(entry) = view.decoded(receipt.leaf_index) else { continue };
                if !answers(entry, result.query_id) {
                    let what = match entry.query.as_ref().map(|q| q.query_id.as_slice()) {
                        Some(id) if !id.is_empty() => format!("is for query {}", query_label(id)),
                        _ => "answers no query".to_string(),
                    };
                    found.push((
                        FindingKind::ResultWithoutNodeEntry,
                        node.clone(),
                        vec![issued_ref, EntryRef::new(&node, receipt.leaf_index)],
                        format!(
                            "coordinator entry {} records {node}'s result for query {label}, \
                             proved by its entry {}; but that entry of {node}'s log {what}",
                            result.index, receipt.leaf_index
                        ),
                    ));
                }
            }
            None => {
                let within = view
                    .entries_for_query(result.query_id)
                    .iter()
                    .any(|i| *i < result.node_log_size);
                if !within {
                    found.push((
                        FindingKind::ResultWithoutNodeEntry,
                        node.clone(),
                        vec![issued_ref],
                        format!(
                            "coordinator entry {} records {node}'s result for query {label} at \
                             its log size {}, but {node}'s log has no entry for that query \
                             below that size",
                            result.index, result.node_log_size
                        ),
                    ));
                }
            }
        }
    }
    for (node, n) in checked {
        ctx.checked(&node, Check::Queries, n);
    }
    for (kind, member, entries, detail) in found {
        ctx.find(kind, &member, entries, detail);
    }
}

/// Whether a node entry answers query `id`: it names the query, or it is the refusal of a
/// replayed envelope (which names only the envelope's hash: it was refused before its query
/// id could be trusted).
pub fn answers(entry: &pb::AuditEntry, id: &[u8]) -> bool {
    entry
        .query
        .as_ref()
        .is_some_and(|q| q.query_id == id || (q.query_id.is_empty() && !q.envelope_hash.is_empty()))
}

/// Indices as "1, 2, 3".
pub fn list(indices: &[u64]) -> String {
    indices.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
