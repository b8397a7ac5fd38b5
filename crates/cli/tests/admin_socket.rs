//! End to end: the admin socket `gatehouse net apply` talks through (issue 9, finding 13).
//!
//! The socket used to live in the shared temp directory under a predictable name, so another
//! local user could create it first and `net apply` would print "applied" on that impostor's
//! word. Now the default location is a private directory (`$XDG_RUNTIME_DIR/gatehouse`, else
//! `<tmp>/gatehouse-<uid>`, mode 0700) that is refused when it is a symlink, has a wider mode or
//! another owner; both sides check the peer's credentials; and the socket is removed at shutdown.
//!
//! Every test runs `gatehouse` with its own `XDG_RUNTIME_DIR` or `TMPDIR`, so none of them
//! touches the machine's real runtime or temp directory. Tests that need root (to act as
//! another user, uid 65534) fail under `CI=true` without it and are skipped otherwise.

use gatehouse_testkit::{Gatehouse, Probe, free_addr};
use serde_json::Value;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixListener;

const BIN: &str = env!("CARGO_BIN_EXE_gatehouse");
/// Another local user: `nobody` on most systems.
const OTHER_UID: u32 = 65534;
/// Generous: the machine may be loaded.
const WAIT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A fresh directory (mode 0755, so another user can reach what a test puts there) under the
/// system temp dir, removed on drop.
struct TestDir {
    path: PathBuf,
}

impl TestDir {
    fn new() -> TestDir {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "gatehouse-admin-test-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir(&path).expect("create the test directory");
        chmod(&path, 0o755);
        TestDir { path }
    }

    /// A subdirectory with `mode`.
    fn subdir(&self, name: &str, mode: u32) -> PathBuf {
        let p = self.path.join(name);
        std::fs::create_dir(&p).expect("create a subdirectory");
        chmod(&p, mode);
        p
    }

