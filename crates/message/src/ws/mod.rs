//! `GET /ws`: the WebSocket endpoint.
//!
//! The token travels in the `Sec-WebSocket-Protocol` header (browsers offer `natter.v1` and
//! `natter.token.<jwt>`; the server answers `natter.v1`) or, for other clients, in
//! `Authorization: Bearer`. Not in the URL, where proxies and access logs would keep it.
//!
//! After the upgrade, `connection.rs` runs the connection; `request.rs` reads each client frame into
//! a request once, `dispatch.rs` hands it to its handler (one file per request: `subscribe.rs`,
//! `publish.rs`, `change.rs` for edits and deletions, `mark_read.rs`, `typing.rs`), and a refused
//! request is answered with one shape of error (`refusal.rs`).

mod admission;
mod calls;
mod change;
mod connection;
mod ctx;
mod dispatch;
mod idempotency;
mod mark_read;
mod mentions;
mod publish;
mod publish_order;
mod refusal;
mod request;
mod resume;
mod rooms;
mod subscribe;
mod typing;
mod whisper;

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use natter_http::ApiError;
use natter_proto::token::{WS_SUBPROTOCOL, WS_TOKEN_SUBPROTOCOL_PREFIX};

use crate::node::Node;

fn token_from(req: &HttpRequest) -> Option<String> {
    let from_protocols = req
        .headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| p.trim().strip_prefix(WS_TOKEN_SUBPROTOCOL_PREFIX).map(str::to_owned));
    from_protocols.or_else(|| {
        req.headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned)
    })
}

/// Browsers always send `Origin`; a page on an origin we do not serve must not use a member's token.
/// Clients that are not browsers send none and are judged by their token alone.
fn check_origin(req: &HttpRequest, allowed: &[String]) -> Result<(), ApiError> {
    match req.headers().get(header::ORIGIN).map(|o| o.to_str().unwrap_or("")) {
        None => Ok(()),
        Some(origin) if allowed.iter().any(|a| a == origin) => Ok(()),
        Some(_) => Err(ApiError::forbidden("this origin may not open connections")),
    }
}

pub(crate) async fn connect(
    req: HttpRequest,
    body: web::Payload,
    node: web::Data<Arc<Node>>,
) -> Result<HttpResponse, actix_web::Error> {
    if node.drain.is_started() {
        return Err(ApiError::unavailable("draining: this pod is shutting down").into());
    }
    check_origin(&req, &node.settings.allowed_origins)?;
    let token = token_from(&req).ok_or_else(|| {
        ApiError::unauthorized(
            "no token: offer subprotocol natter.token.<token> or send Authorization: Bearer <token>",
        )
    })?;
    let claims =
        node.upstream.keys.verify(&token).await.map_err(|e| ApiError::unauthorized(e.to_string()))?;
    let member = claims.member_id().ok_or_else(|| ApiError::unauthorized("the token names no member"))?;
    let (response, session, stream) = actix_ws::handle_with_protocols(&req, body, &[WS_SUBPROTOCOL])?;
    let connection = connection::run(Arc::clone(node.get_ref()), member, claims.name, session, stream);
    node.drain.spawn_connection(connection);
    Ok(response)
}
