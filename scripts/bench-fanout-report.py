"""Prints the tables of scripts/bench-fanout from its summary lines (and the message pod's metrics
scraped around each broker run)."""
import collections
import math
import re
import sys
from pathlib import Path

out = Path(sys.argv[1])
rows = []
for line in (out / "summary.txt").read_text().splitlines():
    fields = dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)
    if fields.get("server") == "standalone":
        fields["server"] = "natter"
    rows.append(fields)


def num(row, key):
    try:
        return float(row[key])
    except (KeyError, ValueError):
        return math.nan


def fmt(row, key, spec="{:.1f}"):
    value = num(row, key)
    return "-" if math.isnan(value) else spec.format(value)


def section(name):
    print()
    print(name)


rates = [r for r in rows if r.get("then_rate", "-") == "-" and r.get("scenario") in ("1000x1", "5000x1", "1000x100")]
if rates:
    section("fan-out, server on CPU 0, load generator on CPU 1 (64-byte texts):")
    print(f"{'scenario':<9} {'msg/s':>6} | {'server':<6} {'deliv/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'p99.9':>7} "
          f"{'CPU %':>5} {'us/del':>6} {'closed':>6} {'skips':>6} {'lost':>5}")
    for r in rates:
        print(f"{r['scenario']:<9} {r.get('rate', '?'):>6} | {r['server']:<6} {fmt(r, 'delivered_per_s', '{:.0f}'):>8} "
              f"{fmt(r, 'p50_ms', '{:.2f}'):>7} {fmt(r, 'p99_ms', '{:.2f}'):>7} {fmt(r, 'p999_ms', '{:.2f}'):>7} "
              f"{fmt(r, 'pod_cpu_pct', '{:.0f}'):>5} {fmt(r, 'us_cpu_per_delivery', '{:.2f}'):>6} "
              f"{r.get('closed', '-'):>6} {r.get('skip_notices', '-'):>6} {r.get('lost', '-'):>5}")
    pairs = collections.defaultdict(dict)
    for r in rates:
        pairs[(r["scenario"], r.get("rate"))][r["server"]] = r
    section("Natter against bare at the same load (target: p50 within 2x, CPU per delivery within 1.5x):")
    for (scenario, rate), pair in pairs.items():
        if "bare" in pair and "natter" in pair:
            b, n = pair["bare"], pair["natter"]
            print(f"  {scenario:<9} {rate:>5} msg/s: p50 {num(n, 'p50_ms') / num(b, 'p50_ms'):.1f}x, "
                  f"p99 {num(n, 'p99_ms') / num(b, 'p99_ms'):.1f}x, "
                  f"CPU/delivery {num(n, 'us_cpu_per_delivery') / num(b, 'us_cpu_per_delivery'):.1f}x")
    best = collections.defaultdict(float)
    for r in rates:
        if num(r, "p99_ms") <= 50 and r.get("lost") == "0" and r.get("closed") == "0":
            key = (r["scenario"], r["server"])
            best[key] = max(best[key], num(r, "delivered_per_s"))
    section("highest deliveries/s with p99 <= 50 ms, nothing lost or closed (target: Natter >= 80% of bare):")
    for scenario in sorted({r["scenario"] for r in rates}):
        bare, natter = best.get((scenario, "bare"), 0), best.get((scenario, "natter"), 0)
        ratio = f"{natter / bare * 100:.0f}% of bare" if bare else "-"
        print(f"  {scenario:<9} bare {bare:>9.0f}  natter {natter:>9.0f}  ({ratio})")

overload = [r for r in rows if r.get("scenario") == "overload"]
if overload:
    section("overload: 1 room x 1,000, 10 publishers at 2x Natter's sustainable rate, then half of it "
            "(target: nothing closed, recovered within 5 s):")
    for r in overload:
        print(f"  {r['server']:<6} {r.get('rate')} -> {r.get('then_rate')} msg/s: closed {r.get('closed')}, "
              f"skip notices {r.get('skip_notices')}, skipped (reloadable) {r.get('reloadable')}, lost {r.get('lost')}, "
              f"publishes refused {r.get('refused')}; worst second p99 {r.get('peak_second_p99_ms')} ms, "
              f"recovered in {r.get('recovery_s')} s")

idle = [r for r in rows if r.get("scenario") == "idle"]
if idle:
    section("memory per idle connection (target: <= 12 KiB at 50,000):")
    for r in idle:
        print(f"  {r['server']:<6} {r.get('connections')} connections: {r.get('rss_kib_per_connection')} KiB each")

STAGES = [
    ("natter_publish_produce_seconds", "publish log produce (broker ack)"),
    ("natter_sequencer_read_age_seconds", "accepted -> sequencer read"),
    ("natter_sequencer_store_seconds", "sequencer history write (batch)"),
    ("natter_fanout_age_seconds", "accepted -> pod fan-out"),
]
BUCKET = re.compile(r'^(\w+)_bucket\{.*le="([^"]+)".*\}\s+(\S+)$')


def buckets(path):
    found = collections.defaultdict(dict)
    if not path.exists():
        return found
    for line in path.read_text().splitlines():
        m = BUCKET.match(line)
        if m:
            le = math.inf if m.group(2) == "+Inf" else float(m.group(2))
            found[m.group(1)][le] = found[m.group(1)].get(le, 0) + float(m.group(3))
    return found


def quantile(counts, q):
    bounds = sorted(counts)
    total = counts[bounds[-1]] if bounds else 0
    if total <= 0:
        return math.nan
    previous_bound, previous_count = 0.0, 0.0
    for bound in bounds:
        if counts[bound] >= q * total:
            if math.isinf(bound):
                return previous_bound * 1000
            share = (q * total - previous_count) / max(counts[bound] - previous_count, 1e-9)
            return (previous_bound + (bound - previous_bound) * share) * 1000
        previous_bound, previous_count = bound, counts[bound]
    return math.nan


broker = [r for r in rows if r.get("scenario") == "broker"]
if broker:
    section("through the broker: web, presence, one message pod, nisshi, SecantusDB on 2 shared cores; "
            "1 room x 1,000 (target: p99 <= 25 ms at half the sustainable rate):")
    for r in broker:
        print(f"  {r.get('rate'):>5} msg/s: {fmt(r, 'delivered_per_s', '{:.0f}')} deliveries/s, deliver p50 "
              f"{fmt(r, 'p50_ms', '{:.1f}')} / p99 {fmt(r, 'p99_ms', '{:.1f}')} ms, ack p50 {fmt(r, 'ack_p50_ms', '{:.1f}')} "
              f"/ p99 {fmt(r, 'ack_p99_ms', '{:.1f}')} ms, pod CPU {fmt(r, 'pod_cpu_pct', '{:.0f}')}%, lost {r.get('lost')}")
        stem = r.get("stages")
        if not stem:
            continue
        before, after = buckets(out / f"{stem}.before.prom"), buckets(out / f"{stem}.after.prom")
        for metric, label in STAGES:
            delta = {le: count - before.get(metric, {}).get(le, 0) for le, count in after.get(metric, {}).items()}
            p50, p99 = quantile(delta, 0.5), quantile(delta, 0.99)
            if not math.isnan(p50):
                print(f"           {label:<36} p50 {p50:6.1f} ms  p99 {p99:6.1f} ms")
