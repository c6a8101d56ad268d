//! Command-line options.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use clap::Parser;

use crate::source_ips;

/// Opens many WebSocket connections to a Natter message pod, publishes at a rate, and reports
/// deliveries per second, publish-to-deliver latency, loss, duplicates, order violations and the pod's
/// memory per connection.
#[derive(Debug, Clone, Parser)]
#[command(name = "natter-loadgen", version)]
pub struct Args {
    /// Web's base URL (accounts, rooms, tokens). Not with `--standalone` or `--bare`.
    #[arg(long, required_unless_present_any = ["standalone", "bare"], conflicts_with_all = ["standalone", "bare"])]
    pub web: Option<String>,
    /// The message pod's base URL (`ws://host:port`). Not with `--standalone` or `--bare`.
    #[arg(long, required_unless_present_any = ["standalone", "bare"], conflicts_with_all = ["standalone", "bare"])]
    pub message: Option<String>,
    /// Start `natter standalone --port 0` as a child process and use it (its RSS is measured).
    #[arg(long, conflicts_with = "bare")]
    pub standalone: bool,
    /// Start the bare broadcast baseline (`natter-bare-fanout`, next to this binary) as a child
    /// process and use it: the same frames with no accounts, authorisation or storage.
    #[arg(long)]
    pub bare: bool,
    /// CPUs the child server runs on (`taskset -c` list, e.g. `0`); pin the load generator itself to
    /// the others (`taskset -c 1 natter-loadgen ...`) so the two do not share a core.
    #[arg(long)]
    pub server_cpus: Option<String>,
    /// The `natter` binary for `--standalone`; by default the one next to this binary, else `natter`.
    #[arg(long)]
    pub natter_bin: Option<PathBuf>,
    /// Where the standalone child's log (stderr) goes.
    #[arg(long, default_value = "/tmp/natter-loadgen-pod.log")]
    pub pod_log: PathBuf,
    /// Process id of the message pod, to read its RSS and CPU time (implied by `--standalone`).
    #[arg(long)]
    pub pod_pid: Option<u32>,
    /// WebSocket connections to open.
    #[arg(long, default_value_t = 100)]
    pub connections: usize,
    /// Rooms; connection `i` subscribes to room `i % rooms`.
    #[arg(long, default_value_t = 1)]
    pub rooms: usize,
    /// Connections that also publish (the first ones, so publisher `j` is in room `j % rooms`).
    #[arg(long, default_value_t = 1)]
    pub publishers: usize,
    /// Messages per second, all publishers together.
    #[arg(long, default_value_t = 10.0)]
    pub rate: f64,
    /// Seconds of publishing (or, with `--idle`, of holding the connections open).
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// After `--duration` seconds, go on publishing at this rate (all publishers together) for
    /// `--then-duration` seconds: e.g. an overload, then a normal rate to see how fast latency
    /// recovers (the report gives the seconds until the p99 of each second stays within
    /// `--recovered-p99-ms`).
    #[arg(long, requires = "then_duration")]
    pub then_rate: Option<f64>,
    #[arg(long, requires = "then_rate")]
    pub then_duration: Option<f64>,
    /// The per-second p99 (ms) at which the pod counts as recovered after `--then-rate` starts.
    #[arg(long, default_value_t = 50.0)]
    pub recovered_p99_ms: f64,
    /// Seconds to wait after publishing stops for deliveries still on their way.
    #[arg(long, default_value_t = 3.0)]
    pub grace: f64,
    /// Only connect and subscribe, then measure the pod's RSS per connection; publish nothing.
    #[arg(long)]
    pub idle: bool,
    /// Client source addresses: a range `127.0.0.1-127.0.0.8` or a list `127.0.0.1,127.0.0.2`.
    /// Connection `i` binds address `i % count` (one address has about 28k ephemeral ports).
    #[arg(long, default_value = "127.0.0.1", value_parser = source_ips::parse)]
    pub source_ips: SourceIps,
    /// Accounts the connections share (connection `i` uses account `i % accounts`); each member may
    /// hold many connections. Existing accounts are logged into, missing ones signed up.
    #[arg(long, default_value_t = 8)]
    pub accounts: usize,
    /// Prefix of the accounts' usernames (3 to 24 characters of a-z, 0-9, `.`, `_`, `-`).
    #[arg(long, default_value = "loadgen")]
    pub account_prefix: String,
    /// Password of every load-generator account.
    #[arg(long, default_value = "loadgen-password-1")]
    pub password: String,
    /// Bytes of each message's text (at least what the timestamp needs, about 30).
    #[arg(long, default_value_t = 64)]
    pub message_bytes: usize,
    /// Connection attempts in flight at once.
    #[arg(long, default_value_t = 256)]
    pub connect_concurrency: usize,
    /// Seconds to wait, once all connections are subscribed, before measuring the pod's RSS.
    #[arg(long, default_value_t = 2.0)]
    pub settle: f64,
    /// Print a line of progress every second (to stderr).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub progress: bool,
}

/// The client source addresses, in order.
#[derive(Debug, Clone)]
pub struct SourceIps(pub Vec<Ipv4Addr>);

impl Args {
    /// Checks what clap cannot.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.connections > 0, "--connections must be at least 1");
        anyhow::ensure!(self.rooms > 0, "--rooms must be at least 1");
        anyhow::ensure!(self.accounts > 0, "--accounts must be at least 1");
        anyhow::ensure!(
            self.idle || (self.publishers > 0 && self.publishers <= self.connections),
            "--publishers must be between 1 and --connections"
        );
        anyhow::ensure!(self.idle || self.rate > 0.0, "--rate must be positive");
        anyhow::ensure!(self.duration >= 0.0 && self.grace >= 0.0, "durations must not be negative");
        anyhow::ensure!(
            self.then_rate.is_none_or(|rate| rate > 0.0) && self.then_duration.is_none_or(|d| d >= 0.0),
            "--then-rate must be positive and --then-duration not negative"
        );
        anyhow::ensure!(
            (3..=24).contains(&self.account_prefix.len()),
            "--account-prefix must be 3 to 24 characters long"
        );
        Ok(())
    }

    /// Seconds of publishing in all (`--duration` plus `--then-duration`).
    pub fn publishing_seconds(&self) -> f64 {
        self.duration + self.then_duration.unwrap_or(0.0)
    }

    /// Publishing connections (none when idle).
    pub fn publishing_connections(&self) -> usize {
        if self.idle { 0 } else { self.publishers }
    }
}
