//! `gatehouse store import FILE --store URL` and `gatehouse store export --store URL`: a
//! config file into the store as one revision, and the store's newest config back out.

use crate::data_dir;
use anyhow::{Context, Result};
use gatehouse_store::Store;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum StoreCommand {
    /// Validate a config file (as `config validate` does) and make it the store's next
    /// revision; on any error print every one and write nothing.
    Import {
        /// The config file (YAML or JSON).
        file: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Print the store's newest config (secrets in clear: it is your own config).
    Export {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long, default_value = "yaml", value_parser = ["yaml", "json"])]
        format: String,
    },
}

#[derive(clap::Args)]
pub struct StoreArgs {
    /// sqlite://PATH or postgres://USER:PASS@HOST:PORT/DB
    #[arg(long, env = "GATEHOUSE_STORE", value_name = "URL")]
    store: String,
    /// The key that encrypts secrets in the store (64 hex characters or 32 bytes); default:
    /// secret.key in the data directory, created if missing.
    #[arg(long, value_name = "FILE")]
    secret_key_file: Option<PathBuf>,
}

pub fn run(cmd: StoreCommand) -> Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    match cmd {
        StoreCommand::Import { file, store } => rt.block_on(import(&file, &store)),
        StoreCommand::Export { store, format } => rt.block_on(export(&store, &format)),
    }
}

async fn open(args: &StoreArgs) -> Result<Store> {
    let key = data_dir::secret_key(args.secret_key_file.as_deref())?;
    Ok(Store::open(&args.store, key).await?)
}

async fn import(file: &Path, args: &StoreArgs) -> Result<ExitCode> {
    // Validated before the store is even opened: an invalid file writes nothing.
    let validated = match crate::check_file(file) {
        Ok(v) => v,
        Err(refusal) => {
            for line in &refusal.lines {
                eprintln!("{}: {line}", file.display());
            }
            eprintln!("{}: not imported", file.display());
            return Ok(ExitCode::FAILURE);
        }
    };
    for warning in &validated.warnings {
        eprintln!("{}: {warning}", file.display());
    }
    let store = open(args).await?;
    let before = store.revision().await?;
    let actor = format!(
        "cli:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    );
    let revision = store.import(&validated.config, &actor).await?;
    if revision == before {
        println!(
            "{}: unchanged, the store is at revision {revision}",
            file.display()
        );
    } else {
        println!("{}: imported as revision {revision}", file.display());
    }
    Ok(ExitCode::SUCCESS)
}

async fn export(args: &StoreArgs, format: &str) -> Result<ExitCode> {
    let store = open(args).await?;
    let Some((config, revision)) = store.load().await? else {
        anyhow::bail!("the store is empty: nothing was imported yet (gatehouse store import FILE)");
    };
    let text = if format == "json" {
        serde_json::to_string_pretty(&config)? + "\n"
    } else {
        format!(
            "# gatehouse store export, revision {revision}\n{}",
            yaml_serde::to_string(&config)?
        )
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}
