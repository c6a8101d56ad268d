//! The room management page for owners and admins: settings, members and moderation, invitations,
//! invite links, the audit log, and (owners) archiving, handing over and deleting. Every form posts to
//! `/rooms/{room}/manage/{action}`; the service functions in `crate::rooms` check who may do what.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use natter_db::{Role, audit, members, memberships};
use natter_proto::rooms::{NewInviteLink, RoomUpdate};
use serde::Deserialize;

use super::rooms::{optional_number, visibility_field};
use crate::app::State;
use crate::auth;
use crate::error::PageError;
use crate::extract::{CsrfForm, SignedIn};
use crate::page_format::{query_value, see_other, time_text, visibility_options};
use crate::rooms::{RoomContext, RoomError, joining, manage, moderation, views};
use crate::templates::{AuditItem, LinkItem, ManagePage, ManagedMember, NewLinkItem, ReportItem, RoomItem};

/// Audit records shown.
const AUDIT_SHOWN: i64 = 100;
/// Longest mute or timed ban the form offers: one year.
const MAX_MINUTES: u32 = 366 * 24 * 60;

fn bad_request(detail: impl Into<String>) -> PageError {
    PageError::Status(StatusCode::BAD_REQUEST, detail.into())
}

/// The room of the path, for its owner or an admin (403 for other members, 404 for outsiders of
/// private rooms).
async fn moderator_context(state: &State, room_id: i64, member_id: i64) -> Result<RoomContext, PageError> {
    let ctx = RoomContext::load(&state.rules(), room_id, member_id).await?;
    ctx.require_role(Role::Admin)?;
    ctx.require_community()?;
    Ok(ctx)
}

/// What a successful post did, shown after the redirect (`?done=`): fixed texts only.
fn notice(done: &str) -> Option<&'static str> {
    Some(match done {
        "update" => "The room's settings are saved.",
        "role" => "The role is changed.",
        "kick" => "The member is removed from the room.",
        "mute" => "The member is muted.",
        "unmute" => "The member may post again.",
        "ban" => "The member is banned.",
        "unban" => "The ban is lifted.",
        "invite" => "The member is invited; they can join from their room list.",
        "revoke-link" => "The invite link is revoked.",
        "archive" => "The room is archived (read-only).",
        "unarchive" => "The room is open again.",
        "transfer" => "You handed the room over.",
        _ => return None,
    })
}

fn link_state(link: &natter_proto::rooms::InviteLink, now_ms: i64) -> &'static str {
    if link.revoked {
        "revoked"
    } else if link.expires_at_ms <= now_ms {
        "expired"
    } else if link.max_uses.is_some_and(|max| link.uses >= max) {
        "used up"
    } else {
        "active"
    }
}

