//! What the Redis and PostgreSQL servers of [`crate::redis`] and [`crate::postgres`] (and the
//! browser of `crate::browser`) share: why a start failed, and the skip-unless-`CI=true` rule for
//! a server that is not installed.

/// Why a test server ([`crate::redis::RedisServer::start`], [`crate::postgres::Postgres::start`])
/// could not start. `server` names it in messages ("redis-server", "PostgreSQL").
#[derive(Debug)]
pub enum StartError {
    /// The server's binaries are not installed.
    NotInstalled { server: &'static str, why: String },
    Failed {
        server: &'static str,
        source: anyhow::Error,
    },
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::NotInstalled { server, why } => {
                write!(f, "{server} is not installed: {why}")
            }
            StartError::Failed { server, source } => write!(f, "starting {server}: {source:#}"),
        }
    }
}

impl StartError {
    /// For `map_err`: `server`'s binaries were not found, and why.
    pub(crate) fn not_installed(server: &'static str) -> impl FnOnce(String) -> StartError {
        move |why| StartError::NotInstalled { server, why }
    }

    /// For `map_err`: `server` was found but did not start.
    pub(crate) fn failed(server: &'static str) -> impl FnOnce(anyhow::Error) -> StartError {
        move |source| StartError::Failed { server, source }
    }
}

// No `source()`: Display already prints the whole chain (`{source:#}`), and a reporter that
// walked `source()` too would print it twice.
impl std::error::Error for StartError {}

/// Runs `start`, or returns `None` after printing why when the server is not installed —
/// except under `CI=true`, where that fails the test (`scripts/test.sh` installs `package`).
/// Any other failure to start panics.
#[cfg(any(feature = "postgres", feature = "redis"))]
pub(crate) fn start_or_skip<T>(
    test: &str,
    package: &str,
    start: impl FnOnce() -> Result<T, StartError>,
) -> Option<T> {
    skip_unless_ci(test, package, start())
}

/// What [`start_or_skip`] does with the result of a start, for starts that are `async`
/// ([`crate::browser::Browser::start_or_skip`]).
pub(crate) fn skip_unless_ci<T>(
    test: &str,
    package: &str,
    started: Result<T, StartError>,
) -> Option<T> {
    match started {
        Ok(server) => Some(server),
        Err(StartError::NotInstalled { server, why }) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{test}: {server} is required under CI=true ({why}); apt-get install {package}"
            );
            eprintln!("SKIPPED {test}: {server} is not installed ({why})");
            None
        }
        Err(e) => panic!("{test}: {e}"),
    }
}
