//! Result hashes agree: the hash of the answer the coordinator logged in RESULT_RECEIVED is
//! the one the node logged for what it released — at the entry the stored receipt proves, or,
//! with no store, at some entry of the node's for that query.

use fedlink_proto::pb;

use super::queries::hex;
use super::{Check, Context, EntryRef, FindingKind, query_label};

/// Runs the check.
pub fn check(ctx: &mut Context<'_>) {
    let coordinator = ctx.coordinator_name().to_string();
    let mut found = Vec::new();
    let mut checked: Vec<String> = Vec::new();
    for pair in &ctx.results {
        let Some(result) = &pair.result else { continue };
        if result.result_hash.is_empty() {
            continue; // A refusal: nothing was released, so no hash was logged.
        }
        let node = result.node;
        let Some(view) = ctx.nodes.get(node) else { continue };
        let label = query_label(result.query_id);
        let logged_hash = |e: &pb::AuditEntry| {
            e.output.as_ref().map(|o| o.result_hash.clone()).unwrap_or_default()
        };
        let candidates: Vec<u64> = match pair.receipt {
            Some(receipt) => vec![receipt.leaf_index],
            None => view.entries_for_query(result.query_id).to_vec(),
        };
        // Only entries for this query: one for another is reported by `queries`.
        let present: Vec<(u64, Vec<u8>)> = candidates
            .iter()
            .filter_map(|i| view.decoded(*i).map(|e| (*i, e)))
            .filter(|(_, e)| super::queries::answers(e, result.query_id))
            .map(|(i, e)| (i, logged_hash(e)))
            .filter(|(_, h)| !h.is_empty() || pair.receipt.is_some())
            .collect();
        if present.is_empty() {
            continue; // No node entry to compare with: reported by `queries` or `checkpoints`.
        }
        checked.push(node.to_string());
        if present.iter().any(|(_, h)| h.as_slice() == result.result_hash) {
            continue;
        }
        let mut entries = vec![EntryRef::new(&coordinator, result.index)];
        entries.extend(present.iter().map(|(i, _)| EntryRef::new(node, *i)));
        let theirs: Vec<String> =
            present.iter().map(|(i, h)| format!("entry {i}: {}", hex(h))).collect();
        found.push((
            node.to_string(),
            entries,
            format!(
                "query {label}: coordinator entry {} logged result hash {}, but {node} logged {}",
                result.index,
                hex(result.result_hash),
                theirs.join("; ")
            ),
        ));
    }
    for node in checked {
        ctx.checked(&node, Check::ResultHashes, 1);
    }
    for (member, entries, detail) in found {
        ctx.find(FindingKind::ResultHashMismatch, &member, entries, detail);
    }
}
