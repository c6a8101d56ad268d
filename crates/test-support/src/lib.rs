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
