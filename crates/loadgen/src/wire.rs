//! The few WebSocket frames the load generator sends and reads (see `proto/README.md`).
//!
//! The types are its own rather than `natter-proto`'s, so that it keeps working against a pod whose
//! frames gained fields. Deliveries dominate the traffic, so they are read with a scan for the three
//! fields needed rather than a full JSON parse; every other frame is parsed with serde.
//!
//! A published text is `lg <seq> <sent_ns> <padding>`: `seq` numbers the room's messages of this run
//! and `sent_ns` is the send time on this process's monotonic clock ([`crate::clock`]). A publish
//! request id is `p<seq>.<sent_ns>`, so that the ack tells both without a lookup.

use serde::Deserialize;
use serde_json::json;

/// What a server frame says, as far as the load generator cares.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    /// A message in a subscribed room. `ours` is `(seq, sent_ns)` when its text is one of ours.
    Delivery {
        room: i64,
        position: i64,
        ours: Option<(u32, u64)>,
    },
    Subscribed {
        room: i64,
    },
    /// The answer to one of our publishes, with what its request id carried.
    Ack {
        room: i64,
        seq: u32,
        sent_ns: u64,
        position: i64,
    },
    /// The pod skipped this connection ahead: positions `after + 1 ..= up_to` of `room` are to be
    /// read from history (the client does not fetch them; the report counts them apart from loss).
    ReloadHistory {
        room: i64,
        after: i64,
        up_to: i64,
    },
    Error {
        code: String,
        detail: String,
    },
    Removed {
        room: i64,
        reason: String,
    },
    /// A frame of another type (`pong`, `typing`, ...).
    Other(String),
    /// Not a frame we can read.
    Unreadable(String),
}

/// `subscribe` to `room`.
pub fn subscribe(room: i64) -> String {
    json!({ "type": "subscribe", "id": "s", "room": room }).to_string()
}

/// `publish` message `seq` of `room`, sent at `sent_ns`, with a text of about `bytes` bytes.
pub fn publish(room: i64, seq: u32, sent_ns: u64, bytes: usize, run: u64) -> String {
    let mut text = format!("lg {seq} {sent_ns} ");
    while text.len() < bytes {
        text.push('x');
    }
    let id = format!("p{seq}.{sent_ns}");
    let client_msg_id = format!("lg-{run}-{room}-{seq}");
    json!({ "type": "publish", "id": id, "room": room, "text": text, "client_msg_id": client_msg_id })
        .to_string()
}

