//! [`Browser`]: a headless Chromium for the portal's tests, driven over WebDriver.
//!
//! [`Browser::start`] runs Debian's `chromedriver` (package `chromium-driver`) on a free
//! loopback port in a process group of its own, waits until its `/status` says ready, and opens
//! a `fantoccini` session with headless `chromium` in a temporary profile directory. Dropping
//! the browser kills the whole process group (chromedriver and every Chromium process it
//! started) and removes the profile: one browser per test, never left running on a machine
//! other engineers share.
//!
//! The helpers find things the way a user does — an input by its `<label>`, a button by its
//! text — so a test also checks that the portal's forms are labelled. Waiting polls the DOM
//! (a page has no event to subscribe to over WebDriver) with a short interval and a bound.
//!
//! Environment knobs: `GATEHOUSE_TEST_CHROMIUM` and `GATEHOUSE_TEST_CHROMEDRIVER` override the
//! binaries looked up on `PATH`.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail};
pub use fantoccini;
use fantoccini::{Client, ClientBuilder, Locator};

use crate::external::StartError;

/// How long chromedriver may take to answer ready, and Chromium to open a session.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How often [`Browser::wait_for_text`] looks at the page again.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// How long drop waits for the killed processes to be gone before removing the profile.
const EXIT_TIMEOUT: Duration = Duration::from_secs(5);

/// How [`StartError`] names the browser.
const SERVER: &str = "chromium/chromedriver";

/// The flags Chromium runs with. `--no-sandbox`: tests run as root, where Chromium refuses to
/// start sandboxed. The `--disable-*`/`--no-*` flags keep a test browser from reaching out
/// (updates, sync, first-run pages) and from needing a GPU or a large /dev/shm.
const CHROMIUM_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-sync",
    "--disable-component-update",
    "--password-store=basic",
];

