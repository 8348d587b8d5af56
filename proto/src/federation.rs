//! The federation file: who the members are, what each does, where nodes listen, and the
//! certificate fingerprint and Ed25519 public key that identify each member. Every node and the
//! coordinator read the same file; a peer not in it is refused.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::identity::PublicKey;

/// Why a federation file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    /// The TOML does not parse or lacks a required key.
    #[error("not a valid federation file: {0}")]
    Parse(String),
    /// A member entry is unusable.
    #[error("member {member:?}: {problem}")]
    Member {
        /// The member's name.
        member: String,
        /// What is wrong.
        problem: String,
    },
}

/// The `[tls]` table of a member's config: its certificate and key, and the CA that signs the
/// certificates of the members it talks to. A partner with its own PKI points these at its own
/// files and lists its certificate's SHA-256 in the federation file (deploy/README.md).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// PEM of the CA whose certificates peers must present.
    pub ca_cert: std::path::PathBuf,
    /// PEM of this member's certificate (server and client authentication).
    pub cert: std::path::PathBuf,
    /// PEM of this member's TLS private key.
    pub key: std::path::PathBuf,
}

/// What a member does in the federation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberRole {
    /// Issues signed queries (the analyst's side).
    Coordinator,
    /// Holds an agency's data and answers queries.
    Node,
}

/// One member as written in the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberFile {
    /// Unique member name, e.g. "police".
    pub name: String,
    /// Node or coordinator.
    pub role: MemberRole,
    /// The organisation behind it, e.g. "Demo County Police".
    pub organisation: String,
    /// Where a node serves gRPC, e.g. "https://police.example.org:7443". Nodes only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The DNS name in the node's server certificate, if it differs from the endpoint's host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_name: Option<String>,
    /// SHA-256 of the member's TLS certificate (DER), lowercase hex.
    pub cert_sha256: String,
    /// The member's Ed25519 identity public key, base64.
    pub public_key: String,
}

/// The file as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationFile {
    /// The federation's name, e.g. "demo-county".
    pub name: String,
    /// Every member.
    #[serde(rename = "member", default)]
    pub members: Vec<MemberFile>,
    /// The people who may authorise person-level requests (flag-back), each with their own
    /// Ed25519 key (design-review F12, F15): a node checks the authoriser's signature on the
    /// envelope, so the coordinator alone cannot mint an authorised case.
    #[serde(rename = "authoriser", default)]
    pub authorisers: Vec<AuthoriserFile>,
}

/// An authoriser as written in the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthoriserFile {
    /// Their id, as envelopes name them (e.g. a warrant number).
    pub id: String,
    /// Role or rank, e.g. "Detective Inspector".
    pub role: String,
    /// Their organisation.
    pub organisation: String,
    /// Their Ed25519 public key, base64.
    pub public_key: String,
}

/// A validated authoriser.
#[derive(Debug, Clone)]
pub struct Authoriser {
    /// Their id.
    pub id: String,
    /// Role or rank.
    pub role: String,
    /// Organisation.
    pub organisation: String,
    /// Their key.
    pub public_key: PublicKey,
}

/// A validated member.
#[derive(Debug, Clone)]
pub struct Member {
    /// Unique member name.
    pub name: String,
    /// Node or coordinator.
    pub role: MemberRole,
    /// The organisation behind it.
    pub organisation: String,
    /// Where a node serves gRPC (nodes only).
    pub endpoint: Option<String>,
    /// The TLS server name to expect from a node.
    pub tls_name: Option<String>,
    /// SHA-256 of the member's TLS certificate, lowercase hex.
    pub cert_sha256: String,
    /// Ed25519 identity key.
    pub public_key: PublicKey,
}

impl Member {
    /// The origin line of this member's audit log in federation `federation`.
    pub fn log_origin(&self, federation: &str) -> String {
        log_origin(federation, &self.name)
    }
}

/// The origin line of a member's audit log (C2SP tlog-checkpoint origin; also its key name).
pub fn log_origin(federation: &str, member: &str) -> String {
    format!("fedlink.audit/{federation}/{member}")
}

/// A validated federation.
#[derive(Debug, Clone)]
pub struct Federation {
    /// The federation's name.
    pub name: String,
    members: BTreeMap<String, Member>,
    authorisers: BTreeMap<String, Authoriser>,
}

