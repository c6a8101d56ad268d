//! The live room page, the server-rendered history page, leaving, and read positions; members only.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use natter_db::{NotifyLevel, Role, RoomKind, direct, members, memberships};
use natter_http::ApiError;
use natter_proto::rooms::{MarkRead, ReadPosition};

use super::rooms::CsrfOnly;
use crate::app::State;
use crate::auth;
use crate::error::PageError;
use crate::extract::{CsrfForm, SignedIn};
use crate::page_format::{see_other, time_text};
use crate::presence::{MAX_LISTED, PresenceLabel};
use crate::rooms::{RoomContext, RoomError, joining, manage, reads, room_access, views};
use crate::templates::{HistoryItem, HistoryPage, PeerItem, PersonItem, RoomItem, RoomPage};

/// Messages shown on the history page.
const HISTORY_PAGE_SIZE: u32 = 100;

/// The room of the path as a member sees it: 404 for no room (or a private or direct room the
/// caller is not in), 403 for a listed room they are not a member of.
async fn member_context(state: &State, room_id: i64, member_id: i64) -> Result<RoomContext, PageError> {
    let ctx = RoomContext::load(&state.rules(), room_id, member_id).await?;
    if ctx.role().is_none() {
        // Say why, and until when: no dead end without a reason.
        let name = &ctx.room.name;
        let detail = match memberships::active_ban(&mut state.db.conn().await?, room_id, member_id).await? {
            Some(Some(until)) => {
                format!("You are banned from {name} until {}.", time_text(until.and_utc().timestamp_millis()))
            }
            Some(None) => format!("You are banned from {name}."),
            None => format!("You are not a member of {name}. Join it from “Find or create a room”."),
        };
        return Err(PageError::forbidden(detail));
    }
    Ok(ctx)
}

/// The room's id and its name as the caller sees it (a direct room is named after the other member).
async fn room_item(state: &State, ctx: &RoomContext) -> Result<RoomItem, PageError> {
    let view = views::room_view(state, &ctx.room, ctx.caller, ctx.role()).await?;
    Ok(RoomItem { id: view.id, name: view.name })
}

async fn member_name(state: &State, member_id: i64) -> Result<String, PageError> {
    let member =
        members::by_id(&mut state.db.conn().await?, member_id).await?.ok_or(PageError::LoginRequired)?;
    Ok(member.display_name)
}

/// The room's members as the room page lists them: who is online first (then by name), with their
/// presence from one batched query and their read positions.
async fn people(state: &State, ctx: &RoomContext) -> Result<(Vec<PersonItem>, usize), PageError> {
    let mut members = memberships::members_of(&mut state.db.conn().await?, ctx.room.id).await?;
    let more = members.len().saturating_sub(MAX_LISTED);
    members.truncate(MAX_LISTED);
    let ids: Vec<i64> = members.iter().map(|(m, _)| m.id).collect();
    let presence = state.presence.of(&ids).await;
    let mut people: Vec<PersonItem> = members
        .into_iter()
        .map(|(member, membership)| PersonItem {
            // The reader is here, opening the page, even before its socket has told presence.
            presence: if member.id == ctx.caller {
                PresenceLabel::online()
            } else {
                PresenceLabel::of(presence.get(&member.id))
            },
            you: member.id == ctx.caller,
            avatar: member.avatar_url.clone().filter(|url| !url.is_empty()),
            role: membership.role().as_str(),
            id: member.id,
            username: member.username,
            display_name: member.display_name,
            read_position: membership.read_position,
        })
        .collect();
    people.sort_by_key(|p| {
        (p.presence.state != "online" && p.presence.state != "away", p.display_name.to_lowercase())
    });
    Ok((people, more))
}

/// The other member of a direct room, and whether the caller blocks them.
async fn peer(state: &State, ctx: &RoomContext) -> Result<Option<PeerItem>, PageError> {
    let Some((a, b)) = ctx.room.direct_pair() else { return Ok(None) };
    let other = if a == ctx.caller { b } else { a };
    let Some(member) = members::by_id(&mut state.db.conn().await?, other).await? else { return Ok(None) };
    Ok(Some(PeerItem {
        blocked: direct::has_blocked(&mut state.db.conn().await?, ctx.caller, other).await?,
        username: member.username,
        display_name: member.display_name,
    }))
}

