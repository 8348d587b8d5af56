//! Audit reconciliation (`fedlink audit reconcile`; issue 7 item 2, audit-privacy-legal.md
//! §1.4–§1.5, design-review.md F14): the coordinator's log, its receipt store and one log per
//! node, checked against each other query by query, so that no party can rewrite, shorten,
//! fork or pad its own log without the others' records showing it.
//!
//! # Layout
//!
//! - [`log`]: the loaded-log type every check reads (independent of where it came from).
//! - [`load`]: loading a SQLite log file read-only, then verifying it on its own.
//! - [`view`]: one log indexed for the checks: its member, tree, and entries by query.
//! - [`own`]: each log verifies on its own.
//! - [`queries`]: two-sided by query id: issued at the coordinator ⇔ logged at the node, and
//!   every result the coordinator received ⇔ the node entry its receipt proves.
//! - [`checkpoints`]: split view: every checkpoint the coordinator (or a witness) holds of a
//!   node's log is that log's own root at that size; a shorter log is a deleted tail.
//! - [`results`]: the result hash the coordinator logged is the one the node logged.
//! - [`relay`]: every node-to-node message the sender logged is the one the receiver logged.
//! - [`budget`]: budget balances replay, and a node's charge is the one its receipt shows.
//! - [`report`]: the readable report grouped by member, and JSON lines.
//!
//! Every check adds [`Finding`]s naming the entries concerned, and counts what it checked, so
//! the report can say "ok" with a number rather than nothing.

pub mod budget;
pub mod checkpoints;
pub mod load;
pub mod log;
pub mod own;
pub mod queries;
pub mod relay;
pub mod report;
pub mod results;
pub mod view;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;

use fedlink_proto::federation::Federation;
use fedlink_proto::identity::PublicKey;
use serde::Serialize;

use crate::receipts::{ReceiptSnapshot, StoredReceipt};
use log::LoadedLog;
use view::LogView;

pub use load::{LoadError, load_log};
pub use report::{render_jsonl, render_text};

/// The check families, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// Each log verifies on its own.
    Verifies,
    /// Queries and results are logged on both sides.
    Queries,
    /// Checkpoints others hold are the log's own (no split view, no deleted tail).
    Checkpoints,
    /// Result hashes agree.
    ResultHashes,
    /// Relay message digests agree between sender and receiver.
    RelayDigests,
    /// Budget balances replay; charges agree with receipts.
    Budget,
}

impl Check {
    /// Every check, in report order.
    pub const ALL: [Check; 6] = [
        Check::Verifies,
        Check::Queries,
        Check::Checkpoints,
        Check::ResultHashes,
        Check::RelayDigests,
        Check::Budget,
    ];

    /// Its name in the report.
    pub fn name(self) -> &'static str {
        match self {
            Check::Verifies => "verifies",
            Check::Queries => "queries",
            Check::Checkpoints => "checkpoints",
            Check::ResultHashes => "result hashes",
            Check::RelayDigests => "relay digests",
            Check::Budget => "budget",
        }
    }
}

/// What a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A log does not verify on its own.
    LogDoesNotVerify,
    /// The coordinator issued a query to a node whose log has no entry for it.
    QueryOnlyAtCoordinator,
    /// A node logged a query from this coordinator that the coordinator never logged issuing.
    QueryOnlyAtNode,
    /// The node logged another envelope under the query id than the coordinator issued.
    EnvelopeDiffers,
    /// The coordinator logged a result whose node entry is not in the node's log.
    ResultWithoutNodeEntry,
    /// The coordinator logged a result for which its store holds no receipt.
    ResultWithoutReceipt,
    /// The store holds a receipt the coordinator's log never recorded receiving.
    ReceiptNotLogged,
    /// A receipt in the store does not prove its entry in its checkpoint.
    ReceiptInvalid,
    /// A node's log is shorter than a size someone saw: its tail was deleted.
    DeletedTail,
    /// A checkpoint someone holds of a node's log is not the log's root at that size.
    SplitView,
    /// A receipt's entry bytes are not the node log's entry at that index.
    ReceiptEntryDiffers,
    /// Two checkpoints held of one log disagree, or one does not open with the log's key.
    CheckpointConflict,
    /// The coordinator's result hash is not the one the node logged.
    ResultHashMismatch,
    /// Sender and receiver logged different digests for one relay message.
    RelayDigestMismatch,
    /// The sender logged a relay message the receiver never logged receiving.
    RelayMessageNotReceived,
    /// The receiver logged a relay message the sender never logged sending.
    RelayMessageNotSent,
    /// A relay digest line is not `sender>receiver#step:hex`.
    RelayDigestMalformed,
    /// A log's budget balances do not replay from its entries.
    BudgetLedgerMismatch,
    /// A node's logged charge is not the one its receipt shows.
    BudgetChargeDiffers,
}