/// A headless Chromium session; see the module documentation.
pub struct Browser {
    client: Client,
    driver: Child,
    driver_port: u16,
    /// The profile (`--user-data-dir`) and chromedriver's log; removed after the kill.
    dir: tempfile::TempDir,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser")
            .field("driver_pid", &self.driver.id())
            .field("driver_port", &self.driver_port)
            .field("dir", &self.dir.path())
            .finish_non_exhaustive()
    }
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session.
    pub async fn start() -> Result<Browser, StartError> {
        let chromium = find_bin("GATEHOUSE_TEST_CHROMIUM", &["chromium", "chromium-browser"])
            .map_err(StartError::not_installed(SERVER))?;
        let chromedriver = find_bin("GATEHOUSE_TEST_CHROMEDRIVER", &["chromedriver"])
            .map_err(StartError::not_installed(SERVER))?;
        let dir = tempfile::Builder::new()
            .prefix("gatehouse-browser-")
            .tempdir()
            .context("temporary directory")
            .map_err(StartError::failed(SERVER))?;
        let port = crate::process::free_port();
        let log = dir.path().join("chromedriver.log");
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // A group of its own: drop kills chromedriver and every Chromium process at once.
            .process_group(0)
            .spawn()
            .with_context(|| format!("running {}", chromedriver.display()))
            .map_err(StartError::failed(SERVER))?;
        // From here on, dropping `guard` (on any error too) kills what was started.
        let mut guard = DriverGuard {
            driver: Some(driver),
        };
        let connected = async {
            wait_ready(port, guard.child()?).await?;
            connect(port, &chromium, &dir.path().join("profile")).await
        }
        .await;
        let client = match connected {
            Ok(client) => client,
            Err(e) => {
                let tail = log_tail(&log);
                return Err(StartError::failed(SERVER)(
                    e.context(format!("chromedriver's log ends with:\n{tail}")),
                ));
            }
        };
        let driver = guard
            .driver
            .take()
            .ok_or_else(|| anyhow!("chromedriver vanished"))
            .map_err(StartError::failed(SERVER))?;
        Ok(Browser {
            client,
            driver,
            driver_port: port,
            dir,
        })
    }

    /// Starts a browser, or returns `None` after printing why when `chromium` or
    /// `chromedriver` is not installed — except under `CI=true`, where that fails the test
    /// (`scripts/test.sh` installs them). Any other failure to start panics.
    pub async fn start_or_skip(test: &str) -> Option<Browser> {
        crate::external::skip_unless_ci(test, "chromium chromium-driver", Browser::start().await)
    }

    /// The WebDriver session, for what the helpers below do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// chromedriver's process id (also its process group's).
    pub fn driver_pid(&self) -> u32 {
        self.driver.id()
    }

    /// Chromium's profile directory (`--user-data-dir`), removed on drop.
    pub fn user_data_dir(&self) -> PathBuf {
        self.dir.path().join("profile")
    }

    /// Navigates to `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) -> Result<()> {
        self.client
            .goto(url)
            .await
            .with_context(|| format!("opening {url}"))
    }

    /// The page's URL now.
    pub async fn current_url(&self) -> Result<String> {
        Ok(self
            .client
            .current_url()
            .await
            .context("reading the current URL")?
            .to_string())
    }

    /// Types `value` into the input labelled `label_or_css`: the `<label>` whose text (with
    /// whitespace collapsed) is exactly that — through its `for` attribute, or the control
    /// nested in it — or else, when no label has that text, the element matching it as a CSS
    /// selector. The input is cleared first.
    pub async fn fill(&self, label_or_css: &str, value: &str) -> Result<()> {
        let input = self.input_for(label_or_css).await?;
        input
            .clear()
            .await
            .with_context(|| format!("clearing {label_or_css:?}"))?;
        input
            .send_keys(value)
            .await
            .with_context(|| format!("typing into {label_or_css:?}"))
    }

    async fn input_for(&self, label_or_css: &str) -> Result<fantoccini::elements::Element> {
        let wanted = collapse_whitespace(label_or_css);
        let labels = self
            .client
            .find_all(Locator::Css("label"))
            .await
            .context("listing the page's labels")?;
        let mut seen = Vec::new();
        for label in labels {
            let text = collapse_whitespace(&label.text().await.context("a label's text")?);
            if text != wanted {
                seen.push(text);
                continue;
            }
            return match label.attr("for").await.context("a label's `for`")? {
                Some(id) if !id.is_empty() => self
                    .client
                    .find(Locator::Id(&id))
                    .await
                    .with_context(|| format!("label {wanted:?} is for #{id}, which is missing")),
                _ => label
                    .find(Locator::Css("input, select, textarea"))
                    .await
                    .with_context(|| format!("label {wanted:?} has no `for` and no control")),
            };
        }
        self.client
            .find(Locator::Css(label_or_css))
            .await
            .with_context(|| {
                format!("no label {wanted:?} (labels on the page: {seen:?}) nor CSS match")
            })
    }

    /// Clicks the button (`<button>`, or an `<input type=submit|button>`) whose text or value
    /// is `text` (whitespace collapsed). A click that submits a form returns once the next page
    /// has loaded (chromedriver waits for the navigation it starts).
    pub async fn click_button(&self, text: &str) -> Result<()> {
        let wanted = collapse_whitespace(text);
        let buttons = self
            .client
            .find_all(Locator::Css(
                "button, input[type=submit], input[type=button], input[type=reset]",
            ))
            .await
            .context("listing the page's buttons")?;
        let mut seen = Vec::new();
        for button in buttons {
            let mut label = collapse_whitespace(&button.text().await.context("a button's text")?);
            if label.is_empty() {
                label = button
                    .attr("value")
                    .await
                    .context("a button's value")?
                    .map(|v| collapse_whitespace(&v))
                    .unwrap_or_default();
            }
            if label == wanted {
                return button
                    .click()
                    .await
                    .with_context(|| format!("clicking {wanted:?}"));
            }
            seen.push(label);
        }
        bail!("no button {wanted:?} (buttons on the page: {seen:?})")
    }

    /// The visible text of the first element matching `css`.
    pub async fn text_of(&self, css: &str) -> Result<String> {
        let element = self
            .client
            .find(Locator::Css(css))
            .await
            .with_context(|| format!("finding {css:?}"))?;
        element
            .text()
            .await
            .with_context(|| format!("the text of {css:?}"))
    }

    /// The page's visible text (its `<body>`).
    pub async fn page_text(&self) -> Result<String> {
        self.text_of("body").await
    }

    /// Waits until the page's visible text contains `text`, and returns that text. Polls every
    /// 50 ms (errors while a page is being replaced count as "not yet"); after `timeout` fails
    /// with the URL and the text the page had.
    pub async fn wait_for_text(&self, text: &str, timeout: Duration) -> Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let page = self.page_text().await;
            if let Ok(page) = &page
                && page.contains(text)
            {
                return Ok(page.clone());
            }
            if Instant::now() >= deadline {
                let url = self.current_url().await.unwrap_or_default();
                let page = match page {
                    Ok(p) => p,
                    Err(e) => format!("(unreadable: {e:#})"),
                };
                bail!(
                    "{text:?} did not appear on {url} within {timeout:?}; the page reads:\n{page}"
                );
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Saves a PNG of the window to `<workspace>/target/portal-screenshots/<name>.png` and
    /// returns its path. Characters of `name` other than letters, digits, `-`, `_` and `.` become
    /// `_`.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let png = self
            .client
            .screenshot()
            .await
            .context("taking a screenshot")?;
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let path = dir.join(format!("{}.png", file_name(name)));
        std::fs::write(&path, png).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }

    /// Ends the WebDriver session politely, then kills the processes (as drop does).
    pub async fn close(self) -> Result<()> {
        let closed = self.client.clone().close().await;
        drop(self);
        closed.context("closing the WebDriver session")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        kill_group(&mut self.driver);
    }
}

