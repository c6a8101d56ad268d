//! The store handle ([`Db`]) and a connection to it ([`Conn`]), over PostgreSQL or SQLite.
//!
//! Why an enum over the two backends rather than a trait with an adapter per backend: diesel checks a
//! query against one concrete connection type, and a function generic over both fights its trait
//! bounds, so a trait meant every query written twice or expanded by a macro per adapter, and each
//! method took its own connection, so use cases could not compose queries in one transaction. Here,
//! as in diesel's `MultiConnection`, a query is a plain function taking `&mut Conn`; its body is
//! written once and [`on_backend!`] expands it against each concrete connection. Use cases compose
//! by calling several query functions inside [`Conn::transaction`].
//!
//! **Never acquire a second connection while holding one.** SQLite is one connection behind a
//! mutex: a task that holds a [`Conn`] and calls [`Db::conn`] again (directly, or through anything
//! that does) waits for itself forever. So take a connection for one statement
//! (`rooms::by_id(&mut db.conn().await?, id).await?` drops it at the end of the statement) or for
//! one transaction, and never hold it across a call to another service. The same goes for
//! PostgreSQL's pool, where holding connections longer than a query starves other requests.

use std::sync::Arc;

use diesel::connection::{TransactionManagerStatus, ValidTransactionManagerStatus};
use diesel::sqlite::SqliteConnection;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, TransactionManager};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::DbError;

/// The embedded store's one connection, usable from async code.
pub(crate) type SqliteConn = SyncConnectionWrapper<SqliteConnection>;

/// Evaluates `$body` with `$c` bound to the concrete connection under `$conn` (a `&mut Conn`): the
/// body is written once and compiled once per backend.
///
/// ```ignore
/// on_backend!(conn, c => rooms::table.find(id).select(Room::as_select()).first(c).await.optional())
/// ```
macro_rules! on_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $crate::connection::Conn::raw($conn) {
            $crate::connection::Raw::Pg($c) => $body,
            $crate::connection::Raw::Sqlite($c) => $body,
        }
    };
}

pub(crate) use on_backend;

/// The relational store: a pool of PostgreSQL connections, or the one SQLite connection. Cloning is
/// cheap; every clone is the same store.
#[derive(Clone)]
pub enum Db {
    Postgres(Pool<AsyncPgConnection>),
    Sqlite(Arc<Mutex<SqliteConn>>),
}

impl Db {
    /// A pool of up to `max_connections` to the PostgreSQL database at `url`. Connects lazily.
    pub fn connect_postgres(url: &str, max_connections: usize) -> Result<Self, DbError> {
        crate::postgres::pool(url, max_connections).map(Db::Postgres)
    }

    /// Applies pending PostgreSQL migrations, taking turns with other pods starting at once; returns
    /// how many were applied.
    pub async fn migrate_postgres(url: &str) -> Result<usize, DbError> {
        crate::postgres::migrate(url).await
    }

    /// Opens (creating if needed) the SQLite database at `path`, `:memory:` for a throw-away store,
    /// and applies migrations.
    pub fn open_sqlite(path: &str) -> Result<Self, DbError> {
        let conn = crate::sqlite::open(path)?;
        Ok(Db::Sqlite(Arc::new(Mutex::new(conn))))
    }

    /// A connection: one from the pool, or the SQLite connection once no one else holds it. See the
    /// module doc: never call this while holding another.
    pub async fn conn(&self) -> Result<Conn<'static>, DbError> {
        match self {
            Db::Postgres(pool) => pool
                .get()
                .await
                .map(|conn| Conn::PgPooled(Box::new(conn)))
                .map_err(|e| DbError::Unavailable(e.to_string())),
            Db::Sqlite(conn) => {
                let mut conn = Arc::clone(conn).lock_owned().await;
                end_abandoned_transaction(&mut conn).await?;
                Ok(Conn::SqlitePooled(conn))
            }
        }
    }

    /// Whether the store answers (readiness checks).
    pub async fn ping(&self) -> Result<(), DbError> {
        let mut conn = self.conn().await?;
        on_backend!(&mut conn, c => diesel::sql_query("SELECT 1").execute(c).await)?;
        Ok(())
    }
}

