//! The pre-receive hook: how a push asks the running server whether it may land.
//!
//! `git receive-pack` (run by `git http-backend` for a push) runs the repository's
//! `hooks/pre-receive` before it moves any ref, with the pushed objects still in quarantine.
//! The hook is the `gatehouse` binary itself (`gatehouse git-hook pre-receive`): it sends the
//! ref updates and where the quarantined objects are to the server over a Unix socket in the
//! repository's private directory, with the push's one-time token, and prints the server's
//! answer — every error, with its file and line — which git shows the pusher as `remote:` lines.
//! A non-zero exit refuses the push, and git then leaves every ref as it was.

use crate::repo::ObjectEnv;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};

/// Environment the server gives a push (inherited by its hook).
pub const SOCKET_ENV: &str = "GATEHOUSE_HOOK_SOCKET";
pub const TOKEN_ENV: &str = "GATEHOUSE_HOOK_TOKEN";
pub const EXE_ENV: &str = "GATEHOUSE_EXE";
/// The largest message either side reads.
const MAX_MESSAGE: u64 = 1024 * 1024;

/// One ref a push moves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefUpdate {
    pub old: String,
    pub new: String,
    pub name: String,
}

/// What the hook sends.
#[derive(Debug, Serialize, Deserialize)]
pub struct HookRequest {
    pub token: String,
    pub updates: Vec<RefUpdate>,
    pub objects: ObjectEnv,
}

/// What the server answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub accepted: bool,
    /// Shown to the pusher, one `remote:` line each.
    pub lines: Vec<String>,
}

impl Verdict {
    pub fn refuse(lines: Vec<String>) -> Verdict {
        Verdict {
            accepted: false,
            lines,
        }
    }
}

/// The hook script: runs the server's own binary, named by the push's environment.
pub fn script() -> String {
    format!(
        "#!/bin/sh\n# Installed by gatehouse: a push is validated and deployed by the server (crates/git/src/hook.rs).\n\
         if [ -z \"${EXE_ENV}\" ]; then echo 'gatehouse: push through the Git endpoint (gatehouse serve)' >&2; exit 1; fi\n\
         exec \"${EXE_ENV}\" git-hook pre-receive\n"
    )
}

/// Writes the hook into the repository, executable.
pub fn install(repo_dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let hooks = repo_dir.join("hooks");
    std::fs::create_dir_all(&hooks)?;
    let path = hooks.join("pre-receive");
    std::fs::write(&path, script())?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
}

/// The hook's side: reads git's `old new ref` lines from `stdin`, asks the server, prints its
/// lines to stderr. Returns the exit code.
pub async fn client(stdin: impl AsyncRead + Unpin) -> i32 {
    match ask(stdin).await {
        Ok(v) => {
            for line in &v.lines {
                eprintln!("{line}");
            }
            if v.accepted { 0 } else { 1 }
        }
        Err(e) => {
            eprintln!("gatehouse: the push cannot be checked: {e}");
            1
        }
    }
}

async fn ask(stdin: impl AsyncRead + Unpin) -> Result<Verdict, String> {
    let socket = std::env::var_os(SOCKET_ENV)
        .map(PathBuf::from)
        .ok_or("not run by the gatehouse Git endpoint")?;
    let token = std::env::var(TOKEN_ENV).map_err(|_| "no push token")?;
    let mut updates = Vec::new();
    let mut lines = BufReader::new(stdin).lines();
    while let Some(line) = lines.next_line().await.map_err(|e| e.to_string())? {
        let mut f = line.split_whitespace();
        if let (Some(old), Some(new), Some(name)) = (f.next(), f.next(), f.next()) {
            updates.push(RefUpdate {
                old: old.to_string(),
                new: new.to_string(),
                name: name.to_string(),
            });
        }
    }
    let request = HookRequest {
        token,
        updates,
        objects: ObjectEnv {
            object_directory: std::env::var("GIT_OBJECT_DIRECTORY").ok(),
            alternate_object_directories: std::env::var("GIT_ALTERNATE_OBJECT_DIRECTORIES").ok(),
        },
    };
    let stream = tokio::net::UnixStream::connect(&socket)
        .await
        .map_err(|e| format!("cannot reach the server at {}: {e}", socket.display()))?;
    let (read, mut write) = stream.into_split();
    let mut body = serde_json::to_vec(&request).map_err(|e| e.to_string())?;
    body.push(b'\n');
    write.write_all(&body).await.map_err(|e| e.to_string())?;
    write.shutdown().await.map_err(|e| e.to_string())?;
    let answer = read_line(read).await?;
    serde_json::from_str(&answer).map_err(|e| format!("unreadable answer: {e}"))
}

/// One newline-terminated message, at most [`MAX_MESSAGE`] bytes.
pub(crate) async fn read_line(r: impl AsyncRead + Unpin) -> Result<String, String> {
    use tokio::io::AsyncReadExt;
    let mut line = String::new();
    BufReader::new(r.take(MAX_MESSAGE))
        .read_line(&mut line)
        .await
        .map_err(|e| e.to_string())?;
    if !line.ends_with('\n') {
        return Err("the message is incomplete or too long".to_string());
    }
    Ok(line)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_script_refuses_a_push_outside_the_endpoint() {
        let s = super::script();
        assert!(s.starts_with("#!/bin/sh\n"));
        assert!(s.contains("exec \"$GATEHOUSE_EXE\" git-hook pre-receive"));
    }
}