    /// Writes a config file serving nothing but the health probe on `listen`.
    fn config(&self, listen: std::net::SocketAddr) -> PathBuf {
        let p = self.path.join("gatehouse.yaml");
        std::fs::write(&p, config_yaml(listen)).expect("write the config");
        chmod(&p, 0o644);
        p
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The gatehouse binary, linked (or copied) into `dir` and executable by every user: the tests
/// that run it as another user cannot rely on the build directory being open to them (a clone
/// under /root, a 0700 temporary directory).
fn binary_for_others(dir: &Path) -> PathBuf {
    let bin = dir.join("gatehouse-for-others");
    if !bin.exists() && std::fs::hard_link(BIN, &bin).is_err() {
        std::fs::copy(BIN, &bin).expect("copy the gatehouse binary");
    }
    chmod(&bin, 0o755);
    bin
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn config_yaml(listen: std::net::SocketAddr) -> String {
    format!(
        "service: {{ name: admin-socket }}\ngateway:\n  listeners: [ {{ address: \"{listen}\" }} ]\n"
    )
}

/// This process's effective uid: the owner of a directory it just created.
fn my_uid() -> u32 {
    let dir = TestDir::new();
    std::fs::metadata(&dir.path).expect("stat").uid()
}

/// Whether a test that needs root may run: under `CI=true` (CI runs as root) lacking it is a
/// failure, elsewhere the test is skipped with a printed reason.
fn root_or_skip(what: &str) -> bool {
    if my_uid() == 0 {
        return true;
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{what} needs root (to act as uid {OTHER_UID}); CI runs as root"
    );
    eprintln!("skipping {what}: needs root (to act as uid {OTHER_UID})");
    false
}

/// The name the admin socket of a gateway serving `config` is given (FNV-1a of the config's
/// absolute path), as both the old and the new layout compute it.
fn socket_hash(config: &Path) -> String {
    let abs = std::fs::canonicalize(config).expect("canonical config path");
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in abs.as_os_str().as_encoded_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// Where a default admin socket lives under the new layout: `dir/<hash>.sock`.
fn socket_in(dir: &Path, config: &Path) -> PathBuf {
    dir.join(format!("{}.sock", socket_hash(config)))
}

/// Where the default directory is, for the two places the default can come from.
#[derive(Clone, Copy, Debug)]
enum Base {
    /// `$XDG_RUNTIME_DIR/gatehouse`
    Runtime,
    /// `$TMPDIR/gatehouse-<uid>` (no runtime directory)
    Temp,
}

impl Base {
    /// Creates the parent (`run`, mode 0700, or `tmp`, mode 1777 as /tmp) under `t`; returns
    /// the default directory inside it and the environment that points `gatehouse` there.
    fn prepare(self, t: &TestDir) -> (PathBuf, Vec<(&'static str, PathBuf)>) {
        match self {
            Base::Runtime => {
                let run = t.subdir("run", 0o700);
                (run.join("gatehouse"), vec![("XDG_RUNTIME_DIR", run)])
            }
            Base::Temp => {
                let tmp = t.subdir("tmp", 0o1777);
                (
                    tmp.join(format!("gatehouse-{}", my_uid())),
                    vec![("TMPDIR", tmp)],
                )
            }
        }
    }
}

/// An impostor: a Unix socket at `path` that answers every request with a successful apply,
/// as the real gateway would, and counts the connections it got.
struct Impostor {
    connections: Arc<AtomicUsize>,
}

impl Impostor {
    fn start(path: &Path) -> Impostor {
        let listener = UnixListener::bind(path).expect("bind the impostor socket");
        chmod(path, 0o777);
        let connections = Arc::new(AtomicUsize::new(0));
        let seen = connections.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                seen.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut line = String::new();
                    let _ = BufReader::new(read).read_line(&mut line).await;
                    let answer = r#"{"ok":true,"counts":{"apis":0,"operations":0,"products":0,"subscriptions":0},"listeners_added":[],"listeners_removed":[],"network_changes":["nsg rule allow-all added"],"needs_restart":[],"warnings":[]}"#;
                    let _ = write.write_all(format!("{answer}\n").as_bytes()).await;
                });
            }
        });
        Impostor { connections }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// Runs `gatehouse net apply --config CONFIG ARGS...` with `XDG_RUNTIME_DIR` and `TMPDIR`
/// replaced by `env` (unset when not given), as `uid` when given.
async fn net_apply(
    config: &Path,
    args: &[&str],
    env: &[(&str, PathBuf)],
    uid: Option<u32>,
) -> Output {
    let bin = match uid {
        // Next to the config, which the other user must reach anyway.
        Some(_) => binary_for_others(config.parent().expect("the config's directory")),
        None => PathBuf::from(BIN),
    };
    let mut cmd = tokio::process::Command::new(bin);
    cmd.args(["net", "apply", "--config"])
        .arg(config)
        .args(args)
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("TMPDIR")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null());
    if let Some(uid) = uid {
        cmd.uid(uid).gid(uid);
    }
    tokio::time::timeout(WAIT, cmd.output())
        .await
        .expect("gatehouse net apply finishes")
        .expect("run gatehouse net apply")
}

fn texts(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Asserts `net apply` failed without claiming anything was applied; returns its stdout and
/// stderr.
fn assert_not_applied(out: &Output, what: &str) -> (String, String) {
    let (stdout, stderr) = texts(out);
    assert!(
        !out.status.success() && !stdout.contains("applied") && !stdout.contains("\"ok\":true"),
        "{what}: net apply must fail and never say applied ({}):\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
    (stdout, stderr)
}

/// Starts `gatehouse serve` on the config in `dir`'s builder with `env` and `args`; waits
/// until it has started (logged "gatehouse started").
async fn serve(args: &[&str], env: &[(&str, PathBuf)]) -> Gatehouse {
    let listen = free_addr();
    let mut b = Gatehouse::builder(Path::new(BIN))
        .expect("fixture")
        .args(["serve"].iter().chain(args.iter()).copied())
        .env("RUST_LOG", "info")
        .env("XDG_RUNTIME_DIR", "")
        .probe(Probe::Log("gatehouse started".into()));
    for (k, v) in env {
        b = b.env(*k, v);
    }
    b.start(&config_yaml(listen))
        .await
        .expect("gatehouse starts")
}

/// The `socket` field of the gateway's "admin socket ready" log line.
async fn ready_socket(gw: &Gatehouse) -> PathBuf {
    let line = gw
        .wait_for_log("admin socket ready", WAIT)
        .await
        .expect("the admin socket comes up");
    let v: Value = serde_json::from_str(&line).expect("a JSON log line");
    PathBuf::from(v["socket"].as_str().expect("a socket field"))
}

// ---------------------------------------------------------------------------------------------
// The default location
// ---------------------------------------------------------------------------------------------

/// The attacker's report: a listener at the path the old code used (the shared temp directory,
/// a name anyone can compute) got `net apply` to print "applied". No gateway runs here.
#[tokio::test]
async fn net_apply_never_believes_an_impostor_at_the_old_shared_path() {
    let t = TestDir::new();
    let config = t.config(free_addr());
    let (_, env) = Base::Temp.prepare(&t);
    let old = env[0]
        .1
        .join(format!("gatehouse-{}.sock", socket_hash(&config)));
    let impostor = Impostor::start(&old);

    let out = net_apply(&config, &[], &env, None).await;
    let (_, stderr) = assert_not_applied(&out, "impostor at the old shared path");
    assert!(
        stderr.contains("no running gateway"),
        "expected 'no running gateway': {stderr}"
    );
    assert_eq!(
        impostor.connections(),
        0,
        "net apply talked to the impostor"
    );
}

/// Runs `net apply` against a default directory prepared by `spoil` (which gets the directory
/// to spoil and returns the path the impostor's socket ends up at), for both bases; expects a
/// refusal naming the directory and containing `reason`.
async fn assert_default_dir_refused(spoil: impl Fn(&TestDir, &Path) -> PathBuf, reason: &str) {
    for base in [Base::Runtime, Base::Temp] {
        let t = TestDir::new();
        let config = t.config(free_addr());
        let (dir, env) = base.prepare(&t);
        let socket_dir = spoil(&t, &dir);
        let impostor = Impostor::start(&socket_in(&socket_dir, &config));

        let out = net_apply(&config, &[], &env, None).await;
        let (_, stderr) = assert_not_applied(&out, &format!("{base:?}: {reason}"));
        assert!(
            stderr.contains(&dir.display().to_string()) && stderr.contains(reason),
            "{base:?}: expected a refusal naming {} and saying {reason:?}: {stderr}",
            dir.display()
        );
        assert_eq!(
            impostor.connections(),
            0,
            "{base:?}: net apply talked to the impostor"
        );
    }
}

#[tokio::test]
async fn net_apply_refuses_a_default_directory_with_a_wider_mode() {
    assert_default_dir_refused(
        |_, dir| {
            std::fs::create_dir(dir).expect("mkdir");
            chmod(dir, 0o777);
            dir.to_path_buf()
        },
        "mode 0777",
    )
    .await;
}

#[tokio::test]
async fn net_apply_refuses_a_default_directory_that_is_a_symlink() {
    assert_default_dir_refused(
        |t, dir| {
            let elsewhere = t.subdir("elsewhere", 0o700);
            std::os::unix::fs::symlink(&elsewhere, dir).expect("symlink");
            elsewhere
        },
        "symbolic link",
    )
    .await;
}

#[tokio::test]
async fn net_apply_refuses_a_default_directory_owned_by_another_user() {
    if !root_or_skip("net_apply_refuses_a_default_directory_owned_by_another_user") {
        return;
    }
    assert_default_dir_refused(
        |_, dir| {
            std::fs::create_dir(dir).expect("mkdir");
            chmod(dir, 0o700);
            std::os::unix::fs::chown(dir, Some(OTHER_UID), Some(OTHER_UID)).expect("chown");
            dir.to_path_buf()
        },
        &format!("owned by uid {OTHER_UID}"),
    )
    .await;
}

/// The serving side refuses a spoiled default directory too: it logs why, makes no socket
/// there, and keeps serving (SIGHUP and the file watcher still reload).
#[tokio::test]
async fn serve_makes_no_admin_socket_in_a_directory_it_cannot_trust() {
    let t = TestDir::new();
    let run = t.subdir("run", 0o700);
    let dir = run.join("gatehouse");
    std::fs::create_dir(&dir).expect("mkdir");
    chmod(&dir, 0o777);

    let gw = serve(&[], &[("XDG_RUNTIME_DIR", run.clone())]).await;
    let line = gw
        .wait_for_log("no admin socket", WAIT)
        .await
        .expect("the gateway says it has no admin socket");
    assert!(
        line.contains(&dir.display().to_string()) && line.contains("mode 0777"),
        "expected the refusal to name {} and its mode: {line}",
        dir.display()
    );
    let entries: Vec<_> = std::fs::read_dir(&dir).expect("read_dir").collect();
    assert!(
        entries.is_empty(),
        "the gateway made something in the spoiled directory: {entries:?}"
    );
}

/// The happy path at the default location: a private directory, a private socket, `net apply`
/// reaches it, and SIGTERM removes the socket.
#[tokio::test]
async fn default_admin_socket_is_private_and_removed_on_sigterm() {
    let t = TestDir::new();
    let run = t.subdir("run", 0o700);
    let env = vec![("XDG_RUNTIME_DIR", run.clone())];
    let gw = serve(&[], &env).await;
    let socket = ready_socket(&gw).await;

    let dir = run.join("gatehouse");
    assert_eq!(socket, socket_in(&dir, gw.config_path()));
    let dir_meta = std::fs::symlink_metadata(&dir).expect("the directory exists");
    assert!(dir_meta.is_dir(), "{} is a directory", dir.display());
    assert_eq!(dir_meta.mode() & 0o777, 0o700, "the directory is private");
    let sock_meta = std::fs::symlink_metadata(&socket).expect("the socket exists");
    assert!(sock_meta.file_type().is_socket());
    assert_eq!(sock_meta.mode() & 0o777, 0o600, "the socket is private");

    let out = net_apply(gw.config_path(), &[], &env, None).await;
    let (stdout, stderr) = texts(&out);
    assert!(
        out.status.success() && stdout.contains("applied"),
        "net apply at the default location: {stdout}\n{stderr}"
    );

    gw.sigterm().expect("SIGTERM");
    let status = gw.wait_exit(WAIT).await.expect("gatehouse exits");
    assert!(status.success(), "exit status {status}");
    assert!(
        std::fs::symlink_metadata(&socket).is_err(),
        "the admin socket {} is still there after SIGTERM",
        socket.display()
    );
}

// ---------------------------------------------------------------------------------------------
// An explicit --admin-socket
// ---------------------------------------------------------------------------------------------

/// `--admin-socket PATH` keeps working, and Ctrl-C (SIGINT) removes it too.
#[tokio::test]
async fn explicit_admin_socket_works_and_is_removed_on_ctrl_c() {
    let t = TestDir::new();
    let socket = t.path.join("admin.sock");
    let gw = serve(&["--admin-socket", &socket.display().to_string()], &[]).await;
    assert_eq!(ready_socket(&gw).await, socket);

    let out = net_apply(
        gw.config_path(),
        &["--admin-socket", &socket.display().to_string()],
        &[],
        None,
    )
    .await;
    let (stdout, stderr) = texts(&out);
    assert!(
        out.status.success() && stdout.contains("applied"),
        "net apply --admin-socket: {stdout}\n{stderr}"
    );

    gw.signal("INT").expect("SIGINT");
    let status = gw.wait_exit(WAIT).await.expect("gatehouse exits");
    assert!(status.success(), "exit status {status}");
    assert!(
        std::fs::symlink_metadata(&socket).is_err(),
        "the admin socket {} is still there after Ctrl-C",
        socket.display()
    );
}

/// An explicit path that holds something other than a socket (a typo naming the config file,
/// say) is never removed to make room.
#[tokio::test]
async fn explicit_admin_socket_never_replaces_a_file() {
    let t = TestDir::new();
    let precious = t.path.join("notes.txt");
    std::fs::write(&precious, "keep me").expect("write");
    let gw = serve(&["--admin-socket", &precious.display().to_string()], &[]).await;
    gw.wait_for_log("no admin socket", WAIT)
        .await
        .expect("the gateway says it has no admin socket");
    assert_eq!(
        std::fs::read_to_string(&precious).expect("the file is still there"),
        "keep me"
    );
}

// ---------------------------------------------------------------------------------------------
// Peer credentials
// ---------------------------------------------------------------------------------------------

/// A gateway run by another user (uid 65534) answers on a socket `net apply` is pointed at:
/// `net apply` (here root) refuses to believe it, naming the socket and its owner.
#[tokio::test]
async fn net_apply_refuses_a_socket_served_by_another_user() {
    if !root_or_skip("net_apply_refuses_a_socket_served_by_another_user") {
        return;
    }
    let t = TestDir::new();
    let config = t.config(free_addr());
    let theirs = t.subdir("theirs", 0o700);
    std::os::unix::fs::chown(&theirs, Some(OTHER_UID), Some(OTHER_UID)).expect("chown");
    let socket = theirs.join("admin.sock");

    let mut child = tokio::process::Command::new(binary_for_others(&t.path))
        .args(["serve", "--log", "info", "--admin-socket"])
        .arg(&socket)
        .arg("--config")
        .arg(&config)
        .env_remove("XDG_RUNTIME_DIR")
        .current_dir(&t.path)
        .uid(OTHER_UID)
        .gid(OTHER_UID)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start a gateway as another user");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let ready = tokio::time::timeout(WAIT, async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("admin socket ready") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(
        ready,
        Ok(true),
        "the other user's gateway never made its admin socket"
    );

    let out = net_apply(
        &config,
        &["--admin-socket", &socket.display().to_string()],
        &[],
        None,
    )
    .await;
    let (_, stderr) = assert_not_applied(&out, "a socket served by another user");
    assert!(
        stderr.contains(&socket.display().to_string())
            && stderr.contains(&format!("uid {OTHER_UID}")),
        "expected a refusal naming {} and uid {OTHER_UID}: {stderr}",
        socket.display()
    );
    let _ = child.kill().await;
}

/// Another user who can reach the gateway's socket (its mode widened by mistake) is not
/// answered: the gateway takes requests from its own uid and root only.
#[tokio::test]
async fn gateway_answers_no_other_user_on_its_admin_socket() {
    if !root_or_skip("gateway_answers_no_other_user_on_its_admin_socket") {
        return;
    }
    let t = TestDir::new();
    let socket = t.path.join("admin.sock");
    let gw = serve(&["--admin-socket", &socket.display().to_string()], &[]).await;
    assert_eq!(ready_socket(&gw).await, socket);
    chmod(&socket, 0o666);
    // The other user must be able to reach the config's directory and read it, as before.
    chmod(gw.dir(), 0o755);
    let mark = gw.log_mark();

    let out = net_apply(
        gw.config_path(),
        &["--admin-socket", &socket.display().to_string()],
        &[],
        Some(OTHER_UID),
    )
    .await;
    let (stdout, stderr) = assert_not_applied(&out, "a request from another user");
    assert!(
        format!("{stdout}{stderr}").contains(&format!("uid {OTHER_UID}")),
        "expected the refusal to name uid {OTHER_UID}: {stdout}\n{stderr}"
    );
    gw.wait_for_log_since(mark, "admin request refused", WAIT)
        .await
        .expect("the gateway logs the refusal");
    assert!(
        !gw.logs_since(mark)
            .iter()
            .any(|l| l.contains("config reloaded")),
        "the gateway applied a request from another user"
    );
}
