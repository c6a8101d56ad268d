//! Logging set-up. `RUST_LOG` filters (default `info`); `NATTER_LOG_FORMAT=json` switches to one JSON
//! object per line for log shippers.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber once; later calls (tests starting several services) are no-ops.
pub fn init_logging(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(true);
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}
