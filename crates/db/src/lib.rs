//! Natter's relational store: members, rooms and memberships.
//!
//! [`Directory`] is the interface the web service uses. [`PgDirectory`] is the production adapter
//! (PostgreSQL through diesel-async and a deadpool pool); [`SqliteDirectory`] is the embedded one used
//! by standalone mode. Both pass the same contract tests (`tests/directory_contract.rs`).

mod audit;
mod direct;
mod directory;
mod error;
mod files;
mod identities;
mod invites;
mod membership;
pub mod models;
mod postgres;
mod queries;
mod refresh_tokens;
mod rooms;
pub mod schema;
mod sqlite;

pub use audit::Audit;
pub use direct::DirectChats;
pub use directory::Directory;
pub use error::{DbError, Refusal};
pub use files::{Attached, Files};
pub use identities::Identities;
pub use invites::Invites;
pub use membership::Memberships;
pub use models::{
    AuditRecord, InviteLinkRecord, JoinBy, Joined, Member, MemberSummary, Membership, NewMember,
    NewRefreshToken, NewRoom, Role, Room, RoomChanges, RoomFile, RoomKind, Rotation, Visibility, direct_key,
    username_key,
};
pub use postgres::PgDirectory;
pub use refresh_tokens::RefreshTokens;
pub use rooms::Rooms;
pub use sqlite::SqliteDirectory;
