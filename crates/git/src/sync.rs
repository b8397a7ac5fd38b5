//! The committer: every store revision becomes a commit on `main`, authored by whoever made it
//! (the management API's caller, the portal's user, `gatehouse`), on top of the history already
//! there, so a `git pull` fast-forwards and the repository is the configuration and its history.

use crate::repo::Author;
use crate::{GitError, Shared};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// At most this many revisions are named in one commit's message.
const MESSAGE_REVISIONS: u32 = 20;
/// Pause after the store failed to answer, before asking again.
const RETRY: Duration = Duration::from_secs(1);

/// Follows the store's change feed for as long as the process runs.
pub(crate) fn spawn(shared: Arc<Shared>) {
    tokio::spawn(async move {
        let mut feed = shared
            .store
            .changes_after(shared.synced.load(Ordering::SeqCst));
        loop {
            match feed.next().await {
                Ok(_) => {
                    if let Err(e) = catch_up(&shared, "gatehouse", "configuration change").await {
                        tracing::warn!(error = %e, "the Git repository could not record a revision; retried at the next change");
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the Git repository's change feed failed; retrying");
                    tokio::time::sleep(RETRY).await;
                }
            }
        }
    });
}

/// Makes `main` hold the store's newest revision: one commit for the revisions since the last
/// (none at a start when `main` already holds the store's files).
pub(crate) async fn catch_up(
    shared: &Shared,
    default_actor: &str,
    default_summary: &str,
) -> Result<(), GitError> {
    let _guard = shared.lock.lock().await;
    let Some((config, revision)) = shared.store.load().await? else {
        return Ok(());
    };
    let synced = shared.synced.load(Ordering::SeqCst);
    let head = shared.repo.head().await?;
    if revision <= synced && head.is_some() {
        return Ok(());
    }
    let files = crate::layout::export(&config)?;
    let tree = shared.repo.write_tree(&files).await?;
    let unchanged = match &head {
        Some(h) => shared.repo.tree_of(h).await? == tree,
        None => false,
    };
    // Every revision is a commit, also one that changes nothing the files hold (a user, a
    // subscription): its message says what changed, so the history is the store's. Only a
    // restart over an unchanged store adds none.
    let restart = synced == 0 && head.is_some();
    if !(unchanged && restart) {
        let (author, message) =
            describe(shared, synced, revision, default_actor, default_summary).await;
        let commit = shared
            .repo
            .commit(&tree, head.as_deref(), &author, &message)
            .await?;
        tracing::info!(revision, commit = %commit, author = %author.name, "Git repository: configuration committed");
    }
    shared.synced.store(revision, Ordering::SeqCst);
    Ok(())
}

/// The author (the newest revision's actor) and message (each revision's summary) of the
/// revisions after `synced` up to `revision`.
async fn describe(
    shared: &Shared,
    synced: u64,
    revision: u64,
    default_actor: &str,
    default_summary: &str,
) -> (Author, String) {
    let wanted = u32::try_from(revision.saturating_sub(synced))
        .unwrap_or(u32::MAX)
        .min(MESSAGE_REVISIONS);
    let records = match shared.store.history(wanted.max(1)).await {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!(error = %e, "no history for the commit message");
            Vec::new()
        }
    };
    let mine: Vec<_> = records
        .into_iter()
        .filter(|r| r.revision > synced && r.revision <= revision)
        .collect();
    let actor = mine
        .first()
        .map(|r| r.actor.as_str())
        .unwrap_or(default_actor);
    let subject = match mine.as_slice() {
        [one] => one.summary.clone(),
        [] => default_summary.to_string(),
        many => format!("{} changes", many.len()),
    };
    let mut message = format!("{subject}\n\n");
    // Oldest first, as a reader goes through them.
    for r in mine.iter().rev() {
        message.push_str(&format!(
            "revision {} by {}: {}\n",
            r.revision, r.actor, r.summary
        ));
    }
    message.push_str(&format!("\nGatehouse-Revision: {revision}\n"));
    (Author::of_actor(actor), message)
}