/// Builds the manage page (also answered directly to the post that creates an invite link).
async fn render(
    state: &State,
    session: &Session,
    ctx: &RoomContext,
    notice: Option<&'static str>,
    new_link: Option<NewLinkItem>,
) -> Result<ManagePage, PageError> {
    let role = ctx.require_role(Role::Admin)?;
    let me =
        members::by_id(&mut state.db.conn().await?, ctx.caller).await?.ok_or(PageError::LoginRequired)?;
    let members: Vec<_> = memberships::members_of(&mut state.db.conn().await?, ctx.room.id)
        .await?
        .into_iter()
        .map(views::member_view)
        .collect();
    let mut names: HashMap<i64, String> =
        members.iter().map(|m| (m.member_id, format!("{} (@{})", m.display_name, m.username))).collect();
    let audit: Vec<_> = audit::log(&mut state.db.conn().await?, ctx.room.id, AUDIT_SHOWN)
        .await
        .map_err(RoomError::from)?
        .into_iter()
        .map(views::audit_view)
        .collect();
    for target in audit.iter().filter_map(|a| a.target_id) {
        if let Entry::Vacant(entry) = names.entry(target) {
            let name = members::by_id(&mut state.db.conn().await?, target).await?.map_or_else(
                || format!("member {target}"),
                |m| format!("{} (@{})", m.display_name, m.username),
            );
            entry.insert(name);
        }
    }
    let now_ms = chrono::Utc::now().timestamp_millis();
    let links = joining::links(&state.rules(), ctx)
        .await?
        .into_iter()
        .map(|link| {
            let state = link_state(&link, now_ms);
            LinkItem {
                id: link.id,
                expires_at: time_text(link.expires_at_ms),
                uses: link.uses,
                max_uses: link.max_uses,
                state,
                active: state == "active",
            }
        })
        .collect();
    let reports = crate::reports::list(state, ctx.room.id)
        .await?
        .into_iter()
        .map(|r| ReportItem {
            at: time_text(r.created_at_ms),
            reporter: r.reporter_name,
            author: r.author_name,
            text: r.text,
            reason: r.reason,
            whisper: r.whisper,
        })
        .collect();
    Ok(ManagePage {
        reports,
        csrf: auth::csrf_token(session)?,
        member_name: me.display_name,
        sidebar: super::rooms::sidebar(state, ctx.caller, ctx.room.id).await?,
        room: RoomItem { id: ctx.room.id, name: ctx.room.name.clone() },
        topic: ctx.room.topic.clone(),
        capacity: ctx.room.capacity.max(0) as u32,
        archived: ctx.room.is_archived(),
        role: role.as_str(),
        owner: role == Role::Owner,
        visibilities: visibility_options(ctx.room.visibility()),
        grantable: [Role::Admin, Role::Member, Role::Observer]
            .into_iter()
            .filter(|r| *r < role)
            .map(Role::as_str)
            .collect(),
        members: members
            .into_iter()
            .map(|m| ManagedMember {
                id: m.member_id,
                you: m.member_id == ctx.caller,
                moderatable: m.member_id != ctx.caller && m.role < role,
                username: m.username,
                display_name: m.display_name,
                role: m.role.as_str(),
                muted_until: m.muted_until_ms.map(time_text),
                joined_at: time_text(m.joined_at_ms),
            })
            .collect(),
        links,
        new_link,
        audit: audit
            .into_iter()
            .map(|a| AuditItem {
                at: time_text(a.at_ms),
                actor: a.actor_name,
                target: a.target_id.and_then(|t| names.get(&t).cloned()).unwrap_or_default(),
                action: a.action,
                detail: a.detail,
            })
            .collect(),
        notice,
    })
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ManageQuery {
    #[serde(default)]
    done: String,
}

/// `GET /rooms/{room}/manage`.
#[utoipa::path(get, path = "/rooms/{room}/manage", params(("room" = i64, Path, description = "the room id"), ManageQuery), responses((status = 200, description = "the page", content_type = "text/html"), (status = 303, description = "see other (a redirect: the next page, or the login page)"), (status = 400, description = "the request is malformed or breaks a rule (Error)", content_type = "text/html"), (status = 403, description = "not allowed (Error)", content_type = "text/html"), (status = 404, description = "no such resource, or hidden from the caller (Error)", content_type = "text/html"), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", content_type = "text/html")), security(("session" = [])), tag = "pages")]
pub(crate) async fn manage_page(
    state: web::Data<State>,
    path: web::Path<i64>,
    query: web::Query<ManageQuery>,
    SignedIn { member_id, session }: SignedIn,
) -> Result<ManagePage, PageError> {
    let ctx = moderator_context(&state, path.into_inner(), member_id).await?;
    render(&state, &session, &ctx, notice(&query.done), None).await
}

/// The fields of every manage form; each action reads the ones it needs (all text, so that an empty
/// optional number is not a malformed form).
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct ManageForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    topic: String,
    #[serde(default)]
    visibility: String,
    #[serde(default)]
    capacity: String,
    /// A member id (the members table's forms).
    #[serde(default)]
    member: String,
    /// A username or member id typed in (ban, unban).
    #[serde(default)]
    who: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    minutes: String,
    #[serde(default)]
    hours: String,
    #[serde(default)]
    max_uses: String,
    #[serde(default)]
    link: String,
    /// The delete form's checkbox.
    #[serde(default)]
    confirm: String,
}

impl ManageForm {
    /// The member the form is about: `member` (an id), else `who` (a username, or an id).
    async fn target(&self, state: &State) -> Result<i64, PageError> {
        if let Some(id) = optional_number::<i64>(&self.member, "The member")? {
            return Ok(id);
        }
        let who = self.who.trim().trim_start_matches('@');
        if who.is_empty() {
            return Err(bad_request("Name a member (username or member id)."));
        }
        if let Some(member) = members::by_username(&mut state.db.conn().await?, who).await? {
            return Ok(member.id);
        }
        who.parse().map_err(|_| PageError::not_found("No member has that username."))
    }

    /// `minutes` from now, in milliseconds since the epoch; `None` when empty.
    fn until_ms(&self) -> Result<Option<i64>, PageError> {
        let Some(minutes) = optional_number::<u32>(&self.minutes, "Minutes")? else { return Ok(None) };
        if !(1..=MAX_MINUTES).contains(&minutes) {
            return Err(bad_request(format!("Minutes are between 1 and {MAX_MINUTES}.")));
        }
        Ok(Some(chrono::Utc::now().timestamp_millis() + i64::from(minutes) * 60_000))
    }
}

