//! The web service: sign-up and form login with a session cookie, community rooms, server-rendered
//! room and history pages, and short-lived tokens that let a page open a WebSocket on the message host
//! (another origin). Message pods verify those tokens with the keys web publishes at
//! `/.well-known/jwks.json`, and ask web's internal API whether a member may use a room.

mod app;
mod auth;
mod bootstrap;
mod calls;
mod devices;
mod error;
mod extract;
pub mod files;
mod friends;
mod login;
mod login_redirect;
pub mod oauth;
mod page_format;
mod presence;
mod push;
mod remember;
mod reports;
mod request_errors;
mod rooms;
mod routes;
mod search;
mod sessions;
pub mod settings;
mod shared_consumer;
mod templates;
mod throttle;

pub use app::{Application, Stores};
pub use bootstrap::{migrate_from_env, search_backfill_from_env, serve_from_env};
pub use calls::ice::IceSettings;
pub use files::{FileSettings, StoreSettings};
pub use push::PushSettings;
pub use routes::openapi::document as openapi_document;
pub use settings::{SessionKey, WebSecrets, WebSettings};
pub use throttle::ThrottleSettings;
