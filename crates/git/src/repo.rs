//! The bare repository on disk, driven through the `git` program.
//!
//! Why the `git` program and not a library: the endpoint serves pushes and fetches through
//! `git http-backend` (crates/git/src/cgi.rs), which is Git's own, complete implementation of
//! the smart HTTP protocol (every capability, protocol v2, shallow clones, pack negotiation).
//! With `git` a required program anyway, the few plumbing commands here (write a tree from
//! files, make a commit, move `main` with compare-and-swap, read a pushed tree) use it too,
//! rather than a second Git implementation that would have to agree with it byte for byte.

use crate::layout::Files;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// The branch the configuration lives on.
pub const BRANCH: &str = "refs/heads/main";
/// The largest tree a push may carry (all files together), and the most files.
pub const MAX_TREE_BYTES: u64 = 64 * 1024 * 1024;
pub const MAX_FILES: usize = 100_000;
/// Git's id of "no commit" in ref updates.
pub const ZERO_OID: &str = "0000000000000000000000000000000000000000";

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("cannot run git ({action}): {source}; install Git (Debian: apt-get install git)")]
    Spawn {
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("git {action} failed: {stderr}")]
    Failed {
        action: &'static str,
        stderr: String,
    },
    #[error("{0}")]
    Tree(String),
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Who a commit is by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub name: String,
    pub email: String,
}

impl Author {
    /// An actor of the store's history (a token's user id, a portal user's e-mail, `gatehouse`)
    /// as a commit author: an e-mail address stays one; anything else is a name.
    pub fn of_actor(actor: &str) -> Author {
        // Git refuses '<', '>' and newlines in identities.
        let clean: String = actor
            .chars()
            .filter(|c| !matches!(c, '<' | '>' | '\n' | '\r'))
            .collect();
        let name = if clean.trim().is_empty() {
            "gatehouse".to_string()
        } else {
            clean.trim().to_string()
        };
        let email = if name.contains('@') {
            name.clone()
        } else {
            String::new()
        };
        Author { name, email }
    }
}

/// Environment that points git at a push's quarantined objects (set by `git receive-pack` for
/// its pre-receive hook), so that a pushed tree can be read before it is accepted.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ObjectEnv {
    pub object_directory: Option<String>,
    pub alternate_object_directories: Option<String>,
}

/// A bare repository.
#[derive(Debug, Clone)]
pub struct Repo {
    dir: PathBuf,
}

