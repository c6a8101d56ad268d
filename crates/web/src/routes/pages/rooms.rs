//! The room list and search, creating and joining community rooms, direct chats, invite codes and
//! blocking. The rules live in `crate::rooms`; these handlers read forms and render pages.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use natter_db::{Visibility, invites, members, memberships};
use natter_proto::rooms::{RoomListItem, RoomView};
use serde::Deserialize;

use crate::app::State;
use crate::auth;
use crate::error::PageError;
use crate::extract::{CsrfForm, SignedIn};
use crate::page_format::{query_value, see_other, time_text, visibility_options};
use crate::rooms::{RoomContext, direct, joining, list, manage};
use crate::templates::{FoundRoomItem, MyRoomItem, PreviewItem, RoomsPage, Sidebar};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RoomsQuery {
    /// Search text for listed rooms (empty: all of them, newest first).
    #[serde(default)]
    q: String,
    /// Page of the search results.
    #[serde(default)]
    search_page: u32,
    /// An invite code to fill in the invite form (the link an invite-link creator shares).
    #[serde(default)]
    invite: String,
}

impl RoomsQuery {
    /// A link to another page of the search results.
    fn link(&self, search_page: u32) -> String {
        let mut link = format!("/rooms?search_page={search_page}");
        if !self.q.is_empty() {
            link.push_str(&format!("&q={}", query_value(&self.q)));
        }
        link
    }
}

/// Rooms the sidebar lists; a member in more finds the rest with the quick switcher.
const SIDEBAR_ROOMS: usize = 200;

/// The member's rooms for the app's sidebar, with `current` marked.
pub(crate) async fn sidebar(state: &State, member_id: i64, current: i64) -> Result<Sidebar, PageError> {
    let page = list::room_list_sized(state, member_id, 0, SIDEBAR_ROOMS).await?;
    let mut rooms = Vec::with_capacity(page.rooms.len());
    for item in page.rooms {
        let direct = item.room.kind == natter_db::RoomKind::Direct;
        let mut room = my_room(item, member_id);
        if direct {
            room.avatar = peer_avatar(state, room.id, member_id).await?;
        }
        rooms.push(room);
    }
    let friend_requests =
        natter_db::friends::circle(&mut state.db.conn().await?, member_id).await?.incoming.len();
    Ok(Sidebar {
        rooms,
        more: page.next_page.is_some(),
        current,
        me: member_id,
        ws_url: state.message_public_url.clone(),
        friend_requests,
    })
}

/// The picture of the other member of a direct room.
async fn peer_avatar(state: &State, room: i64, member_id: i64) -> Result<Option<String>, PageError> {
    let members = memberships::members_of(&mut state.db.conn().await?, room).await?;
    Ok(members
        .into_iter()
        .find(|(m, _)| m.id != member_id)
        .and_then(|(m, _)| m.avatar_url)
        .filter(|url| !url.is_empty()))
}

fn my_room(item: RoomListItem, member_id: i64) -> MyRoomItem {
    MyRoomItem {
        last_position: item.last_message.as_ref().map_or(0, |m| m.position),
        activity_ms: item.last_activity_ms,
        avatar: None,
        id: item.room.id,
        name: item.room.name,
        direct: item.room.kind == natter_db::RoomKind::Direct,
        archived: item.room.archived,
        unread: item.unread,
        mentions: item.mentions,
        unread_label: if item.unread_more { "100+".to_owned() } else { item.unread.to_string() },
        preview: item.last_message.map(|m| PreviewItem {
            mine: m.sender_id == member_id,
            sender: m.sender_name,
            text: m.text,
        }),
    }
}

async fn found_room(state: &State, member_id: i64, room: RoomView) -> Result<FoundRoomItem, PageError> {
    let member = room.your_role.is_some();
    let invited = !member
        && room.visibility != Visibility::Public
        && invites::is_invited(&mut state.db.conn().await?, room.id, member_id).await?;
    let banned = if member {
        None
    } else {
        memberships::active_ban(&mut state.db.conn().await?, room.id, member_id).await?.map(|until| {
            match until {
                Some(until) => format!("until {}", time_text(until.and_utc().timestamp_millis())),
                None => "for good".to_owned(),
            }
        })
    };
    Ok(FoundRoomItem {
        joinable: !member
            && banned.is_none()
            && !room.archived
            && (room.visibility == Visibility::Public || invited),
        banned,
        id: room.id,
        name: room.name,
        topic: room.topic,
        visibility: manage::visibility_label(room.visibility),
        member_count: room.member_count,
        capacity: room.capacity,
        archived: room.archived,
        member,
        invited,
    })
}