/// `GET /rooms/{room}`: the live room (its script connects to the message host).
#[utoipa::path(get, path = "/rooms/{room}", params(("room" = i64, Path, description = "the room id")), responses((status = 200, description = "the page", content_type = "text/html"), (status = 303, description = "see other (a redirect: the next page, or the login page)"), (status = 403, description = "not allowed (Error)", content_type = "text/html"), (status = 404, description = "no such resource, or hidden from the caller (Error)", content_type = "text/html"), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", content_type = "text/html")), security(("session" = [])), tag = "pages")]
pub(crate) async fn room_page(
    state: web::Data<State>,
    path: web::Path<i64>,
    SignedIn { member_id, session }: SignedIn,
) -> Result<RoomPage, PageError> {
    let ctx = member_context(&state, path.into_inner(), member_id).await?;
    let role = ctx.require_member()?;
    let direct = ctx.room.kind() == RoomKind::Direct;
    let access = room_access(&state.rules(), ctx.room.id, member_id).await?;
    let (people, more_people) = people(&state, &ctx).await?;
    let now_ms = chrono::Utc::now().timestamp_millis();
    Ok(RoomPage {
        me_id: member_id,
        read_position: ctx.membership.as_ref().and_then(|m| m.read_position).unwrap_or(0),
        can_post: access.may_post(now_ms).is_ok(),
        can_react: access.may_react(now_ms).is_ok(),
        notify: ctx.membership.as_ref().map_or(NotifyLevel::Mentions, |m| m.notify()).as_str(),
        notify_choices: [("all", "All messages"), ("mentions", "Mentions"), ("nothing", "Nothing")],
        can_moderate: role >= Role::Admin,
        people,
        more_people,
        csrf: auth::csrf_token(&session)?,
        member_name: member_name(&state, member_id).await?,
        sidebar: super::rooms::sidebar(&state, member_id, ctx.room.id).await?,
        room: room_item(&state, &ctx).await?,
        ws_url: state.message_public_url.clone(),
        topic: ctx.room.topic.clone(),
        role: role.as_str(),
        visibility: manage::visibility_label(ctx.room.visibility()),
        member_count: ctx.room.member_count.max(0) as u32,
        capacity: ctx.room.capacity.max(0) as u32,
        archived: ctx.room.is_archived(),
        read_only: access.read_only.map(|reason| reason.explain().to_owned()),
        muted_until: access.muted_until_ms.map(time_text),
        can_manage: !direct && role >= Role::Admin,
        // Owners hand the room over first; a direct room once left could not be entered again.
        can_leave: !direct && role != Role::Owner,
        peer: peer(&state, &ctx).await?,
    })
}

/// `GET /rooms/{room}/history`: the newest messages, rendered on the server.
#[utoipa::path(get, path = "/rooms/{room}/history", params(("room" = i64, Path, description = "the room id")), responses((status = 200, description = "the page", content_type = "text/html"), (status = 303, description = "see other (a redirect: the next page, or the login page)"), (status = 403, description = "not allowed (Error)", content_type = "text/html"), (status = 404, description = "no such resource, or hidden from the caller (Error)", content_type = "text/html"), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", content_type = "text/html")), security(("session" = [])), tag = "pages")]
pub(crate) async fn history_page(
    state: web::Data<State>,
    path: web::Path<i64>,
    SignedIn { member_id, session }: SignedIn,
) -> Result<HistoryPage, PageError> {
    let ctx = member_context(&state, path.into_inner(), member_id).await?;
    let room = room_item(&state, &ctx).await?;
    let stored =
        state.history.recent(room.id, None, HISTORY_PAGE_SIZE).await.map_err(PageError::unavailable)?;
    // The reader's own whispers among them, each after the message it followed.
    let from = stored.first().map_or(0, |m| m.position - 1);
    let mut whispers = state
        .history
        .whispers(room.id, member_id, from, None, HISTORY_PAGE_SIZE)
        .await
        .map_err(PageError::unavailable)?
        .into_iter()
        .peekable();
    let mut messages = Vec::with_capacity(stored.len());
    let mut whisper_items = |messages: &mut Vec<HistoryItem>, up_to: i64| {
        while let Some(w) = whispers.next_if(|w| w.after <= up_to) {
            let label = if w.sender_id == member_id {
                format!("🔒 Whisper to {}", w.to_name)
            } else {
                format!("🔒 {} whispers to you", w.sender_name)
            };
            messages.push(HistoryItem {
                position: w.after,
                sender: w.sender_name,
                sent_at: time_text(w.sent_at_ms),
                text: w.text,
                edited: false,
                deleted: false,
                reply_to: None,
                file: None,
                whisper: Some((label, w.message_id.to_string())),
            });
        }
    };
    for m in stored {
        whisper_items(&mut messages, m.position - 1);
        messages.push(HistoryItem {
            position: m.position,
            sender: m.posted.sender_name,
            sent_at: time_text(m.posted.sent_at_ms),
            reply_to: m.posted.reply_to,
            file: m.posted.file,
            text: m.posted.text,
            edited: m.edited_at_ms.is_some(),
            deleted: m.deleted,
            whisper: None,
        });
    }
    whisper_items(&mut messages, i64::MAX);
    Ok(HistoryPage {
        csrf: auth::csrf_token(&session)?,
        member_name: member_name(&state, member_id).await?,
        room,
        messages,
    })
}

