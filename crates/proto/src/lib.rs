//! Natter's wire contract, shared by every service and by clients.
//!
//! This crate depends on serde and little else on purpose: clients and tools can use it without pulling
//! in a database driver, a broker client or a web framework. CI checks that with `cargo tree -i`.
//! The same contract is written down for people in `proto/README.md`, whose JSON examples are loaded by
//! this crate's tests so the document cannot drift from the code.

pub mod calls;
pub mod events;
pub mod frames;
pub mod friends;
pub mod http;
pub mod ids;
pub mod reactions;
pub mod reports;
pub mod rooms;
pub mod token;
pub mod topics;

pub use ids::{MemberId, RoomId};
