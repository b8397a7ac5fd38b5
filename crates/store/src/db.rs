//! The two backends behind one type, and the connection settings each needs.

use crate::error::StoreError;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// How long a SQLite writer waits for another one to finish (also another process on the same
/// file) before failing with "database is locked".
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Debug)]
pub(crate) enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the backend's pool. The SQL the store sends is written
/// once for both dialects (`$N` placeholders, `ON CONFLICT`, which both understand); the
/// macro only lets the same code type-check against each driver.
macro_rules! on_db {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_db;

impl Db {
    pub(crate) fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Connects to `url` and migrates the schema. The URL is never logged: it may hold a
    /// password.
    pub(crate) async fn open(url: &str) -> Result<Db, StoreError> {
        let bad = |reason: String| StoreError::BadUrl {
            url: redact_url(url),
            reason,
        };
        let scheme = url.split_once(':').map(|(s, _)| s).unwrap_or("");
        match scheme {
            "sqlite" => {
                let options = SqliteConnectOptions::from_str(url)
                    .map_err(|e| bad(e.to_string()))?
                    .create_if_missing(true)
                    // WAL: readers (the gateway loading) never block the writer, nor it them.
                    .journal_mode(SqliteJournalMode::Wal)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT)
                    .foreign_keys(true);
                create_parent_dir(options.get_filename())?;
                let pool = SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect_with(options)
                    .await
                    .map_err(|source| StoreError::Database {
                        backend: "sqlite",
                        action: "opening the database",
                        source,
                    })?;
                sqlx::migrate!("migrations/sqlite")
                    .run(&pool)
                    .await
                    .map_err(|source| StoreError::Migrate {
                        backend: "sqlite",
                        source,
                    })?;
                Ok(Db::Sqlite(pool))
            }
            "postgres" | "postgresql" => {
                let options = PgConnectOptions::from_str(url).map_err(|e| bad(e.to_string()))?;
                let pool = PgPoolOptions::new()
                    .max_connections(8)
                    .connect_with(options)
                    .await
                    .map_err(|source| StoreError::Database {
                        backend: "postgres",
                        action: "connecting",
                        source,
                    })?;
                sqlx::migrate!("migrations/postgres")
                    .run(&pool)
                    .await
                    .map_err(|source| StoreError::Migrate {
                        backend: "postgres",
                        source,
                    })?;
                Ok(Db::Postgres(pool))
            }
            _ => Err(bad("unknown scheme".into())),
        }
    }
}

/// Creates the directory of a SQLite file (mode 0700: it holds the configuration) when it is
/// missing, as `create_if_missing` creates only the file.
fn create_parent_dir(file: &Path) -> Result<(), StoreError> {
    let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Ok(());
    };
    if file.as_os_str() == ":memory:" || dir.exists() {
        return Ok(());
    }
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| StoreError::BadUrl {
            url: format!("sqlite://{}", file.display()),
            reason: format!("cannot create the directory {}: {e}", dir.display()),
        })
}

/// The URL without its password, for error messages.
pub(crate) fn redact_url(url: &str) -> String {
    // scheme://user:password@host...: keep everything but the password.
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_repeated() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
    }

    #[tokio::test]
    async fn sqlite_files_get_their_directory() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a/b/store.db");
        let db = Db::open(&format!("sqlite://{}", file.display()))
            .await
            .unwrap();
        assert_eq!(db.backend(), "sqlite");
        assert!(file.is_file());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[tokio::test]
    async fn unknown_schemes_are_refused() {
        let err = Db::open("mysql://u:pw@h/db").await.unwrap_err();
        assert!(matches!(err, StoreError::BadUrl { .. }));
        let text = err.to_string();
        assert!(
            text.contains("sqlite://PATH") && !text.contains("pw"),
            "{text}"
        );
    }
}
