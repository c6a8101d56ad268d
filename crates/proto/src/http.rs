//! Bodies of the HTTP APIs between services (documented in `proto/openapi.json`).

use serde::{Deserialize, Serialize};

use crate::{MemberId, RoomId};

/// Web's answer to "may this member use this room?" (`GET /internal/rooms/{room}/members/{member}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomAccess {
    pub room_id: RoomId,
    pub member_id: MemberId,
    /// `None` when the member is not in the room.
    pub role: Option<RoomRole>,
}

/// A member's role in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomRole {
    Owner,
    Member,
}

/// A message pod reports a new WebSocket connection to presence
/// (`PUT /internal/connections/{connection_id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionOpened {
    pub member_id: MemberId,
    /// The message pod holding the connection.
    pub pod_id: String,
}

/// A message pod reports a closed connection (`DELETE /internal/connections/{connection_id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionClosed {
    pub member_id: MemberId,
}

/// One member's presence (`GET /internal/presence?members=1,2`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberPresence {
    pub member_id: MemberId,
    pub online: bool,
    /// Live connections across all pods.
    pub connections: u32,
}

/// The error body of every HTTP API: `{"errors":[{"detail":"..."}]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub errors: Vec<ErrorDetail>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub detail: String,
}

impl ErrorBody {
    pub fn new(detail: impl Into<String>) -> Self {
        Self { errors: vec![ErrorDetail { detail: detail.into() }] }
    }
}

/// `POST /api/v1/auth/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// Tokens of a REST login (`/api/v1/auth/login` and `/api/v1/auth/refresh`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenPair {
    /// EdDSA JWT, audience `natter-api`; send as `Authorization: Bearer`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds the access token is valid.
    pub expires_in: u64,
    /// Opaque; use once at `/api/v1/auth/refresh` to get the next pair.
    pub refresh_token: String,
}

/// `POST /api/v1/auth/refresh` and `POST /api/v1/auth/logout`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// `GET /api/v1/me`: the member the access token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub id: MemberId,
    pub username: String,
    pub display_name: String,
}

/// A message-host token (`GET /ws-token` with a session, `GET /api/v1/ws-token` with an access token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WsToken {
    pub token: String,
    pub expires_in: u64,
}
