//! `fedlink witness …`: an independent witness of federation logs (design-review F14), run by a
//! partner's DPO, an auditor or the PCC. `init` makes its key, TLS certificate (from the
//! federation's development CA) and config, and prints the `[[witness]]` table to add to the
//! coordinator's and the police node's configs; `serve` runs only the Witness service over mTLS.

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use fedlink_node::witness::independent::{BoundWitness, WitnessConfigFile, WitnessSettings};
use fedlink_proto::audit::cosignature::CosignatureVerifier;
use fedlink_proto::federation::{Federation, MemberRole, TlsFiles};
use fedlink_proto::identity::IdentityKey;

use crate::cli::Outcome;
use crate::cli::federation::{ca_common_name, write_secret};
use crate::cli::node::shutdown_signal;
use crate::devca::DevCa;

/// `fedlink witness …`
#[derive(Debug, clap::Subcommand)]
pub enum WitnessCommand {
    /// Create an independent witness: cosigning key, TLS certificate, config
    Init(InitArgs),
    /// Serve the Witness service over mTLS until SIGTERM or Ctrl-C
    Serve(ServeArgs),
}

/// Create an independent witness: its cosigning key, a TLS certificate from the federation's
/// development CA, and its config; print the `[[witness]]` table for the members that push
/// their checkpoints to it
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Example (the coordinator's and the police node's logs, design-review F14):
  fedlink witness init --dir fed/dpo-witness --federation fed/federation.toml \\
      --name dpo --logs coordinator,police --listen 127.0.0.1:7600
Then add the printed [[witness]] table to fed/coordinator/coordinator.toml and
fed/police/node.toml, and run:
  fedlink witness serve --config fed/dpo-witness/witness.toml")]
pub struct InitArgs {
    /// Folder to create the witness in (must be empty or not exist)
    #[arg(long)]
    pub dir: PathBuf,
    /// The federation file (its folder's ca/ holds the development CA unless --ca-dir says)
    #[arg(long)]
    pub federation: PathBuf,
    /// Short name of the witness; its cosignatures carry fedlink.witness/FEDERATION/NAME
    #[arg(long, default_value = "witness")]
    pub name: String,
    /// Members whose logs it witnesses, comma-separated (default: every coordinator)
    #[arg(long, value_delimiter = ',')]
    pub logs: Vec<String>,
    /// Address and port to serve on; port 0 picks a free port now
    #[arg(long, default_value = "127.0.0.1:7600")]
    pub listen: String,
    /// Folder of the development CA (ca.pem, ca.key.pem) that issues its TLS certificate
    /// (default: ca/ beside the federation file)
    #[arg(long)]
    pub ca_dir: Option<PathBuf>,
}

/// Serve the Witness service over mTLS
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The witness's config file (written by `fedlink witness init`)
    #[arg(long)]
    pub config: PathBuf,
}

/// Runs a `witness` subcommand.
pub async fn run(command: &WitnessCommand) -> Result<Outcome> {
    match command {
        WitnessCommand::Init(args) => {
            init(args)?;
            Ok(Outcome::Success)
        }
        WitnessCommand::Serve(args) => {
            serve(args).await?;
            Ok(Outcome::Success)
        }
    }
}

/// What `init` made: the config file and the `[[witness]]` table for members' configs.
#[derive(Debug)]
pub struct Created {
    /// The witness's config file.
    pub config: PathBuf,
    /// The `[[witness]]` table to add to the coordinator's and nodes' configs.
    pub witness_table: String,
}

/// Runs `witness init` and prints what to do next.
pub fn init(args: &InitArgs) -> Result<Created> {
    let created = create(args)?;
    println!("created witness {:?} in {}", args.name, args.dir.display());
    println!("  config  {}", created.config.display());
    println!();
    println!(
        "Add this table to the coordinator's config and to the config of every node whose log \
         it witnesses:\n"
    );
    println!("{}", created.witness_table);
    println!("then:  fedlink witness serve --config {}", created.config.display());
    Ok(created)
}

