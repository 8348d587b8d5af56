//! `fedlink audit show`: select entries of a log (file or export bundle) and print them as an
//! aligned table, CSV or JSON lines. Selection and decoding are the library's
//! (`fedlink_proto::audit::view`); this file parses the flags and prints.

use std::io::Write as _;

use anyhow::{Context as _, Result};
use fedlink_proto::audit::entry::decode_entry;
use fedlink_proto::audit::merkle::leaf_hash;
use fedlink_proto::audit::source::open_source;
use fedlink_proto::audit::utc::{BoundEnd, parse_utc_bound};
use fedlink_proto::audit::view::{
    EntryFilter, EntryKind, EntryView, SUMMARY_COLUMNS, parse_query_id,
};
use fedlink_proto::pb;

use super::access::{LogAccess, LogArgs};
use crate::cli::Outcome;

/// Show the entries of an audit log that match every filter given
///
/// Reads a log file or an export bundle (it does not verify it: run `fedlink audit verify`).
/// Every filter given must hold; text filters ignore ASCII case. --requester takes an officer
/// id or officer@organisation; --lawful-basis matches text within the lawful basis's regime,
/// article or gateway (e.g. "CDA s115", "Part3"); --kind takes a query mode (describe,
/// aggregate, linked-count, flag-back, overlap, calibrate: entries about a query of that mode)
/// or an event type (collection, consultation, disclosure, query-issued, result-received,
/// service-start, policy-loaded, log-export, ...); --dataset matches where an entry names a
/// dataset: its budget charge, or a reason saying `dataset NAME` (imports, refusals). The
/// datasets of template and linked queries are only in the signed envelope, which entries
/// bind by hash but do not carry, so those entries are not selected by dataset.
///
/// Formats: `table` (aligned columns), `csv` (a header row, then the same columns: index, time,
/// event, decision, rule, requester, purpose, mode, query_id, to, output_class,
/// records_released), `jsonl` (one object per entry, every field decoded; stable field names
/// (fedlink_proto::audit::view documents each): index, origin, time_ms, time, event,
/// decision, rule, reason, actor{member, cert_fingerprint, auth_method, requester{officer_id,
/// role, organisation}}, query{query_id, session_id, envelope_hash, mode, role, audience,
/// coordinator, purpose, lawful_basis{regime, article, gateway}, dsa_ref, case_ref,
/// justification, authoriser_id, issued_at_ms, expires_at_ms, participants[{member, role}]},
/// output{output_class, result_hash, records_released, disclosure_rule, node_log_size,
/// node_log_root}, recipients, request_index, detail, budget{coordinator, requester, dataset,
/// period, epsilon_micro, epsilon}, relay_digests, payload_commitment, subject_count,
/// leaf_hash; enum values as lower-case kebab names, hashes as hex).
///
/// With --config the reading is first recorded in the member's log as a LOG_EXPORT entry;
/// with --log (a copy, no key) it cannot be, and a note on stderr says so.
///
/// Exit 0 when every entry read decoded; 1 when some did not (they are named on stderr and
/// left out); 2 on an error such as an unreadable log or a bad filter.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// Which log, and who reads it
    #[command(flatten)]
    pub source: LogArgs,
    /// Entries at or after this time: an RFC 3339 date (2026-11-27, from its start, UTC) or
    /// date-time (2026-11-27T09:00:00Z)
    #[arg(long, value_parser = since)]
    pub since: Option<i64>,
    /// Entries at or before this time: a date (to its end, UTC) or a date-time
    #[arg(long, value_parser = until)]
    pub until: Option<i64>,
    /// The requester: an officer id, or officer@organisation
    #[arg(long)]
    pub requester: Option<String>,
    /// The requester's organisation code
    #[arg(long)]
    pub organisation: Option<String>,
    /// The query's stated purpose
    #[arg(long)]
    pub purpose: Option<String>,
    /// Text within the query's lawful basis (regime, article or gateway)
    #[arg(long)]
    pub lawful_basis: Option<String>,
    /// A query mode or an event type (see above)
    #[arg(long)]
    pub kind: Option<EntryKind>,
    /// The entry's decision
    #[arg(long, value_enum)]
    pub decision: Option<DecisionArg>,
    /// The query id (UUID text)
    #[arg(long, value_parser = query_id)]
    pub query_id: Option<[u8; 16]>,
    /// A dataset named by the entry (see above)
    #[arg(long)]
    pub dataset: Option<String>,
    /// Output format
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

