//! The differential-privacy budget: each log's recorded balances replay from its entries (the
//! verifier's ledger check, surfaced here as a finding), and for every receipt the coordinator
//! holds, the charge the node's log records at that entry is the charge the receipt shows.

use fedlink_proto::audit::entry::decode_entry;

use super::log::SelfCheck;
use super::{Check, Context, EntryRef, FindingKind, query_label};

/// Runs the check.
pub fn check(ctx: &mut Context<'_>) {
    let coordinator = ctx.coordinator_name().to_string();
    let mut found = Vec::new();
    let mut checked = Vec::new();
    for view in std::iter::once(&ctx.coordinator).chain(ctx.nodes.values()) {
        // One ledger replay per log.
        checked.push((view.member.clone(), 1));
        if let SelfCheck::Failed(failure) = &view.log.self_check
            && failure.ledger
        {
            found.push((
                FindingKind::BudgetLedgerMismatch,
                view.member.clone(),
                Vec::new(),
                format!(
                    "{}'s recorded budget balances do not replay from its entries: {}",
                    view.member, failure.problem
                ),
            ));
        }
    }
    for pair in &ctx.results {
        let Some(receipt) = pair.receipt else { continue };
        let Some(view) = ctx.nodes.get(&receipt.node) else { continue };
        let Some(at_node) = view.decoded(receipt.leaf_index) else { continue };
        if !super::queries::answers(at_node, &receipt.query_id) {
            continue; // Another query's entry: reported by `queries`.
        }
        let Ok(in_receipt) = decode_entry(&receipt.receipt.entry) else { continue };
        checked.push((receipt.node.clone(), 1));
        if in_receipt.budget == at_node.budget {
            continue;
        }
        let node = receipt.node.as_str();
        let show = |c: &Option<fedlink_proto::pb::BudgetCharge>| match c {
            Some(c) => format!(
                "{} epsilon on {}/{} for {}",
                fedlink_proto::audit::budget::micro_to_string(c.epsilon_micro),
                c.dataset,
                c.period,
                c.requester
            ),
            None => "no charge".into(),
        };
        let mut entries: Vec<EntryRef> = pair.result_ref(&coordinator).into_iter().collect();
        entries.push(EntryRef::new(node, receipt.leaf_index));
        found.push((
            FindingKind::BudgetChargeDiffers,
            node.to_string(),
            entries,
            format!(
                "query {}: the receipt {node} gave shows {} at its entry {}, but its log records \
                 {}",
                query_label(&receipt.query_id),
                show(&in_receipt.budget),
                receipt.leaf_index,
                show(&at_node.budget)
            ),
        ));
    }
    for (member, n) in checked {
        ctx.checked(&member, Check::Budget, n);
    }
    for (kind, member, entries, detail) in found {
        ctx.find(kind, &member, entries, detail);
    }
}
