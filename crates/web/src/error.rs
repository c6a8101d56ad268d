//! What can go wrong on a page, and the styled error page that says so. (The API's errors are
//! `natter_http::ApiError`; `crate::request_errors` picks between the two for requests no handler sees.)

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'static str,
    detail: &'a str,
}

/// The heading of an error page.
fn error_title(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "That did not work",
        403 => "You cannot go there",
        404 => "Nothing here",
        409 => "That clashes with something",
        413 => "That is too large",
        429 => "Slow down a little",
        503 => "Back in a moment",
        _ if status.is_server_error() => "Something went wrong",
        _ => "That did not work",
    }
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
            PageError::LoginRequired => HttpResponse::SeeOther()
                .insert_header(("Location", "/"))
                .insert_header((crate::login_redirect::MARKER, "1"))
                .finish(),
            PageError::Status(status, detail) => {
                let body = ErrorPage { status: status.as_u16(), title: error_title(*status), detail }
                    .render()
                    .unwrap_or_else(|_| "error".to_owned());
                HttpResponse::build(*status).content_type("text/html; charset=utf-8").body(body)
            }
        }
    }
}
