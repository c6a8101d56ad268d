//! Sign-up, log-in and log-out with forms and a session cookie.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use natter_db::{DbError, NewMember};
use serde::Deserialize;

use crate::app::State;
use crate::auth;
use crate::pages::{HomePage, PageError, see_other};

const USERNAME_LEN: std::ops::RangeInclusive<usize> = 3..=32;
const PASSWORD_LEN: std::ops::RangeInclusive<usize> = 8..=128;

#[derive(Deserialize)]
pub(crate) struct Credentials {
    username: String,
    password: String,
}

/// `GET /`: the login and sign-up forms, or the room list for a logged-in member.
pub(crate) async fn home(session: Session) -> HttpResponse {
    if auth::session_member(&session).is_some() {
        return see_other("/rooms");
    }
    render_home(StatusCode::OK, None, String::new())
}

fn render_home(status: StatusCode, error: Option<String>, username: String) -> HttpResponse {
    use askama::Template;
    match (HomePage { error, username }).render() {
        Ok(body) => HttpResponse::build(status).content_type("text/html; charset=utf-8").body(body),
        Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
    }
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
pub(crate) async fn sign_up(
    state: web::Data<State>,
    session: Session,
    form: web::Form<Credentials>,
) -> Result<HttpResponse, PageError> {
    let Credentials { username, password } = form.into_inner();
    let username = username.trim().to_owned();
    if let Err(problem) = check_username(&username).and_then(|()| check_password(&password)) {
        return Ok(render_home(StatusCode::BAD_REQUEST, Some(problem), username));
    }
    let hash = auth::hash_password(password).await?;
    let new = NewMember { username: &username, display_name: &username, password_hash: &hash };
    match state.directory.create_member(new).await {
        Ok(member) => {
            tracing::info!(member.id = member.id, "member signed up");
            auth::start_session(&session, member.id)?;
            Ok(see_other("/rooms"))
        }
        Err(DbError::Conflict) => {
            Ok(render_home(StatusCode::CONFLICT, Some("That username is taken.".to_owned()), username))
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /login`: the same answer and the same cost for an unknown user and a wrong password.
pub(crate) async fn log_in(
    state: web::Data<State>,
    session: Session,
    form: web::Form<Credentials>,
) -> Result<HttpResponse, PageError> {
    let Credentials { username, password } = form.into_inner();
    let member = state.directory.member_by_username(username.trim()).await?;
    // Verify even when there is no such member (against a dummy hash), so both cost the same.
    let valid = auth::verify_password(password, member.as_ref().map(|m| m.password_hash.clone())).await?;
    match member {
        Some(member) if valid => {
            tracing::info!(member.id = member.id, "member logged in");
            auth::start_session(&session, member.id)?;
            Ok(see_other("/rooms"))
        }
        _ => Ok(render_home(
            StatusCode::UNAUTHORIZED,
            Some("Wrong username or password.".to_owned()),
            username,
        )),
    }
}

/// `POST /logout`: ends the session.
pub(crate) async fn log_out(session: Session) -> HttpResponse {
    session.purge();
    see_other("/")
}
