//! `natter-presence-bench`: simulated message pods heartbeat into a running presence service, as
//! `crates/message/src/presence.rs` does: one full heartbeat each, then every `--beat-ms` the changes
//! (connections opened and closed, activity reported). Then presence queries of `--query-members`.
//! Prints heartbeats per second and their latency, Redis commands per second and Redis CPU (`INFO`),
//! the presence process's CPU (`--presence-pid`), and query latency. See README.md, "Benchmarks".

#[path = "../procfs.rs"]
#[allow(dead_code)]
mod procfs;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use clap::Parser;
use hdrhistogram::Histogram;
use natter_proto::http::{ConnectionState, MemberPresence, PodHeartbeat};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Mutex;

#[derive(Parser, Debug)]
struct Args {
    /// Presence base URL.
    #[arg(long, default_value = "http://127.0.0.1:8082")]
    presence: String,
    /// `NATTER_INTERNAL_TOKEN` of the services.
    #[arg(long, env = "NATTER_INTERNAL_TOKEN")]
    internal_token: String,
    /// Redis `host:port` presence uses (for `INFO`).
    #[arg(long, default_value = "127.0.0.1:6379")]
    redis: String,
    /// Process id of presence, for its CPU time.
    #[arg(long)]
    presence_pid: Option<u32>,
    #[arg(long, default_value_t = 50_000)]
    connections: usize,
    #[arg(long, default_value_t = 4)]
    pods: usize,
    /// Members holding the connections (some hold several).
    #[arg(long, default_value_t = 30_000)]
    members: usize,
    /// How often a pod sends its changes.
    #[arg(long, default_value_t = 200)]
    beat_ms: u64,
    /// Connections closed (and as many opened) per second, over all pods.
    #[arg(long, default_value_t = 100)]
    churn_per_sec: usize,
    /// Activity reports per second over all pods (a pod reports a busy connection at most every 15 s:
    /// 50,000 busy connections make 3,333 a second).
    #[arg(long, default_value_t = 3_333)]
    activity_per_sec: usize,
    /// Seconds of steady heartbeats.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Members per presence query.
    #[arg(long, default_value_t = 1_000)]
    query_members: usize,
    #[arg(long, default_value_t = 300)]
    queries: usize,
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as i64
}

/// A small deterministic generator, so runs are comparable.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// One simulated pod: its open connections.
struct Pod {
    id: String,
    connections: Vec<ConnectionState>,
    next: usize,
    rng: Rng,
}

impl Pod {
    fn connection(&mut self, members: usize) -> ConnectionState {
        self.next += 1;
        let member_id = 1 + self.rng.below(members) as i64;
        let room = (self.rng.below(4) > 0).then(|| 1 + self.rng.below(2_000) as i64);
        ConnectionState {
            connection: format!("c{}", self.next),
            member_id,
            room,
            active_at_ms: now_ms(),
            call: None,
        }
    }

    /// The changes of one beat: `churn` closed and opened, `activity` reported active.
    fn changes(&mut self, members: usize, churn: usize, activity: usize) -> PodHeartbeat {
        let mut closed = Vec::with_capacity(churn);
        let mut upserts = Vec::with_capacity(churn + activity);
        for _ in 0..churn.min(self.connections.len()) {
            let at = self.rng.below(self.connections.len());
            closed.push(self.connections.swap_remove(at).connection);
            let fresh = self.connection(members);
            upserts.push(fresh.clone());
            self.connections.push(fresh);
        }
        for _ in 0..activity {
            let at = self.rng.below(self.connections.len());
            let mut active = self.connections[at].clone();
            active.active_at_ms = now_ms();
            upserts.push(active);
        }
        PodHeartbeat { lease_ms: 15_000, full: false, upserts, closed }
    }
}

struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    async fn beat(&self, pod: &str, beat: &PodHeartbeat) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let response = self
            .http
            .put(format!("{}/internal/pods/{pod}/heartbeat", self.base))
            .bearer_auth(&self.token)
            .json(beat)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("heartbeat answered {}: {}", response.status(), response.text().await.unwrap_or_default());
        }
        response.bytes().await?;
        Ok(started.elapsed())
    }

    async fn query(&self, members: &[i64]) -> anyhow::Result<Duration> {
        let list: Vec<String> = members.iter().map(ToString::to_string).collect();
        let started = Instant::now();
        let response = self
            .http
            .get(format!("{}/internal/presence?members={}", self.base, list.join(",")))
            .bearer_auth(&self.token)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("query answered {}", response.status());
        }
        let answer: Vec<MemberPresence> = response.json().await?;
        anyhow::ensure!(
            answer.len() == members.len(),
            "presence answered {} of {}",
            answer.len(),
            members.len()
        );
        Ok(started.elapsed())
    }
}

