//! The rooms contract (rooms, membership, moderation, invites, direct chats, audit), run against
//! PostgreSQL and embedded SQLite.

mod common;

use std::sync::Arc;

use chrono::{Duration, Utc};
use common::{contract, member};
use natter_db::{
    DbError, Directory, JoinBy, Joined, NewRoom, Refusal, Role, RoomChanges, RoomKind, Visibility,
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

async fn rooms_are_created_edited_searched_and_deleted(dir: Arc<dyn Directory>) {
    let alice = dir.create_member(member("alice")).await.unwrap();
    let general = dir.create_room(room("General Chat", Visibility::Public, 10), alice.id).await.unwrap();
    assert_eq!((general.kind(), general.member_count), (RoomKind::Community, 1));
    assert_eq!(dir.role_in_room(general.id, alice.id).await.unwrap(), Some(Role::Owner));
    let secret = dir.create_room(room("general secret", Visibility::Private, 10), alice.id).await.unwrap();
    let club = dir.create_room(room("Book club", Visibility::InviteOnly, 10), alice.id).await.unwrap();
    dir.create_room(room("100% _odd_", Visibility::Public, 10), alice.id).await.unwrap();

    let found: Vec<i64> = dir.search_rooms("GENERAL", 10, 0).await.unwrap().iter().map(|r| r.id).collect();
    assert_eq!(found, vec![general.id], "private rooms are not listed; case is ignored");
    assert_eq!(dir.search_rooms("", 10, 0).await.unwrap().len(), 3);
    assert_eq!(dir.search_rooms("", 2, 2).await.unwrap().len(), 1, "paged");
    assert_eq!(dir.search_rooms("%", 10, 0).await.unwrap().len(), 1, "LIKE wildcards are literal");
    assert_eq!(dir.search_rooms("_odd", 10, 0).await.unwrap().len(), 1);
    assert!(dir.search_rooms("o_d", 10, 0).await.unwrap().is_empty());
    assert!(found.iter().all(|id| *id != secret.id && *id != club.id));

    let changes = RoomChanges { name: Some("Lobby"), topic: Some("say hi"), ..Default::default() };
    let edited = dir.update_room(general.id, changes, alice.id).await.unwrap();
    assert_eq!((edited.name.as_str(), edited.topic.as_str()), ("Lobby", "say hi"));
    assert_eq!(dir.search_rooms("lobby", 10, 0).await.unwrap()[0].id, general.id);

    dir.set_archived(general.id, true, alice.id).await.unwrap();
    assert!(dir.room(general.id).await.unwrap().unwrap().is_archived());
    let actions: Vec<String> =
        dir.audit_log(general.id, 10).await.unwrap().into_iter().map(|r| r.action).collect();
    assert_eq!(actions, ["archived", "edited", "created"]);

    assert!(dir.delete_room(general.id).await.unwrap());
    assert!(dir.room(general.id).await.unwrap().is_none());
    assert!(dir.audit_log(general.id, 10).await.unwrap().is_empty());
    assert!(!dir.delete_room(general.id).await.unwrap());
}

async fn joining_follows_visibility_bans_and_archive(dir: Arc<dyn Directory>) {
    let owner = dir.create_member(member("owner")).await.unwrap();
    let bob = dir.create_member(member("bob")).await.unwrap();
    let carol = dir.create_member(member("carol")).await.unwrap();
    let open = dir.create_room(room("open", Visibility::Public, 10), owner.id).await.unwrap();
    let closed = dir.create_room(room("closed", Visibility::InviteOnly, 10), owner.id).await.unwrap();

    assert_eq!(dir.join_room(open.id, bob.id, JoinBy::Asking).await.unwrap(), Joined::Joined);
    assert_eq!(dir.join_room(open.id, bob.id, JoinBy::Asking).await.unwrap(), Joined::AlreadyMember);
    assert_eq!(dir.room(open.id).await.unwrap().unwrap().member_count, 2);
    assert!(matches!(dir.join_room(424242, bob.id, JoinBy::Asking).await, Err(DbError::NotFound)));

    assert_eq!(refused(dir.join_room(closed.id, bob.id, JoinBy::Asking).await), Refusal::InvitationRequired);
    assert!(!dir.is_invited(closed.id, bob.id).await.unwrap());
    dir.invite_member(closed.id, bob.id, owner.id).await.unwrap();
    assert!(dir.is_invited(closed.id, bob.id).await.unwrap());
    assert_eq!(dir.join_room(closed.id, bob.id, JoinBy::Asking).await.unwrap(), Joined::Joined);
    assert!(!dir.is_invited(closed.id, bob.id).await.unwrap(), "the invitation is used up");

    // Links: wrong code, then a code with one use.
    let later = Utc::now().naive_utc() + Duration::hours(1);
    let link = dir.create_invite_link(closed.id, "hash-1", later, Some(1), owner.id).await.unwrap();
    let wrong = JoinBy::Link { code_hash: "nope" };
    assert_eq!(refused(dir.join_room(closed.id, carol.id, wrong).await), Refusal::InviteInvalid);
    assert_eq!(dir.invite_link_room("hash-1").await.unwrap(), Some(closed.id));
    let by_link = JoinBy::Link { code_hash: "hash-1" };
    assert_eq!(dir.join_room(closed.id, carol.id, by_link).await.unwrap(), Joined::Joined);
    let dave = dir.create_member(member("dave")).await.unwrap();
    assert_eq!(refused(dir.join_room(closed.id, dave.id, by_link).await), Refusal::InviteInvalid, "used up");
    let second = dir.create_invite_link(closed.id, "hash-2", later, None, owner.id).await.unwrap();
    assert!(dir.revoke_invite_link(closed.id, second.id, owner.id).await.unwrap());
    let revoked = JoinBy::Link { code_hash: "hash-2" };
    assert_eq!(refused(dir.join_room(closed.id, dave.id, revoked).await), Refusal::InviteInvalid);
    let earlier = Utc::now().naive_utc() - Duration::seconds(1);
    dir.create_invite_link(closed.id, "hash-3", earlier, None, owner.id).await.unwrap();
    let expired = JoinBy::Link { code_hash: "hash-3" };
    assert_eq!(refused(dir.join_room(closed.id, dave.id, expired).await), Refusal::InviteInvalid);
    let links = dir.invite_links(closed.id).await.unwrap();
    assert_eq!(links.len(), 3);
    assert_eq!(links.iter().find(|l| l.id == link.id).unwrap().uses, 1);

    // Bans remove, keep out until they end, and are lifted.
    dir.ban(open.id, bob.id, None, owner.id).await.unwrap();
    assert_eq!(dir.role_in_room(open.id, bob.id).await.unwrap(), None);
    assert_eq!(
        refused(dir.join_room(open.id, bob.id, JoinBy::Asking).await),
        Refusal::Banned { until: None }
    );
    assert_eq!(dir.active_ban(open.id, bob.id).await.unwrap(), Some(None));
    assert!(dir.unban(open.id, bob.id, owner.id).await.unwrap());
    assert_eq!(dir.join_room(open.id, bob.id, JoinBy::Asking).await.unwrap(), Joined::Joined);
    dir.ban(open.id, carol.id, Some(earlier), owner.id).await.unwrap();
    assert_eq!(dir.active_ban(open.id, carol.id).await.unwrap(), None, "a ban that ended");
    assert_eq!(dir.join_room(open.id, carol.id, JoinBy::Asking).await.unwrap(), Joined::Joined);

    dir.set_archived(open.id, true, owner.id).await.unwrap();
    assert_eq!(refused(dir.join_room(open.id, dave.id, JoinBy::Asking).await), Refusal::Archived);
    assert_eq!(dir.room(open.id).await.unwrap().unwrap().member_count, 3);
}

async fn moderation_is_recorded(dir: Arc<dyn Directory>) {
    let owner = dir.create_member(member("owner")).await.unwrap();
    let bob = dir.create_member(member("bob")).await.unwrap();
    let carol = dir.create_member(member("carol")).await.unwrap();
    let r = dir.create_room(room("r", Visibility::Public, 10), owner.id).await.unwrap();
    dir.join_room(r.id, bob.id, JoinBy::Asking).await.unwrap();
    dir.join_room(r.id, carol.id, JoinBy::Asking).await.unwrap();

    dir.set_role(r.id, bob.id, Role::Admin, owner.id).await.unwrap();
    dir.set_role(r.id, carol.id, Role::Observer, bob.id).await.unwrap();
    let roles: Vec<(String, Role)> =
        dir.room_members(r.id).await.unwrap().into_iter().map(|(m, ms)| (m.username, ms.role())).collect();
    assert_eq!(
        roles,
        [("owner".into(), Role::Owner), ("bob".into(), Role::Admin), ("carol".into(), Role::Observer)]
    );
    let until = Utc::now().naive_utc() + Duration::minutes(5);
    dir.set_muted(r.id, carol.id, Some(until), bob.id).await.unwrap();
    let muted = dir.membership(r.id, carol.id).await.unwrap().unwrap().muted_until.unwrap();
    assert!((muted - until).num_seconds().abs() < 1);
    dir.set_muted(r.id, carol.id, None, bob.id).await.unwrap();
    assert!(matches!(
        dir.set_role(r.id, 999_999, Role::Member, owner.id).await,
        Err(DbError::Refused(Refusal::NotAMember))
    ));

    assert!(dir.remove_member(r.id, carol.id, bob.id, "kicked").await.unwrap());
    assert!(!dir.remove_member(r.id, carol.id, bob.id, "kicked").await.unwrap());
    assert_eq!(dir.room(r.id).await.unwrap().unwrap().member_count, 2);

    dir.transfer_ownership(r.id, owner.id, bob.id).await.unwrap();
    assert_eq!(dir.role_in_room(r.id, bob.id).await.unwrap(), Some(Role::Owner));
    assert_eq!(dir.role_in_room(r.id, owner.id).await.unwrap(), Some(Role::Admin));

    let log = dir.audit_log(r.id, 50).await.unwrap();
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
    dir.remove_member(r.id, owner.id, owner.id, "left").await.unwrap();
    assert_eq!(dir.audit_log(r.id, 50).await.unwrap().len(), log.len());
}

async fn capacity_holds_under_concurrent_joins(dir: Arc<dyn Directory>) {
    let owner = dir.create_member(member("owner")).await.unwrap();
    let r = dir.create_room(room("small", Visibility::Public, 5), owner.id).await.unwrap();
    let mut joiners = Vec::new();
    for i in 0..12 {
        joiners.push(dir.create_member(member(&format!("m{i}"))).await.unwrap().id);
    }
    let attempts: Vec<_> = joiners
        .iter()
        .map(|&m| {
            let dir = Arc::clone(&dir);
            tokio::spawn(async move { dir.join_room(r.id, m, JoinBy::Asking).await })
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
    assert_eq!(dir.room_members(r.id).await.unwrap().len(), 5);
    assert_eq!(dir.room(r.id).await.unwrap().unwrap().member_count, 5);
}

async fn a_pair_has_one_direct_room_even_when_both_start_at_once(dir: Arc<dyn Directory>) {
    let a = dir.create_member(member("a")).await.unwrap().id;
    let b = dir.create_member(member("b")).await.unwrap().id;
    let starts: Vec<_> = (0..8)
        .map(|i| {
            let dir = Arc::clone(&dir);
            let (from, to) = if i % 2 == 0 { (a, b) } else { (b, a) };
            tokio::spawn(async move { dir.direct_room(from, to).await.unwrap().id })
        })
        .collect();
    let mut ids = Vec::new();
    for start in starts {
        ids.push(start.await.unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one room: {ids:?}");
    let room = dir.room(ids[0]).await.unwrap().unwrap();
    assert_eq!((room.kind(), room.direct_pair()), (RoomKind::Direct, Some((a.min(b), a.max(b)))));
    assert_eq!(dir.role_in_room(room.id, a).await.unwrap(), Some(Role::Member));
    assert_eq!(dir.role_in_room(room.id, b).await.unwrap(), Some(Role::Member));
    let c = dir.create_member(member("c")).await.unwrap().id;
    assert_eq!(refused(dir.join_room(room.id, c, JoinBy::Asking).await), Refusal::DirectRoom);
    assert_ne!(dir.direct_room(a, c).await.unwrap().id, room.id);

    assert!(!dir.has_blocked(a, b).await.unwrap());
    dir.block(a, b).await.unwrap();
    dir.block(a, b).await.unwrap();
    assert!(dir.has_blocked(a, b).await.unwrap());
    assert!(!dir.has_blocked(b, a).await.unwrap());
    assert!(dir.unblock(a, b).await.unwrap());
    assert!(!dir.unblock(a, b).await.unwrap());
}

async fn read_positions_only_move_forward(dir: Arc<dyn Directory>) {
    let owner = dir.create_member(member("owner")).await.unwrap();
    let r = dir.create_room(room("r", Visibility::Public, 10), owner.id).await.unwrap();
    assert_eq!(dir.mark_read(r.id, owner.id, 10).await.unwrap(), Some(10));
    assert_eq!(dir.mark_read(r.id, owner.id, 4).await.unwrap(), Some(10), "an older mark changes nothing");
    let marks: Vec<_> = (0..20)
        .map(|i| {
            let dir = Arc::clone(&dir);
            tokio::spawn(async move { dir.mark_read(r.id, owner.id, 11 + (i * 7) % 20).await.unwrap() })
        })
        .collect();
    for mark in marks {
        mark.await.unwrap();
    }
    assert_eq!(dir.membership(r.id, owner.id).await.unwrap().unwrap().read_position, Some(30));
    assert_eq!(dir.mark_read(r.id, 999_999, 5).await.unwrap(), None, "not a member");
    let mine = dir.rooms_of_member(owner.id).await.unwrap();
    assert_eq!((mine.len(), mine[0].1.read_position), (1, Some(30)));
}

contract!(
    rooms_are_created_edited_searched_and_deleted,
    joining_follows_visibility_bans_and_archive,
    moderation_is_recorded,
    capacity_holds_under_concurrent_joins,
    a_pair_has_one_direct_room_even_when_both_start_at_once,
    read_positions_only_move_forward
);
