//! Log output: JSON lines (default) or text, on stdout, written by a background thread so the
//! request path never waits on the terminal or a pipe.

use anyhow::{Context, Result};
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; keep the guard alive until exit (it flushes on drop).
pub fn init(format: &str, filter: &str) -> Result<WorkerGuard> {
    let filter =
        EnvFilter::try_new(filter).with_context(|| format!("invalid log filter '{filter}'"))?;
    // Not lossy: under a log burst the writer waits rather than dropping access log lines.
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let result = if format == "json" {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init()
    } else {
        use std::io::IsTerminal;
        builder
            .compact()
            .with_ansi(std::io::stdout().is_terminal())
            .try_init()
    };
    result.map_err(|e| anyhow::anyhow!("cannot install the logger: {e}"))?;
    Ok(guard)
}
