//! The plain-text report printed at the end of a run.

use std::fmt::Write as _;

use hdrhistogram::Histogram;

use crate::args::Args;
use crate::monitor::Second;
use crate::run::Findings;
use crate::stats::Stats;

const MIB: f64 = 1024.0 * 1024.0;

/// What the report names besides the findings.
pub struct Context<'a> {
    pub args: &'a Args,
    pub web_url: &'a str,
    pub message_url: &'a str,
    pub pod_pid: Option<u32>,
    pub nofile: u64,
}

/// Renders the report.
pub fn render(context: &Context<'_>, f: &Findings) -> String {
    let mut out = String::new();
    let _ = write_report(&mut out, context, f);
    out
}

fn write_report(out: &mut String, cx: &Context<'_>, f: &Findings) -> std::fmt::Result {
    let (args, c) = (cx.args, &f.stats.counters);
    let get = Stats::get;
    writeln!(out, "== natter-loadgen report ==")?;
    writeln!(out, "target      web={} message={} pod_pid={}", cx.web_url, cx.message_url, opt(cx.pod_pid))?;
    let mode = if args.idle {
        "idle (connect + subscribe only)".to_owned()
    } else {
        format!("{} publisher(s), {} msg/s total, {} B texts", args.publishers, args.rate, args.message_bytes)
    };
    writeln!(
        out,
        "run         {} connections over {} room(s), {}; {:.1} s + {:.1} s grace; {} source address(es); \
         RLIMIT_NOFILE {}",
        args.connections,
        args.rooms,
        mode,
        args.duration,
        args.grace,
        args.source_ips.0.len(),
        cx.nofile
    )?;
    writeln!(
        out,
        "connections opened {} failed {}; subscribed {} failed {}; ended during the run {}; setup {:.1} s \
         ({:.0} connections/s)",
        get(&c.connected),
        get(&c.connect_failed),
        get(&c.subscribed),
        get(&c.subscribe_failed),
        get(&c.ended_early),
        f.setup_time.as_secs_f64(),
        get(&c.subscribed) as f64 / f.setup_time.as_secs_f64().max(1e-3),
    )?;
    if args.standalone {
        let limits: Vec<String> = crate::standalone::PUBLISH_LIMITS
            .iter()
            .map(|name| format!("{name}={}", std::env::var(name).unwrap_or_else(|_| "0".to_owned())))
            .collect();
        writeln!(out, "pod limits  {} (0 = off)", limits.join(" "))?;
    }
    if !args.idle {
        write_traffic(out, f)?;
    }
    write_pod(out, f)?;
    writeln!(out, "loadgen     peak RSS {:.1} MiB", f.own_peak_rss as f64 / MIB)?;
    let tallies = f.stats.tallies();
    if !tallies.is_empty() {
        writeln!(out, "events (count  what):")?;
        for (what, count) in &tallies {
            writeln!(out, "  {count:>8}  {what}")?;
        }
    }
    write_summary(out, cx, f, &tallies)
}

/// One line of `key=value` figures for scripts (`scripts/bench-fanout` builds its table from them).
fn write_summary(
    out: &mut String,
    cx: &Context<'_>,
    f: &Findings,
    tallies: &std::collections::BTreeMap<String, u64>,
) -> std::fmt::Result {
    let args = cx.args;
    let server = if args.bare {
        "bare"
    } else if args.standalone {
        "natter"
    } else {
        "remote"
    };
    let window = f.publish_window.as_secs_f64().max(1e-3);
    let latency = f.stats.delivery_latency();
    let ms =
        |q: f64| if latency.is_empty() { f64::NAN } else { latency.value_at_quantile(q) as f64 / 1000.0 };
    let acks = f.stats.ack_latency();
    let ack = |q: f64| if acks.is_empty() { f64::NAN } else { acks.value_at_quantile(q) as f64 / 1000.0 };
    let n = f.seconds.len().max(1) as f64;
    let pod_cpu = f.seconds.iter().filter_map(|s| s.pod_cores).sum::<f64>() / n * 100.0;
    let _ = tallies;
    let c = &f.stats.counters;
    let rss_per_connection = match (f.pod_before, f.pod_connected) {
        (Some(before), Some(connected)) => {
            let grown = connected.rss_bytes.saturating_sub(before.rss_bytes) as f64;
            format!("{:.2}", grown / 1024.0 / Stats::get(&c.subscribed).max(1) as f64)
        }
        _ => "-".to_owned(),
    };
    let (peak, recovery) = recovery(args, &f.seconds);
    writeln!(
        out,
        "summary server={server} connections={} rooms={} rate={} then_rate={} delivered_per_s={:.0} p50_ms={:.2} \
         p99_ms={:.2} p999_ms={:.2} pod_cpu_pct={:.0} us_cpu_per_delivery={:.2} closed={} skip_notices={} \
         reloadable={} lost={} expected={} refused={} peak_second_p99_ms={peak} recovery_s={recovery} \
         rss_kib_per_connection={rss_per_connection} ack_p50_ms={:.2} ack_p99_ms={:.2}",
        args.connections,
        args.rooms,
        args.rate,
        args.then_rate.map_or_else(|| "-".to_owned(), |rate| rate.to_string()),
        f.delivered_in_window as f64 / window,
        ms(0.5),
        ms(0.99),
        ms(0.999),
        pod_cpu,
        pod_cpu / 100.0 * 1e6 / (f.delivered_in_window as f64 / window).max(1.0),
        Stats::get(&c.ended_early),
        Stats::get(&c.skip_notices),
        f.loss.reloadable,
        f.loss.on_open + f.loss.on_ended,
        Stats::get(&c.expected),
        Stats::get(&c.publish_refused),
        ack(0.5),
        ack(0.99),
    )
}

