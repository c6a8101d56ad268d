//! The contract every `Directory` adapter meets, run against PostgreSQL and embedded SQLite.

use std::sync::Arc;

use natter_db::{DbError, Directory, NewMember, PgDirectory, Role, RoomKind, SqliteDirectory};

async fn postgres() -> Arc<dyn Directory> {
    let url = natter_test_support::fresh_postgres_database().await;
    PgDirectory::migrate(&url).await.expect("migrate");
    // Migrating twice is a no-op (pods starting later find nothing to do).
    assert_eq!(PgDirectory::migrate(&url).await.expect("migrate again"), 0);
    Arc::new(PgDirectory::connect(&url, 4).expect("pool"))
}

fn sqlite() -> Arc<dyn Directory> {
    Arc::new(SqliteDirectory::open(":memory:").expect("sqlite"))
}

fn member<'a>(name: &'a str) -> NewMember<'a> {
    NewMember { username: name, display_name: name, password_hash: "$argon2id$stub" }
}

async fn usernames_are_unique_ignoring_case(dir: Arc<dyn Directory>) {
    let alice = dir.create_member(member("Alice")).await.unwrap();
    assert!(matches!(dir.create_member(member("alice")).await, Err(DbError::Conflict)));
    let found = dir.member_by_username("ALICE").await.unwrap().expect("found");
    assert_eq!(found.id, alice.id);
    assert_eq!(found.username, "Alice");
    assert_eq!(dir.member_by_id(alice.id).await.unwrap().unwrap().username, "Alice");
    assert!(dir.member_by_username("bob").await.unwrap().is_none());
}

async fn rooms_and_membership(dir: Arc<dyn Directory>) {
    let alice = dir.create_member(member("alice")).await.unwrap();
    let bob = dir.create_member(member("bob")).await.unwrap();
    let room = dir.create_room("general", RoomKind::Community, alice.id).await.unwrap();
    assert_eq!(dir.role_in_room(room.id, alice.id).await.unwrap(), Some(Role::Owner));
    assert_eq!(dir.role_in_room(room.id, bob.id).await.unwrap(), None);

    dir.join_room(room.id, bob.id).await.unwrap();
    dir.join_room(room.id, bob.id).await.unwrap();
    assert_eq!(dir.role_in_room(room.id, bob.id).await.unwrap(), Some(Role::Member));
    // The owner joining "again" stays owner.
    dir.join_room(room.id, alice.id).await.unwrap();
    assert_eq!(dir.role_in_room(room.id, alice.id).await.unwrap(), Some(Role::Owner));

    let second = dir.create_room("random", RoomKind::Community, bob.id).await.unwrap();
    let bobs: Vec<i64> = dir.rooms_of_member(bob.id).await.unwrap().iter().map(|r| r.id).collect();
    assert_eq!(bobs, vec![second.id, room.id]);
    let alices: Vec<i64> = dir.rooms_of_member(alice.id).await.unwrap().iter().map(|r| r.id).collect();
    assert_eq!(alices, vec![room.id]);
    assert_eq!(dir.community_rooms(1).await.unwrap()[0].id, second.id);
    assert_eq!(dir.room(room.id).await.unwrap().unwrap().name, "general");
    assert!(dir.room(room.id + 1000).await.unwrap().is_none());
}

async fn joining_a_missing_room_fails(dir: Arc<dyn Directory>) {
    let alice = dir.create_member(member("alice")).await.unwrap();
    assert!(dir.join_room(424242, alice.id).await.is_err());
}

macro_rules! contract {
    ($($case:ident),*) => {
        mod on_postgres {
            $(#[tokio::test(flavor = "multi_thread")]
            async fn $case() { super::$case(super::postgres().await).await })*
        }
        mod on_sqlite {
            $(#[tokio::test(flavor = "multi_thread")]
            async fn $case() { super::$case(super::sqlite()).await })*
        }
    };
}

contract!(usernames_are_unique_ignoring_case, rooms_and_membership, joining_a_missing_room_fails);