/// `GET /rooms?q=&search_page=&invite=`: the app with no room open: the sidebar of the member's rooms
/// (latest activity first, with unread counts), listed rooms to find and join, and the forms to create a room, start a direct chat and
/// accept an invite code.
#[utoipa::path(get, path = "/rooms", params(RoomsQuery), responses((status = 200, description = "the page", content_type = "text/html"), (status = 303, description = "see other (a redirect: the next page, or the login page)"), (status = 400, description = "the request is malformed or breaks a rule (Error)", content_type = "text/html"), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", content_type = "text/html")), security(("session" = [])), tag = "pages")]
pub(crate) async fn rooms_page(
    state: web::Data<State>,
    query: web::Query<RoomsQuery>,
    SignedIn { member_id, session }: SignedIn,
) -> Result<RoomsPage, PageError> {
    let member =
        members::by_id(&mut state.db.conn().await?, member_id).await?.ok_or(PageError::LoginRequired)?;
    let found = list::search(&state, member_id, &query.q, query.search_page).await?;
    let mut found_rooms = Vec::with_capacity(found.rooms.len());
    for room in found.rooms {
        found_rooms.push(found_room(&state, member_id, room).await?);
    }
    Ok(RoomsPage {
        csrf: auth::csrf_token(&session)?,
        member_name: member.display_name,
        sidebar: sidebar(&state, member_id, 0).await?,
        query: query.q.clone(),
        found: found_rooms,
        found_prev: query.search_page.checked_sub(1).map(|p| query.link(p)),
        found_next: found.next_page.map(|p| query.link(p)),
        visibilities: visibility_options(Visibility::Public),
        invite: query.invite.trim().to_owned(),
    })
}

fn bad_request(detail: impl Into<String>) -> PageError {
    PageError::Status(StatusCode::BAD_REQUEST, detail.into())
}

/// An optional number from a form field (empty: `None`).
pub(crate) fn optional_number<T: std::str::FromStr>(raw: &str, what: &str) -> Result<Option<T>, PageError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse().map(Some).map_err(|_| bad_request(format!("{what} must be a whole number.")))
}

