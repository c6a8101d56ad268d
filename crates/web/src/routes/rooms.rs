//! The room list, creating and joining community rooms.

use actix_session::Session;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use crate::app::State;
use crate::auth;
use crate::pages::{PageError, RoomItem, RoomsPage, see_other};

const JOINABLE_SHOWN: i64 = 50;

/// `GET /rooms`: the member's rooms and community rooms to join.
pub(crate) async fn rooms_page(state: web::Data<State>, session: Session) -> Result<RoomsPage, PageError> {
    let member_id = auth::require_member(&session)?;
    let member = state.directory.member_by_id(member_id).await?.ok_or(PageError::LoginRequired)?;
    let mine: Vec<natter_db::Room> =
        state.directory.rooms_of_member(member_id).await?.into_iter().map(|(room, _)| room).collect();
    let joinable = state
        .directory
        .search_rooms("", JOINABLE_SHOWN, 0)
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
    let new = natter_proto::rooms::NewRoom {
        name: form.name.clone(),
        topic: String::new(),
        visibility: natter_proto::rooms::Visibility::Public,
        capacity: None,
    };
    let room = crate::rooms::manage::create(&state, member_id, &new).await?;
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
    let ctx = crate::rooms::RoomContext::load(&state, room_id, member_id).await?;
    crate::rooms::joining::join(&state, &ctx).await?;
    Ok(see_other(&format!("/rooms/{room_id}")))
}
