//! Building and running the web HTTP server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_session::SessionMiddleware;
use actix_session::config::BrowserSession;
use actix_web::cookie::{Key, SameSite};
use actix_web::dev::Server;
use actix_web::middleware::{DefaultHeaders, from_fn};
use actix_web::{App, HttpServer, web};
use natter_bus::EventBus;
use natter_db::Db;
use natter_history::HistoryStore;
use natter_http::{InternalClient, InternalToken, require_internal_token};
use natter_kv::KeyValue;
use natter_runtime::workers::{WorkerSet, Workers};
use natter_token::{TokenSigner, TokenVerifier};

use crate::request_errors;
use crate::routes;
use crate::sessions::KvSessionStore;
use crate::settings::WebSettings;
use crate::throttle::LoginThrottle;

/// The stores web reads and writes.
pub struct Stores {
    /// Members, rooms and files (PostgreSQL, or SQLite in standalone mode).
    pub db: Db,
    pub history: Arc<dyn HistoryStore>,
    /// Sessions and login-throttle counters, shared by every web pod.
    pub kv: Arc<dyn KeyValue>,
    /// Membership changes go out on it to message pods.
    pub bus: Arc<dyn EventBus>,
    /// File contents: a local directory or an S3-compatible store (see [`crate::files`]).
    pub files: Arc<dyn object_store::ObjectStore>,
}

pub(crate) struct State {
    pub(crate) db: Db,
    pub(crate) history: Arc<dyn HistoryStore>,
    pub(crate) bus: Arc<dyn EventBus>,
    pub(crate) topic_prefix: String,
    pub(crate) signer: TokenSigner,
    pub(crate) message_public_url: String,
    pub(crate) throttle: LoginThrottle,
    /// Verifies REST access tokens against web's own public keys.
    pub(crate) api_verifier: TokenVerifier,
    pub(crate) access_token_ttl: std::time::Duration,
    pub(crate) refresh_token_ttl: std::time::Duration,
    pub(crate) oauth: crate::oauth::OAuthProviders,
    /// Where browsers reach web (OAuth callback URLs are built from it).
    pub(crate) public_url: String,
    /// Read-position moves waiting to be pushed to the rooms' subscribers.
    pub(crate) read_pushes: Arc<crate::rooms::reads::ReadPushes>,
    /// Presence, asked for the dots and "last seen" of member lists.
    pub(crate) presence: crate::presence::PresenceClient,
    /// File contents.
    pub(crate) files: Arc<dyn object_store::ObjectStore>,
    pub(crate) file_limits: crate::files::upload::Limits,
    /// How long a session lives; also the age of a remembered session's cookie.
    pub(crate) session_ttl: std::time::Duration,
    /// Cookies get the `Secure` flag (web is reached over HTTPS).
    pub(crate) cookie_secure: bool,
    /// Shared short-lived state: the member's devices and session generations (`crate::devices`).
    pub(crate) kv: Arc<dyn natter_kv::KeyValue>,
    /// The read-position pusher and the file janitor; readiness depends on them running.
    pub(crate) workers: Arc<Workers>,
    /// Web Push, when configured: the key browsers subscribe with, and whether `http:` push
    /// endpoints are accepted.
    pub(crate) push: Option<PushPublic>,
    /// STUN and TURN servers handed to callers.
    pub(crate) ice: crate::calls::ice::IceSettings,
}

/// What the push routes need of the push settings.
pub(crate) struct PushPublic {
    pub(crate) public_key: String,
    pub(crate) allow_http: bool,
}

/// A bound, not yet running web server.
pub struct Application {
    port: u16,
    server: Server,
    workers: Arc<Workers>,
}

/// The origin (`scheme://host:port`) of a URL, for the Content-Security-Policy.
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    url[after_scheme..].find('/').map_or(url, |i| &url[..after_scheme + i])
}

