//! Running Natter for a test: either as separate processes on the real stores (web, presence and two
//! message pods) or as one standalone process. Processes are killed when the stack is dropped.

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The token signing seed every test stack uses, so tests can mint expired or forged tokens.
pub const TEST_SIGNING_SEED: [u8; 32] = [7; 32];

pub struct Stack {
    /// The first web pod; a distributed stack has a second one at `web_urls[1]`.
    pub web_url: String,
    pub web_urls: Vec<String>,
    /// How each web pod was started, to restart it.
    web_pods: Vec<(Command, Child)>,
    /// Two message pods (the same one twice in standalone mode).
    pub message_urls: [String; 2],
    /// How each message pod of a distributed stack was started, to restart it (empty in standalone
    /// mode).
    message_commands: Vec<Command>,
    pub presence_url: String,
    pub internal_token: String,
    /// The Kafka brokers and topic prefix of a distributed stack; `None` in standalone mode.
    pub kafka: Option<(String, String)>,
    /// Where uploaded files are kept.
    pub files: StoredFiles,
    /// The database and history settings a distributed stack's services share (for the one-off
    /// commands an operator runs beside them); empty in standalone mode.
    pub stores_env: Vec<(String, String)>,
    children: Vec<Child>,
}

/// Where a stack keeps uploaded files: a bucket of the S3-compatible store (distributed: both web
/// pods share it), or a directory (standalone).
pub enum StoredFiles {
    S3 { bucket: String },
    Dir(std::path::PathBuf),
}

impl StoredFiles {
    /// The keys of every stored object (file contents and thumbnails).
    pub async fn keys(&self) -> Vec<String> {
        match self {
            StoredFiles::S3 { bucket } => {
                // The test store answers unsigned requests.
                let url = format!("{}/{bucket}?list-type=2", natter_test_support::s3_endpoint());
                let listing = reqwest::get(&url).await.unwrap().text().await.unwrap();
                let mut keys: Vec<String> = listing
                    .split("<Key>")
                    .skip(1)
                    .map(|rest| rest.split("</Key>").next().unwrap().to_owned())
                    .collect();
                keys.sort();
                keys
            }
            StoredFiles::Dir(dir) => {
                let mut keys = Vec::new();
                let mut pending = vec![dir.clone()];
                while let Some(next) = pending.pop() {
                    let Ok(entries) = std::fs::read_dir(&next) else { continue };
                    for entry in entries.flatten() {
                        let path = entry.path();
                        if path.is_dir() {
                            pending.push(path);
                        } else {
                            keys.push(path.strip_prefix(dir).unwrap().display().to_string());
                        }
                    }
                }
                keys.sort();
                keys
            }
        }
    }
}

/// A port for a child process to bind. Chosen at random below Linux's ephemeral range (32768+), so no
/// outgoing connection takes it meanwhile, never twice in this process, and bindable right now. A port
/// handed out by binding port 0 and releasing it was seen taken by a parallel test's process.
pub fn free_port() -> u16 {
    static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    loop {
        let mut bytes = [0u8; 2];
        getrandom::fill(&mut bytes).unwrap();
        let port = 10_000 + u16::from_le_bytes(bytes) % 20_000;
        let mut handed_out = HANDED_OUT.lock().unwrap();
        if !handed_out.contains(&port) && TcpListener::bind(("127.0.0.1", port)).is_ok() {
            handed_out.insert(port);
            return port;
        }
    }
}

/// Message-pod settings that turn the publish rate limits off, for cases that publish many messages
/// on purpose (see `on_both_stacks!` in `main.rs`).
pub fn unlimited_publishing() -> Vec<(String, String)> {
    ["NATTER_PUBLISH_RATE_PER_CONNECTION", "NATTER_PUBLISH_RATE_PER_MEMBER"]
        .map(|name| (name.to_owned(), "0".to_owned()))
        .into()
}

