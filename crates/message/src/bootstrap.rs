//! Running the service in production mode: real stores, settings from the environment.

use std::sync::Arc;

use crate::{Application, Backends, MessageSettings};
use anyhow::Context;
use natter_bus::{KafkaBus, KafkaSettings};
use natter_history::MongoHistory;
use natter_kv::RedisKeyValue;
use natter_runtime::env::Env;

pub async fn serve_from_env(env: &Env) -> anyhow::Result<()> {
    natter_runtime::install_tls_provider();
    let settings = MessageSettings::from_env(env)?;
    let json_logs = env.or("NATTER_LOG_FORMAT", "text") == "json";
    let _telemetry = natter_runtime::telemetry::init("natter-message", Some(&settings.pod_id), json_logs);
    let bus = KafkaBus::connect(KafkaSettings::from_env(env)?).context("NATTER_KAFKA_BROKERS")?;
    let history = MongoHistory::connect(
        &env.required("NATTER_MONGODB_URL", "e.g. mongodb://mongo:27017")?,
        &env.or("NATTER_MONGODB_DATABASE", "natter"),
    )
    .await
    .context("NATTER_MONGODB_URL")?;
    let redis_url = env.required("NATTER_REDIS_URL", "e.g. redis://127.0.0.1:6379")?;
    let kv = RedisKeyValue::connect(&redis_url, &env.or("NATTER_REDIS_KEY_PREFIX", "natter:"))
        .context("NATTER_REDIS_URL")?;
    let backends = Backends { bus: Arc::new(bus), history: Arc::new(history), kv: Arc::new(kv) };
    let app = Application::build(settings, backends).await?;
    tracing::info!(port = app.port(), "message pod listening");
    app.run_until_stopped().await?;
    Ok(())
}
