//! Natter's relational store: members, rooms and memberships.
//!
//! [`Directory`] is the interface the web service uses. [`PgDirectory`] is the production adapter
//! (PostgreSQL through diesel-async and a deadpool pool); [`SqliteDirectory`] is the embedded one used
//! by standalone mode. Both pass the same contract tests (`tests/directory_contract.rs`).

mod directory;
mod error;
mod identities;
pub mod models;
mod postgres;
mod queries;
mod refresh_tokens;
pub mod schema;
mod sqlite;

pub use directory::Directory;
pub use error::DbError;
pub use identities::Identities;
pub use models::{Member, NewMember, NewRefreshToken, Role, Room, RoomKind, Rotation, username_key};
pub use postgres::PgDirectory;
pub use refresh_tokens::RefreshTokens;
pub use sqlite::SqliteDirectory;
