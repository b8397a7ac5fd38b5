//! `gatehouse`: serve the gateway, validate a config file, print the config's JSON Schema.

// mimalloc: the request path allocates small, short-lived objects on every request (headers,
// URIs, futures); mimalloc's thread-local free lists make those cheaper than glibc malloc.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod admin;
mod admin_cmd;
mod api_cmd;
mod component_listener;
mod data_dir;
mod demo;
mod dns_records;
mod file_keys;
mod follow;
mod git;
mod heartbeat;
mod json_log;
mod logging;
mod management;
mod metrics_endpoint;
mod net;
mod network_status;
mod policy_cmd;
mod portal;
mod private_dir;
mod private_file;
mod reload;
mod serve;
mod state_dir;
mod store_cmd;
mod text_pages;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use gatehouse_gateway::Gateway;
use gatehouse_model::Validated;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "gatehouse",
    version,
    about = "Self-hosted API Management: gateway, resource model and network isolation after Azure APIM"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway. Without --config: a demo API in front of a built-in echo backend.
    Serve(Box<ServeArgs>),
    /// Work with config files.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Explain the network rules: verify a flow, show exposure and rules, plan a subnet.
    #[command(subcommand)]
    Net(net::NetCommand),
    /// Work with APIM policy documents.
    #[command(subcommand)]
    Policy(policy_cmd::PolicyCommand),
    /// Move configs into and out of a store (SQLite or PostgreSQL).
    #[command(subcommand)]
    Store(store_cmd::StoreCommand),
    /// Management-plane chores: tokens for the management API.
    #[command(subcommand)]
    Admin(admin_cmd::AdminCommand),
    /// Work with APIs in a store: import an OpenAPI or Swagger document.
    #[command(subcommand)]
    Api(api_cmd::ApiCommand),
    /// Run by the Git configuration repository's hook during a push (not for people).
    #[command(hide = true)]
    GitHook { stage: String },
}

