//! [`Gatehouse`]: runs the real `gatehouse` binary for end-to-end tests.
//!
//! The fixture writes the config into a fresh temporary directory, spawns
//! `BIN serve --config DIR/gatehouse.yaml` (the arguments before `--config` can be changed),
//! captures stdout and stderr line by line, and waits until the gateway is ready (by default:
//! its health probe `GET /status-0123456789abcdef` answers 200). Dropping it kills the
//! process and removes the directory.
//!
//! Environment knobs, for debugging a failing test:
//! - `GATEHOUSE_TEST_ECHO=1` echoes the process's output to the test's stderr as it arrives;
//! - `GATEHOUSE_TEST_KEEP=1` keeps the temporary directory.
//!
//! If the test panics while the fixture is alive, the captured output is printed on drop.

use std::ffi::OsString;
use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, anyhow, bail};

use crate::raw;

/// The gateway's health-probe path (as in Azure API Management).
pub const HEALTH_PATH: &str = "/status-0123456789abcdef";

/// How long [`Gatehouse::start`] waits for readiness unless told otherwise.
pub const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

/// The config file's name inside the fixture's directory.
pub const CONFIG_FILE_NAME: &str = "gatehouse.yaml";

const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// Returns a TCP port on 127.0.0.1 that was free a moment ago; see [`free_addr`].
pub fn free_port() -> u16 {
    free_addr().port()
}

/// The ports tests hand out: below Linux's ephemeral range (32768–60999 by default), so an
/// outgoing connection — of this test or another — is never given a port a test is about to
/// listen on, which binding port 0 and releasing it could not promise.
const TEST_PORTS: std::ops::Range<u32> = 20_000..32_000;

/// Returns `127.0.0.1:PORT` with a port that was free a moment ago; see [`free_addr_on`].
pub fn free_addr() -> SocketAddr {
    free_addr_on(Ipv4Addr::LOCALHOST)
}

/// Returns `IP:PORT` (an address of 127.0.0.0/8, all local on Linux) with a port that was free
/// a moment ago. Ports come from outside the ephemeral range, each at most once per process (a
/// counter from a per-process start), and are checked by binding them. Panics if none can be
/// bound.
pub fn free_addr_on(ip: Ipv4Addr) -> SocketAddr {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    let span = TEST_PORTS.end - TEST_PORTS.start;
    // Start somewhere that depends on the process, so test binaries run one after another do
    // not reuse the same ports (which may still be in TIME_WAIT).
    let _ = NEXT.compare_exchange(
        u32::MAX,
        std::process::id().wrapping_mul(7919) % span,
        Ordering::Relaxed,
        Ordering::Relaxed,
    );
    for _ in 0..span {
        let n = NEXT.fetch_add(1, Ordering::Relaxed) % span;
        let Ok(port) = u16::try_from(TEST_PORTS.start + n) else {
            continue;
        };
        if let Ok(listener) = TcpListener::bind((ip, port))
            && let Ok(addr) = listener.local_addr()
        {
            return addr;
        }
    }
    panic!("testkit: no free port in {TEST_PORTS:?} on {ip}");
}

/// How to tell that a freshly started gatehouse is ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// `GET /status-0123456789abcdef` over plain HTTP/1.1 at this address answers 200.
    Http(SocketAddr),
    /// A TCP connection to this address succeeds (e.g. a TLS-only listener).
    Tcp(SocketAddr),
    /// A captured output line contains this text.
    Log(String),
    /// Do not wait: ready as soon as the process is spawned.
    None,
}

impl Probe {
    /// Runs the probe once (`logs`: the output captured so far); true when ready.
    async fn check(&self, logs: &[String]) -> bool {
        match self {
            Probe::Http(addr) => http_probe(*addr).await,
            Probe::Tcp(addr) => {
                tokio::time::timeout(Duration::from_secs(1), tokio::net::TcpStream::connect(addr))
                    .await
                    .is_ok_and(|r| r.is_ok())
            }
            Probe::Log(text) => logs.iter().any(|l| l.contains(text.as_str())),
            Probe::None => true,
        }
    }
}

/// Sends one `GET /status-0123456789abcdef` (HTTP/1.1, `Connection: close`) to `addr`;
/// true when it answers 200 within a second.
pub async fn http_probe(addr: SocketAddr) -> bool {
    let request =
        format!("GET {HEALTH_PATH} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let attempt = tokio::time::timeout(
        Duration::from_secs(2),
        raw::send_raw_timeout(addr, request.as_bytes(), Duration::from_secs(1)),
    )
    .await;
    matches!(attempt, Ok(Ok(resp)) if raw::status_of(&resp) == Some(200))
}

