//! The rooms contract (rooms, membership, moderation, invites, direct chats, audit, and use cases
//! composed in one transaction), run against PostgreSQL and embedded SQLite.

mod common;

use chrono::{Duration, Utc};
use common::{contract, member};
use natter_db::{
    Db, DbError, JoinBy, Joined, NewRoom, Refusal, Role, RoomChanges, RoomKind, Visibility, audit, direct,
    invites, members, memberships, rooms,
};

fn room(name: &str, visibility: Visibility, capacity: i32) -> NewRoom<'_> {
    NewRoom { name, topic: "", visibility, capacity }
}

fn refused(result: Result<Joined, DbError>) -> Refusal {
    match result {
        Err(DbError::Refused(refusal)) => refusal,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn rooms_are_created_edited_searched_and_deleted(db: Db) {
    let c = &mut db.conn().await.unwrap();
    let alice = members::create(c, member("alice")).await.unwrap();
    let general = rooms::create(c, room("General Chat", Visibility::Public, 10), alice.id).await.unwrap();
    assert_eq!((general.kind(), general.member_count), (RoomKind::Community, 1));
    assert_eq!(memberships::role(c, general.id, alice.id).await.unwrap(), Some(Role::Owner));
    let secret = rooms::create(c, room("general secret", Visibility::Private, 10), alice.id).await.unwrap();
    let club = rooms::create(c, room("Book club", Visibility::InviteOnly, 10), alice.id).await.unwrap();
    rooms::create(c, room("100% _odd_", Visibility::Public, 10), alice.id).await.unwrap();

    let found: Vec<i64> = rooms::search(c, "GENERAL", 10, 0).await.unwrap().iter().map(|r| r.id).collect();
    assert_eq!(found, vec![general.id], "private rooms are not listed; case is ignored");
    assert_eq!(rooms::search(c, "", 10, 0).await.unwrap().len(), 3);
    assert_eq!(rooms::search(c, "", 2, 2).await.unwrap().len(), 1, "paged");
    assert_eq!(rooms::search(c, "%", 10, 0).await.unwrap().len(), 1, "LIKE wildcards are literal");
    assert_eq!(rooms::search(c, "_odd", 10, 0).await.unwrap().len(), 1);
    assert!(rooms::search(c, "o_d", 10, 0).await.unwrap().is_empty());
    assert!(found.iter().all(|id| *id != secret.id && *id != club.id));

    let changes = RoomChanges { name: Some("Lobby"), topic: Some("say hi"), ..Default::default() };
    let edited = rooms::update(c, general.id, changes, alice.id).await.unwrap();
    assert_eq!((edited.name.as_str(), edited.topic.as_str()), ("Lobby", "say hi"));
    assert_eq!(rooms::search(c, "lobby", 10, 0).await.unwrap()[0].id, general.id);

    rooms::set_archived(c, general.id, true, alice.id).await.unwrap();
    assert!(rooms::by_id(c, general.id).await.unwrap().unwrap().is_archived());
    let actions: Vec<String> =
        audit::log(c, general.id, 10).await.unwrap().into_iter().map(|r| r.action).collect();
    assert_eq!(actions, ["archived", "edited", "created"]);

    assert!(rooms::delete(c, general.id).await.unwrap());
    assert!(rooms::by_id(c, general.id).await.unwrap().is_none());
    assert!(audit::log(c, general.id, 10).await.unwrap().is_empty());
    assert!(!rooms::delete(c, general.id).await.unwrap());
}

async fn joining_follows_visibility_bans_and_archive(db: Db) {
    let c = &mut db.conn().await.unwrap();
    let owner = members::create(c, member("owner")).await.unwrap();
    let bob = members::create(c, member("bob")).await.unwrap();
    let carol = members::create(c, member("carol")).await.unwrap();
    let open = rooms::create(c, room("open", Visibility::Public, 10), owner.id).await.unwrap();
    let closed = rooms::create(c, room("closed", Visibility::InviteOnly, 10), owner.id).await.unwrap();

    assert_eq!(memberships::join(c, open.id, bob.id, JoinBy::Asking).await.unwrap(), Joined::Joined);
    assert_eq!(memberships::join(c, open.id, bob.id, JoinBy::Asking).await.unwrap(), Joined::AlreadyMember);
    assert_eq!(rooms::by_id(c, open.id).await.unwrap().unwrap().member_count, 2);
    assert!(matches!(memberships::join(c, 424242, bob.id, JoinBy::Asking).await, Err(DbError::NotFound)));

    assert_eq!(
        refused(memberships::join(c, closed.id, bob.id, JoinBy::Asking).await),
        Refusal::InvitationRequired
    );
    assert!(!invites::is_invited(c, closed.id, bob.id).await.unwrap());
    invites::invite(c, closed.id, bob.id, owner.id).await.unwrap();
    assert!(invites::is_invited(c, closed.id, bob.id).await.unwrap());
    assert_eq!(memberships::join(c, closed.id, bob.id, JoinBy::Asking).await.unwrap(), Joined::Joined);
    assert!(!invites::is_invited(c, closed.id, bob.id).await.unwrap(), "the invitation is used up");

    // Links: wrong code, then a code with one use.
    let later = Utc::now().naive_utc() + Duration::hours(1);
    let link = invites::create_link(c, closed.id, "hash-1", later, Some(1), owner.id).await.unwrap();
    let wrong = JoinBy::Link { code_hash: "nope" };
    assert_eq!(refused(memberships::join(c, closed.id, carol.id, wrong).await), Refusal::InviteInvalid);
    assert_eq!(invites::room_of_link(c, "hash-1").await.unwrap(), Some(closed.id));
    let by_link = JoinBy::Link { code_hash: "hash-1" };
    assert_eq!(memberships::join(c, closed.id, carol.id, by_link).await.unwrap(), Joined::Joined);
    let dave = members::create(c, member("dave")).await.unwrap();
    assert_eq!(
        refused(memberships::join(c, closed.id, dave.id, by_link).await),
        Refusal::InviteInvalid,
        "used up"
    );
    let second = invites::create_link(c, closed.id, "hash-2", later, None, owner.id).await.unwrap();
    assert!(invites::revoke_link(c, closed.id, second.id, owner.id).await.unwrap());
    let revoked = JoinBy::Link { code_hash: "hash-2" };
    assert_eq!(refused(memberships::join(c, closed.id, dave.id, revoked).await), Refusal::InviteInvalid);
    let earlier = Utc::now().naive_utc() - Duration::seconds(1);
    invites::create_link(c, closed.id, "hash-3", earlier, None, owner.id).await.unwrap();
    let expired = JoinBy::Link { code_hash: "hash-3" };
    assert_eq!(refused(memberships::join(c, closed.id, dave.id, expired).await), Refusal::InviteInvalid);
    let links = invites::links(c, closed.id).await.unwrap();
    assert_eq!(links.len(), 3);
    assert_eq!(links.iter().find(|l| l.id == link.id).unwrap().uses, 1);

    // Bans remove, keep out until they end, and are lifted.
    memberships::ban(c, open.id, bob.id, None, owner.id).await.unwrap();
    assert_eq!(memberships::role(c, open.id, bob.id).await.unwrap(), None);
    assert_eq!(
        refused(memberships::join(c, open.id, bob.id, JoinBy::Asking).await),
        Refusal::Banned { until: None }
    );
    assert_eq!(memberships::active_ban(c, open.id, bob.id).await.unwrap(), Some(None));
    assert!(memberships::unban(c, open.id, bob.id, owner.id).await.unwrap());
    assert_eq!(memberships::join(c, open.id, bob.id, JoinBy::Asking).await.unwrap(), Joined::Joined);
    memberships::ban(c, open.id, carol.id, Some(earlier), owner.id).await.unwrap();
    assert_eq!(memberships::active_ban(c, open.id, carol.id).await.unwrap(), None, "a ban that ended");
    assert_eq!(memberships::join(c, open.id, carol.id, JoinBy::Asking).await.unwrap(), Joined::Joined);

    rooms::set_archived(c, open.id, true, owner.id).await.unwrap();
    assert_eq!(refused(memberships::join(c, open.id, dave.id, JoinBy::Asking).await), Refusal::Archived);
    assert_eq!(rooms::by_id(c, open.id).await.unwrap().unwrap().member_count, 3);
}

async fn moderation_is_recorded(db: Db) {
    let c = &mut db.conn().await.unwrap();
    let owner = members::create(c, member("owner")).await.unwrap();
    let bob = members::create(c, member("bob")).await.unwrap();
    let carol = members::create(c, member("carol")).await.unwrap();
    let r = rooms::create(c, room("r", Visibility::Public, 10), owner.id).await.unwrap();
    memberships::join(c, r.id, bob.id, JoinBy::Asking).await.unwrap();
    memberships::join(c, r.id, carol.id, JoinBy::Asking).await.unwrap();

    memberships::set_role(c, r.id, bob.id, Role::Admin, owner.id).await.unwrap();
    memberships::set_role(c, r.id, carol.id, Role::Observer, bob.id).await.unwrap();
    let roles: Vec<(String, Role)> = memberships::members_of(c, r.id)
        .await
        .unwrap()
        .into_iter()
        .map(|(m, ms)| (m.username, ms.role()))
        .collect();
    assert_eq!(
        roles,
        [("owner".into(), Role::Owner), ("bob".into(), Role::Admin), ("carol".into(), Role::Observer)]
    );
    let until = Utc::now().naive_utc() + Duration::minutes(5);
    memberships::set_muted(c, r.id, carol.id, Some(until), bob.id).await.unwrap();
    let muted = memberships::get(c, r.id, carol.id).await.unwrap().unwrap().muted_until.unwrap();
    assert!((muted - until).num_seconds().abs() < 1);
    memberships::set_muted(c, r.id, carol.id, None, bob.id).await.unwrap();
    assert!(matches!(
        memberships::set_role(c, r.id, 999_999, Role::Member, owner.id).await,
        Err(DbError::Refused(Refusal::NotAMember))
    ));

    assert!(memberships::remove(c, r.id, carol.id, bob.id, "kicked").await.unwrap());
    assert!(!memberships::remove(c, r.id, carol.id, bob.id, "kicked").await.unwrap());
    assert_eq!(rooms::by_id(c, r.id).await.unwrap().unwrap().member_count, 2);

    memberships::transfer_ownership(c, r.id, owner.id, bob.id).await.unwrap();
    assert_eq!(memberships::role(c, r.id, bob.id).await.unwrap(), Some(Role::Owner));
    assert_eq!(memberships::role(c, r.id, owner.id).await.unwrap(), Some(Role::Admin));

    let log = audit::log(c, r.id, 50).await.unwrap();
    let actions: Vec<(&str, i64, Option<i64>)> =
        log.iter().map(|e| (e.action.as_str(), e.actor_id, e.target_id)).collect();
    assert_eq!(
        actions,
        [
            ("transferred", owner.id, Some(bob.id)),
            ("kicked", bob.id, Some(carol.id)),
            ("unmuted", bob.id, Some(carol.id)),
            ("muted", bob.id, Some(carol.id)),
            ("role_changed", bob.id, Some(carol.id)),
            ("role_changed", owner.id, Some(bob.id)),
            ("created", owner.id, None),
        ]
    );
    assert_eq!(log[1].actor_name, "bob");
    // Leaving on one's own is not a moderation record.
    memberships::remove(c, r.id, owner.id, owner.id, "left").await.unwrap();
    assert_eq!(audit::log(c, r.id, 50).await.unwrap().len(), log.len());
}

async fn capacity_holds_under_concurrent_joins(db: Db) {
    let (r, joiners) = {
        let c = &mut db.conn().await.unwrap();
        let owner = members::create(c, member("owner")).await.unwrap();
        let r = rooms::create(c, room("small", Visibility::Public, 5), owner.id).await.unwrap();
        let mut joiners = Vec::new();
        for i in 0..12 {
            joiners.push(members::create(c, member(&format!("m{i}"))).await.unwrap().id);
        }
        (r, joiners)
    };
    let attempts: Vec<_> = joiners
        .iter()
        .map(|&m| {
            let db = db.clone();
            tokio::spawn(
                async move { memberships::join(&mut db.conn().await?, r.id, m, JoinBy::Asking).await },
            )
        })
        .collect();
    let (mut joined, mut full) = (0, 0);
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(Joined::Joined) => joined += 1,
            Err(DbError::Refused(Refusal::RoomFull)) => full += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((joined, full), (4, 8), "the owner plus four fill five places");
    let c = &mut db.conn().await.unwrap();
    assert_eq!(memberships::members_of(c, r.id).await.unwrap().len(), 5);
    assert_eq!(rooms::by_id(c, r.id).await.unwrap().unwrap().member_count, 5);
}

async fn a_pair_has_one_direct_room_even_when_both_start_at_once(db: Db) {
    let (a, b) = {
        let c = &mut db.conn().await.unwrap();
        (members::create(c, member("a")).await.unwrap().id, members::create(c, member("b")).await.unwrap().id)
    };
    let starts: Vec<_> = (0..8)
        .map(|i| {
            let db = db.clone();
            let (from, to) = if i % 2 == 0 { (a, b) } else { (b, a) };
            tokio::spawn(async move {
                let mut conn = db.conn().await.unwrap();
                let room = if i < 4 {
                    direct::find_or_create_room(&mut conn, from, to).await
                } else {
                    // Inside a use case's transaction: losing the race rolls back to a savepoint.
                    conn.transaction(async |mut tx| direct::find_or_create_room(&mut tx, from, to).await)
                        .await
                };
                room.unwrap().id
            })
        })
        .collect();
    let mut ids = Vec::new();
    for start in starts {
        ids.push(start.await.unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one room: {ids:?}");
    let c = &mut db.conn().await.unwrap();
    let room = rooms::by_id(c, ids[0]).await.unwrap().unwrap();
    assert_eq!((room.kind(), room.direct_pair()), (RoomKind::Direct, Some((a.min(b), a.max(b)))));
    assert_eq!(memberships::role(c, room.id, a).await.unwrap(), Some(Role::Member));
    assert_eq!(memberships::role(c, room.id, b).await.unwrap(), Some(Role::Member));
    let other = members::create(c, member("c")).await.unwrap().id;
    assert_eq!(refused(memberships::join(c, room.id, other, JoinBy::Asking).await), Refusal::DirectRoom);
    assert_eq!(direct::find_room(c, b, a).await.unwrap().map(|r| r.id), Some(room.id));
    assert!(direct::find_room(c, a, other).await.unwrap().is_none());
    assert_ne!(direct::find_or_create_room(c, a, other).await.unwrap().id, room.id);

    assert!(!direct::has_blocked(c, a, b).await.unwrap());
    direct::block(c, a, b).await.unwrap();
    direct::block(c, a, b).await.unwrap();
    assert!(direct::has_blocked(c, a, b).await.unwrap());
    assert!(!direct::has_blocked(c, b, a).await.unwrap());
    assert!(direct::unblock(c, a, b).await.unwrap());
    assert!(!direct::unblock(c, a, b).await.unwrap());
}

async fn read_positions_only_move_forward(db: Db) {
    let (owner, r) = {
        let c = &mut db.conn().await.unwrap();
        let owner = members::create(c, member("owner")).await.unwrap();
        let r = rooms::create(c, room("r", Visibility::Public, 10), owner.id).await.unwrap();
        assert_eq!(memberships::mark_read(c, r.id, owner.id, 10).await.unwrap(), Some(10));
        assert_eq!(
            memberships::mark_read(c, r.id, owner.id, 4).await.unwrap(),
            Some(10),
            "an older mark changes nothing"
        );
        (owner, r)
    };
    let marks: Vec<_> = (0..20)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                let c = &mut db.conn().await.unwrap();
                memberships::mark_read(c, r.id, owner.id, 11 + (i * 7) % 20).await.unwrap()
            })
        })
        .collect();
    for mark in marks {
        mark.await.unwrap();
    }
    let c = &mut db.conn().await.unwrap();
    assert_eq!(memberships::get(c, r.id, owner.id).await.unwrap().unwrap().read_position, Some(30));
    assert_eq!(memberships::mark_read(c, r.id, 999_999, 5).await.unwrap(), None, "not a member");
    let mine = rooms::of_member(c, owner.id).await.unwrap();
    assert_eq!((mine.len(), mine[0].1.read_position), (1, Some(30)));
}