/// The room REST API under `/api/v1` (see `proto/openapi.json`).
fn room_api(cfg: &mut web::ServiceConfig) {
    use routes::api::rooms as r;
    cfg.route("/rooms", web::get().to(r::search))
        .route("/rooms", web::post().to(r::create))
        .route("/rooms/{room}", web::get().to(r::show))
        .route("/rooms/{room}", web::patch().to(r::update))
        .route("/rooms/{room}", web::delete().to(r::delete))
        .route("/rooms/{room}/archive", web::post().to(r::archive))
        .route("/rooms/{room}/archive", web::delete().to(r::unarchive))
        .route("/rooms/{room}/transfer", web::post().to(r::transfer))
        .route("/rooms/{room}/join", web::post().to(r::join))
        .route("/rooms/{room}/leave", web::post().to(r::leave))
        .route("/rooms/{room}/members", web::get().to(r::members))
        .route("/rooms/{room}/members/{member}/role", web::put().to(r::set_role))
        .route("/rooms/{room}/members/{member}/kick", web::post().to(r::kick))
        .route("/rooms/{room}/members/{member}/mute", web::put().to(r::mute))
        .route("/rooms/{room}/members/{member}/mute", web::delete().to(r::unmute))
        .route("/rooms/{room}/bans/{member}", web::put().to(r::ban))
        .route("/rooms/{room}/bans/{member}", web::delete().to(r::unban))
        .route("/rooms/{room}/invitations", web::post().to(r::invite))
        .route("/rooms/{room}/invite-links", web::post().to(r::create_link))
        .route("/rooms/{room}/invite-links", web::get().to(r::links))
        .route("/rooms/{room}/invite-links/{link}", web::delete().to(r::revoke_link))
        .route("/rooms/{room}/audit", web::get().to(r::audit))
        .route("/rooms/{room}/read", web::put().to(r::mark_read))
        .route("/rooms/{room}/messages", web::get().to(r::messages))
        .route("/rooms/{room}/whispers", web::get().to(r::whispers))
        .route("/rooms/{room}/reports", web::post().to(r::report))
        .route("/rooms/{room}/reports", web::get().to(r::reports))
        .route("/rooms/{room}/files", web::post().to(routes::api_upload))
        .route("/invites/accept", web::post().to(r::accept_invite))
        .route("/me/rooms", web::get().to(r::my_rooms))
        .route("/direct/{username}", web::put().to(r::start_direct))
        .route("/friends", web::get().to(crate::routes::api::friends::list))
        .route("/friends/requests/{username}", web::put().to(crate::routes::api::friends::request))
        .route("/friends/requests/{username}", web::delete().to(crate::routes::api::friends::withdraw))
        .route("/friends/requests/{username}/accept", web::post().to(crate::routes::api::friends::accept))
        .route("/friends/{username}", web::delete().to(crate::routes::api::friends::unfriend))
        .route("/me/privacy", web::put().to(crate::routes::api::friends::privacy))
        .route("/blocks/{username}", web::put().to(r::block))
        .route("/blocks/{username}", web::delete().to(r::unblock));
}

impl Application {
    /// Binds the listener (port 0 picks a free port) and builds the server.
    pub fn build(settings: WebSettings, stores: Stores) -> std::io::Result<Self> {
        let listener = TcpListener::bind(&settings.bind)?;
        Self::with_listener(listener, settings, stores)
    }