/// A fresh directory under the system temp dir, removed on drop (unless
/// `GATEHOUSE_TEST_KEEP` is set).
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn new() -> Result<TempDir> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "gatehouse-test-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir(&path).with_context(|| format!("creating temp dir {}", path.display()))?;
        Ok(TempDir { path })
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("GATEHOUSE_TEST_KEEP").is_none() {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// Configures and starts a [`Gatehouse`]. Its temporary directory exists from
/// [`Gatehouse::builder`] on, so certificates and other files the config refers to can be
/// written into [`GatehouseBuilder::dir`] before starting.
#[derive(Debug)]
pub struct GatehouseBuilder {
    bin: PathBuf,
    dir: TempDir,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    probe: Probe,
    startup_timeout: Duration,
}

impl GatehouseBuilder {
    /// The directory the config will be written to (and the process's working directory).
    pub fn dir(&self) -> &Path {
        &self.dir.path
    }

    /// Replaces the arguments placed before `--config PATH` (default: `serve`).
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args = args.into_iter().map(Into::into).collect();
        self
    }

    /// Appends one argument before `--config PATH`.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Sets an environment variable for the process (e.g. `RUST_LOG`).
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Sets the readiness probe (default: [`Probe::None`] for a builder; [`Gatehouse::start`]
    /// uses [`Probe::Http`]).
    pub fn probe(mut self, probe: Probe) -> Self {
        self.probe = probe;
        self
    }

    /// Sets how long to wait for readiness (default 20 s).
    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.startup_timeout = timeout;
        self
    }

    /// Writes `config_yaml` to `DIR/gatehouse.yaml`, spawns `BIN ARGS... --config PATH` and
    /// waits for the probe. Fails with the captured output if the process exits first or the
    /// probe does not succeed in time.
    pub async fn start(self, config_yaml: &str) -> Result<Gatehouse> {
        let config_path = self.dir.path.join(CONFIG_FILE_NAME);
        fs::write(&config_path, config_yaml)
            .with_context(|| format!("writing {}", config_path.display()))?;
        let args = [OsString::from("--config"), config_path.clone().into()];
        self.spawn(config_path, &args).await
    }

    /// Spawns `BIN ARGS...` with no config file (store mode, the demo) and waits for the probe.
    /// `GATEHOUSE_DATA_DIR` is the fixture's directory unless set with [`Self::env`], so no
    /// test writes to the user's data directory.
    pub async fn start_without_config(mut self) -> Result<Gatehouse> {
        if !self.env.iter().any(|(k, _)| k == "GATEHOUSE_DATA_DIR") {
            let dir = self.dir.path.join("data");
            self.env.push(("GATEHOUSE_DATA_DIR".into(), dir.into()));
        }
        let config_path = self.dir.path.join(CONFIG_FILE_NAME);
        self.spawn(config_path, &[]).await
    }

    async fn spawn(self, config_path: PathBuf, extra: &[OsString]) -> Result<Gatehouse> {
        let mut cmd = Command::new(&self.bin);
        cmd.args(&self.args)
            .args(extra)
            .env("NO_COLOR", "1")
            .env("RUST_BACKTRACE", "1")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&self.dir.path)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .with_context(|| format!("spawning {}", self.bin.display()))?;
        let pid = child.id();

        let logs = Arc::new(Mutex::new(Vec::new()));
        let echo = std::env::var_os("GATEHOUSE_TEST_ECHO").is_some();
        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            readers.push(spawn_reader(out, logs.clone(), pid, echo)?);
        }
        if let Some(err) = child.stderr.take() {
            readers.push(spawn_reader(err, logs.clone(), pid, echo)?);
        }

        let gatehouse = Gatehouse {
            child: Mutex::new(child),
            pid,
            config_path,
            logs,
            readers,
            bin: self.bin,
            dir: self.dir,
        };
        gatehouse
            .wait_ready(&self.probe, self.startup_timeout)
            .await?;
        Ok(gatehouse)
    }
}

fn spawn_reader(
    stream: impl Read + Send + 'static,
    logs: Arc<Mutex<Vec<String>>>,
    pid: u32,
    echo: bool,
) -> Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("gatehouse-{pid}-output"))
        .spawn(move || {
            let mut reader = BufReader::new(stream);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match reader.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let line = String::from_utf8_lossy(&buf)
                            .trim_end_matches(['\r', '\n'])
                            .to_owned();
                        if echo {
                            eprintln!("[gatehouse {pid}] {line}");
                        }
                        lock(&logs).push(line);
                    }
                }
            }
        })
        .context("spawning an output reader thread")
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running `gatehouse` process with its config in a temporary directory.
///
/// Drop kills it (SIGKILL) and removes the directory.
#[derive(Debug)]
pub struct Gatehouse {
    child: Mutex<Child>,
    pid: u32,
    config_path: PathBuf,
    logs: Arc<Mutex<Vec<String>>>,
    readers: Vec<JoinHandle<()>>,
    bin: PathBuf,
    // Last: removed after the process is killed.
    dir: TempDir,
}

