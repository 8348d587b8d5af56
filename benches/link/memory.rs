//! Peak memory of the processes the bench starts: `VmHWM` (the resident-set high-water mark)
//! from `/proc/PID/status` — read directly for the node processes, which are still running
//! when the bench asks, and sampled every 20 ms for `fedlink coordinator link`, whose status
//! file goes when it exits.

use std::io::Read as _;
use std::process::{Child, Output};
use std::time::Duration;

use super::BoxError;

/// `VmHWM` of process `pid` in KiB, if Linux says.
pub fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Waits for `child` (stdout and stderr piped), sampling its `VmHWM` until it exits; returns
/// its output and the last (largest) sample in KiB.
pub fn output_with_peak(mut child: Child) -> Result<(Output, u64), BoxError> {
    let mut stdout = child.stdout.take().ok_or("stdout not piped")?;
    let mut stderr = child.stderr.take().ok_or("stderr not piped")?;
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        stdout.read_to_end(&mut buf).map(|_| buf)
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        stderr.read_to_end(&mut buf).map(|_| buf)
    });
    let pid = child.id();
    let mut peak = 0;
    let status = loop {
        if let Some(kib) = peak_kib(pid) {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = out_reader.join().map_err(|_| "stdout reader panicked")??;
    let stderr = err_reader.join().map_err(|_| "stderr reader panicked")??;
    Ok((Output { status, stdout, stderr }, peak))
}
