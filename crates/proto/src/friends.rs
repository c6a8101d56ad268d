//! Friends over the REST API (`/api/v1/friends`): requests, friendships, and who may start a direct
//! chat with a member.

use serde::{Deserialize, Serialize};

use crate::MemberId;
use crate::http::PresenceState;

/// Someone in a member's friends list or requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Friend {
    pub member_id: MemberId,
    pub username: String,
    pub display_name: String,
    /// `None` when presence could not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence: Option<PresenceState>,
    /// When an offline friend was last seen (milliseconds since the Unix epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen_ms: Option<i64>,
}

/// Who may start a direct chat with a member (chats that exist go on either way).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DirectFrom {
    #[default]
    Everyone,
    Friends,
}

impl DirectFrom {
    pub fn as_str(self) -> &'static str {
        match self {
            DirectFrom::Everyone => "everyone",
            DirectFrom::Friends => "friends",
        }
    }

    /// The stored form back; anything unknown reads as the default.
    pub fn parse(stored: &str) -> Self {
        if stored == "friends" { DirectFrom::Friends } else { DirectFrom::Everyone }
    }
}

/// `GET /api/v1/friends`: the caller's friends (online first, then away, then offline, each by
/// name), the requests waiting for them (`incoming`) and theirs waiting for others (`outgoing`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FriendsView {
    pub friends: Vec<Friend>,
    pub incoming: Vec<Friend>,
    pub outgoing: Vec<Friend>,
    pub direct_from: DirectFrom,
}

/// Answer to `PUT /api/v1/friends/requests/{username}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FriendRequestOutcome {
    /// Waiting for their answer.
    Sent,
    /// They had asked you first: you are friends now.
    Befriended,
    AlreadyFriends,
}

/// `PUT /api/v1/me/privacy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Privacy {
    pub direct_from: DirectFrom,
}
