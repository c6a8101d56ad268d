//! The message service: the WebSocket host.
//!
//! A client connects with a token from web, subscribes to rooms and publishes. Publishing goes to the
//! bus (keyed by room, so a room keeps one order) and is acknowledged once the broker has stored it.
//! Every pod reads every room event from the bus (fan-out, no shared consumer group) and pushes it to
//! its own subscribers. One consumer group shared by all pods writes history, idempotently.
//!
//! Whether a member may read or post in a room is web's answer, cached briefly. Web announces every
//! membership change on the bus; each pod drops the cached answers concerned and stops delivering a
//! room to members who lost it.

mod app;
mod bootstrap;
mod consumers;
mod delivery_lag;
mod hub;
mod node;
mod outbox;
mod pending_acks;
mod rate_limit;
mod seats;
pub mod settings;
mod upstream;
mod writers;
mod ws;

pub use app::Application;
pub use bootstrap::serve_from_env;
pub use node::Backends;
pub use settings::MessageSettings;
