//! `fedlink node approvals …`: the operator's side of flag-back approval (design-review F12).
//! `list` shows the requests waiting, `show` shows one with everything an approver must see
//! before deciding (the attested count, purpose, lawful basis, who asks and who authorised,
//! the case reference's earlier requests and the caps left), and `approve` and `deny` decide.
//! The node process waits on the same `approvals.db` for the decision.
//!
//! A refusal (an unknown, expired or already decided request, a cap, a policy without
//! flag-back) is printed on stderr and exits 1. A broken config or database is an error (2).

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use fedlink_node::approvals::{
    self, ApprovalError, ApprovalRecord, ApprovalState, ApprovalStore, CaseCaps, CaseHistory,
};
use fedlink_node::config::NodeSettings;
use fedlink_proto::clock::{Clock as _, SystemClock};

use crate::cli::Outcome;

/// `fedlink node approvals …`
#[derive(Debug, clap::Subcommand)]
pub enum ApprovalsCommand {
    /// List the flag-back requests waiting for a decision (every request with --all)
    List(ListArgs),
    /// Show one request with everything to check before deciding: the attested row count,
    /// purpose, lawful basis, requester, authoriser, dataset, the case reference's earlier
    /// requests with their decisions and counts, and the flag-back caps left
    Show(ShowArgs),
    /// Approve one pending request, if it keeps its case reference and this node within the
    /// policy's flag-back caps
    ///
    /// Exit 0 when approved; 1 when refused (unknown id, expired, already decided, a cap would
    /// be exceeded, or the policy does not allow flag-back for the request's dataset and
    /// purpose), with the reason on stderr.
    Approve(ApproveArgs),
    /// Deny one pending request, recording why
    ///
    /// Exit 0 when denied; 1 when refused (unknown id, expired or already decided), with the
    /// reason on stderr.
    Deny(DenyArgs),
}

/// How `list` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    /// Aligned text, one request per line
    Table,
    /// A JSON array, one object per request
    Json,
}

/// List flag-back requests
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Example:
  fedlink node approvals list --config fed/icb/node.toml --all --format json")]
pub struct ListArgs {
    /// The node's config file
    #[arg(long)]
    pub config: PathBuf,
    /// List every request, decided and expired ones too, not only those waiting
    #[arg(long)]
    pub all: bool,
    /// Output format
    #[arg(long, value_enum, default_value = "table")]
    pub format: ListFormat,
}

/// Show one flag-back request
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The node's config file
    #[arg(long)]
    pub config: PathBuf,
    /// The request's id, as `list` shows it
    #[arg(value_name = "ID")]
    pub id: i64,
}

/// Approve one flag-back request
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Example:
  fedlink node approvals approve --config fed/icb/node.toml 12 --approver \"Insp A. Patel\"")]
pub struct ApproveArgs {
    /// The node's config file
    #[arg(long)]
    pub config: PathBuf,
    /// The request's id, as `list` shows it
    #[arg(value_name = "ID")]
    pub id: i64,
    /// Your name or officer id, recorded with the decision
    #[arg(long, value_name = "NAME")]
    pub approver: String,
}

/// Deny one flag-back request
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Example:
  fedlink node approvals deny --config fed/icb/node.toml 12 --approver \"Insp A. Patel\" \\
      --reason \"cohort size not justified by the case\"")]
pub struct DenyArgs {
    /// The node's config file
    #[arg(long)]
    pub config: PathBuf,
    /// The request's id, as `list` shows it
    #[arg(value_name = "ID")]
    pub id: i64,
    /// Your name or officer id, recorded with the decision
    #[arg(long, value_name = "NAME")]
    pub approver: String,
    /// Why, in a sentence; the requester is told the request was denied
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
}

/// Runs an `approvals` subcommand.
pub fn run(command: &ApprovalsCommand) -> Result<Outcome> {
    match command {
        ApprovalsCommand::List(args) => list(args),
        ApprovalsCommand::Show(args) => show(args),
        ApprovalsCommand::Approve(args) => approve(args),
        ApprovalsCommand::Deny(args) => deny(args),
    }
}

/// The node's settings, its approvals store and its clock (with the same offset the node
/// uses, so that "expired" means the same thing to the operator as to the node).
struct Node {
    settings: NodeSettings,
    store: ApprovalStore,
    clock: SystemClock,
}

