//! Split view and deleted tails. Every checkpoint of a node's log that someone else holds —
//! each stored receipt's, each RESULT_RECEIVED's `node_log_size`/`node_log_root`, the receipt
//! store's last known checkpoint of the node, the sizes witnesses cosigned — must be the node
//! log's own root at that size, rebuilt from the entries the auditor was given; and each
//! receipt's entry must be the log's entry at that index, byte for byte. Checkpoints held of a
//! log the auditor does not have must at least agree with one another.
//!
//! Every held checkpoint is compared with one tree, so all of them being equal to it is also
//! their consistency with one another and with the node's own checkpoints (which
//! [`super::own`] checks against the same entries).

use std::collections::BTreeMap;

use fedlink_proto::audit::checkpoint::{Checkpoint, NoteVerifier, open_checkpoint};
use fedlink_proto::audit::merkle::{Hash, leaf_hash};
use fedlink_proto::audit::proof::{hashes_from_bytes, verify_inclusion};

use super::queries::list;
use super::{Check, Context, EntryRef, FindingKind, query_label};

/// One checkpoint of a member's log that someone other than the member holds.
#[derive(Debug, Clone)]
struct Held {
    size: u64,
    root: Hash,
    /// Who holds it, readably.
    source: String,
    /// Coordinator entries that record it.
    entries: Vec<EntryRef>,
}

/// Runs the check.
pub fn check(ctx: &mut Context<'_>) {
    let mut held: BTreeMap<String, Vec<Held>> = BTreeMap::new();
    collect_receipts(ctx, &mut held);
    collect_results(ctx, &mut held);
    collect_store(ctx, &mut held);
    let members: Vec<String> = held.keys().cloned().collect();
    for member in members {
        let list = held.remove(&member).unwrap_or_default();
        if ctx.nodes.contains_key(&member) {
            against_the_log(ctx, &member, list);
        } else {
            among_themselves(ctx, &member, list);
        }
    }
    cosigned_sizes(ctx);
}

/// Each stored receipt: its checkpoint opens with the node's key, proves its entry, and its
/// entry is the node log's entry at that index.
fn collect_receipts(ctx: &mut Context<'_>, held: &mut BTreeMap<String, Vec<Held>>) {
    let coordinator = ctx.coordinator_name().to_string();
    let mut found = Vec::new();
    for pair in &ctx.results {
        let Some(receipt) = pair.receipt else { continue };
        let node = receipt.node.as_str();
        let coordinator_entries: Vec<EntryRef> =
            pair.result_ref(&coordinator).into_iter().collect();
        let what = format!(
            "the receipt for query {} (store row {}, {node}'s entry {})",
            query_label(&receipt.query_id),
            receipt.id,
            receipt.leaf_index
        );
        let checkpoint = match open_held(ctx, node, &receipt.receipt.checkpoint) {
            Ok(cp) => cp,
            Err(problem) => {
                found.push((
                    FindingKind::CheckpointConflict,
                    node.to_string(),
                    coordinator_entries,
                    format!("{what}: its checkpoint {problem}"),
                ));
                continue;
            }
        };
        let proves =
            hashes_from_bytes(&receipt.receipt.inclusion_proof).ok().is_some_and(|proof| {
                verify_inclusion(
                    receipt.leaf_index,
                    checkpoint.size,
                    &leaf_hash(&receipt.receipt.entry),
                    &proof,
                    &checkpoint.root,
                )
                .is_ok()
            });
        if !proves || receipt.receipt.leaf_index != receipt.leaf_index {
            found.push((
                FindingKind::ReceiptInvalid,
                node.to_string(),
                coordinator_entries.clone(),
                format!(
                    "{what} does not prove its entry in its checkpoint at size {}: the store \
                     was altered",
                    checkpoint.size
                ),
            ));
        }
        if let Some(view) = ctx.nodes.get(node)
            && let Some(entry) = view.entry(receipt.leaf_index)
            && entry.bytes != receipt.receipt.entry
        {
            let mut entries = coordinator_entries.clone();
            entries.push(EntryRef::new(node, receipt.leaf_index));
            found.push((
                FindingKind::ReceiptEntryDiffers,
                node.to_string(),
                entries,
                format!(
                    "{what}: {node}'s log holds other bytes at entry {} than the receipt it gave \
                     the coordinator: the entry was rewritten, or the auditor was shown another \
                     log",
                    receipt.leaf_index
                ),
            ));
        }
        held.entry(node.to_string()).or_default().push(Held {
            size: checkpoint.size,
            root: checkpoint.root,
            source: what,
            entries: coordinator_entries,
        });
    }
    for (kind, member, entries, detail) in found {
        ctx.find(kind, &member, entries, detail);
    }
}

