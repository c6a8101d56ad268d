//! HTTP endpoints of the presence service (see `proto/openapi.json`).

mod connections;
pub(crate) mod openapi;
mod query;
mod ready;

pub(crate) use connections::heartbeat;
pub(crate) use query::{presence, room_call, room_present};
pub(crate) use ready::readyz;