pub fn natter() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_natter"));
    command.kill_on_drop(true).stdin(Stdio::null()).env("RUST_LOG", "warn,natter=info");
    command
}

async fn wait_ready(url: &str, what: &str) {
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if let Ok(response) = client.get(format!("{url}/readyz")).send().await
            && response.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} at {url} did not become ready in 30 s");
}

impl Stack {
    /// web, presence and two message pods as separate processes on PostgreSQL, Redis, a
    /// Kafka-protocol broker and a MongoDB-protocol server, isolated by database, key prefix, topic
    /// prefix and MongoDB database name.
    pub async fn distributed() -> Stack {
        Self::distributed_with(Vec::new()).await
    }

    /// A distributed stack whose web pods get `web_env` on top.
    pub async fn distributed_with(web_env: Vec<(String, String)>) -> Stack {
        Self::distributed_with_message_env(web_env, Vec::new()).await
    }

    /// A distributed stack whose web pods get `web_env` and whose message pods get `message_env` on top.
    pub async fn distributed_with_message_env(
        web_env: Vec<(String, String)>,
        message_env: Vec<(String, String)>,
    ) -> Stack {
        Self::distributed_with_envs(web_env, message_env, Vec::new()).await
    }

    /// Two web pods (with `web_env`), presence and two message pods (with `message_env`), each
    /// process also with `every_env`, which wins over every other setting.
    pub async fn distributed_with_envs(
        web_env: Vec<(String, String)>,
        message_env: Vec<(String, String)>,
        every_env: Vec<(String, String)>,
    ) -> Stack {
        Self::distributed_on_brokers(natter_test_support::kafka_brokers(), web_env, message_env, every_env)
            .await
    }

