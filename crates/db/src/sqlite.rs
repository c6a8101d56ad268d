//! Setting up SQLite: one connection (SQLite serialises writes anyway, and an in-memory database
//! lives only as long as its one connection), its pragmas and migrations.

use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::DbError;
use crate::connection::SqliteConn;

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Opens (creating if needed) the database at `path` and applies migrations.
pub(crate) fn open(path: &str) -> Result<SqliteConn, DbError> {
    let mut conn = SqliteConnection::establish(path).map_err(|e| DbError::Unavailable(e.to_string()))?;
    for pragma in ["PRAGMA foreign_keys = ON", "PRAGMA journal_mode = WAL"] {
        // The synchronous `execute`: the connection is not wrapped for async use yet.
        diesel::RunQueryDsl::execute(diesel::sql_query(pragma), &mut conn)?;
    }
    conn.run_pending_migrations(MIGRATIONS).map_err(|e| DbError::Other(format!("migration failed: {e}")))?;
    Ok(SyncConnectionWrapper::new(conn))
}
