//! Once a second: a progress line on stderr, and the rates of the last second for the report.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::procfs::{self, Sample};
use crate::stats::Stats;

/// The rates of one second.
#[derive(Debug, Clone, Copy, Default)]
pub struct Second {
    pub delivered_per_s: f64,
    pub published_per_s: f64,
    /// CPU of the pod, in cores (1.0 = one core busy).
    pub pod_cores: Option<f64>,
    pub own_cores: f64,
    /// CPU of every other process of the machine, in cores.
    pub other_cores: f64,
    /// p99 publish-to-deliver latency of the deliveries of this second, in ms (NaN without any).
    pub p99_ms: f64,
}

/// Watches the counters and the pod.
pub struct Monitor {
    stats: Arc<Stats>,
    pod_pid: Option<u32>,
    print: bool,
    started: Instant,
    last_at: Instant,
    last_delivered: u64,
    last_published: u64,
    last_pod: Option<Sample>,
    last_own: Sample,
    last_machine: Duration,
    /// Peak resident memory of this process seen.
    pub own_peak_rss: u64,
}

impl Monitor {
    pub fn new(stats: Arc<Stats>, pod_pid: Option<u32>, print: bool) -> Self {
        let now = Instant::now();
        let own = procfs::sample(None).unwrap_or_default();
        Self {
            stats,
            pod_pid,
            print,
            started: now,
            last_at: now,
            last_delivered: 0,
            last_published: 0,
            last_pod: pod_pid.and_then(|pid| procfs::sample(Some(pid))),
            last_own: own,
            last_machine: procfs::machine_busy().unwrap_or_default(),
            own_peak_rss: own.rss_bytes,
        }
    }

    /// Sleeps until `deadline` (or until `done` says so), a second at a time; returns the seconds.
    pub async fn watch_until(&mut self, deadline: Instant, done: impl Fn() -> bool) -> Vec<Second> {
        let mut seconds = Vec::new();
        while Instant::now() < deadline && !done() {
            let wake = (self.last_at + Duration::from_secs(1)).min(deadline);
            let check = Instant::now() + Duration::from_millis(50);
            tokio::time::sleep_until(wake.min(check).into()).await;
            if Instant::now() >= self.last_at + Duration::from_secs(1) {
                seconds.push(self.tick());
            }
        }
        seconds
    }

    /// Takes the rates since the last tick and prints them.
    pub fn tick(&mut self) -> Second {
        let now = Instant::now();
        let wall = now.duration_since(self.last_at).as_secs_f64().max(1e-6);
        let c = &self.stats.counters;
        let (delivered, published) = (Stats::get(&c.delivered), Stats::get(&c.published));
        let pod = self.pod_pid.and_then(|pid| procfs::sample(Some(pid)));
        let own = procfs::sample(None).unwrap_or_default();
        self.own_peak_rss = self.own_peak_rss.max(own.rss_bytes);
        let machine = procfs::machine_busy().unwrap_or_default();
        let cores = |now: Sample, then: Sample| now.cpu.saturating_sub(then.cpu).as_secs_f64() / wall;
        let machine_cores = machine.saturating_sub(self.last_machine).as_secs_f64() / wall;
        let pod_cores = pod.zip(self.last_pod).map(|(now, then)| cores(now, then));
        let own_cores = cores(own, self.last_own);
        let recent = self.stats.take_recent_latency();
        let p99_ms =
            if recent.is_empty() { f64::NAN } else { recent.value_at_quantile(0.99) as f64 / 1000.0 };
        let second = Second {
            p99_ms,
            delivered_per_s: (delivered - self.last_delivered) as f64 / wall,
            published_per_s: (published - self.last_published) as f64 / wall,
            pod_cores,
            own_cores,
            other_cores: (machine_cores - own_cores - pod_cores.unwrap_or(0.0)).max(0.0),
        };
        if self.print {
            let pod_text = pod.map_or_else(String::new, |p| {
                format!(
                    " pod_rss={:.1}MiB pod_cpu={:.0}%",
                    p.rss_bytes as f64 / 1048576.0,
                    second.pod_cores.unwrap_or(0.0) * 100.0
                )
            });
            eprintln!(
                "t={:5.1}s open={} subscribed={} published/s={:.0} acked={} delivered/s={:.0} p99={:.1}ms{pod_text} \
                 loadgen_cpu={:.0}% others_cpu={:.0}% loadgen_rss={:.1}MiB",
                now.duration_since(self.started).as_secs_f64(),
                Stats::get(&c.connected) - Stats::get(&c.ended_early).min(Stats::get(&c.connected)),
                Stats::get(&c.subscribed),
                second.published_per_s,
                Stats::get(&c.acked),
                second.delivered_per_s,
                second.p99_ms,
                second.own_cores * 100.0,
                second.other_cores * 100.0,
                own.rss_bytes as f64 / 1048576.0,
            );
        }
        (self.last_at, self.last_delivered, self.last_published) = (now, delivered, published);
        self.last_pod = pod;
        self.last_own = own;
        self.last_machine = machine;
        second
    }
}