/// A visibility from a form's select.
pub(crate) fn visibility_field(raw: &str) -> Result<Visibility, PageError> {
    Visibility::parse(raw.trim()).ok_or_else(|| bad_request("Visibility is public, invite_only or private."))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[schema(as = NewRoomForm)]
pub(crate) struct NewRoom {
    #[serde(default)]
    name: String,
    #[serde(default)]
    topic: String,
    /// `public` (the default), `invite_only` or `private`.
    #[serde(default)]
    visibility: String,
    /// Empty: the default capacity.
    #[serde(default)]
    capacity: String,
    #[serde(default)]
    csrf: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct CsrfOnly {
    #[serde(default)]
    pub(crate) csrf: String,
}

/// `POST /rooms`: creates a community room owned by the member.
#[utoipa::path(post, path = "/rooms", request_body(content = NewRoom, content_type = "application/x-www-form-urlencoded"), responses((status = 303, description = "see other (a redirect: the next page, or the login page)"), (status = 400, description = "the request is malformed or breaks a rule (Error)", content_type = "text/html"), (status = 403, description = "not allowed (Error)", content_type = "text/html"), (status = 404, description = "no such resource, or hidden from the caller (Error)", content_type = "text/html"), (status = 409, description = "conflicts with the current state (Error)", content_type = "text/html"), (status = 413, description = "the body is too large (Error)", content_type = "text/html"), (status = 415, description = "the body has an unsupported type (Error)", content_type = "text/html"), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", content_type = "text/html")), security(("session" = [])), tag = "pages")]
pub(crate) async fn create_room(
    state: web::Data<State>,
    SignedIn { member_id, .. }: SignedIn,
    form: CsrfForm<NewRoom>,
) -> Result<HttpResponse, PageError> {
    let visibility = if form.visibility.trim().is_empty() {
        Visibility::Public
    } else {
        visibility_field(&form.visibility)?
    };
    let new = natter_proto::rooms::NewRoom {
        name: form.name.clone(),
        topic: form.topic.clone(),
        visibility,
        capacity: optional_number(&form.capacity, "Capacity")?,
    };
    let room = manage::create(&state.rules(), member_id, &new).await?;
    Ok(see_other(&format!("/rooms/{}", room.id)))
}

/// `POST /rooms/{room}/join`: joins a community room (public, or with an invitation).
#[utoipa::path(post, path = "/rooms/{room}/join", params(("room" = i64, Path, description = "the room id")), request_body(content = CsrfOnly, content_type = "application/x-www-form-urlencoded"), responses((status = 303, description = "see other (a redirect: the next page, or the login page)"), (status = 400, description = "the request is malformed or breaks a rule (Error)", content_type = "text/html"), (status = 403, description = "not allowed (Error)", content_type = "text/html"), (status = 404, description = "no such resource, or hidden from the caller (Error)", content_type = "text/html"), (status = 409, description = "conflicts with the current state (Error)", content_type = "text/html"), (status = 413, description = "the body is too large (Error)", content_type = "text/html"), (status = 415, description = "the body has an unsupported type (Error)", content_type = "text/html"), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", content_type = "text/html")), security(("session" = [])), tag = "pages")]
pub(crate) async fn join_room(
    state: web::Data<State>,
    path: web::Path<i64>,
    SignedIn { member_id, .. }: SignedIn,
    _: CsrfForm<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    let room_id = path.into_inner();
    let ctx = RoomContext::load(&state.rules(), room_id, member_id).await?;
    joining::join(&state.rules(), &ctx).await?;
    Ok(see_other(&format!("/rooms/{room_id}")))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct UsernameForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /direct`: opens (creating on first use) the direct chat with `username`.
#[utoipa::path(post, path = "/direct", operation_id = "page_start_direct", request_body(content = UsernameForm, content_type = "application/x-www-form-urlencoded"), responses((status = 303, description = "see other (a redirect: the next page, or the login page)"), (status = 400, description = "the request is malformed or breaks a rule (Error)", content_type = "text/html"), (status = 403, description = "not allowed (Error)", content_type = "text/html"), (status = 404, description = "no such resource, or hidden from the caller (Error)", content_type = "text/html"), (status = 409, description = "conflicts with the current state (Error)", content_type = "text/html"), (status = 413, description = "the body is too large (Error)", content_type = "text/html"), (status = 415, description = "the body has an unsupported type (Error)", content_type = "text/html"), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", content_type = "text/html")), security(("session" = [])), tag = "pages")]
pub(crate) async fn start_direct(
    state: web::Data<State>,
    SignedIn { member_id, .. }: SignedIn,
    form: CsrfForm<UsernameForm>,
) -> Result<HttpResponse, PageError> {
    let room = direct::start(&state.rules(), member_id, &form.username).await?;
    Ok(see_other(&format!("/rooms/{}", room.id)))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct InviteCodeForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /invites/accept`: joins the room an invite code leads to.
#[utoipa::path(post, path = "/invites/accept", operation_id = "page_accept_invite", request_body(content = InviteCodeForm, content_type = "application/x-www-form-urlencoded"), responses((status = 303, description = "see other (a redirect: the next page, or the login page)"), (status = 400, description = "the request is malformed or breaks a rule (Error)", content_type = "text/html"), (status = 403, description = "not allowed (Error)", content_type = "text/html"), (status = 404, description = "no such resource, or hidden from the caller (Error)", content_type = "text/html"), (status = 409, description = "conflicts with the current state (Error)", content_type = "text/html"), (status = 413, description = "the body is too large (Error)", content_type = "text/html"), (status = 415, description = "the body has an unsupported type (Error)", content_type = "text/html"), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", content_type = "text/html")), security(("session" = [])), tag = "pages")]
pub(crate) async fn accept_invite(
    state: web::Data<State>,
    SignedIn { member_id, .. }: SignedIn,
    form: CsrfForm<InviteCodeForm>,
) -> Result<HttpResponse, PageError> {
    let room_id = joining::accept_link(&state.rules(), member_id, &form.code).await?;
    Ok(see_other(&format!("/rooms/{room_id}")))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct BlockForm {
    #[serde(default)]
    username: String,
    /// `block` or `unblock`.
    #[serde(default)]
    action: String,
    /// The room page the form is on, to return to.
    #[serde(default)]
    room: Option<i64>,
    #[serde(default)]
    csrf: String,
}

/// `POST /blocks`: blocks or unblocks a member.
#[utoipa::path(post, path = "/blocks", request_body(content = BlockForm, content_type = "application/x-www-form-urlencoded"), responses((status = 303, description = "see other (a redirect: the next page, or the login page)"), (status = 400, description = "the request is malformed or breaks a rule (Error)", content_type = "text/html"), (status = 403, description = "not allowed (Error)", content_type = "text/html"), (status = 404, description = "no such resource, or hidden from the caller (Error)", content_type = "text/html"), (status = 409, description = "conflicts with the current state (Error)", content_type = "text/html"), (status = 413, description = "the body is too large (Error)", content_type = "text/html"), (status = 415, description = "the body has an unsupported type (Error)", content_type = "text/html"), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", content_type = "text/html")), security(("session" = [])), tag = "pages")]
pub(crate) async fn set_block(
    state: web::Data<State>,
    SignedIn { member_id, .. }: SignedIn,
    form: CsrfForm<BlockForm>,
) -> Result<HttpResponse, PageError> {
    let blocked = match form.action.as_str() {
        "block" => true,
        "unblock" => false,
        _ => return Err(bad_request("The action is block or unblock.")),
    };
    direct::set_blocked(&state.rules(), member_id, &form.username, blocked).await?;
    Ok(see_other(&form.room.map_or_else(|| "/rooms".to_owned(), |room| format!("/rooms/{room}"))))
}

crate::extract::csrf_field!(NewRoom, CsrfOnly, UsernameForm, InviteCodeForm, BlockForm);