/// `POST /rooms/{room}/leave`.
#[utoipa::path(post, path = "/rooms/{room}/leave", params(("room" = i64, Path, description = "the room id")), request_body(content = CsrfOnly, content_type = "application/x-www-form-urlencoded"), responses((status = 303, description = "see other (a redirect: the next page, or the login page)"), (status = 400, description = "the request is malformed or breaks a rule (Error)", content_type = "text/html"), (status = 403, description = "not allowed (Error)", content_type = "text/html"), (status = 404, description = "no such resource, or hidden from the caller (Error)", content_type = "text/html"), (status = 409, description = "conflicts with the current state (Error)", content_type = "text/html"), (status = 413, description = "the body is too large (Error)", content_type = "text/html"), (status = 415, description = "the body has an unsupported type (Error)", content_type = "text/html"), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", content_type = "text/html")), security(("session" = [])), tag = "pages")]
pub(crate) async fn leave_room(
    state: web::Data<State>,
    path: web::Path<i64>,
    SignedIn { member_id, .. }: SignedIn,
    _: CsrfForm<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    let ctx = RoomContext::load(&state.rules(), path.into_inner(), member_id).await?;
    joining::leave(&state.rules(), &ctx).await?;
    Ok(see_other("/rooms"))
}

/// `POST /rooms/{room}/read` (JSON `{"position": n}`, the CSRF token in `X-CSRF-Token`): the room
/// page's script saying what the member has seen. Answers JSON, errors included.
#[utoipa::path(post, path = "/rooms/{room}/read", operation_id = "page_mark_read", params(("room" = i64, Path, description = "the room id")), request_body = natter_proto::rooms::MarkRead, responses((status = 200, description = "OK", body = natter_proto::rooms::ReadPosition), (status = 400, description = "the request is malformed or breaks a rule (Error)", body = natter_proto::http::ErrorBody), (status = 401, description = "no valid credentials (Error)", body = natter_proto::http::ErrorBody), (status = 403, description = "not allowed (Error)", body = natter_proto::http::ErrorBody), (status = 404, description = "no such resource, or hidden from the caller (Error)", body = natter_proto::http::ErrorBody), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", body = natter_proto::http::ErrorBody)), security(("session" = [])), tag = "pages")]
pub(crate) async fn mark_read(
    state: web::Data<State>,
    session: Session,
    request: HttpRequest,
    path: web::Path<i64>,
    body: web::Json<MarkRead>,
) -> Result<HttpResponse, ApiError> {
    let member_id = auth::session_member(&session).ok_or_else(|| ApiError::unauthorized("Log in first."))?;
    let presented = request.headers().get("X-CSRF-Token").and_then(|v| v.to_str().ok()).unwrap_or_default();
    auth::check_csrf(&session, presented)
        .map_err(|_| ApiError::forbidden("The CSRF token is missing or wrong; reload the page."))?;
    if body.position < 0 {
        return Err(ApiError::bad_request("position is not negative"));
    }
    let ctx = RoomContext::load(&state.rules(), path.into_inner(), member_id).await?;
    ctx.require_member()?;
    let position =
        reads::mark(&state, ctx.room.id, ctx.caller, body.position).await.map_err(RoomError::from)?;
    Ok(HttpResponse::Ok().json(ReadPosition { room_id: ctx.room.id, position }))
}
