//! Running the service in production mode: real stores, settings from the environment.

use std::sync::Arc;

use crate::store::RedisPresence;
use crate::{Application, PresenceSettings};
use anyhow::Context;
use natter_bus::{EventBus, KafkaBus, KafkaSettings};
use natter_proto::topics::Topic;
use natter_runtime::env::Env;

pub async fn serve_from_env(env: &Env) -> anyhow::Result<()> {
    let _telemetry = natter_runtime::telemetry::init(
        "natter-presence",
        None,
        env.or("NATTER_LOG_FORMAT", "text") == "json",
    );
    let settings = PresenceSettings::from_env(env)?;
    let redis_url = env.required("NATTER_REDIS_URL", "e.g. redis://127.0.0.1:6379")?;
    let store = RedisPresence::connect(&redis_url, &env.or("NATTER_REDIS_KEY_PREFIX", "natter:"))
        .context("NATTER_REDIS_URL")?;
    natter_runtime::install_tls_provider();
    let bus = KafkaBus::connect(KafkaSettings::from_env(env)?).context("NATTER_KAFKA_BROKERS")?;
    let topic = [Topic::Presence.name(&settings.topic_prefix)];
    bus.ensure_topics(&topic).await.context("creating the presence topic")?;
    let bus: Arc<dyn natter_bus::EventBus> = Arc::new(bus);
    // A topic lost by the broker is created again (see `natter_bus::TopicKeeper`).
    let topic_check = std::time::Duration::from_millis(env.parse_or("NATTER_KAFKA_TOPIC_CHECK_MS", 5000u64)?);
    natter_bus::TopicKeeper::start(Arc::clone(&bus), topic.to_vec(), topic_check);
    let app = Application::build(&settings, Arc::new(store), bus)
        .with_context(|| format!("binding {}", settings.bind))?;
    tracing::info!(port = app.port(), "presence listening");
    app.run_until_stopped().await?;
    Ok(())
}
