//! The member's settings: the login providers linked to the account, and buttons to link more.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use natter_db::{identities, members};
use serde::Deserialize;

use crate::app::State;
use crate::auth;
use crate::error::PageError;
use crate::extract::{CsrfForm, SignedIn};
use crate::page_format::{see_other, time_text};
use crate::templates::{DeviceItem, SettingsPage};

const DISPLAY_NAME_MAX: usize = 64;
const AVATAR_URL_MAX: usize = 512;

/// `GET /settings`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SettingsQuery {
    /// Set by the redirect after saving, to say so.
    #[serde(default)]
    saved: Option<String>,
}

#[utoipa::path(get, path = "/settings", params(SettingsQuery), responses((status = 200, description = "the page", content_type = "text/html"), (status = 303, description = "see other (a redirect: the next page, or the login page)"), (status = 400, description = "the request is malformed or breaks a rule (Error)", content_type = "text/html"), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", content_type = "text/html")), security(("session" = [])), tag = "pages")]
pub(crate) async fn settings_page(
    state: web::Data<State>,
    query: web::Query<SettingsQuery>,
    SignedIn { member_id, session }: SignedIn,
) -> Result<SettingsPage, PageError> {
    let member =
        members::by_id(&mut state.db.conn().await?, member_id).await?.ok_or(PageError::LoginRequired)?;
    let linked = identities::providers_of(&mut state.db.conn().await?, member_id).await?;
    let linkable = state.oauth.names().into_iter().filter(|p| !linked.contains(p)).collect();
    let (devices, current) = crate::devices::list(&state, &session, member_id).await?;
    let devices = devices
        .into_iter()
        .map(|d| DeviceItem { this: d.id == current, agent: d.agent, since: time_text(d.since_ms) })
        .collect();
    Ok(SettingsPage {
        devices,
        sidebar: super::rooms::sidebar(&state, member_id, 0).await?,
        saved: query.saved.is_some(),
        csrf: auth::csrf_token(&session)?,
        username: member.username,
        display_name: member.display_name.clone(),
        avatar_url: member.avatar_url.unwrap_or_default(),
        member_name: member.display_name,
        linked,
        linkable,
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct Profile {
    display_name: String,
    #[serde(default)]
    avatar_url: String,
    #[serde(default)]
    csrf: String,
}

fn invalid(detail: String) -> PageError {
    PageError::Status(StatusCode::BAD_REQUEST, detail)
}

/// Display names: 1 to 64 characters, no control characters.
fn check_display_name(name: &str) -> Result<(), PageError> {
    let length = name.chars().count();
    if length == 0 || length > DISPLAY_NAME_MAX || name.chars().any(char::is_control) {
        return Err(invalid(format!(
            "Display names are 1 to {DISPLAY_NAME_MAX} characters, without control characters."
        )));
    }
    Ok(())
}

/// Avatars: empty, the member's own uploaded picture, or an https URL of at most 512 characters (no `javascript:`, no mixed content).
fn check_avatar_url(url: &str, member: i64) -> Result<Option<&str>, PageError> {
    if url.is_empty() {
        return Ok(None);
    }
    if super::avatars::is_uploaded_by(url, member) {
        return Ok(Some(url));
    }
    let parsed = reqwest::Url::parse(url).ok().filter(|u| u.scheme() == "https" && u.host_str().is_some());
    if parsed.is_none() || url.len() > AVATAR_URL_MAX {
        return Err(invalid(format!(
            "The avatar must be an https:// URL of at most {AVATAR_URL_MAX} characters."
        )));
    }
    Ok(Some(url))
}

/// `POST /settings/profile`: display name and avatar URL.
#[utoipa::path(post, path = "/settings/profile", request_body(content = Profile, content_type = "application/x-www-form-urlencoded"), responses((status = 303, description = "see other (a redirect: the next page, or the login page)"), (status = 400, description = "the request is malformed or breaks a rule (Error)", content_type = "text/html"), (status = 403, description = "not allowed (Error)", content_type = "text/html"), (status = 404, description = "no such resource, or hidden from the caller (Error)", content_type = "text/html"), (status = 409, description = "conflicts with the current state (Error)", content_type = "text/html"), (status = 413, description = "the body is too large (Error)", content_type = "text/html"), (status = 415, description = "the body has an unsupported type (Error)", content_type = "text/html"), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", content_type = "text/html")), security(("session" = [])), tag = "pages")]
pub(crate) async fn update_profile(
    state: web::Data<State>,
    SignedIn { member_id, .. }: SignedIn,
    form: CsrfForm<Profile>,
) -> Result<HttpResponse, PageError> {
    let display_name = form.display_name.trim();
    check_display_name(display_name)?;
    let avatar_url = check_avatar_url(form.avatar_url.trim(), member_id)?;
    members::update_profile(&mut state.db.conn().await?, member_id, display_name, avatar_url).await?;
    Ok(see_other("/settings?saved=1"))
}

/// `POST /settings/log-out-others`: ends every session of the member but this one.
#[utoipa::path(post, path = "/settings/log-out-others", request_body(content = crate::routes::pages::rooms::CsrfOnly, content_type = "application/x-www-form-urlencoded"), responses((status = 303, description = "see other (a redirect: the next page, or the login page)"), (status = 400, description = "the request is malformed or breaks a rule (Error)", content_type = "text/html"), (status = 403, description = "not allowed (Error)", content_type = "text/html"), (status = 404, description = "no such resource, or hidden from the caller (Error)", content_type = "text/html"), (status = 409, description = "conflicts with the current state (Error)", content_type = "text/html"), (status = 413, description = "the body is too large (Error)", content_type = "text/html"), (status = 415, description = "the body has an unsupported type (Error)", content_type = "text/html"), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", content_type = "text/html")), security(("session" = [])), tag = "pages")]
pub(crate) async fn log_out_others(
    state: web::Data<State>,
    SignedIn { member_id, session }: SignedIn,
    _: CsrfForm<crate::routes::pages::rooms::CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    crate::devices::log_out_others(&state, &session, member_id).await?;
    tracing::info!(member.id = member_id, "logged out other devices");
    Ok(see_other("/settings?saved=1"))
}

crate::extract::csrf_field!(Profile);
