//! Setting up PostgreSQL: the pool (through diesel-async and deadpool) and migrations.

use std::time::Duration;

use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::{AsyncConnection, AsyncMigrationHarness, AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::DbError;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
/// Any fixed number: pods starting at once take turns at migrating.
const MIGRATION_LOCK_KEY: i64 = 0x6e61_7474_6572;

/// A pool of up to `max_connections` to `url`. Connects lazily.
pub(crate) fn pool(url: &str, max_connections: usize) -> Result<Pool<AsyncPgConnection>, DbError> {
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(url);
    let pool = Pool::builder(manager)
        .max_size(max_connections)
        .wait_timeout(Some(Duration::from_secs(5)))
        .create_timeout(Some(Duration::from_secs(5)))
        .recycle_timeout(Some(Duration::from_secs(5)))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| DbError::Other(e.to_string()))?;
    let watched = pool.clone();
    natter_runtime::metrics::watch_pool("postgres", move || watched.status().into());
    Ok(pool)
}

/// Applies pending migrations, holding an advisory lock so that several pods starting at once do
/// not race; returns how many were applied.
///
/// diesel-async's migration harness blocks in place, which only a multi-thread runtime allows, so
/// this runs on its own small runtime on its own thread and works from any caller.
pub(crate) async fn migrate(url: &str) -> Result<usize, DbError> {
    let url = url.to_owned();
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let outcome = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| DbError::Other(e.to_string()))
            .and_then(|runtime| runtime.block_on(migrate_here(&url)));
        let _ = done.send(outcome);
    });
    result.await.map_err(|_| DbError::Other("the migration thread panicked".to_owned()))?
}

async fn migrate_here(url: &str) -> Result<usize, DbError> {
    let mut conn =
        AsyncPgConnection::establish(url).await.map_err(|e| DbError::Unavailable(e.to_string()))?;
    diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")).execute(&mut conn).await?;
    let mut harness = AsyncMigrationHarness::new(conn);
    let applied = harness
        .run_pending_migrations(MIGRATIONS)
        .map(|versions| versions.len())
        .map_err(|e| DbError::Other(format!("migration failed: {e}")));
    let mut conn = harness.into_inner();
    diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")).execute(&mut conn).await?;
    applied
}
