//! The local admin socket of a running gateway: a Unix socket (mode 0600) through which
//! `gatehouse net apply` asks for the config file to be applied now and gets back what changed.
//! One request per connection: the line `apply`, answered by one JSON line.
//!
//! Who may talk to whom: the default socket lives in a directory private to the user running
//! the gateway (see [`Location`]); the gateway answers only its own uid and root, and `net
//! apply` believes only a gateway running as its own uid or root (the peer's credentials, as
//! the kernel reports them, on both sides). The socket is removed when the gateway stops.

use crate::private_dir::{self, PrivateDirError, euid, trusted_uid};
use anyhow::{Context, Result, bail};
use gatehouse_gateway::Gateway;
use std::net::SocketAddr;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::task::AbortHandle;

/// The longest request line read (`apply` and a newline; anything longer is not a request).
const MAX_REQUEST_BYTES: u64 = 64;
/// How long a connected client has to send its request line.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Pause after a failed accept (e.g. out of file descriptors): retrying at once would spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Where the admin socket of a gateway is.
#[derive(Debug, Clone)]
pub struct Location {
    pub socket: PathBuf,
    /// The private directory the socket lives in when it is the default one; `None` for an
    /// explicit `--admin-socket` (the user chose the place).
    private_dir: Option<PathBuf>,
}

impl Location {
    /// `explicit` when given, else the default for a gateway serving `config`: in the runtime
    /// directory (`$XDG_RUNTIME_DIR/gatehouse`), else in `<temp dir>/gatehouse-<uid>`, named
    /// after the config file's absolute path (FNV-1a, written out here because std's hasher is
    /// not stable across builds and both sides must agree).
    pub fn for_config(config: &Path, explicit: Option<PathBuf>) -> Location {
        if let Some(socket) = explicit {
            return Location {
                socket,
                private_dir: None,
            };
        }
        let abs = std::fs::canonicalize(config).unwrap_or_else(|_| config.to_path_buf());
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in abs.as_os_str().as_encoded_bytes() {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        let dir = default_dir();
        Location {
            socket: dir.join(format!("{h:016x}.sock")),
            private_dir: Some(dir),
        }
    }
}

/// The directory default admin sockets live in. The runtime directory is private to its user
/// by definition (XDG Base Directory spec); an unset, relative or missing one is ignored, as
/// the spec says, for a per-user directory in the temp dir.
fn default_dir() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) {
        Some(run) if run.is_absolute() && run.is_dir() => run.join("gatehouse"),
        _ => std::env::temp_dir().join(format!("gatehouse-{}", euid())),
    }
}

/// The admin socket of this gateway; closing (or dropping) it stops answering and removes the
/// socket file.
#[derive(Debug)]
pub struct AdminSocket {
    path: PathBuf,
    /// The socket file's (device, inode): only the file this gateway made is removed, never one
    /// a later gateway put at the same path.
    file: (u64, u64),
    accept: AbortHandle,
}

impl AdminSocket {
    /// Stops answering and removes the socket file. Idempotent.
    pub fn close(&self) {
        self.accept.abort();
        let ours = std::fs::symlink_metadata(&self.path)
            .is_ok_and(|m| m.file_type().is_socket() && (m.dev(), m.ino()) == self.file);
        if ours {
            match std::fs::remove_file(&self.path) {
                Ok(()) => tracing::info!(socket = %self.path.display(), "admin socket removed"),
                Err(e) => {
                    tracing::warn!(socket = %self.path.display(), error = %e, "cannot remove the admin socket")
                }
            }
        }
    }
}

impl Drop for AdminSocket {
    fn drop(&mut self) {
        self.close();
    }
}

