//! The files contract (who uploaded what where, which message shares it, what can go), run against
//! PostgreSQL and embedded SQLite.

mod common;

use chrono::{Duration, Utc};
use common::{contract, member};
use natter_db::{Attached, Db, NewRoom, RoomFile, Visibility, files, members, rooms};

fn file(id: &str, room: i64, uploader: i64, minutes_ago: i64) -> RoomFile {
    RoomFile {
        id: id.to_owned(),
        room_id: room,
        uploader_id: uploader,
        name: "cat.png".to_owned(),
        content_type: "image/png".to_owned(),
        size: 1234,
        thumb_width: Some(64),
        thumb_height: Some(48),
        storage_key: format!("rooms/{room}/{id}"),
        message_id: None,
        created_at: (Utc::now() - Duration::minutes(minutes_ago)).naive_utc(),
    }
}

async fn a_file_is_shared_by_one_message_of_its_uploader(db: Db) {
    let c = &mut db.conn().await.unwrap();
    let ann = members::create(c, member("ann")).await.unwrap();
    let ben = members::create(c, member("ben")).await.unwrap();
    let new = NewRoom { name: "Photos", topic: "", visibility: Visibility::Public, capacity: 10 };
    let room = rooms::create(c, new, ann.id).await.unwrap();
    files::create(c, &file("f1", room.id, ann.id, 0)).await.unwrap();
    assert_eq!(files::by_id(c, "f1").await.unwrap().unwrap().thumb_width, Some(64));
    assert!(files::by_id(c, "nope").await.unwrap().is_none());

    assert_eq!(files::attach(c, "f1", room.id, ben.id, "m1").await.unwrap(), Attached::NotFound, "not ben's");
    assert_eq!(files::attach(c, "f1", room.id + 1, ann.id, "m1").await.unwrap(), Attached::NotFound);
    let Attached::Done(attached) = files::attach(c, "f1", room.id, ann.id, "m1").await.unwrap() else {
        panic!("ann shares her file");
    };
    assert_eq!(attached.message_id.as_deref(), Some("m1"));
    assert!(
        matches!(files::attach(c, "f1", room.id, ann.id, "m1").await.unwrap(), Attached::Done(_)),
        "retry"
    );
    assert_eq!(files::attach(c, "f1", room.id, ann.id, "m2").await.unwrap(), Attached::Taken);

    assert!(files::delete(c, "f1").await.unwrap());
    assert!(!files::delete(c, "f1").await.unwrap());
    assert!(files::by_id(c, "f1").await.unwrap().is_none());
}

async fn abandoned_files_are_old_unshared_ones_and_those_of_deleted_rooms(db: Db) {
    let c = &mut db.conn().await.unwrap();
    let ann = members::create(c, member("ann")).await.unwrap();
    let new = |name| NewRoom { name, topic: "", visibility: Visibility::Public, capacity: 10 };
    let kept = rooms::create(c, new("Kept"), ann.id).await.unwrap();
    let gone = rooms::create(c, new("Gone"), ann.id).await.unwrap();
    files::create(c, &file("old-unshared", kept.id, ann.id, 120)).await.unwrap();
    files::create(c, &file("new-unshared", kept.id, ann.id, 1)).await.unwrap();
    files::create(c, &file("old-shared", kept.id, ann.id, 120)).await.unwrap();
    files::attach(c, "old-shared", kept.id, ann.id, "m1").await.unwrap();
    files::create(c, &file("in-gone-room", gone.id, ann.id, 1)).await.unwrap();
    files::attach(c, "in-gone-room", gone.id, ann.id, "m2").await.unwrap();
    assert!(rooms::delete(c, gone.id).await.unwrap());

    let cutoff = (Utc::now() - Duration::minutes(60)).naive_utc();
    let mut ids: Vec<String> =
        files::abandoned(c, cutoff, 10).await.unwrap().into_iter().map(|f| f.id).collect();
    ids.sort();
    assert_eq!(ids, ["in-gone-room", "old-unshared"]);
    assert_eq!(files::abandoned(c, cutoff, 1).await.unwrap().len(), 1, "limited");
}

contract!(
    a_file_is_shared_by_one_message_of_its_uploader,
    abandoned_files_are_old_unshared_ones_and_those_of_deleted_rooms
);