    /// [`Stack::distributed_with_envs`] on the Kafka-protocol broker(s) at `brokers` instead of the
    /// shared test broker, e.g. a [`natter_test_support::PrivateBroker`] a test may pause.
    pub async fn distributed_on_brokers(
        brokers: String,
        web_env: Vec<(String, String)>,
        message_env: Vec<(String, String)>,
        every_env: Vec<(String, String)>,
    ) -> Stack {
        natter_runtime::install_tls_provider();
        let mongo = natter_test_support::mongodb_url();
        let redis = natter_test_support::redis_url();
        for (what, addr) in [
            ("Kafka-protocol broker", brokers.clone()),
            ("MongoDB-protocol server", natter_test_support::host_port(&mongo)),
            ("Redis", natter_test_support::host_port(&redis)),
        ] {
            natter_test_support::require_listening(what, &addr, Duration::from_secs(5)).await;
        }
        let suffix = natter_test_support::unique_suffix();
        let database_url = natter_test_support::fresh_postgres_database().await;
        let (web_port, presence_port) = (free_port(), free_port());
        let message_ports = [free_port(), free_port()];
        let web_url = format!("http://127.0.0.1:{web_port}");
        let presence_url = format!("http://127.0.0.1:{presence_port}");
        let internal_token = format!("internal-{suffix}-0123456789abcdef");
        let bucket = natter_test_support::fresh_s3_bucket().await;
        let files_env = [
            ("NATTER_FILES_STORE", "s3".to_owned()),
            ("NATTER_S3_BUCKET", bucket.clone()),
            ("NATTER_S3_ENDPOINT", natter_test_support::s3_endpoint()),
            ("NATTER_S3_ACCESS_KEY_ID", "natter-test".to_owned()),
            ("NATTER_S3_SECRET_ACCESS_KEY", "natter-test-secret".to_owned()),
        ];
        let common = vec![
            ("NATTER_INTERNAL_TOKEN".to_owned(), internal_token.clone()),
            ("NATTER_MONGODB_URL".to_owned(), mongo),
            ("NATTER_MONGODB_DATABASE".to_owned(), format!("natter_t_{suffix}")),
        ];
        let kafka_env = [
            ("NATTER_KAFKA_BROKERS", brokers.clone()),
            ("NATTER_KAFKA_TOPIC_PREFIX", format!("t{suffix}.")),
            ("NATTER_KAFKA_PARTITIONS", "3".to_owned()),
            ("NATTER_KAFKA_FETCH_WAIT_MS", "10".to_owned()),
            // The test broker may handle pipelined produce requests out of order (see README).
            ("NATTER_KAFKA_MAX_IN_FLIGHT", "1".to_owned()),
        ];
        let mut children = Vec::new();

        let web_ports = [web_port, free_port()];
        let mut web_pods = Vec::new();
        for port in web_ports {
            let mut web = natter();
            web.arg("web")
                .envs(common.clone())
                .env("NATTER_WEB_BIND", format!("127.0.0.1:{port}"))
                .env("NATTER_WEB_PUBLIC_URL", &web_url)
                .env("NATTER_MESSAGE_PUBLIC_URL", format!("ws://127.0.0.1:{}", message_ports[0]))
                .env("NATTER_DATABASE_URL", &database_url)
                .env("NATTER_REDIS_URL", &redis)
                .env("NATTER_REDIS_KEY_PREFIX", format!("natter-test:{suffix}:"))
                .env("NATTER_SESSION_KEY", STANDARD.encode([9u8; 64]))
                .env("NATTER_TOKEN_SIGNING_KEY", STANDARD.encode(TEST_SIGNING_SEED))
                .env("NATTER_PRESENCE_URL", &presence_url)
                .envs(kafka_env.clone())
                .envs(files_env.clone())
                .envs(web_env.clone());
            web.envs(every_env.clone());
            let child = web.spawn().expect("start web");
            web_pods.push((web, child));
        }
        let web_urls: Vec<String> = web_ports.iter().map(|p| format!("http://127.0.0.1:{p}")).collect();

        let mut presence = natter();
        presence
            .arg("presence")
            .envs(common.clone())
            .env("NATTER_PRESENCE_BIND", format!("127.0.0.1:{presence_port}"))
            .env("NATTER_REDIS_URL", &redis)
            .env("NATTER_REDIS_KEY_PREFIX", format!("natter-test:{suffix}:"))
            .env("NATTER_WEB_INTERNAL_URL", &web_url)
            // A flap in a test (close on one pod, token, connect to the other) can take over the
            // default second on a loaded 2-core machine.
            .env("NATTER_PRESENCE_PUSH_MS", "3000")
            .envs(kafka_env.clone());
        presence.envs(every_env.clone());
        children.push(presence.spawn().expect("start presence"));
        for url in &web_urls {
            wait_ready(url, "web").await;
        }
        wait_ready(&presence_url, "presence").await;

        let mut message_urls = Vec::new();
        let mut message_commands = Vec::new();
        for (index, port) in message_ports.iter().enumerate() {
            let mut message = natter();
            message
                .arg("message")
                .envs(common.clone())
                .env("NATTER_MESSAGE_BIND", format!("127.0.0.1:{port}"))
                .env("NATTER_POD_ID", format!("pod-{index}"))
                .env("NATTER_WEB_INTERNAL_URL", &web_url)
                .env("NATTER_PRESENCE_URL", &presence_url)
                .env("NATTER_ALLOWED_ORIGINS", &web_url)
                .env("NATTER_REDIS_URL", &redis)
                .env("NATTER_REDIS_KEY_PREFIX", format!("natter-test:{suffix}:"))
                .envs(kafka_env.clone())
                .envs(message_env.clone());
            message.envs(every_env.clone());
            children.push(message.spawn().expect("start message pod"));
            message_commands.push(message);
            message_urls.push(format!("ws://127.0.0.1:{port}"));
        }
        for url in &message_urls {
            wait_ready(&url.replace("ws://", "http://"), "message pod").await;
        }
        let message_urls = [message_urls[0].clone(), message_urls[1].clone()];
        // Readiness alone could be answered by another test's process on a reused port.
        for child in children.iter_mut().chain(web_pods.iter_mut().map(|(_, child)| child)) {
            if let Some(status) = child.try_wait().expect("child status") {
                panic!("a Natter process exited during start-up: {status}");
            }
        }
        let kafka = Some((brokers, format!("t{suffix}.")));
        let files = StoredFiles::S3 { bucket };
        let mut stores_env = common;
        stores_env.push(("NATTER_DATABASE_URL".to_owned(), database_url));
        Stack {
            stores_env,
            web_url,
            web_urls,
            web_pods,
            message_urls,
            message_commands,
            presence_url,
            internal_token,
            kafka,
            files,
            children,
        }
    }