/// A connection to either store: taken from the pool (or the SQLite mutex), or borrowed inside a
/// transaction. Query functions take `&mut Conn`, whichever it is.
pub enum Conn<'a> {
    /// Boxed: a pooled connection is large, and futures holding a `Conn` carry its size.
    PgPooled(Box<Object<AsyncPgConnection>>),
    Pg(&'a mut AsyncPgConnection),
    SqlitePooled(OwnedMutexGuard<SqliteConn>),
    Sqlite(&'a mut SqliteConn),
}

/// The concrete connection under a [`Conn`], for [`on_backend!`].
pub(crate) enum Raw<'c> {
    Pg(&'c mut AsyncPgConnection),
    Sqlite(&'c mut SqliteConn),
}

impl Conn<'_> {
    pub(crate) fn raw(&mut self) -> Raw<'_> {
        match self {
            Conn::PgPooled(conn) => Raw::Pg(conn),
            Conn::Pg(conn) => Raw::Pg(conn),
            Conn::SqlitePooled(conn) => Raw::Sqlite(conn),
            Conn::Sqlite(conn) => Raw::Sqlite(conn),
        }
    }

    /// Runs `f` in a transaction (a savepoint when already in one): committed if `f` returns `Ok`,
    /// rolled back as a whole if it returns `Err`. `f` gets the connection to run its queries on:
    ///
    /// ```ignore
    /// conn.transaction(async |mut tx| {
    ///     if memberships::active_ban(&mut tx, room, member).await?.is_some() { return Err(..) }
    ///     invites::invite(&mut tx, room, member, by).await
    /// })
    /// .await
    /// ```
    ///
    /// `E` is the caller's error: anything a [`DbError`] converts into.
    pub async fn transaction<R, E, F>(&mut self, f: F) -> Result<R, E>
    where
        F: for<'r> AsyncFnOnce(Conn<'r>) -> Result<R, E>,
        E: From<DbError>,
    {
        match self.raw() {
            Raw::Pg(conn) => in_transaction(conn, |c| Conn::Pg(c), f).await,
            Raw::Sqlite(conn) => in_transaction(conn, |c| Conn::Sqlite(c), f).await,
        }
    }
}

/// A task dropped inside a transaction (a request cancelled between two statements, say) leaves the
/// one SQLite connection in it: every later statement would silently join that transaction, see its
/// uncommitted changes, and never be committed. So whoever takes the connection next rolls it back
/// first. (PostgreSQL needs nothing: the pool discards a connection left in a transaction, since
/// diesel-async counts it as broken.)
async fn end_abandoned_transaction(conn: &mut SqliteConn) -> Result<(), DbError> {
    type Manager = <SqliteConn as AsyncConnection>::TransactionManager;
    loop {
        match Manager::transaction_manager_status_mut(conn).transaction_depth() {
            Ok(None) => return Ok(()),
            Ok(Some(depth)) => {
                tracing::warn!(depth, "rolling back a transaction its task abandoned");
                Manager::rollback_transaction(conn).await?;
            }
            Err(_) => {
                tracing::warn!("resetting a transaction manager its task left broken");
                let _ = diesel::sql_query("ROLLBACK").execute(conn).await;
                *Manager::transaction_manager_status_mut(conn) =
                    TransactionManagerStatus::Valid(ValidTransactionManagerStatus::default());
                return Ok(());
            }
        }
    }
}

/// What diesel-async's `AsyncConnection::transaction` does, written out: its callback bound names a
/// trait private to diesel-async, so a caller's generic callback cannot be passed on to it.
async fn in_transaction<C, R, E, F>(conn: &mut C, wrap: fn(&mut C) -> Conn<'_>, f: F) -> Result<R, E>
where
    C: AsyncConnection,
    F: for<'r> AsyncFnOnce(Conn<'r>) -> Result<R, E>,
    E: From<DbError>,
{
    let failed = |e: diesel::result::Error| E::from(DbError::from(e));
    C::TransactionManager::begin_transaction(conn).await.map_err(failed)?;
    match f(wrap(conn)).await {
        Ok(value) => {
            C::TransactionManager::commit_transaction(conn).await.map_err(failed)?;
            Ok(value)
        }
        Err(error) => match C::TransactionManager::rollback_transaction(conn).await {
            // A broken transaction manager is a consequence of `error`, which says more.
            Ok(()) | Err(diesel::result::Error::BrokenTransactionManager) => Err(error),
            Err(rollback) => Err(failed(rollback)),
        },
    }
}