/// Serves the admin socket at `location` for the gateway serving `config`.
pub async fn serve(
    location: Location,
    gateway: Gateway,
    config: PathBuf,
    listen: Vec<SocketAddr>,
) -> Result<AdminSocket> {
    let path = location.socket;
    if let Some(dir) = &location.private_dir {
        private_dir::ensure(dir).context("the admin socket's directory cannot be trusted")?;
    }
    match std::fs::symlink_metadata(&path) {
        Ok(meta) if !meta.file_type().is_socket() => bail!(
            "{} exists and is not a socket: it is left alone",
            path.display()
        ),
        Ok(_) => {
            if UnixStream::connect(&path).await.is_ok() {
                bail!(
                    "another gateway already answers on the admin socket {}",
                    path.display()
                );
            }
            // A stale socket of a gateway that is gone.
            std::fs::remove_file(&path).with_context(|| {
                format!("cannot remove the stale admin socket {}", path.display())
            })?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot inspect {}", path.display())),
    }
    let listener = UnixListener::bind(&path)
        .with_context(|| format!("cannot create the admin socket {}", path.display()))?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot restrict {}", path.display()))?;
    let meta = std::fs::symlink_metadata(&path)
        .with_context(|| format!("cannot inspect {}", path.display()))?;
    tracing::info!(socket = %path.display(), "admin socket ready (gatehouse net apply)");
    let task = tokio::spawn(async move {
        loop {
            let stream = match listener.accept().await {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::debug!(error = %e, "admin socket: accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            };
            let (gateway, config, listen) = (gateway.clone(), config.clone(), listen.clone());
            tokio::spawn(async move { answer(stream, gateway, config, listen).await });
        }
    });
    Ok(AdminSocket {
        path,
        file: (meta.dev(), meta.ino()),
        accept: task.abort_handle(),
    })
}

/// Answers one admin connection, if its peer is trusted.
async fn answer(stream: UnixStream, gateway: Gateway, config: PathBuf, listen: Vec<SocketAddr>) {
    let peer = stream.peer_cred();
    let (read, mut write) = stream.into_split();
    let answer = match peer {
        Ok(peer) if trusted_uid(peer.uid()) => {
            let mut line = String::new();
            let mut reader = BufReader::new(read).take(MAX_REQUEST_BYTES);
            match tokio::time::timeout(REQUEST_TIMEOUT, reader.read_line(&mut line)).await {
                Ok(Ok(_)) => {}
                _ => return,
            }
            match line.trim() {
                "apply" => crate::reload::reload(&gateway, &config, &listen, "net apply"),
                other => {
                    serde_json::json!({ "ok": false, "errors": [format!("unknown request '{}': expected 'apply'", other.escape_debug())] })
                }
            }
        }
        Ok(peer) => {
            let me = euid();
            tracing::warn!(
                uid = peer.uid(),
                pid = peer.pid(),
                "admin request refused: only this gateway's user (uid {me}) and root may apply"
            );
            serde_json::json!({ "ok": false, "errors": [format!(
                "this gateway (uid {me}) takes admin requests from its own user and root only, not from uid {}",
                peer.uid()
            )] })
        }
        Err(e) => {
            tracing::warn!(error = %e, "admin request refused: the peer's credentials are unknown");
            return;
        }
    };
    let _ = write.write_all(format!("{answer}\n").as_bytes()).await;
}

/// `gatehouse net apply`: asks the gateway serving `config` to apply it now.
pub async fn apply(config: &Path, socket: Option<PathBuf>) -> Result<serde_json::Value> {
    let location = Location::for_config(config, socket);
    let path = &location.socket;
    let no_gateway = || {
        format!(
            "no running gateway answers for {} (admin socket {})",
            config.display(),
            path.display()
        )
    };
    if let Some(dir) = &location.private_dir {
        match private_dir::check(dir) {
            Ok(()) => {}
            Err(e @ PrivateDirError::Missing { .. }) => return Err(e).context(no_gateway()),
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("refusing the admin socket {}", path.display()));
            }
        }
    }
    let stream = UnixStream::connect(path).await.with_context(no_gateway)?;
    let peer = stream
        .peer_cred()
        .with_context(|| format!("cannot tell who serves the admin socket {}", path.display()))?;
    if !trusted_uid(peer.uid()) {
        bail!(
            "refusing the admin socket {}: it is served by uid {}{}, not by this user (uid {}) or root; another user may have put it there",
            path.display(),
            peer.uid(),
            peer.pid()
                .map(|p| format!(" (pid {p})"))
                .unwrap_or_default(),
            euid()
        );
    }
    let (read, mut write) = stream.into_split();
    // A gateway that refuses this user answers without reading the request: its answer is
    // still read when sending failed.
    let sent = write.write_all(b"apply\n").await;
    let mut line = String::new();
    let read = BufReader::new(read).read_line(&mut line).await;
    if line.is_empty() {
        sent.context("cannot send the request")?;
        read.context("no answer from the gateway")?;
        bail!("no answer from the gateway");
    }
    serde_json::from_str(line.trim()).with_context(|| format!("not a JSON answer: {line}"))
}
