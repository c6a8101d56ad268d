//! Asking presence for the dots and "last seen" of member lists: one batched call per page. A page
//! still renders when presence is down, its list then without dots ("unknown").

use std::collections::HashMap;
use std::time::Duration;

use natter_http::InternalClient;
use natter_proto::MemberId;
use natter_proto::http::{MemberPresence, PresenceState};

use crate::page_format::time_text;

/// Most members one page asks presence about (presence takes at most 1,000 per query).
pub(crate) const MAX_LISTED: usize = 200;
/// A page does not wait longer than this for dots.
const PATIENCE: Duration = Duration::from_secs(2);

pub(crate) struct PresenceClient {
    client: InternalClient,
}

impl PresenceClient {
    pub(crate) fn new(client: InternalClient) -> Self {
        Self { client }
    }

    /// Presence of `members` (at most [`MAX_LISTED`] are asked about); empty when presence cannot say.
    pub(crate) async fn of(&self, members: &[MemberId]) -> HashMap<MemberId, MemberPresence> {
        let members = &members[..members.len().min(MAX_LISTED)];
        if members.is_empty() {
            return HashMap::new();
        }
        let ids: Vec<String> = members.iter().map(ToString::to_string).collect();
        let path = format!("/internal/presence?members={}", ids.join(","));
        match tokio::time::timeout(PATIENCE, self.client.get_json::<Vec<MemberPresence>>(&path)).await {
            Ok(Ok(answer)) => answer.into_iter().map(|p| (p.member_id, p)).collect(),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "presence unavailable; member list without dots");
                HashMap::new()
            }
            Err(_) => {
                tracing::warn!("presence too slow; member list without dots");
                HashMap::new()
            }
        }
    }
}

/// What a member list shows of someone's presence: a dot class and words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PresenceLabel {
    /// `online`, `away`, `offline` or `unknown` (a CSS class and `data-state`).
    pub(crate) state: &'static str,
    pub(crate) text: String,
    /// When an offline member was last seen (the page's script words it: "5 minutes ago").
    pub(crate) last_seen_ms: Option<i64>,
}

impl PresenceLabel {
    /// Online, as the member opening a page is.
    pub(crate) fn online() -> Self {
        Self { state: "online", text: "online".into(), last_seen_ms: None }
    }

    pub(crate) fn of(presence: Option<&MemberPresence>) -> Self {
        let Some(p) = presence else {
            return Self { state: "unknown", text: String::new(), last_seen_ms: None };
        };
        match (p.state, p.last_seen_ms) {
            (PresenceState::Online, _) => Self::online(),
            (PresenceState::Away, _) => Self { state: "away", text: "away".into(), last_seen_ms: None },
            (PresenceState::Offline, Some(at)) => Self {
                state: "offline",
                text: format!("last seen {}", time_text(at)),
                last_seen_ms: Some(at),
            },
            (PresenceState::Offline, None) => {
                Self { state: "offline", text: "offline".into(), last_seen_ms: None }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn presence(state: PresenceState, last_seen_ms: Option<i64>) -> MemberPresence {
        MemberPresence { member_id: 1, state, connections: 0, rooms: vec![], last_seen_ms }
    }

    #[test]
    fn labels_say_online_away_or_when_last_seen() {
        assert_eq!(PresenceLabel::of(Some(&presence(PresenceState::Online, None))).text, "online");
        assert_eq!(PresenceLabel::of(Some(&presence(PresenceState::Away, None))).state, "away");
        let seen = PresenceLabel::of(Some(&presence(PresenceState::Offline, Some(1_763_942_400_000))));
        assert_eq!((seen.state, seen.text.as_str()), ("offline", "last seen 2025-11-24 00:00 UTC"));
        assert_eq!(PresenceLabel::of(Some(&presence(PresenceState::Offline, None))).text, "offline");
        assert_eq!(PresenceLabel::of(None).state, "unknown");
    }
}
