//! Running the service in production mode: real stores, settings from the environment.

use std::sync::Arc;

use crate::{Application, Backends, MessageSettings};
use anyhow::Context;
use natter_bus::{KafkaBus, KafkaSettings};
use natter_history::MongoHistory;
use natter_runtime::env::Env;

pub async fn serve_from_env(env: &Env) -> anyhow::Result<()> {
    natter_runtime::install_tls_provider();
    natter_runtime::telemetry::init_logging(env.or("NATTER_LOG_FORMAT", "text") == "json");
    let settings = MessageSettings::from_env(env)?;
    let bus = KafkaBus::connect(KafkaSettings::from_env(env)?).context("NATTER_KAFKA_BROKERS")?;
    let history = MongoHistory::connect(
        &env.required("NATTER_MONGODB_URL", "e.g. mongodb://mongo:27017")?,
        &env.or("NATTER_MONGODB_DATABASE", "natter"),
    )
    .await
    .context("NATTER_MONGODB_URL")?;
    let app =
        Application::build(settings, Backends { bus: Arc::new(bus), history: Arc::new(history) }).await?;
    tracing::info!(port = app.port(), "message pod listening");
    app.run_until_stopped().await?;
    Ok(())
}
