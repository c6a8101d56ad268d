//! Shared by the contract suites: a fresh store of each kind, and a macro running every case on both.

use natter_db::{Db, NewMember};

pub async fn postgres() -> Db {
    let url = natter_test_support::fresh_postgres_database().await;
    Db::migrate_postgres(&url).await.expect("migrate");
    // Migrating twice is a no-op (pods starting later find nothing to do).
    assert_eq!(Db::migrate_postgres(&url).await.expect("migrate again"), 0);
    Db::connect_postgres(&url, 4).expect("pool")
}

pub fn sqlite() -> Db {
    Db::open_sqlite(":memory:").expect("sqlite")
}

// Each suite compiles this module on its own, and the search suite signs no one up.
#[allow(dead_code)]
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
