//! `gatehouse serve`: where the config comes from (a file, a store, or the embedded demo over a
//! store in the data directory), the gateway, the management API and the admin socket.

use crate::component_listener::{self, ComponentAddr};
use crate::state_dir::StateDir;
use crate::{ServeArgs, admin, demo, management, metrics_endpoint, reload};
use anyhow::{Context, Result, anyhow, bail};
use gatehouse_admin::Problem;
use gatehouse_gateway::Gateway;
use gatehouse_model::{Config, Severity, Validated};
use gatehouse_store::{SecretKey, Store};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Checks a whole config as the gateway loads it: this node's location's view of it
/// (`--location`: `gatehouse_model::for_location`), model validation, then compiling it
/// (policies, certificates, network rules). The `--listen` override applies, as to every load.
pub type ConfigCheck = Arc<dyn Fn(&Config) -> Result<Validated, Vec<Problem>> + Send + Sync>;

///
/// `compile: false` stops after validation, for the paths that compile anyway (starting the
/// gateway, `Gateway::reload`, which refuse a config that does not compile): compiling a large
/// config twice per revision costs time and, at start, doubles the peak memory.
pub fn config_check(
    listen: Vec<SocketAddr>,
    location: Option<String>,
    compile: bool,
) -> ConfigCheck {
    Arc::new(move |config: &Config| {
        let config = gatehouse_model::for_location(config, location.as_deref()).map_err(|i| {
            vec![Problem {
                path: i.path,
                message: i.message,
            }]
        })?;
        let v = gatehouse_model::validate(config).map_err(|issues| {
            issues
                .into_iter()
                .filter(|i| i.severity == Severity::Error)
                .map(|i| Problem {
                    path: i.path,
                    message: i.message,
                })
                .collect::<Vec<_>>()
        })?;
        let v = crate::override_listeners(v, &listen);
        if !compile {
            return Ok(v);
        }
        Gateway::new(&v).map_err(|e| {
            vec![Problem {
                path: e.path().to_string(),
                message: e.to_string(),
            }]
        })?;
        Ok(v)
    })
}

/// Where this run's config lives.
enum Source {
    File(PathBuf),
    Store {
        store: Store,
        url: String,
        state: Option<StateDir>,
    },
    /// The store was unreachable at start: the state directory's saved configuration, until
    /// the store at `url` answers.
    Saved {
        url: String,
        key: Box<SecretKey>,
        state: StateDir,
    },
}

/// How long a node started from its saved configuration waits between attempts to open the
/// store.
const REOPEN_EVERY: Duration = Duration::from_secs(1);

