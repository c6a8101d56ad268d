//! One run against a prepared pod: open the connections, measure memory, publish on schedule, drain,
//! stop, and gather what was seen.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::args::Args;
use crate::client::{self, Outcome, Plan, RateChange, Schedule};
use crate::clock::now_ns;
use crate::connect::{SourcePorts, Target};
use crate::monitor::{Monitor, Second};
use crate::phase::Phase;
use crate::procfs::{self, Sample};
use crate::setup::Prepared;
use crate::stats::Stats;

/// Setup may take this long plus [`SETUP_PER_CONNECTION`] per connection.
const SETUP_BASE: Duration = Duration::from_secs(60);
const SETUP_PER_CONNECTION: Duration = Duration::from_millis(5);
/// Publishing starts this long after the order, so that every publisher hears it first.
const START_DELAY_NS: u64 = 50_000_000;

/// What a run measured, for the report.
pub struct Findings {
    pub stats: Arc<Stats>,
    pub setup_time: Duration,
    /// The pod before the connections, once they are all subscribed (after `--settle`), and at the end.
    pub pod_before: Option<Sample>,
    pub pod_connected: Option<Sample>,
    pub pod_end: Option<Sample>,
    /// Seconds of the publishing (or idle) window.
    pub seconds: Vec<Second>,
    /// Length of the publishing window and deliveries counted in it.
    pub publish_window: Duration,
    pub delivered_in_window: u64,
    /// How long the drain took (until everything expected arrived, or the grace period ended).
    pub drain_time: Duration,
    pub loss: Loss,
    pub own_peak_rss: u64,
}

/// Expected deliveries that did not arrive.
#[derive(Debug, Default)]
pub struct Loss {
    /// On connections still open at the end, not covered by a `reload_history` notice.
    pub on_open: u64,
    /// On connections still open at the end, covered by a `reload_history` notice: a client reads
    /// them from history (this one does not), so they are skipped, not lost.
    pub reloadable: u64,
    /// On connections the pod closed (or that broke) during the run.
    pub on_ended: u64,
    /// Deliveries of messages whose ack never came.
    pub delivered_unacked: u64,
}

/// Runs the connections and the schedule.
pub async fn execute(args: &Args, prepared: &Prepared, target: Target, pod_pid: Option<u32>) -> Findings {
    let stats = Arc::new(Stats::new(&prepared.rooms));
    let mut monitor = Monitor::new(Arc::clone(&stats), pod_pid, args.progress);
    let pod_before = pod_pid.and_then(|pid| procfs::sample(Some(pid)));
    let (phase_tx, phase_rx) = watch::channel(Phase::Setup);
    let tasks = spawn_connections(args, prepared, target, &stats, &phase_rx);

    let setup_started = Instant::now();
    let n = args.connections as u64;
    let setup_deadline = setup_started + SETUP_BASE + SETUP_PER_CONNECTION * args.connections as u32;
    monitor.watch_until(setup_deadline, || Stats::get(&stats.counters.settled) >= n).await;
    let setup_time = setup_started.elapsed();
    let settle_until = Instant::now() + Duration::from_secs_f64(args.settle);
    monitor.watch_until(settle_until, || false).await;
    let pod_connected = pod_pid.and_then(|pid| procfs::sample(Some(pid)));

    let window_start = Instant::now();
    let delivered_before = Stats::get(&stats.counters.delivered);
    if !args.idle {
        let _ = phase_tx.send(Phase::Publish { start_ns: now_ns() + START_DELAY_NS });
    }
    let window_end = window_start + Duration::from_secs_f64(args.publishing_seconds());
    let seconds = monitor.watch_until(window_end, || false).await;
    let publish_window = window_start.elapsed();
    let delivered_in_window = Stats::get(&stats.counters.delivered) - delivered_before;
    let _ = phase_tx.send(Phase::Drain);
    let drain_start = Instant::now();
    let c = &stats.counters;
    let drained = || {
        Stats::get(&c.delivered) >= Stats::get(&c.expected)
            && Stats::get(&c.acked) >= Stats::get(&c.published)
    };
    monitor.watch_until(drain_start + Duration::from_secs_f64(args.grace), drained).await;
    let drain_time = drain_start.elapsed();
    let pod_end = pod_pid.and_then(|pid| procfs::sample(Some(pid)));
    let _ = phase_tx.send(Phase::Stop);
    let outcomes = tasks.join_all().await;
    Findings {
        loss: count_loss(&stats, &outcomes),
        stats,
        setup_time,
        pod_before,
        pod_connected,
        pod_end,
        seconds,
        publish_window,
        delivered_in_window,
        drain_time,
        own_peak_rss: monitor.own_peak_rss,
    }
}

fn spawn_connections(
    args: &Args,
    prepared: &Prepared,
    target: Target,
    stats: &Arc<Stats>,
    phase: &watch::Receiver<Phase>,
) -> JoinSet<Outcome> {
    let target = Arc::new(target);
    let sources = &args.source_ips.0;
    let ports = Arc::new(SourcePorts::new(sources.len()));
    let gate = Arc::new(Semaphore::new(args.connect_concurrency.max(1)));
    let tokens: Vec<Arc<str>> = prepared.accounts.iter().map(|a| Arc::from(a.ws_token.as_str())).collect();
    let publishers = args.publishing_connections();
    let per_publisher = args.rate / publishers.max(1) as f64;
    let run = now_ns() ^ std::process::id() as u64;
    let mut tasks = JoinSet::new();
    for index in 0..args.connections {
        let change = args.then_rate.map(|rate| RateChange {
            after_ns: (args.duration * 1e9) as u64,
            rate: rate / publishers.max(1) as f64,
        });
        let publish = (index < publishers).then(|| Schedule {
            rate: per_publisher,
            offset_ns: (1e9 / per_publisher * index as f64 / publishers as f64) as u64,
            change,
        });
        let plan = Plan {
            index,
            room: index % prepared.rooms.len(),
            source: (index % sources.len(), sources[index % sources.len()]),
            ports: Arc::clone(&ports),
            token: Arc::clone(&tokens[index % tokens.len()]),
            target: Arc::clone(&target),
            publish,
            message_bytes: args.message_bytes,
            run,
        };
        tasks.spawn(client::run(plan, Arc::clone(stats), Arc::clone(&gate), phase.clone()));
    }
    tasks
}

/// Compares what each connection received with what its room's publishers got acked.
fn count_loss(stats: &Stats, outcomes: &[Outcome]) -> Loss {
    let acked: Vec<_> = (0..stats.rooms.len()).map(|room| stats.acked(room)).collect();
    let mut loss = Loss::default();
    for outcome in outcomes.iter().filter(|o| o.subscribed) {
        let missing = acked[outcome.room].missing(&outcome.received);
        if !outcome.open_at_end {
            loss.on_ended += missing.len() as u64;
        } else if outcome.reloaded.is_empty() {
            loss.on_open += missing.len() as u64;
        } else {
            let reloadable = |seq: &u32| {
                stats.position_of(outcome.room, *seq).is_some_and(|position| {
                    outcome.reloaded.iter().any(|&(after, up_to)| after < position && position <= up_to)
                })
            };
            let (skipped, lost): (Vec<u32>, Vec<u32>) = missing.into_iter().partition(reloadable);
            loss.reloadable += skipped.len() as u64;
            loss.on_open += lost.len() as u64;
        }
        loss.delivered_unacked += outcome.received.missing_from(&acked[outcome.room]);
    }
    loss
}
