//! The node's config file, and its resolution into [`NodeSettings`]: every path read, every key
//! loaded and every file validated before the node binds a port, so a misconfiguration stops
//! start-up with a message naming the file and the key.
//!
//! Paths in the config file are relative to the config file's own folder.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use fedlink_proto::federation::{Federation, Member, MemberRole, TlsFiles};
use fedlink_proto::identity::IdentityKey;
use fedlink_proto::witness::{ConfiguredWitness, WitnessEntry};
use serde::{Deserialize, Serialize};

use crate::dataset::schema::DatasetSchema;
use crate::policy::Policy;

/// Why the node cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file could not be read.
    #[error("cannot read {what} at {path}")]
    Read {
        /// What the file is for.
        what: &'static str,
        /// Where it was expected.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file's content is unusable.
    #[error("{path}: {problem}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the key.
        problem: String,
    },
    /// Deny by default: a config without a `policy` key does not start.
    #[error(
        "refusing to start: {config} has no `policy` key; a node denies by default and needs a \
         policy file"
    )]
    NoPolicyKey {
        /// The config file.
        config: PathBuf,
    },
    /// Deny by default: no policy, no service.
    #[error(
        "refusing to start: no policy at {path} (key `policy` in {config}); a node denies by \
         default and needs a policy file"
    )]
    NoPolicy {
        /// Where the policy was expected.
        path: PathBuf,
        /// The config file that named it.
        config: PathBuf,
    },
}

/// The config file as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfigFile {
    /// This node's member name in the federation file.
    pub member: String,
    /// Path of the federation file.
    pub federation: PathBuf,
    /// Address and port to serve on, e.g. "0.0.0.0:7443".
    pub listen: String,
    /// Path of the policy file. Required: without it the node refuses to start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PathBuf>,
    /// Folder for the node's databases (the audit log is `audit.db` in it).
    pub data_dir: PathBuf,
    /// PEM of the node's Ed25519 identity key (PKCS#8).
    pub identity_key: PathBuf,
    /// TLS files.
    pub tls: TlsFiles,
    /// Shifts the node's clock, in seconds. For tests of clock faults only; never in production.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub danger_clock_offset_s: Option<i64>,
    /// Releases linked tables exact: no noise, no suppression, no rounding, marked
    /// `test-seam:exact` in every table. For tests that compare linked counts with hand-computed
    /// answers only; the node warns at start-up and never in production.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub danger_exact_linked_counts: Option<bool>,
    /// The public LSOA → ward → local authority lookup (CSV with columns `lsoa`, `ward`,
    /// `local_authority`), loaded at start-up so that tables can be grouped by ward or local
    /// authority from an LSOA column, and so geography levels are fixed from public codes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geography_lookup: Option<PathBuf>,
    /// The datasets this node holds, one `[[dataset]]` table each.
    #[serde(default, rename = "dataset", skip_serializing_if = "Vec::is_empty")]
    pub datasets: Vec<DatasetEntry>,
    /// Independent witnesses this node sends its checkpoints to, one `[[witness]]` table each
    /// (name, address, vkey; `fedlink witness init` prints the table).
    #[serde(default, rename = "witness", skip_serializing_if = "Vec::is_empty")]
    pub witnesses: Vec<WitnessEntry>,
    /// How often the node sends its latest checkpoint to its witnesses when its log has grown,
    /// in seconds (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub witness_push_every_s: Option<u64>,
}

/// A `[[dataset]]` table: where a dataset's schema file is.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetEntry {
    /// Path of the schema file (relative to the config file).
    pub schema: PathBuf,
}

/// Everything the node needs, read and checked.
pub struct NodeSettings {
    /// The config file this came from.
    pub config_path: PathBuf,
    /// This node as the federation file lists it.
    pub me: Member,
    /// The federation.
    pub federation: Federation,
    /// Where to listen.
    pub listen: SocketAddr,
    /// The loaded policy.
    pub policy: Policy,
    /// Folder for databases.
    pub data_dir: PathBuf,
    /// The node's signing key.
    pub identity: IdentityKey,
    /// PEM text of the CA certificate.
    pub ca_pem: String,
    /// PEM text of the node's certificate.
    pub cert_pem: String,
    /// PEM text of the node's TLS key.
    pub key_pem: String,
    /// Clock offset for fault tests (0 in production).
    pub danger_clock_offset_s: i64,
    /// Exact linked tables for tests (false in production).
    pub danger_exact_linked_counts: bool,
    /// The datasets' schemas, in config order.
    pub datasets: Vec<DatasetSchema>,
    /// The public geography lookup file, if configured.
    pub geography_lookup: Option<PathBuf>,
    /// Independent witnesses to send checkpoints to.
    pub witnesses: Vec<ConfiguredWitness>,
    /// How often to send them.
    pub witness_push_every: std::time::Duration,
}