impl Gatehouse {
    /// Runs `BIN serve --config DIR/gatehouse.yaml` and waits (up to 20 s) until
    /// `GET http://probe_addr/status-0123456789abcdef` answers 200.
    pub async fn start(bin: &Path, config_yaml: &str, probe_addr: SocketAddr) -> Result<Gatehouse> {
        Self::builder(bin)?
            .probe(Probe::Http(probe_addr))
            .start(config_yaml)
            .await
    }

    /// Like [`Gatehouse::start`] with `args_before_config` instead of `serve`:
    /// runs `BIN ARGS... --config DIR/gatehouse.yaml`.
    pub async fn start_with_args(
        bin: &Path,
        args_before_config: &[&str],
        config_yaml: &str,
        probe_addr: SocketAddr,
    ) -> Result<Gatehouse> {
        Self::builder(bin)?
            .args(args_before_config.iter().copied())
            .probe(Probe::Http(probe_addr))
            .start(config_yaml)
            .await
    }

    /// A builder with a fresh temporary directory, arguments `serve`, no probe and the
    /// default startup timeout.
    pub fn builder(bin: &Path) -> Result<GatehouseBuilder> {
        Ok(GatehouseBuilder {
            bin: bin.to_owned(),
            dir: TempDir::new()?,
            args: vec!["serve".into()],
            env: Vec::new(),
            probe: Probe::None,
            startup_timeout: DEFAULT_STARTUP_TIMEOUT,
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The temporary directory holding the config (also the working directory).
    pub fn dir(&self) -> &Path {
        &self.dir.path
    }

    /// `DIR/gatehouse.yaml`.
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// Replaces the config atomically: writes a temporary file in the same directory and
    /// renames it over `gatehouse.yaml` (so a file watcher never sees a half-written file).
    pub fn write_config(&self, yaml: &str) -> Result<()> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let tmp = self.dir.path.join(format!(
            ".{CONFIG_FILE_NAME}.tmp-{}",
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        fs::write(&tmp, yaml).with_context(|| format!("writing {}", tmp.display()))?;
        fs::rename(&tmp, &self.config_path).with_context(|| {
            format!(
                "renaming {} to {}",
                tmp.display(),
                self.config_path.display()
            )
        })
    }

    /// Sends signal `name` (as `kill -s NAME`, e.g. "HUP", "TERM", "INT") to the process.
    /// Fails if the process has already exited.
    pub fn signal(&self, name: &str) -> Result<()> {
        if let Some(status) = self.try_exit_status()? {
            bail!(
                "cannot send SIG{name}: gatehouse (pid {}) already exited with {status}",
                self.pid
            );
        }
        let out = Command::new("kill")
            .args(["-s", name, &self.pid.to_string()])
            .output()
            .context("running kill")?;
        if !out.status.success() {
            bail!(
                "kill -s {name} {} failed: {}",
                self.pid,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(())
    }

    /// Sends SIGHUP (config reload).
    pub fn sighup(&self) -> Result<()> {
        self.signal("HUP")
    }

    /// Sends SIGTERM (graceful shutdown).
    pub fn sigterm(&self) -> Result<()> {
        self.signal("TERM")
    }

    /// Kills the process with SIGKILL and reaps it (does nothing if it already exited).
    pub fn kill(&self) {
        let mut child = lock(&self.child);
        let _ = child.kill();
        let _ = child.wait();
    }

    /// The exit status if the process has exited, without waiting.
    pub fn try_exit_status(&self) -> Result<Option<ExitStatus>> {
        lock(&self.child)
            .try_wait()
            .context("checking whether gatehouse exited")
    }

    /// Waits up to `timeout` (polling every 50 ms) for the process to exit.
    pub async fn wait_exit(&self, timeout: Duration) -> Result<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_exit_status()? {
                return Ok(status);
            }
            if Instant::now() >= deadline {
                bail!(
                    "gatehouse (pid {}) did not exit within {timeout:?}; output:\n{}",
                    self.pid,
                    self.logs_text()
                );
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Waits until `probe` succeeds, polling every 50 ms for up to `timeout`; fails with the
    /// captured output if the process exits first or time runs out.
    pub async fn wait_ready(&self, probe: &Probe, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.try_exit_status()? {
                self.wait_readers(Duration::from_secs(1));
                return Err(anyhow!(
                    "gatehouse ({} pid {}) exited with {status} before becoming ready ({probe:?}); output:\n{}",
                    self.bin.display(),
                    self.pid,
                    self.logs_text()
                ));
            }
            let logs = self.logs();
            if probe.check(&logs).await {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!(
                    "gatehouse ({} pid {}) not ready ({probe:?}) within {timeout:?}; output:\n{}",
                    self.bin.display(),
                    self.pid,
                    self.logs_text()
                );
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Gives the output reader threads up to `timeout` to reach EOF after the process exited.
    fn wait_readers(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline && !self.readers.iter().all(|r| r.is_finished()) {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Every stdout and stderr line captured so far, in arrival order.
    pub fn logs(&self) -> Vec<String> {
        lock(&self.logs).clone()
    }

    /// The captured output as one string (lines joined with `\n`), for error messages.
    pub fn logs_text(&self) -> String {
        lock(&self.logs).join("\n")
    }

    /// The number of lines captured so far: pass it to [`Gatehouse::logs_since`] or
    /// [`Gatehouse::wait_for_log_since`] to look only at later output (e.g. after a reload).
    pub fn log_mark(&self) -> usize {
        lock(&self.logs).len()
    }

    /// The lines captured after `mark` (see [`Gatehouse::log_mark`]).
    pub fn logs_since(&self, mark: usize) -> Vec<String> {
        lock(&self.logs).iter().skip(mark).cloned().collect()
    }

    /// The captured lines that are JSON objects, parsed.
    pub fn json_logs(&self) -> Vec<serde_json::Value> {
        lock(&self.logs)
            .iter()
            .filter(|l| l.trim_start().starts_with('{'))
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l.trim()).ok())
            .filter(serde_json::Value::is_object)
            .collect()
    }

    /// Waits up to `timeout` (polling every 50 ms) for the JSON access log line of the request
    /// whose logged path is `path` (`"message":"request"`), parsed; fails with the captured
    /// output otherwise.
    pub async fn wait_for_access(
        &self,
        path: &str,
        timeout: Duration,
    ) -> Result<serde_json::Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let found = self
                .json_logs()
                .into_iter()
                .find(|v| v["message"] == "request" && v["path"] == path);
            if let Some(line) = found {
                return Ok(line);
            }
            if Instant::now() >= deadline {
                bail!(
                    "no access log line for {path} within {timeout:?}; output:\n{}",
                    self.logs_text()
                );
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Waits up to `timeout` (polling every 50 ms) for a captured line containing `needle`
    /// and returns the first such line; fails with the captured output otherwise.
    pub async fn wait_for_log(&self, needle: &str, timeout: Duration) -> Result<String> {
        self.wait_for_log_since(0, needle, timeout).await
    }

    /// Like [`Gatehouse::wait_for_log`] but only considers lines after `mark`.
    pub async fn wait_for_log_since(
        &self,
        mark: usize,
        needle: &str,
        timeout: Duration,
    ) -> Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let found = lock(&self.logs)
                .iter()
                .skip(mark)
                .find(|l| l.contains(needle))
                .cloned();
            if let Some(line) = found {
                return Ok(line);
            }
            if Instant::now() >= deadline {
                let exited = match self.try_exit_status() {
                    Ok(Some(status)) => format!(" (process exited with {status})"),
                    _ => String::new(),
                };
                bail!(
                    "no gatehouse output line containing {needle:?} within {timeout:?}{exited}; output:\n{}",
                    self.logs_text()
                );
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }
}

impl Drop for Gatehouse {
    fn drop(&mut self) {
        self.kill();
        // A killed gateway cannot remove its admin socket (it does on SIGTERM): remove the one it
        // announced, so test runs leave nothing in the shared runtime directory.
        let sockets: Vec<String> = self
            .json_logs()
            .iter()
            .filter(|v| {
                v["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("admin socket ready"))
            })
            .filter_map(|v| v["socket"].as_str().map(str::to_string))
            .collect();
        for socket in sockets {
            let _ = std::fs::remove_file(socket);
        }
        if std::thread::panicking() {
            self.wait_readers(Duration::from_millis(500));
            eprintln!(
                "---- gatehouse (pid {}, dir {}) output ----\n{}\n---- end of gatehouse output ----",
                self.pid,
                self.dir.path.display(),
                self.logs_text()
            );
        }
    }
}