/// Each RESULT_RECEIVED's node log size and root.
fn collect_results(ctx: &mut Context<'_>, held: &mut BTreeMap<String, Vec<Held>>) {
    let coordinator = ctx.coordinator_name().to_string();
    for pair in &ctx.results {
        let Some(result) = &pair.result else { continue };
        let Some(root) = Hash::from_slice(result.node_log_root) else { continue };
        if result.node_log_size == 0 {
            continue;
        }
        held.entry(result.node.to_string()).or_default().push(Held {
            size: result.node_log_size,
            root,
            source: format!(
                "coordinator entry {} (result for query {})",
                result.index,
                query_label(result.query_id)
            ),
            entries: vec![EntryRef::new(&coordinator, result.index)],
        });
    }
}

/// The receipt store's last known checkpoint of each node.
fn collect_store(ctx: &mut Context<'_>, held: &mut BTreeMap<String, Vec<Held>>) {
    let Some(snapshot) = ctx.receipts else { return };
    let mut found = Vec::new();
    for stored in &snapshot.checkpoints {
        let what = format!("the receipt store's last known checkpoint of {}", stored.node);
        match open_held(ctx, &stored.node, &stored.note) {
            Ok(cp) => {
                if cp.size != stored.size || Hash::from_slice(&stored.root) != Some(cp.root) {
                    found.push((
                        stored.node.clone(),
                        format!(
                            "{what} records size {} and root {}, but its signed note says size \
                             {} and root {}",
                            stored.size,
                            super::queries::hex(&stored.root),
                            cp.size,
                            cp.root
                        ),
                    ));
                }
                held.entry(stored.node.clone()).or_default().push(Held {
                    size: cp.size,
                    root: cp.root,
                    source: what,
                    entries: Vec::new(),
                });
            }
            Err(problem) => found.push((stored.node.clone(), format!("{what}: {problem}"))),
        }
    }
    for (member, detail) in found {
        ctx.find(FindingKind::CheckpointConflict, &member, Vec::new(), detail);
    }
}

/// Opens a checkpoint note of `member`'s log with its key when one is known, or just parses
/// it when none is (no log, no federation file).
fn open_held(ctx: &Context<'_>, member: &str, note: &str) -> Result<Checkpoint, String> {
    let origin = ctx.origin_of(member);
    let checkpoint = match ctx.key_of(member) {
        Some(key) => open_checkpoint(note, &NoteVerifier::new(&origin, key))
            .map_err(|e| format!("does not open with {member}'s key: {e}"))?,
        None => {
            let text = note
                .rfind("\n\n")
                .map(|split| &note[..=split])
                .ok_or_else(|| "is not a signed note".to_string())?;
            Checkpoint::from_body(text).map_err(|e| format!("does not parse: {e}"))?
        }
    };
    if checkpoint.origin != origin {
        return Err(format!("is of log {:?}, not {origin:?}", checkpoint.origin));
    }
    Ok(checkpoint)
}

/// Compares every held checkpoint with the member's log as given.
fn against_the_log(ctx: &mut Context<'_>, member: &str, held: Vec<Held>) {
    let Some(view) = ctx.nodes.get(member) else { return };
    let size = view.size();
    let mut beyond: Vec<&Held> = Vec::new();
    let mut last_good = 0u64;
    let mut differing: Vec<&Held> = Vec::new();
    for h in &held {
        match view.root_at(h.size) {
            None => beyond.push(h),
            Some(root) if root.ct_eq(&h.root) => last_good = last_good.max(h.size),
            Some(_) => differing.push(h),
        }
    }
    let checked = held.len() as u64;
    let mut found = Vec::new();
    if let Some(max) = beyond.iter().map(|h| h.size).max() {
        let mut entries: Vec<EntryRef> = beyond.iter().flat_map(|h| h.entries.clone()).collect();
        entries.sort();
        entries.dedup();
        if size > 0 {
            entries.push(EntryRef::new(member, size - 1));
        }
        let sources: Vec<&str> = beyond.iter().map(|h| h.source.as_str()).collect();
        found.push((
            FindingKind::DeletedTail,
            entries,
            format!(
                "{member}'s log holds {size} entries, but a checkpoint at size {max} was seen \
                 ({} held checkpoint(s) beyond its end: {}): entries {size}..{} are missing",
                beyond.len(),
                sources.join("; "),
                max - 1
            ),
        ));
    }
    if !differing.is_empty() {
        let first_bad = differing.iter().map(|h| h.size).min().unwrap_or(0);
        let mut by_root: BTreeMap<(u64, [u8; 32]), Vec<&Held>> = BTreeMap::new();
        for h in &differing {
            by_root.entry((h.size, h.root.0)).or_default().push(h);
        }
        for ((at, _), group) in by_root {
            let mut entries: Vec<EntryRef> = group.iter().flat_map(|h| h.entries.clone()).collect();
            // The rewritten entry lies between the last size that matched and this one.
            let lower = if last_good < at { last_good } else { 0 };
            if at - lower <= 8 {
                entries.extend((lower..at).map(|i| EntryRef::new(member, i)));
            }
            let sources: Vec<&str> = group.iter().map(|h| h.source.as_str()).collect();
            found.push((
                FindingKind::SplitView,
                entries,
                format!(
                    "{member}'s log at size {at} has another root than the checkpoint held by \
                     {}: the log given here is not the one that was shown then (it matches \
                     what was seen up to size {last_good}; the first differing checkpoint is at \
                     size {first_bad}, so an entry among {lower}..{} differs)",
                    sources.join("; "),
                    at - 1
                ),
            ));
        }
    }
    ctx.checked(member, Check::Checkpoints, checked);
    for (kind, entries, detail) in found {
        ctx.find(kind, member, entries, detail);
    }
}