/// Kills chromedriver's process group unless [`Browser::start`] got as far as a `Browser`.
struct DriverGuard {
    driver: Option<Child>,
}

impl DriverGuard {
    fn child(&mut self) -> Result<&mut Child> {
        self.driver
            .as_mut()
            .ok_or_else(|| anyhow!("chromedriver vanished"))
    }
}

impl Drop for DriverGuard {
    fn drop(&mut self) {
        if let Some(driver) = self.driver.as_mut() {
            kill_group(driver);
        }
    }
}

/// SIGKILLs the process group led by `driver`, reaps chromedriver, and waits (bounded) until no
/// process of the group is left, so that the profile directory can be removed.
fn kill_group(driver: &mut Child) {
    let Ok(pgid) = libc::pid_t::try_from(driver.id()) else {
        return;
    };
    // SAFETY: killpg only sends a signal; `pgid` is the group this module created for the
    // chromedriver child it still owns (not yet reaped, so the id cannot have been reused).
    unsafe {
        libc::killpg(pgid, libc::SIGKILL);
    }
    let _ = driver.wait();
    let deadline = Instant::now() + EXIT_TIMEOUT;
    // SAFETY: signal 0 only checks whether the group still has members.
    while unsafe { libc::killpg(pgid, 0) } == 0 && Instant::now() < deadline {
        // Chromium's processes are reaped by init, not by us: there is no event to wait on.
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Polls chromedriver's `/status` until it reports `ready: true`, or fails after
/// [`START_TIMEOUT`] or when chromedriver exits.
async fn wait_ready(port: u16, driver: &mut Child) -> Result<()> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if tokio::task::spawn_blocking(move || status_ready(port))
            .await
            .unwrap_or(false)
        {
            return Ok(());
        }
        if let Some(status) = driver.try_wait().context("checking chromedriver")? {
            bail!("chromedriver exited at start: {status}");
        }
        if Instant::now() > deadline {
            bail!("chromedriver's /status was not ready within {START_TIMEOUT:?}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Whether `GET http://127.0.0.1:PORT/status` answers 200 with `{"value":{"ready":true}}`.
/// One HTTP/1.1 request over a socket (chromedriver refuses HTTP/1.0): enough for a loopback
/// probe without an HTTP client dependency. The JSON is taken from the first `{` to the last
/// `}`, which also reads a body sent as one chunk.
fn status_ready(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let request =
        format!("GET /status HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if s.write_all(request.as_bytes()).is_err() {
        return false;
    }
    // chromedriver keeps the connection open despite `Connection: close`: read until the head
    // and `Content-Length` bytes of body are in (or the peer closes, or 2 s pass).
    let mut response = Vec::new();
    let mut chunk = [0u8; 4096];
    let (head, body) = loop {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return false,
            Ok(n) => response.extend_from_slice(&chunk[..n]),
        }
        if response.len() > 1 << 20 {
            return false;
        }
        let text = String::from_utf8_lossy(&response);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head.lines().find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.trim()
                    .eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            });
            if length.is_none_or(|length| body.len() >= length) {
                break (head.to_owned(), body.to_owned());
            }
        }
    };
    let json = match (body.find('{'), body.rfind('}')) {
        (Some(start), Some(end)) if start < end => &body[start..=end],
        _ => return false,
    };
    head.starts_with("HTTP/1.1 200")
        && serde_json::from_str::<serde_json::Value>(json)
            .ok()
            .and_then(|v| {
                v.pointer("/value/ready")
                    .and_then(serde_json::Value::as_bool)
            })
            .unwrap_or(false)
}

