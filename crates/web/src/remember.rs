//! "Remember me": a session that outlives the browser.
//!
//! Sessions are browser sessions by default (the cookie goes when the browser closes; the state
//! expires after `NATTER_SESSION_TTL_SECS`). Logging in with "remember me" also sets the plain
//! marker cookie [`REMEMBER_COOKIE`] (it grants nothing by itself), and while it is present this
//! middleware gives every session cookie it sees set a `Max-Age` of the session TTL, so the browser
//! keeps it across restarts for as long as the server keeps the session. actix-session chooses
//! browser or persistent cookies for every session at once, hence the per-login choice here.

use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponseBuilder, web};

use crate::app::State;

pub(crate) const REMEMBER_COOKIE: &str = "natter_remember";
const SESSION_COOKIE: &str = "natter_session";

fn max_age(state: &State) -> time::Duration {
    time::Duration::seconds(i64::try_from(state.session_ttl.as_secs()).unwrap_or(i64::MAX))
}

/// The marker cookie for a login that asked to be remembered (`remember`), or its removal.
pub(crate) fn set_marker(response: &mut HttpResponseBuilder, state: &State, remember: bool) {
    let mut cookie = Cookie::build(REMEMBER_COOKIE, "1")
        .path("/")
        .http_only(true)
        .secure(state.cookie_secure)
        .same_site(SameSite::Lax)
        .finish();
    if remember {
        cookie.set_max_age(max_age(state));
    } else {
        cookie.make_removal();
    }
    response.cookie(cookie);
}

/// Makes the session cookies of a remembered login persistent (see the module's comment).
pub(crate) async fn persist_remembered_sessions(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let asked_before = request.cookie(REMEMBER_COOKIE).is_some();
    let mut response = next.call(request).await?;
    let marker_now = response
        .response()
        .cookies()
        .find(|c| c.name() == REMEMBER_COOKIE)
        .map(|c| c.value() == "1" && c.max_age() != Some(time::Duration::ZERO));
    if !marker_now.unwrap_or(asked_before) {
        return Ok(response);
    }
    let Some(state) = response.request().app_data::<web::Data<State>>().cloned() else {
        return Ok(response);
    };
    let sessions: Vec<Cookie<'static>> = response
        .response()
        .cookies()
        .filter(|c| c.name() == SESSION_COOKIE && c.max_age().is_none() && !c.value().is_empty())
        .map(|c| c.into_owned())
        .collect();
    if sessions.is_empty() {
        return Ok(response);
    }
    response.response_mut().del_cookie(SESSION_COOKIE);
    for mut cookie in sessions {
        cookie.set_max_age(max_age(&state));
        response.response_mut().add_cookie(&cookie)?;
    }
    Ok(response)
}