impl NodeSettings {
    /// Reads the config file and everything it names.
    pub fn load(config_path: &Path) -> Result<Self, ConfigError> {
        let text = read(config_path, "the node config")?;
        let file: NodeConfigFile = toml::from_str(&text).map_err(|e| ConfigError::Invalid {
            path: config_path.to_path_buf(),
            problem: e.to_string(),
        })?;
        let base = config_path.parent().unwrap_or(Path::new("."));
        let at = |p: &Path| base.join(p);

        let policy_path = match &file.policy {
            Some(p) => at(p),
            None => return Err(ConfigError::NoPolicyKey { config: config_path.to_path_buf() }),
        };
        if !policy_path.is_file() {
            return Err(ConfigError::NoPolicy { path: policy_path, config: config_path.into() });
        }
        let policy_text = read(&policy_path, "the policy")?;
        let policy = Policy::from_toml(&policy_text)
            .map_err(|problem| ConfigError::Invalid { path: policy_path.clone(), problem })?;

        let fed_path = at(&file.federation);
        let federation = Federation::from_toml(&read(&fed_path, "the federation file")?)
            .map_err(|e| ConfigError::Invalid { path: fed_path.clone(), problem: e.to_string() })?;
        let me = federation.member(&file.member).cloned().ok_or_else(|| ConfigError::Invalid {
            path: config_path.to_path_buf(),
            problem: format!(
                "key `member`: {:?} is not listed in {}",
                file.member,
                fed_path.display()
            ),
        })?;
        if me.role != MemberRole::Node {
            return Err(ConfigError::Invalid {
                path: config_path.to_path_buf(),
                problem: format!("key `member`: {:?} is not a node in the federation", me.name),
            });
        }

        let key_path = at(&file.identity_key);
        let identity = IdentityKey::from_pkcs8_pem(&read(&key_path, "the identity key")?)
            .map_err(|e| ConfigError::Invalid { path: key_path.clone(), problem: e.to_string() })?;
        if identity.public_key() != me.public_key {
            return Err(ConfigError::Invalid {
                path: key_path,
                problem: format!(
                    "this identity key does not match the public key the federation file lists \
                     for {:?}",
                    me.name
                ),
            });
        }

        let mut datasets: Vec<DatasetSchema> = Vec::new();
        for entry in &file.datasets {
            let path = at(&entry.schema);
            let schema = DatasetSchema::from_toml(&read(&path, "a dataset schema")?)
                .map_err(|e| ConfigError::Invalid { path: path.clone(), problem: e.to_string() })?;
            if datasets.iter().any(|d| d.name == schema.name) {
                return Err(ConfigError::Invalid {
                    path,
                    problem: format!("dataset {:?} is listed twice", schema.name),
                });
            }
            datasets.push(schema);
        }

        policy
            .validate_against(&datasets, file.geography_lookup.is_some())
            .map_err(|problem| ConfigError::Invalid { path: policy_path.clone(), problem })?;

        let witnesses = file
            .witnesses
            .iter()
            .map(|w| {
                w.resolve().map_err(|e| ConfigError::Invalid {
                    path: config_path.to_path_buf(),
                    problem: format!("[[witness]] {:?}: key `vkey`: {e}", w.name),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let push_every_s = file.witness_push_every_s.unwrap_or(5);
        if push_every_s == 0 {
            return Err(ConfigError::Invalid {
                path: config_path.to_path_buf(),
                problem: "key `witness_push_every_s`: must be at least 1".into(),
            });
        }

        let listen = file.listen.parse().map_err(|e| ConfigError::Invalid {
            path: config_path.to_path_buf(),
            problem: format!("key `listen`: {:?} is not an address:port ({e})", file.listen),
        })?;

        Ok(Self {
            config_path: config_path.to_path_buf(),
            me,
            federation,
            listen,
            policy,
            data_dir: at(&file.data_dir),
            identity,
            ca_pem: read(&at(&file.tls.ca_cert), "the CA certificate (key `tls.ca_cert`)")?,
            cert_pem: read(&at(&file.tls.cert), "the node certificate (key `tls.cert`)")?,
            key_pem: read(&at(&file.tls.key), "the node TLS key (key `tls.key`)")?,
            danger_clock_offset_s: file.danger_clock_offset_s.unwrap_or(0),
            danger_exact_linked_counts: file.danger_exact_linked_counts.unwrap_or(false),
            datasets,
            geography_lookup: file.geography_lookup.as_ref().map(|p| at(p)),
            witnesses,
            witness_push_every: std::time::Duration::from_secs(push_every_s),
        })
    }
}

fn read(path: &Path, what: &'static str) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        what,
        path: path.to_path_buf(),
        source,
    })
}
