use chrono::NaiveDateTime;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// Failures of the relational store.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The row (a room, a member) does not exist.
    #[error("not found")]
    NotFound,
    /// A unique value (a username, a membership) already exists.
    #[error("already exists")]
    Conflict,
    /// The database cannot be reached or the pool is exhausted; the caller may retry.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A rule of the store refused the change (nothing was written).
    #[error("refused: {0:?}")]
    Refused(Refusal),
    /// Anything else: a bug or a broken schema.
    #[error("database error: {0}")]
    Other(String),
}

/// Why a room operation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The room holds as many members as its capacity allows.
    RoomFull,
    /// The member is banned from the room (until the given time, or forever).
    Banned { until: Option<NaiveDateTime> },
    /// The room needs an invitation or an invite link.
    InvitationRequired,
    /// The invite link is unknown, expired, used up or revoked.
    InviteInvalid,
    /// The room is archived (read-only).
    Archived,
    /// Direct rooms are joined by starting a chat, not by joining.
    DirectRoom,
    /// The member concerned is not in the room.
    NotAMember,
}

impl From<DieselError> for DbError {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => DbError::Conflict,
            DieselError::NotFound => DbError::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                DbError::Unavailable(info.message().to_owned())
            }
            other => DbError::Other(other.to_string()),
        }
    }
}
