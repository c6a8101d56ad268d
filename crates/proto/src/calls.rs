//! Calls: who is in a room's call, and the WebRTC signalling that connects them.
//!
//! Media goes peer to peer (a mesh: each participant connects to each other one); Natter carries who
//! is in the call and relays the signalling. A participant is a *connection* (a device) holding a
//! seat in one room's call, named by a session id the message pod gives it. Seats travel with the
//! connection's presence (see `PodHeartbeat`), so a closed connection or a dead pod leaves the call
//! the way it goes offline: at once, or when the pod's lease ends.

use serde::{Deserialize, Serialize};

use crate::{MemberId, RoomId};

/// Largest `data` of a `signal` frame, as JSON (an SDP offer with audio and video is 3-8 KB); below
/// the default frame limit (16 KiB), so a too-large signal is told apart from a too-large frame.
pub const MAX_SIGNAL_BYTES: usize = 12 * 1024;
/// `signal` frames one connection may send per second (ICE candidates come in bursts).
pub const SIGNALS_PER_SECOND: u32 = 50;
/// Longest session id accepted anywhere (the pods' own are 32 hex digits).
pub const MAX_SESSION_LEN: usize = 64;

/// What a participant sends. All false: listening only (what observers and muted members may do).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallMedia {
    /// A microphone track.
    #[serde(default)]
    pub audio: bool,
    /// A camera track.
    #[serde(default)]
    pub video: bool,
    /// A shared screen.
    #[serde(default)]
    pub screen: bool,
    /// The microphone is muted by its owner (the track stays, silent).
    #[serde(default)]
    pub muted: bool,
}

impl CallMedia {
    /// Whether the participant sends any media (not just listening).
    pub fn sends(&self) -> bool {
        self.audio || self.video || self.screen
    }
}

/// One participant of a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CallParticipant {
    /// The participant's session id: the address of `signal` frames to it.
    pub session: String,
    pub member_id: MemberId,
    /// Display name when joining.
    pub name: String,
    pub media: CallMedia,
    /// When they joined (milliseconds since the Unix epoch, UTC).
    pub since_ms: i64,
}

/// A connection's seat in a call, as its pod reports it to presence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CallSeat {
    pub room: RoomId,
    pub participant: CallParticipant,
}

/// Who is in a room's call. `version` grows with every change of the room's call (it is at least
/// the time of the change in milliseconds, so it keeps growing even when presence's store starts
/// empty): of two states of a room, the higher version is the newer; a client keeps that one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CallState {
    pub room_id: RoomId,
    pub version: u64,
    /// In the order they joined; empty when nobody is in the call.
    pub participants: Vec<CallParticipant>,
}

/// Whether `session` is a well-formed session id.
pub fn valid_session(session: &str) -> bool {
    !session.is_empty()
        && session.len() <= MAX_SESSION_LEN
        && session.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_short_and_plain() {
        assert!(valid_session("0193a8c2f1e07c3d9a1b2c3d4e5f6a7b"));
        assert!(!valid_session(""));
        assert!(!valid_session(&"a".repeat(MAX_SESSION_LEN + 1)));
        assert!(!valid_session("a|b"), "presence stores fields with '|' and '/'");
        assert!(!valid_session("a/b"));
    }

    #[test]
    fn listening_only_sends_nothing() {
        assert!(!CallMedia::default().sends());
        assert!(!CallMedia { muted: true, ..CallMedia::default() }.sends());
        assert!(CallMedia { audio: true, muted: true, ..CallMedia::default() }.sends());
    }
}
