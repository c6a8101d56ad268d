//! The member's settings: the login providers linked to the account, and buttons to link more.

use actix_session::Session;
use actix_web::web;

use crate::app::State;
use crate::auth;
use crate::pages::{PageError, SettingsPage};

/// `GET /settings`.
pub(crate) async fn settings_page(
    state: web::Data<State>,
    session: Session,
) -> Result<SettingsPage, PageError> {
    let member_id = auth::require_member(&session)?;
    let member = state.directory.member_by_id(member_id).await?.ok_or(PageError::LoginRequired)?;
    let linked = state.directory.identities_of(member_id).await?;
    let linkable = state.oauth.names().into_iter().filter(|p| !linked.contains(p)).collect();
    Ok(SettingsPage {
        csrf: auth::csrf_token(&session)?,
        member_name: member.display_name,
        username: member.username,
        linked,
        linkable,
    })
}
