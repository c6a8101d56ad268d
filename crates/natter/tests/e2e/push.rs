//! Notifications to members who are away, through a push service of our own (`push_service.rs`:
//! it checks VAPID and decrypts, as a browser's push service and browser would). Ann writes in a
//! room of four:
//! - Ben (away, default "mentions and direct messages") is notified when mentioned and for a direct
//!   message, never for plain messages, and not at all once he mutes the room;
//! - Cat (away, "all") gets at most one notification per room per collapse window; what was held
//!   back comes when the window ends, counted, so every message is accounted for; when her push
//!   service answers 410 the subscription is forgotten;
//! - Dan (connected, "all") gets nothing while present; Ann never hears of her own messages.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use natter_proto::frames::ServerFrame;
use natter_proto::http::PresenceState;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::api::{Api, Member};
use crate::client::{Ws, open};
use crate::push_service::PushService;
use crate::stack::Stack;

/// One notification per member and room in this long.
const COLLAPSE: Duration = Duration::from_secs(2);

/// Web's settings: a fixed VAPID key, a local (http:) push service allowed, a short collapse window.
pub fn settings() -> Vec<(String, String)> {
    vec![
        ("NATTER_VAPID_PRIVATE_KEY".to_owned(), STANDARD.encode([7u8; 32])),
        ("NATTER_VAPID_SUBJECT".to_owned(), "mailto:ops@natter.test".to_owned()),
        ("NATTER_PUSH_ALLOW_HTTP".to_owned(), "true".to_owned()),
        ("NATTER_PUSH_COLLAPSE_SECS".to_owned(), COLLAPSE.as_secs().to_string()),
    ]
}

