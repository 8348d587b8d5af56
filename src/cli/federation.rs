//! `fedlink federation init`: a local federation to try fedlink with. A development CA, and for
//! every member its TLS certificate and key, its Ed25519 identity key, its config file and (for
//! nodes) a starting policy; plus the federation file that lists them all.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use fedlink_proto::federation::{AuthoriserFile, FederationFile, MemberFile, MemberRole};
use fedlink_proto::identity::IdentityKey;

use crate::devca::{DevCa, fingerprint};

/// The demo authoriser's id, role and key file (in the coordinator's folder).
pub(crate) const DEMO_AUTHORISER_ID: &str = "DEMO-DI-0042";
pub(crate) const DEMO_AUTHORISER_ROLE: &str = "Detective Inspector";
pub(crate) const DEMO_AUTHORISER_KEY: &str = "authoriser.key.pem";

/// Create a local federation: dev CA, member certificates and keys, configs, policies
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Folder to create the federation in (must be empty or not exist)
    #[arg(long)]
    pub dir: PathBuf,
    /// Federation name (appears in every audit log's origin)
    #[arg(long, default_value = "demo-county")]
    pub name: String,
    /// Node members to create
    #[arg(long, value_delimiter = ',', default_value = "police,icb,council-east,council-west")]
    pub nodes: Vec<String>,
    /// Coordinator member to create
    #[arg(long, default_value = "coordinator")]
    pub coordinator: String,
    /// Host the nodes listen on and are reached at
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// First node port; the others follow. 0 picks free ports now (for tests and the demo)
    #[arg(long, default_value_t = 7401)]
    pub base_port: u16,
}

/// What `init` made, for the caller to print or use.
#[derive(Debug)]
pub struct Created {
    /// The federation file.
    pub federation_file: PathBuf,
    /// Node config files, by member name.
    pub node_configs: Vec<(String, PathBuf)>,
    /// The coordinator's config file.
    pub coordinator_config: PathBuf,
}

/// Runs `federation init` and prints a summary.
pub fn run(args: &InitArgs) -> Result<()> {
    let created = init(args)?;
    println!("created federation {:?} in {}", args.name, args.dir.display());
    println!("  federation file   {}", created.federation_file.display());
    for (name, config) in &created.node_configs {
        println!("  node {name:<13} {}", config.display());
    }
    println!("  coordinator       {}", created.coordinator_config.display());
    println!();
    println!("next:");
    for (_, config) in &created.node_configs {
        println!("  fedlink node serve --config {}", config.display());
    }
    println!("  fedlink coordinator describe --config {}", created.coordinator_config.display());
    Ok(())
}

/// Organisation names for the default members; others get a generic one.
fn organisation(member: &str) -> String {
    match member {
        "police" => "Demo County Police".into(),
        "icb" => "NHS Demo County Integrated Care Board".into(),
        "council-east" => "East Demo District Council".into(),
        "council-west" => "West Demo District Council".into(),
        "coordinator" => "Demo County Police (analysis unit)".into(),
        other => format!("{other} (organisation)"),
    }
}

