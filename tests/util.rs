//! Test helpers: a fresh federation in a temporary folder, real `fedlink` node processes on
//! loopback ports, the CLI as a process, and a hand-driven coordinator client for requests the
//! real coordinator would never send.

#![allow(dead_code)]

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use fedlink_coordinator::client::{ClientTls, connect, connect_channel};
use fedlink_proto::clock::UnixMillis;
use fedlink_proto::envelope::{
    Envelope, LawfulBasis, Mode, NodeRole, Participant, QueryBody, QueryId, Requester, SessionId,
};
use fedlink_proto::federation::{Federation, Member};
use fedlink_proto::identity::IdentityKey;
use fedlink_proto::pb;
use fedlink_proto::pb::node_client::NodeClient;
use tonic::transport::Channel;

/// The `fedlink` binary under test.
pub fn fedlink() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fedlink"));
    cmd.env("FEDLINK_LOG", "warn");
    cmd
}

/// Runs `fedlink ARGS` to completion.
pub fn run(args: &[&str]) -> Output {
    fedlink().args(args).stdin(Stdio::null()).output().expect("fedlink runs")
}

/// Stdout and stderr of an output, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A federation made by `fedlink federation init` in a temporary folder.
pub struct TestFederation {
    /// Keeps the folder alive.
    pub tmp: tempfile::TempDir,
    /// The federation folder.
    pub dir: PathBuf,
}

impl TestFederation {
    /// `fedlink federation init --dir … --base-port 0`.
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("fed");
        let out =
            run(&["federation", "init", "--dir", dir.to_str().expect("utf8"), "--base-port", "0"]);
        assert!(out.status.success(), "init failed: {}", text(&out));
        Self { tmp, dir }
    }

    /// A member's folder.
    pub fn member_dir(&self, member: &str) -> PathBuf {
        self.dir.join(member)
    }

    /// A node's config file.
    pub fn node_config(&self, node: &str) -> PathBuf {
        self.dir.join(node).join("node.toml")
    }

    /// The coordinator's config file.
    pub fn coordinator_config(&self) -> PathBuf {
        self.dir.join("coordinator/coordinator.toml")
    }

    /// A member's audit log.
    pub fn audit_log(&self, member: &str) -> PathBuf {
        self.dir.join(member).join("data/audit.db")
    }

    /// The parsed federation file.
    pub fn federation(&self) -> Federation {
        let text = std::fs::read_to_string(self.dir.join("federation.toml")).expect("read");
        Federation::from_toml(&text).expect("parse")
    }

    /// A member as listed.
    pub fn member(&self, name: &str) -> Member {
        self.federation().member(name).expect("member").clone()
    }

    /// Starts a node process and waits until it listens.
    pub fn start_node(&self, node: &str) -> NodeProcess {
        NodeProcess::start(node, &self.node_config(node))
    }

    /// Appends a line to a node's config file.
    pub fn append_to_node_config(&self, node: &str, line: &str) {
        let path = self.node_config(node);
        let mut text = std::fs::read_to_string(&path).expect("read");
        // Top-level keys must come before the first table.
        text = text.replacen("[tls]", &format!("{line}\n\n[tls]"), 1);
        std::fs::write(&path, text).expect("write");
    }

    /// `fedlink audit verify` on a member's log, pinned to the federation file's key.
    pub fn verify_log(&self, member: &str) -> Output {
        run(&[
            "audit",
            "verify",
            "--log",
            self.audit_log(member).to_str().expect("utf8"),
            "--federation",
            self.dir.join("federation.toml").to_str().expect("utf8"),
            "--member",
            member,
        ])
    }

    /// The TLS files of a member, as a client would present them.
    pub fn client_tls(&self, member: &str) -> ClientTls {
        let d = self.member_dir(member);
        ClientTls {
            ca_pem: read(&self.dir.join("ca/ca.pem")),
            cert_pem: Some(read(&d.join("tls/cert.pem"))),
            key_pem: Some(read(&d.join("tls/key.pem"))),
        }
    }

    /// A member's identity key.
    pub fn identity(&self, member: &str) -> IdentityKey {
        IdentityKey::from_pkcs8_pem(&read(&self.member_dir(member).join("identity.key.pem")))
            .expect("identity key")
    }

    /// A gRPC client to `node` presenting `tls`.
    pub async fn client(&self, node: &str, tls: &ClientTls) -> NodeClient<Channel> {
        connect(&self.member(node), tls).await.expect("connect")
    }

    /// A raw channel to `node` presenting `tls` (for health and reflection).
    pub async fn channel(&self, node: &str, tls: &ClientTls) -> Channel {
        connect_channel(&self.member(node), tls).await.expect("connect")
    }

    /// A well-formed describe envelope from the coordinator to `node`, issued now.
    pub fn envelope(&self, node: &str) -> Envelope {
        let now = now();
        Envelope {
            query_id: QueryId::new_v7(now),
            session_id: SessionId::random().expect("rng"),
            audience: node.into(),
            role: NodeRole::Responder,
            mode: Mode::Describe,
            participants: vec![Participant { member: node.into(), role: NodeRole::Responder }],
            issued_at: now,
            expires_at: now.plus_ms(60_000),
            coordinator: "coordinator".into(),
            requester: Requester {
                officer_id: "TEST-1".into(),
                role: "analyst".into(),
                organisation: "DEMO-POLICE".into(),
            },
            purpose: "SERVICE-CHECK".into(),
            lawful_basis: LawfulBasis {
                regime: "DPA-Part3".into(),
                article: "DPA s35(2)(b)".into(),
                gateway: "CDA s115".into(),
            },
            dsa_ref: "DSA-DEMO-COUNTY@1".into(),
            case_ref: None,
            justification: "test".into(),
            authorisation: None,
            known_log_size: 0,
            body: QueryBody::Describe,
        }
    }
}

