//! Reporting messages to a room's moderators: a member reports a room message or a whisper they
//! received, once, with a reason; owners and admins see the reports (the text as it was when
//! reported, even after an edit) over the API and in the manage panel, nobody else does; reports
//! of one's own message, of a whisper someone else received, of unknown messages, without a reason,
//! or from outside the room are refused.

use natter_proto::frames::ServerFrame;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api::{Api, Member};
use crate::client::{Browser, Ws, open};
use crate::stack::Stack;

async fn connect(api: &Api, stack: &Stack, who: &Member, room: i64) -> Ws {
    let mut ws = open(&stack.message_urls[0], &api.ws_token(who).await, &stack.web_url).await;
    assert!(matches!(ws.subscribe(room).await, ServerFrame::Subscribed { .. }));
    ws
}

async fn report(
    api: &Api,
    who: &Member,
    room: i64,
    message: impl ToString,
    reason: &str,
) -> (StatusCode, Value) {
    let body = json!({"message_id": message.to_string(), "reason": reason});
    let (status, answer) =
        api.call(Method::POST, &format!("/api/v1/rooms/{room}/reports"), Some(&who.token), Some(body)).await;
    (status, answer.0)
}

pub async fn run(stack: Stack) {
    let api = Api::new(&stack.web_url);
    let (ann, ben, cat, dan, eve) = (
        api.member("ann").await,
        api.member("ben").await,
        api.member("cat").await,
        api.member("dan").await,
        api.member("eve").await,
    );
    let room = api.create_room(&ann, "reported", "public", None).await;
    for who in [&ben, &cat, &dan] {
        api.join(room, who).await;
    }
    api.set_role(room, &ann, &dan, "admin").await;
    let mut ben_ws = connect(&api, &stack, &ben, room).await;
    let mut ann_ws = connect(&api, &stack, &ann, room).await;
    let ServerFrame::Ack { message_id: rude, .. } = ben_ws.publish(room, "you are all clowns").await else {
        panic!("not published")
    };
    let id = ann_ws.next_id();
    ann_ws
        .send_json(json!({"type": "publish", "id": id, "room": room, "text": "cat, you are the worst", "whisper_to": cat.id}))
        .await;
    let whispered = ann_ws.recv_until(|f| match f {
        ServerFrame::Whispered { id: i, message_id, .. } if *i == id => Some(*message_id),
        _ => None,
    });
    let whisper = whispered.await;

    let (status, filed) = report(&api, &cat, room, rude, "insults everyone").await;
    assert_eq!(status, StatusCode::CREATED, "{filed}");
    assert_eq!(report(&api, &cat, room, rude, "again").await.0, StatusCode::CONFLICT, "once per message");
    let (status, _) = report(&api, &cat, room, whisper, "a nasty whisper").await;
    assert_eq!(status, StatusCode::CREATED, "the whisper's recipient may report it");
    assert_eq!(
        report(&api, &ben, room, whisper, "hearsay").await.0,
        StatusCode::NOT_FOUND,
        "not his whisper"
    );
    assert_eq!(report(&api, &ben, room, rude, "me?").await.0, StatusCode::BAD_REQUEST, "not one's own");
    assert_eq!(report(&api, &dan, room, rude, "  ").await.0, StatusCode::BAD_REQUEST, "a reason is needed");
    assert_eq!(report(&api, &dan, room, uuid::Uuid::now_v7(), "x").await.0, StatusCode::NOT_FOUND);
    assert_eq!(report(&api, &eve, room, rude, "x").await.0, StatusCode::FORBIDDEN, "outsiders cannot");

    // Ben edits his message afterwards: the report keeps what it said.
    let id = ben_ws.next_id();
    ben_ws
        .send_json(json!({"type": "edit", "id": id, "room": room, "message_id": rude, "text": "hello all"}))
        .await;
    ben_ws.recv_until(|f| crate::client::answer_to(f, &id)).await;

    let path = format!("/api/v1/rooms/{room}/reports");
    for outsider in [&cat, &ben] {
        api.expect(StatusCode::FORBIDDEN, Method::GET, &path, outsider, None).await;
    }
    let listed = api.expect(StatusCode::OK, Method::GET, &path, &dan, None).await;
    let reports = listed.as_array().unwrap();
    assert_eq!(reports.len(), 2, "{listed}");
    assert_eq!(
        (reports[0]["text"].as_str(), reports[0]["whisper"].as_bool()),
        (Some("cat, you are the worst"), Some(true))
    );
    assert_eq!(reports[0]["author_id"], json!(ann.id));
    assert_eq!(
        (reports[1]["text"].as_str(), reports[1]["reason"].as_str()),
        (Some("you are all clowns"), Some("insults everyone"))
    );
    assert_eq!(reports[1]["reporter_id"], json!(cat.id));

    // The manage panel shows them to the owner, escaped.
    let owner = Browser::new(&stack.web_url);
    assert_eq!(owner.log_in(&ann.username, "correct horse battery").await.status(), StatusCode::SEE_OTHER);
    let (status, page) = owner.page(&format!("/rooms/{room}/manage")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("you are all clowns") && page.contains("insults everyone"), "the report is listed");
    assert!(page.contains("cat, you are the worst"), "the reported whisper is shown to moderators");
}