impl FindingKind {
    /// The check this kind of finding belongs to.
    pub fn check(self) -> Check {
        use FindingKind::*;
        match self {
            LogDoesNotVerify => Check::Verifies,
            QueryOnlyAtCoordinator
            | QueryOnlyAtNode
            | EnvelopeDiffers
            | ResultWithoutNodeEntry
            | ResultWithoutReceipt
            | ReceiptNotLogged => Check::Queries,
            ReceiptInvalid | DeletedTail | SplitView | ReceiptEntryDiffers | CheckpointConflict => {
                Check::Checkpoints
            }
            ResultHashMismatch => Check::ResultHashes,
            RelayDigestMismatch
            | RelayMessageNotReceived
            | RelayMessageNotSent
            | RelayDigestMalformed => Check::RelayDigests,
            BudgetLedgerMismatch | BudgetChargeDiffers => Check::Budget,
        }
    }

    /// Its snake_case name, as in the JSON lines.
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| format!("{self:?}"))
    }
}

/// One entry of one log, named by the log's member.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct EntryRef {
    /// The member whose log it is.
    pub log: String,
    /// The entry's index.
    pub index: u64,
}

impl EntryRef {
    /// Entry `index` of `log`'s log.
    pub fn new(log: &str, index: u64) -> Self {
        Self { log: log.to_string(), index }
    }
}

impl fmt::Display for EntryRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.log, self.index)
    }
}

/// Something the logs disagree on, or a log that does not hold on its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What it is.
    pub kind: FindingKind,
    /// The member it is reported under (the node whose log or messages are concerned, or
    /// the coordinator).
    pub member: String,
    /// Every log concerned, by member.
    pub logs: Vec<String>,
    /// The entries concerned (empty when the fault is that an entry is missing and nothing
    /// else can be named).
    pub entries: Vec<EntryRef>,
    /// What was found, readably.
    pub detail: String,
}

/// Why reconciliation could not start.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// A log's origin is not `fedlink.audit/<federation>/<member>`.
    #[error("{location}: the log's origin {origin:?} is not a fedlink member's log")]
    NotAMemberLog {
        /// Where the log came from.
        location: String,
        /// Its origin.
        origin: String,
    },
    /// Two logs are of the same member.
    #[error("two logs are {member}'s: {first} and {second}")]
    SameMember {
        /// The member.
        member: String,
        /// One log.
        first: String,
        /// The other.
        second: String,
    },
    /// A node's log is of another federation than the coordinator's.
    #[error(
        "{location} is a log of federation {found:?}, but the coordinator's is of {expected:?}"
    )]
    OtherFederation {
        /// Where the log came from.
        location: String,
        /// Its federation.
        found: String,
        /// The coordinator's.
        expected: String,
    },
}

/// What reconcile reads.
#[derive(Debug)]
pub struct Inputs {
    /// The coordinator's log.
    pub coordinator: LoadedLog,
    /// The coordinator's receipt store, if the auditor has it.
    pub receipts: Option<ReceiptSnapshot>,
    /// One log per node (any subset of the federation's nodes).
    pub nodes: Vec<LoadedLog>,
    /// The federation file, when the auditor pins keys to it: checkpoints of nodes whose log
    /// is not given are then still checked against their listed key.
    pub federation: Option<Federation>,
}

/// What reconcile found.
#[derive(Debug, Clone)]
pub struct Report {
    /// The coordinator's member name.
    pub coordinator: String,
    /// Every member whose log was given, the coordinator first, with its log's size and
    /// source.
    pub logs: Vec<(String, u64, String)>,
    /// Receipts and node checkpoints in the store, if it was given.
    pub store: Option<(usize, usize)>,
    /// How many things each check looked at, per member.
    pub checked: BTreeMap<(String, Check), u64>,
    /// What could not be checked, and why (a node's log not given, say).
    pub notes: Vec<String>,
    /// Every finding, in the order found.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Whether nothing was found.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// The findings of one check for one member.
    pub fn findings_of(&self, member: &str, check: Check) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.member == member && f.kind.check() == check)
    }
}

/// What every check reads, and where it writes.
pub struct Context<'a> {
    /// The coordinator's log.
    pub coordinator: LogView<'a>,
    /// The nodes' logs, by member.
    pub nodes: BTreeMap<String, LogView<'a>>,
    /// The receipt store, if given.
    pub receipts: Option<&'a ReceiptSnapshot>,
    /// The federation's name (from the coordinator's origin).
    pub federation_name: String,
    /// Keys of members pinned by a federation file.
    pub federation: Option<&'a Federation>,
    /// The coordinator's RESULT_RECEIVED entries paired with the store's receipts.
    pub results: Vec<queries::ResultPair<'a>>,
    report: Report,
}

