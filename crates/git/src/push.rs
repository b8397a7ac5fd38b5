//! Judging a push: the pushed tree is read from quarantine, turned into a candidate
//! configuration ([`crate::layout::import`]), checked whole by the same checker as every
//! management write, and committed to the store at the revision `main` holds. Every problem is
//! reported with its file and line; a refused push changes nothing.

use crate::hook::{HookRequest, RefUpdate, Verdict, read_line};
use crate::repo::{BRANCH, ZERO_OID};
use crate::{GitError, Shared};
use gatehouse_admin::BackingError;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::io::AsyncWriteExt;

/// The store's actor for a push.
const PUSH_ACTOR: &str = "apim";

/// Listens for hooks on `socket` (in the private Git directory).
pub(crate) fn listen(shared: Arc<Shared>, socket: &Path) -> Result<(), GitError> {
    // A socket left by an earlier run would make bind fail.
    let _ = std::fs::remove_file(socket);
    let listener = tokio::net::UnixListener::bind(socket).map_err(|source| GitError::Io {
        what: "cannot listen for push hooks at",
        path: socket.to_path_buf(),
        source,
    })?;
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let shared = shared.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let verdict = match read_line(read).await {
                    Ok(line) => match serde_json::from_str::<HookRequest>(&line) {
                        Ok(req) => answer(&shared, req).await,
                        Err(e) => {
                            Verdict::refuse(vec![format!("gatehouse: bad hook message: {e}")])
                        }
                    },
                    Err(e) => Verdict::refuse(vec![format!("gatehouse: {e}")]),
                };
                if let Ok(mut body) = serde_json::to_vec(&verdict) {
                    body.push(b'\n');
                    let _ = write.write_all(&body).await;
                }
            });
        }
    });
    Ok(())
}

async fn answer(shared: &Shared, req: HookRequest) -> Verdict {
    let known = shared
        .pending
        .lock()
        .map(|p| p.contains_key(&req.token))
        .unwrap_or(false);
    if !known {
        return Verdict::refuse(vec![
            "gatehouse: this push is not one the server started".into(),
        ]);
    }
    let verdict = judge(shared, &req).await;
    if verdict.accepted {
        tracing::info!(lines = ?verdict.lines, "Git push accepted");
    } else {
        tracing::info!(lines = ?verdict.lines, "Git push refused");
    }
    verdict
}

