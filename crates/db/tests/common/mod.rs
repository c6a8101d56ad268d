//! Shared by the contract suites: a fresh store of each kind, and a macro running every case on both.

use std::sync::Arc;

use natter_db::{Directory, NewMember, PgDirectory, SqliteDirectory};

pub async fn postgres() -> Arc<dyn Directory> {
    let url = natter_test_support::fresh_postgres_database().await;
    PgDirectory::migrate(&url).await.expect("migrate");
    // Migrating twice is a no-op (pods starting later find nothing to do).
    assert_eq!(PgDirectory::migrate(&url).await.expect("migrate again"), 0);
    Arc::new(PgDirectory::connect(&url, 4).expect("pool"))
}

pub fn sqlite() -> Arc<dyn Directory> {
    Arc::new(SqliteDirectory::open(":memory:").expect("sqlite"))
}

pub fn member<'a>(name: &'a str) -> NewMember<'a> {
    NewMember { username: name, display_name: name, password_hash: "$argon2id$stub" }
}

macro_rules! contract {
    ($($case:ident),*) => {
        mod on_postgres {
            $(#[tokio::test(flavor = "multi_thread")]
            async fn $case() { super::$case(crate::common::postgres().await).await })*
        }
        mod on_sqlite {
            $(#[tokio::test(flavor = "multi_thread")]
            async fn $case() { super::$case(crate::common::sqlite()).await })*
        }
    };
}

pub(crate) use contract;