    /// `natter standalone` on free ports.
    pub async fn standalone() -> Stack {
        Self::standalone_with(Vec::new()).await
    }

    /// A standalone process with `env` on top.
    pub async fn standalone_with(env: Vec<(String, String)>) -> Stack {
        natter_runtime::install_tls_provider();
        let internal_token = format!("internal-{}-0123456789abcdef", natter_test_support::unique_suffix());
        let files_dir =
            std::env::temp_dir().join(format!("natter-test-files-{}", natter_test_support::unique_suffix()));
        let mut child = natter()
            .args(["standalone", "--port", "0"])
            .env("NATTER_INTERNAL_TOKEN", &internal_token)
            .env("NATTER_FILES_DIR", &files_dir)
            .env("NATTER_TOKEN_SIGNING_KEY", STANDARD.encode(TEST_SIGNING_SEED))
            .envs(env)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start natter standalone");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if line.starts_with("natter standalone:") {
                    return line;
                }
            }
            panic!("standalone exited before printing its addresses");
        })
        .await
        .expect("standalone printed its addresses");
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let field = |name: &str| {
            line.split_whitespace()
                .find_map(|part| part.strip_prefix(&format!("{name}=")))
                .unwrap_or_else(|| panic!("no {name}= in {line:?}"))
                .to_owned()
        };
        let (web_url, message_url, presence_url) = (field("web"), field("message"), field("presence"));
        wait_ready(&web_url, "web").await;
        wait_ready(&message_url.replace("ws://", "http://"), "message").await;
        Stack {
            web_urls: vec![web_url.clone()],
            web_pods: Vec::new(),
            web_url,
            message_urls: [message_url.clone(), message_url],
            message_commands: Vec::new(),
            presence_url,
            internal_token,
            kafka: None,
            files: StoredFiles::Dir(files_dir),
            stores_env: Vec::new(),
            children: vec![child],
        }
    }
}

impl Stack {
    /// Stops web pod `index` (SIGKILL) and starts it again with the same settings.
    pub async fn restart_web(&mut self, index: usize) {
        let (command, child) = &mut self.web_pods[index];
        child.kill().await.expect("kill web pod");
        *child = command.spawn().expect("restart web pod");
        wait_ready(&self.web_urls[index], "restarted web").await;
    }
}

impl Stack {
    /// Stops web pod `index` (SIGKILL).
    /// Sends SIGTERM to message pod `index` of a distributed stack; its exit status once it exited.
    pub async fn terminate_message_pod(&mut self, index: usize) -> std::process::ExitStatus {
        assert!(self.kafka.is_some(), "a distributed stack");
        // Presence starts first, then the two message pods.
        let pod = &mut self.children[1 + index];
        let pid = pod.id().expect("the pod runs").to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().await.expect("kill runs");
        assert!(sent.success(), "SIGTERM sent");
        tokio::time::timeout(Duration::from_secs(30), pod.wait())
            .await
            .expect("the pod exits in time")
            .unwrap()
    }

    /// Kills message pod `index` of a distributed stack at once (SIGKILL: no drain, no goodbye).
    pub async fn kill_message_pod(&mut self, index: usize) {
        assert!(self.kafka.is_some(), "a distributed stack");
        self.children[1 + index].kill().await.expect("kill the pod");
    }

