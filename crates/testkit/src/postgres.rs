//! A real PostgreSQL server for tests, in a temporary directory, stopped and removed on drop.
//!
//! The binaries are looked up on `PATH`, then in `/usr/lib/postgresql/*/bin` (Debian's
//! `postgresql` package, which `scripts/test.sh` installs). PostgreSQL refuses to run as root,
//! so under root the server runs as `nobody` (uid 65534) through `setpriv`, in a directory
//! handed to that user. It listens on 127.0.0.1 only, on a free port, with its Unix socket
//! inside the temporary directory; authentication is `trust` for the user `gatehouse`.

use anyhow::{Context, Result, anyhow, bail};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The unprivileged user the server runs as when the tests run as root.
const NOBODY: u32 = 65534;
const USER: &str = "gatehouse";

pub use crate::external::StartError;

/// How [`StartError`] names this server.
const SERVER: &str = "PostgreSQL";

/// A running PostgreSQL server.
#[derive(Debug)]
pub struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    as_nobody: bool,
    // Dropped after the server is stopped (fields drop in declaration order after Drop::drop).
    _dir: tempfile::TempDir,
}

impl Postgres {
    /// Starts a fresh server (`initdb`, then `pg_ctl start -w`, which returns once the server
    /// accepts connections).
    pub fn start() -> Result<Postgres, StartError> {
        let bin = find_bin().map_err(StartError::not_installed(SERVER))?;
        start_in(bin).map_err(StartError::failed(SERVER))
    }

    /// Starts a server, or returns `None` after printing why when PostgreSQL is not installed
    /// — except under `CI=true`, where a missing PostgreSQL fails the test (`scripts/test.sh`
    /// installs it). Any other failure to start panics.
    pub fn start_or_skip(test: &str) -> Option<Postgres> {
        crate::external::start_or_skip(test, "postgresql", Postgres::start)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `postgres://gatehouse@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        self.url_for("postgres")
    }

    /// The URL of database `name` on this server.
    pub fn url_for(&self, name: &str) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{name}", self.port)
    }

    /// Creates database `name` and returns its URL.
    pub fn create_db(&self, name: &str) -> Result<String> {
        let out = Command::new(self.bin.join("createdb"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                USER,
                name,
            ])
            .output()
            .context("running createdb")?;
        check(&out, "createdb")?;
        Ok(self.url_for(name))
    }

    /// Stops the server (fast shutdown: connections are closed), keeping its data directory
    /// and port for [`Postgres::resume`]: the store "goes away".
    pub fn pause(&self) -> Result<()> {
        let out = self
            .command("pg_ctl")
            .arg("stop")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "fast", "-w"])
            .output()
            .context("running pg_ctl stop")?;
        check(&out, "pg_ctl stop")
    }

    /// Starts the server stopped by [`Postgres::pause`] again, on the same port with the same
    /// data; returns once it accepts connections.
    pub fn resume(&self) -> Result<()> {
        let out = self
            .command("pg_ctl")
            .current_dir(self._dir.path())
            .arg("start")
            .arg("-D")
            .arg(&self.data)
            .args([
                "-w",
                "-t",
                "60",
                "-o",
                &server_options(self._dir.path(), self.port),
                "-l",
            ])
            .arg(self._dir.path().join("server.log"))
            .output()
            .context("running pg_ctl start")?;
        check(&out, "pg_ctl start")
    }

    fn command(&self, program: &str) -> Command {
        command(&self.bin, program, self.as_nobody)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .arg("stop")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w"])
            .output();
    }
}

fn command(bin: &Path, program: &str, as_nobody: bool) -> Command {
    let path = bin.join(program);
    if as_nobody {
        let mut cmd = Command::new("setpriv");
        cmd.arg(format!("--reuid={NOBODY}"))
            .arg(format!("--regid={NOBODY}"))
            .arg("--clear-groups")
            .arg("--")
            .arg(path);
        cmd
    } else {
        Command::new(path)
    }
}

fn check(out: &Output, what: &str) -> Result<()> {
    if out.status.success() {
        return Ok(());
    }
    bail!(
        "{what} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The directory holding `initdb`, `pg_ctl`, `postgres` and `createdb`.
fn find_bin() -> Result<PathBuf, String> {
    let complete = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres", "createdb"]
            .iter()
            .all(|p| dir.join(p).is_file())
    };
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").is_file() {
                // /usr/local/bin/initdb may be a link into the real directory.
                let real = std::fs::canonicalize(dir.join("initdb"))
                    .ok()
                    .and_then(|p| p.parent().map(Path::to_path_buf));
                for candidate in [Some(dir.clone()), real].into_iter().flatten() {
                    if complete(&candidate) {
                        return Ok(candidate);
                    }
                }
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|_| "no initdb on PATH nor in /usr/lib/postgresql".to_string())?
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, dir)| complete(dir))
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, dir)| dir)
        .ok_or_else(|| "no initdb on PATH nor in /usr/lib/postgresql/*/bin".to_string())
}

fn server_options(dir: &Path, port: u16) -> String {
    format!(
        "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
        dir.display()
    )
}

fn start_in(bin: PathBuf) -> Result<Postgres> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let as_nobody = unsafe { libc::geteuid() } == 0;
    let dir = tempfile::Builder::new()
        .prefix("gatehouse-pg-")
        .tempdir()
        .context("creating the temporary directory")?;
    let data = dir.path().join("data");
    if as_nobody {
        std::os::unix::fs::chown(dir.path(), Some(NOBODY), Some(NOBODY))
            .context("handing the directory to nobody")?;
    }
    let out = command(&bin, "initdb", as_nobody)
        .current_dir(dir.path())
        .arg("-D")
        .arg(&data)
        .args([
            "-A",
            "trust",
            "-U",
            USER,
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ])
        .output()
        .context("running initdb")?;
    check(&out, "initdb")?;
    // A port free a moment ago may be taken by the time the server binds it: try a few.
    let mut last_error = anyhow!("no attempt");
    for _ in 0..5 {
        let port = crate::process::free_port();
        let options = server_options(dir.path(), port);
        let out = command(&bin, "pg_ctl", as_nobody)
            .current_dir(dir.path())
            .arg("start")
            .arg("-D")
            .arg(&data)
            .args(["-w", "-t", "60", "-o", &options, "-l"])
            .arg(dir.path().join("server.log"))
            .output()
            .context("running pg_ctl start")?;
        match check(&out, "pg_ctl start") {
            Ok(()) => {
                return Ok(Postgres {
                    bin,
                    data,
                    port,
                    as_nobody,
                    _dir: dir,
                });
            }
            Err(e) => {
                let log =
                    std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
                last_error = e.context(log);
            }
        }
    }
    Err(last_error)
}
