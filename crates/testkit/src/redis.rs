//! A real Redis server for tests: `redis-server` from `PATH` on 127.0.0.1 and a free port, in a
//! temporary directory, without persistence. It can be stopped and started again on the same
//! port (the "Redis went down" scenarios); dropping it kills it.

use anyhow::{Context, Result, bail};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a start may take before the test fails.
const START_TIMEOUT: Duration = Duration::from_secs(10);

pub use crate::external::StartError;

/// How [`StartError`] names this server.
const SERVER: &str = "redis-server";

/// A running (or stopped, see [`RedisServer::stop`]) `redis-server`.
#[derive(Debug)]
pub struct RedisServer {
    bin: PathBuf,
    port: u16,
    child: Option<Child>,
    dir: tempfile::TempDir,
}

impl RedisServer {
    /// Starts a server on a free loopback port and waits until it answers PING.
    pub fn start() -> Result<RedisServer, StartError> {
        let bin = find_bin().map_err(StartError::not_installed(SERVER))?;
        let dir = tempfile::tempdir()
            .context("temporary directory")
            .map_err(StartError::failed(SERVER))?;
        let mut server = RedisServer {
            bin,
            port: crate::process::free_port(),
            child: None,
            dir,
        };
        server.restart().map_err(StartError::failed(SERVER))?;
        Ok(server)
    }

    /// Starts a server, or returns `None` after printing why when `redis-server` is not
    /// installed — except under `CI=true`, where that fails the test (`scripts/test.sh`
    /// installs it). Any other failure to start panics.
    pub fn start_or_skip(test: &str) -> Option<RedisServer> {
        crate::external::start_or_skip(test, "redis-server", RedisServer::start)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills the server and waits for it to exit: clients see connections refused.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// (Re)starts the server on the same port (stopping it first if running) and waits until
    /// it answers PING. The data is gone: there is no persistence.
    pub fn restart(&mut self) -> Result<()> {
        self.stop();
        let child = Command::new(&self.bin)
            .args(["--bind", "127.0.0.1", "--port"])
            .arg(self.port.to_string())
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("running {}", self.bin.display()))?;
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if self.ping() {
                return Ok(());
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                bail!("redis-server exited at start: {status}");
            }
            if Instant::now() > deadline {
                bail!("redis-server did not answer PING within {START_TIMEOUT:?}");
            }
            // Polling a child process's readiness: there is no event to wait on.
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the server answers PING now.
    pub fn ping(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
        if s.write_all(b"PING\r\n").is_err() {
            return false;
        }
        let mut buf = [0u8; 7];
        s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn find_bin() -> Result<PathBuf, String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("redis-server"))
        .find(|p| p.is_file())
        .ok_or_else(|| "redis-server not found on PATH".to_owned())
}
