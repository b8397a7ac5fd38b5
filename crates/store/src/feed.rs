//! [`ChangeFeed`]: the revisions committed after a given one.
//!
//! PostgreSQL: `LISTEN gatehouse_config` (every commit sends `pg_notify` with its revision in
//! the same transaction), so commits of other processes arrive too. `PgListener` reconnects
//! by itself; notifications sent while it was away are lost, so after a reconnect the feed
//! reads the revision from the table instead. SQLite has no cross-process notification: the
//! feed follows the commits of this process's `Store` (and its clones).

use crate::db::Db;
use crate::error::StoreError;
use crate::store::Store;
use sqlx::postgres::PgListener;

const CHANNEL: &str = "gatehouse_config";

/// Follows the store's revisions; see [`ChangeFeed::next`].
pub struct ChangeFeed {
    store: Store,
    last: u64,
    listener: Option<PgListener>,
}

impl std::fmt::Debug for ChangeFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeFeed")
            .field("last", &self.last)
            .finish_non_exhaustive()
    }
}

impl ChangeFeed {
    pub(crate) fn new(store: Store, after: u64) -> ChangeFeed {
        ChangeFeed {
            store,
            last: after,
            listener: None,
        }
    }

    /// The last revision [`ChangeFeed::next`] returned (or the one the feed started after).
    pub fn last(&self) -> u64 {
        self.last
    }

    /// Waits for the store to move past the last revision returned and gives the newest
    /// revision then (intermediate ones may be skipped: the caller loads the newest).
    pub async fn next(&mut self) -> Result<u64, StoreError> {
        let newest = match &self.store.inner.db {
            Db::Sqlite(_) => self.next_local().await?,
            Db::Postgres(pool) => {
                let pool = pool.clone();
                self.next_notified(&pool).await?
            }
        };
        self.last = newest;
        Ok(newest)
    }

    async fn next_local(&mut self) -> Result<u64, StoreError> {
        let mut rx = self.store.inner.local.subscribe();
        loop {
            let seen = *rx.borrow_and_update();
            if seen > self.last {
                return Ok(seen);
            }
            // The sender lives as long as the store this feed holds: this cannot end.
            if rx.changed().await.is_err() {
                return Err(StoreError::Corrupt {
                    resource: "change feed".into(),
                    reason: "the store was closed".into(),
                });
            }
        }
    }

    async fn next_notified(&mut self, pool: &sqlx::PgPool) -> Result<u64, StoreError> {
        let err = |action| crate::store::db_err("postgres", action);
        let listener = match &mut self.listener {
            Some(listener) => listener,
            None => {
                let mut listener = PgListener::connect_with(pool)
                    .await
                    .map_err(err("connecting the change listener"))?;
                listener
                    .listen(CHANNEL)
                    .await
                    .map_err(err("listening for changes"))?;
                self.listener.insert(listener)
            }
        };
        // Listening first, reading second: a commit between the two is seen either way.
        let current = self.store.revision().await?;
        if current > self.last {
            return Ok(current);
        }
        loop {
            match listener
                .try_recv()
                .await
                .map_err(err("receiving a change notification"))?
            {
                Some(notification) => match notification.payload().parse::<u64>() {
                    Ok(revision) if revision > self.last => return Ok(revision),
                    Ok(_) => {}
                    Err(_) => tracing::warn!(
                        channel = CHANNEL,
                        "ignoring a notification whose payload is not a revision"
                    ),
                },
                None => {
                    // The connection was lost and is being re-established: whatever was
                    // committed meanwhile was not announced.
                    tracing::warn!("change listener reconnecting to PostgreSQL");
                    let current = self.store.revision().await?;
                    if current > self.last {
                        return Ok(current);
                    }
                }
            }
        }
    }
}
