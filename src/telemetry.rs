//! Logging: tracing to stderr, human-readable or JSON, colour only on a terminal.
//!
//! Log lines carry counts, stages, sources and file paths, never row values: identifiers
//! cannot reach a log because they are pseudonymised before any value is logged, and
//! no stage logs values.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// Installs the global subscriber. `JOINEDUP_LOG` overrides the level (e.g. `debug`).
pub fn init(format: LogFormat, quiet: bool) {
    let default = if quiet { "warn" } else { "info" };
    let filter =
        EnvFilter::try_from_env("JOINEDUP_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let ansi = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match format {
        LogFormat::Text => builder.with_ansi(ansi).try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
    };
}
