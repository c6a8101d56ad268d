//! Sign-up, log-in and log-out with forms and a session cookie.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use natter_db::{DbError, NewMember, members};
use serde::Deserialize;

use crate::app::State;
use crate::auth;
use crate::error::PageError;
use crate::extract::CsrfForm;
use crate::login::{self, LoginFailure};
use crate::login_redirect::safe_next;
use crate::page_format::see_other;
use crate::routes::pages::rooms::CsrfOnly;
use crate::templates::HomePage;

const USERNAME_LEN: std::ops::RangeInclusive<usize> = 3..=32;
const PASSWORD_LEN: std::ops::RangeInclusive<usize> = 8..=128;

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct Credentials {
    username: String,
    password: String,
    #[serde(default)]
    csrf: String,
    /// Where to go afterwards (a path on this site; see `login_redirect`).
    #[serde(default)]
    next: String,
    /// "Remember me" was ticked.
    #[serde(default)]
    remember: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct NextQuery {
    #[serde(default)]
    next: String,
}

/// The redirect after logging in or signing up, with the "remember me" marker set or cleared.
fn logged_in(state: &State, next: &str, remember: bool) -> HttpResponse {
    let mut response = HttpResponse::SeeOther();
    response.insert_header(("Location", safe_next(next)));
    crate::remember::set_marker(&mut response, state, remember);
    response.finish()
}

/// `GET /?next=`: what Natter is, with the login and sign-up forms; a logged-in member goes on to
/// `next` or the app.
#[utoipa::path(get, path = "/", params(NextQuery), responses((status = 200, description = "the page", content_type = "text/html"), (status = 400, description = "the request is malformed or breaks a rule (Error)", content_type = "text/html"), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", content_type = "text/html")), tag = "pages")]
pub(crate) async fn home(
    state: web::Data<State>,
    session: Session,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, PageError> {
    if auth::session_member(&session).is_some() {
        return Ok(see_other(safe_next(&query.next)));
    }
    let form = Form { username: String::new(), next: query.next.clone() };
    render_home(&state, &session, StatusCode::OK, None, form)
}

/// What the forms show again after a refusal.
struct Form {
    username: String,
    next: String,
}

fn render_home(
    state: &State,
    session: &Session,
    status: StatusCode,
    error: Option<String>,
    form: Form,
) -> Result<HttpResponse, PageError> {
    use askama::Template;
    let csrf = auth::csrf_token(session)?;
    let providers = state.oauth.names();
    let Form { username, next } = form;
    let next = if safe_next(&next) == next { next } else { String::new() };
    Ok(match (HomePage { error, username, next, csrf, providers }).render() {
        Ok(body) => HttpResponse::build(status).content_type("text/html; charset=utf-8").body(body),
        Err(e) => return Err(PageError::internal(e)),
    })
}

fn check_username(username: &str) -> Result<(), String> {
    if !USERNAME_LEN.contains(&username.chars().count()) {
        return Err(format!(
            "Usernames are {} to {} characters long.",
            USERNAME_LEN.start(),
            USERNAME_LEN.end()
        ));
    }
    if !username.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
        return Err("Usernames may use letters a–z, digits and . _ - only.".to_owned());
    }
    Ok(())
}

fn check_password(password: &str) -> Result<(), String> {
    if !PASSWORD_LEN.contains(&password.chars().count()) {
        return Err(format!(
            "Passwords are {} to {} characters long.",
            PASSWORD_LEN.start(),
            PASSWORD_LEN.end()
        ));
    }
    Ok(())
}

/// `POST /signup`: creates the account and logs it in.
#[utoipa::path(post, path = "/signup", request_body(content = Credentials, content_type = "application/x-www-form-urlencoded"), responses((status = 303, description = "see other (a redirect: the next page, or the login page)"), (status = 400, description = "the request is malformed or breaks a rule (Error)", content_type = "text/html"), (status = 403, description = "not allowed (Error)", content_type = "text/html"), (status = 409, description = "conflicts with the current state (Error)", content_type = "text/html"), (status = 413, description = "the body is too large (Error)", content_type = "text/html"), (status = 415, description = "the body has an unsupported type (Error)", content_type = "text/html"), (status = 429, description = "too many attempts; see Retry-After (Error)", content_type = "text/html"), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", content_type = "text/html")), tag = "pages")]
pub(crate) async fn sign_up(
    state: web::Data<State>,
    request: HttpRequest,
    session: Session,
    CsrfForm(form): CsrfForm<Credentials>,
) -> Result<HttpResponse, PageError> {
    let Credentials { username, password, next, remember, .. } = form;
    let username = username.trim().to_owned();
    let again = |username: String| Form { username, next: next.clone() };
    let address = request.peer_addr().map(|a| a.ip());
    if let Some(wait) = state.throttle.sign_up_attempt(address).await.map_err(PageError::unavailable)? {
        let message =
            format!("Too many sign-ups from your address. Try again in {} s.", wait.as_secs().max(1));
        return render_home(&state, &session, StatusCode::TOO_MANY_REQUESTS, Some(message), again(username));
    }
    if let Err(problem) = check_username(&username).and_then(|()| check_password(&password)) {
        return render_home(&state, &session, StatusCode::BAD_REQUEST, Some(problem), again(username));
    }
    let hash = auth::hash_password(password).await?;
    let new = NewMember { username: &username, display_name: &username, password_hash: &hash };
    let created = members::create(&mut state.db.conn().await?, new).await;
    match created {
        Ok(member) => {
            tracing::info!(member.id = member.id, "member signed up");
            auth::start_session(&session, member.id)?;
            crate::devices::record_login(&state, &session, member.id, &crate::devices::user_agent(&request))
                .await?;
            Ok(logged_in(&state, &next, remember.is_some()))
        }
        Err(DbError::Conflict) => render_home(
            &state,
            &session,
            StatusCode::CONFLICT,
            Some("That username is taken.".to_owned()),
            again(username),
        ),
        Err(e) => Err(e.into()),
    }
}

/// `POST /login`: the same answer and the same cost for an unknown user and a wrong password.
#[utoipa::path(post, path = "/login", request_body(content = Credentials, content_type = "application/x-www-form-urlencoded"), responses((status = 303, description = "see other (a redirect: the next page, or the login page)"), (status = 400, description = "the request is malformed or breaks a rule (Error)", content_type = "text/html"), (status = 401, description = "no valid credentials (Error)", content_type = "text/html"), (status = 403, description = "not allowed (Error)", content_type = "text/html"), (status = 413, description = "the body is too large (Error)", content_type = "text/html"), (status = 415, description = "the body has an unsupported type (Error)", content_type = "text/html"), (status = 429, description = "too many attempts; see Retry-After (Error)", content_type = "text/html"), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", content_type = "text/html")), tag = "pages")]
pub(crate) async fn log_in(
    state: web::Data<State>,
    request: HttpRequest,
    session: Session,
    CsrfForm(form): CsrfForm<Credentials>,
) -> Result<HttpResponse, PageError> {
    let Credentials { username, password, next, remember, .. } = form;
    let address = request.peer_addr().map(|a| a.ip());
    let again = |username: String| Form { username, next: next.clone() };
    match login::authenticate(&state, &username, password, address).await {
        Ok(member) => {
            auth::start_session(&session, member.id)?;
            crate::devices::record_login(&state, &session, member.id, &crate::devices::user_agent(&request))
                .await?;
            Ok(logged_in(&state, &next, remember.is_some()))
        }
        Err(LoginFailure::Throttled(wait)) => {
            let message = format!("Too many failed logins. Try again in {} s.", wait.as_secs().max(1));
            render_home(&state, &session, StatusCode::TOO_MANY_REQUESTS, Some(message), again(username))
        }
        Err(LoginFailure::Invalid) => {
            let message = Some("Wrong username or password.".to_owned());
            render_home(&state, &session, StatusCode::UNAUTHORIZED, message, again(username))
        }
        Err(LoginFailure::Unavailable(e)) => Err(e),
    }
}

/// `POST /logout`: ends the session, for every copy of its cookie.
#[utoipa::path(post, path = "/logout", request_body(content = CsrfOnly, content_type = "application/x-www-form-urlencoded"), responses((status = 303, description = "see other (a redirect: the next page, or the login page)"), (status = 400, description = "the request is malformed or breaks a rule (Error)", content_type = "text/html"), (status = 403, description = "not allowed (Error)", content_type = "text/html"), (status = 413, description = "the body is too large (Error)", content_type = "text/html"), (status = 415, description = "the body has an unsupported type (Error)", content_type = "text/html")), tag = "pages")]
pub(crate) async fn log_out(
    state: web::Data<State>,
    session: Session,
    _: CsrfForm<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    if let Some(member) = auth::session_member(&session) {
        crate::devices::forget(&state, &session, member).await;
    }
    session.purge();
    let mut response = HttpResponse::SeeOther();
    response.insert_header(("Location", "/"));
    crate::remember::set_marker(&mut response, &state, false);
    Ok(response.finish())
}

crate::extract::csrf_field!(Credentials);
