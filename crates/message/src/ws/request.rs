//! Reading a client text frame into a [`Request`], once, with the checks that need no state.
//!
//! Each request type belongs to the handler that serves it (`subscribe.rs`, `publish.rs`, ...);
//! every request carries its id, which its answer or its refusal names.

use natter_proto::RoomId;
use natter_proto::frames::{ClientFrame, ErrorCode, FrameError};

use super::calls::{CallJoin, Signal};
use super::change::{Change, ChangeRequest};
use super::mark_read::MarkRead;
use super::publish::{Publish, Shares};
use super::refusal::Unreadable;
use super::subscribe::Subscribe;
use super::typing::Typing;
use super::whisper::Whisper;

/// Longest message text, in characters.
pub(crate) const MAX_TEXT_CHARS: usize = 4000;
/// Longest request id and client message id.
pub(crate) const MAX_ID_LEN: usize = 64;

/// One request of a client.
#[derive(Debug)]
pub(super) enum Request {
    Ping {
        id: String,
    },
    Subscribe(Subscribe),
    Unsubscribe {
        id: String,
        room: RoomId,
    },
    Publish(Publish),
    /// A `publish` with `whisper_to`.
    Whisper(Whisper),
    Typing(Typing),
    MarkRead(MarkRead),
    /// `edit` or `delete`.
    Change(ChangeRequest),
    CallJoin(CallJoin),
    CallLeave {
        id: String,
        room: RoomId,
    },
    Signal(Signal),
}

impl Request {
    /// Parses a text frame of at most `max_bytes`, and checks field limits.
    pub(super) fn read(text: &str, max_bytes: usize) -> Result<Self, Unreadable> {
        check(text, max_bytes).map(Self::from).map_err(Unreadable::from)
    }

    /// The id the client gave the request.
    pub(super) fn id(&self) -> &str {
        match self {
            Self::Ping { id } | Self::Unsubscribe { id, .. } | Self::CallLeave { id, .. } => id,
            Self::CallJoin(r) => &r.id,
            Self::Signal(r) => &r.id,
            Self::Subscribe(r) => &r.id,
            Self::Publish(r) => &r.id,
            Self::Whisper(r) => &r.id,
            Self::Typing(r) => &r.id,
            Self::MarkRead(r) => &r.id,
            Self::Change(r) => &r.id,
        }
    }

    /// Whether the request shows the member doing something (a ping does not).
    pub(super) fn is_activity(&self) -> bool {
        !matches!(self, Self::Ping { .. })
    }
}

impl From<ClientFrame> for Request {
    fn from(frame: ClientFrame) -> Self {
        match frame {
            ClientFrame::Ping { id } => Self::Ping { id },
            ClientFrame::Subscribe { id, room, since } => Self::Subscribe(Subscribe { id, room, since }),
            ClientFrame::Unsubscribe { id, room } => Self::Unsubscribe { id, room },
            ClientFrame::Publish {
                id,
                room,
                text,
                client_msg_id,
                reply_to: _,
                file: _,
                whisper_to: Some(to),
            } => Self::Whisper(Whisper { id, room, text, client_msg_id, to }),
            ClientFrame::Publish { id, room, text, client_msg_id, reply_to, file, whisper_to: None } => {
                Self::Publish(Publish { id, room, text, client_msg_id, shares: Shares { reply_to, file } })
            }
            ClientFrame::Typing { id, room, typing } => Self::Typing(Typing { id, room, typing }),
            ClientFrame::MarkRead { id, room, position } => Self::MarkRead(MarkRead { id, room, position }),
            ClientFrame::Edit { id, room, message_id, text } => {
                Self::Change(ChangeRequest { id, room, message_id, change: Change::Edit { text } })
            }
            ClientFrame::Delete { id, room, message_id } => {
                Self::Change(ChangeRequest { id, room, message_id, change: Change::Delete })
            }
            ClientFrame::React { id, room, message_id, emoji } => reaction(id, room, message_id, emoji, true),
            ClientFrame::Unreact { id, room, message_id, emoji } => {
                reaction(id, room, message_id, emoji, false)
            }
            ClientFrame::CallJoin { id, room, media } => Self::CallJoin(CallJoin { id, room, media }),
            ClientFrame::CallLeave { id, room } => Self::CallLeave { id, room },
            ClientFrame::Signal { id, room, to, data } => Self::Signal(Signal { id, room, to, data }),
        }
    }
}