/// Checkpoints of a log the auditor does not have: equal sizes must have equal roots.
fn among_themselves(ctx: &mut Context<'_>, member: &str, held: Vec<Held>) {
    let mut by_size: BTreeMap<u64, Vec<&Held>> = BTreeMap::new();
    for h in &held {
        by_size.entry(h.size).or_default().push(h);
    }
    let mut found = Vec::new();
    for (size, group) in by_size {
        let first = group[0].root;
        if group.iter().all(|h| h.root.ct_eq(&first)) {
            continue;
        }
        let entries: Vec<EntryRef> = group.iter().flat_map(|h| h.entries.clone()).collect();
        let sources: Vec<String> =
            group.iter().map(|h| format!("{} (root {})", h.source, h.root)).collect();
        found.push((
            entries,
            format!(
                "two checkpoints of {member}'s log at size {size} differ: {}",
                sources.join("; ")
            ),
        ));
    }
    ctx.note(format!(
        "{member}'s log was not given: {} checkpoints the coordinator holds of it were only \
         compared with one another",
        held.len()
    ));
    ctx.checked(member, Check::Checkpoints, held.len() as u64);
    for (entries, detail) in found {
        ctx.find(FindingKind::CheckpointConflict, member, entries, detail);
    }
}

/// A log's cosignatures are of sizes it holds: a witness that cosigned a size the log no
/// longer reaches saw entries that are gone, and a cosigned size with no checkpoint of the
/// log's own is a checkpoint the log no longer admits to.
fn cosigned_sizes(ctx: &mut Context<'_>) {
    let mut found = Vec::new();
    let mut checked = Vec::new();
    for view in std::iter::once(&ctx.coordinator).chain(ctx.nodes.values()) {
        let member = view.member.clone();
        let cosigs = &view.log.cosignatures;
        checked.push((member.clone(), cosigs.len() as u64));
        let size = view.size();
        let beyond: Vec<_> = cosigs.iter().filter(|c| c.size > size).collect();
        if let Some(max) = beyond.iter().map(|c| c.size).max() {
            let witnesses: Vec<String> =
                beyond.iter().map(|c| format!("{} at size {}", c.witness, c.size)).collect();
            found.push((
                FindingKind::DeletedTail,
                member.clone(),
                (size > 0).then(|| EntryRef::new(&member, size - 1)).into_iter().collect(),
                format!(
                    "{member}'s log holds {size} entries, but it keeps cosignatures of sizes up \
                     to {max} ({}): entries {size}..{} are missing",
                    witnesses.join(", "),
                    max - 1
                ),
            ));
        }
        let unsigned: Vec<u64> = cosigs
            .iter()
            .filter(|c| c.size <= size && !view.log.checkpoints.contains_key(&c.size))
            .map(|c| c.size)
            .collect();
        if !unsigned.is_empty() {
            found.push((
                FindingKind::CheckpointConflict,
                member.clone(),
                Vec::new(),
                format!(
                    "{member}'s log keeps cosignatures of sizes {} for which it holds no \
                     checkpoint of its own",
                    list(&unsigned)
                ),
            ));
        }
    }
    for (member, n) in checked {
        ctx.checked(&member, Check::Checkpoints, n);
    }
    for (kind, member, entries, detail) in found {
        ctx.find(kind, &member, entries, detail);
    }
}
