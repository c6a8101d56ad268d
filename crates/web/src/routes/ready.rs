use actix_web::{HttpResponse, web};
use natter_http::ApiError;

use crate::app::State;

/// `GET /readyz`: the background workers run; the relational store, the history store, Redis and the broker answer.
#[utoipa::path(get, path = "/readyz", responses((status = 200, description = "OK"), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), tag = "operations")]
pub(crate) async fn readyz(state: web::Data<State>) -> Result<HttpResponse, ApiError> {
    state.workers.check().map_err(ApiError::unavailable)?;
    state.db.ping().await.map_err(ApiError::unavailable)?;
    state.history.ping().await.map_err(ApiError::unavailable)?;
    state.throttle.ping().await.map_err(ApiError::unavailable)?;
    state.bus.ping().await.map_err(ApiError::unavailable)?;
    Ok(HttpResponse::Ok().content_type("text/plain").body("ready"))
}
