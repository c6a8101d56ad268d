use actix_web::{HttpResponse, web};
use natter_http::ApiError;
use natter_proto::MemberId;
use natter_proto::http::ConnectionOpened;

use crate::app::State;

const MAX_ID_LEN: usize = 128;

fn check_connection_id(id: &str) -> Result<(), ApiError> {
    if id.is_empty() || id.len() > MAX_ID_LEN {
        return Err(ApiError::bad_request(format!("connection id must be 1..={MAX_ID_LEN} bytes")));
    }
    Ok(())
}

/// `PUT /internal/members/{member}/connections/{connection}`: a message pod opened a connection.
pub(crate) async fn open_connection(
    state: web::Data<State>,
    path: web::Path<(MemberId, String)>,
    body: web::Json<ConnectionOpened>,
) -> Result<HttpResponse, ApiError> {
    let (member, connection) = path.into_inner();
    check_connection_id(&connection)?;
    if body.member_id != member {
        return Err(ApiError::bad_request("member_id in the body differs from the path"));
    }
    state.store.connection_opened(member, &connection, &body.pod_id).await.map_err(ApiError::unavailable)?;
    tracing::debug!(member.id = member, pod.id = %body.pod_id, "connection opened");
    Ok(HttpResponse::NoContent().finish())
}

/// `DELETE /internal/members/{member}/connections/{connection}`: a message pod closed a connection.
pub(crate) async fn close_connection(
    state: web::Data<State>,
    path: web::Path<(MemberId, String)>,
) -> Result<HttpResponse, ApiError> {
    let (member, connection) = path.into_inner();
    check_connection_id(&connection)?;
    state.store.connection_closed(member, &connection).await.map_err(ApiError::unavailable)?;
    tracing::debug!(member.id = member, "connection closed");
    Ok(HttpResponse::NoContent().finish())
}
