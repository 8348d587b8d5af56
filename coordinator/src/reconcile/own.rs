//! Each log verifies on its own (`fedlink_proto::audit::verify`): entries, tree, signed
//! checkpoints. A failure is a finding naming the entry or checkpoint the verifier pinned it
//! to; a budget ledger that does not replay is reported by [`super::budget`].

use super::log::SelfCheck;
use super::{Check, Context, EntryRef, FindingKind};

/// Runs the check over every log.
pub fn check(ctx: &mut Context<'_>) {
    let views: Vec<(String, &SelfCheck, String)> = std::iter::once(&ctx.coordinator)
        .chain(ctx.nodes.values())
        .map(|v| (v.member.clone(), &v.log.self_check, v.log.source.clone()))
        .collect();
    for (member, self_check, source) in views {
        ctx.checked(&member, Check::Verifies, 1);
        match self_check {
            SelfCheck::Verified(_) => {}
            SelfCheck::NotRun => ctx.note(format!("{member}'s log ({source}) was not verified")),
            SelfCheck::Failed(failure) if failure.ledger => {}
            SelfCheck::Failed(failure) => {
                let entries =
                    failure.entry.map(|i| EntryRef::new(&member, i)).into_iter().collect();
                let at = failure
                    .checkpoint
                    .map_or_else(String::new, |size| format!(" (checkpoint at size {size})"));
                ctx.find(
                    FindingKind::LogDoesNotVerify,
                    &member,
                    entries,
                    format!("{member}'s log {source} does not verify{at}: {}", failure.problem),
                );
            }
        }
    }
}
