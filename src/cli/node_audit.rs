//! `fedlink node audit …`: the node operator's own use of the node's audit log (issue 7 items 4
//! and 5). `subject` lists every entry that concerned one person, for a subject access request
//! or a misuse inquiry, and logs the search first; `erase` deletes the payloads (subject tokens)
//! whose retention has ended and logs the erasure. Both run beside a serving node: they open the
//! same log file, and SQLite keeps one writer at a time.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use fedlink_node::config::NodeSettings;
use fedlink_node::gate::{AuditGate, local_actor};
use fedlink_node::subject_tokens::search::{FoundEntry, search_subject};
use fedlink_node::subject_tokens::{SubjectIdentifier, SubjectTokenKey};
use fedlink_proto::audit::store::AuditLog;
use fedlink_proto::clock::{Clock, SystemClock};
use fedlink_proto::federation::Member;

use crate::cli::Outcome;

/// `fedlink node audit …`
#[derive(Debug, clap::Subcommand)]
pub enum NodeAuditCommand {
    /// List every logged request that concerned one person (subject access request, misuse
    /// inquiry); the search is itself logged first
    ///
    /// Name the person by NHS number, or by name and date of birth, or both (entries holding
    /// either are listed). Names and dates are normalised as import normalises them, so
    /// "SMITH, John" and "John Smith" are the same person; a double-barrelled surname is written
    /// hyphenated or in the "SURNAME, FORENAME" form. Only the first forename counts.
    ///
    /// The node logged, for every linked query, flag-back, overlap and calibration run, keyed
    /// tokens of every person on its side (never the identifiers); aggregate counts are not
    /// indexed per person. Entries whose payload was erased at the end of its retention
    /// (`[audit] payload_retention_days`) cannot be found: the output says how many there are.
    ///
    /// Before anything is shown, the search is appended to the log as a LOG_EXPORT entry with
    /// the operator, the reason and the number of entries found.
    ///
    /// Exit 0 when the search ran (whether or not it found anything); 2 on an error such as an
    /// invalid NHS number or an unreadable config.
    #[command(after_help = "\
Examples:
  fedlink node audit subject --config /etc/fedlink/node.toml --nhs-number '943 476 5919' \\
      --reason 'SAR 2026-0141'
  fedlink node audit subject --config /etc/fedlink/node.toml --name 'SMITH, John' \\
      --dob 1980-01-02 --format jsonl --reason 'PSD inquiry 77'")]
    Subject(SubjectArgs),
    /// Erase the audit payloads (subject tokens) whose retention has ended, and log it
    ///
    /// Deletes each expired payload's body and its subject-index rows (the salt stays, so the
    /// entry keeps verifying) and appends one ERASURE entry naming how many and which index
    /// range. The node does the same sweep every time it starts. Exit 0 whether or not
    /// anything was due.
    Erase(EraseArgs),
}

/// How `subject` prints what it found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SubjectFormat {
    /// Aligned text, one entry per line, then a summary
    Table,
    /// One JSON object per entry on stdout; the summary goes to stderr
    Jsonl,
}

/// Find every entry that concerned one person
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("subject").required(true).multiple(true).args(["nhs_number", "name"])))]
pub struct SubjectArgs {
    /// The node's config file
    #[arg(long)]
    pub config: PathBuf,
    /// The person's NHS number (spaces and hyphens allowed; the check digit must be right)
    #[arg(long)]
    pub nhs_number: Option<String>,
    /// The person's name: "FORENAME SURNAME" or "SURNAME, FORENAME" (with --dob)
    #[arg(long, requires = "dob")]
    pub name: Option<String>,
    /// The person's date of birth, YYYY-MM-DD (with --name)
    #[arg(long, requires = "name")]
    pub dob: Option<String>,
    /// Why you are searching (a SAR reference, an inquiry): recorded in the log
    #[arg(long)]
    pub reason: String,
    /// Who is searching, for the log (default: $USER)
    #[arg(long, env = "USER", default_value = "operator")]
    pub operator: String,
    /// Output format
    #[arg(long, value_enum, default_value = "table")]
    pub format: SubjectFormat,
}

/// Erase expired audit payloads
#[derive(Debug, clap::Args)]
pub struct EraseArgs {
    /// The node's config file
    #[arg(long)]
    pub config: PathBuf,
    /// Who is erasing, for the log (default: $USER)
    #[arg(long, env = "USER", default_value = "operator")]
    pub operator: String,
}

