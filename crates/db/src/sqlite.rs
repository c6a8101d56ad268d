//! The embedded adapter: SQLite through diesel, one connection behind an async mutex (SQLite
//! serialises writes anyway, and an in-memory database lives only as long as its one connection).

use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use tokio::sync::{Mutex, MutexGuard};

use crate::DbError;
use crate::queries::impl_directory;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

type Conn = SyncConnectionWrapper<SqliteConnection>;

/// Members and rooms in SQLite: a file, or `:memory:` for a throw-away store.
pub struct SqliteDirectory {
    conn: Mutex<Conn>,
}

impl SqliteDirectory {
    /// Opens (creating if needed) the database at `path` and applies migrations.
    pub fn open(path: &str) -> Result<Self, DbError> {
        let mut conn = SqliteConnection::establish(path).map_err(|e| DbError::Unavailable(e.to_string()))?;
        for pragma in ["PRAGMA foreign_keys = ON", "PRAGMA journal_mode = WAL"] {
            // The synchronous `execute`: the connection is not wrapped for async use yet.
            diesel::RunQueryDsl::execute(diesel::sql_query(pragma), &mut conn)?;
        }
        conn.run_pending_migrations(MIGRATIONS)
            .map_err(|e| DbError::Other(format!("migration failed: {e}")))?;
        Ok(Self { conn: Mutex::new(SyncConnectionWrapper::new(conn)) })
    }

    async fn conn(&self) -> Result<MutexGuard<'_, Conn>, DbError> {
        Ok(self.conn.lock().await)
    }
}

impl_directory!(SqliteDirectory);
crate::refresh_tokens::impl_refresh_tokens!(SqliteDirectory);
crate::rooms::impl_rooms!(SqliteDirectory);
crate::membership::impl_memberships!(SqliteDirectory);
crate::invites::impl_invites!(SqliteDirectory);
crate::direct::impl_direct_chats!(SqliteDirectory);
crate::audit::impl_audit!(SqliteDirectory);
crate::identities::impl_identities!(SqliteDirectory);
crate::files::impl_files!(SqliteDirectory);
