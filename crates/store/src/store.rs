//! [`Store`]: whole configurations in and out of the rows, revisions, and the optimistic check
//! that makes concurrent writers safe.

use crate::db::{Db, on_db};
use crate::error::StoreError;
use crate::feed::ChangeFeed;
use crate::rows::{self, Content, Key, Rows};
use crate::secret_key::SecretKey;
use gatehouse_model::Config;
use serde_json::Value;
use sqlx::Row;
use sqlx::types::Json;
use std::sync::Arc;
use tokio::sync::watch;

/// Rows per multi-row INSERT: far below SQLite's 32,766 and PostgreSQL's 65,535 bound
/// parameters at 6 per row, large enough that 11,000 rows take a dozen statements.
const BATCH_ROWS: usize = 1_000;

/// How often `import` re-reads the revision when another writer keeps getting there first.
const IMPORT_ATTEMPTS: usize = 5;

/// The configuration store. Cheap to clone: clones share one connection pool and one change
/// notifier.
#[derive(Clone)]
pub struct Store {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) db: Db,
    pub(crate) secrets: SecretKey,
    /// The newest revision this process committed or saw at open; feeds the SQLite change
    /// feed (PostgreSQL's uses LISTEN/NOTIFY, which also sees other processes).
    pub(crate) local: watch::Sender<u64>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

/// One row as the commit plans to write it.
enum Change {
    Put(Key, Content),
    Delete(Key),
}

pub(crate) fn db_err(
    backend: &'static str,
    action: &'static str,
) -> impl Fn(sqlx::Error) -> StoreError {
    move |source| StoreError::Database {
        backend,
        action,
        source,
    }
}

pub(crate) fn to_i64(revision: u64) -> i64 {
    i64::try_from(revision).unwrap_or(i64::MAX)
}

pub(crate) fn to_u64(revision: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(revision).map_err(|_| StoreError::Corrupt {
        resource: what.to_string(),
        reason: format!("negative revision {revision}"),
    })
}

impl Store {
    /// Opens the store at `url` (`sqlite://PATH`, created if missing; or
    /// `postgres://USER:PASS@HOST:PORT/DB`) and applies the schema migrations. `secrets`
    /// encrypts the secret fields.
    pub async fn open(url: &str, secrets: SecretKey) -> Result<Store, StoreError> {
        let db = Db::open(url).await?;
        let (local, _) = watch::channel(0);
        let store = Store {
            inner: Arc::new(Inner { db, secrets, local }),
        };
        let revision = store.revision().await?;
        store.inner.local.send_replace(revision);
        tracing::debug!(backend = store.backend(), revision, "store opened");
        Ok(store)
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        self.inner.db.backend()
    }

    fn err(&self, action: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
        db_err(self.backend(), action)
    }

    /// The newest revision (0 for an empty store).
    pub async fn revision(&self) -> Result<u64, StoreError> {
        let revision: i64 = on_db!(&self.inner.db, pool => {
            sqlx::query_scalar("SELECT revision FROM meta WHERE singleton = 1")
                .fetch_one(pool)
                .await
                .map_err(self.err("reading the revision"))?
        });
        to_u64(revision, "meta")
    }

    /// The configuration at the newest revision with its secrets decrypted, and that revision;
    /// `None` before the first import or commit.
    pub async fn load(&self) -> Result<Option<(Config, u64)>, StoreError> {
        // One transaction, so the rows and the revision belong together.
        let (revision, stored) = on_db!(&self.inner.db, pool => {
            let mut tx = pool.begin().await.map_err(self.err("beginning a transaction"))?;
            let revision: i64 = sqlx::query_scalar("SELECT revision FROM meta WHERE singleton = 1")
                .fetch_one(&mut *tx)
                .await
                .map_err(self.err("reading the revision"))?;
            let rows = sqlx::query("SELECT kind, parent, id, position, body FROM resources")
                .fetch_all(&mut *tx)
                .await
                .map_err(self.err("reading the resources"))?;
            let stored = decode_resources(rows).map_err(self.err("reading a resource"))?;
            tx.commit().await.map_err(self.err("ending a transaction"))?;
            (revision, stored)
        });
        let revision = to_u64(revision, "meta")?;
        if revision == 0 {
            return Ok(None);
        }
        let rows = self.unseal_all(stored)?;
        match rows::from_rows(rows)? {
            Some(config) => Ok(Some((config, revision))),
            None => Err(StoreError::Corrupt {
                resource: "service".into(),
                reason: format!("revision {revision} has no service row"),
            }),
        }
    }

