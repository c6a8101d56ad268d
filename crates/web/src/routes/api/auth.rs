//! REST login for API clients: a short-lived access token (EdDSA JWT, audience `natter-api`) and an
//! opaque refresh token, stored only as a SHA-256, rotated on every use; presenting a used refresh
//! token again revokes its whole family (the login), because one of the two holders is a thief.

use actix_web::http::header::RETRY_AFTER;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use natter_db::{Member, NewRefreshToken, Rotation, members, refresh_tokens};
use natter_http::ApiError;
use natter_proto::http::{ErrorBody, LoginRequest, RefreshRequest, TokenPair};
use natter_proto::token::API_TOKEN_AUDIENCE;

use crate::app::State;
use crate::login::{self, LoginFailure};
use crate::sessions::sha256_hex;

fn new_refresh_token() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(ApiError::internal)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

fn refresh_expiry(state: &State) -> chrono::NaiveDateTime {
    let ttl = chrono::Duration::from_std(state.refresh_token_ttl).unwrap_or(chrono::Duration::days(30));
    chrono::Utc::now().naive_utc() + ttl
}

fn pair(state: &State, member: &Member, refresh_token: String) -> TokenPair {
    TokenPair {
        access_token: state.signer.issue_for(
            API_TOKEN_AUDIENCE,
            state.access_token_ttl,
            member.id,
            &member.display_name,
        ),
        token_type: "Bearer".to_owned(),
        expires_in: state.access_token_ttl.as_secs(),
        refresh_token,
    }
}

fn no_store(pair: TokenPair) -> HttpResponse {
    HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(pair)
}

/// `POST /api/v1/auth/login`.
#[utoipa::path(post, path = "/api/v1/auth/login", request_body = natter_proto::http::LoginRequest, responses((status = 200, description = "OK", body = natter_proto::http::TokenPair), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 429, description = "too many attempts; see Retry-After (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), tag = "auth")]
pub(crate) async fn api_login(
    state: web::Data<State>,
    request: HttpRequest,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let LoginRequest { username, password } = body.into_inner();
    let address = request.peer_addr().map(|a| a.ip());
    let member = match login::authenticate(&state, &username, password, address).await {
        Ok(member) => member,
        Err(LoginFailure::Invalid) => return Err(ApiError::unauthorized("wrong username or password")),
        Err(LoginFailure::Throttled(wait)) => {
            let seconds = wait.as_secs().max(1);
            return Ok(HttpResponse::TooManyRequests()
                .insert_header((RETRY_AFTER, seconds.to_string()))
                .json(ErrorBody::new(format!("too many failed logins; try again in {seconds} s"))));
        }
        Err(LoginFailure::Unavailable(_)) => return Err(ApiError::unavailable("login stores")),
    };
    let refresh_token = new_refresh_token()?;
    let family = uuid::Uuid::now_v7().to_string();
    let hash = sha256_hex(refresh_token.as_bytes());
    let stored = NewRefreshToken {
        family_id: &family,
        member_id: member.id,
        token_hash: &hash,
        expires_at: refresh_expiry(&state),
    };
    let mut conn = state.db.conn().await.map_err(ApiError::unavailable)?;
    refresh_tokens::store(&mut conn, stored).await.map_err(ApiError::unavailable)?;
    Ok(no_store(pair(&state, &member, refresh_token)))
}

/// `POST /api/v1/auth/refresh`: the next token pair for a valid, unused refresh token.
#[utoipa::path(post, path = "/api/v1/auth/refresh", request_body = natter_proto::http::RefreshRequest, responses((status = 200, description = "OK", body = natter_proto::http::TokenPair), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), tag = "auth")]
pub(crate) async fn api_refresh(
    state: web::Data<State>,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let next = new_refresh_token()?;
    let presented = sha256_hex(body.refresh_token.as_bytes());
    let mut conn = state.db.conn().await.map_err(ApiError::unavailable)?;
    let rotation =
        refresh_tokens::rotate(&mut conn, &presented, &sha256_hex(next.as_bytes()), refresh_expiry(&state))
            .await
            .map_err(ApiError::unavailable)?;
    match rotation {
        Rotation::Rotated { member_id } => {
            let member = members::by_id(&mut conn, member_id)
                .await
                .map_err(ApiError::unavailable)?
                .ok_or_else(|| ApiError::unauthorized("the refresh token is not valid"))?;
            Ok(no_store(pair(&state, &member, next)))
        }
        Rotation::ReuseDetected { member_id } => {
            tracing::warn!(member.id = member_id, "refresh token reused; its login is revoked");
            Err(ApiError::unauthorized("the refresh token is not valid"))
        }
        Rotation::Invalid => Err(ApiError::unauthorized("the refresh token is not valid")),
    }
}

/// `POST /api/v1/auth/logout`: revokes the login the refresh token belongs to.
#[utoipa::path(post, path = "/api/v1/auth/logout", request_body = natter_proto::http::RefreshRequest, responses((status = 204, description = "done"), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), tag = "auth")]
pub(crate) async fn api_logout(
    state: web::Data<State>,
    body: web::Json<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let presented = sha256_hex(body.refresh_token.as_bytes());
    let mut conn = state.db.conn().await.map_err(ApiError::unavailable)?;
    refresh_tokens::revoke_family(&mut conn, &presented).await.map_err(ApiError::unavailable)?;
    Ok(HttpResponse::NoContent().finish())
}
