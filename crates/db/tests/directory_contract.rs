//! The contract every `Directory` adapter meets, run against PostgreSQL and embedded SQLite.

use std::sync::Arc;

mod common;

use common::{contract, member};
use natter_db::{DbError, Directory, NewRefreshToken, Rotation};

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

contract!(
    usernames_are_unique_ignoring_case,
    refresh_tokens_rotate_and_reuse_revokes_the_family,
    concurrent_use_of_one_token_rotates_once,
    provider_accounts_map_to_one_member
);
