//! The portal's writes: the same optimistic, whole-config-checked commit the management API
//! makes (crates/admin/src/write.rs), so a sign-up or a subscription is live on the gateway as
//! fast as any management write.

use crate::page::PageError;
use crate::state::Portal;
use gatehouse_admin::BackingError;
use gatehouse_model::Config;

/// How often a write is retried when another writer committed first.
const ATTEMPTS: usize = 8;

/// Applies `change` to a copy of the current config, checks it whole and commits it as `actor`.
/// `change` may run more than once (after a conflict it sees the newer config).
pub async fn commit<T>(
    portal: &Portal,
    actor: &str,
    summary: &str,
    mut change: impl FnMut(&mut Config) -> Result<T, PageError>,
) -> Result<T, PageError> {
    for _ in 0..ATTEMPTS {
        let current = portal.options.backing.current().await?;
        let mut config = (*current.config).clone();
        let out = change(&mut config)?;
        if let Err(problems) = (portal.options.checker)(&config) {
            let detail = problems
                .iter()
                .map(|p| format!("{}: {}", p.path, p.message))
                .collect::<Vec<_>>()
                .join("; ");
            tracing::warn!(%actor, %summary, %detail, "portal change refused by the config check");
            return Err(PageError::Refused(detail));
        }
        match portal
            .options
            .backing
            .commit(config, current.revision, actor, summary)
            .await
        {
            Ok(_) => return Ok(out),
            Err(BackingError::Conflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(PageError::Busy)
}
