//! The friends page: friends with their presence (online first), requests both ways, adding a
//! friend by username, and who may start a direct chat with the member. One form post serves every
//! button (`POST /friends`, `action` says which).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use natter_db::members;
use natter_proto::friends::{DirectFrom, FriendRequestOutcome};
use serde::Deserialize;

use crate::app::State;
use crate::auth;
use crate::error::PageError;
use crate::extract::{CsrfForm, SignedIn};
use crate::friends::{self, Answer};
use crate::page_format::see_other;
use crate::presence::PresenceLabel;
use crate::templates::{FriendItem, FriendsPage};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct FriendsQuery {
    /// What the last form post did, to say so.
    #[serde(default)]
    done: Option<String>,
}

/// `GET /friends`.
#[utoipa::path(get, path = "/friends", params(FriendsQuery), responses((status = 200, description = "the page", content_type = "text/html"), (status = 303, description = "see other (a redirect: the next page, or the login page)"), (status = 400, description = "the request is malformed or breaks a rule (Error)", content_type = "text/html"), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", content_type = "text/html")), security(("session" = [])), tag = "pages")]
pub(crate) async fn friends_page(
    state: web::Data<State>,
    query: web::Query<FriendsQuery>,
    SignedIn { member_id, session }: SignedIn,
) -> Result<FriendsPage, PageError> {
    let member =
        members::by_id(&mut state.db.conn().await?, member_id).await?.ok_or(PageError::LoginRequired)?;
    let view = friends::view(&state, member_id).await?;
    let item = |f: natter_proto::friends::Friend| {
        let presence = f.presence.map(|state| natter_proto::http::MemberPresence {
            member_id: f.member_id,
            state,
            connections: 0,
            rooms: Vec::new(),
            last_seen_ms: f.last_seen_ms,
        });
        let label = PresenceLabel::of(presence.as_ref());
        FriendItem {
            username: f.username,
            display_name: f.display_name,
            state: label.state,
            presence: label.text,
        }
    };
    let notice = match query.done.as_deref() {
        Some("sent") => "Friend request sent.",
        Some("befriended") => "They had asked you too: you are friends now.",
        Some("already_friends") => "You are friends already.",
        Some("accepted") => "Accepted: you are friends now.",
        Some("withdrawn") => "Done: the request is gone.",
        Some("removed") => "No longer friends.",
        Some("privacy") => "Saved.",
        _ => "",
    };
    Ok(FriendsPage {
        csrf: auth::csrf_token(&session)?,
        member_name: member.display_name,
        sidebar: super::rooms::sidebar(&state, member_id, 0).await?,
        friends: view.friends.into_iter().map(item).collect(),
        incoming: view.incoming.into_iter().map(item).collect(),
        outgoing: view.outgoing.into_iter().map(item).collect(),
        friends_only: view.direct_from == DirectFrom::Friends,
        notice,
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct FriendsForm {
    /// `request`, `accept`, `decline`, `cancel`, `remove` or `privacy`.
    #[serde(default)]
    action: String,
    #[serde(default)]
    username: String,
    /// For `privacy`: `everyone` or `friends`.
    #[serde(default)]
    direct_from: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /friends`: one of the page's buttons; back to the page, saying what happened.
#[utoipa::path(post, path = "/friends", request_body(content = FriendsForm, content_type = "application/x-www-form-urlencoded"), responses((status = 303, description = "see other (a redirect: the next page, or the login page)"), (status = 400, description = "the request is malformed or breaks a rule (Error)", content_type = "text/html"), (status = 403, description = "not allowed (Error)", content_type = "text/html"), (status = 404, description = "no such resource, or hidden from the caller (Error)", content_type = "text/html"), (status = 409, description = "conflicts with the current state (Error)", content_type = "text/html"), (status = 413, description = "the body is too large (Error)", content_type = "text/html"), (status = 415, description = "the body has an unsupported type (Error)", content_type = "text/html"), (status = 503, description = "a store is unavailable or not ready yet; retry (Error)", content_type = "text/html")), security(("session" = [])), tag = "pages")]
pub(crate) async fn friends_action(
    state: web::Data<State>,
    SignedIn { member_id, .. }: SignedIn,
    form: CsrfForm<FriendsForm>,
) -> Result<HttpResponse, PageError> {
    let username = form.username.trim().trim_start_matches('@');
    let done = match form.action.as_str() {
        "request" => match friends::request(&state, member_id, username).await? {
            FriendRequestOutcome::Sent => "sent",
            FriendRequestOutcome::Befriended => "befriended",
            FriendRequestOutcome::AlreadyFriends => "already_friends",
        },
        "accept" => {
            friends::answer(&state, member_id, username, Answer::Accept).await?;
            "accepted"
        }
        "decline" | "cancel" => {
            friends::answer(&state, member_id, username, Answer::Withdraw).await?;
            "withdrawn"
        }
        "remove" => {
            friends::answer(&state, member_id, username, Answer::Unfriend).await?;
            "removed"
        }
        "privacy" => {
            let value = match form.direct_from.as_str() {
                "everyone" => DirectFrom::Everyone,
                "friends" => DirectFrom::Friends,
                _ => {
                    return Err(PageError::Status(
                        StatusCode::BAD_REQUEST,
                        "Choose everyone or friends.".into(),
                    ));
                }
            };
            friends::set_direct_from(&state, member_id, value).await?;
            "privacy"
        }
        _ => return Err(PageError::Status(StatusCode::BAD_REQUEST, "Unknown action.".into())),
    };
    Ok(see_other(&format!("/friends?done={done}")))
}

crate::extract::csrf_field!(FriendsForm);