pub async fn run(args: ServeArgs) -> Result<()> {
    if args.config.is_some() && args.store.is_some() {
        bail!("give --config FILE or --store URL, not both");
    }
    if args.config.is_some() && args.location.is_some() {
        // A file's reloads (crates/cli/src/reload.rs, gatehouse net apply) load the file as it
        // is: a file-mode node serves the file's main location.
        bail!(
            "--location applies to nodes serving a store (--store URL); a config file is served as written"
        );
    }
    // First: the store's gauges are set while the config is read.
    if let Some(addr) = args.metrics_listen {
        let local = metrics_endpoint::start(addr).await?;
        tracing::info!(metrics = %format_args!("http://{local}/metrics"), "serving metrics");
    }
    // What a node loads (validated here, compiled once by the gateway), and what a management
    // write must pass (compiled too: a write that would not load is refused before it commits).
    let check = config_check(args.listen.clone(), args.location.clone(), false);
    let write_check = config_check(args.listen.clone(), args.location.clone(), true);
    let mut demo_backend = None;
    let mut management_default = None;
    let mut portal_default = None;
    let mut git_default = None;
    let (source, validated, revision) = match (&args.config, &args.store) {
        (Some(path), _) => {
            let v = gatehouse_model::load_validated(path).map_err(|e| anyhow!("{e}"))?;
            (
                Source::File(path.clone()),
                crate::override_listeners(v, &args.listen),
                0,
            )
        }
        (None, Some(url)) => {
            let key = crate::data_dir::secret_key(args.secret_key_file.as_deref())?;
            let state_path = crate::state_dir::path(args.state_dir.as_deref());
            let state = StateDir::open(state_path, key.clone())?;
            match open_store(url, &key).await {
                Ok(store) => {
                    let (config, revision) = bootstrap(&store, None).await?;
                    let v = checked(&check, &config, &format!("the store's revision {revision}"))?;
                    if let Err(e) = state.save(revision, &config) {
                        tracing::warn!(error = %e, revision, "cannot save the applied configuration to the state directory");
                    }
                    crate::follow::set_store_reachable(true);
                    crate::follow::set_from_saved(false);
                    (
                        Source::Store {
                            store,
                            url: url.clone(),
                            state: Some(state),
                        },
                        v,
                        revision,
                    )
                }
                Err(e) => {
                    let saved = state
                        .load()
                        .with_context(|| format!("the store {} is unreachable ({e:#}) and the saved configuration cannot be read", redact_url(url)))?
                        .ok_or_else(|| {
                            anyhow!(
                                "cannot open the store {} ({e:#}), and {} holds no saved configuration to start from",
                                redact_url(url),
                                state.file().display()
                            )
                        })?;
                    let v = checked(
                        &check,
                        &saved.config,
                        &format!("the saved configuration of revision {}", saved.revision),
                    )?;
                    tracing::warn!(error = %format!("{e:#}"), revision = saved.revision, file = %state.file().display(),
                        "store unreachable: serving the saved configuration of revision {} from {}", saved.revision, state.file().display());
                    crate::follow::set_store_reachable(false);
                    crate::follow::set_from_saved(true);
                    (
                        Source::Saved {
                            url: url.clone(),
                            key: Box::new(key),
                            state,
                        },
                        v,
                        saved.revision,
                    )
                }
            }
        }
        (None, None) => {
            let backend = demo::start()
                .await
                .context("cannot start the demo backend")?;
            let data = crate::data_dir::data_dir();
            let url = format!("sqlite://{}", data.join("gatehouse.db").display());
            let key = crate::data_dir::secret_key(args.secret_key_file.as_deref())?;
            let store = Store::open(&url, key)
                .await
                .with_context(|| format!("cannot open the demo store {url}"))?;
            let (config, revision) = bootstrap(&store, Some(backend)).await?;
            let v = checked(
                &check,
                &config,
                &format!("the demo store's revision {revision}"),
            )?;
            demo_backend = Some(backend);
            management_default = Some(management::DEMO_ADDR);
            portal_default = Some(crate::portal::DEMO_ADDR);
            git_default = Some(crate::git::DEMO_ADDR);
            (
                Source::Store {
                    store,
                    url,
                    state: None,
                },
                v,
                revision,
            )
        }
    };
    for w in validated
        .warnings
        .iter()
        .filter(|w| w.severity == Severity::Warning)
    {
        tracing::warn!(path = %w.path, "{}", w.message);
    }
    let shared = match &args.counters {
        Some(url) => {
            let redis = gatehouse_store::redis::connect(url)
                .await
                .with_context(|| format!("--counters {}", redact_url(url)))?;
            tracing::info!(counters = %redact_url(url), "limits and the external cache are shared through Redis");
            gatehouse_gateway::SharedServices {
                counters: Some(redis.counters.clone()),
                external_cache: Some(redis.cache.clone()),
                concurrency: Some(redis.concurrency.clone()),
            }
        }
        None => gatehouse_gateway::SharedServices::default(),
    };
    let gateway = Gateway::with_services(&validated, shared).map_err(|e| anyhow!("{e}"))?;
    let workers = args
        .workers
        .unwrap_or_else(gatehouse_gateway::workers::default_count);
    gateway
        .use_workers(workers)
        .context("cannot start the worker threads")?;
    let listeners = gateway.bind().await?;
    let first = listeners.first().map(|l| (l.local, l.spec.tls));
    for l in &listeners {
        tracing::info!(listener = %l.local, tls = l.spec.tls, "listening");
    }
    let (c_apis, c_ops, c_products, c_subs) = gateway.snapshot().counts;
    let origin = match &source {
        Source::File(p) => p.display().to_string(),
        Source::Store { url, .. } => redact_url(url),
        Source::Saved { state, .. } => state.file().display().to_string(),
    };
    tracing::info!(apis = c_apis, operations = c_ops, products = c_products, subscriptions = c_subs, config = %origin, revision, workers = gateway.worker_count(), "gatehouse started");
    // Startup ran code the serving never runs again (argument and config parsing, schema
    // checks, the components' construction): its pages leave the resident set.
    crate::text_pages::release_startup_code();

    // The management API: --management-listen, else the config's endpoints, else (demo) loopback.
    let (stop_components, components_stopped) = tokio::sync::watch::channel(false);
    let addrs = fixed_or_configured(
        args.management_listen.or(management_default),
        management::configured_addrs(&validated.config),
    );
    let fixed = args.management_listen.is_some() || management_default.is_some();
    let identity = crate::heartbeat::Identity::new(args.node_name.clone(), args.location.clone());
    let portal_addrs = fixed_or_configured(
        args.portal_listen.or(portal_default),
        crate::portal::configured_addrs(&validated.config),
    );
    // Sessions and e-mail links are signed with a key derived from the store's secret key, so
    // every node sharing the store accepts them. A node that serves no portal now (it may, after
    // a reload adds `network.endpoints.portal`) does not fail for want of a key file: it signs
    // with a key of its own, good until it stops.
    let signing_key = match crate::data_dir::secret_key(args.secret_key_file.as_deref()) {
        Ok(key) => key.derive("portal"),
        Err(e) if portal_addrs.is_empty() => {
            tracing::debug!(error = %format!("{e:#}"), "no secret key: a portal added later signs its sessions with a per-process key");
            gatehouse_store::SecretKey::generate().derive("portal")
        }
        Err(e) => {
            return Err(
                e.context("the portal signs its sessions with a key derived from the secret key")
            );
        }
    };
    let portal = crate::portal::PortalStart {
        addrs: portal_addrs,
        fixed: args.portal_listen.is_some() || portal_default.is_some(),
        signing_key,
        gateway: first,
        public_url: args.portal_url.clone(),
        mailer: crate::portal::PortalStart::mailer(args.smtp.as_deref(), &args.smtp_from)?,
    };
    let git = crate::git::GitStart {
        addrs: fixed_or_configured(
            args.git_listen.or(git_default),
            crate::git::configured_addrs(&validated.config),
        ),
        fixed: args.git_listen.is_some() || git_default.is_some(),
        dir: match git_default {
            Some(_) => crate::data_dir::data_dir().join("git"),
            None => crate::state_dir::path(args.state_dir.as_deref()).join("git"),
        },
    };
    let management = Management {
        addrs,
        fixed,
        config: validated.config.clone(),
        check: write_check,
        gateway: gateway.clone(),
        stopped: components_stopped.clone(),
        portal,
        git,
    };
    let (backing, management_local) = match &source {
        Source::File(path) => {
            let backing = management::file_backing(path.clone(), args.secret_key_file.clone())?;
            let local = management.start(backing.clone(), None, None).await?;
            (Some(backing), local)
        }
        Source::Store { store, state, .. } => {
            let follower = crate::follow::Follower::new(
                store.clone(),
                gateway.clone(),
                check.clone(),
                revision,
                state.clone(),
                false,
            );
            follower.clone().spawn();
            if state.is_some() {
                // Store mode (not the demo): the node reports itself to the registry.
                crate::heartbeat::spawn(
                    store.clone(),
                    gateway.clone(),
                    follower.clone(),
                    identity.clone(),
                );
            }
            let backing = management::store_backing(store.clone());
            let local = management
                .start(backing.clone(), Some(follower), Some(store.clone()))
                .await?;
            (Some(backing), local)
        }
        Source::Saved { url, key, state } => {
            // The follower and the management API need the store: they start when it answers.
            let (url, key, state) = (url.clone(), (**key).clone(), state.clone());
            let gateway = gateway.clone();
            let check = check.clone();
            let identity = identity.clone();
            tokio::spawn(async move {
                let store = loop {
                    match open_store(&url, &key).await {
                        Ok(store) => break store,
                        Err(e) => {
                            tracing::debug!(error = %format!("{e:#}"), "store still unreachable")
                        }
                    }
                    tokio::time::sleep(REOPEN_EVERY).await;
                };
                crate::follow::set_store_reachable(true);
                tracing::info!(store = %redact_url(&url), "store reachable: catching up with its newest revision");
                let follower = crate::follow::Follower::new(
                    store.clone(),
                    gateway.clone(),
                    check,
                    revision,
                    Some(state),
                    true,
                );
                let _ = follower.apply("store reachable again").await;
                follower.clone().spawn();
                crate::heartbeat::spawn(store.clone(), gateway, follower.clone(), identity);
                if let Err(e) = management
                    .start(
                        management::store_backing(store.clone()),
                        Some(follower),
                        Some(store),
                    )
                    .await
                {
                    tracing::error!(error = %format!("{e:#}"), "the management API cannot start");
                }
            });
            (None, Started::default())
        }
    };
    if let (Some(backend), Some((addr, tls)), Some(backing)) = (demo_backend, first, &backing) {
        banner(addr, tls, backend, management_local, backing).await;
    }

    let mut admin_socket = None;
    if let Source::File(path) = &source {
        reload::spawn(gateway.clone(), path.clone(), args.listen.clone())?;
        let location = admin::Location::for_config(path, args.admin_socket.clone());
        match admin::serve(location, gateway.clone(), path.clone(), args.listen.clone()).await {
            Ok(socket) => admin_socket = Some(Arc::new(socket)),
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "no admin socket: gatehouse net apply will not reach this gateway (SIGHUP still reloads)");
            }
        }
    }
    let stopper = gateway.clone();
    let admin_on_stop = admin_socket.clone();
    tokio::spawn(async move {
        crate::wait_for_stop_signal().await;
        tracing::info!("shutting down: no new connections, open ones finish their requests");
        // A stopping gateway takes no more admin requests, and its socket goes now so that a
        // successor can make its own while this one drains.
        if let Some(socket) = admin_on_stop {
            socket.close();
        }
        let _ = stop_components.send(true);
        stopper.shutdown();
    });
    gateway
        .serve(listeners, Duration::from_secs(args.drain_seconds))
        .await;
    // Also when serving ended without a signal, or the drain ran out of time.
    if let Some(socket) = admin_socket {
        socket.close();
    }
    tracing::info!("gatehouse stopped");
    Ok(())
}

