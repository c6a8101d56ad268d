//! Building and running a message pod.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::Context;
use natter_bus::{EventBus, TopicKeeper};
use natter_history::HistoryStore;
use natter_http::{ApiError, InternalClient, InternalToken, require_internal_token};
use natter_kv::KeyValue;
use natter_proto::topics::Topic;
use tokio_util::sync::CancellationToken;

use crate::access::RoomAccessClient;
use crate::access_cache::AccessCache;
use crate::consumers::Consumers;
use crate::hub::Hub;
use crate::keys::Keys;
use crate::pending_acks::PendingAcks;
use crate::presence::PresenceReporter;
use crate::rate_limit::MemberLimit;
use crate::settings::MessageSettings;
use crate::{edits_fanout, fanout, history_edits, membership, presence_fanout, sequencer, typing_fanout, ws};

/// The outside systems a message pod uses.
pub struct Backends {
    pub bus: Arc<dyn EventBus>,
    pub history: Arc<dyn HistoryStore>,
    /// Shared counters (per-member publish limit); Redis in production, so the limit holds across pods.
    pub kv: Arc<dyn KeyValue>,
}

/// What every connection of the pod shares.
pub(crate) struct Shared {
    pub(crate) settings: MessageSettings,
    pub(crate) bus: Arc<dyn EventBus>,
    pub(crate) history: Arc<dyn HistoryStore>,
    pub(crate) hub: Arc<Hub>,
    pub(crate) keys: Keys,
    pub(crate) access: Arc<AccessCache<RoomAccessClient>>,
    pub(crate) presence: PresenceReporter,
    pub(crate) member_limit: MemberLimit,
    /// Shared with every pod: idempotent publish records (see `ws/idempotency.rs`).
    pub(crate) kv: Arc<dyn KeyValue>,
    /// Web's internal API (read positions).
    pub(crate) web: Arc<InternalClient>,
    /// Cancelled when the pod starts shutting down (see [`Application::run_until_stopped`]).
    pub(crate) draining: CancellationToken,
    /// Open WebSocket connections.
    pub(crate) connections: AtomicUsize,
    /// Publishes waiting for their message's position.
    pub(crate) acks: Arc<PendingAcks>,
    /// Recreates bus topics that vanished (readiness).
    pub(crate) topics: TopicKeeper,
}

/// A bound, not yet running message pod. Its bus consumers are already reading, so anything
/// published after `build` returns reaches this pod's subscribers.
pub struct Application {
    port: u16,
    server: Server,
    shared: Arc<Shared>,
    consumers: Arc<Consumers>,
}

impl Application {
    pub async fn build(settings: MessageSettings, backends: Backends) -> anyhow::Result<Self> {
        let listener =
            TcpListener::bind(&settings.bind).with_context(|| format!("binding {}", settings.bind))?;
        Self::with_listener(listener, settings, backends).await
    }

