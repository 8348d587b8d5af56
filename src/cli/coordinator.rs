//! `fedlink coordinator describe`: ask every node to describe itself, verify the receipts, and
//! print a table that says plainly which nodes are down.

use std::path::PathBuf;

use anyhow::Result;
use fedlink_coordinator::config::CoordinatorSettings;
use fedlink_coordinator::coordinator::{Coordinator, QueryOverrides};
use fedlink_coordinator::describe::{describe_all, render};

use crate::cli::Outcome;

/// Ask every node to describe itself with a signed request, and verify each receipt
#[derive(Debug, clap::Args)]
pub struct DescribeArgs {
    /// The coordinator's config file
    #[arg(long)]
    pub config: PathBuf,
    /// Purpose code to state instead of the configured one
    #[arg(long)]
    pub purpose: Option<String>,
}

/// Runs `describe`. Exit 0 when every node answered with a verified receipt, 1 otherwise.
pub async fn describe(args: &DescribeArgs) -> Result<Outcome> {
    let settings = CoordinatorSettings::load(&args.config)?;
    let coordinator = Coordinator::open(settings)?;
    let overrides = QueryOverrides { purpose: args.purpose.clone() };
    let rows = describe_all(&coordinator, &overrides).await;
    print!("{}", render(&rows));
    let answered = rows.iter().filter(|r| r.ok()).count();
    println!("\n{answered} of {} nodes answered with a verified receipt", rows.len());
    Ok(if answered == rows.len() { Outcome::Success } else { Outcome::CheckFailed })
}