/// What the management API needs to start: now, or (a node started from its saved
/// configuration) once the store answers.
struct Management {
    addrs: Vec<ComponentAddr>,
    /// On the command line's address (fixed), else on the config's endpoints, followed
    /// through reloads.
    fixed: bool,
    config: Config,
    check: ConfigCheck,
    gateway: Gateway,
    stopped: tokio::sync::watch::Receiver<bool>,
    /// The developer portal starts with the management API, over the same backing.
    portal: crate::portal::PortalStart,
    /// So does the Git configuration repository (with a store only).
    git: crate::git::GitStart,
}

/// Where the management API and the portal listen first (for the banner).
#[derive(Default, Clone, Copy)]
struct Started {
    management: Option<(SocketAddr, bool)>,
    portal: Option<(SocketAddr, bool)>,
    git: Option<(SocketAddr, bool)>,
}

impl Management {
    /// Binds and serves all three; returns the first address each bound.
    async fn start(
        self,
        backing: Arc<dyn gatehouse_admin::Backing>,
        follower: Option<crate::follow::Follower>,
        store: Option<Store>,
    ) -> Result<Started> {
        let check = self.check.clone();
        let checker: gatehouse_admin::Checker = Arc::new(move |c: &Config| check(c).map(|_| ()));
        let portal = self
            .portal
            .start(
                backing.clone(),
                checker.clone(),
                self.gateway.clone(),
                self.stopped.clone(),
            )
            .await?;
        let git = self
            .git
            .start(
                store,
                backing.clone(),
                checker,
                self.gateway.clone(),
                self.stopped.clone(),
            )
            .await?;
        let api = management::api(
            &self.config,
            backing,
            self.check.clone(),
            self.gateway.clone(),
            follower,
        );
        let mut component = component_listener::Component::new(
            "management",
            self.gateway.clone(),
            api,
            self.stopped.clone(),
        );
        let mut local = None;
        for b in component_listener::bind("management", &self.addrs).await? {
            tracing::info!(listener = %b.local, exposure = ?b.spec.exposure, "management API listening");
            local.get_or_insert((b.local, b.spec.tls));
            component.start(b);
        }
        component.keep(self.fixed, management::snapshot_addrs);
        Ok(Started {
            management: local,
            portal,
            git,
        })
    }
}