    /// Serves on an already bound listener (standalone mode binds every port before starting).
    pub async fn with_listener(
        listener: TcpListener,
        settings: MessageSettings,
        backends: Backends,
    ) -> anyhow::Result<Self> {
        natter_runtime::metrics::install();
        let all: Vec<String> = Topic::ALL.iter().map(|t| t.name(&settings.topic_prefix)).collect();
        backends.bus.ensure_topics(&all).await.context("creating bus topics")?;
        let topics = TopicKeeper::start(Arc::clone(&backends.bus), all, settings.topic_check);

        // Messages: published to the publish log (the room message topics), placed and stored by the
        // sequencer (one shared group), announced on the sequenced topic, which every pod fans out.
        let hub = Arc::new(Hub::new());
        let acks = Arc::new(PendingAcks::default());
        let sequenced = Topic::Sequenced.name(&settings.topic_prefix);
        let fan_out = backends
            .bus
            .subscribe_all(std::slice::from_ref(&sequenced))
            .await
            .context("subscribing to room events")?;
        let delivery = fanout::FanOut {
            hub: Arc::clone(&hub),
            history: Arc::clone(&backends.history),
            acks: Arc::clone(&acks),
        };
        let mut consumers: Vec<(&'static str, _)> = Vec::new();
        consumers.push(("fan-out of messages", boxed(fanout::run(fan_out, delivery))));
        let publish_log: Vec<String> =
            Topic::MESSAGES.iter().map(|t| t.name(&settings.topic_prefix)).collect();
        let group = format!("{}natter-history-writer", settings.topic_prefix);
        let sequencer_stream = backends
            .bus
            .subscribe_shared(&publish_log, &group)
            .await
            .context("joining the sequencers (history writers)")?;
        let announcer = sequencer::Announcer { bus: Arc::clone(&backends.bus), topic: sequenced };
        consumers.push((
            "sequencer",
            boxed(sequencer::run(sequencer_stream, Arc::clone(&backends.history), announcer)),
        ));

        let web = InternalClient::new("web", &settings.web_internal_url, settings.internal_token.clone());
        let access =
            Arc::new(AccessCache::new(RoomAccessClient::new(web.clone()), settings.access_cache_ttl));
        let membership_topic = [Topic::Membership.name(&settings.topic_prefix)];
        let changes = backends
            .bus
            .subscribe_all(&membership_topic)
            .await
            .context("subscribing to membership changes")?;
        consumers.push((
            "membership changes",
            boxed(membership::run(changes, Arc::clone(&access), Arc::clone(&hub))),
        ));
        let typing_topic = [Topic::Typing.name(&settings.topic_prefix)];
        let typing = backends.bus.subscribe_all(&typing_topic).await.context("subscribing to typing")?;
        consumers.push(("fan-out of typing", boxed(typing_fanout::run(typing, Arc::clone(&hub)))));
        let presence_topic = [Topic::Presence.name(&settings.topic_prefix)];
        let presence_changes =
            backends.bus.subscribe_all(&presence_topic).await.context("subscribing to presence changes")?;
        consumers
            .push(("fan-out of presence", boxed(presence_fanout::run(presence_changes, Arc::clone(&hub)))));
        // Edits and deletions: every pod tells its subscribers; one shared group, of its own, writes.
        let edits_topic = [Topic::Edits.name(&settings.topic_prefix)];
        let edits = backends.bus.subscribe_all(&edits_topic).await.context("subscribing to edits")?;
        consumers.push(("fan-out of edits", boxed(edits_fanout::run(edits, Arc::clone(&hub)))));
        let group = format!("{}natter-history-edits", settings.topic_prefix);
        let edit_writer =
            backends.bus.subscribe_shared(&edits_topic, &group).await.context("joining the edit writers")?;
        consumers
            .push(("edit writer", boxed(history_edits::run(edit_writer, Arc::clone(&backends.history)))));
        let consumers = Arc::new(Consumers::start(consumers));

        let keys = Keys::new(&settings.web_internal_url);
        keys.prefetch().await;
        let presence =
            InternalClient::new("presence", &settings.presence_url, settings.internal_token.clone());
        let port = listener.local_addr()?.port();
        let member_limit = MemberLimit::new(
            Arc::clone(&backends.kv),
            settings.publish_rate_per_member,
            settings.publish_rate_window,
        );
        let shared = Arc::new(Shared {
            member_limit,
            kv: backends.kv,
            web: Arc::new(web),
            presence: PresenceReporter::start(presence, settings.pod_id.clone(), settings.presence_heartbeat),
            settings,
            bus: backends.bus,
            history: backends.history,
            hub,
            keys,
            access,
            draining: CancellationToken::new(),
            connections: AtomicUsize::new(0),
            acks,
            topics,
        });
        let data = web::Data::new(Arc::clone(&shared));
        let consumer_health = web::Data::from(Arc::clone(&consumers));
        let token = web::Data::new(InternalToken(shared.settings.internal_token.clone()));
        let server = HttpServer::new(move || {
            App::new()
                .wrap(actix_web::middleware::from_fn(natter_http::trace_requests))
                .app_data(data.clone())
                .app_data(consumer_health.clone())
                .app_data(token.clone())
                .route("/healthz", web::get().to(natter_http::healthz))
                .route("/readyz", web::get().to(readyz))
                .route("/ws", web::get().to(ws::connect))
                .service(
                    web::scope("/internal")
                        .wrap(actix_web::middleware::from_fn(require_internal_token))
                        .route("/metrics", web::get().to(natter_http::metrics)),
                )
        })
        // Chat frames are small and latency matters more than packet count (p50 halved in the
        // load generator's fan-out runs).
        .tcp_nodelay(true)
        .workers(2)
        // SIGTERM and Ctrl-C start the drain below instead of actix's own shutdown.
        .disable_signals()
        .listen(listener)?
        .run();
        Ok(Self { port, server, shared, consumers })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM or Ctrl-C, then drains: readiness turns false and new connections are
    /// refused; every connection sends the answers still pending, a `reconnect` frame and closes
    /// (1012), so its client resumes on another pod; after they closed (or `NATTER_DRAIN_SECS`) the
    /// server stops. Publishes are acknowledged only once the broker stored them, so nothing acked
    /// is lost, and an unanswered publish is retried elsewhere with its `client_msg_id`.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let mut server = std::pin::pin!(self.server);
        tokio::select! {
            result = &mut server => return result,
            () = shutdown_signal() => {}
            () = self.consumers.ended() => {
                let problem = self.consumers.check().err().unwrap_or_default();
                return Err(std::io::Error::other(format!("{problem}; exiting so the pod is restarted")));
            }
        }
        let shared = self.shared;
        let open = shared.connections.load(Ordering::Relaxed);
        tracing::info!(connections = open, "shutting down: draining connections");
        shared.draining.cancel();
        let deadline = tokio::time::Instant::now() + shared.settings.drain_timeout + Duration::from_secs(1);
        while shared.connections.load(Ordering::Relaxed) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let left = shared.connections.load(Ordering::Relaxed);
        tracing::info!(connections_left = left, "drained; stopping");
        shared.presence.flush().await;
        if let Err(e) = shared.bus.flush(Duration::from_secs(2)).await {
            tracing::warn!(error = %e, "bus records not delivered before stopping");
        }
        // Connections have been told to go; sockets their clients have not closed yet are cut.
        // The server future processes the stop, so it is polled alongside.
        let ((), stopped) = tokio::join!(handle.stop(false), server);
        tracing::info!("message pod stopped");
        stopped
    }
}

/// SIGTERM (orchestrators) or Ctrl-C.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

/// `GET /readyz`: every bus consumer runs, the bus answers and has every topic, the history store
/// and the shared key-value store answer, and the pod is not draining.
async fn readyz(
    shared: web::Data<Arc<Shared>>,
    consumers: web::Data<Consumers>,
) -> Result<HttpResponse, ApiError> {
    if shared.draining.is_cancelled() {
        return Err(ApiError::unavailable("draining: shutting down"));
    }
    consumers.check().map_err(ApiError::unavailable)?;
    shared.bus.ping().await.map_err(ApiError::unavailable)?;
    shared.topics.ready().map_err(ApiError::unavailable)?;
    shared.history.ping().await.map_err(ApiError::unavailable)?;
    shared.kv.ping().await.map_err(ApiError::unavailable)?;
    Ok(HttpResponse::Ok().content_type("text/plain").body("ready"))
}

/// A consumer loop, boxed for [`Consumers::start`].
fn boxed(
    consumer: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    Box::pin(consumer)
}