/// The push's one update of `main`, or why there is none.
fn main_update(updates: &[RefUpdate]) -> Result<&RefUpdate, String> {
    match updates {
        [u] if u.name == BRANCH && u.new != ZERO_OID => Ok(u),
        [u] if u.name == BRANCH => Err("main cannot be deleted".to_string()),
        _ => Err(format!(
            "only the branch main holds the configuration: push main alone (this push updates {})",
            updates
                .iter()
                .map(|u| u.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn pull_message(revision: u64) -> Vec<String> {
    vec![
        format!(
            "gatehouse: the configuration changed since main's last commit (it is at revision {revision} now);"
        ),
        "gatehouse: run 'git pull' (or 'git pull --rebase'), then push again.".to_string(),
    ]
}

async fn judge(shared: &Shared, req: &HookRequest) -> Verdict {
    let update = match main_update(&req.updates) {
        Ok(u) => u,
        Err(e) => return Verdict::refuse(vec![format!("gatehouse: {e}")]),
    };
    let current = match shared.backing.current().await {
        Ok(c) => c,
        Err(e) => {
            return Verdict::refuse(vec![format!(
                "gatehouse: cannot read the configuration: {e}"
            )]);
        }
    };
    // The push must build on main as it is now (the committer may have moved it after the
    // client read the refs), and main must hold the store's newest revision.
    let head = shared.repo.head().await.ok().flatten();
    let based_on_head = head.as_deref().unwrap_or(ZERO_OID) == update.old;
    if !based_on_head || current.revision != shared.synced.load(Ordering::SeqCst) {
        return Verdict::refuse(pull_message(current.revision));
    }
    let files = match shared.repo.read_files(&update.new, &req.objects).await {
        Ok(f) => f,
        Err(e) => return Verdict::refuse(vec![format!("error: {e}")]),
    };
    let candidate = match crate::layout::import(&files, &current.config) {
        Ok(c) => c,
        Err(problems) => {
            return Verdict::refuse(problems.iter().map(|p| format!("error: {p}")).collect());
        }
    };
    // Each policy file on its own first: the whole-config check stops at the first stage that
    // fails (model before policies), and the pusher wants every error of the tree at once.
    let (mut lines, broken) = policy_problems(&files);
    if let Err(problems) = (shared.checker)(&candidate) {
        for p in &problems {
            let (file, line) = crate::layout::locate(&p.path, &p.message, &candidate, &files);
            if broken.contains(&file) {
                continue;
            }
            lines.push(match line {
                Some(l) => format!("error: {file}:{l}: {}: {}", p.path, p.message),
                None => format!("error: {file}: {}: {}", p.path, p.message),
            });
        }
    }
    if !lines.is_empty() {
        return Verdict::refuse(lines);
    }
    let short: String = update.new.chars().take(12).collect();
    let summary = format!("git push {short}");
    match shared
        .backing
        .commit(candidate, current.revision, PUSH_ACTOR, &summary)
        .await
    {
        Ok(revision) => {
            shared.synced.store(revision, Ordering::SeqCst);
            if let Ok(mut p) = shared.pending.lock()
                && let Some(entry) = p.get_mut(&req.token)
            {
                entry.deployed = Some((revision, update.new.clone()));
            }
            let line = if revision == current.revision {
                format!("gatehouse: no configuration change; main moves to {short}")
            } else {
                format!("gatehouse: deployed as revision {revision}")
            };
            Verdict {
                accepted: true,
                lines: vec![line],
            }
        }
        Err(BackingError::Conflict { current }) => Verdict::refuse(pull_message(current)),
        Err(e) => Verdict::refuse(vec![format!(
            "gatehouse: the configuration was not saved: {e}"
        )]),
    }
}

/// The errors of every policy document of the tree checked on its own (`gatehouse policy
/// check`), and the files that have some. Unsupported policies are left to the whole-config
/// check, which knows which of them it runs.
fn policy_problems(files: &crate::Files) -> (Vec<String>, BTreeSet<String>) {
    let mut lines = Vec::new();
    let mut broken = BTreeSet::new();
    for (path, bytes) in files.iter().filter(|(p, _)| p.ends_with(".xml")) {
        let Ok(text) = std::str::from_utf8(bytes) else {
            continue; // import reported it
        };
        let report = gatehouse_policy::document::check_source(Path::new(path), text);
        for e in report
            .errors
            .iter()
            .filter(|e| e.kind != gatehouse_policy::document::ErrorKind::Unsupported)
        {
            lines.push(format!("error: {e}"));
            broken.insert(path.clone());
        }
    }
    (lines, broken)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(name: &str, new: &str) -> RefUpdate {
        RefUpdate {
            old: ZERO_OID.into(),
            new: new.into(),
            name: name.into(),
        }
    }

    #[test]
    fn only_main_may_move() {
        assert!(main_update(&[u(BRANCH, "abc")]).is_ok());
        let e = main_update(&[u("refs/heads/dev", "abc")]).expect_err("dev");
        assert!(e.contains("refs/heads/dev"), "{e}");
        assert!(main_update(&[u(BRANCH, ZERO_OID)]).is_err());
        assert!(main_update(&[u(BRANCH, "a"), u("refs/tags/v1", "b")]).is_err());
        assert!(main_update(&[]).is_err());
    }

    #[test]
    fn every_broken_policy_file_is_reported_with_its_line() {
        let mut files = crate::Files::new();
        files.insert(
            "apis/a/policy.xml".into(),
            b"<policies>\n  <inbound>\n  <backend>\n</policies>\n".to_vec(),
        );
        files.insert(
            "policy.xml".into(),
            b"<policies><inbound><base /></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>".to_vec(),
        );
        let (lines, broken) = policy_problems(&files);
        assert_eq!(broken.len(), 1, "{lines:?}");
        assert!(
            lines[0].starts_with("error: apis/a/policy.xml:"),
            "{lines:?}"
        );
    }
}