/// Waits (up to 15 s) until `id` has received `count` notifications; the last one.
async fn received(service: &PushService, id: &str, count: usize) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let got = service.received(id);
        if got.len() >= count {
            assert_eq!(got.len(), count, "{id} got more than expected: {got:?}");
            return got[count - 1].clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{id} has {} notifications, not {count}; rejected: {:?}",
            got.len(),
            service.rejected()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn say(ws: &mut Ws, room: i64, text: &str) {
    assert!(matches!(ws.publish(room, text).await, ServerFrame::Ack { .. }), "{text} published");
}

async fn subscribe(api: &Api, who: &Member, service: &PushService, id: &str) {
    let body = service.subscribe(id);
    api.expect(StatusCode::NO_CONTENT, Method::PUT, "/api/v1/push/subscription", who, Some(body)).await;
}

async fn notify(api: &Api, who: &Member, room: i64, level: &str) {
    let path = format!("/api/v1/rooms/{room}/notify");
    api.expect(StatusCode::NO_CONTENT, Method::PUT, &path, who, Some(json!({"level": level}))).await;
}

pub async fn run(stack: Stack) {
    let api = Api::new(&stack.web_url);
    let key = api.member("keyholder").await;
    let public = api.expect(StatusCode::OK, Method::GET, "/api/v1/push/key", &key, None).await;
    let service = PushService::start(public["public_key"].as_str().unwrap());
    let (ann, ben, cat, dan) =
        (api.member("ann").await, api.member("ben").await, api.member("cat").await, api.member("dan").await);
    let room = api.create_room(&ann, "release train", "public", None).await;
    for who in [&ben, &cat, &dan] {
        api.join(room, who).await;
    }
    for (who, id) in [(&ann, "ann"), (&ben, "ben"), (&cat, "cat"), (&dan, "dan")] {
        subscribe(&api, who, &service, id).await;
    }
    notify(&api, &cat, room, "all").await;
    notify(&api, &dan, room, "all").await;
    // A bad subscription is refused with the reason.
    let bad = json!({"endpoint": "ftp://push.example/x", "keys": {"p256dh": "AAAA", "auth": "AAAA"}});
    api.expect(StatusCode::BAD_REQUEST, Method::PUT, "/api/v1/push/subscription", &ben, Some(bad)).await;
    let level = json!({"level": "loud"});
    api.expect(
        StatusCode::BAD_REQUEST,
        Method::PUT,
        &format!("/api/v1/rooms/{room}/notify"),
        &ben,
        Some(level),
    )
    .await;

    // Dan is here: connected and subscribed, so presence says online.
    let mut dan_ws = open(&stack.message_urls[1], &api.ws_token(&dan).await, &stack.web_url).await;
    assert!(matches!(dan_ws.subscribe(room).await, ServerFrame::Subscribed { .. }));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while stack.presence(&[dan.id]).await.first().map(|p| p.state) != Some(PresenceState::Online) {
        assert!(tokio::time::Instant::now() < deadline, "dan online");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut ann_ws = open(&stack.message_urls[0], &api.ws_token(&ann).await, &stack.web_url).await;
    assert!(matches!(ann_ws.subscribe(room).await, ServerFrame::Subscribed { .. }));

    // A plain message: only Cat, who wants everything and is away.
    say(&mut ann_ws, room, "train leaves at five").await;
    let first = received(&service, "cat", 1).await;
    assert_eq!(first["title"], json!("release train"), "{first}");
    assert_eq!(first["body"], json!(format!("{}: train leaves at five", ann.username)), "{first}");
    assert_eq!(first["count"], json!(1));
    assert!(first["url"].as_str().unwrap().starts_with(&format!("/rooms/{room}#m")), "{first}");

    // A mention: Ben now; Cat's is held back (one per room per window) and comes when it ends.
    say(&mut ann_ws, room, &format!("@{} can you tag it?", ben.username)).await;
    let mentioned = received(&service, "ben", 1).await;
    assert!(mentioned["body"].as_str().unwrap().contains("can you tag it?"), "{mentioned}");
    tokio::time::sleep(COLLAPSE + Duration::from_millis(300)).await;
    say(&mut ann_ws, room, &format!("@{} ping", ben.username)).await;
    received(&service, "ben", 2).await;

    // Ben mutes the room: mentioned, still nothing.
    notify(&api, &ben, room, "nothing").await;
    tokio::time::sleep(COLLAPSE + Duration::from_millis(300)).await;
    say(&mut ann_ws, room, &format!("@{} are you there?", ben.username)).await;
    // Cat: four messages, each accounted for, never two notifications within a window.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let counted = |got: &[(std::time::Instant, Value)]| {
        got.iter().map(|(_, n)| n["count"].as_u64().unwrap()).sum::<u64>()
    };
    while counted(&service.received_at("cat")) < 4 {
        assert!(tokio::time::Instant::now() < deadline, "cat: {:?}", service.received("cat"));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let cat = service.received_at("cat");
    assert_eq!(counted(&cat), 4, "{cat:?}");
    for pair in cat.windows(2) {
        let apart = pair[1].0 - pair[0].0;
        assert!(apart >= COLLAPSE - Duration::from_millis(200), "two notifications {apart:?} apart: {cat:?}");
    }
    assert!(
        cat.last().unwrap().1["body"].as_str().unwrap().contains("are you there?"),
        "the newest shown: {cat:?}"
    );
    assert_eq!(service.received("ben").len(), 2, "muted");

    // Cat's push service forgets her: answered 410 once, then never asked again.
    notify(&api, &ben, room, "all").await;
    service.forget("cat");
    tokio::time::sleep(COLLAPSE + Duration::from_millis(300)).await;
    say(&mut ann_ws, room, "last call").await;
    received(&service, "ben", 3).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while service.refused("cat") == 0 {
        assert!(tokio::time::Instant::now() < deadline, "cat's push service was not asked");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    say(&mut ann_ws, room, "doors closing").await;
    received(&service, "ben", 4).await;
    tokio::time::sleep(COLLAPSE * 2).await;
    assert_eq!(service.refused("cat"), 1, "tried once, then forgotten");

    // A direct message: titled with the sender's name.
    let direct = api
        .expect(StatusCode::OK, Method::PUT, &format!("/api/v1/direct/{}", ben.username), &ann, None)
        .await;
    let direct = direct["id"].as_i64().unwrap();
    assert!(matches!(ann_ws.subscribe(direct).await, ServerFrame::Subscribed { .. }));
    say(&mut ann_ws, direct, "psst").await;
    received(&service, "ben", 5).await;
    let dm = service
        .received("ben")
        .into_iter()
        .find(|n| n["tag"] == json!(format!("natter-room-{direct}")))
        .unwrap();
    assert_eq!(
        (dm["title"].as_str(), dm["body"].as_str()),
        (Some(ann.username.as_str()), Some(format!("{}: psst", ann.username).as_str())),
        "{dm}"
    );

    // Present or sending: never notified.
    assert!(service.received("dan").is_empty(), "dan is here: {:?}", service.received("dan"));
    assert!(service.received("ann").is_empty(), "nobody hears of their own messages");
    assert!(service.rejected().is_empty(), "every request passed the checks: {:?}", service.rejected());
    dan_ws.close().await;
}
