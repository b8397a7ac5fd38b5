//! `gatehouse policy check FILE_OR_DIR... [--json]`: loads each APIM policy document (policies
//! or fragment) as the gateway would, and reports per file `ok` or its errors with line, column,
//! kind and policy, plus the policies it uses that gatehouse cannot or does not yet run.

use anyhow::Result;
use gatehouse_policy::document::{CheckOutput, check_paths};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum PolicyCommand {
    /// Check policy XML files (directories are walked for *.xml); exit 1 if any fails.
    Check {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: PolicyCommand) -> Result<ExitCode> {
    let PolicyCommand::Check { paths, json } = cmd;
    let reports = check_paths(&paths);
    if json {
        println!(
            "{}",
            serde_json::to_string(&CheckOutput { files: &reports })?
        );
    } else {
        for r in &reports {
            if r.ok {
                println!("{}: ok", r.path.display());
            } else {
                println!("{}: failed", r.path.display());
                for e in &r.errors {
                    println!("  {e}");
                }
            }
            if !r.unsupported.is_empty() {
                println!("  not run by gatehouse: {}", r.unsupported.join(", "));
            }
        }
        let passed = reports.iter().filter(|r| r.ok).count();
        println!("{passed} of {} file(s) ok", reports.len());
    }
    Ok(if reports.iter().all(|r| r.ok) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