/// Creates the federation and returns where everything is.
pub fn init(args: &InitArgs) -> Result<Created> {
    let dir = &args.dir;
    if dir.exists()
        && fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?.next().is_some()
    {
        bail!("{} is not empty; choose a new folder for the federation", dir.display());
    }
    let mut names: Vec<&String> = args.nodes.iter().collect();
    names.push(&args.coordinator);
    for (i, a) in names.iter().enumerate() {
        if names[..i].contains(a) {
            bail!("member name {a:?} is used twice");
        }
    }
    fs::create_dir_all(dir.join("ca")).with_context(|| format!("creating {}", dir.display()))?;

    let ca = DevCa::generate(&ca_common_name(&args.name))?;
    write(&dir.join("ca/ca.pem"), &ca.cert_pem)?;
    write_secret(&dir.join("ca/ca.key.pem"), &ca.key_pem)?;

    let ports = ports(args.base_port, args.nodes.len(), &args.host)?;
    let mut members = Vec::new();
    let mut node_configs = Vec::new();
    for (name, port) in args.nodes.iter().zip(ports) {
        let tls_name = format!("{name}.fedlink.test");
        let member_dir = dir.join(name);
        let (cert_fp, public_key) =
            write_member_files(&ca, &member_dir, name, &[tls_name.clone(), args.host.clone()])?;
        let config = member_dir.join("node.toml");
        write(&config, &node_config(name, &format!("{}:{port}", args.host)))?;
        write(&member_dir.join("policy.toml"), &starting_policy(name, &args.coordinator))?;
        node_configs.push((name.clone(), config));
        members.push(MemberFile {
            name: name.clone(),
            role: MemberRole::Node,
            organisation: organisation(name),
            endpoint: Some(format!("https://{}:{port}", args.host)),
            tls_name: Some(tls_name),
            cert_sha256: cert_fp,
            public_key,
        });
    }
    let coordinator_dir = dir.join(&args.coordinator);
    let (cert_fp, public_key) = write_member_files(
        &ca,
        &coordinator_dir,
        &args.coordinator,
        &[format!("{}.fedlink.test", args.coordinator)],
    )?;
    let coordinator_config = coordinator_dir.join("coordinator.toml");
    write(&coordinator_config, &coordinator_config_text(&args.coordinator))?;
    members.push(MemberFile {
        name: args.coordinator.clone(),
        role: MemberRole::Coordinator,
        organisation: organisation(&args.coordinator),
        endpoint: None,
        tls_name: None,
        cert_sha256: cert_fp,
        public_key,
    });

    // The analyst's authoriser (a detective inspector): their own key signs person-level
    // requests such as flag-backs, and the nodes check it against this file (F12, F15).
    let authoriser_key = IdentityKey::generate().context("generating the authoriser's key")?;
    write_secret(&coordinator_dir.join(DEMO_AUTHORISER_KEY), &authoriser_key.to_pkcs8_pem())?;
    let authorisers = vec![AuthoriserFile {
        id: DEMO_AUTHORISER_ID.into(),
        role: DEMO_AUTHORISER_ROLE.into(),
        organisation: organisation(&args.coordinator),
        public_key: authoriser_key.public_key().to_base64(),
    }];
    let federation = FederationFile { name: args.name.clone(), members, authorisers };
    let federation_file = dir.join("federation.toml");
    let text = toml::to_string_pretty(&federation).context("writing the federation file")?;
    write(
        &federation_file,
        &format!(
            "# The federation file: every member, its role, where nodes listen, and the\n\
             # certificate fingerprint and Ed25519 key that identify it. Every member reads the\n\
             # same file; a peer not listed here is refused. See deploy/README.md.\n\n{text}"
        ),
    )?;
    Ok(Created { federation_file, node_configs, coordinator_config })
}

/// The dev CA's common name for a federation.
pub fn ca_common_name(federation: &str) -> String {
    format!("fedlink dev CA for {federation}")
}

/// Writes a member's TLS certificate and key and its identity key; returns the certificate
/// fingerprint and the identity public key (base64).
fn write_member_files(
    ca: &DevCa,
    member_dir: &Path,
    name: &str,
    alt_names: &[String],
) -> Result<(String, String)> {
    fs::create_dir_all(member_dir.join("tls"))
        .with_context(|| format!("creating {}", member_dir.display()))?;
    let cert = ca.issue(name, alt_names)?;
    write(&member_dir.join("tls/cert.pem"), &cert.cert_pem)?;
    write_secret(&member_dir.join("tls/key.pem"), &cert.key_pem)?;
    let identity = IdentityKey::generate().context("generating an identity key")?;
    write_secret(&member_dir.join("identity.key.pem"), &identity.to_pkcs8_pem())?;
    Ok((fingerprint(&cert.cert_der), identity.public_key().to_base64()))
}

