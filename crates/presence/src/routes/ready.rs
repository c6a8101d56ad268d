use actix_web::{HttpResponse, web};
use natter_http::ApiError;

use crate::app::State;

/// `GET /readyz`: the sweeper and publisher run and the presence store answers.
#[utoipa::path(get, path = "/readyz", responses((status = 200, description = "OK", content_type = "text/plain"), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), tag = "operations")]
pub(crate) async fn readyz(state: web::Data<State>) -> Result<HttpResponse, ApiError> {
    state.workers.check().map_err(ApiError::unavailable)?;
    state.store.ping().await.map_err(ApiError::unavailable)?;
    Ok(HttpResponse::Ok().content_type("text/plain").body("ready"))
}