impl Repo {
    /// Opens `dir`, creating a bare repository with `main` as its default branch if none is
    /// there. Pushes may only fast-forward and never delete `main` (git refuses them itself).
    pub async fn open_or_init(dir: &Path) -> Result<Repo, RepoError> {
        let repo = Repo {
            dir: dir.to_path_buf(),
        };
        if !dir.join("HEAD").is_file() {
            std::fs::create_dir_all(dir).map_err(|source| RepoError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
            let mut cmd = Command::new("git");
            cmd.arg("init")
                .arg("--bare")
                .arg("--quiet")
                .arg("--initial-branch=main")
                .arg(dir);
            run(cmd, "init", None).await?;
        }
        for (key, value) in [
            ("receive.denyNonFastForwards", "true"),
            ("receive.denyDeletes", "true"),
            ("http.receivepack", "true"),
            ("http.uploadpack", "true"),
            // A pushed object that is not well-formed is refused before the hook runs.
            ("receive.fsckObjects", "true"),
            ("core.logAllRefUpdates", "true"),
            // A push's pack is bounded: git refuses a larger one while reading it.
            ("receive.maxInputSize", "268435456"),
        ] {
            repo.git("config", &["config", key, value], None).await?;
        }
        Ok(repo)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new("git");
        cmd.env("GIT_DIR", &self.dir)
            // The user's and the system's git config do not apply to the server's repository.
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env_remove("GIT_INDEX_FILE")
            .env_remove("GIT_WORK_TREE");
        cmd
    }

    async fn git(
        &self,
        action: &'static str,
        args: &[&str],
        input: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, RepoError> {
        let mut cmd = self.command();
        cmd.args(args);
        run(cmd, action, input).await
    }

    /// The commit `main` points at, if any.
    pub async fn head(&self) -> Result<Option<String>, RepoError> {
        let mut cmd = self.command();
        cmd.args(["rev-parse", "--verify", "--quiet", BRANCH]);
        match run(cmd, "rev-parse", None).await {
            Ok(out) => Ok(Some(String::from_utf8_lossy(&out).trim().to_string())),
            Err(RepoError::Failed { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The tree of a commit.
    pub async fn tree_of(&self, commit: &str) -> Result<String, RepoError> {
        let spec = format!("{commit}^{{tree}}");
        let out = self.git("rev-parse", &["rev-parse", &spec], None).await?;
        Ok(String::from_utf8_lossy(&out).trim().to_string())
    }

    /// Writes `files` as blobs and trees; returns the root tree's id.
    pub async fn write_tree(&self, files: &Files) -> Result<String, RepoError> {
        // One `git hash-object` per file would be thousands of processes for a large
        // configuration; `git fast-import` writes every blob from one stream instead, and marks
        // give back their ids.
        let mut stream = Vec::new();
        for (i, (_, content)) in files.iter().enumerate() {
            stream.extend_from_slice(
                format!("blob\nmark :{}\ndata {}\n", i + 1, content.len()).as_bytes(),
            );
            stream.extend_from_slice(content);
            stream.push(b'\n');
        }
        let scratch = tempfile::tempdir().map_err(|source| RepoError::Io {
            path: std::env::temp_dir(),
            source,
        })?;
        let marks = scratch.path().join("marks");
        let export = format!("--export-marks={}", marks.display());
        self.git(
            "fast-import",
            &["fast-import", "--quiet", &export],
            Some(stream),
        )
        .await?;
        let text = std::fs::read_to_string(&marks).map_err(|source| RepoError::Io {
            path: marks.clone(),
            source,
        })?;
        let mut oids = BTreeMap::new();
        for line in text.lines() {
            if let Some((mark, oid)) = line.split_once(' ') {
                oids.insert(mark.trim_start_matches(':').to_string(), oid.to_string());
            }
        }
        // A temporary index turns the path → blob list into nested trees.
        let index = scratch.path().join("index");
        let mut info = Vec::new();
        for (i, (path, _)) in files.iter().enumerate() {
            let oid = oids
                .get(&(i + 1).to_string())
                .ok_or_else(|| RepoError::Tree(format!("git fast-import gave no id for {path}")))?;
            info.extend_from_slice(format!("100644 {oid}\t{path}\0").as_bytes());
        }
        let mut cmd = self.command();
        cmd.env("GIT_INDEX_FILE", &index)
            .args(["update-index", "--add", "-z", "--index-info"]);
        run(cmd, "update-index", Some(info)).await?;
        let mut cmd = self.command();
        cmd.env("GIT_INDEX_FILE", &index).arg("write-tree");
        let out = run(cmd, "write-tree", None).await?;
        Ok(String::from_utf8_lossy(&out).trim().to_string())
    }

    /// Makes a commit of `tree` on `parent` and moves `main` to it, only if `main` is still
    /// at `parent` (compare-and-swap). Returns the new commit.
    pub async fn commit(
        &self,
        tree: &str,
        parent: Option<&str>,
        author: &Author,
        message: &str,
    ) -> Result<String, RepoError> {
        let mut cmd = self.command();
        cmd.arg("commit-tree").arg(tree);
        if let Some(p) = parent {
            cmd.arg("-p").arg(p);
        }
        cmd.env("GIT_AUTHOR_NAME", &author.name)
            .env("GIT_AUTHOR_EMAIL", &author.email)
            .env("GIT_COMMITTER_NAME", "gatehouse")
            .env("GIT_COMMITTER_EMAIL", "");
        let out = run(cmd, "commit-tree", Some(message.as_bytes().to_vec())).await?;
        let commit = String::from_utf8_lossy(&out).trim().to_string();
        let old = parent.unwrap_or(ZERO_OID);
        self.git(
            "update-ref",
            &["update-ref", "-m", "gatehouse", BRANCH, &commit, old],
            None,
        )
        .await?;
        Ok(commit)
    }

    /// The files of `commit`'s tree, read through `objects` (a push's quarantine). Refuses
    /// symbolic links, submodules and trees over [`MAX_TREE_BYTES`] or [`MAX_FILES`].
    pub async fn read_files(&self, commit: &str, objects: &ObjectEnv) -> Result<Files, RepoError> {
        let with_objects = |mut cmd: Command| {
            if let Some(d) = &objects.object_directory {
                cmd.env("GIT_OBJECT_DIRECTORY", d);
            }
            if let Some(d) = &objects.alternate_object_directories {
                cmd.env("GIT_ALTERNATE_OBJECT_DIRECTORIES", d);
            }
            cmd
        };
        let mut cmd = self.command();
        cmd.args(["ls-tree", "-r", "-z", "--long", "--full-tree", commit]);
        let listing = run(with_objects(cmd), "ls-tree", None).await?;
        let mut entries = Vec::new();
        let mut total: u64 = 0;
        for record in listing.split(|b| *b == 0).filter(|r| !r.is_empty()) {
            let record = String::from_utf8(record.to_vec())
                .map_err(|_| RepoError::Tree("a file name is not UTF-8".to_string()))?;
            let (meta, path) = record
                .split_once('\t')
                .ok_or_else(|| RepoError::Tree(format!("unexpected ls-tree line '{record}'")))?;
            let fields: Vec<&str> = meta.split_whitespace().collect();
            let [mode, kind, oid, size] = fields[..] else {
                return Err(RepoError::Tree(format!(
                    "unexpected ls-tree line '{record}'"
                )));
            };
            match (mode, kind) {
                ("100644" | "100755", "blob") => {}
                ("120000", _) => {
                    return Err(RepoError::Tree(format!(
                        "{path}: symbolic links are not configuration files"
                    )));
                }
                (_, "commit") => {
                    return Err(RepoError::Tree(format!(
                        "{path}: submodules are not configuration files"
                    )));
                }
                _ => {
                    return Err(RepoError::Tree(format!(
                        "{path}: unexpected entry of mode {mode}"
                    )));
                }
            }
            total += size.parse::<u64>().unwrap_or(u64::MAX);
            if total > MAX_TREE_BYTES || entries.len() >= MAX_FILES {
                return Err(RepoError::Tree(format!(
                    "the pushed tree is too large: at most {MAX_FILES} files and {} MiB",
                    MAX_TREE_BYTES / (1024 * 1024)
                )));
            }
            entries.push((path.to_string(), oid.to_string()));
        }
        let mut request = Vec::new();
        for (_, oid) in &entries {
            request.extend_from_slice(oid.as_bytes());
            request.push(b'\n');
        }
        let mut cmd = self.command();
        cmd.args(["cat-file", "--batch"]);
        let out = run(with_objects(cmd), "cat-file", Some(request)).await?;
        let mut files = Files::new();
        let mut rest = &out[..];
        for (path, _) in entries {
            // Each object: "<oid> blob <size>\n<content>\n".
            let nl = rest
                .iter()
                .position(|b| *b == b'\n')
                .ok_or_else(|| RepoError::Tree("truncated git cat-file output".to_string()))?;
            let header = String::from_utf8_lossy(&rest[..nl]).to_string();
            let size: usize = header
                .rsplit(' ')
                .next()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| RepoError::Tree(format!("unexpected cat-file header '{header}'")))?;
            let start = nl + 1;
            let end = start + size;
            if rest.len() < end + 1 {
                return Err(RepoError::Tree("truncated git cat-file output".to_string()));
            }
            files.insert(path, rest[start..end].to_vec());
            rest = &rest[end + 1..];
        }
        Ok(files)
    }
}

/// Runs `cmd`, feeding `input` to its stdin; its stdout, or [`RepoError::Failed`] with stderr.
async fn run(
    mut cmd: Command,
    action: &'static str,
    input: Option<Vec<u8>>,
) -> Result<Vec<u8>, RepoError> {
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .kill_on_drop(true);
    let mut child = cmd
        .spawn()
        .map_err(|source| RepoError::Spawn { action, source })?;
    let writer = match (input, child.stdin.take()) {
        (Some(bytes), Some(mut stdin)) => Some(tokio::spawn(async move {
            // A command that exits early closes its stdin: its own error says why.
            let _ = stdin.write_all(&bytes).await;
            let _ = stdin.shutdown().await;
        })),
        _ => None,
    };
    let out = child
        .wait_with_output()
        .await
        .map_err(|source| RepoError::Spawn { action, source })?;
    if let Some(w) = writer {
        let _ = w.await;
    }
    if !out.status.success() {
        return Err(RepoError::Failed {
            action,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(out.stdout)
}
