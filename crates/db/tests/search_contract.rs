//! The message search contract, run against PostgreSQL (full-text search) and embedded SQLite
//! (FTS5): the same messages are found by the same queries on both.

mod common;

use common::contract;
use natter_db::Db;
use natter_db::connection::Conn;
use natter_db::search::{self, Filters, Indexed};

fn message<'a>(id: &'a str, room: i64, sent_at_ms: i64, text: &'a str) -> Indexed<'a> {
    Indexed {
        message_id: id,
        room_id: room,
        sender_id: 7,
        position: sent_at_ms,
        sent_at_ms,
        has_file: false,
        text,
    }
}

async fn ids(c: &mut Conn<'_>, rooms: &[i64], query: &str) -> Vec<String> {
    search::find(c, rooms, query, &Filters::default(), 20, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.message_id)
        .collect()
}

async fn only_the_given_rooms_are_searched(db: Db) {
    let c = &mut db.conn().await.unwrap();
    assert!(search::index(c, &message("a", 1, 1, "Lunch at noon?")).await.unwrap());
    assert!(search::index(c, &message("b", 2, 2, "lunch at one")).await.unwrap());
    assert!(!search::index(c, &message("a", 1, 1, "Lunch at noon?")).await.unwrap(), "indexed once");
    assert_eq!(ids(c, &[1], "LUNCH").await, ["a"]);
    assert_eq!(ids(c, &[1, 2], "lunch").await, ["b", "a"], "equally relevant: newest first");
    assert_eq!(ids(c, &[3], "lunch").await, Vec::<String>::new());
    assert_eq!(ids(c, &[], "lunch").await, Vec::<String>::new());
    assert_eq!(ids(c, &[1, 2], "lunch noon").await, ["a"], "every word must match");
    let found = search::find(c, &[1, 2], "lunch", &Filters::default(), 1, 1).await.unwrap();
    assert_eq!(found.len(), 1, "paged");
    assert_eq!(
        (found[0].message_id.as_str(), found[0].room_id, found[0].text.as_str()),
        ("a", 1, "Lunch at noon?")
    );
}

async fn korean_words_are_found_by_their_stem(db: Db) {
    let c = &mut db.conn().await.unwrap();
    search::index(c, &message("k1", 1, 1, "회의는 내일 3시에 해요")).await.unwrap();
    search::index(c, &message("k2", 1, 2, "회사 앞에서 만나요")).await.unwrap();
    search::index(c, &message("k3", 1, 3, "오늘 회의에서 정했어요")).await.unwrap();
    // Both match; the shorter message ranks first (both adapters weigh by length).
    assert_eq!(ids(c, &[1], "회의").await, ["k1", "k3"]);
    assert_eq!(ids(c, &[1], "회사").await, ["k2"]);
    assert_eq!(ids(c, &[1], "내일 회의").await, ["k1"]);
    assert_eq!(ids(c, &[1], "저녁").await, Vec::<String>::new());
}

async fn edits_and_deletions_apply_in_any_order(db: Db) {
    let c = &mut db.conn().await.unwrap();
    search::index(c, &message("e", 1, 10, "see you at the station")).await.unwrap();
    assert!(search::edit(c, "e", "see you at the airport", 20).await.unwrap());
    assert!(!search::edit(c, "e", "see you at the harbour", 15).await.unwrap(), "an older edit loses");
    assert_eq!(ids(c, &[1], "station").await, Vec::<String>::new(), "found by the new text only");
    assert_eq!(ids(c, &[1], "harbour").await, Vec::<String>::new());
    assert_eq!(ids(c, &[1], "airport").await, ["e"]);

    search::remove(c, "e", 30).await.unwrap();
    assert_eq!(ids(c, &[1], "airport").await, Vec::<String>::new(), "deleted");
    assert!(!search::index(c, &message("e", 1, 10, "see you at the station")).await.unwrap(), "not revived");
    assert!(!search::edit(c, "e", "back again", 40).await.unwrap(), "nor edited back");
    assert_eq!(ids(c, &[1], "station").await, Vec::<String>::new());

    // Deleted before it was indexed: the late record stays out.
    search::remove(c, "late", 50).await.unwrap();
    assert!(!search::index(c, &message("late", 1, 5, "ghost text")).await.unwrap());
    assert_eq!(ids(c, &[1], "ghost").await, Vec::<String>::new());
}

async fn an_edit_read_before_its_message_wins(db: Db) {
    let c = &mut db.conn().await.unwrap();
    assert!(search::edit(c, "x", "meet at the harbour", 20).await.unwrap(), "kept for the message");
    assert_eq!(ids(c, &[0, 1], "harbour").await, Vec::<String>::new(), "not found before the message");
    assert!(search::index(c, &message("x", 1, 10, "meet at the station")).await.unwrap());
    assert_eq!(ids(c, &[1], "harbour").await, ["x"], "found by the edited text");
    assert_eq!(ids(c, &[1], "station").await, Vec::<String>::new());
    assert!(!search::index(c, &message("x", 1, 10, "meet at the station")).await.unwrap(), "once");
    let found = search::find(c, &[1], "harbour", &Filters::default(), 1, 0).await.unwrap();
    assert_eq!((found[0].room_id, found[0].position, found[0].sent_at_ms), (1, 10, 10));
}

