//! The coordinator's config file, resolved into [`CoordinatorSettings`] before anything runs:
//! its identity and TLS files, the federation, who the analyst is, and the defaults every query
//! carries (purpose, lawful basis, data-sharing agreement).
//!
//! Paths in the config file are relative to the config file's own folder.

use std::path::{Path, PathBuf};

use fedlink_proto::envelope::{LawfulBasis, Requester};
use fedlink_proto::federation::{Federation, Member, MemberRole, TlsFiles};
use fedlink_proto::identity::IdentityKey;
use fedlink_proto::witness::{ConfiguredWitness, WitnessEntry};
use serde::{Deserialize, Serialize};

use crate::error::CoordinatorError;

/// The `[requester]` table: the analyst on whose behalf queries go out.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequesterFile {
    /// Collar or staff number.
    pub officer_id: String,
    /// Role or rank.
    pub role: String,
    /// Organisation code.
    pub organisation: String,
}

/// The `[query]` table: what every query states unless the command line overrides it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryDefaults {
    /// Purpose code.
    pub purpose: String,
    /// Lawful basis.
    pub lawful_basis: LawfulBasis,
    /// Data-sharing agreement reference (id@version).
    pub dsa_ref: String,
    /// Justification recorded with every query.
    pub justification: String,
    /// Envelope lifetime in seconds.
    #[serde(default = "default_lifetime")]
    pub envelope_lifetime_s: u32,
}

fn default_lifetime() -> u32 {
    120
}

/// The config file as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoordinatorConfigFile {
    /// The coordinator's member name in the federation file.
    pub member: String,
    /// Path of the federation file.
    pub federation: PathBuf,
    /// Folder for the coordinator's audit log and receipt store.
    pub data_dir: PathBuf,
    /// PEM of the Ed25519 identity key (PKCS#8).
    pub identity_key: PathBuf,
    /// TLS files.
    pub tls: TlsFiles,
    /// The analyst.
    pub requester: RequesterFile,
    /// Query defaults.
    pub query: QueryDefaults,
    /// The authoriser whose key signs person-level requests (flag-back), if any.
    #[serde(default)]
    pub authoriser: Option<AuthoriserConfig>,
    /// Independent witnesses the coordinator sends its checkpoints to at the end of each
    /// command, one `[[witness]]` table each (name, address, vkey; `fedlink witness init`
    /// prints the table).
    #[serde(default, rename = "witness", skip_serializing_if = "Vec::is_empty")]
    pub witnesses: Vec<WitnessEntry>,
}

/// The `[authoriser]` table: who authorises person-level requests and where their key is.
/// The key belongs to the authoriser, not the analyst; in production it would live on their
/// own device (a smartcard), and this file would name a signing helper instead.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthoriserConfig {
    /// Their id, as the federation file lists them.
    pub id: String,
    /// Role or rank.
    pub role: String,
    /// PEM of their Ed25519 key (PKCS#8).
    pub key: PathBuf,
}

/// A loaded authoriser key.
pub struct AuthoriserKey {
    /// Their id.
    pub id: String,
    /// Role or rank.
    pub role: String,
    /// Their key, checked against the federation file.
    pub key: IdentityKey,
}

/// Everything the coordinator needs, read and checked.
pub struct CoordinatorSettings {
    /// This coordinator as the federation file lists it.
    pub me: Member,
    /// The federation.
    pub federation: Federation,
    /// Folder for databases.
    pub data_dir: PathBuf,
    /// The signing key.
    pub identity: IdentityKey,
    /// PEM text of the CA certificate.
    pub ca_pem: String,
    /// PEM text of the client certificate.
    pub cert_pem: String,
    /// PEM text of the client key.
    pub key_pem: String,
    /// The analyst.
    pub requester: Requester,
    /// Query defaults.
    pub query: QueryDefaults,
    /// The authoriser, if configured.
    pub authoriser: Option<AuthoriserKey>,
    /// Independent witnesses of the coordinator's log.
    pub witnesses: Vec<ConfiguredWitness>,
}

impl CoordinatorSettings {
    /// Reads the config file and everything it names.
    pub fn load(config_path: &Path) -> Result<Self, CoordinatorError> {
        let text = read(config_path, "the coordinator config")?;
        let file: CoordinatorConfigFile = toml::from_str(&text).map_err(|e| {
            CoordinatorError::Config { path: config_path.to_path_buf(), problem: e.to_string() }
        })?;
        let base = config_path.parent().unwrap_or(Path::new("."));
        let at = |p: &Path| base.join(p);
        let invalid = |path: &Path, problem: String| CoordinatorError::Config {
            path: path.to_path_buf(),
            problem,
        };

        let fed_path = at(&file.federation);
        let federation = Federation::from_toml(&read(&fed_path, "the federation file")?)
            .map_err(|e| invalid(&fed_path, e.to_string()))?;
        let me = federation.member(&file.member).cloned().ok_or_else(|| {
            invalid(
                config_path,
                format!("key `member`: {:?} is not in the federation", file.member),
            )
        })?;
        if me.role != MemberRole::Coordinator {
            return Err(invalid(
                config_path,
                format!("key `member`: {:?} is not a coordinator", me.name),
            ));
        }
        let key_path = at(&file.identity_key);
        let identity = IdentityKey::from_pkcs8_pem(&read(&key_path, "the identity key")?)
            .map_err(|e| invalid(&key_path, e.to_string()))?;
        if identity.public_key() != me.public_key {
            return Err(invalid(
                &key_path,
                format!("this key does not match the federation file's key for {:?}", me.name),
            ));
        }
        let authoriser = match &file.authoriser {
            None => None,
            Some(a) => {
                let path = at(&a.key);
                let key = IdentityKey::from_pkcs8_pem(&read(&path, "the authoriser's key")?)
                    .map_err(|e| invalid(&path, e.to_string()))?;
                let listed = federation.authoriser(&a.id).ok_or_else(|| {
                    invalid(
                        config_path,
                        format!("key `authoriser.id`: {:?} is not in the federation file", a.id),
                    )
                })?;
                if listed.public_key != key.public_key() {
                    return Err(invalid(
                        &path,
                        format!("this key is not the federation file's key for {:?}", a.id),
                    ));
                }
                Some(AuthoriserKey { id: a.id.clone(), role: a.role.clone(), key })
            }
        };
        let witnesses = file
            .witnesses
            .iter()
            .map(|w| {
                w.resolve().map_err(|e| {
                    invalid(config_path, format!("[[witness]] {:?}: key `vkey`: {e}", w.name))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            authoriser,
            witnesses,
            me,
            federation,
            data_dir: at(&file.data_dir),
            identity,
            ca_pem: read(&at(&file.tls.ca_cert), "the CA certificate (key `tls.ca_cert`)")?,
            cert_pem: read(&at(&file.tls.cert), "the client certificate (key `tls.cert`)")?,
            key_pem: read(&at(&file.tls.key), "the client TLS key (key `tls.key`)")?,
            requester: Requester {
                officer_id: file.requester.officer_id,
                role: file.requester.role,
                organisation: file.requester.organisation,
            },
            query: file.query,
        })
    }
}

fn read(path: &Path, what: &'static str) -> Result<String, CoordinatorError> {
    std::fs::read_to_string(path).map_err(|source| CoordinatorError::Read {
        what,
        path: path.to_path_buf(),
        source,
    })
}