impl Node {
    fn open(config: &std::path::Path) -> Result<Self> {
        let settings = NodeSettings::load(config)?;
        let dir = &settings.data_dir;
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = approvals::path_in(dir);
        let store =
            ApprovalStore::open(&path).with_context(|| format!("opening {}", path.display()))?;
        let clock = if settings.danger_clock_offset_s == 0 {
            SystemClock::new()
        } else {
            SystemClock::danger_with_offset_s(settings.danger_clock_offset_s)
        };
        Ok(Self { settings, store, clock })
    }

    fn now(&self) -> i64 {
        self.clock.now().0
    }

    /// The caps for a request, or why it cannot be approved at all.
    fn caps(&self, record: &ApprovalRecord) -> Result<CaseCaps, ApprovalError> {
        let r = &record.request;
        approvals::caps_for(&self.settings.policy, &r.dataset, &r.purpose)
    }
}

/// A refusal becomes exit 1 with its message on stderr, after `what` (e.g. "not approved");
/// a store failure stays an error.
fn refused(what: &str, err: ApprovalError) -> Result<Outcome> {
    if err.is_refusal() {
        eprintln!("{what}: {err}");
        Ok(Outcome::CheckFailed)
    } else {
        Err(err.into())
    }
}

/// Runs `list`.
pub fn list(args: &ListArgs) -> Result<Outcome> {
    let node = Node::open(&args.config)?;
    let now = node.now();
    let records = node.store.list(!args.all, now)?;
    match args.format {
        ListFormat::Json => println!("{}", json_list(&records, now)),
        ListFormat::Table if records.is_empty() => {
            println!(
                "{}",
                if args.all {
                    "no flag-back requests"
                } else {
                    "no flag-back requests are waiting for a decision"
                }
            );
        }
        ListFormat::Table => print!("{}", list_table(&records, now, args.all)),
    }
    Ok(Outcome::Success)
}