fn ports(base: u16, count: usize, host: &str) -> Result<Vec<u16>> {
    if base != 0 {
        return (0..count)
            .map(|i| u16::try_from(usize::from(base) + i).context("port numbers run past 65535"))
            .collect();
    }
    // Bind port 0 for each node and release: free now, and very likely still free when the
    // nodes start a moment later (tests and the demo).
    let listeners = (0..count)
        .map(|_| {
            TcpListener::bind((host, 0)).with_context(|| format!("finding a free port on {host}"))
        })
        .collect::<Result<Vec<_>>>()?;
    listeners.iter().map(|l| Ok(l.local_addr().context("reading a bound port")?.port())).collect()
}

fn node_config(name: &str, listen: &str) -> String {
    format!(
        r#"# fedlink node config for {name}. Paths are relative to this file.
# Start with:  fedlink node serve --config node.toml

# This node's name in the federation file.
member = "{name}"
federation = "../federation.toml"
# Address and port to serve gRPC (mTLS only) on.
listen = "{listen}"
# Deny by default: the node refuses to start without this file.
policy = "policy.toml"
# Databases (the audit log is data/audit.db). Back this folder up.
data_dir = "data"
# Ed25519 identity key that signs this node's audit checkpoints and receipts.
identity_key = "identity.key.pem"

[tls]
# The CA that signs every member's certificate. A partner with its own CA points these three
# keys at its own files and lists its certificate's SHA-256 in the federation file.
ca_cert = "../ca/ca.pem"
cert = "tls/cert.pem"
key = "tls/key.pem"
"#
    )
}

pub(crate) fn starting_policy(name: &str, coordinator: &str) -> String {
    format!(
        r#"# Policy of node {name}. Deny by default: anything not allowed here is refused, and
# every refusal names the rule that refused it.
policy_id = "{name}-dev-1"

[accept]
# Coordinators whose signed queries this node answers.
coordinators = ["{coordinator}"]
# Purpose codes accepted (audit-privacy-legal.md §3.3).
purposes = ["SERVICE-CHECK", "HMICFRS-R2-DEATH-ANALYSIS", "SVD-SNA"]

# Lawful bases accepted, each exactly as an envelope must state it.
[[accept.lawful_bases]]
regime = "DPA-Part3"
article = "DPA s35(2)(b)"
gateway = "CDA s115"

[envelope]
# Longest envelope lifetime accepted, and the clock difference tolerated (design-review F13).
max_lifetime_s = 900
max_clock_skew_s = 120

[modes]
# Which kinds of query are enabled at all.
describe = true
# Aggregate counts, as [[aggregate]] rules allow (see deploy/README.md). Off until rules exist.
aggregate = false
# Linked counts and address linkage, as [[linkage]] rules allow. Off until rules exist.
linked_count = false
# Flag-back (one flag per cohort row, after an operator here approves). Off unless needed.
flag_back = false
# Overlap matrices across three or more agencies.
overlap = false
# Calibration runs: the computing node fits its linkage model on whole datasets and stores it,
# as [[linkage]] rules' matcher sections allow (a cohort node takes part too).
calibrate = false
"#
    )
}

fn coordinator_config_text(name: &str) -> String {
    format!(
        r#"# fedlink coordinator config for {name}. Paths are relative to this file.
# Try:  fedlink coordinator describe --config coordinator.toml

member = "{name}"
federation = "../federation.toml"
# The coordinator's own audit log (data/audit.db) and receipt store (data/receipts.db).
data_dir = "data"
identity_key = "identity.key.pem"

[tls]
ca_cert = "../ca/ca.pem"
cert = "tls/cert.pem"
key = "tls/key.pem"

# The analyst on whose behalf queries are issued (recorded in every node's log).
[requester]
officer_id = "DEMO-4821"
role = "intelligence analyst"
organisation = "DEMO-POLICE"

# What every query states unless the command line says otherwise.
[query]
purpose = "SERVICE-CHECK"
dsa_ref = "DSA-DEMO-COUNTY@1"
justification = "federation service check"
envelope_lifetime_s = 120

[query.lawful_basis]
regime = "DPA-Part3"
article = "DPA s35(2)(b)"
gateway = "CDA s115"

# Who authorises person-level requests (flag-back), and their key. The nodes check the
# signature against the authoriser listed in the federation file. In production the key is the
# authoriser's, kept on their own device, not the analyst's.
[authoriser]
id = "{DEMO_AUTHORISER_ID}"
role = "{DEMO_AUTHORISER_ROLE}"
key = "{DEMO_AUTHORISER_KEY}"
"#
    )
}

