//! Every example in `proto/examples` parses into its type and serialises back to the same JSON, so the
//! document people read cannot drift from the code.

use std::fs;
use std::path::{Path, PathBuf};

use natter_proto::events::{
    CallEvent, FileEvent, FileRef, MembershipChanged, MessageChanged, MessagePosted, PresenceEvent,
    TypingChanged,
};
use natter_proto::frames::{ClientFrame, ErrorCode, ServerFrame};
use natter_proto::http::{
    AttachFile, ErrorBody, HeartbeatAnswer, LoginRequest, Me, MemberPresence, MemberRooms, PodHeartbeat,
    RefreshRequest, RoomAccess, RoomPresent, TokenPair, WsToken,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

fn examples(dir: &str) -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto/examples").join(dir);
    let mut files: Vec<_> = fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let text = fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no examples in {}", root.display());
    files
}

fn round_trips<T: DeserializeOwned + Serialize>(path: &Path, text: &str) {
    let value: T = serde_json::from_str(text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let back = serde_json::to_value(&value).unwrap();
    let original: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(back, original, "{} does not round-trip", path.display());
}

#[test]
fn client_frames() {
    for (path, text) in examples("client") {
        round_trips::<ClientFrame>(&path, &text);
        ClientFrame::parse(&text).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
    }
}

#[test]
fn invalid_client_frames_get_the_code_in_their_name() {
    for (path, text) in examples("client-invalid") {
        let expected: ErrorCode = serde_json::from_value(serde_json::Value::String(
            path.file_stem().unwrap().to_str().unwrap().to_owned(),
        ))
        .unwrap();
        assert_eq!(ClientFrame::parse(&text).unwrap_err().code, expected, "{}", path.display());
    }
}

#[test]
fn server_frames() {
    for (path, text) in examples("server") {
        round_trips::<ServerFrame>(&path, &text);
    }
}

#[test]
fn bus_events() {
    for (path, text) in examples("events") {
        match path.file_stem().unwrap().to_str().unwrap() {
            "message_posted" | "message_posted_file" => round_trips::<MessagePosted>(&path, &text),
            "file_uploaded" | "file_removed" => round_trips::<FileEvent>(&path, &text),
            "membership_changed" => round_trips::<MembershipChanged>(&path, &text),
            "typing_changed" => round_trips::<TypingChanged>(&path, &text),
            "message_edited" | "message_deleted" | "message_reacted" | "reaction_counted" => {
                round_trips::<MessageChanged>(&path, &text)
            }
            "presence_member" | "presence_read" | "presence_friends" => {
                round_trips::<PresenceEvent>(&path, &text)
            }
            "call_state" | "call_signal" => round_trips::<CallEvent>(&path, &text),
            "whisper_posted" => round_trips::<natter_proto::events::WhisperPosted>(&path, &text),
            other => panic!("example {other} has no type; add it here"),
        }
    }
}

#[test]
fn http_bodies() {
    for (path, text) in examples("http") {
        let name = path.file_stem().unwrap().to_str().unwrap();
        match name {
            "room_access" | "room_access_none" | "room_access_muted" => {
                round_trips::<RoomAccess>(&path, &text)
            }
            "pod_heartbeat" => round_trips::<PodHeartbeat>(&path, &text),
            "call_state" => round_trips::<natter_proto::calls::CallState>(&path, &text),
            "friends_view" => round_trips::<natter_proto::friends::FriendsView>(&path, &text),
            "new_report" => round_trips::<natter_proto::reports::NewReport>(&path, &text),
            "heartbeat_answer" => round_trips::<HeartbeatAnswer>(&path, &text),
            "room_present" => round_trips::<RoomPresent>(&path, &text),
            "member_rooms" => round_trips::<MemberRooms>(&path, &text),
            "member_presence" => round_trips::<Vec<MemberPresence>>(&path, &text),
            "error" => round_trips::<ErrorBody>(&path, &text),
            "login_request" => round_trips::<LoginRequest>(&path, &text),
            "token_pair" => round_trips::<TokenPair>(&path, &text),
            "refresh_request" => round_trips::<RefreshRequest>(&path, &text),
            "me" => round_trips::<Me>(&path, &text),
            "ws_token" => round_trips::<WsToken>(&path, &text),
            "file_ref" => round_trips::<FileRef>(&path, &text),
            "attach_file" => round_trips::<AttachFile>(&path, &text),
            "mention_targets" => round_trips::<natter_proto::http::MentionTargets>(&path, &text),
            "push_subscription_body" => round_trips::<natter_proto::http::PushSubscriptionBody>(&path, &text),
            "notify_choice" => round_trips::<natter_proto::http::NotifyChoice>(&path, &text),
            "ice_servers" => round_trips::<natter_proto::http::IceServers>(&path, &text),
            other => panic!("example {other} has no type; add it here"),
        }
    }
}

#[test]
fn room_api_bodies() {
    use natter_proto::rooms::{
        AuditEntry, InviteLink, MarkRead, NewRoom, RoomListPage, RoomMemberView, RoomView, Until,
    };
    for (path, text) in examples("rooms") {
        match path.file_stem().unwrap().to_str().unwrap() {
            "new_room" => round_trips::<NewRoom>(&path, &text),
            "room_view" => round_trips::<RoomView>(&path, &text),
            "room_list_page" => round_trips::<RoomListPage>(&path, &text),
            "room_member" => round_trips::<RoomMemberView>(&path, &text),
            "invite_link" => round_trips::<InviteLink>(&path, &text),
            "audit_entry" => round_trips::<AuditEntry>(&path, &text),
            "mark_read" => round_trips::<MarkRead>(&path, &text),
            "until" => round_trips::<Until>(&path, &text),
            other => panic!("example {other} has no type; add it here"),
        }
    }
}

/// The OpenAPI document (generated from the code, see the `contract` e2e tests) parses and names
/// only examples that exist.
#[test]
fn openapi_document_is_valid_json_with_existing_examples() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let doc: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(root.join("openapi.json")).unwrap()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let text = doc.to_string();
    let mut referenced = 0;
    for part in text.split("examples/").skip(1) {
        let file: String = part
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-'))
            .collect();
        let file = file.trim_end_matches('.');
        assert!(root.join("examples").join(file).exists(), "openapi.json references missing examples/{file}");
        referenced += 1;
    }
    assert!(referenced >= 1, "openapi.json points readers at the examples");
}
