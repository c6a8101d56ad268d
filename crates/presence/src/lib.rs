//! The presence service: message pods report connections opened and closed; anyone with service
//! credentials asks who is online. A member is online while they hold at least one connection on any
//! pod, so closing one device leaves the others online.

mod app;
mod bootstrap;
mod routes;
pub mod settings;
pub mod store;

pub use app::Application;
pub use bootstrap::serve_from_env;
pub use settings::PresenceSettings;
