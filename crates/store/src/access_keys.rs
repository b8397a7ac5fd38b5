//! The management API's two access keys (APIM's primary and secondary), stored encrypted.

use crate::db::on_db;
use crate::error::StoreError;
use crate::secret_key::random_bytes;
use crate::store::{Store, db_err};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use gatehouse_model::Secret;
use sqlx::Row;

const PRIMARY: &str = "primary";
const SECONDARY: &str = "secondary";

/// The keys that sign management API tokens. `Debug` shows neither.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKeys {
    pub primary: Secret,
    pub secondary: Secret,
}

impl AccessKeys {
    /// Two fresh random keys, 64 bytes each in base64 (the length of Azure's keys).
    pub fn generate() -> AccessKeys {
        AccessKeys {
            primary: Secret::new(STANDARD.encode(random_bytes::<64>())),
            secondary: Secret::new(STANDARD.encode(random_bytes::<64>())),
        }
    }
}

fn resource(name: &str) -> String {
    format!("access_key/{name}")
}

impl Store {
    /// The access keys, created at random on first use (by whichever process asks first).
    pub async fn access_keys(&self) -> Result<AccessKeys, StoreError> {
        if let Some(keys) = self.read_access_keys().await? {
            return Ok(keys);
        }
        let fresh = AccessKeys::generate();
        // DO NOTHING: when two processes race, the first one's keys stay and both read them.
        self.write_access_keys(&fresh, false).await?;
        self.read_access_keys()
            .await?
            .ok_or_else(|| StoreError::Corrupt {
                resource: "access_keys".into(),
                reason: "written but not found".into(),
            })
    }

    /// Replaces both access keys (key regeneration).
    pub async fn set_access_keys(&self, keys: &AccessKeys) -> Result<(), StoreError> {
        self.write_access_keys(keys, true).await
    }

    async fn write_access_keys(&self, keys: &AccessKeys, replace: bool) -> Result<(), StoreError> {
        let err = |action| db_err(self.backend(), action);
        let secrets = &self.inner.secrets;
        let sql = if replace {
            "INSERT INTO access_keys (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value"
        } else {
            "INSERT INTO access_keys (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING"
        };
        let sealed = [
            (
                PRIMARY,
                secrets.encrypt(&resource(PRIMARY), keys.primary.expose())?,
            ),
            (
                SECONDARY,
                secrets.encrypt(&resource(SECONDARY), keys.secondary.expose())?,
            ),
        ];
        on_db!(&self.inner.db, pool => {
            let mut tx = pool.begin().await.map_err(err("beginning a transaction"))?;
            for (name, value) in &sealed {
                sqlx::query(sql)
                    .bind(*name)
                    .bind(value)
                    .execute(&mut *tx)
                    .await
                    .map_err(err("writing the access keys"))?;
            }
            tx.commit().await.map_err(err("writing the access keys"))?;
        });
        if replace {
            tracing::info!(backend = self.backend(), "access keys replaced");
        }
        Ok(())
    }

    async fn read_access_keys(&self) -> Result<Option<AccessKeys>, StoreError> {
        let err = |action| db_err(self.backend(), action);
        let rows: Vec<(String, String)> = on_db!(&self.inner.db, pool => {
            let rows = sqlx::query("SELECT name, value FROM access_keys")
                .fetch_all(pool)
                .await
                .map_err(err("reading the access keys"))?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push((
                    row.try_get("name").map_err(err("reading the access keys"))?,
                    row.try_get("value").map_err(err("reading the access keys"))?,
                ));
            }
            out
        });
        let find = |name: &str| -> Result<Option<Secret>, StoreError> {
            rows.iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| {
                    self.inner
                        .secrets
                        .decrypt(&resource(name), v)
                        .map(Secret::new)
                })
                .transpose()
        };
        match (find(PRIMARY)?, find(SECONDARY)?) {
            (Some(primary), Some(secondary)) => Ok(Some(AccessKeys { primary, secondary })),
            _ => Ok(None),
        }
    }
}
