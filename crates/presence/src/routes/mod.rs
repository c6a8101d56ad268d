//! HTTP endpoints of the presence service (see `proto/openapi.json`).

mod connections;
mod query;
mod ready;

pub(crate) use connections::{close_connection, open_connection};
pub(crate) use query::presence;
pub(crate) use ready::readyz;