    fn unseal_all(&self, stored: Vec<(Key, i64, Value)>) -> Result<Rows, StoreError> {
        let mut rows = Rows::new();
        for (key, position, body) in stored {
            let body = rows::unseal(&key, body, &self.inner.secrets)?;
            rows.insert(key, Content { position, body });
        }
        Ok(rows)
    }

    /// Makes `config` the next revision if the store is still at `expected`, in one
    /// transaction: writes only the rows whose content changed and records each in the
    /// history. Returns the new revision, or `expected` when nothing differs (no empty
    /// revisions). [`StoreError::Conflict`] when another writer committed first.
    pub async fn commit(
        &self,
        config: &Config,
        expected: u64,
        actor: &str,
        summary: &str,
    ) -> Result<u64, StoreError> {
        let wanted = rows::to_rows(config)?;
        let next = expected + 1;
        let created_at = now_rfc3339();
        let committed: Option<usize> = on_db!(&self.inner.db, pool => {
            let mut tx = pool.begin().await.map_err(self.err("beginning a transaction"))?;
            // The optimistic check comes first: it takes the write lock (SQLite) or the row
            // lock (PostgreSQL), so a second writer at the same revision waits here and then
            // finds the revision moved.
            let moved = sqlx::query("UPDATE meta SET revision = $1 WHERE singleton = 1 AND revision = $2")
                .bind(to_i64(next))
                .bind(to_i64(expected))
                .execute(&mut *tx)
                .await
                .map_err(self.err("moving the revision"))?
                .rows_affected();
            if moved == 0 {
                let current: i64 = sqlx::query_scalar("SELECT revision FROM meta WHERE singleton = 1")
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(self.err("reading the revision"))?;
                drop(tx);
                return Err(StoreError::Conflict { current: to_u64(current, "meta")? });
            }
            let rows = sqlx::query("SELECT kind, parent, id, position, body FROM resources")
                .fetch_all(&mut *tx)
                .await
                .map_err(self.err("reading the resources"))?;
            let stored = decode_resources(rows).map_err(self.err("reading a resource"))?;
            let changes = diff(self.unseal_all(stored)?, wanted);
            if changes.is_empty() {
                // Dropping the transaction rolls the revision back: no empty revisions.
                drop(tx);
                None
            } else {
                let mut puts = Vec::new();
                let mut history = Vec::new();
                for change in &changes {
                    match change {
                        Change::Put(key, content) => {
                            let sealed = rows::seal(key, &content.body, &self.inner.secrets)?;
                            puts.push((key, content.position, sealed.clone()));
                            history.push((key, "put", Some(sealed)));
                        }
                        Change::Delete(key) => {
                            sqlx::query("DELETE FROM resources WHERE kind = $1 AND parent = $2 AND id = $3")
                                .bind(&key.kind)
                                .bind(&key.parent)
                                .bind(&key.id)
                                .execute(&mut *tx)
                                .await
                                .map_err(self.err("deleting a resource"))?;
                            history.push((key, "delete", None));
                        }
                    }
                }
                for batch in puts.chunks(BATCH_ROWS) {
                    let mut insert = sqlx::QueryBuilder::new(
                        "INSERT INTO resources (kind, parent, id, position, body, revision) ",
                    );
                    insert.push_values(batch, |mut b, (key, position, body)| {
                        b.push_bind(&key.kind)
                            .push_bind(&key.parent)
                            .push_bind(&key.id)
                            .push_bind(*position)
                            .push_bind(Json(body))
                            .push_bind(to_i64(next));
                    });
                    insert.push(
                        " ON CONFLICT (kind, parent, id) DO UPDATE SET position = excluded.position, \
                         body = excluded.body, revision = excluded.revision",
                    );
                    insert
                        .build()
                        .execute(&mut *tx)
                        .await
                        .map_err(self.err("writing resources"))?;
                }
                for batch in history.chunks(BATCH_ROWS) {
                    let mut insert = sqlx::QueryBuilder::new(
                        "INSERT INTO resource_history (revision, kind, parent, id, op, body) ",
                    );
                    insert.push_values(batch, |mut b, (key, op, body)| {
                        b.push_bind(to_i64(next))
                            .push_bind(&key.kind)
                            .push_bind(&key.parent)
                            .push_bind(&key.id)
                            .push_bind(*op)
                            .push_bind(body.as_ref().map(Json));
                    });
                    insert
                        .build()
                        .execute(&mut *tx)
                        .await
                        .map_err(self.err("recording the history"))?;
                }
                sqlx::query("INSERT INTO revisions (revision, created_at, actor, summary) VALUES ($1, $2, $3, $4)")
                    .bind(to_i64(next))
                    .bind(&created_at)
                    .bind(actor)
                    .bind(summary)
                    .execute(&mut *tx)
                    .await
                    .map_err(self.err("recording the revision"))?;
                if self.backend() == "postgres" {
                    // Delivered to every listener when (and only if) the transaction commits.
                    sqlx::query("SELECT pg_notify('gatehouse_config', $1)")
                        .bind(next.to_string())
                        .execute(&mut *tx)
                        .await
                        .map_err(self.err("notifying listeners"))?;
                }
                tx.commit().await.map_err(self.err("committing"))?;
                Some(changes.len())
            }
        });
        match committed {
            None => Ok(expected),
            Some(changed) => {
                tracing::info!(
                    backend = self.backend(),
                    revision = next,
                    changed,
                    actor,
                    "configuration committed"
                );
                self.inner.local.send_if_modified(|seen| {
                    let newer = next > *seen;
                    if newer {
                        *seen = next;
                    }
                    newer
                });
                Ok(next)
            }
        }
    }

