//! The Git configuration repository (APIM's "scm" endpoint): the configuration as the APIOps
//! artifact layout ([`layout`]), kept as a bare repository whose `main` branch gains a commit
//! for every configuration change ([`sync`]), and served over Git's smart HTTP protocol
//! ([`http`], through `git http-backend`: [`cgi`]) so that a pushed tree is validated whole and
//! deployed atomically ([`push`], asked by the repository's pre-receive [`hook`]).
//!
//! Data flows one way each time: a write (management API, portal, push) → the store → the
//! change feed → a commit on `main`. A push is the one write that starts in the repository: its
//! tree becomes a store revision first, and git moves `main` only once the store took it.

pub mod cgi;
pub mod hook;
pub mod http;
pub mod layout;
pub mod push;
pub mod repo;
pub mod sync;

pub use layout::{FileProblem, Files, LayoutError};

use gatehouse_admin::{Backing, Checker};
use gatehouse_store::Store;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

/// The repository's directory name under the Git directory (`<dir>/config.git`).
pub const REPO_NAME: &str = "config.git";

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error(transparent)]
    Repo(#[from] repo::RepoError),
    #[error("cannot export the configuration as files: {0}")]
    Layout(#[from] LayoutError),
    #[error("cannot read the store: {0}")]
    Store(#[from] gatehouse_store::StoreError),
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What the Git endpoint needs.
pub struct GitOptions {
    /// A private directory that holds the repository and the hook's socket.
    pub dir: PathBuf,
    pub store: Store,
    pub backing: Arc<dyn Backing>,
    pub checker: Checker,
    /// The `gatehouse` binary, which the pre-receive hook runs.
    pub exe: PathBuf,
}

/// A push in flight, known by its one-time token.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    /// The store revision and commit a successful hook deployed.
    pub deployed: Option<(u64, String)>,
}

pub(crate) struct Shared {
    pub repo: repo::Repo,
    pub dir: PathBuf,
    pub socket: PathBuf,
    pub exe: PathBuf,
    pub store: Store,
    pub backing: Arc<dyn Backing>,
    pub checker: Checker,
    /// Held by the committer while it commits and by a push for its whole run, so that `main`
    /// moves by one of them at a time.
    pub lock: Arc<tokio::sync::Mutex<()>>,
    /// The store revision `main`'s head holds.
    pub synced: AtomicU64,
    pub pending: std::sync::Mutex<HashMap<String, Pending>>,
}

/// The running Git endpoint: serve [`GitService::router`] on the component's listeners.
#[derive(Clone)]
pub struct GitService {
    shared: Arc<Shared>,
}

impl GitService {
    /// Opens (or creates) the repository, installs its hook, brings `main` up to the store's
    /// newest revision, listens for hooks and follows the store's changes.
    pub async fn start(options: GitOptions) -> Result<GitService, GitError> {
        create_private_dir(&options.dir)?;
        let repo = repo::Repo::open_or_init(&options.dir.join(REPO_NAME)).await?;
        hook::install(repo.dir()).map_err(|source| GitError::Io {
            what: "cannot install the pre-receive hook in",
            path: repo.dir().to_path_buf(),
            source,
        })?;
        let socket = options.dir.join("hook.sock");
        let shared = Arc::new(Shared {
            repo,
            dir: options.dir.clone(),
            socket: socket.clone(),
            exe: options.exe,
            store: options.store,
            backing: options.backing,
            checker: options.checker,
            lock: Arc::new(tokio::sync::Mutex::new(())),
            synced: AtomicU64::new(0),
            pending: std::sync::Mutex::new(HashMap::new()),
        });
        sync::catch_up(&shared, "gatehouse", "configuration of the store").await?;
        push::listen(shared.clone(), &socket)?;
        sync::spawn(shared.clone());
        Ok(GitService { shared })
    }

    /// The HTTP side: `git clone http://apim@HOST:PORT/`.
    pub fn router(&self) -> axum::Router {
        http::router(self.shared.clone())
    }

    /// The repository on disk.
    pub fn repo_dir(&self) -> PathBuf {
        self.shared.repo.dir().to_path_buf()
    }
}

fn create_private_dir(dir: &std::path::Path) -> Result<(), GitError> {
    use std::os::unix::fs::PermissionsExt;
    let io = |source| GitError::Io {
        what: "cannot create the Git directory",
        path: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)
}