/// A component's listeners: the command line's (or the demo's) address, plain HTTP and public;
/// else the config's endpoints.
fn fixed_or_configured(
    fixed: Option<SocketAddr>,
    configured: Vec<ComponentAddr>,
) -> Vec<ComponentAddr> {
    match fixed {
        Some(addr) => vec![ComponentAddr {
            addr,
            tls: false,
            exposure: gatehouse_model::Exposure::Public,
        }],
        None => configured,
    }
}

/// Opens the store, giving up after [`crate::follow::STORE_TIMEOUT`] (the pool would wait its
/// whole acquire timeout for an unreachable server).
async fn open_store(url: &str, key: &gatehouse_store::SecretKey) -> Result<Store> {
    match tokio::time::timeout(crate::follow::STORE_TIMEOUT, Store::open(url, key.clone())).await {
        Ok(r) => r.map_err(anyhow::Error::new),
        Err(_) => Err(anyhow!(
            "no answer within {:?}",
            crate::follow::STORE_TIMEOUT
        )),
    }
}

fn checked(check: &ConfigCheck, config: &Config, what: &str) -> Result<Validated> {
    check(config).map_err(|problems| {
        let lines: Vec<String> = problems
            .iter()
            .map(|p| format!("  {}: {}", p.path, p.message))
            .collect();
        anyhow!("{what} does not load:\n{}", lines.join("\n"))
    })
}

