//! One error shape on the wire for every HTTP API: `{"errors":[{"detail":"..."}]}`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use natter_proto::http::ErrorBody;

/// An error answer. A 5xx logs its cause once and tells the client nothing internal.
#[derive(Debug, thiserror::Error)]
#[error("{status}: {detail}")]
pub struct ApiError {
    status: StatusCode,
    detail: String,
    retry_after_ms: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self { status, detail: detail.into(), retry_after_ms: None }
    }
    /// Not there yet but on its way: 503 saying when to ask again.
    pub fn not_yet(detail: impl Into<String>, retry_after: std::time::Duration) -> Self {
        let retry_after_ms = u64::try_from(retry_after.as_millis()).unwrap_or(u64::MAX);
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            detail: detail.into(),
            retry_after_ms: Some(retry_after_ms),
        }
    }
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail)
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, detail)
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, detail)
    }
    /// A dependency is down: 503, cause logged.
    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::warn!(error = %cause, "dependency unavailable");
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "a service this request needs is unavailable; retry later")
    }
    /// A bug: 500, cause logged.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }
    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if let Some(ms) = self.retry_after_ms {
            response.insert_header(("Retry-After", ms.div_ceil(1000).to_string()));
        }
        response.json(ErrorBody { retry_after_ms: self.retry_after_ms, ..ErrorBody::new(&self.detail) })
    }
}