/// Creates the witness's files without printing.
pub fn create(args: &InitArgs) -> Result<Created> {
    let dir = &args.dir;
    if dir.exists()
        && fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?.next().is_some()
    {
        bail!("{} is not empty; choose a new folder for the witness", dir.display());
    }
    if args.name.is_empty() || !args.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        bail!("--name: {:?} must use only letters, digits and '-'", args.name);
    }
    let fed_text = fs::read_to_string(&args.federation)
        .with_context(|| format!("reading {}", args.federation.display()))?;
    let federation = Federation::from_toml(&fed_text)
        .with_context(|| format!("reading {}", args.federation.display()))?;
    let logs: Vec<String> = if args.logs.is_empty() {
        federation
            .members()
            .filter(|m| m.role == MemberRole::Coordinator)
            .map(|m| m.name.clone())
            .collect()
    } else {
        args.logs.clone()
    };
    for member in &logs {
        if federation.member(member).is_none() {
            bail!("--logs: {member:?} is not a member of {}", args.federation.display());
        }
    }
    let listen = free_port(&args.listen)?;
    let host = listen.rsplit_once(':').map_or(listen.as_str(), |(h, _)| h).to_string();

    let fed_dir = args.federation.parent().unwrap_or(Path::new("."));
    let ca_dir = args.ca_dir.clone().unwrap_or_else(|| fed_dir.join("ca"));
    let ca_cert = ca_dir.join("ca.pem");
    let ca_key = ca_dir.join("ca.key.pem");
    let read = |p: &Path| fs::read_to_string(p).with_context(|| format!("reading {}", p.display()));
    let ca = DevCa::load(&ca_common_name(&federation.name), &read(&ca_cert)?, &read(&ca_key)?)
        .with_context(|| format!("loading the development CA in {}", ca_dir.display()))?;

    fs::create_dir_all(dir.join("tls")).with_context(|| format!("creating {}", dir.display()))?;
    let tls_name = format!("{}.witness.fedlink.test", args.name);
    let cert = ca.issue(&args.name, &[tls_name.clone(), host.clone()])?;
    write(&dir.join("tls/cert.pem"), &cert.cert_pem)?;
    write_secret(&dir.join("tls/key.pem"), &cert.key_pem)?;
    write(&dir.join("tls/ca.pem"), &ca.cert_pem)?;
    let key = IdentityKey::generate().context("generating the cosigning key")?;
    write_secret(&dir.join("identity.key.pem"), &key.to_pkcs8_pem())?;

    let name = format!("fedlink.witness/{}/{}", federation.name, args.name);
    let federation_path = fs::canonicalize(&args.federation)
        .with_context(|| format!("resolving {}", args.federation.display()))?;
    let config = WitnessConfigFile {
        name: name.clone(),
        federation: federation_path,
        listen: listen.clone(),
        data_dir: "data".into(),
        identity_key: "identity.key.pem".into(),
        logs,
        tls: TlsFiles {
            ca_cert: "tls/ca.pem".into(),
            cert: "tls/cert.pem".into(),
            key: "tls/key.pem".into(),
        },
    };
    let config_path = dir.join("witness.toml");
    let text = toml::to_string_pretty(&config).context("writing the witness config")?;
    write(
        &config_path,
        &format!(
            "# fedlink independent witness. Paths are relative to this file.\n\
             # Start with:  fedlink witness serve --config witness.toml\n\
             # `logs` names the members whose audit logs it witnesses; `name` is what its\n\
             # cosignatures carry. Its state (the last checkpoint cosigned of each log, and\n\
             # alarms) is data/witness.db: back it up, never roll it back.\n\n{text}"
        ),
    )?;
    let vkey = CosignatureVerifier::new(&name, key.public_key()).to_vkey();
    let witness_table = format!(
        "[[witness]]\nname = \"{}\"\naddress = \"https://{listen}\"\ntls_name = \"{tls_name}\"\n\
         vkey = \"{vkey}\"\n",
        args.name
    );
    Ok(Created { config: config_path, witness_table })
}

/// Turns `HOST:0` into `HOST:PORT` with a port free now; other addresses are kept.
fn free_port(listen: &str) -> Result<String> {
    let Some((host, "0")) = listen.rsplit_once(':') else {
        return Ok(listen.to_string());
    };
    let port = TcpListener::bind((host, 0))
        .and_then(|l| l.local_addr())
        .with_context(|| format!("--listen: finding a free port on {host}"))?
        .port();
    Ok(format!("{host}:{port}"))
}

fn write(path: &Path, text: &str) -> Result<()> {
    fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

/// Loads the config, opens the state, binds, and serves until a shutdown signal.
pub async fn serve(args: &ServeArgs) -> Result<()> {
    let settings = WitnessSettings::load(&args.config)?;
    let name = settings.name.clone();
    let witness = BoundWitness::bind(settings).await?;
    let shutdown = shutdown_signal().context("installing signal handlers")?;
    // The line tests and scripts wait for; everything else goes to the tracing log.
    println!(
        "fedlink witness {name} listening on {}, witnessing {}",
        witness.local_addr(),
        witness.origins().join(", ")
    );
    witness.serve(shutdown).await.context("serving")?;
    Ok(())
}