/// Reads a server text frame.
pub fn parse(frame: &str) -> Incoming {
    if frame.starts_with(r#"{"type":"message""#)
        && let Some(delivery) = scan_delivery(frame)
    {
        return delivery;
    }
    slow_parse(frame)
}

/// The fields of a delivery, without a JSON parse. `None` when the frame does not look as expected.
fn scan_delivery(frame: &str) -> Option<Incoming> {
    let room = number_after(frame, r#""room_id":"#)?;
    let position = number_after(&frame[frame.rfind(r#""position":"#)?..], r#""position":"#)?;
    const TEXT: &str = r#""text":"lg "#;
    let ours = frame.find(TEXT).and_then(|at| {
        let mut words = frame[at + TEXT.len()..].split([' ', '"']);
        Some((words.next()?.parse().ok()?, words.next()?.parse().ok()?))
    });
    Some(Incoming::Delivery { room, position, ours })
}

/// The integer right after `key` in `text`.
fn number_after(text: &str, key: &str) -> Option<i64> {
    let rest = &text[text.find(key)? + key.len()..];
    let end = rest.find(|c: char| !(c.is_ascii_digit() || c == '-')).unwrap_or(rest.len());
    rest[..end].parse().ok()
}

#[derive(Deserialize)]
struct Loose {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    room: Option<i64>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    message: Option<LooseMessage>,
    #[serde(default)]
    position: Option<i64>,
    #[serde(default)]
    after: Option<i64>,
    #[serde(default)]
    up_to: Option<i64>,
}

#[derive(Deserialize)]
struct LooseMessage {
    room_id: i64,
    position: i64,
    text: String,
}

fn slow_parse(frame: &str) -> Incoming {
    let Ok(loose) = serde_json::from_str::<Loose>(frame) else {
        return Incoming::Unreadable(frame.chars().take(200).collect());
    };
    match (loose.kind.as_str(), loose.room) {
        ("message", _) => match loose.message {
            Some(m) => {
                let mut words = m.text.strip_prefix("lg ").unwrap_or("").split(' ');
                let ours = (|| Some((words.next()?.parse().ok()?, words.next()?.parse().ok()?)))();
                Incoming::Delivery { room: m.room_id, position: m.position, ours }
            }
            None => Incoming::Unreadable(frame.chars().take(200).collect()),
        },
        ("subscribed", Some(room)) => Incoming::Subscribed { room },
        ("ack", Some(room)) => {
            let parsed = loose.id.as_deref().and_then(|id| {
                let (seq, sent) = id.strip_prefix('p')?.split_once('.')?;
                Some((seq.parse().ok()?, sent.parse().ok()?))
            });
            match parsed {
                Some((seq, sent_ns)) => {
                    Incoming::Ack { room, seq, sent_ns, position: loose.position.unwrap_or(-1) }
                }
                None => Incoming::Other("ack with a foreign id".to_owned()),
            }
        }
        ("error", _) => {
            Incoming::Error { code: loose.code.unwrap_or_default(), detail: loose.detail.unwrap_or_default() }
        }
        ("reload_history", Some(room)) => Incoming::ReloadHistory {
            room,
            after: loose.after.unwrap_or_default(),
            up_to: loose.up_to.unwrap_or_default(),
        },
        ("removed", Some(room)) => Incoming::Removed { room, reason: loose.reason.unwrap_or_default() },
        (kind, _) => Incoming::Other(kind.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(text: &str, position: i64) -> String {
        json!({"type": "message", "message": {
            "message_id": "019ab0f2-6c1e-7d2a-9f3b-1c2d3e4f5a6b", "room_id": 42, "sender_id": 7,
            "sender_name": "alice", "text": text, "client_msg_id": "c", "sent_at_ms": 1, "position": position,
        }})
        .to_string()
    }

    #[test]
    fn scans_our_deliveries() {
        let frame = delivery("lg 17 123456789 xxxx", 1187);
        assert_eq!(
            parse(&frame),
            Incoming::Delivery { room: 42, position: 1187, ours: Some((17, 123456789)) }
        );
        assert_eq!(scan_delivery(&frame), Some(parse(&frame)));
    }

    #[test]
    fn reads_foreign_deliveries_and_other_field_orders() {
        assert_eq!(parse(&delivery("hello", 5)), Incoming::Delivery { room: 42, position: 5, ours: None });
        let reordered = r#"{"message":{"position":9,"room_id":3,"text":"lg 1 2 "},"type":"message"}"#;
        assert_eq!(parse(reordered), Incoming::Delivery { room: 3, position: 9, ours: Some((1, 2)) });
    }

    #[test]
    fn round_trips_a_publish_through_the_ack() {
        let publish: serde_json::Value = serde_json::from_str(&publish(4, 9, 555, 40, 1)).unwrap();
        assert!(publish["text"].as_str().unwrap().len() >= 40);
        let ack = json!({"type": "ack", "id": publish["id"], "room": 4, "message_id": "x", "position": 3});
        assert_eq!(parse(&ack.to_string()), Incoming::Ack { room: 4, seq: 9, sent_ns: 555, position: 3 });
        let reload = r#"{"type":"reload_history","room":4,"after":10,"up_to":25}"#;
        assert_eq!(parse(reload), Incoming::ReloadHistory { room: 4, after: 10, up_to: 25 });
    }

    #[test]
    fn reads_errors_and_subscriptions() {
        let error =
            r#"{"type":"error","id":"p1.2","code":"rate_limited","detail":"slow down","retry_after_ms":5}"#;
        assert_eq!(parse(error), Incoming::Error { code: "rate_limited".into(), detail: "slow down".into() });
        assert_eq!(parse(r#"{"type":"subscribed","id":"s","room":8}"#), Incoming::Subscribed { room: 8 });
        assert!(matches!(parse("nope"), Incoming::Unreadable(_)));
    }
}
