//! The node registry: each gateway node reports itself (name, location, applied revision,
//! network status) every few seconds; the management API lists the nodes and answers
//! `networkstatus` per location from what they reported.
//!
//! The heartbeat time is the database's clock (milliseconds since the Unix epoch), and a
//! heartbeat's age is computed by the database too, so nodes with skewed clocks are judged
//! alike.

use crate::db::on_db;
use crate::error::StoreError;
use crate::store::{Store, db_err, to_i64, to_u64};
use serde_json::Value;
use sqlx::Row;
use sqlx::types::Json;
use std::time::Duration;

/// What a node reports about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeReport {
    /// Unique per node (default: the host name).
    pub name: String,
    /// The location the node serves (`service.location` or one of the additional locations).
    pub location: String,
    /// The revision the node's gateway serves.
    pub applied_revision: u64,
    /// When the node process started (RFC 3339).
    pub started_at: String,
    /// The gatehouse version the node runs.
    pub version: String,
    /// The node's network status (crates/cli/src/network_status.rs).
    pub status: Value,
}

/// A node as the registry holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeRecord {
    pub report: NodeReport,
    /// The last heartbeat, RFC 3339 in UTC (the database's clock).
    pub last_heartbeat: String,
    /// How long ago the last heartbeat was, by the database's clock.
    pub heartbeat_age: Duration,
}

/// The database's current time in milliseconds since the Unix epoch, per dialect. The only
/// text formatted into the queries below (hence `AssertSqlSafe`): a constant, never input.
fn now_ms_sql(backend: &str) -> &'static str {
    if backend == "postgres" {
        "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
    } else {
        // julianday('now') has millisecond precision; 2440587.5 is the Unix epoch's day.
        "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"
    }
}

impl Store {
    /// Records `report` as the node's latest heartbeat (insert or replace by name).
    pub async fn heartbeat(&self, report: &NodeReport) -> Result<(), StoreError> {
        let now = now_ms_sql(self.backend());
        let sql = format!(
            "INSERT INTO nodes (name, location, applied_revision, started_at, last_heartbeat_ms, version, status) \
             VALUES ($1, $2, $3, $4, {now}, $5, $6) \
             ON CONFLICT (name) DO UPDATE SET location = excluded.location, \
             applied_revision = excluded.applied_revision, started_at = excluded.started_at, \
             last_heartbeat_ms = excluded.last_heartbeat_ms, version = excluded.version, \
             status = excluded.status"
        );
        on_db!(&self.inner.db, pool => {
            sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(&report.name)
                .bind(&report.location)
                .bind(to_i64(report.applied_revision))
                .bind(&report.started_at)
                .bind(&report.version)
                .bind(Json(&report.status))
                .execute(pool)
                .await
                .map_err(db_err(self.backend(), "recording a heartbeat"))?;
        });
        Ok(())
    }

    /// Every node that ever reported, by name.
    pub async fn nodes(&self) -> Result<Vec<NodeRecord>, StoreError> {
        let now = now_ms_sql(self.backend());
        let sql = format!(
            "SELECT name, location, applied_revision, started_at, last_heartbeat_ms, version, status, \
             {now} AS now_ms FROM nodes ORDER BY name"
        );
        let err = db_err(self.backend(), "reading the nodes");
        let mut out = Vec::new();
        on_db!(&self.inner.db, pool => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(pool).await.map_err(&err)?;
            for row in rows {
                let name: String = row.try_get("name").map_err(&err)?;
                let revision: i64 = row.try_get("applied_revision").map_err(&err)?;
                let beat: i64 = row.try_get("last_heartbeat_ms").map_err(&err)?;
                let now: i64 = row.try_get("now_ms").map_err(&err)?;
                let Json(status): Json<Value> = row.try_get("status").map_err(&err)?;
                out.push(NodeRecord {
                    report: NodeReport {
                        applied_revision: to_u64(revision, &format!("node {name}"))?,
                        location: row.try_get("location").map_err(&err)?,
                        started_at: row.try_get("started_at").map_err(&err)?,
                        version: row.try_get("version").map_err(&err)?,
                        status,
                        name,
                    },
                    last_heartbeat: rfc3339_ms(beat),
                    heartbeat_age: Duration::from_millis(u64::try_from(now - beat).unwrap_or(0)),
                });
            }
        });
        Ok(out)
    }
}

fn rfc3339_ms(ms: i64) -> String {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn heartbeat_times_are_rfc3339() {
        assert_eq!(super::rfc3339_ms(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            super::rfc3339_ms(1_700_000_000_123),
            "2023-11-14T22:13:20.123Z"
        );
    }
}