/// Opens the WebDriver session: headless Chromium at `chromium` with its profile in `profile`.
async fn connect(port: u16, chromium: &Path, profile: &Path) -> Result<Client> {
    let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|a| (*a).to_owned()).collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    let mut caps = fantoccini::wd::Capabilities::new();
    caps.insert(
        "goog:chromeOptions".to_owned(),
        serde_json::json!({ "binary": chromium, "args": args }),
    );
    let builder = ClientBuilder::rustls()
        .context("loading the system's root certificates")?
        .capabilities(caps)
        .to_owned();
    let url = format!("http://127.0.0.1:{port}");
    tokio::time::timeout(START_TIMEOUT, builder.connect(&url))
        .await
        .map_err(|_| anyhow!("Chromium did not open a session within {START_TIMEOUT:?}"))?
        .context("opening a WebDriver session with headless Chromium")
}

/// The binary named by `env`, else the first of `names` on `PATH`.
fn find_bin(env: &str, names: &[&str]) -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os(env) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("{env}={} is not a file", path.display()))
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    names
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("none of {names:?} found on PATH"))
}

/// The last lines of chromedriver's log, for a start failure's message.
fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// `<workspace>/target/portal-screenshots`: under `CARGO_TARGET_DIR` when set (relative to the
/// workspace, as cargo reads it from the workspace root in scripts/test.sh), else the
/// workspace's `target/` (this crate is `crates/testkit` of the workspace).
fn screenshot_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => workspace.join(dir),
        _ => workspace.join("target"),
    };
    target.join("portal-screenshots")
}

fn file_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match cleaned.trim_start_matches('.') {
        "" => "screenshot".to_owned(),
        rest => rest.to_owned(),
    }
}

fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screenshot_names_stay_inside_the_directory() {
        assert_eq!(file_name("sign-up_1"), "sign-up_1");
        assert_eq!(file_name("../etc/passwd"), "_etc_passwd");
        assert_eq!(file_name("a b/c"), "a_b_c");
        assert_eq!(file_name(".."), "screenshot");
    }

    #[test]
    fn binaries_are_looked_up_on_the_path_unless_named() {
        let missing = find_bin(
            "GATEHOUSE_TEST_NO_SUCH_VARIABLE",
            &["no-such-browser-binary"],
        );
        assert!(missing.unwrap_err().contains("no-such-browser-binary"));
        // `sh` is on every PATH this code runs under.
        let found = find_bin("GATEHOUSE_TEST_NO_SUCH_VARIABLE", &["no-such-binary", "sh"]);
        assert!(found.unwrap().ends_with("sh"));
    }

    #[test]
    fn whitespace_is_collapsed_for_matching() {
        assert_eq!(collapse_whitespace("  First\n   name "), "First name");
    }

    #[test]
    fn screenshots_go_under_a_target_directory() {
        let dir = screenshot_dir();
        assert!(dir.ends_with("portal-screenshots"), "{}", dir.display());
    }
}
