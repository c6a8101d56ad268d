//! Natter's relational store: members, rooms and memberships, on PostgreSQL (production) or embedded
//! SQLite (standalone mode).
//!
//! [`Db`] is the store the services hold; [`Db::conn`] gives a [`Conn`] to either backend. Queries
//! are plain async functions by resource ([`members`], [`rooms`], [`memberships`], [`invites`],
//! [`direct`], [`audit`], [`identities`], [`refresh_tokens`], [`files`]) taking `&mut Conn` first, so
//! a use case composes several of them in one [`Conn::transaction`]. See [`connection`] for why, and
//! for the one rule: never acquire a second connection while holding one. Both backends pass the same
//! contract tests (`tests/*_contract.rs`).

pub mod audit;
pub mod connection;
pub mod direct;
mod error;
pub mod files;
pub mod friends;
pub mod identities;
pub mod invites;
pub mod members;
pub mod memberships;
pub mod models;
mod postgres;
pub mod push;
pub mod refresh_tokens;
pub mod reports;
pub mod rooms;
pub mod schema;
pub mod search;
pub mod search_terms;
mod sqlite;

pub use connection::{Conn, Db};
pub use error::{DbError, Refusal};
pub use files::Attached;
pub use models::{
    AuditRecord, InviteLinkRecord, JoinBy, Joined, Member, MemberSummary, Membership, NewMember,
    NewRefreshToken, NewRoom, NotifyLevel, PushSubscription, Role, Room, RoomChanges, RoomFile, RoomKind,
    Rotation, Visibility, direct_key, username_key,
};
