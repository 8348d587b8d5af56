//! The `fedlink` binary as the bench drives it: one-shot commands, and node processes started,
//! awaited until they listen, and stopped (SIGTERM, then kill) when dropped. The same steps as
//! `src/cli/demo.rs` and `tests/util.rs`, which a bench cannot call: the root package has no
//! library.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::BoxError;

/// Runs `fedlink ARGS` to completion and returns its standard output; an error carries its
/// output.
pub fn fedlink(exe: &Path, args: &[&str]) -> Result<String, BoxError> {
    let out =
        Command::new(exe).args(args).env("FEDLINK_LOG", "warn").stdin(Stdio::null()).output()?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    Err(format!(
        "fedlink {}: {}\n{}{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
    .into())
}

/// Node processes, stopped (SIGTERM, then kill) when dropped.
pub struct Nodes(pub Vec<(String, Child)>);

impl Nodes {
    /// Stops every node; returns each name with whether it stopped gracefully.
    pub fn stop(&mut self) -> Vec<(String, bool)> {
        for (_, child) in &mut self.0 {
            if let Ok(pid) = i32::try_from(child.id()) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGTERM,
                );
            }
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut stopped = Vec::new();
        for (name, child) in &mut self.0 {
            loop {
                match child.try_wait() {
                    Ok(Some(status)) => {
                        stopped.push((name.clone(), status.success()));
                        break;
                    }
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    _ => {
                        let _ = child.kill();
                        let _ = child.wait();
                        stopped.push((name.clone(), false));
                        break;
                    }
                }
            }
        }
        self.0.clear();
        stopped
    }
}

impl Drop for Nodes {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// Starts `fedlink node serve`, its log in `node.log` beside its config.
pub fn start_node(exe: &Path, name: &str, config: &Path) -> Result<Child, BoxError> {
    let log = std::fs::File::create(config.with_file_name("node.log"))?;
    Command::new(exe)
        .args(["node", "serve", "--config"])
        .arg(config)
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting node {name}: {e}").into())
}

/// Waits for the node's "listening on" line.
pub fn wait_ready(name: &str, child: &mut Child) -> Result<String, BoxError> {
    let stdout = child.stdout.take().ok_or("node stdout")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(line) if line.contains("listening on") => return Ok(line),
            Ok(_) => {}
            Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!("node {name} exited during start-up ({status})").into());
                }
            }
            Err(_) => return Err(format!("node {name} did not start within 30 s").into()),
        }
    }
}
