//! The members contract (accounts, refresh tokens, provider identities), run against PostgreSQL and
//! embedded SQLite.

mod common;

use common::{contract, member};
use natter_db::{Db, DbError, NewRefreshToken, Rotation, identities, members, refresh_tokens};

async fn usernames_are_unique_ignoring_case(db: Db) {
    db.ping().await.expect("ping");
    let c = &mut db.conn().await.unwrap();
    let alice = members::create(c, member("Alice")).await.unwrap();
    assert!(matches!(members::create(c, member("alice")).await, Err(DbError::Conflict)));
    let found = members::by_username(c, "ALICE").await.unwrap().expect("found");
    assert_eq!(found.id, alice.id);
    assert_eq!(found.username, "Alice");
    assert_eq!(members::by_id(c, alice.id).await.unwrap().unwrap().username, "Alice");
    assert!(members::by_username(c, "bob").await.unwrap().is_none());

    members::update_profile(c, alice.id, "Alice A.", Some("https://example.com/a.png")).await.unwrap();
    let updated = members::by_id(c, alice.id).await.unwrap().unwrap();
    assert_eq!(
        (updated.display_name.as_str(), updated.avatar_url.as_deref()),
        ("Alice A.", Some("https://example.com/a.png"))
    );
    members::update_profile(c, alice.id, "Alice", None).await.unwrap();
    assert_eq!(members::by_id(c, alice.id).await.unwrap().unwrap().avatar_url, None);
}

async fn refresh_tokens_rotate_and_reuse_revokes_the_family(db: Db) {
    let c = &mut db.conn().await.unwrap();
    let alice = members::create(c, member("alice")).await.unwrap();
    let later = chrono::Utc::now().naive_utc() + chrono::Duration::hours(1);
    let first =
        NewRefreshToken { family_id: "fam-1", member_id: alice.id, token_hash: "h1", expires_at: later };
    refresh_tokens::store(c, first).await.unwrap();
    assert_eq!(
        refresh_tokens::rotate(c, "h1", "h2", later).await.unwrap(),
        Rotation::Rotated { member_id: alice.id }
    );
    assert_eq!(
        refresh_tokens::rotate(c, "h2", "h3", later).await.unwrap(),
        Rotation::Rotated { member_id: alice.id }
    );
    // h1 again: a replay. The family, including the live h3, is revoked.
    assert_eq!(
        refresh_tokens::rotate(c, "h1", "h9", later).await.unwrap(),
        Rotation::ReuseDetected { member_id: alice.id }
    );
    assert_eq!(refresh_tokens::rotate(c, "h3", "h4", later).await.unwrap(), Rotation::Invalid);
    assert_eq!(refresh_tokens::rotate(c, "unknown", "h5", later).await.unwrap(), Rotation::Invalid);

    let earlier = chrono::Utc::now().naive_utc() - chrono::Duration::seconds(1);
    let stale =
        NewRefreshToken { family_id: "fam-2", member_id: alice.id, token_hash: "old", expires_at: earlier };
    refresh_tokens::store(c, stale).await.unwrap();
    assert_eq!(refresh_tokens::rotate(c, "old", "h6", later).await.unwrap(), Rotation::Invalid, "expired");

    let third =
        NewRefreshToken { family_id: "fam-3", member_id: alice.id, token_hash: "k1", expires_at: later };
    refresh_tokens::store(c, third).await.unwrap();
    assert!(refresh_tokens::revoke_family(c, "k1").await.unwrap());
    assert_eq!(refresh_tokens::rotate(c, "k1", "k2", later).await.unwrap(), Rotation::Invalid, "logged out");
    assert!(!refresh_tokens::revoke_family(c, "nope").await.unwrap());
}

async fn concurrent_use_of_one_token_rotates_once(db: Db) {
    let later = chrono::Utc::now().naive_utc() + chrono::Duration::hours(1);
    {
        let c = &mut db.conn().await.unwrap();
        let alice = members::create(c, member("alice")).await.unwrap();
        let first =
            NewRefreshToken { family_id: "fam", member_id: alice.id, token_hash: "t0", expires_at: later };
        refresh_tokens::store(c, first).await.unwrap();
    }
    let attempts = (0..8).map(|i| {
        let db = db.clone();
        tokio::spawn(async move {
            let c = &mut db.conn().await.unwrap();
            refresh_tokens::rotate(c, "t0", &format!("n{i}"), later).await.unwrap()
        })
    });
    let mut rotated = 0;
    for attempt in attempts {
        if matches!(attempt.await.unwrap(), Rotation::Rotated { .. }) {
            rotated += 1;
        }
    }
    assert_eq!(rotated, 1, "exactly one of the concurrent uses rotates");
}

async fn provider_accounts_map_to_one_member(db: Db) {
    let c = &mut db.conn().await.unwrap();
    let created = identities::create_member(c, member("octocat"), "github", "583231").await.unwrap();
    assert_eq!(identities::member_of(c, "github", "583231").await.unwrap().unwrap().id, created.id);
    assert!(identities::member_of(c, "github", "999").await.unwrap().is_none());
    // A second provider links to the same member; a provider account cannot be linked twice.
    identities::link(c, "keycloak", "f3a1", created.id).await.unwrap();
    assert_eq!(identities::member_of(c, "keycloak", "f3a1").await.unwrap().unwrap().id, created.id);
    let other = members::create(c, member("other")).await.unwrap();
    assert!(matches!(identities::link(c, "github", "583231", other.id).await, Err(DbError::Conflict)));
    assert_eq!(identities::providers_of(c, created.id).await.unwrap(), ["github", "keycloak"]);
    // A taken username fails the whole creation: no member without its identity, nor the reverse.
    assert!(matches!(
        identities::create_member(c, member("OctoCat"), "github", "777").await,
        Err(DbError::Conflict)
    ));
    assert!(identities::member_of(c, "github", "777").await.unwrap().is_none());
}

contract!(
    usernames_are_unique_ignoring_case,
    refresh_tokens_rotate_and_reuse_revokes_the_family,
    concurrent_use_of_one_token_rotates_once,
    provider_accounts_map_to_one_member
);
