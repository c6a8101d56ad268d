//! Requests run to completion even when the client goes away.
//!
//! Actix drops a request's future when its connection closes. A handler dropped between two writes
//! would leave half an operation behind (a room created but not announced, say), and the embedded
//! SQLite adapter's queries, which run on blocking threads, cannot be abandoned on a worker's
//! single-threaded runtime at all. So each request runs as its own task: a closed connection detaches
//! it, and it finishes with no one to answer.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

/// Middleware: `App::new().wrap(actix_web::middleware::from_fn(natter_http::run_to_completion))`.
pub async fn run_to_completion<B: MessageBody + 'static>(
    request: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    actix_web::rt::spawn(next.call(request))
        .await
        .map_err(|e| actix_web::error::ErrorInternalServerError(format!("request task failed: {e}")))?
}
