//! The figures of the audit report, aggregated from one log's decoded entries: the queries (a
//! node's requests, or the envelopes a coordinator issued) with their outcome, counted by
//! purpose, requester, kind and lawful basis and over time; refusals and their rules;
//! disclosures by output class, the person-level ones with their case, authoriser and
//! approval; budget charges and balances; per-node figures for a coordinator; system events.
//! Pure: the entries and the verification result in, the figures out.

use std::collections::BTreeMap;

use fedlink_proto::audit::budget::{BudgetKey, charge_of, replay};
use fedlink_proto::pb;

use super::queries::{
    approver_in, asking_member, coordinator_queries, event_name, node_queries, purpose_of,
    query_of, requester_of,
};
use super::read::LogFile;
use super::time::Buckets;

/// Output classes that carry person-level results (a flag or a record per person), which a DPO
/// reviews one by one. `IDENTIFIABLE` is reserved by the protocol for record-level release.
pub const PERSON_LEVEL_CLASSES: &[&str] = &["FLAG_BACK", "IDENTIFIABLE"];

/// The rule under which a node logs a flag-back its operator did not approve.
const FLAG_BACK_RULE: &str = "policy.linkage.flag_back";

/// Purpose and requester of each query a coordinator issued, by query id and node.
type Issued = BTreeMap<(Vec<u8>, String), (String, String)>;

/// Whose log this is, which decides what counts as a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogKind {
    /// A coordinator's log: a query is an envelope it issued to one node.
    Coordinator,
    /// A node's log: a query is a request that reached it.
    Node,
}

/// The part of the log's time the activity figures cover: entries with `since_ms <= time <
/// until_ms`. Integrity and recorded balances always cover the whole file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    /// The first millisecond included.
    pub since_ms: Option<i64>,
    /// The first millisecond excluded.
    pub until_ms: Option<i64>,
}

impl Window {
    fn contains(&self, ms: i64) -> bool {
        self.since_ms.is_none_or(|s| ms >= s) && self.until_ms.is_none_or(|u| ms < u)
    }
}

/// What `verify_log` said about the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Every entry, checkpoint, signature, subtree and balance checked out.
    Verified {
        /// Entries verified.
        size: u64,
        /// Signed checkpoints checked.
        checkpoints: u64,
        /// The key they were checked with, base64.
        key: String,
        /// Whether that key was pinned from the federation file (else the log's own).
        pinned: bool,
        /// The budget ledger's line.
        ledger: String,
    },
    /// Verification failed; the verifier's account, naming the entry or checkpoint.
    Failed {
        /// What failed.
        problem: String,
    },
}

/// How one query ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Something was released (a node's disclosure; a coordinator's verified allowed receipt).
    Answered,
    /// Refused, by the node's rule.
    Refused,
    /// Failed inside the node; nothing released.
    Failed,
    /// No outcome in the log (a coordinator that holds no receipt; a request still running).
    NoOutcome,
}

/// How many queries ended each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Every query.
    pub queries: u64,
    /// Answered.
    pub answered: u64,
    /// Refused.
    pub refused: u64,
    /// Failed.
    pub failed: u64,
    /// Without an outcome.
    pub no_outcome: u64,
}

impl Counts {
    fn add(&mut self, outcome: Outcome) {
        self.queries += 1;
        match outcome {
            Outcome::Answered => self.answered += 1,
            Outcome::Refused => self.refused += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::NoOutcome => self.no_outcome += 1,
        }
    }
}

/// One query and what came of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The entry that logged it.
    pub index: u64,
    /// When.
    pub time_ms: i64,
    /// Purpose code ("(not stated)" for a request refused before its envelope verified).
    pub purpose: String,
    /// "officer@organisation".
    pub requester: String,
    /// The kind of query ("describe", "aggregate", …).
    pub kind: String,
    /// The lawful basis as stated.
    pub lawful_basis: String,
    /// The other party: the node asked (coordinator log) or the asking member (node log).
    pub counterpart: String,
    /// How it ended.
    pub outcome: Outcome,
}

/// One refusal entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The entry.
    pub index: u64,
    /// When.
    pub time_ms: i64,
    /// The rule that refused (a coordinator log records only that the node refused).
    pub rule: String,
    /// The refusal's message.
    pub reason: String,
    /// Who asked.
    pub requester: String,
    /// For what purpose.
    pub purpose: String,
    /// The other party.
    pub counterpart: String,
}

