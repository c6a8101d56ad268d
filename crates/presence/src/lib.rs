//! The presence service: message pods report their connections in batched heartbeats that renew
//! their leases; anyone with service credentials asks who is online, away or offline (with "last
//! seen"), who is looking at a room, and who is in a room's call. A member is online while they hold at least one connection
//! on a live pod, so closing one device leaves the others online and a crashed pod's members go
//! offline when its lease ends. See `store/mod.rs` for the model.

mod app;
mod bootstrap;
mod calls;
mod push;
mod routes;
pub mod settings;
pub mod store;
mod sweeper;

pub use app::Application;
pub use bootstrap::serve_from_env;
pub use routes::openapi::document as openapi_document;
pub use settings::PresenceSettings;