/// `INFO` counters of Redis: commands processed and CPU seconds (user + system).
async fn redis_info(addr: &str) -> anyhow::Result<(u64, f64)> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.context("connecting to Redis")?;
    stream.write_all(b"INFO\r\n").await?;
    let mut text = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    // A bulk string: "$<len>\r\n<body>\r\n".
    loop {
        let n = stream.read(&mut buffer).await?;
        anyhow::ensure!(n > 0, "Redis closed the connection");
        text.extend_from_slice(&buffer[..n]);
        if let Some(end) = text.iter().position(|&b| b == b'\n') {
            let len: usize = std::str::from_utf8(&text[1..end])?.trim().parse()?;
            if text.len() >= end + 1 + len {
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&text);
    let field = |name: &str| -> anyhow::Result<f64> {
        text.lines()
            .find_map(|line| line.strip_prefix(name).and_then(|rest| rest.strip_prefix(':')))
            .with_context(|| format!("INFO has no {name}"))?
            .trim()
            .parse::<f64>()
            .with_context(|| format!("INFO {name}"))
    };
    Ok((field("total_commands_processed")? as u64, field("used_cpu_user")? + field("used_cpu_sys")?))
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds")
}

fn ms(us: u64) -> String {
    format!("{:.2} ms", us as f64 / 1000.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    anyhow::ensure!(
        args.pods > 0 && args.connections >= args.pods && args.members > 0,
        "nothing to simulate"
    );
    let client = Arc::new(Client {
        http: reqwest::Client::new(),
        base: args.presence.trim_end_matches('/').to_owned(),
        token: args.internal_token.clone(),
    });
    let run = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let mut pods: Vec<Pod> = (0..args.pods)
        .map(|i| Pod {
            id: format!("bench-{run}-{i}"),
            connections: Vec::new(),
            next: 0,
            rng: Rng(0x9e37_79b9 + i as u64),
        })
        .collect();
    for pod in &mut pods {
        for _ in 0..args.connections / args.pods {
            let c = pod.connection(args.members);
            pod.connections.push(c);
        }
    }

    // Start-up: every pod sends one full heartbeat.
    let started = Instant::now();
    let mut fill = histogram();
    for pod in &pods {
        let beat =
            PodHeartbeat { lease_ms: 15_000, full: true, upserts: pod.connections.clone(), closed: vec![] };
        fill.record(client.beat(&pod.id, &beat).await?.as_micros() as u64)?;
    }
    let fill_took = started.elapsed();

    // Steady state: each pod beats every beat_ms with its share of churn and activity.
    let beats_per_sec = 1000.0 / args.beat_ms as f64;
    let per_pod = |per_sec: usize| ((per_sec as f64 / args.pods as f64) / beats_per_sec).round() as usize;
    let (churn, activity) = (per_pod(args.churn_per_sec), per_pod(args.activity_per_sec));
    let latencies = Arc::new(Mutex::new(histogram()));
    let (redis_before, presence_before) =
        (redis_info(&args.redis).await?, args.presence_pid.and_then(|p| procfs::sample(Some(p))));
    let steady = Instant::now();
    let mut tasks = Vec::new();
    for mut pod in pods {
        let (client, latencies, members) = (Arc::clone(&client), Arc::clone(&latencies), args.members);
        let (beat_every, deadline) =
            (Duration::from_millis(args.beat_ms), steady + Duration::from_secs(args.duration));
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(beat_every);
            let mut beats = 0u64;
            while Instant::now() < deadline {
                tick.tick().await;
                let beat = pod.changes(members, churn, activity);
                let took = client.beat(&pod.id, &beat).await?;
                latencies.lock().await.record(took.as_micros() as u64)?;
                beats += 1;
            }
            anyhow::Ok(beats)
        }));
    }
    let mut beats = 0;
    for task in tasks {
        beats += task.await??;
    }
    let wall = steady.elapsed().as_secs_f64();
    let redis_after = redis_info(&args.redis).await?;
    let presence_after = args.presence_pid.and_then(|p| procfs::sample(Some(p)));

    // Queries of many members at once, one after another.
    let mut queries = histogram();
    let mut rng = Rng(42);
    for _ in 0..args.queries {
        let members: Vec<i64> = (0..args.query_members).map(|_| 1 + rng.below(args.members) as i64).collect();
        queries.record(client.query(&members).await?.as_micros() as u64)?;
    }

    let latencies = latencies.lock().await;
    println!(
        "presence benchmark: {} connections, {} members, {} pods",
        args.connections, args.members, args.pods
    );
    println!(
        "start-up: {} full heartbeats of {} connections in {:.2} s (slowest {})",
        args.pods,
        args.connections / args.pods,
        fill_took.as_secs_f64(),
        ms(fill.max())
    );
    println!(
        "steady: {:.0} s, {beats} heartbeats ({:.1}/s), each with ~{churn} closed + {churn} opened + {activity} active connections",
        wall,
        beats as f64 / wall
    );
    println!(
        "heartbeat latency: p50 {} p99 {} max {}",
        ms(latencies.value_at_quantile(0.5)),
        ms(latencies.value_at_quantile(0.99)),
        ms(latencies.max())
    );
    println!(
        "redis: {:.0} commands/s, CPU {:.1}% of one core",
        (redis_after.0 - redis_before.0) as f64 / wall,
        (redis_after.1 - redis_before.1) / wall * 100.0
    );
    match (presence_before, presence_after) {
        (Some(before), Some(after)) => println!(
            "presence process: CPU {:.1}% of one core, RSS {:.1} MiB",
            (after.cpu - before.cpu).as_secs_f64() / wall * 100.0,
            after.rss_bytes as f64 / 1024.0 / 1024.0
        ),
        _ => println!("presence process: CPU not measured (give --presence-pid)"),
    }
    println!(
        "query of {} members: {} queries, p50 {} p99 {} max {}",
        args.query_members,
        args.queries,
        ms(queries.value_at_quantile(0.5)),
        ms(queries.value_at_quantile(0.99)),
        ms(queries.max())
    );
    Ok(())
}
