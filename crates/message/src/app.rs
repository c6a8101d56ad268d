//! Building and running a message pod: its [`Node`], its consumers, and the HTTP server.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::Context;
use natter_http::{ApiError, InternalToken, require_internal_token};

use natter_runtime::workers::Workers;

use crate::consumers;
use crate::node::{Backends, Node};
use crate::settings::MessageSettings;
use crate::ws;

/// A bound, not yet running message pod. Its bus consumers are already reading, so anything
/// published after `build` returns reaches this pod's subscribers.
pub struct Application {
    port: u16,
    server: Server,
    node: Arc<Node>,
    workers: Arc<Workers>,
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
        let node = Arc::new(Node::start(settings, backends).await?);
        let workers = Arc::new(consumers::start(&node).await?);
        let port = listener.local_addr()?.port();
        let server = serve(listener, Arc::clone(&node), Arc::clone(&workers))?;
        Ok(Self { port, server, node, workers })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM or Ctrl-C, then drains: readiness turns false and new connections are
    /// refused; every connection sends the answers still pending, a `reconnect` frame and closes
    /// (1012), so its client resumes on another pod; after they closed (or `NATTER_DRAIN_SECS`) the
    /// server stops. Publishes are acknowledged only once the broker stored them, so nothing acked
    /// is lost, and an unanswered publish is retried elsewhere with its `client_msg_id`.
    ///
    /// Returns an error, without draining, as soon as a worker (a bus consumer, a writer, the presence
    /// heartbeat) ends: the process then exits non-zero and is restarted.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let mut server = std::pin::pin!(self.server);
        tokio::select! {
            result = &mut server => return result,
            () = shutdown_signal() => {}
            () = self.workers.ended() => return Err(self.workers.exit_error()),
        }
        let node = self.node;
        node.drain.run(node.settings.drain_timeout + Duration::from_secs(1)).await;
        node.upstream.presence.flush().await;
        if let Err(e) = node.backends.bus.flush(Duration::from_secs(2)).await {
            tracing::warn!(error = %e, "bus records not delivered before stopping");
        }
        // Connections have been told to go; sockets their clients have not closed yet are cut.
        // The server future processes the stop, so it is polled alongside.
        let ((), stopped) = tokio::join!(handle.stop(false), server);
        tracing::info!("message pod stopped");
        stopped
    }
}

/// The HTTP server: health, readiness, the WebSocket endpoint and internal metrics.
fn serve(listener: TcpListener, node: Arc<Node>, workers: Arc<Workers>) -> std::io::Result<Server> {
    let token = web::Data::new(InternalToken(node.settings.internal_token.clone()));
    let node = web::Data::new(node);
    let workers = web::Data::from(workers);
    let server = HttpServer::new(move || {
        App::new()
            .wrap(actix_web::middleware::from_fn(natter_http::trace_requests))
            .app_data(node.clone())
            .app_data(workers.clone())
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
    // SIGTERM and Ctrl-C start the drain instead of actix's own shutdown.
    .disable_signals()
    .listen(listener)?
    .run();
    Ok(server)
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

/// `GET /readyz`: the pod is not draining, every worker (bus consumers, heartbeat) runs, the bus answers and has every
/// topic, the history store and the shared key-value store answer.
async fn readyz(node: web::Data<Arc<Node>>, workers: web::Data<Workers>) -> Result<HttpResponse, ApiError> {
    if node.drain.is_started() {
        return Err(ApiError::unavailable("draining: shutting down"));
    }
    workers.check().map_err(ApiError::unavailable)?;
    node.check_backends().await.map_err(ApiError::unavailable)?;
    Ok(HttpResponse::Ok().content_type("text/plain").body("ready"))
}

#[cfg(test)]
mod tests {
    use natter_bus::MemoryBus;
    use natter_history::MemoryHistory;
    use natter_kv::MemoryKeyValue;
    use natter_runtime::env::Env;

    use super::*;

    /// A pod on memory backends; web and presence are nowhere (port 9 refuses at once).
    async fn pod() -> Application {
        natter_runtime::install_tls_provider();
        let env = Env::from_pairs([
            ("NATTER_INTERNAL_TOKEN", "a-secret-long-enough-for-tests"),
            ("NATTER_MESSAGE_BIND", "127.0.0.1:0"),
            ("NATTER_WEB_INTERNAL_URL", "http://127.0.0.1:9"),
            ("NATTER_PRESENCE_URL", "http://127.0.0.1:9"),
            ("NATTER_KAFKA_TOPIC_PREFIX", "test."),
        ]);
        let backends = Backends {
            bus: Arc::new(MemoryBus::new(100)),
            history: Arc::new(MemoryHistory::new()),
            kv: Arc::new(MemoryKeyValue::new()),
        };
        Application::build(MessageSettings::from_env(&env).unwrap(), backends).await.unwrap()
    }

    async fn readyz(port: u16) -> u16 {
        let url = format!("http://127.0.0.1:{port}/readyz");
        reqwest::get(url).await.expect("the pod answers").status().as_u16()
    }

    #[actix_web::test]
    async fn a_dead_consumer_makes_the_pod_unready() {
        let Application { port, server, workers, .. } = pod().await;
        actix_web::rt::spawn(server);
        assert_eq!(readyz(port).await, 200);
        workers.kill("fan-out of typing");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while readyz(port).await != 503 {
            assert!(tokio::time::Instant::now() < deadline, "still ready with a dead consumer");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let problem = workers.check().unwrap_err();
        assert!(problem.contains("fan-out of typing"), "{problem}");
    }

    #[actix_web::test]
    async fn a_dead_worker_makes_the_pod_exit_with_an_error() {
        for worker in ["sequencer", "presence heartbeat"] {
            let app = pod().await;
            let workers = Arc::clone(&app.workers);
            let running = actix_web::rt::spawn(app.run_until_stopped());
            workers.kill(worker);
            let exited = tokio::time::timeout(Duration::from_secs(5), running).await.expect("the pod exits");
            let error = exited.unwrap().expect_err("exits with an error").to_string();
            assert!(error.contains(worker) && error.contains("restarted"), "{error}");
        }
    }
}
