//! Building and running the presence HTTP server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use natter_bus::EventBus;
use natter_http::{InternalClient, InternalToken, require_internal_token};
use natter_runtime::workers::{WorkerSet, Workers};

use crate::calls::CallAnnouncer;
use crate::push::{PresencePushes, Publisher};

use crate::routes;
use crate::settings::PresenceSettings;
use crate::store::PresenceStore;

pub(crate) struct State {
    pub(crate) store: Arc<dyn PresenceStore>,
    pub(crate) away_after_ms: i64,
    /// Online/offline changes waiting to be pushed to co-members.
    pub(crate) pushes: Arc<PresencePushes>,
    /// Announces call changes.
    pub(crate) calls: CallAnnouncer,
    /// The sweeper and the publisher; readiness depends on them running.
    pub(crate) workers: Arc<Workers>,
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_millis() as i64
}

/// A bound, not yet running presence server.
pub struct Application {
    port: u16,
    server: Server,
    workers: Arc<Workers>,
}

impl Application {
    /// Binds the listener (port 0 picks a free port) and builds the server.
    pub fn build(
        settings: &PresenceSettings,
        store: Arc<dyn PresenceStore>,
        bus: Arc<dyn EventBus>,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(&settings.bind)?;
        Self::with_listener(listener, settings, store, bus)
    }

    /// Serves on an already bound listener (standalone mode binds every port before starting).
    pub fn with_listener(
        listener: TcpListener,
        settings: &PresenceSettings,
        store: Arc<dyn PresenceStore>,
        bus: Arc<dyn EventBus>,
    ) -> std::io::Result<Self> {
        natter_runtime::metrics::install();
        let port = listener.local_addr()?.port();
        let away_after_ms = i64::try_from(settings.away_after.as_millis()).unwrap_or(i64::MAX);
        let pushes = Arc::new(PresencePushes::default());
        let calls = CallAnnouncer::new(Arc::clone(&store), Arc::clone(&bus), &settings.topic_prefix);
        let mut set = WorkerSet::default();
        set.add(
            "lease sweeper",
            crate::sweeper::run(Arc::clone(&store), Arc::clone(&pushes), calls.clone(), settings.sweep_every),
        );
        let publisher = Publisher {
            pushes: Arc::clone(&pushes),
            store: Arc::clone(&store),
            bus,
            web: InternalClient::new("web", &settings.web_internal_url, settings.internal_token.clone()),
            topic_prefix: settings.topic_prefix.clone(),
            debounce: settings.push_debounce,
            away_after_ms,
        };
        set.add("presence publisher", publisher.run());
        let workers = Arc::new(Workers::start(set));
        let state =
            web::Data::new(State { store, away_after_ms, pushes, calls, workers: Arc::clone(&workers) });
        let token = web::Data::new(InternalToken(settings.internal_token.clone()));
        let server = HttpServer::new(move || {
            App::new()
                .wrap(actix_web::middleware::from_fn(natter_http::trace_requests))
                .app_data(state.clone())
                .app_data(token.clone())
                .route("/healthz", web::get().to(natter_http::healthz))
                .route("/readyz", web::get().to(routes::readyz))
                .service(
                    web::scope("/internal")
                        .wrap(from_fn(require_internal_token))
                        .route("/presence", web::get().to(routes::presence))
                        .route("/metrics", web::get().to(natter_http::metrics))
                        .route("/rooms/{room}/present", web::get().to(routes::room_present))
                        .route("/rooms/{room}/call", web::get().to(routes::room_call))
                        .route("/pods/{pod}/heartbeat", web::put().to(routes::heartbeat)),
                )
        })
        .workers(2)
        .listen(listener)?
        .run();
        Ok(Self { port, server, workers })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM/SIGINT; in-flight requests finish first. Returns an error as soon as a
    /// worker (the lease sweeper, the publisher) ends, so the process exits non-zero and is restarted.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        tokio::select! {
            result = self.server => result,
            () = self.workers.ended() => Err(self.workers.exit_error()),
        }
    }
}
