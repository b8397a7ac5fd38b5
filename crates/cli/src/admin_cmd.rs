//! `gatehouse admin …`: management-plane chores from the command line.

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use gatehouse_store::Store;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Print an `Authorization` header value for the management API (APIM's
    /// `SharedAccessSignature uid=…&ex=…&sn=…`) on one line.
    Token {
        /// The store the API serves from (default: the embedded store in the data directory,
        /// which `gatehouse serve` with no arguments uses).
        #[arg(long, value_name = "URL", env = "GATEHOUSE_STORE")]
        store: Option<String>,
        /// A file-mode gateway's keys instead (`gatehouse serve --config FILE`): they live in
        /// the data directory.
        #[arg(long, conflicts_with = "store")]
        file_mode: bool,
        /// How long the token is valid: `1h`, `30m`, `7d` ...
        #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
        ttl: std::time::Duration,
        /// Sign with the primary or the secondary access key.
        #[arg(long, default_value = "primary", value_parser = ["primary", "secondary"])]
        key: String,
        /// The identity written into the token (and recorded as the author of changes).
        #[arg(long, default_value = "integration")]
        uid: String,
        /// The key that decrypts the store's secrets (default: <data dir>/secret.key).
        #[arg(long, value_name = "FILE")]
        secret_key_file: Option<PathBuf>,
    },
    /// Print a password of the Git configuration repository (user `apim`) alone on one line,
    /// as `POST users/git/token` answers it.
    GitToken {
        /// The store the Git endpoint serves from (default: the embedded store in the data
        /// directory, which `gatehouse serve` with no arguments uses).
        #[arg(long, value_name = "URL", env = "GATEHOUSE_STORE")]
        store: Option<String>,
        /// How long the password is valid: `1h`, `30m`, `7d` ...
        #[arg(long, default_value = "1d", value_parser = humantime::parse_duration)]
        ttl: std::time::Duration,
        /// Sign with the primary or the secondary access key.
        #[arg(long, default_value = "primary", value_parser = ["primary", "secondary"])]
        key: String,
        /// The key that decrypts the store's secrets (default: <data dir>/secret.key).
        #[arg(long, value_name = "FILE")]
        secret_key_file: Option<PathBuf>,
    },
}

/// The access keys of the store at `url` (default: the embedded store).
async fn store_keys(
    url: Option<String>,
    secret_key_file: Option<&std::path::Path>,
) -> Result<gatehouse_admin::AccessKeys> {
    let url = url.unwrap_or_else(crate::file_keys::default_store_url);
    let secret = crate::data_dir::secret_key(secret_key_file)?;
    let store = Store::open(&url, secret)
        .await
        .with_context(|| format!("cannot open the store {}", crate::serve::redact_url(&url)))?;
    let k = store.access_keys().await?;
    Ok(gatehouse_admin::AccessKeys {
        primary: k.primary,
        secondary: k.secondary,
    })
}

fn chosen<'a>(keys: &'a gatehouse_admin::AccessKeys, key: &str) -> &'a gatehouse_model::Secret {
    if key == "secondary" {
        &keys.secondary
    } else {
        &keys.primary
    }
}

pub fn run(cmd: AdminCommand) -> Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async move {
        match cmd {
            AdminCommand::Token {
                store,
                file_mode,
                ttl,
                key,
                uid,
                secret_key_file,
            } => {
                if uid.is_empty() || uid.contains(['&', '\n', '=']) {
                    bail!("--uid: give a name without '&', '=' or a line break");
                }
                let keys = if file_mode {
                    crate::file_keys::file_mode_access_keys(secret_key_file.as_deref(), None)?
                } else {
                    store_keys(store, secret_key_file.as_deref()).await?
                };
                let expiry = crate::management::token_expiry(ttl);
                println!(
                    "{}",
                    gatehouse_admin::sas_token(&uid, expiry, chosen(&keys, &key))
                );
                Ok(ExitCode::SUCCESS)
            }
            AdminCommand::GitToken {
                store,
                ttl,
                key,
                secret_key_file,
            } => {
                let keys = store_keys(store, secret_key_file.as_deref()).await?;
                let expiry = crate::management::token_expiry(ttl);
                println!(
                    "{}",
                    gatehouse_admin::git_password(expiry, chosen(&keys, &key))
                );
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}
