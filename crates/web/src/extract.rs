//! Who is asking, checked once per request by actix extractors instead of at the top of every handler.
//!
//! - [`SignedIn`]: a page request from a logged-in browser (session cookie); otherwise the browser is
//!   sent to the login page.
//! - [`CsrfForm`]: a form post carrying this session's CSRF token (synchroniser token); extract it
//!   after [`SignedIn`] so that a logged-out browser is sent to log in rather than told the form expired.
//! - [`ApiCaller`]: a REST request with a valid `Authorization: Bearer` access token.
//! - [`ApiRoom`]: an [`ApiCaller`] and their standing in the room named by the `{room}` path segment.

use std::future::Future;
use std::pin::Pin;

use actix_session::{Session, SessionExt};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use natter_db::members;
use natter_http::ApiError;
use natter_proto::token::API_TOKEN_AUDIENCE;
use serde::de::DeserializeOwned;

use crate::app::State;
use crate::auth;
use crate::error::PageError;
use crate::rooms::RoomContext;

type Extracting<T, E> = Pin<Box<dyn Future<Output = Result<T, E>>>>;

fn state_of(request: &HttpRequest) -> web::Data<State> {
    request.app_data::<web::Data<State>>().expect("the web State is registered on the app").clone()
}

/// The logged-in member of a page request.
pub(crate) struct SignedIn {
    pub(crate) member_id: i64,
    pub(crate) session: Session,
}

impl FromRequest for SignedIn {
    type Error = PageError;
    type Future = std::future::Ready<Result<Self, PageError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = request.get_session();
        std::future::ready(match auth::session_member(&session) {
            Some(member_id) => Ok(Self { member_id, session }),
            None => Err(PageError::LoginRequired),
        })
    }
}

/// A form that carries the session's CSRF token in its `csrf` field.
pub(crate) trait WithCsrf {
    fn csrf(&self) -> &str;
}

/// A urlencoded form whose CSRF token was checked against the session's.
pub(crate) struct CsrfForm<T>(pub(crate) T);

impl<T> std::ops::Deref for CsrfForm<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: WithCsrf + DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = actix_web::Error;
    type Future = Extracting<Self, actix_web::Error>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let session = request.get_session();
        let form = web::Form::<T>::from_request(request, payload);
        Box::pin(async move {
            let form = form.await?.into_inner();
            auth::check_csrf(&session, form.csrf())?;
            Ok(Self(form))
        })
    }
}

/// Runs a store lookup of an extractor as its own task. Actix polls a handler's extractors together
/// and drops the others when one fails (a malformed body, say); a store query dropped half-way must
/// not be (the embedded SQLite adapter's queries run on blocking threads and cannot be abandoned on
/// the worker's single-threaded runtime), so the lookup finishes on its own and its answer is dropped.
async fn run_to_completion<T: 'static>(
    lookup: impl Future<Output = Result<T, ApiError>> + 'static,
) -> Result<T, ApiError> {
    actix_web::rt::spawn(lookup).await.map_err(ApiError::internal)?
}

/// The member of the request's `Authorization: Bearer` access token.
pub(crate) async fn bearer_member(
    state: &State,
    request: &HttpRequest,
) -> Result<natter_db::Member, ApiError> {
    let token = request
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| ApiError::unauthorized("an access token is required (Authorization: Bearer)"))?;
    let claims = state
        .api_verifier
        .verify_for(token, API_TOKEN_AUDIENCE)
        .map_err(|e| ApiError::unauthorized(e.to_string()))?;
    let member_id = claims.member_id().ok_or_else(|| ApiError::unauthorized("the token names no member"))?;
    let mut conn = state.db.conn().await.map_err(ApiError::unavailable)?;
    members::by_id(&mut conn, member_id)
        .await
        .map_err(ApiError::unavailable)?
        .ok_or_else(|| ApiError::unauthorized("the member no longer exists"))
}

/// The member of a REST request's access token.
pub(crate) struct ApiCaller(pub(crate) natter_db::Member);

impl FromRequest for ApiCaller {
    type Error = ApiError;
    type Future = Extracting<Self, ApiError>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = state_of(request);
        let request = request.clone();
        let lookup = async move { bearer_member(&state, &request).await.map(Self) };
        Box::pin(run_to_completion(lookup))
    }
}

/// The REST caller's standing in the room of the `{room}` path segment.
pub(crate) struct ApiRoom(pub(crate) RoomContext);

impl std::ops::Deref for ApiRoom {
    type Target = RoomContext;

    fn deref(&self) -> &RoomContext {
        &self.0
    }
}

impl FromRequest for ApiRoom {
    type Error = ApiError;
    type Future = Extracting<Self, ApiError>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = state_of(request);
        let request = request.clone();
        Box::pin(run_to_completion(async move {
            let room = request
                .match_info()
                .get("room")
                .and_then(|raw| raw.parse::<i64>().ok())
                .ok_or_else(|| ApiError::bad_request("the room in the path is a number"))?;
            let member = bearer_member(&state, &request).await?;
            Ok(Self(RoomContext::load(&state.rules(), room, member.id).await?))
        }))
    }
}

/// Marks forms whose `csrf: String` field holds the token: `csrf_field!(NewRoom, CsrfOnly);`.
macro_rules! csrf_field {
    ($($form:ty),+ $(,)?) => {
        $(impl crate::extract::WithCsrf for $form {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        })+
    };
}
pub(crate) use csrf_field;
