//! Running the service in production mode: real stores, settings from the environment.

use std::sync::Arc;

use crate::{Application, Stores, WebSettings};
use anyhow::Context;
use natter_bus::{EventBus, KafkaBus, KafkaSettings};
use natter_db::Db;
use natter_history::MongoHistory;
use natter_kv::RedisKeyValue;
use natter_proto::topics::Topic;
use natter_runtime::env::Env;

/// `natter-web migrate`: applies pending PostgreSQL migrations and exits. Several at once are safe
/// (they take turns on an advisory lock).
pub async fn migrate_from_env(env: &Env) -> anyhow::Result<()> {
    let database_url = env.required("NATTER_DATABASE_URL", "e.g. postgres://natter@db/natter")?;
    let applied = Db::migrate_postgres(&database_url).await.context("migrating NATTER_DATABASE_URL")?;
    println!("applied {applied} migration(s)");
    Ok(())
}

pub async fn serve_from_env(env: &Env) -> anyhow::Result<()> {
    natter_runtime::install_tls_provider();
    let _telemetry =
        natter_runtime::telemetry::init("natter-web", None, env.or("NATTER_LOG_FORMAT", "text") == "json");
    let settings = WebSettings::from_env(env)?;
    let database_url = env.required("NATTER_DATABASE_URL", "e.g. postgres://natter@db/natter")?;
    if env.parse_or("NATTER_MIGRATE_ON_START", true)? {
        Db::migrate_postgres(&database_url).await.context("migrating NATTER_DATABASE_URL")?;
    }
    let db = Db::connect_postgres(&database_url, env.parse_or("NATTER_DATABASE_POOL_SIZE", 8usize)?)
        .context("NATTER_DATABASE_URL")?;
    let history = MongoHistory::connect(
        &env.required("NATTER_MONGODB_URL", "e.g. mongodb://mongo:27017")?,
        &env.or("NATTER_MONGODB_DATABASE", "natter"),
    )
    .await
    .context("NATTER_MONGODB_URL")?;
    let redis_url = env.required("NATTER_REDIS_URL", "e.g. redis://127.0.0.1:6379")?;
    let kv = RedisKeyValue::connect(&redis_url, &env.or("NATTER_REDIS_KEY_PREFIX", "natter:"))
        .context("NATTER_REDIS_URL")?;
    let bus = KafkaBus::connect(KafkaSettings::from_env(env)?).context("NATTER_KAFKA_BROKERS")?;
    let topics: Vec<String> = Topic::ALL.iter().map(|t| t.name(&settings.topic_prefix)).collect();
    bus.ensure_topics(&topics).await.context("creating bus topics")?;
    let bus: Arc<dyn natter_bus::EventBus> = Arc::new(bus);
    // Topics lost by the broker are created again (see `natter_bus::TopicKeeper`).
    let topic_check = std::time::Duration::from_millis(env.parse_or("NATTER_KAFKA_TOPIC_CHECK_MS", 5000u64)?);
    natter_bus::TopicKeeper::start(Arc::clone(&bus), topics, topic_check);
    let files =
        settings.files.store.open().context("opening the file store (NATTER_FILES_*, NATTER_S3_*)")?;
    let stores = Stores { db, history: Arc::new(history), kv: Arc::new(kv), bus, files };
    let bind = settings.bind.clone();
    let app = Application::build(settings, stores).with_context(|| format!("binding {bind}"))?;
    tracing::info!(port = app.port(), "web listening");
    app.run_until_stopped().await?;
    Ok(())
}

/// `natter search-backfill`: indexes every message already in history (`NATTER_DATABASE_URL`,
/// `NATTER_MONGODB_URL`) for search, printing progress, and exits. Safe while web pods run.
pub async fn search_backfill_from_env(env: &Env) -> anyhow::Result<()> {
    natter_runtime::install_tls_provider();
    let database_url = env.required("NATTER_DATABASE_URL", "e.g. postgres://natter@db/natter")?;
    Db::migrate_postgres(&database_url).await.context("migrating NATTER_DATABASE_URL")?;
    let db = Db::connect_postgres(&database_url, 2).context("NATTER_DATABASE_URL")?;
    let history = MongoHistory::connect(
        &env.required("NATTER_MONGODB_URL", "e.g. mongodb://mongo:27017")?,
        &env.or("NATTER_MONGODB_DATABASE", "natter"),
    )
    .await
    .context("NATTER_MONGODB_URL")?;
    let started = std::time::Instant::now();
    let report = |done: &crate::search::backfill::Backfilled| {
        format!(
            "{} rooms, {} messages read, {} added to the index, {} deleted kept out ({:.0} messages/s)",
            done.rooms,
            done.messages,
            done.added,
            done.deleted,
            done.messages as f64 / started.elapsed().as_secs_f64().max(0.001)
        )
    };
    let done = crate::search::backfill::backfill(&db, &history, |done| {
        if done.rooms % 100 == 0 {
            eprintln!("… {}", report(done));
        }
    })
    .await?;
    println!("search backfill done: {}", report(&done));
    Ok(())
}
