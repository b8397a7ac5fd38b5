//! The local admin socket of a running gateway: a Unix socket (mode 0600) through which
//! `gatehouse net apply` asks for the config file to be applied now and gets back what changed.
//! One request per connection: the line `apply`, answered by one JSON line.

use anyhow::{Context, Result, bail};
use gatehouse_gateway::Gateway;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

/// Where the admin socket of a gateway serving `config` lives unless `--admin-socket` says:
/// the temp directory, named after the config file's absolute path (FNV-1a, written out here
/// because std's hasher is not stable across builds and both sides must agree).
pub fn default_socket(config: &Path) -> PathBuf {
    let abs = std::fs::canonicalize(config).unwrap_or_else(|_| config.to_path_buf());
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in abs.as_os_str().as_encoded_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    std::env::temp_dir().join(format!("gatehouse-{h:016x}.sock"))
}

/// Serves the admin socket at `path` for the gateway serving `config`.
pub async fn serve(
    path: PathBuf,
    gateway: Gateway,
    config: PathBuf,
    listen: Vec<SocketAddr>,
) -> Result<()> {
    if path.exists() {
        if UnixStream::connect(&path).await.is_ok() {
            bail!(
                "another gateway already answers on the admin socket {}",
                path.display()
            );
        }
        // A stale socket of a gateway that is gone.
        std::fs::remove_file(&path)
            .with_context(|| format!("cannot remove the stale admin socket {}", path.display()))?;
    }
    let listener = UnixListener::bind(&path)
        .with_context(|| format!("cannot create the admin socket {}", path.display()))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot restrict {}", path.display()))?;
    tracing::info!(socket = %path.display(), "admin socket ready (gatehouse net apply)");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (gateway, config, listen) = (gateway.clone(), config.clone(), listen.clone());
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut line = String::new();
                let mut reader = BufReader::new(read);
                if reader.read_line(&mut line).await.is_err() {
                    return;
                }
                let answer = match line.trim() {
                    "apply" => crate::reload::reload(&gateway, &config, &listen, "net apply"),
                    other => {
                        serde_json::json!({ "ok": false, "errors": [format!("unknown request '{other}': expected 'apply'")] })
                    }
                };
                let _ = write.write_all(format!("{answer}\n").as_bytes()).await;
            });
        }
    });
    Ok(())
}

/// `gatehouse net apply`: asks the gateway serving `config` to apply it now.
pub async fn apply(config: &Path, socket: Option<PathBuf>) -> Result<serde_json::Value> {
    let path = socket.unwrap_or_else(|| default_socket(config));
    let stream = UnixStream::connect(&path).await.with_context(|| {
        format!(
            "no running gateway answers for {} (admin socket {})",
            config.display(),
            path.display()
        )
    })?;
    let (read, mut write) = stream.into_split();
    write
        .write_all(b"apply\n")
        .await
        .context("cannot send the request")?;
    let mut line = String::new();
    BufReader::new(read)
        .read_line(&mut line)
        .await
        .context("no answer from the gateway")?;
    serde_json::from_str(line.trim()).with_context(|| format!("not a JSON answer: {line}"))
}
