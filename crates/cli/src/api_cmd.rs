//! `gatehouse api import`: an OpenAPI (3.0, 3.1) or Swagger 2.0 document into a store, as the
//! management API's `PUT apis/{a}` with an import `format` does — the same reading, mapping and
//! errors (crates/admin/src/oas/), the same whole-config check, one revision.

use anyhow::{Context, Result, anyhow, bail};
use clap::Subcommand;
use gatehouse_admin::oas;
use gatehouse_model::Config;
use gatehouse_store::Store;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Subcommand)]
pub enum ApiCommand {
    /// Import an OpenAPI/Swagger document (a file, or an http(s) URL fetched through the
    /// configuration's egress rules) as an API: its operations come from the document's paths.
    Import {
        /// The document: a path, or an http:// or https:// URL.
        source: String,
        #[arg(long, value_name = "URL", env = "GATEHOUSE_STORE")]
        store: String,
        /// The API's URL prefix (`pets` → `/pets/...`).
        #[arg(long)]
        path: String,
        /// The API's id (default: from the document's title, else the path).
        #[arg(long)]
        id: Option<String>,
        /// The backend (default: the document's servers[0], or host and basePath).
        #[arg(long, value_name = "URL")]
        service_url: Option<String>,
        /// The key of the store's encrypted secrets (default: <data dir>/secret.key).
        #[arg(long, value_name = "FILE")]
        secret_key_file: Option<PathBuf>,
    },
}

pub fn run(cmd: ApiCommand) -> Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async move {
        let ApiCommand::Import {
            source,
            store,
            path,
            id,
            service_url,
            secret_key_file,
        } = cmd;
        let key = crate::data_dir::secret_key(secret_key_file.as_deref())?;
        let store_handle = Store::open(&store, key).await.with_context(|| {
            format!("cannot open the store {}", crate::serve::redact_url(&store))
        })?;
        let (mut config, revision) = store_handle.load().await?.ok_or_else(|| {
            anyhow!(
                "the store holds no configuration yet (gatehouse store import FILE --store URL)"
            )
        })?;
        let bytes = read_source(&source, &config).await?;
        let document =
            oas::import::parse(&bytes).map_err(|e| anyhow!("{source}: {}", e.message))?;
        let imported = match oas::import::import(&document) {
            Ok(i) => i,
            Err(e) => {
                let place = if e.target.is_empty() {
                    String::new()
                } else {
                    format!(" at {}", e.target)
                };
                eprintln!("{source}{place}: {}", e.message);
                return Ok(ExitCode::FAILURE);
            }
        };
        let id = id
            .or_else(|| imported.title.as_deref().map(oas::import::sanitize))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| oas::import::sanitize(&path));
        let backend = service_url
            .or_else(|| {
                config
                    .apis
                    .iter()
                    .find(|a| a.id == id)
                    .map(|a| a.backend.clone())
            })
            .or_else(|| imported.service_url.clone())
            .ok_or_else(|| anyhow!("{source} names no server: give --service-url"))?;
        upsert_api(&mut config, &id, &path, &backend, &imported)?;
        oas::apply_import(&mut config, &id, &imported);
        let check = crate::serve::config_check(Vec::new(), None, true);
        if let Err(problems) = check(&config) {
            for p in &problems {
                eprintln!("error: {}: {}", p.path, p.message);
            }
            eprintln!("nothing imported");
            return Ok(ExitCode::FAILURE);
        }
        let summary = format!("api import {id} ({} operations)", imported.operations.len());
        let rev = store_handle
            .commit(&config, revision, "gatehouse api import", &summary)
            .await?;
        println!(
            "{source}: API '{id}' at /{path} with {} operations (revision {rev})",
            imported.operations.len()
        );
        Ok(ExitCode::SUCCESS)
    })
}

/// The document's bytes: a file, or a URL fetched by a gateway compiled from the store's
/// configuration, so its egress rules decide what may be reached.
async fn read_source(source: &str, config: &Config) -> Result<Vec<u8>> {
    if !(source.starts_with("http://") || source.starts_with("https://")) {
        return std::fs::read(source).with_context(|| format!("cannot read {source}"));
    }
    let validated = crate::serve::config_check(Vec::new(), None, false)(config).map_err(|_| {
        anyhow!("the store's configuration does not load: cannot apply its egress rules")
    })?;
    let gateway = gatehouse_gateway::Gateway::new(&validated).map_err(|e| anyhow!("{e}"))?;
    let request = gatehouse_policy::http::HttpRequest::get(source, Duration::from_secs(30));
    let response = gateway
        .http_client()
        .send(request)
        .await
        .map_err(|e| anyhow!("cannot fetch {source}: {e}"))?;
    if !(200..300).contains(&response.status) {
        bail!("{source} answered {} {}", response.status, response.reason);
    }
    Ok(response.body)
}

/// Creates API `id` (or updates its path and backend), with the document's title and
/// description where it has none.
fn upsert_api(
    config: &mut Config,
    id: &str,
    path: &str,
    backend: &str,
    imported: &oas::Imported,
) -> Result<()> {
    if let Some(api) = config.apis.iter_mut().find(|a| a.id == id) {
        api.path = path.to_string();
        api.backend = backend.to_string();
        return Ok(());
    }
    let api = serde_json::from_value(serde_json::json!({
        "id": id,
        "path": path,
        "backend": backend,
        "display_name": imported.title,
        "description": imported.description,
    }))
    .context("the new API")?;
    config.apis.push(api);
    Ok(())
}
