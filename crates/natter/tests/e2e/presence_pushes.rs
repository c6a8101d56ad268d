//! Presence and read positions pushed to room co-members, as a person sees them: ben watches a room
//! he shares with ann; ann coming online, reading, flapping (one device closes as another opens) and
//! leaving reach ben as `presence` and `member_read` frames, the flap as nothing at all. Dan, who shares
//! no room with ann, hears nothing of her.

use std::time::Duration;

use natter_proto::frames::ServerFrame;
use natter_proto::http::PresenceState;

use crate::api::Api;
use crate::client::{Browser, Ws, answer_to, open};
use crate::stack::Stack;

/// The next `presence` frame about `member` in `room`: its state and last seen time.
async fn presence_of(ws: &mut Ws, room: i64, member: i64) -> (PresenceState, Option<i64>) {
    ws.recv_until(|f| match f {
        ServerFrame::Presence { room: r, member_id, state, last_seen_ms }
            if *r == room && *member_id == member =>
        {
            Some((*state, *last_seen_ms))
        }
        _ => None,
    })
    .await
}

pub async fn run(stack: Stack) {
    let api = Api::new(&stack.web_url);
    let (ann, ben, dan) = (api.member("ann").await, api.member("ben").await, api.member("dan").await);
    let room = api.create_room(&ben, "together", "public", None).await;
    api.join(room, &ann).await;
    let apart = api.create_room(&dan, "apart", "public", None).await;
    let connect = |who, pod: usize| {
        let (api, url, web) = (api.clone(), stack.message_urls[pod].clone(), stack.web_url.clone());
        async move { open(&url, &api.ws_token(who).await, &web).await }
    };
    let mut ben_ws = connect(&ben, 1).await;
    assert!(matches!(ben_ws.subscribe(room).await, ServerFrame::Subscribed { .. }));
    let mut dan_ws = connect(&dan, 0).await;
    assert!(matches!(dan_ws.subscribe(apart).await, ServerFrame::Subscribed { .. }));

    // Cy looks at the room page in a browser: its people list shows who is around.
    let cy = Browser::new(&stack.web_url);
    cy.sign_up(&format!("cy_{}", natter_test_support::unique_suffix()), "correct horse battery").await;
    cy.join_room(room).await;
    let ann_on_page = |page: &str| {
        let item = &page[page.find(&format!(r#"<li data-member-id="{}""#, ann.id)).expect("ann is listed")..];
        item[..item.find("</li>").unwrap()].to_owned()
    };

    // Ann comes online: ben is told, the page shows her dot.
    let mut ann_ws = connect(&ann, 0).await;
    assert_eq!(presence_of(&mut ben_ws, room, ann.id).await, (PresenceState::Online, None));
    let (status, page) = cy.page(&format!("/rooms/{room}")).await;
    assert_eq!(status, 200);
    assert!(ann_on_page(&page).contains(r#"data-state="online""#), "{}", ann_on_page(&page));

    // Ann reads what she wrote: ben sees how far she has read.
    assert!(matches!(ann_ws.subscribe(room).await, ServerFrame::Subscribed { .. }));
    let ServerFrame::Ack { position, .. } = ann_ws.publish(room, "hello ben").await else {
        panic!("publish acknowledged")
    };
    let id = ann_ws.next_id();
    ann_ws
        .send_json(serde_json::json!({"type": "mark_read", "id": id, "room": room, "position": position}))
        .await;
    let answer = ann_ws.recv_until(|f| answer_to(f, &id)).await;
    assert_eq!(answer, ServerFrame::ReadPosition { id, room, position });
    let read = ben_ws
        .recv_until(|f| match f {
            ServerFrame::MemberRead { room: r, member_id, position }
                if *r == room && *member_id == ann.id =>
            {
                Some(*position)
            }
            _ => None,
        })
        .await;
    assert_eq!(read, position);

    // A flap: ann's device closes as another opens (on the other pod). Then she leaves for good.
    ann_ws.close().await;
    let ann_again = connect(&ann, 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    ann_again.close().await;
    let (state, last_seen) = presence_of(&mut ben_ws, room, ann.id).await;
    assert_eq!(state, PresenceState::Offline, "the flap was not reported; leaving was");
    assert!(last_seen.is_some(), "offline comes with a last seen time");
    let later = ben_ws.frames_within(Duration::from_millis(1_500)).await;
    let about_ann: Vec<_> = later
        .iter()
        .filter(|f| matches!(f, ServerFrame::Presence { member_id, .. } if *member_id == ann.id))
        .collect();
    assert!(about_ann.is_empty(), "one change, one frame: {about_ann:?}");
    let (_, page) = cy.page(&format!("/rooms/{room}")).await;
    let item = ann_on_page(&page);
    assert!(item.contains(r#"data-state="offline""#) && item.contains("last seen 20"), "{item}");
    assert!(item.contains(&format!("read to #{position}")), "{item}");

    // Dan shares no room with ann: nothing about her reached him.
    let dan_saw = dan_ws.frames_within(Duration::from_millis(500)).await;
    assert!(
        !dan_saw.iter().any(|f| matches!(
            f,
            ServerFrame::Presence { member_id, .. } | ServerFrame::MemberRead { member_id, .. } if *member_id == ann.id
        )),
        "a stranger heard about ann: {dan_saw:?}"
    );
    drop(ben_ws);
    drop(dan_ws);
}
