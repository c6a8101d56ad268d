//! Friends: asking, accepting, declining or cancelling, unfriending; the friends list with presence
//! (online first); and who may start a direct chat with a member (everyone, or friends only).
//!
//! A block ends the friendship and any request between the two, and refuses new requests either way
//! (without saying who blocked whom). Every change is announced to both members' open connections
//! (`friends_changed` through the presence topic), so a request shows at once.

use natter_db::{Member, direct, friends};
use natter_proto::events::{FriendsChanged, PresenceEvent};
use natter_proto::friends::{DirectFrom, Friend, FriendRequestOutcome, FriendsView};
use natter_proto::http::PresenceState;
use natter_proto::topics::{Topic, member_key};

use crate::app::State;
use crate::rooms::{RoomError, Rules, direct::other_member};

/// `caller` asks `username` to be friends.
pub(crate) async fn request(
    state: &State,
    caller: i64,
    username: &str,
) -> Result<FriendRequestOutcome, RoomError> {
    let rules = state.rules();
    let (other, outcome) = rules
        .transaction(async |mut tx| {
            let other = other_member(&mut tx, caller, username).await?;
            if direct::has_blocked(&mut tx, other.id, caller).await?
                || direct::has_blocked(&mut tx, caller, other.id).await?
            {
                return Err(RoomError::forbidden("You cannot send a friend request to this member."));
            }
            let outcome = match friends::request(&mut tx, caller, other.id).await? {
                friends::Requested::Sent => FriendRequestOutcome::Sent,
                friends::Requested::Befriended => FriendRequestOutcome::Befriended,
                friends::Requested::AlreadyFriends => FriendRequestOutcome::AlreadyFriends,
            };
            Ok((other, outcome))
        })
        .await?;
    if outcome != FriendRequestOutcome::AlreadyFriends {
        announce(&rules, &[caller, other.id]).await;
    }
    Ok(outcome)
}

/// What a change between `caller` and `username` does.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Answer {
    /// Accept their request.
    Accept,
    /// Decline theirs or cancel one's own.
    Withdraw,
    /// End the friendship.
    Unfriend,
}

/// Accepts, withdraws or ends, as `answer` says; 404 when there is nothing to do so.
pub(crate) async fn answer(
    state: &State,
    caller: i64,
    username: &str,
    answer: Answer,
) -> Result<(), RoomError> {
    let rules = state.rules();
    let other = rules
        .transaction(async |mut tx| {
            let other = other_member(&mut tx, caller, username).await?;
            let (done, missing) = match answer {
                Answer::Accept => {
                    (friends::accept(&mut tx, caller, other.id).await?, "No friend request from that member.")
                }
                Answer::Withdraw => {
                    (friends::withdraw(&mut tx, caller, other.id).await?, "No friend request between you.")
                }
                Answer::Unfriend => {
                    (friends::unfriend(&mut tx, caller, other.id).await?, "You are not friends.")
                }
            };
            if !done {
                return Err(RoomError::NotFound(missing.to_owned()));
            }
            Ok(other)
        })
        .await?;
    announce(&rules, &[caller, other.id]).await;
    Ok(())
}

/// The member's friends (online first, then away, then offline, each by name) and requests.
pub(crate) async fn view(state: &State, member: i64) -> Result<FriendsView, RoomError> {
    let (circle, direct_from) = {
        let mut conn = state.db.conn().await?;
        let circle = friends::circle(&mut conn, member).await?;
        (circle, friends::direct_from(&mut conn, member).await?)
    };
    let ids: Vec<i64> = circle.friends.iter().map(|m| m.id).collect();
    let presence = state.presence.of(&ids).await;
    let person = |m: Member| {
        let seen = presence.get(&m.id);
        Friend {
            member_id: m.id,
            username: m.username,
            display_name: m.display_name,
            presence: seen.map(|p| p.state),
            last_seen_ms: seen.and_then(|p| p.last_seen_ms),
        }
    };
    let mut listed: Vec<Friend> = circle.friends.into_iter().map(person).collect();
    let rank = |f: &Friend| match f.presence {
        Some(PresenceState::Online) => 0,
        Some(PresenceState::Away) => 1,
        _ => 2,
    };
    // Stable: the names' order stays within each group.
    listed.sort_by_key(rank);
    let plain = |m: Member| Friend {
        member_id: m.id,
        username: m.username,
        display_name: m.display_name,
        presence: None,
        last_seen_ms: None,
    };
    Ok(FriendsView {
        friends: listed,
        incoming: circle.incoming.into_iter().map(plain).collect(),
        outgoing: circle.outgoing.into_iter().map(plain).collect(),
        direct_from: DirectFrom::parse(&direct_from),
    })
}

/// Sets who may start a direct chat with `member`.
pub(crate) async fn set_direct_from(state: &State, member: i64, value: DirectFrom) -> Result<(), RoomError> {
    let mut conn = state.db.conn().await?;
    friends::set_direct_from(&mut conn, member, value.as_str()).await?;
    Ok(())
}

/// Tells `members`' open connections that their friends lists changed. Soft: a lost announcement
/// shows at the next reload.
pub(crate) async fn announce(rules: &Rules<'_>, members: &[i64]) {
    let event = PresenceEvent::Friends(FriendsChanged { member_ids: members.to_vec() });
    let payload = serde_json::to_vec(&event).expect("events serialise");
    let topic = Topic::Presence.name(rules.topic_prefix);
    let key = member_key(members.first().copied().unwrap_or_default());
    if let Err(e) = rules.bus.publish(&topic, &key, payload).await {
        tracing::warn!(error = %e, "friends change not announced");
    }
}
