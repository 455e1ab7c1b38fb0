//! Logging: `tracing` to stderr, human-readable on a terminal, JSON lines
//! with `--log-format json`. `RUST_LOG` overrides the level.

use tracing_subscriber::{EnvFilter, fmt};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum LogFormat {
    #[default]
    Human,
    Json,
}

/// Installs the global subscriber. `verbosity`: 0 warn, 1 info, 2 debug, 3+ trace.
pub fn init(format: LogFormat, verbosity: u8) {
    let default = match verbosity {
        0 => "warn,cccwatch=info",
        1 => "info",
        2 => "debug,sqlx=warn",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match format {
        LogFormat::Human => builder.compact().try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
