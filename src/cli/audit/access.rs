//! Which log a reading command reads, and the record of the reading (DPA 2018 s62: reading
//! or exporting the log is itself logged; audit-privacy-legal.md §3.3 LOG_EXPORT).
//!
//! `--config` names the member's own node or coordinator config: the log is that member's
//! `data_dir/audit.db`, and the reading is appended to it as a LOG_EXPORT entry, signed with
//! the member's key, before anything is shown or written. `--log` names a copy (a file or an
//! export bundle) that an auditor holds without the key: nothing can be appended to it, and
//! the command says so on stderr.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use fedlink_coordinator::config::CoordinatorSettings;
use fedlink_node::config::NodeSettings;
use fedlink_proto::audit::store::AuditLog;
use fedlink_proto::clock::SystemClock;
use fedlink_proto::federation::{Federation, Member, MemberRole};
use fedlink_proto::identity::IdentityKey;
use fedlink_proto::pb;

/// Where the log comes from, and who reads it.
#[derive(Debug, clap::Args)]
pub struct LogArgs {
    /// A copy of a log to read: a log file (a member's data/audit.db) or an export bundle
    /// folder. Nothing can record this reading (a copy has no key): on the member's own
    /// machine, use --config instead so the reading is logged
    #[arg(long, conflicts_with = "config", required_unless_present = "config")]
    pub log: Option<PathBuf>,
    /// The member's node or coordinator config: read that member's own log, and first append
    /// a LOG_EXPORT entry to it (who, which command, which filters, how many entries), signed
    /// with the member's key
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Who is reading, for the LOG_EXPORT entry (with --config; default: $USER)
    #[arg(long, env = "USER", default_value = "operator")]
    pub operator: String,
}

/// A resolved log: its path and, when read through the member's config, how to record the
/// reading in it.
pub struct LogAccess {
    /// The log file or bundle folder.
    pub path: PathBuf,
    /// The member's key and names, with `--config`.
    recorder: Option<Recorder>,
}

/// What appending a LOG_EXPORT entry needs.
struct Recorder {
    me: Member,
    origin: String,
    key: IdentityKey,
    operator: String,
}

impl LogAccess {
    /// Resolves `--log` or `--config`.
    pub fn resolve(args: &LogArgs) -> Result<Self> {
        match (&args.log, &args.config) {
            (Some(path), None) => {
                anyhow::ensure!(path.exists(), "no audit log or bundle at {}", path.display());
                Ok(Self { path: path.clone(), recorder: None })
            }
            (None, Some(config)) => {
                let (me, origin, key, data_dir) = load_member(config)?;
                let path = data_dir.join("audit.db");
                anyhow::ensure!(
                    path.is_file(),
                    "{} names data folder {}, which holds no audit.db yet",
                    config.display(),
                    data_dir.display()
                );
                let operator = args.operator.clone();
                Ok(Self { path, recorder: Some(Recorder { me, origin, key, operator }) })
            }
            _ => bail!("give exactly one of --log FILE and --config CONFIG"),
        }
    }

    /// Whether the log is read through the member's config (so the reading is recorded).
    pub fn is_recorded(&self) -> bool {
        self.recorder.is_some()
    }

    /// Appends the LOG_EXPORT entry for this reading (`command`, e.g. `audit.show`; a
    /// readable `reason`; the parameters in `detail`) and returns its index; with `--log`,
    /// says on stderr that nothing was recorded and returns `None`.
    pub fn record(&self, command: &str, reason: &str, detail: &str) -> Result<Option<u64>> {
        let Some(r) = &self.recorder else {
            eprintln!(
                "note: {} is read as a copy (--log): this reading is not recorded in any log; \
                 use --config on the member's machine to record it",
                self.path.display()
            );
            return Ok(None);
        };
        let key = r.key.try_clone().context("copying the member's key")?;
        let mut log = AuditLog::open(&self.path, &r.origin, key, Arc::new(SystemClock::new()))
            .with_context(|| format!("opening {} to record this reading", self.path.display()))?;
        let entry = pb::AuditEntry {
            event_type: pb::EventType::LogExport as i32,
            decision: pb::Decision::Allowed as i32,
            rule: command.into(),
            reason: format!("{reason} by {}", r.operator),
            actor: Some(pb::Actor {
                member: r.me.name.clone(),
                auth_method: "local".into(),
                requester: Some(pb::Requester {
                    officer_id: r.operator.clone(),
                    role: "log reader".into(),
                    organisation: r.me.organisation.clone(),
                }),
                ..Default::default()
            }),
            detail: detail.into(),
            ..Default::default()
        };
        let appended = log
            .append(entry, None)
            .with_context(|| format!("recording this reading in {}", self.path.display()))?;
        Ok(Some(appended.index))
    }
}

/// The member a node or coordinator config names: its federation entry, its log's origin,
/// its key and its data folder, each loaded as `node serve` or the coordinator loads them.
fn load_member(config: &Path) -> Result<(Member, String, IdentityKey, PathBuf)> {
    let text =
        std::fs::read_to_string(config).with_context(|| format!("reading {}", config.display()))?;
    let table: toml::Table =
        toml::from_str(&text).with_context(|| format!("reading {}", config.display()))?;
    let field = |name: &str| {
        table.get(name).and_then(toml::Value::as_str).with_context(|| {
            format!("{} is not a node or coordinator config: no `{name}` key", config.display())
        })
    };
    let member = field("member")?;
    let fed_path = config.parent().unwrap_or(Path::new(".")).join(field("federation")?);
    let fed_text = std::fs::read_to_string(&fed_path)
        .with_context(|| format!("reading {}", fed_path.display()))?;
    let federation = Federation::from_toml(&fed_text)
        .with_context(|| format!("reading {}", fed_path.display()))?;
    let role = federation
        .member(member)
        .with_context(|| format!("{member:?} is not a member in {}", fed_path.display()))?
        .role;
    match role {
        MemberRole::Node => {
            let s = NodeSettings::load(config)?;
            let origin = s.me.log_origin(&s.federation.name);
            Ok((s.me, origin, s.identity, s.data_dir))
        }
        MemberRole::Coordinator => {
            let s = CoordinatorSettings::load(config)?;
            let origin = s.me.log_origin(&s.federation.name);
            Ok((s.me, origin, s.identity, s.data_dir))
        }
    }
}