#[derive(clap::Args)]
struct ServeArgs {
    /// The config file (YAML or JSON). Edits (or SIGHUP) reload it live; the management API
    /// only reads it.
    #[arg(long, short, env = "GATEHOUSE_CONFIG")]
    config: Option<PathBuf>,
    /// Serve the config held in a store (`sqlite://PATH`, `postgres://USER:PASS@HOST:PORT/DB`),
    /// live: every change written through the management API is applied within a second.
    #[arg(
        long,
        value_name = "URL",
        env = "GATEHOUSE_STORE",
        conflicts_with = "config"
    )]
    store: Option<String>,
    /// The key that encrypts the store's secrets (default: <data dir>/secret.key, created
    /// with mode 0600 when missing).
    #[arg(long, value_name = "FILE", env = "GATEHOUSE_SECRET_KEY_FILE")]
    secret_key_file: Option<PathBuf>,
    /// Serve the management API here (plain HTTP) instead of `network.endpoints.management`
    /// (default with no --config/--store: 127.0.0.1:8081).
    #[arg(long, value_name = "IP:PORT", env = "GATEHOUSE_MANAGEMENT_LISTEN")]
    management_listen: Option<std::net::SocketAddr>,
    /// Serve the developer portal here (plain HTTP) instead of `network.endpoints.portal`
    /// (default with no --config/--store: 127.0.0.1:8082).
    #[arg(long, value_name = "IP:PORT", env = "GATEHOUSE_PORTAL_LISTEN")]
    portal_listen: Option<std::net::SocketAddr>,
    /// Serve the Git configuration repository here (plain HTTP) instead of
    /// `network.endpoints.git` (default with no --config/--store: 127.0.0.1:8083).
    #[arg(long, value_name = "IP:PORT", env = "GATEHOUSE_GIT_LISTEN")]
    git_listen: Option<std::net::SocketAddr>,
    /// The portal's address as its users reach it, for the links in its e-mails (default: the
    /// first address it listens on).
    #[arg(long, value_name = "URL", env = "GATEHOUSE_PORTAL_URL")]
    portal_url: Option<String>,
    /// SMTP server for the portal's e-mails (sign-up confirmation, password reset):
    /// smtp://HOST:PORT (clear, e.g. a local relay), smtp://USER:PASS@HOST:587?tls=required
    /// (STARTTLS) or smtps://… Without it, new accounts are active at once.
    #[arg(long, value_name = "URL", env = "GATEHOUSE_SMTP_URL")]
    smtp: Option<String>,
    /// The sender of the portal's e-mails.
    #[arg(
        long,
        value_name = "ADDRESS",
        env = "GATEHOUSE_SMTP_FROM",
        default_value = "gatehouse portal <portal@localhost>"
    )]
    smtp_from: String,
    /// Listen here instead of the config's `gateway.listeners` (plain HTTP; repeatable).
    #[arg(long, value_name = "IP:PORT")]
    listen: Vec<std::net::SocketAddr>,
    /// Serve Prometheus metrics at http://ADDR/metrics (refused connections by stage and rule...).
    #[arg(long, value_name = "IP:PORT")]
    metrics_listen: Option<std::net::SocketAddr>,
    /// The local admin socket for `gatehouse net apply` (default: named after the config path,
    /// in the private directory $XDG_RUNTIME_DIR/gatehouse, else <tmp>/gatehouse-<uid>).
    #[arg(long, value_name = "PATH")]
    admin_socket: Option<PathBuf>,
    /// Threads serving the gateway's connections, each with its own socket per listener
    /// (default: one per core this process may run on, as its CPU affinity says).
    #[arg(long, env = "GATEHOUSE_WORKERS")]
    workers: Option<usize>,
    /// Log format: json (one object per line) or text.
    #[arg(long, default_value = "json", value_parser = ["json", "text"])]
    log_format: String,
    /// Log filter, as RUST_LOG (e.g. `info`, `gatehouse::access=off,info`).
    #[arg(long, env = "RUST_LOG", default_value = "info")]
    log: String,
    /// Where the node saves the last configuration it applied (store mode), to start from it
    /// when the store is unreachable (default: <data dir>/state; created with mode 0700).
    #[arg(long, value_name = "DIR", env = "GATEHOUSE_STATE_DIR")]
    state_dir: Option<PathBuf>,
    /// This node's name in the store's node registry (default: the host name).
    #[arg(long, value_name = "NAME", env = "GATEHOUSE_NODE_NAME")]
    node_name: Option<String>,
    /// The location this node serves: the service's main location (default) or one of
    /// `service.additional_locations`, whose network section the node applies.
    #[arg(long, value_name = "LOCATION", env = "GATEHOUSE_LOCATION")]
    location: Option<String>,
    /// Redis for the counters nodes share (rate-limit, quota, limit-concurrency: exact across
    /// nodes) and APIM's external cache (`caching-type="external"`), e.g. redis://10.0.0.7:6379.
    /// While Redis is unreachable the node counts on its own (docs/cluster.md).
    #[arg(long, value_name = "URL", env = "GATEHOUSE_COUNTERS")]
    counters: Option<String>,
    /// Seconds open connections get to finish on shutdown.
    #[arg(long, default_value_t = 10)]
    drain_seconds: u64,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Check a config file; print every error with its path inside the file.
    Validate {
        file: PathBuf,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print the JSON Schema of the config file.
    Schema,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(*args),
        Command::Config(ConfigCommand::Validate { file, json }) => validate(&file, json),
        Command::Net(cmd) => net::run(cmd),
        Command::Policy(cmd) => policy_cmd::run(cmd),
        Command::Store(cmd) => store_cmd::run(cmd),
        Command::Admin(cmd) => admin_cmd::run(cmd),
        Command::Api(cmd) => api_cmd::run(cmd),
        Command::GitHook { stage } => git::hook(&stage),
        Command::Config(ConfigCommand::Schema) => {
            println!("{:#}", gatehouse_model::schema_json());
            Ok(ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Why `config validate` refused a file: one line per issue, and the policy errors' fields
/// (file, line, column, policy) as JSON objects, kept apart for `--json`.
struct Refusal {
    lines: Vec<String>,
    policy_errors: Vec<serde_json::Value>,
}

/// Everything `config validate` checks, including what only compiling finds (certificates).
fn check_file(file: &Path) -> Result<Validated, Refusal> {
    let validated = gatehouse_model::load_validated(file).map_err(|e| Refusal {
        lines: e.issues().iter().map(|i| i.to_string()).collect(),
        policy_errors: Vec::new(),
    })?;
    if let Err(e) = Gateway::new(&validated) {
        return Err(Refusal {
            lines: vec![format!("error: {e}")],
            policy_errors: e.policy_errors_json(),
        });
    }
    Ok(validated)
}

fn validate(file: &Path, json: bool) -> Result<ExitCode> {
    let result = check_file(file);
    let (ok, errors, warnings, policy_errors) = match &result {
        Ok(v) => (
            true,
            Vec::new(),
            // The model's warnings, then Azure's required NSG rules checked against the NSGs as
            // written: that check needs crates/net's evaluator, which the model may not use, so
            // it runs here (crates/net/src/recommended.rs). Warnings never change the exit code.
            v.warnings
                .iter()
                .map(|w| w.to_string())
                .chain(
                    gatehouse_net::recommended::check(&v.config)
                        .iter()
                        .map(|w| format!("warning: {w}")),
                )
                .collect::<Vec<_>>(),
            Vec::new(),
        ),
        Err(refusal) => {
            let (w, e): (Vec<String>, Vec<String>) = refusal
                .lines
                .iter()
                .cloned()
                .partition(|l| l.starts_with("warning: "));
            (false, e, w, refusal.policy_errors.clone())
        }
    };
    if json {
        let v = serde_json::json!({ "file": file.display().to_string(), "ok": ok, "errors": errors, "warnings": warnings, "policy_errors": policy_errors });
        println!("{v:#}");
    } else {
        for l in errors.iter().chain(&warnings) {
            println!("{}: {l}", file.display());
        }
        if let Ok(v) = &result {
            let c = &v.config;
            println!(
                "{}: ok ({} apis, {} operations, {} products, {} subscriptions)",
                file.display(),
                c.apis.len(),
                c.apis.iter().map(|a| a.operations.len()).sum::<usize>(),
                c.products.len(),
                c.subscriptions.len()
            );
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn serve(args: ServeArgs) -> Result<ExitCode> {
    let _log_guard = logging::init(&args.log_format, &args.log)?;
    // Thread-per-core: the gateway's connections are served by `workers` threads, each a
    // current-thread runtime with its own SO_REUSEPORT socket per listener
    // (crates/gateway/src/workers.rs); this thread's own current-thread runtime runs the control
    // plane (reloads, management API, portal, Git endpoint). One worker: everything on this
    // thread, with no scheduler machinery to pay for.
    if args.workers == Some(0) {
        bail!("--workers must be at least 1");
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(serve::run(args))?;
    Ok(ExitCode::SUCCESS)
}

/// `--listen` replaces the config's listeners (for this run only: a reload keeps them too).
pub(crate) fn override_listeners(mut v: Validated, listen: &[std::net::SocketAddr]) -> Validated {
    if !listen.is_empty() {
        v.config.gateway.listeners = listen
            .iter()
            .map(|a| gatehouse_model::Listener {
                address: a.to_string(),
                tls: false,
            })
            .collect();
        v.listen_addrs = listen.to_vec();
        v.listeners = listen
            .iter()
            .map(|a| gatehouse_model::ListenerPlan {
                addr: *a,
                tls: false,
                exposure: gatehouse_model::Exposure::Public,
            })
            .collect();
    }
    v
}

pub(crate) async fn wait_for_stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
