//! `gatehouse`: serve the gateway, validate a config file, print the config's JSON Schema.

// mimalloc: the request path allocates small, short-lived objects on every request (headers,
// URIs, futures); mimalloc's thread-local free lists make those cheaper than glibc malloc.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod admin;
mod data_dir;
mod demo;
mod json_log;
mod logging;
mod metrics_endpoint;
mod net;
mod policy_cmd;
mod private_dir;
mod reload;
mod store_cmd;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use gatehouse_gateway::Gateway;
use gatehouse_model::{Format, Severity, Validated};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

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
    Serve(ServeArgs),
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
}

#[derive(clap::Args)]
struct ServeArgs {
    /// The config file (YAML or JSON). Edits (or SIGHUP) reload it live.
    #[arg(long, short, env = "GATEHOUSE_CONFIG")]
    config: Option<PathBuf>,
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
    /// Worker threads (default: one per CPU).
    #[arg(long, env = "GATEHOUSE_WORKERS")]
    workers: Option<usize>,
    /// Log format: json (one object per line) or text.
    #[arg(long, default_value = "json", value_parser = ["json", "text"])]
    log_format: String,
    /// Log filter, as RUST_LOG (e.g. `info`, `gatehouse::access=off,info`).
    #[arg(long, env = "RUST_LOG", default_value = "info")]
    log: String,
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
        Command::Serve(args) => serve(args),
        Command::Config(ConfigCommand::Validate { file, json }) => validate(&file, json),
        Command::Net(cmd) => net::run(cmd),
        Command::Policy(cmd) => policy_cmd::run(cmd),
        Command::Store(cmd) => store_cmd::run(cmd),
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
            v.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
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
    // One worker: a current-thread runtime, with no work-stealing machinery to pay for.
    let mut rt = match args.workers {
        Some(0) => bail!("--workers must be at least 1"),
        Some(1) => tokio::runtime::Builder::new_current_thread(),
        Some(n) => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(n);
            b
        }
        None => tokio::runtime::Builder::new_multi_thread(),
    };
    rt.enable_all();
    let rt = rt.build().context("cannot start the async runtime")?;
    rt.block_on(run(args))?;
    Ok(ExitCode::SUCCESS)
}

async fn run(args: ServeArgs) -> Result<()> {
    let (validated, demo_backend) = match &args.config {
        Some(path) => (
            gatehouse_model::load_validated(path).map_err(|e| anyhow::anyhow!("{e}"))?,
            None,
        ),
        None => {
            let backend = demo::start()
                .await
                .context("cannot start the demo backend")?;
            let text = demo::DEMO_CONFIG.replace("${DEMO_BACKEND}", &format!("http://{backend}"));
            let config =
                gatehouse_model::from_str(&text, Format::Yaml, Path::new("<embedded demo config>"))
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            let v = gatehouse_model::validate(config)
                .map_err(|issues| anyhow::anyhow!("embedded config: {issues:?}"))?;
            (v, Some(backend))
        }
    };
    let validated = override_listeners(validated, &args.listen);
    for w in validated
        .warnings
        .iter()
        .filter(|w| w.severity == Severity::Warning)
    {
        tracing::warn!(path = %w.path, "{}", w.message);
    }
    if let Some(addr) = args.metrics_listen {
        let local = metrics_endpoint::start(addr).await?;
        tracing::info!(metrics = %format_args!("http://{local}/metrics"), "serving metrics");
    }
    let gateway = Gateway::new(&validated).map_err(|e| anyhow::anyhow!("{e}"))?;
    let listeners = gateway.bind().await?;
    let first = listeners.first().map(|l| (l.local, l.spec.tls));
    for l in &listeners {
        tracing::info!(listener = %l.local, tls = l.spec.tls, "listening");
    }
    let (c_apis, c_ops, c_products, c_subs) = gateway.snapshot().counts;
    tracing::info!(apis = c_apis, operations = c_ops, products = c_products, subscriptions = c_subs, config = %args.config.as_ref().map_or("<embedded demo>".to_string(), |p| p.display().to_string()), "gatehouse started");
    if let (Some(backend), Some((addr, tls))) = (demo_backend, first) {
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
        println!();
    }
    let mut admin_socket = None;
    if let Some(path) = args.config.clone() {
        reload::spawn(gateway.clone(), path.clone(), args.listen.clone())?;
        let location = admin::Location::for_config(&path, args.admin_socket.clone());
        match admin::serve(location, gateway.clone(), path, args.listen.clone()).await {
            Ok(socket) => admin_socket = Some(std::sync::Arc::new(socket)),
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "no admin socket: gatehouse net apply will not reach this gateway (SIGHUP still reloads)");
            }
        }
    }
    let stopper = gateway.clone();
    let admin_on_stop = admin_socket.clone();
    tokio::spawn(async move {
        wait_for_stop_signal().await;
        tracing::info!("shutting down: no new connections, open ones finish their requests");
        // A stopping gateway takes no more admin requests, and its socket goes now so that a
        // successor can make its own while this one drains.
        if let Some(socket) = admin_on_stop {
            socket.close();
        }
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

/// `--listen` replaces the config's listeners (for this run only: a reload keeps them too).
fn override_listeners(mut v: Validated, listen: &[std::net::SocketAddr]) -> Validated {
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

async fn wait_for_stop_signal() {
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
