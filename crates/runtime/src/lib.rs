//! Start-up plumbing shared by Natter's binaries.

pub mod env;
pub mod metrics;
pub mod telemetry;
pub mod trace_context;
pub mod workers;

/// Installs the process-wide TLS crypto provider (ring). Must run before any HTTP client or TLS
/// connection is built; calling it again is harmless.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