/// One person-level disclosure (a flag-back, say), with what a DPO checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonLevelDisclosure {
    /// The entry.
    pub index: u64,
    /// When.
    pub time_ms: i64,
    /// The output class.
    pub output_class: String,
    /// The case reference the authoriser signed.
    pub case_ref: String,
    /// Purpose code.
    pub purpose: String,
    /// Who asked.
    pub requester: String,
    /// Who authorised it at the requesting organisation.
    pub authoriser: String,
    /// The operator here who approved it, when this node's log records one.
    pub approver: Option<String>,
    /// How many records (rows, flags) it released.
    pub records: u64,
    /// Who received it.
    pub recipients: Vec<String>,
    /// The disclosure rule.
    pub rule: String,
}

/// A flag-back approval decision as the log shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalDecision {
    /// The entry.
    pub index: u64,
    /// When.
    pub time_ms: i64,
    /// The case reference.
    pub case_ref: String,
    /// Who asked.
    pub requester: String,
    /// Approved (by whom), or not (the node's account).
    pub decision: Result<String, String>,
}

/// One budget charge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    /// The entry.
    pub index: u64,
    /// When.
    pub time_ms: i64,
    /// The charge as logged.
    pub charge: pb::BudgetCharge,
}

/// Budget consumption: the charges in the window, and the whole log's balances replayed and
/// recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Budget {
    /// Charges made by allowed disclosures in the window.
    pub charges: Vec<Charge>,
    /// Charges asked for but refused in the window (they spent nothing).
    pub refused: Vec<Charge>,
    /// Millionths of ε spent per (requester, dataset, period) in the window.
    pub by_requester: BTreeMap<(String, String, String), u64>,
    /// Every balance replayed from the whole log's entries.
    pub replayed: BTreeMap<BudgetKey, u64>,
    /// Every balance the store recorded, if it has a balance table.
    pub recorded: Option<BTreeMap<BudgetKey, u64>>,
}

/// A coordinator's queries to one node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeActivity {
    /// Outcomes of the envelopes issued to it.
    pub counts: Counts,
    /// Envelopes issued per time bucket.
    pub per_bucket: Vec<u64>,
}

/// Counts of one dimension (purpose, requester…) overall and per time bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Breakdown {
    /// Outcomes per value, by value.
    pub counts: BTreeMap<String, Counts>,
    /// Queries per value per bucket.
    pub per_bucket: BTreeMap<String, Vec<u64>>,
}

impl Breakdown {
    fn add(&mut self, key: &str, outcome: Outcome, bucket: Option<usize>, buckets: usize) {
        self.counts.entry(key.to_string()).or_default().add(outcome);
        let series = self.per_bucket.entry(key.to_string()).or_insert_with(|| vec![0; buckets]);
        if let Some(slot) = bucket.and_then(|b| series.get_mut(b)) {
            *slot += 1;
        }
    }
}

/// Everything the report shows about one log.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditSummary {
    /// Whose log.
    pub kind: LogKind,
    /// The log's origin.
    pub origin: String,
    /// The window the activity figures cover.
    pub window: Window,
    /// Entries in the file (readable or not).
    pub stored_entries: u64,
    /// Entries in the window.
    pub entries_in_window: u64,
    /// The first and last entry times in the window.
    pub span: Option<(i64, i64)>,
    /// The time buckets of the charts (over the span).
    pub buckets: Option<Buckets>,
    /// Every query in the window, in log order.
    pub queries: Vec<Query>,
    /// Outcomes per bucket: answered, refused, failed, no outcome.
    pub outcomes_per_bucket: Vec<[u64; 4]>,
    /// By purpose.
    pub by_purpose: Breakdown,
    /// By requester.
    pub by_requester: Breakdown,
    /// By kind of query.
    pub by_kind: Breakdown,
    /// By lawful basis.
    pub by_lawful_basis: Breakdown,
    /// Every refusal in the window.
    pub refusals: Vec<Refusal>,
    /// Refusals per rule.
    pub refusals_by_rule: BTreeMap<String, u64>,
    /// Disclosure entries and records released per output class.
    pub disclosures_by_class: BTreeMap<String, (u64, u64)>,
    /// Person-level disclosures.
    pub person_level: Vec<PersonLevelDisclosure>,
    /// Flag-back approval decisions.
    pub approvals: Vec<ApprovalDecision>,
    /// Budget consumption.
    pub budget: Budget,
    /// A coordinator's queries per node.
    pub per_node: BTreeMap<String, NodeActivity>,
    /// Entries per event type ("consultation", "log export", …).
    pub events: BTreeMap<String, u64>,
    /// Reads and exports of this log: time and detail.
    pub log_reads: Vec<(i64, String)>,
    /// What verification said.
    pub verification: Verification,
    /// The key the file records, base64.
    pub recorded_key: Option<String>,
    /// Stored checkpoints: size and time.
    pub checkpoints: Vec<(u64, i64)>,
    /// Witness cosignatures stored.
    pub cosignatures: u64,
    /// Entries that do not decode: index and problem.
    pub unreadable: Vec<(u64, String)>,
}

