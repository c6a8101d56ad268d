//! Server-rendered pages (askama; HTML output is escaped by default) and the page error type.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use askama_web::WebTemplate;

/// One room in a list.
pub(crate) struct RoomItem {
    pub id: i64,
    pub name: String,
}

/// One message in the history page.
pub(crate) struct HistoryItem {
    pub position: i64,
    pub sender: String,
    pub sent_at: String,
    pub text: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub(crate) struct HomePage {
    pub error: Option<String>,
    pub username: String,
    pub csrf: String,
    /// Configured login providers.
    pub providers: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "settings.html")]
pub(crate) struct SettingsPage {
    pub csrf: String,
    pub member_name: String,
    pub username: String,
    pub display_name: String,
    pub avatar_url: String,
    /// Providers linked to the member.
    pub linked: Vec<String>,
    /// Configured providers not linked yet.
    pub linkable: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "rooms.html")]
pub(crate) struct RoomsPage {
    pub csrf: String,
    pub member_name: String,
    pub mine: Vec<RoomItem>,
    pub joinable: Vec<RoomItem>,
}

#[derive(Template, WebTemplate)]
#[template(path = "room.html")]
pub(crate) struct RoomPage {
    pub csrf: String,
    pub member_name: String,
    pub room: RoomItem,
    pub ws_url: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "history.html")]
pub(crate) struct HistoryPage {
    pub csrf: String,
    pub member_name: String,
    pub room: RoomItem,
    pub messages: Vec<HistoryItem>,
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    detail: &'a str,
}

/// What can go wrong on a page.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PageError {
    /// Not logged in: send them to the login page.
    #[error("login required")]
    LoginRequired,
    #[error("{1}")]
    Status(StatusCode, String),
}

impl PageError {
    pub(crate) fn forbidden(detail: impl Into<String>) -> Self {
        Self::Status(StatusCode::FORBIDDEN, detail.into())
    }
    pub(crate) fn not_found(detail: impl Into<String>) -> Self {
        Self::Status(StatusCode::NOT_FOUND, detail.into())
    }
    pub(crate) fn unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::warn!(error = %cause, "dependency unavailable");
        Self::Status(
            StatusCode::SERVICE_UNAVAILABLE,
            "A service this page needs is unavailable; try again soon.".into(),
        )
    }
    pub(crate) fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::Status(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on our side.".into())
    }
}

impl From<natter_db::DbError> for PageError {
    fn from(e: natter_db::DbError) -> Self {
        match e {
            natter_db::DbError::Unavailable(_) => Self::unavailable(e),
            _ => Self::internal(e),
        }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::LoginRequired => StatusCode::SEE_OTHER,
            PageError::Status(status, _) => *status,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            PageError::LoginRequired => HttpResponse::SeeOther().insert_header(("Location", "/")).finish(),
            PageError::Status(status, detail) => {
                let body = ErrorPage { status: status.as_u16(), detail }
                    .render()
                    .unwrap_or_else(|_| "error".to_owned());
                HttpResponse::build(*status).content_type("text/html; charset=utf-8").body(body)
            }
        }
    }
}

/// A 303 redirect after a successful form post.
pub(crate) fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header(("Location", location)).finish()
}
