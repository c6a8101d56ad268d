//! What a room operation can fail with, and how the API and the pages show it.

use actix_web::http::StatusCode;
use natter_db::{DbError, Refusal};
use natter_http::ApiError;

use crate::error::PageError;

#[derive(Debug, thiserror::Error)]
pub(crate) enum RoomError {
    /// No such room, or one the caller may not know about (private rooms answer 404 to outsiders).
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

impl RoomError {
    pub(crate) fn no_room() -> Self {
        RoomError::NotFound("No such room.".to_owned())
    }

    pub(crate) fn forbidden(detail: impl Into<String>) -> Self {
        RoomError::Forbidden(detail.into())
    }

    pub(crate) fn bad_request(detail: impl Into<String>) -> Self {
        RoomError::BadRequest(detail.into())
    }

    pub(crate) fn status(&self) -> StatusCode {
        match self {
            RoomError::NotFound(_) => StatusCode::NOT_FOUND,
            RoomError::Forbidden(_) => StatusCode::FORBIDDEN,
            RoomError::Conflict(_) => StatusCode::CONFLICT,
            RoomError::BadRequest(_) => StatusCode::BAD_REQUEST,
            RoomError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            RoomError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

fn until_text(until: Option<chrono::NaiveDateTime>) -> String {
    until.map_or_else(|| "for good".to_owned(), |u| format!("until {} UTC", u.format("%Y-%m-%d %H:%M")))
}

impl From<DbError> for RoomError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => RoomError::no_room(),
            DbError::Conflict => RoomError::Conflict("That already exists.".to_owned()),
            DbError::Refused(refusal) => match refusal {
                Refusal::RoomFull => RoomError::Conflict("The room is full.".to_owned()),
                Refusal::Banned { until } => {
                    RoomError::forbidden(format!("You are banned from this room {}.", until_text(until)))
                }
                Refusal::InvitationRequired => {
                    RoomError::forbidden("This room needs an invitation or an invite link.")
                }
                Refusal::InviteInvalid => RoomError::NotFound(
                    "This invite link is unknown, expired, used up or revoked.".to_owned(),
                ),
                Refusal::Archived => RoomError::Conflict("The room is archived (read-only).".to_owned()),
                Refusal::DirectRoom => {
                    RoomError::forbidden("Direct rooms are entered by starting a chat with the member.")
                }
                Refusal::NotAMember => RoomError::NotFound("That member is not in this room.".to_owned()),
            },
            DbError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "database unavailable");
                RoomError::Unavailable("The database is unavailable; try again soon.".to_owned())
            }
            DbError::Other(cause) => {
                tracing::error!(error = %cause, "database error");
                RoomError::Internal("Something went wrong on our side.".to_owned())
            }
        }
    }
}

impl From<RoomError> for ApiError {
    fn from(e: RoomError) -> Self {
        ApiError::new(e.status(), e.to_string())
    }
}

impl From<RoomError> for PageError {
    fn from(e: RoomError) -> Self {
        PageError::Status(e.status(), e.to_string())
    }
}