impl Federation {
    /// Parses and validates a federation file's text.
    pub fn from_toml(text: &str) -> Result<Self, FederationError> {
        let file: FederationFile =
            toml::from_str(text).map_err(|e| FederationError::Parse(e.to_string()))?;
        Self::try_from(file)
    }

    /// Looks a member up by name.
    pub fn member(&self, name: &str) -> Option<&Member> {
        self.members.get(name)
    }

    /// Looks a member up by the SHA-256 fingerprint of its certificate.
    pub fn member_by_fingerprint(&self, fingerprint: &str) -> Option<&Member> {
        self.members.values().find(|m| ct_eq_str(&m.cert_sha256, fingerprint))
    }

    /// All members, by name.
    pub fn members(&self) -> impl Iterator<Item = &Member> {
        self.members.values()
    }

    /// Looks an authoriser up by id.
    pub fn authoriser(&self, id: &str) -> Option<&Authoriser> {
        self.authorisers.get(id)
    }

    /// The nodes, by name.
    pub fn nodes(&self) -> impl Iterator<Item = &Member> {
        self.members.values().filter(|m| m.role == MemberRole::Node)
    }
}

impl TryFrom<FederationFile> for Federation {
    type Error = FederationError;

    fn try_from(file: FederationFile) -> Result<Self, FederationError> {
        if file.name.trim().is_empty() {
            return Err(FederationError::Parse("`name` is empty".into()));
        }
        let mut members = BTreeMap::new();
        for m in file.members {
            let bad = |problem: String| FederationError::Member { member: m.name.clone(), problem };
            if m.name.is_empty() || !m.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(bad("names use only letters, digits and '-'".into()));
            }
            let fp = m.cert_sha256.to_ascii_lowercase();
            if fp.len() != 64 || !fp.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(bad("cert_sha256 must be 64 hex digits".into()));
            }
            let public_key =
                PublicKey::from_base64(&m.public_key).map_err(|e| bad(e.to_string()))?;
            if m.role == MemberRole::Node && m.endpoint.is_none() {
                return Err(bad("a node needs an `endpoint`".into()));
            }
            let member = Member {
                name: m.name.clone(),
                role: m.role,
                organisation: m.organisation.clone(),
                endpoint: m.endpoint.clone(),
                tls_name: m.tls_name.clone(),
                cert_sha256: fp,
                public_key,
            };
            if members.insert(m.name.clone(), member).is_some() {
                return Err(bad("listed twice".into()));
            }
        }
        let mut authorisers = BTreeMap::new();
        for a in file.authorisers {
            let bad = |problem: String| FederationError::Member {
                member: format!("authoriser {}", a.id),
                problem,
            };
            if a.id.trim().is_empty() {
                return Err(bad("an authoriser needs an id".into()));
            }
            let public_key =
                PublicKey::from_base64(&a.public_key).map_err(|e| bad(e.to_string()))?;
            let authoriser = Authoriser {
                id: a.id.clone(),
                role: a.role.clone(),
                organisation: a.organisation.clone(),
                public_key,
            };
            if authorisers.insert(a.id.clone(), authoriser).is_some() {
                return Err(bad("listed twice".into()));
            }
        }
        Ok(Self { name: file.name, members, authorisers })
    }
}

/// Compares two strings in time independent of where they differ.
fn ct_eq_str(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

    fn text(extra: &str) -> String {
        format!(
            "name = \"demo\"\n[[member]]\nname = \"police\"\nrole = \"node\"\n\
             organisation = \"Demo Police\"\nendpoint = \"https://127.0.0.1:7001\"\n\
             cert_sha256 = \"{}\"\npublic_key = \"{KEY}\"\n{extra}",
            "ab".repeat(32)
        )
    }

    #[test]
    fn parses_and_finds_members() {
        let fed = Federation::from_toml(&text("")).expect("parses");
        assert_eq!(fed.member("police").map(|m| m.role), Some(MemberRole::Node));
        assert!(fed.member_by_fingerprint(&"ab".repeat(32)).is_some());
        assert!(fed.member_by_fingerprint(&"ac".repeat(32)).is_none());
    }

    #[test]
    fn refuses_unknown_keys_and_bad_members() {
        assert!(Federation::from_toml(&text("colour = \"red\"\n")).is_err());
        let no_endpoint = text("").replace("endpoint = \"https://127.0.0.1:7001\"\n", "");
        assert!(Federation::from_toml(&no_endpoint).is_err());
    }
}