/// A `react` (`added`) or `unreact` request, its emoji in stored form (`check` made sure there is
/// one); its time is given when the connection serves it.
fn reaction(
    id: String,
    room: natter_proto::RoomId,
    message_id: uuid::Uuid,
    emoji: String,
    added: bool,
) -> Request {
    let emoji = natter_proto::reactions::normalise(&emoji).unwrap_or(emoji);
    Request::Change(ChangeRequest { id, room, message_id, change: Change::React { emoji, added, at_ms: 0 } })
}

/// The frame, parsed, when it is within the limits.
fn check(text: &str, max_bytes: usize) -> Result<ClientFrame, FrameError> {
    if text.len() > max_bytes {
        return Err(FrameError {
            id: None,
            code: ErrorCode::FrameTooLarge,
            detail: format!("frame is {} bytes; the limit is {max_bytes}", text.len()),
        });
    }
    let frame = ClientFrame::parse(text)?;
    let invalid = |id: &str, detail: String| FrameError {
        id: Some(id.to_owned()),
        code: ErrorCode::InvalidRequest,
        detail,
    };
    let id = match &frame {
        ClientFrame::Subscribe { id, .. }
        | ClientFrame::Unsubscribe { id, .. }
        | ClientFrame::Publish { id, .. }
        | ClientFrame::Ping { id }
        | ClientFrame::Typing { id, .. }
        | ClientFrame::MarkRead { id, .. }
        | ClientFrame::Edit { id, .. }
        | ClientFrame::Delete { id, .. }
        | ClientFrame::React { id, .. }
        | ClientFrame::Unreact { id, .. }
        | ClientFrame::CallJoin { id, .. }
        | ClientFrame::CallLeave { id, .. }
        | ClientFrame::Signal { id, .. } => id,
    };
    if id.is_empty() || id.len() > MAX_ID_LEN {
        return Err(FrameError {
            id: None,
            code: ErrorCode::InvalidRequest,
            detail: format!("id must be 1 to {MAX_ID_LEN} bytes"),
        });
    }
    if let ClientFrame::Publish { id, text, file, .. } = &frame
        && file.is_none()
        && text.trim().is_empty()
    {
        return Err(invalid(id, "text is empty (only a message sharing a file may have no text)".to_owned()));
    }
    if let ClientFrame::Edit { id, text, .. } = &frame
        && text.trim().is_empty()
    {
        return Err(invalid(id, "text is empty".to_owned()));
    }
    if let ClientFrame::Publish { id, text, .. } | ClientFrame::Edit { id, text, .. } = &frame {
        let chars = text.chars().count();
        if chars > MAX_TEXT_CHARS {
            return Err(invalid(id, format!("text is {chars} characters; the limit is {MAX_TEXT_CHARS}")));
        }
    }
    if let ClientFrame::React { id, emoji, .. } | ClientFrame::Unreact { id, emoji, .. } = &frame
        && natter_proto::reactions::normalise(emoji).is_none()
    {
        return Err(invalid(id, "emoji must be one of the reaction set or a :shortcode:".to_owned()));
    }
    if let ClientFrame::Signal { id, to, data, .. } = &frame {
        if !natter_proto::calls::valid_session(to) {
            return Err(invalid(id, "to must be a participant's session id".to_owned()));
        }
        let bytes = serde_json::to_string(data).map_or(usize::MAX, |d| d.len());
        let limit = natter_proto::calls::MAX_SIGNAL_BYTES;
        if bytes > limit {
            return Err(invalid(id, format!("data is {bytes} bytes of JSON; the limit is {limit}")));
        }
    }
    if let ClientFrame::Publish { id, whisper_to: Some(_), reply_to, file, .. } = &frame
        && (reply_to.is_some() || file.is_some())
    {
        return Err(invalid(id, "a whisper is text only: no reply_to, no file".to_owned()));
    }
    if let ClientFrame::Publish { id, client_msg_id: Some(c), .. } = &frame
        && (c.is_empty() || c.len() > MAX_ID_LEN)
    {
        return Err(invalid(id, format!("client_msg_id must be 1 to {MAX_ID_LEN} bytes")));
    }
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, max_bytes: usize) -> Result<ClientFrame, FrameError> {
        check(text, max_bytes)
    }

    #[test]
    fn each_problem_gets_its_code_and_keeps_the_id() {
        let code = |t: &str| read(t, 1000).unwrap_err().code;
        assert_eq!(code("not json"), ErrorCode::MalformedFrame);
        assert_eq!(code("[1,2]"), ErrorCode::MalformedFrame);
        assert_eq!(code(r#"{"type":"dance","id":"7"}"#), ErrorCode::UnknownFrameType);
        assert_eq!(code(r#"{"id":"7"}"#), ErrorCode::UnknownFrameType);
        assert_eq!(code(r#"{"type":"subscribe","id":"7","room":"x"}"#), ErrorCode::InvalidRequest);
        assert_eq!(
            code(&format!(r#"{{"type":"ping","id":"{}"}}"#, "x".repeat(2000))),
            ErrorCode::FrameTooLarge
        );
        let empty = read(r#"{"type":"publish","id":"9","room":1,"text":"  "}"#, 1000).unwrap_err();
        assert_eq!((empty.code, empty.id.as_deref()), (ErrorCode::InvalidRequest, Some("9")));
        let unknown = read(r#"{"type":"dance","id":"7"}"#, 1000).unwrap_err();
        assert_eq!(unknown.id.as_deref(), Some("7"));
    }

    #[test]
    fn signals_need_a_session_and_small_data() {
        let signal = |to: &str, data: &str| {
            format!(r#"{{"type":"signal","id":"s","room":1,"to":"{to}","data":{data}}}"#)
        };
        assert!(read(&signal("abc123", r#"{"sdp":"v=0"}"#), 100_000).is_ok());
        let bad_to = read(&signal("a/b", "{}"), 100_000).unwrap_err();
        assert_eq!((bad_to.code, bad_to.id.as_deref()), (ErrorCode::InvalidRequest, Some("s")));
        let big = format!(r#"{{"sdp":"{}"}}"#, "x".repeat(natter_proto::calls::MAX_SIGNAL_BYTES));
        assert_eq!(read(&signal("abc123", &big), 100_000).unwrap_err().code, ErrorCode::InvalidRequest);
        let no_data = r#"{"type":"signal","id":"s","room":1,"to":"abc"}"#;
        assert_eq!(read(no_data, 1000).unwrap_err().code, ErrorCode::InvalidRequest);
        let bad_media = r#"{"type":"call_join","id":"j","room":1,"media":{"audio":true,"smell":true}}"#;
        assert_eq!(read(bad_media, 1000).unwrap_err().code, ErrorCode::InvalidRequest);
    }

    #[test]
    fn text_limit_counts_characters_not_bytes() {
        let text = "é".repeat(MAX_TEXT_CHARS);
        let frame = format!(r#"{{"type":"publish","id":"1","room":1,"text":"{text}"}}"#);
        assert!(read(&frame, 100_000).is_ok());
        let frame = format!(r#"{{"type":"publish","id":"1","room":1,"text":"{text}é"}}"#);
        assert_eq!(read(&frame, 100_000).unwrap_err().code, ErrorCode::InvalidRequest);
    }

    #[test]
    fn edits_have_the_text_limits_of_publish() {
        let edit = |text: &str| {
            let id = "019ab0f2-6c1e-7d2a-9f3b-1c2d3e4f5a6b";
            format!(r#"{{"type":"edit","id":"5","room":1,"message_id":"{id}","text":"{text}"}}"#)
        };
        assert!(read(&edit("fixed"), 100_000).is_ok());
        let empty = read(&edit(" "), 100_000).unwrap_err();
        assert_eq!((empty.code, empty.id.as_deref()), (ErrorCode::InvalidRequest, Some("5")));
        let long = "x".repeat(MAX_TEXT_CHARS + 1);
        assert_eq!(read(&edit(&long), 100_000).unwrap_err().code, ErrorCode::InvalidRequest);
        let bad_id = r#"{"type":"delete","id":"6","room":1,"message_id":"nope"}"#;
        assert_eq!(read(bad_id, 1000).unwrap_err().code, ErrorCode::InvalidRequest);
    }
}
