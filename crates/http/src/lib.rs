//! HTTP plumbing shared by Natter's services.

mod client;
mod error;
mod internal_auth;
pub mod openapi;
mod request_trace;

pub use client::{InternalCallError, InternalClient};
pub use error::ApiError;
pub use internal_auth::{InternalToken, require_internal_token};
pub use request_trace::trace_requests;

use actix_web::HttpResponse;

/// `GET /internal/metrics` (service credentials required, like every internal endpoint): the
/// process's Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/internal/metrics", responses((status = 200, description = "Prometheus text exposition format", content_type = "text/plain"), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody)), security(("internal" = [])), tag = "operations")]
pub async fn metrics() -> HttpResponse {
    let rendered = natter_runtime::metrics::install().render();
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(rendered)
}

/// `GET /healthz`: the process is alive and serving HTTP.
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "alive", content_type = "text/plain")), tag = "operations")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}