fn list_table(records: &[ApprovalRecord], now: i64, all: bool) -> String {
    let mut lines = vec![
        ["ID", "CASE REF", "ROWS", "PURPOSE", "REQUESTER", "REQUESTED (UTC)", "EXPIRES IN"]
            .map(String::from)
            .to_vec(),
    ];
    if all {
        lines[0].push("STATE".into());
    }
    for r in records {
        let q = &r.request;
        let mut line = vec![
            r.id.to_string(),
            q.case_ref.clone(),
            q.attested_rows.to_string(),
            q.purpose.clone(),
            q.requester.clone(),
            utc(q.requested_at_ms),
            match r.state {
                ApprovalState::Pending => duration(q.expires_at_ms - now),
                _ => "-".into(),
            },
        ];
        if all {
            line.push(r.state.describe());
        }
        lines.push(line);
    }
    let widths: Vec<usize> = (0..lines[0].len())
        .map(|c| lines.iter().map(|l| l[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for line in &lines {
        let cells: Vec<String> =
            line.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// Runs `show`.
pub fn show(args: &ShowArgs) -> Result<Outcome> {
    let node = Node::open(&args.config)?;
    let now = node.now();
    let record = match node.store.get(args.id, now) {
        Ok(record) => record,
        Err(e) => return refused("cannot show", e),
    };
    let caps = node.caps(&record);
    // Without flag-back caps the history is still worth seeing; count it over the default
    // period, with nothing left to approve.
    let counting = caps.as_ref().copied().unwrap_or(CaseCaps {
        max_rows_per_case: 0,
        case_period_days: 90,
        max_rows_per_day: 0,
    });
    let history = node.store.history(&record.request.case_ref, &counting, now)?;
    print!("{}", render_show(&record, &history, caps.as_ref().map_err(ToString::to_string), now));
    if record.state.is_pending() {
        let config = args.config.display();
        println!("\nTo decide:");
        // Suggest only what can succeed: approval needs caps, and room under them.
        if caps.is_ok() && caps_exceeded(&record, &history).is_empty() {
            println!(
                "  fedlink node approvals approve --config {config} {} --approver NAME",
                record.id
            );
        }
        println!(
            "  fedlink node approvals deny --config {config} {} --approver NAME --reason TEXT",
            record.id
        );
    }
    Ok(Outcome::Success)
}

fn render_show(
    record: &ApprovalRecord,
    history: &CaseHistory,
    caps: Result<&CaseCaps, String>,
    now: i64,
) -> String {
    let q = &record.request;
    let mut out = String::new();
    let status = match &record.state {
        ApprovalState::Pending => format!(
            "PENDING, expires in {} ({})",
            duration(q.expires_at_ms - now),
            utc(q.expires_at_ms)
        ),
        ApprovalState::Approved { approver, at_ms } => {
            format!("APPROVED by {approver} at {}", utc(*at_ms))
        }
        ApprovalState::Denied { approver, reason, at_ms } => {
            format!("DENIED by {approver} at {}: {reason}", utc(*at_ms))
        }
        ApprovalState::Expired => format!("EXPIRED undecided at {}", utc(q.expires_at_ms)),
    };
    let _ = writeln!(out, "Flag-back request {}: {status}\n", record.id);
    for (label, value) in [
        (
            "cohort rows",
            format!("{} (rows the cohort node sent, under its signed descriptor)", q.attested_rows),
        ),
        ("case reference", q.case_ref.clone()),
        ("purpose", q.purpose.clone()),
        ("lawful basis", q.lawful_basis.clone()),
        ("requester", q.requester.clone()),
        ("authoriser", q.authoriser.clone()),
        ("dataset", q.dataset.clone()),
        ("query id", q.query_id.clone()),
        ("query hash", hex(&q.query_hash)),
        ("requested at", utc(q.requested_at_ms)),
    ] {
        let _ = writeln!(out, "  {label:<15} {value}");
    }

    let earlier: Vec<&ApprovalRecord> =
        history.previous.iter().filter(|r| r.id != record.id).collect();
    let _ = writeln!(out, "\nOther requests for case reference {} (newest first):", q.case_ref);
    if earlier.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for r in earlier {
        let decided = match &r.state {
            ApprovalState::Approved { at_ms, .. } | ApprovalState::Denied { at_ms, .. } => {
                format!(" at {}", utc(*at_ms))
            }
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "  #{:<5} {:>6} rows  {}  {}{decided}  [{}, {}]",
            r.id,
            r.request.attested_rows,
            utc(r.request.requested_at_ms),
            r.state.describe(),
            r.request.dataset,
            r.request.purpose,
        );
    }

    match caps {
        Ok(caps) => {
            let _ = writeln!(out, "\nFlag-back caps (policy, dataset {}):", q.dataset);
            let _ = writeln!(
                out,
                "  case {}: {} of {} rows approved in the last {} days; {} left",
                q.case_ref,
                history.rows_approved_in_period,
                caps.max_rows_per_case,
                caps.case_period_days,
                history.rows_remaining_for_case
            );
            let _ = writeln!(
                out,
                "  this node: {} of {} rows approved today (UTC); {} left",
                history.rows_approved_today, caps.max_rows_per_day, history.rows_remaining_today
            );
            if record.state.is_pending() {
                let asked = q.attested_rows;
                let over = caps_exceeded(record, history);
                let _ = if over.is_empty() {
                    writeln!(out, "  approving this request ({asked} rows) stays within both caps")
                } else {
                    writeln!(
                        out,
                        "  approving this request ({asked} rows) would EXCEED {}: it can only be \
                         denied",
                        over.join(" and ")
                    )
                };
            }
        }
        Err(why) => {
            let _ = writeln!(
                out,
                "\nFlag-back caps: none ({why}).\nThis request cannot be approved, only denied."
            );
        }
    }
    out
}

/// The caps approving `record` now would go past, by policy key; empty if it fits.
fn caps_exceeded(record: &ApprovalRecord, history: &CaseHistory) -> Vec<&'static str> {
    let asked = u64::from(record.request.attested_rows);
    [
        (asked > history.rows_remaining_for_case, "flag_back.max_rows_per_case"),
        (asked > history.rows_remaining_today, "flag_back.max_rows_per_day"),
    ]
    .into_iter()
    .filter_map(|(over, key)| over.then_some(key))
    .collect()
}

/// Runs `approve`.
pub fn approve(args: &ApproveArgs) -> Result<Outcome> {
    let node = Node::open(&args.config)?;
    let verb = "not approved";
    let record = match node.store.get(args.id, node.now()) {
        Ok(record) => record,
        Err(e) => return refused(verb, e),
    };
    let caps = match node.caps(&record) {
        Ok(caps) => caps,
        Err(e) => return refused(verb, e),
    };
    let now = node.now();
    match node.store.approve(args.id, &args.approver, &caps, now) {
        Ok(record) => {
            let q = &record.request;
            println!(
                "approved request {} (case {}, {} rows, {}) as {} at {}",
                record.id,
                q.case_ref,
                q.attested_rows,
                q.dataset,
                args.approver,
                utc(now)
            );
            let history = node.store.history(&q.case_ref, &caps, now)?;
            println!(
                "case {} has {} of {} rows left in its {}-day period; this node has {} of {} \
                 left today (UTC)",
                q.case_ref,
                history.rows_remaining_for_case,
                caps.max_rows_per_case,
                caps.case_period_days,
                history.rows_remaining_today,
                caps.max_rows_per_day
            );
            Ok(Outcome::Success)
        }
        Err(e) => refused(verb, e),
    }
}

/// Runs `deny`.
pub fn deny(args: &DenyArgs) -> Result<Outcome> {
    let node = Node::open(&args.config)?;
    let now = node.now();
    match node.store.deny(args.id, &args.approver, &args.reason, now) {
        Ok(record) => {
            let q = &record.request;
            println!(
                "denied request {} (case {}, {} rows, {}) as {} at {}: {}",
                record.id,
                q.case_ref,
                q.attested_rows,
                q.dataset,
                args.approver,
                utc(now),
                args.reason
            );
            Ok(Outcome::Success)
        }
        Err(e) => refused("not denied", e),
    }
}

/// `2025-06-02 09:00:00 UTC`.
fn utc(ms: i64) -> String {
    let days = ms.div_euclid(approvals::DAY_MS);
    let (y, m, d) = fedlink_proto::civil::civil_from_days(days);
    let s = ms.rem_euclid(approvals::DAY_MS) / 1000;
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC", s / 3600, s / 60 % 60, s % 60)
}

/// A time left, to the second: `1h 02m`, `12m 30s`, `45s`; `expired` when none is left.
fn duration(ms: i64) -> String {
    if ms <= 0 {
        return "expired".into();
    }
    // Round up, so "0s" never shows for a request that can still be decided.
    let s = (ms + 999) / 1000;
    match (s / 3600, s / 60 % 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, s) => format!("{m}m {s:02}s"),
        (h, m, _) => format!("{h}h {m:02}m"),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The records as a JSON array. Written by hand: the binary has no JSON dependency, and the
/// values are only strings and integers.
fn json_list(records: &[ApprovalRecord], now: i64) -> String {
    let objects: Vec<String> = records
        .iter()
        .map(|r| {
            let q = &r.request;
            let mut fields = vec![
                ("id", r.id.to_string()),
                ("state", json_str(r.state.name())),
                ("case_ref", json_str(&q.case_ref)),
                ("attested_rows", q.attested_rows.to_string()),
                ("purpose", json_str(&q.purpose)),
                ("lawful_basis", json_str(&q.lawful_basis)),
                ("requester", json_str(&q.requester)),
                ("authoriser", json_str(&q.authoriser)),
                ("dataset", json_str(&q.dataset)),
                ("query_id", json_str(&q.query_id)),
                ("query_hash", json_str(&hex(&q.query_hash))),
                ("requested_at_ms", q.requested_at_ms.to_string()),
                ("expires_at_ms", q.expires_at_ms.to_string()),
            ];
            match &r.state {
                ApprovalState::Pending => {
                    fields.push(("expires_in_s", ((q.expires_at_ms - now) / 1000).to_string()));
                }
                ApprovalState::Approved { approver, at_ms } => {
                    fields.push(("decided_by", json_str(approver)));
                    fields.push(("decided_at_ms", at_ms.to_string()));
                }
                ApprovalState::Denied { approver, reason, at_ms } => {
                    fields.push(("decided_by", json_str(approver)));
                    fields.push(("decided_at_ms", at_ms.to_string()));
                    fields.push(("reason", json_str(reason)));
                }
                ApprovalState::Expired => {}
            }
            let body: Vec<String> =
                fields.iter().map(|(k, v)| format!("{}: {v}", json_str(k))).collect();
            format!("  {{{}}}", body.join(", "))
        })
        .collect();
    if objects.is_empty() { "[]".into() } else { format!("[\n{}\n]", objects.join(",\n")) }
}

/// A JSON string literal (RFC 8259 escaping).
fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_strings_print_as_operators_and_parsers_expect() {
        assert_eq!(utc(1_748_854_800_000), "2025-06-02 09:00:00 UTC");
        assert_eq!(utc(-1_000), "1969-12-31 23:59:59 UTC");
        assert_eq!(duration(0), "expired");
        assert_eq!(duration(1), "1s");
        assert_eq!(duration(750_000), "12m 30s");
        assert_eq!(duration(3_720_000), "1h 02m");
        assert_eq!(json_str("a\"b\\c\u{1}"), r#""a\"b\\c\u0001""#);
        assert_eq!(hex(&[0, 0xab]), "00ab");
    }
}
