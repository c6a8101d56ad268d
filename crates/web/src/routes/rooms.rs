//! The room list, creating and joining community rooms.

use actix_session::Session;
use actix_web::{HttpResponse, web};
use natter_db::RoomKind;
use serde::Deserialize;

use crate::app::State;
use crate::auth;
use crate::pages::{PageError, RoomItem, RoomsPage, see_other};

const ROOM_NAME_MAX: usize = 80;
const JOINABLE_SHOWN: i64 = 50;

/// `GET /rooms`: the member's rooms and community rooms to join.
pub(crate) async fn rooms_page(state: web::Data<State>, session: Session) -> Result<RoomsPage, PageError> {
    let member_id = auth::require_member(&session)?;
    let member = state.directory.member_by_id(member_id).await?.ok_or(PageError::LoginRequired)?;
    let mine = state.directory.rooms_of_member(member_id).await?;
    let joinable = state
        .directory
        .community_rooms(JOINABLE_SHOWN)
        .await?
        .into_iter()
        .filter(|room| !mine.iter().any(|m| m.id == room.id))
        .map(|r| RoomItem { id: r.id, name: r.name })
        .collect();
    Ok(RoomsPage {
        csrf: auth::csrf_token(&session)?,
        member_name: member.display_name,
        mine: mine.into_iter().map(|r| RoomItem { id: r.id, name: r.name }).collect(),
        joinable,
    })
}

#[derive(Deserialize)]
pub(crate) struct NewRoom {
    name: String,
    #[serde(default)]
    csrf: String,
}

#[derive(Deserialize)]
pub(crate) struct CsrfOnly {
    #[serde(default)]
    pub(crate) csrf: String,
}

/// `POST /rooms`: creates a community room owned by the member.
pub(crate) async fn create_room(
    state: web::Data<State>,
    session: Session,
    form: web::Form<NewRoom>,
) -> Result<HttpResponse, PageError> {
    let member_id = auth::require_member(&session)?;
    auth::check_csrf(&session, &form.csrf)?;
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > ROOM_NAME_MAX {
        return Err(PageError::Status(
            actix_web::http::StatusCode::BAD_REQUEST,
            format!("Room names are 1 to {ROOM_NAME_MAX} characters long."),
        ));
    }
    let room = state.directory.create_room(name, RoomKind::Community, member_id).await?;
    tracing::info!(room.id = room.id, member.id = member_id, "room created");
    Ok(see_other(&format!("/rooms/{}", room.id)))
}

/// `POST /rooms/{room}/join`: joins a community room.
pub(crate) async fn join_room(
    state: web::Data<State>,
    session: Session,
    path: web::Path<i64>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    let member_id = auth::require_member(&session)?;
    auth::check_csrf(&session, &form.csrf)?;
    let room_id = path.into_inner();
    let room = state.directory.room(room_id).await?.ok_or_else(|| PageError::not_found("No such room."))?;
    if room.kind != RoomKind::Community.as_str() {
        return Err(PageError::forbidden("Only community rooms can be joined."));
    }
    state.directory.join_room(room_id, member_id).await?;
    tracing::info!(room.id = room_id, member.id = member_id, "member joined room");
    Ok(see_other(&format!("/rooms/{room_id}")))
}