/// `POST /rooms/{room}/manage/{action}`.
#[utoipa::path(post, path = "/rooms/{room}/manage/{action}", params(("room" = i64, Path, description = "the room id"), ("action" = String, Path, description = "the manage action")), request_body(content = ManageForm, content_type = "application/x-www-form-urlencoded"), responses((status = 303, description = "see other (a redirect: the next page, or the login page)"), (status = 400, description = "the request is malformed or breaks a rule (Error)", content_type = "text/html"), (status = 403, description = "not allowed (Error)", content_type = "text/html"), (status = 404, description = "no such resource, or hidden from the caller (Error)", content_type = "text/html"), (status = 409, description = "conflicts with the current state (Error)", content_type = "text/html"), (status = 413, description = "the body is too large (Error)", content_type = "text/html"), (status = 415, description = "the body has an unsupported type (Error)", content_type = "text/html"), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", content_type = "text/html")), security(("session" = [])), tag = "pages")]
pub(crate) async fn manage_action(
    state: web::Data<State>,
    path: web::Path<(i64, String)>,
    SignedIn { member_id, session }: SignedIn,
    form: CsrfForm<ManageForm>,
) -> Result<HttpResponse, PageError> {
    let (room_id, action) = path.into_inner();
    let ctx = RoomContext::load(&state.rules(), room_id, member_id).await?;
    match action.as_str() {
        "update" => {
            let update = RoomUpdate {
                name: Some(form.name.clone()),
                topic: Some(form.topic.clone()),
                visibility: Some(visibility_field(&form.visibility)?),
                capacity: optional_number(&form.capacity, "Capacity")?,
            };
            manage::update(&state.rules(), &ctx, &update).await?;
        }
        "role" => {
            let role = Role::parse(form.role.trim())
                .ok_or_else(|| bad_request("The role is admin, member or observer."))?;
            moderation::set_role(&state.rules(), &ctx, form.target(&state).await?, role).await?;
        }
        "kick" => moderation::kick(&state.rules(), &ctx, form.target(&state).await?).await?,
        "mute" => {
            let until = form.until_ms()?.ok_or_else(|| bad_request("Say for how many minutes."))?;
            moderation::mute(&state.rules(), &ctx, form.target(&state).await?, Some(until)).await?;
        }
        "unmute" => moderation::unmute(&state.rules(), &ctx, form.target(&state).await?).await?,
        "ban" => moderation::ban(&state.rules(), &ctx, form.target(&state).await?, form.until_ms()?).await?,
        "unban" => moderation::unban(&state.rules(), &ctx, form.target(&state).await?).await?,
        "invite" => joining::invite(&state.rules(), &ctx, &form.username).await?,
        "create-link" => return create_link(&state, &session, &ctx, &form).await,
        "revoke-link" => {
            let link =
                optional_number::<i64>(&form.link, "The link")?.ok_or_else(|| bad_request("Which link?"))?;
            joining::revoke_link(&state.rules(), &ctx, link).await?;
        }
        "archive" => manage::set_archived(&state.rules(), &ctx, true).await?,
        "unarchive" => manage::set_archived(&state.rules(), &ctx, false).await?,
        "transfer" => manage::transfer(&state.rules(), &ctx, form.target(&state).await?).await?,
        "delete" => {
            if form.confirm.is_empty() {
                return Err(bad_request("Tick the box to confirm deleting the room."));
            }
            manage::delete(&state.rules(), &ctx).await?;
            return Ok(see_other("/rooms"));
        }
        _ => return Err(PageError::not_found("No such action.")),
    }
    Ok(see_other(&format!("/rooms/{room_id}/manage?done={action}")))
}

/// Creates an invite link and answers the manage page with its code: the only time it is shown.
async fn create_link(
    state: &State,
    session: &Session,
    ctx: &RoomContext,
    form: &ManageForm,
) -> Result<HttpResponse, PageError> {
    let hours = optional_number::<u64>(&form.hours, "Hours")?;
    let new = NewInviteLink {
        expires_in_s: hours.map(|h| h.saturating_mul(3600)),
        max_uses: optional_number(&form.max_uses, "Uses")?,
    };
    let link = joining::create_link(&state.rules(), ctx, &new).await?;
    let code = link.code.clone().unwrap_or_default();
    let new_link = NewLinkItem {
        url: format!("{}/rooms?invite={}", state.public_url.trim_end_matches('/'), query_value(&code)),
        expires_at: time_text(link.expires_at_ms),
        code,
    };
    let page = render(state, session, ctx, Some("The invite link is created."), Some(new_link)).await?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(page.render().map_err(PageError::internal)?))
}

crate::extract::csrf_field!(ManageForm);
