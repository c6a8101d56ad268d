//! Web Push for a member holding an access token: the key to subscribe with, the browser's
//! subscription, and what each room notifies of (see `crate::push`).

use actix_web::{HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use natter_db::{NotifyLevel, push};
use natter_http::ApiError;
use natter_proto::http::{NotifyChoice, PushEndpoint, PushKey, PushSubscriptionBody};

use crate::app::{PushPublic, State};
use crate::extract::{ApiCaller, ApiRoom};

/// Longest endpoint URL accepted.
const MAX_ENDPOINT: usize = 2048;

fn configured(state: &State) -> Result<&PushPublic, ApiError> {
    state
        .push
        .as_ref()
        .ok_or_else(|| ApiError::not_found("push notifications are not configured on this server"))
}

/// `GET /api/v1/push/key`.
#[utoipa::path(get, path = "/api/v1/push/key", responses((status = 200, description = "OK", body = natter_proto::http::PushKey), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "push")]
pub(crate) async fn key(state: web::Data<State>, ApiCaller(_): ApiCaller) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(PushKey { public_key: configured(&state)?.public_key.clone() }))
}

/// `PUT /api/v1/push/subscription`: keeps this browser's subscription for the caller (the same
/// endpoint again replaces it).
#[utoipa::path(put, path = "/api/v1/push/subscription", request_body = natter_proto::http::PushSubscriptionBody, responses((status = 204, description = "kept"), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "push")]
pub(crate) async fn subscribe(
    state: web::Data<State>,
    body: web::Json<PushSubscriptionBody>,
    ApiCaller(member): ApiCaller,
) -> Result<HttpResponse, ApiError> {
    let push = configured(&state)?;
    check_endpoint(&body.endpoint, push.allow_http)?;
    let p256dh = decoded(&body.keys.p256dh, "keys.p256dh")?;
    if p256::PublicKey::from_sec1_bytes(&p256dh).is_err() {
        return Err(ApiError::bad_request("keys.p256dh is not a P-256 public key"));
    }
    if decoded(&body.keys.auth, "keys.auth")?.len() != 16 {
        return Err(ApiError::bad_request("keys.auth is not 16 bytes"));
    }
    let mut conn = state.db.conn().await.map_err(ApiError::unavailable)?;
    push::subscribe(&mut conn, member.id, &body.endpoint, &body.keys.p256dh, &body.keys.auth)
        .await
        .map_err(ApiError::unavailable)?;
    Ok(HttpResponse::NoContent().finish())
}

/// `DELETE /api/v1/push/subscription`: forgets this browser's subscription for the caller.
#[utoipa::path(delete, path = "/api/v1/push/subscription", request_body = natter_proto::http::PushEndpoint, responses((status = 204, description = "forgotten (or never known)"), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "push")]
pub(crate) async fn unsubscribe(
    state: web::Data<State>,
    body: web::Json<PushEndpoint>,
    ApiCaller(member): ApiCaller,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.db.conn().await.map_err(ApiError::unavailable)?;
    push::unsubscribe(&mut conn, member.id, &body.endpoint).await.map_err(ApiError::unavailable)?;
    Ok(HttpResponse::NoContent().finish())
}

/// `PUT /api/v1/rooms/{room}/notify`: what in the room notifies the caller while away.
#[utoipa::path(put, path = "/api/v1/rooms/{room}/notify", params(("room" = i64, Path, description = "the room id")), request_body = natter_proto::http::NotifyChoice, responses((status = 204, description = "set"), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("accessToken" = [])), tag = "push")]
pub(crate) async fn set_notify(
    state: web::Data<State>,
    body: web::Json<NotifyChoice>,
    ctx: ApiRoom,
) -> Result<HttpResponse, ApiError> {
    ctx.require_member()?;
    let level = NotifyLevel::parse(&body.level)
        .ok_or_else(|| ApiError::bad_request("level is all, mentions or nothing"))?;
    let mut conn = state.db.conn().await.map_err(ApiError::unavailable)?;
    push::set_level(&mut conn, ctx.room.id, ctx.caller, level).await.map_err(ApiError::unavailable)?;
    Ok(HttpResponse::NoContent().finish())
}

/// An endpoint the server will send to: an absolute `https:` URL (`http:` only when allowed).
fn check_endpoint(endpoint: &str, allow_http: bool) -> Result<(), ApiError> {
    let bad = |why: &str| Err(ApiError::bad_request(format!("endpoint {why}")));
    if endpoint.len() > MAX_ENDPOINT {
        return bad("is too long");
    }
    let Ok(url) = reqwest::Url::parse(endpoint) else { return bad("is not a URL") };
    match url.scheme() {
        "https" => {}
        "http" if allow_http => {}
        _ => return bad("must be an https: URL"),
    }
    if url.host_str().is_none_or(str::is_empty) || !url.username().is_empty() || url.password().is_some() {
        return bad("must name a host, without credentials");
    }
    Ok(())
}

fn decoded(value: &str, what: &str) -> Result<Vec<u8>, ApiError> {
    URL_SAFE_NO_PAD
        .decode(value.trim_end_matches('='))
        .map_err(|_| ApiError::bad_request(format!("{what} is not base64url")))
}

#[cfg(test)]
mod tests {
    use super::check_endpoint;

    #[test]
    fn endpoints_are_https_urls_unless_http_is_allowed() {
        assert!(check_endpoint("https://fcm.googleapis.com/fcm/send/abc", false).is_ok());
        assert!(check_endpoint("http://127.0.0.1:9000/push/1", false).is_err());
        assert!(check_endpoint("http://127.0.0.1:9000/push/1", true).is_ok());
        for bad in
            ["file:///etc/passwd", "not a url", "https://user:pw@push.example/x", "javascript:alert(1)"]
        {
            assert!(check_endpoint(bad, true).is_err(), "{bad}");
        }
        assert!(check_endpoint(&format!("https://push.example/{}", "a".repeat(3000)), false).is_err());
    }
}