    /// Serves on an already bound listener (standalone mode binds every port before starting).
    pub fn with_listener(
        listener: TcpListener,
        settings: WebSettings,
        stores: Stores,
    ) -> std::io::Result<Self> {
        natter_runtime::metrics::install();
        let port = listener.local_addr()?.port();
        let session_key = Key::from(&settings.session_key.0);
        let cookie_secure = settings.cookie_secure();
        // Scripts only from web itself; WebSocket connections to the message host.
        let csp = format!(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' https: data:; connect-src 'self' {}; \
             frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
            origin_of(&settings.message_public_url)
        );
        let token = web::Data::new(InternalToken(settings.internal_token.clone()));
        let api_verifier = TokenVerifier::new();
        api_verifier.set_keys(settings.signer.jwks());
        let read_pushes = Arc::new(crate::rooms::reads::ReadPushes::default());
        let mut set = WorkerSet::default();
        set.add(
            "read-position pusher",
            crate::rooms::reads::push(
                Arc::clone(&read_pushes),
                Arc::clone(&stores.bus),
                settings.topic_prefix.clone(),
                settings.read_push_every,
            ),
        );
        let presence = crate::presence::PresenceClient::new(InternalClient::new(
            "presence",
            &settings.presence_url,
            settings.internal_token.clone(),
        ));
        set.add(
            "file janitor",
            crate::files::janitor::consume(
                Arc::clone(&stores.bus),
                stores.db.clone(),
                Arc::clone(&stores.files),
                settings.topic_prefix.clone(),
            ),
        );
        set.add(
            "search indexer",
            crate::search::indexer::consume(
                Arc::clone(&stores.bus),
                stores.db.clone(),
                settings.topic_prefix.clone(),
            ),
        );
        set.add(
            "unshared-file sweeper",
            crate::files::janitor::sweep(
                stores.db.clone(),
                Arc::clone(&stores.files),
                settings.files.unshared_ttl,
            ),
        );
        let push = settings
            .push
            .as_ref()
            .map(|push| PushPublic { public_key: push.public_key(), allow_http: push.allow_http });
        if let Some(push) = &settings.push {
            let notifier = crate::push::notifier::Notifier {
                db: stores.db.clone(),
                kv: Arc::clone(&stores.kv),
                presence: crate::presence::PresenceClient::new(InternalClient::new(
                    "presence",
                    &settings.presence_url,
                    settings.internal_token.clone(),
                )),
                channel: Arc::new(crate::push::sender::WebPush::new(stores.db.clone(), push)),
                collapse: push.collapse,
            };
            set.add(
                "notifier",
                crate::push::notifier::consume(
                    Arc::clone(&stores.bus),
                    notifier,
                    settings.topic_prefix.clone(),
                ),
            );
        }
        let workers = Arc::new(Workers::start(set));
        let file_limits = crate::files::upload::Limits {
            max_bytes: settings.files.max_bytes,
            allowed_types: settings.files.allowed_types.clone(),
            max_image_pixels: settings.files.max_image_pixels,
        };
        let state = web::Data::new(State {
            db: stores.db,
            history: stores.history,
            bus: stores.bus,
            topic_prefix: settings.topic_prefix,
            signer: settings.signer,
            message_public_url: settings.message_public_url,
            throttle: LoginThrottle::new(Arc::clone(&stores.kv), settings.throttle),
            kv: Arc::clone(&stores.kv),
            api_verifier,
            access_token_ttl: settings.access_token_ttl,
            refresh_token_ttl: settings.refresh_token_ttl,
            oauth: settings.oauth,
            public_url: settings.public_url,
            read_pushes,
            presence,
            files: stores.files,
            file_limits,
            session_ttl: settings.session_ttl,
            cookie_secure,
            workers: Arc::clone(&workers),
            push,
            ice: settings.ice,
        });
        let kv = stores.kv;
        let session_ttl = actix_web::cookie::time::Duration::seconds(
            i64::try_from(settings.session_ttl.as_secs()).unwrap_or(i64::MAX),
        );
        let server = HttpServer::new(move || {
            let sessions =
                SessionMiddleware::builder(KvSessionStore::new(Arc::clone(&kv)), session_key.clone())
                    .session_lifecycle(BrowserSession::default().state_ttl(session_ttl))
                    .cookie_name("natter_session".to_owned())
                    .cookie_secure(cookie_secure)
                    .cookie_http_only(true)
                    .cookie_same_site(SameSite::Lax)
                    .build();
            App::new()
                .wrap(from_fn(natter_http::trace_requests))
                .app_data(state.clone())
                .app_data(token.clone())
                .app_data(
                    web::FormConfig::default().limit(16 * 1024).error_handler(request_errors::form_error),
                )
                .app_data(web::PathConfig::default().error_handler(request_errors::path_error))
                .app_data(web::QueryConfig::default().error_handler(request_errors::query_error))
                .app_data(web::JsonConfig::default().limit(16 * 1024).error_handler(|e, _| {
                    natter_http::ApiError::bad_request(format!("invalid JSON body: {e}")).into()
                }))
                .route("/healthz", web::get().to(natter_http::healthz))
                .route("/readyz", web::get().to(routes::readyz))
                .route("/.well-known/jwks.json", web::get().to(routes::jwks))
                .service(
                    web::scope("/api/v1")
                        .route("/auth/login", web::post().to(routes::api::auth::api_login))
                        .route("/auth/refresh", web::post().to(routes::api::auth::api_refresh))
                        .route("/auth/logout", web::post().to(routes::api::auth::api_logout))
                        .route("/me", web::get().to(routes::api::me::api_me))
                        .route("/ws-token", web::get().to(routes::api::me::api_ws_token))
                        .route("/search", web::get().to(routes::api::search::search_messages))
                        .route("/calls/ice", web::get().to(routes::api::calls::ice_servers))
                        .route("/push/key", web::get().to(routes::api::push::key))
                        .route("/push/subscription", web::put().to(routes::api::push::subscribe))
                        .route("/push/subscription", web::delete().to(routes::api::push::unsubscribe))
                        .route("/rooms/{room}/notify", web::put().to(routes::api::push::set_notify))
                        .route("/openapi.json", web::get().to(routes::openapi_json))
                        .configure(room_api)
                        .default_service(web::to(request_errors::not_found)),
                )
                .service(
                    web::scope("/internal")
                        .wrap(from_fn(require_internal_token))
                        .route(
                            "/rooms/{room}/members/{member}",
                            web::get().to(routes::internal::rooms::room_access),
                        )
                        .route(
                            "/members/{member}/rooms",
                            web::get().to(routes::internal::rooms::member_rooms),
                        )
                        .route("/rooms/{room}/mentions", web::get().to(routes::internal::rooms::mentions))
                        .route(
                            "/rooms/{room}/whisper-targets/{member}",
                            web::get().to(routes::internal::rooms::whisper_target),
                        )
                        .route("/files/{file}/attachment", web::put().to(routes::internal_attach_file))
                        .route("/metrics", web::get().to(natter_http::metrics))
                        .route(
                            "/rooms/{room}/members/{member}/read",
                            web::put().to(routes::internal::rooms::mark_read),
                        )
                        .default_service(web::to(request_errors::not_found)),
                )
                .service(
                    web::scope("")
                        .wrap(from_fn(crate::devices::end_sessions_logged_out_elsewhere))
                        .wrap(sessions)
                        .wrap(from_fn(crate::remember::persist_remembered_sessions))
                        .wrap(from_fn(crate::login_redirect::come_back_after_login))
                        .wrap(
                            DefaultHeaders::new()
                                .add(("Content-Security-Policy", csp.as_str()))
                                .add(("X-Content-Type-Options", "nosniff"))
                                .add(("X-Frame-Options", "DENY"))
                                .add(("Referrer-Policy", "same-origin")),
                        )
                        .route("/", web::get().to(routes::pages::accounts::home))
                        .route("/signup", web::post().to(routes::pages::accounts::sign_up))
                        .route("/login", web::post().to(routes::pages::accounts::log_in))
                        .route("/logout", web::post().to(routes::pages::accounts::log_out))
                        .route("/ws-token", web::get().to(routes::ws_token))
                        .route("/api-token", web::get().to(routes::api_token))
                        .route("/rooms", web::get().to(routes::pages::rooms::rooms_page))
                        .route("/rooms", web::post().to(routes::pages::rooms::create_room))
                        .route("/rooms/{room}", web::get().to(routes::pages::room::room_page))
                        .route("/rooms/{room}/join", web::post().to(routes::pages::rooms::join_room))
                        .route("/rooms/{room}/leave", web::post().to(routes::pages::room::leave_room))
                        .route("/rooms/{room}/read", web::post().to(routes::pages::room::mark_read))
                        .route("/rooms/{room}/files", web::post().to(routes::page_upload))
                        .route("/files/{file}", web::get().to(routes::file_content))
                        .route("/files/{file}/thumbnail", web::get().to(routes::file_thumbnail))
                        .route("/rooms/{room}/history", web::get().to(routes::pages::room::history_page))
                        .route("/rooms/{room}/manage", web::get().to(routes::pages::manage::manage_page))
                        .route(
                            "/rooms/{room}/manage/{action}",
                            web::post().to(routes::pages::manage::manage_action),
                        )
                        .route("/direct", web::post().to(routes::pages::rooms::start_direct))
                        .route("/invites/accept", web::post().to(routes::pages::rooms::accept_invite))
                        .route("/blocks", web::post().to(routes::pages::rooms::set_block))
                        .route("/static/{file}", web::get().to(routes::pages::static_files::static_file))
                        .route("/sw.js", web::get().to(routes::pages::static_files::service_worker))
                        .route("/settings", web::get().to(routes::pages::settings::settings_page))
                        .route("/friends", web::get().to(routes::pages::friends::friends_page))
                        .route("/friends", web::post().to(routes::pages::friends::friends_action))
                        .route("/search", web::get().to(routes::pages::search::search_page))
                        .route("/settings/profile", web::post().to(routes::pages::settings::update_profile))
                        .route("/settings/avatar", web::post().to(routes::pages::avatars::upload_avatar))
                        .route(
                            "/settings/log-out-others",
                            web::post().to(routes::pages::settings::log_out_others),
                        )
                        .route("/avatars/{name}", web::get().to(routes::pages::avatars::avatar))
                        .route("/oauth/{provider}/login", web::get().to(crate::oauth::oauth_login))
                        .route("/oauth/{provider}/link", web::post().to(crate::oauth::oauth_link))
                        .route("/oauth/{provider}/callback", web::get().to(crate::oauth::oauth_callback))
                        .default_service(web::to(request_errors::not_found)),
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
    /// worker (the read-position pusher, the file janitor) ends, so the process exits non-zero and is
    /// restarted.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        tokio::select! {
            result = self.server => result,
            () = self.workers.ended() => Err(self.workers.exit_error()),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn origin_of_strips_the_path() {
        assert_eq!(super::origin_of("ws://127.0.0.1:8081"), "ws://127.0.0.1:8081");
        assert_eq!(super::origin_of("wss://chat.example.com/socket"), "wss://chat.example.com");
    }
}