fn write(path: &Path, text: &str) -> Result<()> {
    fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Writes a file only its owner can read.
pub(crate) fn write_secret(path: &Path, text: &str) -> Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(text.as_bytes()).with_context(|| format!("writing {}", path.display()))
}

/// Print a member's federation-file entry from its certificate and identity key
#[derive(Debug, clap::Args)]
pub struct MemberArgs {
    /// Member name (letters, digits and '-')
    #[arg(long)]
    pub name: String,
    /// What the member does
    #[arg(long, value_parser = ["node", "coordinator"])]
    pub role: String,
    /// The organisation behind it
    #[arg(long)]
    pub organisation: String,
    /// Where a node serves gRPC, e.g. https://fedlink.example.org:7443 (nodes only)
    #[arg(long)]
    pub endpoint: Option<String>,
    /// The DNS name in the node's certificate, if it differs from the endpoint's host
    #[arg(long)]
    pub tls_name: Option<String>,
    /// The member's TLS certificate (PEM)
    #[arg(long)]
    pub cert: PathBuf,
    /// An existing Ed25519 identity key (PKCS#8 PEM)
    #[arg(long, conflicts_with = "new_identity_key", required_unless_present = "new_identity_key")]
    pub identity_key: Option<PathBuf>,
    /// Generate a new identity key at this path (mode 0600) and use it
    #[arg(long)]
    pub new_identity_key: Option<PathBuf>,
}

/// Runs `federation member`: prints the `[[member]]` block for the federation file.
pub fn member(args: &MemberArgs) -> Result<()> {
    let cert_pem = fs::read_to_string(&args.cert)
        .with_context(|| format!("reading {}", args.cert.display()))?;
    let der = crate::devca::first_cert_der(&cert_pem)
        .with_context(|| format!("reading {}", args.cert.display()))?;
    let key = match (&args.identity_key, &args.new_identity_key) {
        (Some(path), _) => IdentityKey::from_pkcs8_pem(
            &fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
        )
        .with_context(|| format!("reading {}", path.display()))?,
        (None, Some(path)) => {
            let key = IdentityKey::generate().context("generating an identity key")?;
            write_secret(path, &key.to_pkcs8_pem())?;
            eprintln!("wrote a new identity key to {}", path.display());
            key
        }
        (None, None) => bail!("give --identity-key or --new-identity-key"),
    };
    let role = if args.role == "node" { MemberRole::Node } else { MemberRole::Coordinator };
    if role == MemberRole::Node && args.endpoint.is_none() {
        bail!("a node needs --endpoint");
    }
    let entry = FederationFile {
        name: String::new(),
        authorisers: Vec::new(),
        members: vec![MemberFile {
            name: args.name.clone(),
            role,
            organisation: args.organisation.clone(),
            endpoint: args.endpoint.clone(),
            tls_name: args.tls_name.clone(),
            cert_sha256: fingerprint(&der),
            public_key: key.public_key().to_base64(),
        }],
    };
    let text = toml::to_string_pretty(&entry).context("formatting the entry")?;
    // Print only the [[member]] block, not the placeholder federation name.
    let block = text.split_once("[[member]]").map_or(text.as_str(), |(_, rest)| rest);
    print!("[[member]]{block}");
    Ok(())
}
