//! Standalone mode: the three services in one process, on the embedded adapters. They still talk to
//! each other over HTTP on loopback, exactly as separate pods do, so this mode runs the same code paths.

use std::net::TcpListener;
use std::sync::Arc;

use anyhow::Context;
use natter_bus::{EventBus, MemoryBus};
use natter_db::Db;
use natter_history::MemoryHistory;
use natter_kv::MemoryKeyValue;
use natter_message::MessageSettings;
use natter_presence::PresenceSettings;
use natter_presence::store::MemoryPresence;
use natter_proto::topics::Topic;
use natter_runtime::env::Env;
use natter_web::files::StoreSettings;
use natter_web::{WebSecrets, WebSettings};

/// Records the in-process bus keeps per topic.
const BUS_RETENTION: usize = 100_000;

#[derive(clap::Args)]
pub(crate) struct Options {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port of web; message uses the next port and presence the one after. 0 picks free ports.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// SQLite file for members and rooms; by default everything lives in memory.
    #[arg(long, default_value = ":memory:")]
    database: String,
    /// Directory for uploaded files; by default a fresh temporary one, removed at exit.
    #[arg(long, env = "NATTER_FILES_DIR")]
    files: Option<std::path::PathBuf>,
}

/// Random bytes from the operating system.
fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("OS randomness");
    bytes
}

/// Binds a listener (port 0: any free port), naming the port in the error.
fn listen(host: &str, port: u16) -> anyhow::Result<TcpListener> {
    TcpListener::bind((host, port)).with_context(|| format!("binding {host}:{port}"))
}

pub(crate) async fn run(options: Options) -> anyhow::Result<()> {
    natter_runtime::install_tls_provider();
    let json_logs = std::env::var("NATTER_LOG_FORMAT").is_ok_and(|format| format == "json");
    let _telemetry = natter_runtime::telemetry::init("natter", None, json_logs);
    let host = options.host;
    // Every port is bound before anything starts, so the addresses handed around are already ours.
    let port = |offset: u16| if options.port == 0 { 0 } else { options.port + offset };
    let (web_listener, message_listener, presence_listener) =
        (listen(&host, port(0))?, listen(&host, port(1))?, listen(&host, port(2))?);
    let (web_port, message_port, presence_port) = (
        web_listener.local_addr()?.port(),
        message_listener.local_addr()?.port(),
        presence_listener.local_addr()?.port(),
    );
    let web_url = format!("http://{host}:{web_port}");
    let message_url = format!("ws://{host}:{message_port}");
    let presence_url = format!("http://{host}:{presence_port}");
    // Settings are read from the environment as in production (login providers, publish limits, file
    // limits and every other tunable), then the wiring this one process decides is set on them: the
    // addresses bound above, a pod name, local files. Secrets not given are fresh per run: sessions and
    // tokens then end with the process. Giving NATTER_INTERNAL_TOKEN lets tools query the internal
    // APIs; NATTER_TOKEN_SIGNING_KEY keeps tokens valid across restarts.
    let env = Env::from_process();
    let secrets = WebSecrets::from_env_or_random(&env)?;
    let internal_token = secrets.internal_token.clone();
    let mut web_settings = WebSettings::with_secrets(&env, secrets)?;
    web_settings.bind = format!("{host}:{web_port}");
    web_settings.public_url = web_url.clone();
    web_settings.message_public_url = message_url.clone();
    web_settings.presence_url = presence_url.clone();
    // Uploads go to a directory: the one given, or a temporary one that goes with the process (as
    // the in-memory database does).
    let scratch = match &options.files {
        Some(_) => None,
        None => Some(TempFilesDir::new()?),
    };
    let files_dir =
        options.files.clone().or_else(|| scratch.as_ref().map(|s| s.0.clone())).expect("one is set");
    web_settings.files.store = StoreSettings::Local { dir: files_dir.display().to_string() };

    let mut message_settings = MessageSettings::with_internal_token(&env, internal_token.clone())?;
    message_settings.bind = format!("{host}:{message_port}");
    message_settings.pod_id = "standalone".to_owned();
    message_settings.web_internal_url = web_url.clone();
    message_settings.presence_url = presence_url.clone();
    message_settings.allowed_origins = vec![web_url.clone()];

    let mut presence_settings = PresenceSettings::with_internal_token(&env, internal_token)?;
    presence_settings.bind = format!("{host}:{presence_port}");
    presence_settings.web_internal_url = web_url.clone();

    let db = Db::open_sqlite(&options.database).context("opening the SQLite database")?;
    let files = web_settings.files.store.open().context("opening the files directory")?;
    let history = Arc::new(MemoryHistory::new());
    let bus = Arc::new(MemoryBus::new(BUS_RETENTION));
    // One store for web and message, as Redis is in production.
    let kv = Arc::new(MemoryKeyValue::new());
    let topics: Vec<String> = Topic::ALL.iter().map(|t| t.name(&message_settings.topic_prefix)).collect();
    bus.ensure_topics(&topics).await.context("creating bus topics")?;

    let presence = natter_presence::Application::with_listener(
        presence_listener,
        &presence_settings,
        Arc::new(MemoryPresence::new()),
        bus.clone(),
    )
    .context("starting presence")?;
    let web = natter_web::Application::with_listener(
        web_listener,
        web_settings,
        natter_web::Stores { db, history: history.clone(), kv: kv.clone(), bus: bus.clone(), files },
    )
    .context("starting web")?;
    let presence = tokio::spawn(presence.run_until_stopped());
    let web = tokio::spawn(web.run_until_stopped());
    let message = natter_message::Application::with_listener(
        message_listener,
        message_settings,
        natter_message::Backends { bus, history, kv },
    )
    .await
    .context("starting message")?;
    let message = tokio::spawn(message.run_until_stopped());

    // One line a script can read: where each service listens.
    println!("natter standalone: web={web_url} message={message_url} presence={presence_url}");
    println!("Natter is running. Open {web_url} in a browser. Ctrl-C stops it.");
    // The first service to fail stops the process (a message pod whose bus consumer ended, say).
    let finished = |name: &'static str, task: tokio::task::JoinHandle<std::io::Result<()>>| async move {
        task.await.with_context(|| format!("{name} task"))?.with_context(|| format!("{name} server"))
    };
    tokio::try_join!(finished("web", web), finished("message", message), finished("presence", presence))?;
    drop(scratch);
    Ok(())
}

/// A temporary directory for uploads, removed when dropped.
struct TempFilesDir(std::path::PathBuf);

impl TempFilesDir {
    fn new() -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!(
            "natter-files-{}-{:x}",
            std::process::id(),
            u64::from_le_bytes(random_bytes::<8>())
        ));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Self(dir))
    }
}

impl Drop for TempFilesDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