    /// Replaces the whole configuration with `config` as one revision (`gatehouse store
    /// import`). Returns the new revision, or the current one when nothing differs.
    pub async fn import(&self, config: &Config, actor: &str) -> Result<u64, StoreError> {
        let mut attempt = 0;
        loop {
            let current = self.revision().await?;
            match self.commit(config, current, actor, "import").await {
                Err(StoreError::Conflict { .. }) if attempt + 1 < IMPORT_ATTEMPTS => attempt += 1,
                other => return other,
            }
        }
    }

    /// The revisions committed from now on, from this process (SQLite) or from any process
    /// (PostgreSQL). Starts after the newest revision this `Store` knows of.
    pub fn changes(&self) -> ChangeFeed {
        let after = *self.inner.local.borrow();
        self.changes_after(after)
    }

    /// The revisions after `after`: the first [`ChangeFeed::next`] answers at once if the store
    /// is already past it.
    pub fn changes_after(&self, after: u64) -> ChangeFeed {
        ChangeFeed::new(self.clone(), after)
    }
}

/// The `resources` rows as read by either driver.
fn decode_resources<R>(rows: Vec<R>) -> Result<Vec<(Key, i64, Value)>, sqlx::Error>
where
    R: Row,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Json<Value>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
{
    let mut stored = Vec::with_capacity(rows.len());
    for row in rows {
        let key = Key {
            kind: row.try_get("kind")?,
            parent: row.try_get("parent")?,
            id: row.try_get("id")?,
        };
        let position: i64 = row.try_get("position")?;
        let Json(body): Json<Value> = row.try_get("body")?;
        stored.push((key, position, body));
    }
    Ok(stored)
}

/// The rows to write to turn `stored` into `wanted`: new or changed ones, and deletions.
fn diff(mut stored: Rows, wanted: Rows) -> Vec<Change> {
    let mut changes = Vec::new();
    for (key, content) in wanted {
        match stored.remove(&key) {
            Some(old) if old == content => {}
            _ => changes.push(Change::Put(key, content)),
        }
    }
    changes.extend(stored.into_keys().map(Change::Delete));
    changes
}

fn now_rfc3339() -> String {
    use time::format_description::well_known::Rfc3339;
    // Formatting the current UTC time as RFC 3339 cannot fail for years 0..=9999.
    time::OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}
