//! The push subscription and notification-choice contract, on PostgreSQL and SQLite.

mod common;

use common::{contract, member};
use natter_db::{Db, NewRoom, NotifyLevel, Visibility, members, memberships, push, rooms};

async fn subscriptions_belong_to_one_member_per_endpoint(db: Db) {
    let c = &mut db.conn().await.unwrap();
    let ann = members::create(c, member("ann")).await.unwrap();
    let ben = members::create(c, member("ben")).await.unwrap();
    push::subscribe(c, ann.id, "https://push.example/a", "key-a", "auth-a").await.unwrap();
    push::subscribe(c, ann.id, "https://push.example/b", "key-b", "auth-b").await.unwrap();
    push::subscribe(c, ann.id, "https://push.example/a", "key-a2", "auth-a2").await.unwrap();
    let anns = push::of_members(c, &[ann.id]).await.unwrap();
    let keys: Vec<_> = anns.iter().map(|s| (s.endpoint.as_str(), s.p256dh.as_str())).collect();
    assert_eq!(
        keys,
        [("https://push.example/a", "key-a2"), ("https://push.example/b", "key-b")],
        "replaced, not doubled"
    );

    // The browser logs in as Ben: the endpoint moves to him.
    push::subscribe(c, ben.id, "https://push.example/b", "key-b", "auth-b").await.unwrap();
    assert_eq!(push::of_members(c, &[ann.id]).await.unwrap().len(), 1);
    assert_eq!(push::of_members(c, &[ben.id]).await.unwrap()[0].endpoint, "https://push.example/b");
    assert_eq!(push::of_members(c, &[ann.id, ben.id]).await.unwrap().len(), 2);
    assert!(push::of_members(c, &[]).await.unwrap().is_empty());

    assert!(!push::unsubscribe(c, ann.id, "https://push.example/b").await.unwrap(), "not hers any more");
    assert!(push::unsubscribe(c, ann.id, "https://push.example/a").await.unwrap());
    push::forget(c, "https://push.example/b").await.unwrap();
    assert!(push::of_members(c, &[ann.id, ben.id]).await.unwrap().is_empty());
}

async fn each_member_chooses_per_room(db: Db) {
    let c = &mut db.conn().await.unwrap();
    let ann = members::create(c, member("ann")).await.unwrap();
    let ben = members::create(c, member("ben")).await.unwrap();
    let new = NewRoom { name: "Plans", topic: "", visibility: Visibility::Public, capacity: 10 };
    let room = rooms::create(c, new, ann.id).await.unwrap();
    let level = |members: Vec<(natter_db::MemberSummary, natter_db::Membership)>, id: i64| {
        members.into_iter().find(|(m, _)| m.id == id).map(|(_, membership)| membership.notify())
    };
    assert_eq!(
        level(memberships::members_of(c, room.id).await.unwrap(), ann.id),
        Some(NotifyLevel::Mentions),
        "the default"
    );
    assert!(push::set_level(c, room.id, ann.id, NotifyLevel::Nothing).await.unwrap());
    assert_eq!(level(memberships::members_of(c, room.id).await.unwrap(), ann.id), Some(NotifyLevel::Nothing));
    assert!(!push::set_level(c, room.id, ben.id, NotifyLevel::All).await.unwrap(), "not a member");
}

contract!(subscriptions_belong_to_one_member_per_endpoint, each_member_chooses_per_room);
