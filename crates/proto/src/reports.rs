//! Reports of messages to a room's owners and admins (`/api/v1/rooms/{room}/reports`).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::MemberId;

/// Longest reason, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// `POST /api/v1/rooms/{room}/reports`: a message of the room, or a whisper the caller received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReport {
    pub message_id: Uuid,
    /// Why (1 to 500 characters).
    pub reason: String,
}

/// A report, as the room's owners and admins see it: the message as it was when reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReportView {
    pub id: i64,
    pub message_id: Uuid,
    /// A whisper (shown to moderators only through its recipient's report).
    pub whisper: bool,
    pub author_id: MemberId,
    pub author_name: String,
    pub text: String,
    pub reason: String,
    pub reporter_id: MemberId,
    pub reporter_name: String,
    pub created_at_ms: i64,
}

/// Answer to filing a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReportFiled {
    pub id: i64,
}
