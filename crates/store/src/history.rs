//! What changed in each revision, and the versions of one resource.

use crate::db::on_db;
use crate::error::StoreError;
use crate::rows::{self, OPERATION};
use crate::store::{Store, db_err, to_i64, to_u64};
use serde::Serialize;
use serde_json::Value;
use sqlx::Row;
use sqlx::types::Json;
use std::collections::BTreeMap;

/// One revision: when, who, why, and which resources it wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RevisionRecord {
    pub revision: u64,
    /// RFC 3339, UTC.
    pub time: String,
    pub actor: String,
    pub summary: String,
    pub changes: Vec<ResourceChange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceChange {
    /// One of [`crate::KINDS`].
    pub kind: String,
    /// The API of an operation; empty otherwise.
    pub parent: String,
    pub id: String,
    /// `put` or `delete`.
    pub op: String,
}

/// One stored version of a resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceVersion {
    pub revision: u64,
    pub time: String,
    pub actor: String,
    /// `put` or `delete`.
    pub op: String,
    /// The resource as written (`None` for a delete), its secrets shown as `***`: history
    /// listings are for reading what changed, not for recovering keys.
    pub body: Option<Value>,
}

impl Store {
    /// The newest `limit` revisions, newest first, each with the resources it wrote.
    pub async fn history(&self, limit: u32) -> Result<Vec<RevisionRecord>, StoreError> {
        let err = |action| db_err(self.backend(), action);
        let (revisions, changes) = on_db!(&self.inner.db, pool => {
            let revisions = sqlx::query(
                "SELECT revision, created_at, actor, summary FROM revisions ORDER BY revision DESC LIMIT $1",
            )
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
            .map_err(err("reading the revisions"))?;
            let mut records = Vec::with_capacity(revisions.len());
            for row in &revisions {
                let revision: i64 = row.try_get("revision").map_err(err("reading a revision"))?;
                records.push(RevisionRecord {
                    revision: to_u64(revision, "revisions")?,
                    time: row.try_get("created_at").map_err(err("reading a revision"))?,
                    actor: row.try_get("actor").map_err(err("reading a revision"))?,
                    summary: row.try_get("summary").map_err(err("reading a revision"))?,
                    changes: Vec::new(),
                });
            }
            let oldest = records.last().map(|r| r.revision).unwrap_or(u64::MAX);
            let rows = sqlx::query(
                "SELECT revision, kind, parent, id, op FROM resource_history WHERE revision >= $1 \
                 ORDER BY revision, kind, parent, id",
            )
            .bind(to_i64(oldest))
            .fetch_all(pool)
            .await
            .map_err(err("reading the history"))?;
            let mut changes: BTreeMap<u64, Vec<ResourceChange>> = BTreeMap::new();
            for row in rows {
                let revision: i64 = row.try_get("revision").map_err(err("reading the history"))?;
                changes.entry(to_u64(revision, "resource_history")?).or_default().push(ResourceChange {
                    kind: row.try_get("kind").map_err(err("reading the history"))?,
                    parent: row.try_get("parent").map_err(err("reading the history"))?,
                    id: row.try_get("id").map_err(err("reading the history"))?,
                    op: row.try_get("op").map_err(err("reading the history"))?,
                });
            }
            (records, changes)
        });
        let mut revisions = revisions;
        let mut changes = changes;
        for record in &mut revisions {
            record.changes = changes.remove(&record.revision).unwrap_or_default();
        }
        Ok(revisions)
    }

    /// The stored versions of one resource, oldest first. `kind` is one of [`crate::KINDS`];
    /// an operation's `id` is `API/OPERATION`; the singletons (`service`, `gateway`,
    /// `network`, `global_policy`) have the id `""`.
    pub async fn resource_history(
        &self,
        kind: &str,
        id: &str,
    ) -> Result<Vec<ResourceVersion>, StoreError> {
        let err = |action| db_err(self.backend(), action);
        let (parent, id) = match (kind, id.split_once('/')) {
            (OPERATION, Some((api, op))) => (api, op),
            _ => ("", id),
        };
        let versions = on_db!(&self.inner.db, pool => {
            let rows = sqlx::query(
                "SELECT h.revision, r.created_at, r.actor, h.op, h.body FROM resource_history h \
                 JOIN revisions r ON r.revision = h.revision \
                 WHERE h.kind = $1 AND h.parent = $2 AND h.id = $3 ORDER BY h.revision",
            )
            .bind(kind)
            .bind(parent)
            .bind(id)
            .fetch_all(pool)
            .await
            .map_err(err("reading the history"))?;
            let mut versions = Vec::with_capacity(rows.len());
            for row in rows {
                let revision: i64 = row.try_get("revision").map_err(err("reading the history"))?;
                let body: Option<Json<Value>> = row.try_get("body").map_err(err("reading the history"))?;
                versions.push(ResourceVersion {
                    revision: to_u64(revision, "resource_history")?,
                    time: row.try_get("created_at").map_err(err("reading the history"))?,
                    actor: row.try_get("actor").map_err(err("reading the history"))?,
                    op: row.try_get("op").map_err(err("reading the history"))?,
                    body: body.map(|Json(b)| rows::redact(kind, b)),
                });
            }
            versions
        });
        Ok(versions)
    }
}