impl<'a> Context<'a> {
    /// Counts `n` things a check looked at for `member`.
    pub fn checked(&mut self, member: &str, check: Check, n: u64) {
        *self.report.checked.entry((member.to_string(), check)).or_default() += n;
    }

    /// Records a finding.
    pub fn find(
        &mut self,
        kind: FindingKind,
        member: &str,
        entries: Vec<EntryRef>,
        detail: String,
    ) {
        let mut entries = entries;
        let mut seen = std::collections::BTreeSet::new();
        entries.retain(|e| seen.insert(e.clone()));
        let mut logs: Vec<String> = vec![member.to_string()];
        for e in &entries {
            if !logs.contains(&e.log) {
                logs.push(e.log.clone());
            }
        }
        self.report.findings.push(Finding {
            kind,
            member: member.to_string(),
            logs,
            entries,
            detail,
        });
    }

    /// Notes something that could not be checked, once.
    pub fn note(&mut self, note: String) {
        if !self.report.notes.contains(&note) {
            self.report.notes.push(note);
        }
    }

    /// The key a member's checkpoints must be signed with: its log's trusted key, else the
    /// federation file's.
    pub fn key_of(&self, member: &str) -> Option<PublicKey> {
        self.nodes
            .get(member)
            .map(|v| v.log.trusted_key())
            .or_else(|| self.federation.and_then(|f| f.member(member)).map(|m| m.public_key))
    }

    /// The origin of a member's log.
    pub fn origin_of(&self, member: &str) -> String {
        fedlink_proto::federation::log_origin(&self.federation_name, member)
    }

    /// The coordinator's member name.
    pub fn coordinator_name(&self) -> &str {
        &self.coordinator.member
    }
}

/// Runs every check over `inputs`.
pub fn reconcile(inputs: &Inputs) -> Result<Report, ReconcileError> {
    let coordinator = LogView::new(&inputs.coordinator)?;
    let federation_name = coordinator.federation.clone();
    let mut nodes: BTreeMap<String, LogView<'_>> = BTreeMap::new();
    for log in &inputs.nodes {
        let view = LogView::new(log)?;
        if view.federation != federation_name {
            return Err(ReconcileError::OtherFederation {
                location: log.source.clone(),
                found: view.federation.clone(),
                expected: federation_name,
            });
        }
        let clash = if view.member == coordinator.member {
            Some(&inputs.coordinator.source)
        } else {
            nodes.get(&view.member).map(|v| &v.log.source)
        };
        if let Some(first) = clash {
            return Err(ReconcileError::SameMember {
                member: view.member.clone(),
                first: first.clone(),
                second: log.source.clone(),
            });
        }
        nodes.insert(view.member.clone(), view);
    }
    let logs = std::iter::once(&coordinator)
        .chain(nodes.values())
        .map(|v| (v.member.clone(), v.log.size(), v.log.source.clone()))
        .collect();
    let report = Report {
        coordinator: coordinator.member.clone(),
        logs,
        store: inputs.receipts.as_ref().map(|r| (r.receipts.len(), r.checkpoints.len())),
        checked: BTreeMap::new(),
        notes: Vec::new(),
        findings: Vec::new(),
    };
    let results = queries::pair_results(&coordinator, inputs.receipts.as_ref());
    let mut ctx = Context {
        coordinator,
        nodes,
        receipts: inputs.receipts.as_ref(),
        federation_name,
        federation: inputs.federation.as_ref(),
        results,
        report,
    };
    if inputs.receipts.is_none() {
        ctx.note(
            "no receipt store was given: receipts and the coordinator's last known node \
             checkpoints were not checked; results are matched by query id and log size"
                .into(),
        );
    }
    own::check(&mut ctx);
    queries::check(&mut ctx);
    checkpoints::check(&mut ctx);
    results::check(&mut ctx);
    relay::check(&mut ctx);
    budget::check(&mut ctx);
    Ok(ctx.report)
}

/// A query id as a UUID (8-4-4-4-12 hex), or its hex when it is not 16 bytes.
pub fn query_label(id: &[u8]) -> String {
    let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
    if id.len() != 16 {
        return if hex.is_empty() { "(none)".into() } else { hex };
    }
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// `1 entry`, `2 entries`: a count with the word in its number.
pub fn count(n: u64, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

/// The receipts of a member, in the order stored.
pub fn receipts_of<'a>(
    snapshot: Option<&'a ReceiptSnapshot>,
    member: &'a str,
) -> impl Iterator<Item = &'a StoredReceipt> + 'a {
    snapshot.into_iter().flat_map(|s| s.receipts.iter()).filter(move |r| r.node == member)
}
