//! Prometheus metrics: one process-wide recorder (the `metrics` facade), rendered in the text
//! exposition format by each service's `GET /metrics` (see `natter_http::metrics`). Standalone mode
//! runs three services in one process, so each of its `/metrics` shows the whole process.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Latency buckets (seconds) of every `*_seconds` histogram.
const BUCKETS: [f64; 17] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.025, 0.035, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// Installs the recorder (once per process) and returns the handle that renders it.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &BUCKETS)
                .expect("buckets are not empty")
                .build_recorder();
            let handle = recorder.handle();
            // Another recorder (a test harness's) may be installed already; ours then stays empty.
            let _ = metrics::set_global_recorder(recorder);
            let upkeep = handle.clone();
            std::thread::Builder::new()
                .name("metrics-upkeep".into())
                .spawn(move || {
                    loop {
                        std::thread::sleep(Duration::from_secs(5));
                        upkeep.run_upkeep();
                    }
                })
                .expect("spawning the metrics upkeep thread");
            handle
        })
        .clone()
}

/// What a connection pool is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUsage {
    /// The most connections it may open.
    pub max: usize,
    /// Connections open now.
    pub open: usize,
    /// Open connections not lent out.
    pub idle: usize,
    /// Callers waiting for a connection.
    pub waiting: usize,
}

impl From<deadpool::Status> for PoolUsage {
    fn from(status: deadpool::Status) -> Self {
        Self { max: status.max_size, open: status.size, idle: status.available, waiting: status.waiting }
    }
}

/// How often pool gauges are refreshed.
const POOL_WATCH_INTERVAL: Duration = Duration::from_secs(5);

/// Keeps the gauges `natter_pool_connections{pool, state="in_use"|"idle"}`, `natter_pool_max{pool}`
/// and `natter_pool_waiting{pool}` up to date from `usage`, every few seconds, for as long as the
/// process runs. A pool saturating shows as `in_use` near `max` with `waiting` above zero.
pub fn watch_pool(pool: &'static str, usage: impl Fn() -> PoolUsage + Send + 'static) {
    let report = move || {
        let now = usage();
        metrics::gauge!("natter_pool_connections", "pool" => pool, "state" => "in_use")
            .set(now.open.saturating_sub(now.idle) as f64);
        metrics::gauge!("natter_pool_connections", "pool" => pool, "state" => "idle").set(now.idle as f64);
        metrics::gauge!("natter_pool_max", "pool" => pool).set(now.max as f64);
        metrics::gauge!("natter_pool_waiting", "pool" => pool).set(now.waiting as f64);
    };
    report();
    let spawned = std::thread::Builder::new().name(format!("pool-watch-{pool}")).spawn(move || {
        loop {
            std::thread::sleep(POOL_WATCH_INTERVAL);
            report();
        }
    });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, pool, "pool usage will not be reported");
    }
}