/// The store's newest config. An empty store starts with a minimal service (and the demo's
/// config in demo mode); in demo mode, the demo backend's new address replaces the old one.
async fn bootstrap(store: &Store, demo_backend: Option<SocketAddr>) -> Result<(Config, u64)> {
    let loaded = store.load().await.context("cannot read the store")?;
    let (config, what) = match (loaded, demo_backend) {
        (Some(c), None) => return Ok(c),
        (Some((mut config, revision)), Some(backend)) => {
            // The demo backend listens on a new port each run: point the demo's backend at it.
            let url = format!("http://{backend}");
            match config.backends.get_mut(demo::DEMO_BACKEND_ID) {
                Some(b) if b.url != url && is_loopback_url(&b.url) => b.url = url,
                _ => return Ok((config, revision)),
            }
            let rev = store
                .commit(&config, revision, "gatehouse", "demo backend address")
                .await
                .context("cannot update the demo backend's address in the store")?;
            return Ok((config, rev));
        }
        (None, Some(backend)) => (demo::config(backend)?, "demo configuration"),
        (None, None) => (empty_config(), "empty service"),
    };
    let rev = store
        .import(&config, "gatehouse")
        .await
        .with_context(|| format!("cannot write the {what} to the store"))?;
    tracing::info!(
        revision = rev,
        "the store was empty: it now holds the {what}"
    );
    Ok((config, rev))
}

fn is_loopback_url(url: &str) -> bool {
    url.starts_with("http://127.") || url.starts_with("http://[::1]")
}

/// An empty store's first revision: a service named `gatehouse` with the default listener.
fn empty_config() -> Config {
    Config {
        service: gatehouse_model::Service {
            name: "gatehouse".to_string(),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// `postgres://user:password@host/db` without the password, for logs and errors.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..s + 3], &userinfo[..colon], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

async fn banner(
    addr: SocketAddr,
    tls: bool,
    backend: SocketAddr,
    started: Started,
    backing: &Arc<dyn gatehouse_admin::Backing>,
) {
    let management = started.management;
    let scheme = if tls { "https" } else { "http" };
    println!();
    println!(
        "  gatehouse {} is serving the demo API",
        env!("CARGO_PKG_VERSION")
    );
    println!("  gateway:      {scheme}://{addr}");
    println!("  demo backend: http://{backend} (echo)");
    println!(
        "  try:          curl -H \"Ocp-Apim-Subscription-Key: {}\" {scheme}://{addr}/echo/hello",
        demo::DEMO_KEY
    );
    if let Some((maddr, mtls)) = management {
        let mscheme = if mtls { "https" } else { "http" };
        println!("  management:   {mscheme}://{maddr}");
        match backing.access_keys().await {
            Ok(keys) => {
                let token = gatehouse_admin::sas_token(
                    "gatehouse",
                    management::token_expiry(Duration::from_secs(3600)),
                    &keys.primary,
                );
                println!(
                    "  try:          curl -H 'Authorization: {token}' '{mscheme}://{maddr}/apis?api-version=2022-08-01'"
                );
            }
            Err(e) => tracing::warn!(error = %e, "cannot read the management access keys"),
        }
    }
    if let Some((paddr, ptls)) = started.portal {
        let pscheme = if ptls { "https" } else { "http" };
        println!(
            "  portal:       {pscheme}://{paddr}  (open it in a browser: sign up, subscribe, try the API)"
        );
    }
    if let Some((gaddr, gtls)) = started.git {
        let gscheme = if gtls { "https" } else { "http" };
        println!("  git:          git clone {gscheme}://apim@{gaddr}/ gatehouse-config");
        println!("                (the password is the line `gatehouse admin git-token` prints)");
    }
    println!();
}

#[cfg(test)]
mod tests {
    use super::redact_url;
    #[test]
    fn passwords_never_leave_in_urls() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite:///tmp/x.db"), "sqlite:///tmp/x.db");
    }
}