/// `--decision`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum DecisionArg {
    /// Allowed
    Allowed,
    /// Denied (refusals)
    Denied,
    /// Failed inside the node
    Error,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for reading
    Table,
    /// CSV with a header row
    Csv,
    /// One JSON object per entry, every field decoded
    Jsonl,
}

fn since(text: &str) -> Result<i64, String> {
    parse_utc_bound(text, BoundEnd::Start).map_err(|e| e.to_string())
}

fn until(text: &str) -> Result<i64, String> {
    parse_utc_bound(text, BoundEnd::End).map_err(|e| e.to_string())
}

fn query_id(text: &str) -> Result<[u8; 16], String> {
    parse_query_id(text).map_err(|e| e.to_string())
}

impl ShowArgs {
    /// The library filter these flags describe.
    pub fn filter(&self) -> EntryFilter {
        EntryFilter {
            since_ms: self.since,
            until_ms: self.until,
            requester: self.requester.clone(),
            organisation: self.organisation.clone(),
            purpose: self.purpose.clone(),
            lawful_basis: self.lawful_basis.clone(),
            kind: self.kind,
            decision: self.decision.map(|d| match d {
                DecisionArg::Allowed => pb::Decision::Allowed,
                DecisionArg::Denied => pb::Decision::Denied,
                DecisionArg::Error => pb::Decision::Error,
            }),
            query_id: self.query_id,
            dataset: self.dataset.clone(),
        }
    }
}

/// Runs `show`.
pub fn show(args: &ShowArgs) -> Result<Outcome> {
    let access = LogAccess::resolve(&args.source)?;
    let filter = args.filter();
    let mut source = open_source(&access.path)?;
    let mut views = Vec::new();
    let mut read = 0u64;
    let mut undecodable = Vec::new();
    source.for_each_entry(&mut |record| {
        let index = read;
        read += 1;
        match record.map_err(|p| p.to_string()).and_then(|stored| {
            decode_entry(stored.bytes).map(|e| (e, stored.bytes)).map_err(|e| e.to_string())
        }) {
            Ok((entry, bytes)) if filter.matches(&entry) => {
                views.push(EntryView::new(&entry, &leaf_hash(bytes)));
            }
            Ok(_) => {}
            Err(problem) => undecodable.push((index, problem)),
        }
        Ok(())
    })?;
    drop(source);
    let format = format!("{:?}", args.format).to_lowercase();
    access.record(
        "audit.show",
        &format!("audit show: {} of {read} entries shown", views.len()),
        &format!(
            "command=show format={format} filters={} shown={} read={read}",
            filter.describe(),
            views.len()
        ),
    )?;
    print(&views, args.format).context("writing to stdout")?;
    for (index, problem) in &undecodable {
        eprintln!("entry {index} cannot be shown: {problem} (run `fedlink audit verify`)");
    }
    if views.is_empty() && args.format == Format::Table {
        eprintln!("no entries match");
    }
    Ok(if undecodable.is_empty() { Outcome::Success } else { Outcome::CheckFailed })
}

fn print(views: &[EntryView], format: Format) -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = match format {
        Format::Table => write_table(&mut out, views),
        Format::Csv => {
            let mut csv = csv::Writer::from_writer(&mut out);
            let mut rows = std::iter::once(SUMMARY_COLUMNS.map(String::from))
                .chain(views.iter().map(EntryView::summary));
            rows.try_for_each(|row| csv.write_record(&row))
                .map_err(|e| match e.into_kind() {
                    csv::ErrorKind::Io(io) => io,
                    other => std::io::Error::other(format!("{other:?}")),
                })
                .and_then(|()| csv.flush())
        }
        Format::Jsonl => views.iter().try_for_each(|view| {
            serde_json::to_writer(&mut out, view)?;
            out.write_all(b"\n")
        }),
    };
    match written.and_then(|()| out.flush()) {
        // A reader that stopped early (`| head`) is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

fn write_table(out: &mut impl std::io::Write, views: &[EntryView]) -> std::io::Result<()> {
    let header = SUMMARY_COLUMNS.map(|c| c.replace('_', " "));
    let rows: Vec<[String; 12]> = views.iter().map(EntryView::summary).collect();
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> =
            row.iter().zip(widths).map(|(cell, w)| format!("{cell:<w$}")).collect();
        writeln!(out, "{}", cells.join("  ").trim_end())?;
    }
    Ok(())
}