/// The wall clock as the protocol reads it.
pub fn now() -> UnixMillis {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis();
    UnixMillis(i64::try_from(ms).expect("fits"))
}

/// Reads a file to a string.
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// A running `fedlink node serve` process, stopped with SIGTERM when dropped.
pub struct NodeProcess {
    /// The node's member name.
    pub name: String,
    child: Option<Child>,
    stderr_path: PathBuf,
}

impl NodeProcess {
    /// Starts the node and waits for its "listening on" line.
    pub fn start(name: &str, config: &Path) -> Self {
        Self::start_with_env(name, config, &[])
    }

    /// As [`NodeProcess::start`], with extra environment variables.
    pub fn start_with_env(name: &str, config: &Path, env: &[(&str, &str)]) -> Self {
        let stderr_path = config.with_file_name(format!("node-{}.log", std::process::id()));
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&stderr_path)
            .expect("log file");
        let mut child = fedlink()
            .args(["node", "serve", "--config"])
            .arg(config)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn node");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(line) if line.contains("listening on") => break,
                Ok(_) => {}
                Err(_) => {
                    if let Ok(Some(status)) = child.try_wait() {
                        panic!("node {name} exited ({status}): {}", read(&stderr_path));
                    }
                    assert!(Instant::now() < deadline, "node {name} did not start");
                }
            }
        }
        Self { name: name.into(), child: Some(child), stderr_path }
    }

    /// Sends SIGTERM and waits; returns whether it exited successfully.
    pub fn stop(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return true;
        };
        let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).expect("pid"));
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return status.success();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGKILL and reaps the process: a crash, with no chance to finish anything.
    pub fn kill_hard(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// What the node wrote to stderr.
    pub fn stderr(&self) -> String {
        read(&self.stderr_path)
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Every entry of an audit log, decoded.
pub fn audit_entries(log: &Path) -> Vec<pb::AuditEntry> {
    let conn =
        rusqlite::Connection::open_with_flags(log, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("open log");
    let mut stmt = conn.prepare("SELECT entry FROM log_entry ORDER BY idx").expect("prepare");
    let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0)).expect("query");
    rows.map(|bytes| {
        fedlink_proto::audit::entry::decode_entry(&bytes.expect("row")).expect("decodes")
    })
    .collect()
}

/// The last entry of an audit log.
pub fn last_entry(log: &Path) -> pb::AuditEntry {
    audit_entries(log).pop().expect("log has entries")
}

/// Builds a tokio runtime for a test.
pub fn runtime() -> tokio::runtime::Runtime {
    let _ = rustls::crypto::ring::default_provider().install_default();
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}