/// With `--then-rate`: the worst per-second p99 before the change (ms), and the seconds after the
/// change until every following second's p99 stays within `--recovered-p99-ms` ("never" when it did
/// not within the window). `-` for both without `--then-rate`.
fn recovery(args: &Args, seconds: &[Second]) -> (String, String) {
    if args.then_rate.is_none() {
        return ("-".to_owned(), "-".to_owned());
    }
    let change = args.duration.ceil() as usize;
    let peak = seconds[..change.min(seconds.len())]
        .iter()
        .map(|s| s.p99_ms)
        .filter(|p| !p.is_nan())
        .fold(0.0, f64::max);
    let within = |s: &Second| s.p99_ms <= args.recovered_p99_ms;
    let recovered_from = (change..seconds.len()).find(|&k| seconds[k..].iter().all(within));
    let recovery = match recovered_from {
        Some(k) => format!("{:.0}", (k + 1) as f64 - args.duration),
        None => "never".to_owned(),
    };
    (format!("{peak:.1}"), recovery)
}

fn write_traffic(out: &mut String, f: &Findings) -> std::fmt::Result {
    let (c, get) = (&f.stats.counters, Stats::get);
    let window = f.publish_window.as_secs_f64().max(1e-3);
    writeln!(
        out,
        "publishing  published {} ({:.0}/s) acked {} rate_limited {} refused {}",
        get(&c.published),
        get(&c.published) as f64 / window,
        get(&c.acked),
        get(&c.rate_limited),
        get(&c.publish_refused),
    )?;
    writeln!(
        out,
        "deliveries  expected {} received {} duplicates {} order_violations {} foreign {}; drained in {:.2} s",
        get(&c.expected),
        get(&c.delivered),
        get(&c.duplicates),
        get(&c.order_violations),
        get(&c.foreign),
        f.drain_time.as_secs_f64(),
    )?;
    let mut rates: Vec<f64> = f.seconds.iter().map(|s| s.delivered_per_s).collect();
    rates.sort_by(f64::total_cmp);
    writeln!(
        out,
        "rate        {:.0} deliveries/s over the {:.1} s window; per second min {:.0} median {:.0} max {:.0}",
        f.delivered_in_window as f64 / window,
        window,
        rates.first().copied().unwrap_or(0.0),
        rates.get(rates.len() / 2).copied().unwrap_or(0.0),
        rates.last().copied().unwrap_or(0.0),
    )?;
    let loss = &f.loss;
    let expected = get(&c.expected).max(1) as f64;
    writeln!(
        out,
        "loss        {} on open connections ({:.4}%), {} on connections that ended; {} delivered but never acked; \
         {} skipped with a reload_history notice ({} notices)",
        loss.on_open,
        loss.on_open as f64 * 100.0 / expected,
        loss.on_ended,
        loss.delivered_unacked,
        loss.reloadable,
        get(&c.skip_notices),
    )?;
    writeln!(out, "latency     publish->deliver {}", percentiles(&f.stats.delivery_latency()))?;
    writeln!(out, "            publish->ack     {}", percentiles(&f.stats.ack_latency()))?;
    Ok(())
}

fn write_pod(out: &mut String, f: &Findings) -> std::fmt::Result {
    let (Some(before), Some(connected)) = (f.pod_before, f.pod_connected) else {
        return writeln!(out, "pod         not measured (no --pod-pid)");
    };
    let subscribed = Stats::get(&f.stats.counters.subscribed).max(1);
    let grown = connected.rss_bytes.saturating_sub(before.rss_bytes);
    writeln!(
        out,
        "pod RSS     before {:.1} MiB, connected {:.1} MiB, end {} MiB; {:.2} KiB per subscribed connection",
        before.rss_bytes as f64 / MIB,
        connected.rss_bytes as f64 / MIB,
        f.pod_end.map_or_else(|| "?".to_owned(), |e| format!("{:.1}", e.rss_bytes as f64 / MIB)),
        grown as f64 / 1024.0 / subscribed as f64,
    )?;
    writeln!(out, "cpu         {}", cpu_summary(&f.seconds))
}

/// Mean CPU of pod and load generator over the window's seconds.
fn cpu_summary(seconds: &[Second]) -> String {
    if seconds.is_empty() {
        return "no full second measured".to_owned();
    }
    let n = seconds.len() as f64;
    let pod: f64 = seconds.iter().filter_map(|s| s.pod_cores).sum::<f64>() / n;
    let own: f64 = seconds.iter().map(|s| s.own_cores).sum::<f64>() / n;
    let others: f64 = seconds.iter().map(|s| s.other_cores).sum::<f64>() / n;
    format!(
        "pod {:.0}%, loadgen {:.0}%, other processes {:.0}% of a core (means over the window; {} cores)",
        pod * 100.0,
        own * 100.0,
        others * 100.0,
        std::thread::available_parallelism().map_or(0, usize::from)
    )
}

/// `p50 .. max` in milliseconds, from microseconds.
fn percentiles(h: &Histogram<u64>) -> String {
    if h.is_empty() {
        return "no samples".to_owned();
    }
    let ms = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    format!(
        "p50 {:.3} ms  p90 {:.3} ms  p99 {:.3} ms  p99.9 {:.3} ms  max {:.3} ms  ({} samples)",
        ms(0.5),
        ms(0.9),
        ms(0.99),
        ms(0.999),
        h.max() as f64 / 1000.0,
        h.len()
    )
}

fn opt(value: Option<u32>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}
