//! Where the real services of the test environment are, and names that keep tests apart.
//!
//! `scripts/test` starts PostgreSQL, Redis, a Kafka-protocol broker and a MongoDB-protocol server and
//! exports these variables; the defaults match what it starts. Tests never skip when a service is
//! missing: they fail and say which one.

pub mod images;

use std::net::ToSocketAddrs;
use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| default.to_owned())
}

/// A PostgreSQL URL with the right to create databases.
pub fn postgres_admin_url() -> String {
    env_or("NATTER_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
}

pub fn redis_url() -> String {
    env_or("NATTER_TEST_REDIS_URL", "redis://127.0.0.1:6379")
}

pub fn kafka_brokers() -> String {
    env_or("NATTER_TEST_KAFKA_BROKERS", "127.0.0.1:9092")
}

pub fn mongodb_url() -> String {
    env_or("NATTER_TEST_MONGODB_URL", "mongodb://127.0.0.1:27017/?directConnection=true")
}

/// Redis for one test: its URL (checked to be listening) and a key prefix no other test uses.
pub async fn redis_with_prefix() -> (String, String) {
    let url = redis_url();
    require_listening("Redis", &host_port(&url), Duration::from_secs(5)).await;
    (url, format!("natter-test:{}:", unique_suffix()))
}

/// A random lower-case suffix for names that must not collide between tests or runs.
pub fn unique_suffix() -> String {
    let mut bytes = [0u8; 6];
    getrandom::fill(&mut bytes).expect("OS randomness");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates an empty PostgreSQL database for one test and returns its URL. Databases are named
/// `natter_t_*`; `scripts/test` drops the ones left by earlier runs.
pub async fn fresh_postgres_database() -> String {
    let admin = postgres_admin_url();
    let mut conn = AsyncPgConnection::establish(&admin)
        .await
        .unwrap_or_else(|e| panic!("PostgreSQL at {admin} is needed by this test (run scripts/test): {e}"));
    let name = format!("natter_t_{}", unique_suffix());
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let base = admin.rsplit_once('/').map(|(base, _)| base).unwrap_or(&admin);
    format!("{base}/{name}")
}

/// Fails the test with a clear message unless something listens at `addr` within `timeout`.
pub async fn require_listening(what: &str, addr: &str, timeout: Duration) {
    let deadline = tokio::time::Instant::now() + timeout;
    let target = addr
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .unwrap_or_else(|| panic!("{what}: cannot resolve {addr}"));
    loop {
        if tokio::net::TcpStream::connect(target).await.is_ok() {
            return;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("{what} is not listening at {addr}; start it with scripts/test (or scripts/services)");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The host:port part of a URL like `scheme://host:port/...`.
pub fn host_port(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let rest = rest.rsplit_once('@').map(|(_, r)| r).unwrap_or(rest);
    rest.split(['/', '?']).next().unwrap_or(rest).to_owned()
}

/// The S3-compatible object store's endpoint (moto's server, started by `scripts/services`).
pub fn s3_endpoint() -> String {
    env_or("NATTER_TEST_S3_URL", "http://127.0.0.1:9000")
}

/// Creates an empty bucket for one test and returns its name. The test store accepts any
/// credentials, so the bucket is made with a plain (unsigned) `PUT /{bucket}`.
pub async fn fresh_s3_bucket() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let endpoint = s3_endpoint();
    let addr = host_port(&endpoint);
    require_listening("The S3-compatible store", &addr, Duration::from_secs(5)).await;
    let bucket = format!("natter-t-{}", unique_suffix());
    let mut stream = tokio::net::TcpStream::connect(&addr).await.expect("connect to the S3 store");
    let request =
        format!("PUT /{bucket} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send the bucket request");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("read the bucket answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "creating bucket {bucket} failed: {answer}");
    bucket
}

/// Where `scripts/services` installs the nisshi Kafka-protocol broker: `$NATTER_TOOLS_DIR` (default
/// `~/.cache/natter-tools`), then `nisshi-0.8.1/bin/nisshi`.
pub fn nisshi_binary() -> std::path::PathBuf {
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".to_owned());
    let tools = env_or("NATTER_TOOLS_DIR", &format!("{home}/.cache/natter-tools"));
    std::path::Path::new(&tools).join("nisshi-0.8.1/bin/nisshi")
}

/// A Kafka-protocol broker (nisshi, in memory) for one test alone, on a free port, for tests that do
/// to the broker what other tests must not see (pausing it). Killed when dropped.
pub struct PrivateBroker {
    process: std::process::Child,
    address: String,
    log: std::path::PathBuf,
    paused: bool,
}

impl PrivateBroker {
    /// Starts a broker on a free port and waits until it listens. Fails the test with a clear message
    /// when the broker is not installed (`scripts/services` installs it) or does not start.
    pub async fn start() -> PrivateBroker {
        let binary = nisshi_binary();
        assert!(
            binary.exists(),
            "the nisshi broker is not installed at {} (scripts/services installs it)",
            binary.display()
        );
        let mut last_failure = String::new();
        // A port found free can be taken before the broker binds it: try a few.
        for _ in 0..3 {
            match Self::start_on(&binary, free_port_for_a_child()).await {
                Ok(broker) => return broker,
                Err(failure) => last_failure = failure,
            }
        }
        panic!("a private nisshi broker did not start: {last_failure}");
    }

    async fn start_on(binary: &std::path::Path, port: u16) -> Result<PrivateBroker, String> {
        let address = format!("127.0.0.1:{port}");
        let url = format!("tcp://{address}");
        let log = std::env::temp_dir().join(format!("natter-private-nisshi-{}.log", unique_suffix()));
        let log_file = std::fs::File::create(&log).map_err(|e| format!("creating {}: {e}", log.display()))?;
        let stderr = log_file.try_clone().map_err(|e| e.to_string())?;
        let process = std::process::Command::new(binary)
            .args(["broker", "--listener-url", &url, "--advertised-listener-url", &url])
            .args(["--storage-engine", "memory://nisshi/", "--group-initial-rebalance-delay", "100ms"])
            .stdin(std::process::Stdio::null())
            .stdout(log_file)
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", binary.display()))?;
        let mut broker = PrivateBroker { process, address, log, paused: false };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = broker.process.try_wait().map_err(|e| e.to_string())? {
                return Err(format!("it exited with {status}; see {}", broker.log.display()));
            }
            if tokio::net::TcpStream::connect(&broker.address).await.is_ok() {
                return Ok(broker);
            }
            if tokio::time::Instant::now() > deadline {
                return Err(format!(
                    "not listening at {} after 30 s; see {}",
                    broker.address,
                    broker.log.display()
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `host:port`, for `NATTER_KAFKA_BROKERS`.
    pub fn address(&self) -> String {
        self.address.clone()
    }

    /// The broker's output.
    pub fn log_path(&self) -> &std::path::Path {
        &self.log
    }

    /// Freezes the broker (SIGSTOP): connections stay open, nothing is answered.
    pub fn pause(&mut self) {
        self.signal("-STOP");
        self.paused = true;
    }

    /// Lets a paused broker go on (SIGCONT).
    pub fn resume(&mut self) {
        self.signal("-CONT");
        self.paused = false;
    }

    pub fn is_paused(&self) -> bool {
        self.paused
    }

    fn signal(&self, signal: &str) {
        let pid = self.process.id().to_string();
        let sent = std::process::Command::new("kill").args([signal, &pid]).status().expect("kill runs");
        assert!(sent.success(), "kill {signal} {pid} (the private broker)");
    }
}

impl Drop for PrivateBroker {
    fn drop(&mut self) {
        // SIGKILL ends a stopped process too.
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// A port for a child process to bind: random, below Linux's ephemeral range (32768+) so no outgoing
/// connection takes it meanwhile, and bindable right now.
fn free_port_for_a_child() -> u16 {
    loop {
        let mut bytes = [0u8; 2];
        getrandom::fill(&mut bytes).expect("OS randomness");
        let port = 10_000 + u16::from_le_bytes(bytes) % 20_000;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}
