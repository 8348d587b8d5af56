//! The `fedlink` binary: parse the command line, run the subcommand, print errors as one line
//! with a `fedlink:` prefix, and exit with a documented code (see `cli`).

use std::process::ExitCode;

use clap::Parser as _;
use fedlink::cli::{Cli, Outcome, init_logging, run};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    // rustls panics if two crypto providers are compiled in and none is chosen; choose ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fedlink: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::CheckFailed) => ExitCode::from(1),
        Err(e) => {
            eprintln!("fedlink: {e:#}");
            ExitCode::from(2)
        }
    }
}
