use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// Failures of the relational store.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// A unique value (a username, a membership) already exists.
    #[error("already exists")]
    Conflict,
    /// The database cannot be reached or the pool is exhausted; the caller may retry.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or a broken schema.
    #[error("database error: {0}")]
    Other(String),
}

impl From<DieselError> for DbError {
    fn from(e: DieselError) -> Self {
        match e {
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => DbError::Conflict,
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                DbError::Unavailable(info.message().to_owned())
            }
            other => DbError::Other(other.to_string()),
        }
    }
}
