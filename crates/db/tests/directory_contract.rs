//! The contract every `Directory` adapter meets, run against PostgreSQL and embedded SQLite.

use std::sync::Arc;

use natter_db::{
    DbError, Directory, NewMember, NewRefreshToken, PgDirectory, Role, RoomKind, Rotation, SqliteDirectory,
};

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

    dir.update_profile(alice.id, "Alice A.", Some("https://example.com/a.png")).await.unwrap();
    let updated = dir.member_by_id(alice.id).await.unwrap().unwrap();
    assert_eq!(
        (updated.display_name.as_str(), updated.avatar_url.as_deref()),
        ("Alice A.", Some("https://example.com/a.png"))
    );
    dir.update_profile(alice.id, "Alice", None).await.unwrap();
    assert_eq!(dir.member_by_id(alice.id).await.unwrap().unwrap().avatar_url, None);
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

async fn refresh_tokens_rotate_and_reuse_revokes_the_family(dir: Arc<dyn Directory>) {
    let alice = dir.create_member(member("alice")).await.unwrap();
    let later = chrono::Utc::now().naive_utc() + chrono::Duration::hours(1);
    let first =
        NewRefreshToken { family_id: "fam-1", member_id: alice.id, token_hash: "h1", expires_at: later };
    dir.store_refresh_token(first).await.unwrap();
    assert_eq!(
        dir.rotate_refresh_token("h1", "h2", later).await.unwrap(),
        Rotation::Rotated { member_id: alice.id }
    );
    assert_eq!(
        dir.rotate_refresh_token("h2", "h3", later).await.unwrap(),
        Rotation::Rotated { member_id: alice.id }
    );
    // h1 again: a replay. The family, including the live h3, is revoked.
    assert_eq!(
        dir.rotate_refresh_token("h1", "h9", later).await.unwrap(),
        Rotation::ReuseDetected { member_id: alice.id }
    );
    assert_eq!(dir.rotate_refresh_token("h3", "h4", later).await.unwrap(), Rotation::Invalid);
    assert_eq!(dir.rotate_refresh_token("unknown", "h5", later).await.unwrap(), Rotation::Invalid);

    let earlier = chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1);
    let stale =
        NewRefreshToken { family_id: "fam-2", member_id: alice.id, token_hash: "old", expires_at: earlier };
    dir.store_refresh_token(stale).await.unwrap();
    assert_eq!(dir.rotate_refresh_token("old", "h6", later).await.unwrap(), Rotation::Invalid, "expired");

    let third =
        NewRefreshToken { family_id: "fam-3", member_id: alice.id, token_hash: "k1", expires_at: later };
    dir.store_refresh_token(third).await.unwrap();
    assert!(dir.revoke_refresh_family("k1").await.unwrap());
    assert_eq!(dir.rotate_refresh_token("k1", "k2", later).await.unwrap(), Rotation::Invalid, "logged out");
    assert!(!dir.revoke_refresh_family("nope").await.unwrap());
}

async fn concurrent_use_of_one_token_rotates_once(dir: Arc<dyn Directory>) {
    let alice = dir.create_member(member("alice")).await.unwrap();
    let later = chrono::Utc::now().naive_utc() + chrono::Duration::hours(1);
    let first =
        NewRefreshToken { family_id: "fam", member_id: alice.id, token_hash: "t0", expires_at: later };
    dir.store_refresh_token(first).await.unwrap();
    let attempts = (0..8).map(|i| {
        let dir = Arc::clone(&dir);
        tokio::spawn(async move { dir.rotate_refresh_token("t0", &format!("n{i}"), later).await.unwrap() })
    });
    let mut rotated = 0;
    for attempt in attempts {
        if matches!(attempt.await.unwrap(), Rotation::Rotated { .. }) {
            rotated += 1;
        }
    }
    assert_eq!(rotated, 1, "exactly one of the concurrent uses rotates");
}

async fn provider_accounts_map_to_one_member(dir: Arc<dyn Directory>) {
    let created = dir.create_member_with_identity(member("octocat"), "github", "583231").await.unwrap();
    assert_eq!(dir.member_by_identity("github", "583231").await.unwrap().unwrap().id, created.id);
    assert!(dir.member_by_identity("github", "999").await.unwrap().is_none());
    // A second provider links to the same member; a provider account cannot be linked twice.
    dir.link_identity("keycloak", "f3a1", created.id).await.unwrap();
    assert_eq!(dir.member_by_identity("keycloak", "f3a1").await.unwrap().unwrap().id, created.id);
    let other = dir.create_member(member("other")).await.unwrap();
    assert!(matches!(dir.link_identity("github", "583231", other.id).await, Err(DbError::Conflict)));
    assert_eq!(dir.identities_of(created.id).await.unwrap(), ["github", "keycloak"]);
    // A taken username fails the whole creation: no member without its identity, nor the reverse.
    assert!(matches!(
        dir.create_member_with_identity(member("OctoCat"), "github", "777").await,
        Err(DbError::Conflict)
    ));
    assert!(dir.member_by_identity("github", "777").await.unwrap().is_none());
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

contract!(
    usernames_are_unique_ignoring_case,
    rooms_and_membership,
    joining_a_missing_room_fails,
    refresh_tokens_rotate_and_reuse_revokes_the_family,
    concurrent_use_of_one_token_rotates_once,
    provider_accounts_map_to_one_member
);