/// A use case's own error, as the web crate's are.
#[derive(Debug)]
enum Declined {
    Store(#[allow(dead_code)] DbError),
    ChangedMyMind,
}

impl From<DbError> for Declined {
    fn from(e: DbError) -> Self {
        Declined::Store(e)
    }
}

/// A use case composed of several queries in one transaction is all or nothing: when a later step
/// fails, the earlier ones (themselves transactions, so savepoints here) are rolled back too.
async fn a_composed_use_case_rolls_back_as_a_whole(db: Db) {
    let c = &mut db.conn().await.unwrap();
    let owner = members::create(c, member("owner")).await.unwrap();
    let bob = members::create(c, member("bob")).await.unwrap();
    let r = rooms::create(c, room("r", Visibility::InviteOnly, 10), owner.id).await.unwrap();

    // Invite bob, then fail: a second member named "Owner" is a conflict.
    let failed: Result<(), DbError> = c
        .transaction(async |mut tx| {
            invites::invite(&mut tx, r.id, bob.id, owner.id).await?;
            rooms::create(&mut tx, room("created in passing", Visibility::Public, 10), owner.id).await?;
            assert!(invites::is_invited(&mut tx, r.id, bob.id).await?, "visible inside the transaction");
            members::create(&mut tx, member("Owner")).await?;
            Ok(())
        })
        .await;
    assert!(matches!(failed, Err(DbError::Conflict)), "{failed:?}");
    assert!(!invites::is_invited(c, r.id, bob.id).await.unwrap(), "the invitation is rolled back");
    assert!(rooms::search(c, "in passing", 10, 0).await.unwrap().is_empty(), "so is the room");
    let actions: Vec<String> = audit::log(c, r.id, 10).await.unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(actions, ["created"], "and its audit record");

    // The connection is usable afterwards, and the same steps commit when none fails.
    let done: Result<Joined, DbError> = c
        .transaction(async |mut tx| {
            invites::invite(&mut tx, r.id, bob.id, owner.id).await?;
            memberships::join(&mut tx, r.id, bob.id, JoinBy::Asking).await
        })
        .await;
    assert_eq!(done.unwrap(), Joined::Joined);
    assert_eq!(memberships::role(c, r.id, bob.id).await.unwrap(), Some(Role::Member));

    // A refusal of the caller's own (an error of the caller's type) rolls back as well.
    let carol = members::create(c, member("carol")).await.unwrap();
    let refused: Result<(), Declined> = c
        .transaction(async |mut tx| {
            invites::invite(&mut tx, r.id, carol.id, owner.id).await?;
            Err(Declined::ChangedMyMind)
        })
        .await;
    assert!(matches!(refused, Err(Declined::ChangedMyMind)));
    assert!(!invites::is_invited(c, r.id, carol.id).await.unwrap());
}

/// A request cancelled between two statements of its transaction leaves nothing behind, and later
/// statements are not swallowed by its transaction (SQLite's one connection is rolled back by whoever
/// takes it next; PostgreSQL's pool discards the connection).
async fn an_abandoned_transaction_leaves_nothing_behind(db: Db) {
    let abandoned = async {
        let mut conn = db.conn().await.unwrap();
        conn.transaction(async |mut tx| {
            members::create(&mut tx, member("ghost")).await?;
            std::future::pending::<()>().await;
            Ok::<_, DbError>(())
        })
        .await
    };
    let dropped = tokio::time::timeout(std::time::Duration::from_millis(300), abandoned).await;
    assert!(dropped.is_err(), "the transaction was still open when its task was dropped");
    {
        let c = &mut db.conn().await.unwrap();
        assert!(members::by_username(c, "ghost").await.unwrap().is_none(), "its insert is gone");
        members::create(c, member("alive")).await.unwrap();
    }
    let c = &mut db.conn().await.unwrap();
    assert!(members::by_username(c, "alive").await.unwrap().is_some(), "a later insert stays");
}

contract!(
    an_abandoned_transaction_leaves_nothing_behind,
    rooms_are_created_edited_searched_and_deleted,
    joining_follows_visibility_bans_and_archive,
    moderation_is_recorded,
    capacity_holds_under_concurrent_joins,
    a_pair_has_one_direct_room_even_when_both_start_at_once,
    read_positions_only_move_forward,
    a_composed_use_case_rolls_back_as_a_whole
);