    /// Starts message pod `index` of a distributed stack again with the same settings (port, pod id),
    /// killing it first (SIGKILL) if it still runs; returns once it is ready.
    pub async fn restart_message_pod(&mut self, index: usize) {
        assert!(self.kafka.is_some(), "a distributed stack");
        // Presence starts first, then the two message pods.
        let pod = &mut self.children[1 + index];
        if pod.try_wait().expect("pod status").is_none() {
            pod.kill().await.expect("kill the pod");
        }
        *pod = self.message_commands[index].spawn().expect("restart message pod");
        wait_ready(&self.message_urls[index].replace("ws://", "http://"), "restarted message pod").await;
        // Readiness alone could be answered by another process on the port.
        if let Some(status) = self.children[1 + index].try_wait().expect("pod status") {
            panic!("restarted message pod {index} exited during start-up: {status}");
        }
    }

    /// Deletes every Kafka topic of a distributed stack (those with its topic prefix) under the
    /// running processes; returns their names.
    pub async fn delete_kafka_topics(&self) -> Vec<String> {
        use rdkafka::admin::{AdminClient, AdminOptions};
        use rdkafka::client::DefaultClientContext;
        use rdkafka::config::ClientConfig;

        let (brokers, prefix) = self.kafka.clone().expect("a distributed stack");
        let admin: AdminClient<DefaultClientContext> =
            ClientConfig::new().set("bootstrap.servers", &brokers).create().expect("a Kafka admin client");
        let admin = std::sync::Arc::new(admin);
        let metadata = {
            let admin = admin.clone();
            tokio::task::spawn_blocking(move || admin.inner().fetch_metadata(None, Duration::from_secs(10)))
                .await
                .unwrap()
                .unwrap_or_else(|e| panic!("topic list from {brokers}: {e}"))
        };
        let topics: Vec<String> = metadata
            .topics()
            .iter()
            .map(|topic| topic.name().to_owned())
            .filter(|name| name.starts_with(&prefix))
            .collect();
        assert!(!topics.is_empty(), "no topic with prefix {prefix} on {brokers}");
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        let results = admin.delete_topics(&names, &options).await.expect("delete_topics answered");
        for result in results {
            if let Err((topic, code)) = result {
                panic!("deleting topic {topic}: {code}");
            }
        }
        topics
    }

    /// Presence of `members`, as web and message pods ask for it.
    pub async fn presence(&self, members: &[i64]) -> Vec<natter_proto::http::MemberPresence> {
        let list = members.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let response = reqwest::Client::new()
            .get(format!("{}/internal/presence?members={list}", self.presence_url))
            .bearer_auth(&self.internal_token)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "presence answers: {}", response.status());
        response.json().await.unwrap()
    }

    /// Sends SIGTERM to web pod `index` (or presence, for `None`) of a distributed stack and waits
    /// for it to exit; its exit status.
    pub async fn terminate_web_or_presence(&mut self, web_index: Option<usize>) -> std::process::ExitStatus {
        assert!(self.kafka.is_some(), "a distributed stack");
        let child = match web_index {
            Some(index) => &mut self.web_pods[index].1,
            // Presence starts first among the other children.
            None => &mut self.children[0],
        };
        let pid = child.id().expect("the process runs").to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().await.expect("kill runs");
        assert!(sent.success(), "SIGTERM sent");
        tokio::time::timeout(Duration::from_secs(40), child.wait())
            .await
            .expect("the process exits in time")
            .unwrap()
    }

    pub async fn stop_web(&mut self, index: usize) {
        self.web_pods[index].1.kill().await.expect("kill web pod");
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        for child in self.children.iter_mut().chain(self.web_pods.iter_mut().map(|(_, child)| child)) {
            let _ = child.start_kill();
        }
    }
}