async fn quoted_words_match_side_by_side(db: Db) {
    let c = &mut db.conn().await.unwrap();
    search::index(c, &message("p1", 1, 1, "Good morning, everyone")).await.unwrap();
    search::index(c, &message("p2", 1, 2, "morning people are good")).await.unwrap();
    search::index(c, &message("p3", 1, 3, "안녕하세요 여러분")).await.unwrap();
    search::index(c, &message("p4", 1, 4, "하세 그리고 세요")).await.unwrap();
    assert_eq!(ids(c, &[1], "\"good morning\"").await, ["p1"]);
    assert_eq!(ids(c, &[1], "\"morning people\" good").await, ["p2"]);
    let mut both = ids(c, &[1], "good morning").await;
    both.sort();
    assert_eq!(both, ["p1", "p2"], "unquoted words may be apart");
    assert_eq!(ids(c, &[1], "\"안녕하세요 여러분\"").await, ["p3"]);
    assert_eq!(ids(c, &[1], "\"여러분 안녕하세요\"").await, Vec::<String>::new(), "in order");
    // A Korean word's pieces must be side by side too: p4 has both pieces of "하세요", apart.
    assert_eq!(ids(c, &[1], "하세요").await, ["p3"]);
    assert_eq!(ids(c, &[1], "\"good morning").await, ["p1"], "an unclosed quote runs to the end");
}

async fn many_are_indexed_at_once_as_one_by_one(db: Db) {
    let c = &mut db.conn().await.unwrap();
    search::index(c, &message("b1", 1, 1, "already here")).await.unwrap();
    search::remove(c, "b2", 5).await.unwrap();
    search::edit(c, "b3", "edited before the backfill", 9).await.unwrap();
    let page = [
        message("b1", 1, 1, "already here"),
        message("b2", 1, 2, "deleted already"),
        message("b3", 1, 3, "original words"),
        message("b4", 2, 4, "brand new words"),
        message("b4", 2, 4, "brand new words"),
    ];
    assert_eq!(search::index_all(c, &page).await.unwrap(), 2, "b3 filled in, b4 added once");
    assert_eq!(ids(c, &[1, 2], "words").await, ["b4"]);
    assert_eq!(ids(c, &[1, 2], "edited").await, ["b3"]);
    assert_eq!(ids(c, &[1, 2], "deleted").await, Vec::<String>::new());
    assert_eq!(ids(c, &[1, 2], "already").await, ["b1"]);
    assert_eq!(search::index_all(c, &page).await.unwrap(), 0, "a second run adds nothing");
}

async fn query_syntax_is_only_text(db: Db) {
    let c = &mut db.conn().await.unwrap();
    search::index(c, &message("q", 1, 1, "tom or jerry; drop table near tom at the door")).await.unwrap();
    for query in [
        "tom OR jerry",
        "\"tom\" jerry",
        "jerry*",
        "NEAR(tom jerry)",
        "NEAR (tom jerry)",
        "tom'; DROP TABLE --",
        "jerry & !tom | door",
        "door:*",
    ] {
        assert_eq!(ids(c, &[1], query).await, ["q"], "{query} is read as its words");
    }
    assert_eq!(ids(c, &[1], "NOT tom").await, Vec::<String>::new(), "`not` is a word, not an operator");
    assert_eq!(ids(c, &[1], "'\";--*()").await, Vec::<String>::new(), "no words: nothing");
}

async fn filters_narrow_with_or_without_words(db: Db) {
    let c = &mut db.conn().await.unwrap();
    let mut by_ann = message("f1", 1, 1_000, "plans for friday");
    by_ann.sender_id = 1;
    let mut with_file = message("f2", 1, 2_000, "friday photos");
    with_file.has_file = true;
    let later = message("f3", 2, 3_000, "friday again");
    for m in [&by_ann, &with_file, &later] {
        search::index(c, m).await.unwrap();
    }
    let find = async |c: &mut Conn<'_>, q: &str, filters: Filters| -> Vec<String> {
        search::find(c, &[1, 2], q, &filters, 20, 0)
            .await
            .unwrap()
            .into_iter()
            .map(|f| f.message_id)
            .collect()
    };
    assert_eq!(find(c, "friday", Filters { sender_id: Some(1), ..Filters::default() }).await, ["f1"]);
    assert_eq!(find(c, "friday", Filters { has_file: true, ..Filters::default() }).await, ["f2"]);
    let window = Filters { sent_from_ms: Some(2_000), sent_before_ms: Some(3_000), ..Filters::default() };
    assert_eq!(find(c, "friday", window.clone()).await, ["f2"]);
    assert_eq!(find(c, "", window).await, ["f2"], "filters alone: newest first");
    assert_eq!(
        find(c, "", Filters { sent_from_ms: Some(0), ..Filters::default() }).await,
        ["f3", "f2", "f1"]
    );
    assert_eq!(find(c, "", Filters::default()).await, Vec::<String>::new(), "no words, no filters: nothing");
}

contract!(
    filters_narrow_with_or_without_words,
    only_the_given_rooms_are_searched,
    korean_words_are_found_by_their_stem,
    edits_and_deletions_apply_in_any_order,
    an_edit_read_before_its_message_wins,
    quoted_words_match_side_by_side,
    many_are_indexed_at_once_as_one_by_one,
    query_syntax_is_only_text
);