impl AuditSummary {
    /// Aggregates `log` over `window`, with the verifier's result.
    pub fn build(log: &LogFile, verification: Verification, window: Window) -> Self {
        let entries: Vec<&pb::AuditEntry> =
            log.entries.iter().filter(|e| window.contains(e.time_ms)).collect();
        let kind = if log.entries.iter().any(|e| {
            e.event_type == pb::EventType::QueryIssued as i32
                || e.event_type == pb::EventType::ResultReceived as i32
        }) {
            LogKind::Coordinator
        } else {
            LogKind::Node
        };
        let span = entries.iter().map(|e| e.time_ms).fold(None, |acc: Option<(i64, i64)>, t| {
            Some(acc.map_or((t, t), |(lo, hi)| (lo.min(t), hi.max(t))))
        });
        let buckets = span.map(|(lo, hi)| Buckets::covering(lo, hi));
        let bucket_count = buckets.as_ref().map_or(0, Buckets::len);
        let bucket_of = |ms: i64| buckets.as_ref().and_then(|b| b.index_of(ms));

        let queries = match kind {
            LogKind::Node => node_queries(&entries),
            LogKind::Coordinator => coordinator_queries(&entries),
        };
        let mut summary = Self {
            kind,
            origin: log.origin.clone(),
            window,
            stored_entries: (log.entries.len() + log.unreadable.len()) as u64,
            entries_in_window: entries.len() as u64,
            span,
            buckets: buckets.clone(),
            queries: Vec::new(),
            outcomes_per_bucket: vec![[0; 4]; bucket_count],
            by_purpose: Breakdown::default(),
            by_requester: Breakdown::default(),
            by_kind: Breakdown::default(),
            by_lawful_basis: Breakdown::default(),
            refusals: Vec::new(),
            refusals_by_rule: BTreeMap::new(),
            disclosures_by_class: BTreeMap::new(),
            person_level: Vec::new(),
            approvals: Vec::new(),
            budget: Budget {
                replayed: replay(&log.entries),
                recorded: log.balances.clone(),
                ..Budget::default()
            },
            per_node: BTreeMap::new(),
            events: BTreeMap::new(),
            log_reads: Vec::new(),
            verification,
            recorded_key: log.public_key.clone(),
            checkpoints: log.checkpoints.clone(),
            cosignatures: log.cosignatures,
            unreadable: log.unreadable.clone(),
        };
        for q in &queries {
            let bucket = bucket_of(q.time_ms);
            if let Some(slot) = bucket.and_then(|b| summary.outcomes_per_bucket.get_mut(b)) {
                slot[q.outcome as usize] += 1;
            }
            summary.by_purpose.add(&q.purpose, q.outcome, bucket, bucket_count);
            summary.by_requester.add(&q.requester, q.outcome, bucket, bucket_count);
            summary.by_kind.add(&q.kind, q.outcome, bucket, bucket_count);
            summary.by_lawful_basis.add(&q.lawful_basis, q.outcome, bucket, bucket_count);
            if kind == LogKind::Coordinator {
                let node = summary.per_node.entry(q.counterpart.clone()).or_insert_with(|| {
                    NodeActivity { per_bucket: vec![0; bucket_count], ..NodeActivity::default() }
                });
                node.counts.add(q.outcome);
                if let Some(slot) = bucket.and_then(|b| node.per_bucket.get_mut(b)) {
                    *slot += 1;
                }
            }
        }
        summary.queries = queries;
        // A coordinator's receipt entries name only the query and node: who asked and why is
        // in the entry that issued the query.
        let issued: Issued = log
            .entries
            .iter()
            .filter(|e| e.event_type == pb::EventType::QueryIssued as i32)
            .map(|e| {
                let query = query_of(e);
                (
                    (query.query_id.clone(), query.audience.clone()),
                    (purpose_of(query), requester_of(e)),
                )
            })
            .collect();
        for entry in &entries {
            summary.add_entry(entry, &issued);
        }
        summary
    }

