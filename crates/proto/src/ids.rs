//! Identifiers that cross service boundaries.

/// A member (user account). Assigned by the relational store.
pub type MemberId = i64;

/// A room (community or direct). Assigned by the relational store.
pub type RoomId = i64;
