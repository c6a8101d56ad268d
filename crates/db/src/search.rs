//! The message search index: PostgreSQL full-text search in production, SQLite FTS5 embedded; both
//! match whole terms cut by [`crate::search_terms`], so they find the same messages (the contract
//! tests run on both).
//!
//! Written by an indexer in any order per message: [`index`] never overwrites (a record delivered
//! twice changes nothing), [`edit`] only applies a change newer than the last one, and [`remove`]
//! leaves a tombstone, so an index record that arrives after the deletion cannot bring the message
//! back. What a member may read is not known here: [`find`] takes the rooms to look in, which the
//! caller decides at query time (so a kicked member stops finding a room's messages at once).

use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Bool, Nullable, Text};
use diesel_async::RunQueryDsl;

use crate::DbError;
use crate::connection::{Conn, Raw};
use crate::search_terms::terms;

/// A message as the index keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indexed<'a> {
    pub message_id: &'a str,
    pub room_id: i64,
    pub sender_id: i64,
    pub position: i64,
    pub sent_at_ms: i64,
    pub has_file: bool,
    pub text: &'a str,
}

/// A message that matched, best first.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Found {
    #[diesel(sql_type = Text)]
    pub message_id: String,
    #[diesel(sql_type = BigInt)]
    pub room_id: i64,
    #[diesel(sql_type = BigInt)]
    pub sender_id: i64,
    #[diesel(sql_type = BigInt)]
    pub position: i64,
    #[diesel(sql_type = BigInt)]
    pub sent_at_ms: i64,
    #[diesel(sql_type = Text)]
    pub text: String,
}

const INDEX_PG: &str = "INSERT INTO message_search (message_id, room_id, sender_id, position, sent_at_ms, \
    has_file, text, terms, changed_at_ms, deleted) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $5, FALSE) \
    ON CONFLICT (message_id) DO NOTHING";
const INDEX_SQLITE: &str = "INSERT INTO message_search (message_id, room_id, sender_id, position, sent_at_ms, \
    has_file, text, terms, changed_at_ms, deleted) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?5, FALSE) \
    ON CONFLICT (message_id) DO NOTHING";

/// Adds a message; one already there (or deleted) is left as it is. Whether it was added.
pub async fn index(conn: &mut Conn<'_>, message: &Indexed<'_>) -> Result<bool, DbError> {
    let joined = terms(message.text).join(" ");
    let sql = match conn.raw() {
        Raw::Pg(_) => INDEX_PG,
        Raw::Sqlite(_) => INDEX_SQLITE,
    };
    let query = diesel::sql_query(sql)
        .bind::<Text, _>(message.message_id)
        .bind::<BigInt, _>(message.room_id)
        .bind::<BigInt, _>(message.sender_id)
        .bind::<BigInt, _>(message.position)
        .bind::<BigInt, _>(message.sent_at_ms)
        .bind::<Bool, _>(message.has_file)
        .bind::<Text, _>(message.text)
        .bind::<Text, _>(&joined);
    let added = match conn.raw() {
        Raw::Pg(c) => query.execute(c).await?,
        Raw::Sqlite(c) => query.execute(c).await?,
    };
    Ok(added == 1)
}

const EDIT_PG: &str = "UPDATE message_search SET text = $1, terms = $2, changed_at_ms = $3 \
    WHERE message_id = $4 AND changed_at_ms < $3 AND NOT deleted";
const EDIT_SQLITE: &str = "UPDATE message_search SET text = ?1, terms = ?2, changed_at_ms = ?3 \
    WHERE message_id = ?4 AND changed_at_ms < ?3 AND NOT deleted";