    /// Folds one entry into the refusal, disclosure, approval, budget and event figures.
    fn add_entry(&mut self, entry: &pb::AuditEntry, issued: &Issued) {
        let event = event_name(entry.event_type);
        *self.events.entry(event).or_default() += 1;
        if entry.event_type == pb::EventType::LogExport as i32 {
            self.log_reads.push((entry.time_ms, entry.detail.clone()));
        }
        let denied = entry.decision == pb::Decision::Denied as i32;
        if denied && self.is_refusal(entry) {
            let refusal = self.refusal(entry, issued);
            *self.refusals_by_rule.entry(refusal.rule.clone()).or_default() += 1;
            self.refusals.push(refusal);
            if entry.rule == FLAG_BACK_RULE {
                self.approvals.push(ApprovalDecision {
                    index: entry.index,
                    time_ms: entry.time_ms,
                    case_ref: query_of(entry).case_ref.clone(),
                    requester: requester_of(entry),
                    decision: Err(entry.reason.clone()),
                });
            }
        }
        if let Some(charge) = &entry.budget {
            let logged =
                Charge { index: entry.index, time_ms: entry.time_ms, charge: charge.clone() };
            if charge_of(entry).is_some() {
                let key = (charge.requester.clone(), charge.dataset.clone(), charge.period.clone());
                *self.budget.by_requester.entry(key).or_default() += charge.epsilon_micro;
                self.budget.charges.push(logged);
            } else {
                self.budget.refused.push(logged);
            }
        }
        let disclosed = entry.event_type == pb::EventType::Disclosure as i32
            && entry.decision == pb::Decision::Allowed as i32;
        let Some(output) = entry.output.as_ref().filter(|_| disclosed) else {
            return;
        };
        let tally = self.disclosures_by_class.entry(output.output_class.clone()).or_default();
        tally.0 += 1;
        tally.1 += output.records_released;
        if !PERSON_LEVEL_CLASSES.contains(&output.output_class.as_str()) {
            return;
        }
        let query = query_of(entry);
        let approver = approver_in(&entry.detail);
        if let Some(approver) = &approver {
            self.approvals.push(ApprovalDecision {
                index: entry.index,
                time_ms: entry.time_ms,
                case_ref: query.case_ref.clone(),
                requester: requester_of(entry),
                decision: Ok(approver.clone()),
            });
        }
        self.person_level.push(PersonLevelDisclosure {
            index: entry.index,
            time_ms: entry.time_ms,
            output_class: output.output_class.clone(),
            case_ref: query.case_ref.clone(),
            purpose: query.purpose.clone(),
            requester: requester_of(entry),
            authoriser: query.authoriser_id.clone(),
            approver,
            records: output.records_released,
            recipients: entry.recipients.clone(),
            rule: output.disclosure_rule.clone(),
        });
    }

    /// A node's refusal is a denied consultation; a coordinator's, a denied receipt.
    fn is_refusal(&self, entry: &pb::AuditEntry) -> bool {
        let expected = match self.kind {
            LogKind::Node => pb::EventType::Consultation,
            LogKind::Coordinator => pb::EventType::ResultReceived,
        };
        entry.event_type == expected as i32
    }

    fn refusal(&self, entry: &pb::AuditEntry, issued: &Issued) -> Refusal {
        let query = query_of(entry);
        let (mut purpose, mut requester) = (purpose_of(query), requester_of(entry));
        let (rule, reason, counterpart) = match self.kind {
            LogKind::Node => (entry.rule.clone(), entry.reason.clone(), asking_member(entry)),
            LogKind::Coordinator => {
                let node = query.audience.clone();
                if let Some((p, r)) = issued.get(&(query.query_id.clone(), node.clone())) {
                    (purpose, requester) = (p.clone(), r.clone());
                }
                (
                    format!("refused by {node}"),
                    format!("{}; the rule is named in {node}'s log", entry.reason),
                    node,
                )
            }
        };
        Refusal {
            index: entry.index,
            time_ms: entry.time_ms,
            rule,
            reason,
            requester,
            purpose,
            counterpart,
        }
    }
}
