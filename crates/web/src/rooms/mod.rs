//! Rooms: the operations behind both the REST API (`routes/api/rooms.rs`) and the pages, so the two
//! cannot disagree about who may do what. See `context.rs` for the rules.

mod access;
mod context;
pub(crate) mod direct;
mod error;
mod events;
pub(crate) mod joining;
pub(crate) mod list;
pub(crate) mod manage;
pub(crate) mod moderation;
pub(crate) mod reads;
mod rules;
#[cfg(test)]
mod tests;
pub(crate) mod views;

pub(crate) use access::room_access;
pub(crate) use context::RoomContext;
pub(crate) use error::RoomError;
pub(crate) use rules::Rules;