/// Replaces the text of a message edited at `edited_at_ms`, unless a later change (or the deletion)
/// is already applied. Whether it changed anything.
pub async fn edit(
    conn: &mut Conn<'_>,
    message_id: &str,
    text: &str,
    edited_at_ms: i64,
) -> Result<bool, DbError> {
    let joined = terms(text).join(" ");
    let sql = match conn.raw() {
        Raw::Pg(_) => EDIT_PG,
        Raw::Sqlite(_) => EDIT_SQLITE,
    };
    let query = diesel::sql_query(sql)
        .bind::<Text, _>(text)
        .bind::<Text, _>(&joined)
        .bind::<BigInt, _>(edited_at_ms)
        .bind::<Text, _>(message_id);
    let changed = match conn.raw() {
        Raw::Pg(c) => query.execute(c).await?,
        Raw::Sqlite(c) => query.execute(c).await?,
    };
    Ok(changed == 1)
}

const REMOVE_PG: &str = "INSERT INTO message_search (message_id, room_id, sender_id, position, sent_at_ms, \
    has_file, text, terms, changed_at_ms, deleted) VALUES ($1, 0, 0, 0, 0, FALSE, '', '', $2, TRUE) \
    ON CONFLICT (message_id) DO UPDATE SET text = '', terms = '', deleted = TRUE, \
    changed_at_ms = excluded.changed_at_ms";
const REMOVE_SQLITE: &str = "INSERT INTO message_search (message_id, room_id, sender_id, position, sent_at_ms, \
    has_file, text, terms, changed_at_ms, deleted) VALUES (?1, 0, 0, 0, 0, FALSE, '', '', ?2, TRUE) \
    ON CONFLICT (message_id) DO UPDATE SET text = '', terms = '', deleted = TRUE, \
    changed_at_ms = excluded.changed_at_ms";

/// Forgets a message's text for good (a tombstone stays, whether or not the message was indexed).
pub async fn remove(conn: &mut Conn<'_>, message_id: &str, deleted_at_ms: i64) -> Result<(), DbError> {
    let sql = match conn.raw() {
        Raw::Pg(_) => REMOVE_PG,
        Raw::Sqlite(_) => REMOVE_SQLITE,
    };
    let query = diesel::sql_query(sql).bind::<Text, _>(message_id).bind::<BigInt, _>(deleted_at_ms);
    match conn.raw() {
        Raw::Pg(c) => query.execute(c).await?,
        Raw::Sqlite(c) => query.execute(c).await?,
    };
    Ok(())
}

/// What a search is narrowed to besides its words (`from:`, `has:file`, `after:`, `before:`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    /// Only messages of this sender.
    pub sender_id: Option<i64>,
    /// Only messages that share a file.
    pub has_file: bool,
    /// Only messages sent at or after this (ms since the epoch) ...
    pub sent_from_ms: Option<i64>,
    /// ... and before this.
    pub sent_before_ms: Option<i64>,
}

impl Filters {
    /// Whether anything narrows the search besides words.
    pub fn any(&self) -> bool {
        *self != Filters::default()
    }
}

const FILTERS_PG: &str = "AND ($5::BIGINT IS NULL OR sender_id = $5) AND (NOT $6 OR has_file) \
    AND ($7::BIGINT IS NULL OR sent_at_ms >= $7) AND ($8::BIGINT IS NULL OR sent_at_ms < $8)";
const FILTERS_SQLITE: &str = "AND (?5 IS NULL OR s.sender_id = ?5) AND (NOT ?6 OR s.has_file) \
    AND (?7 IS NULL OR s.sent_at_ms >= ?7) AND (?8 IS NULL OR s.sent_at_ms < ?8)";