/// Runs a `node audit` command.
pub fn run(command: &NodeAuditCommand) -> Result<Outcome> {
    match command {
        NodeAuditCommand::Subject(args) => subject(args),
        NodeAuditCommand::Erase(args) => erase(args),
    }
}

/// The node's log behind its gate, with the policy's retention, and who the node is.
fn open(config: &Path) -> Result<(AuditGate, Member, PathBuf)> {
    let settings = NodeSettings::load(config)?;
    let path = settings.data_dir.join("audit.db");
    if !path.is_file() {
        bail!(
            "no audit log at {}: the node of {} has never started",
            path.display(),
            config.display()
        );
    }
    let clock: Arc<dyn Clock> = if settings.danger_clock_offset_s != 0 {
        Arc::new(SystemClock::danger_with_offset_s(settings.danger_clock_offset_s))
    } else {
        Arc::new(SystemClock::new())
    };
    let origin = settings.me.log_origin(&settings.federation.name);
    let log = AuditLog::open(&path, &origin, settings.identity, Arc::clone(&clock))
        .with_context(|| format!("opening the audit log {}", path.display()))?;
    let gate = AuditGate::new(log, clock, settings.policy.audit.payload_retention_days);
    Ok((gate, settings.me, settings.data_dir))
}

/// Runs `subject`.
pub fn subject(args: &SubjectArgs) -> Result<Outcome> {
    if args.reason.trim().is_empty() {
        bail!("--reason must say why you are searching: it is recorded in the log");
    }
    let mut identifiers = Vec::new();
    if let Some(nhs) = &args.nhs_number {
        identifiers.push(SubjectIdentifier::nhs_number(nhs).context("--nhs-number")?);
    }
    if let (Some(name), Some(dob)) = (&args.name, &args.dob) {
        identifiers.push(SubjectIdentifier::name_dob(name, dob).context("--name and --dob")?);
    }
    let (gate, me, data_dir) = open(&args.config)?;
    let key = SubjectTokenKey::load_or_create(&data_dir)?;
    let actor = local_actor(&me.name, &me.organisation, Some(&args.operator));
    let report = search_subject(&gate, &key, actor, &identifiers, args.reason.trim())
        .context("searching the audit log")?;
    let summary = format!(
        "{} entries found among the {} entries searched; the search is logged as entry {}.\n{} \
         entries in that range had their payload erased (retention ended) and cannot be searched.",
        report.found.len(),
        report.search.size,
        report.logged_as,
        report.search.erased
    );
    let mut out = std::io::stdout().lock();
    match args.format {
        SubjectFormat::Table => {
            out.write_all(render_table(&report.found).as_bytes())?;
            writeln!(out, "{summary}")?;
        }
        SubjectFormat::Jsonl => {
            for entry in &report.found {
                writeln!(out, "{}", serde_json::to_string(entry)?)?;
            }
            eprintln!("{summary}");
        }
    }
    Ok(Outcome::Success)
}

/// The entries found as aligned columns.
pub fn render_table(found: &[FoundEntry]) -> String {
    let header = ["index", "time", "event", "requester", "purpose", "query id", "mode", "decision"];
    let rows: Vec<[String; 8]> = found
        .iter()
        .map(|e| {
            [
                e.index.to_string(),
                e.time.clone(),
                e.event.clone(),
                e.requester.clone(),
                e.purpose.clone(),
                e.query_id.clone(),
                e.mode.clone(),
                e.decision.clone(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.len());
        }
    }
    let line = |cells: &[&str]| -> String {
        let padded: Vec<String> =
            cells.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut out = line(&header);
    for row in &rows {
        out.push_str(&line(&row.each_ref().map(String::as_str)));
    }
    out
}

/// Runs `erase`.
pub fn erase(args: &EraseArgs) -> Result<Outcome> {
    let (gate, me, _) = open(&args.config)?;
    let actor = local_actor(&me.name, &me.organisation, Some(&args.operator));
    match gate.erase_expired_payloads(actor).context("erasing expired payloads")? {
        Some((erasure, index)) => println!(
            "erased the payloads of {} entries (entries {} to {}); logged as entry {index}",
            erasure.count, erasure.first_index, erasure.last_index
        ),
        None => println!("no payload's retention has ended; nothing erased, nothing logged"),
    }
    Ok(Outcome::Success)
}