fn find_sql(pg: bool, with_words: bool) -> String {
    match (pg, with_words) {
        (true, true) => format!(
            "SELECT message_id, room_id, sender_id, position, sent_at_ms, text \
             FROM message_search, plainto_tsquery('simple', $1) AS q \
             WHERE to_tsvector('simple', terms) @@ q AND NOT deleted AND room_id = ANY($2) {FILTERS_PG} \
             ORDER BY ts_rank(to_tsvector('simple', terms), q, 1) DESC, sent_at_ms DESC, message_id \
             LIMIT $3 OFFSET $4"
        ),
        // $1 (no words) is still bound, so it is named once.
        (true, false) => format!(
            "SELECT message_id, room_id, sender_id, position, sent_at_ms, text FROM message_search \
             WHERE $1::TEXT IS NOT NULL AND NOT deleted AND room_id = ANY($2) {FILTERS_PG} \
             ORDER BY sent_at_ms DESC, message_id LIMIT $3 OFFSET $4"
        ),
        (false, true) => format!(
            "SELECT s.message_id, s.room_id, s.sender_id, s.position, s.sent_at_ms, s.text \
             FROM message_search_fts JOIN message_search AS s ON s.id = message_search_fts.rowid \
             WHERE message_search_fts MATCH ?1 AND NOT s.deleted \
             AND s.room_id IN (SELECT value FROM json_each(?2)) {FILTERS_SQLITE} \
             ORDER BY bm25(message_search_fts), s.sent_at_ms DESC, s.message_id LIMIT ?3 OFFSET ?4"
        ),
        (false, false) => format!(
            "SELECT s.message_id, s.room_id, s.sender_id, s.position, s.sent_at_ms, s.text \
             FROM message_search AS s WHERE ?1 IS NOT NULL AND NOT s.deleted \
             AND s.room_id IN (SELECT value FROM json_each(?2)) {FILTERS_SQLITE} \
             ORDER BY s.sent_at_ms DESC, s.message_id LIMIT ?3 OFFSET ?4"
        ),
    }
}

/// Messages of `rooms` containing every term of `query` and passing `filters`, most relevant first
/// (then newest); `limit` of them after skipping `offset`. Without terms, the newest messages passing
/// `filters`, if any filter is set; nothing otherwise. Relevance: BM25 on SQLite, `ts_rank`
/// normalised by length on PostgreSQL; both rank more occurrences and shorter messages higher, but
/// not always by the same amounts.
pub async fn find(
    conn: &mut Conn<'_>,
    rooms: &[i64],
    query: &str,
    filters: &Filters,
    limit: i64,
    offset: i64,
) -> Result<Vec<Found>, DbError> {
    let wanted = terms(query);
    if (wanted.is_empty() && !filters.any()) || rooms.is_empty() {
        return Ok(Vec::new());
    }
    let with_words = !wanted.is_empty();
    Ok(match conn.raw() {
        Raw::Pg(c) => {
            diesel::sql_query(find_sql(true, with_words))
                .bind::<Text, _>(wanted.join(" "))
                .bind::<Array<BigInt>, _>(rooms)
                .bind::<BigInt, _>(limit)
                .bind::<BigInt, _>(offset)
                .bind::<Nullable<BigInt>, _>(filters.sender_id)
                .bind::<Bool, _>(filters.has_file)
                .bind::<Nullable<BigInt>, _>(filters.sent_from_ms)
                .bind::<Nullable<BigInt>, _>(filters.sent_before_ms)
                .load(c)
                .await?
        }
        Raw::Sqlite(c) => {
            // Each term quoted: FTS5 reads a quoted string as one phrase, and terms never contain a
            // quote (they are letters and digits), so a query cannot use FTS5's operators.
            let matched: Vec<String> = wanted.iter().map(|t| format!("\"{t}\"")).collect();
            let room_list = format!("[{}]", rooms.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
            diesel::sql_query(find_sql(false, with_words))
                .bind::<Text, _>(matched.join(" "))
                .bind::<Text, _>(room_list)
                .bind::<BigInt, _>(limit)
                .bind::<BigInt, _>(offset)
                .bind::<Nullable<BigInt>, _>(filters.sender_id)
                .bind::<Bool, _>(filters.has_file)
                .bind::<Nullable<BigInt>, _>(filters.sent_from_ms)
                .bind::<Nullable<BigInt>, _>(filters.sent_before_ms)
                .load(c)
                .await?
        }
    })
}
