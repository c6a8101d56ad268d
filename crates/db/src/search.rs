//! The message search index: PostgreSQL full-text search in production, SQLite FTS5 embedded; both
//! match whole terms cut by [`crate::search_terms`], so they find the same messages (the contract
//! tests run on both).
//!
//! Written by an indexer in any order per message: [`index`] never overwrites a text (a record
//! delivered twice changes nothing), [`edit`] only applies a change newer than the last one (and
//! waits for a message it arrives before), and [`remove`] leaves a tombstone, so an index record that arrives after the deletion cannot bring the message
//! back. What a member may read is not known here: [`find`] takes the rooms to look in, which the
//! caller decides at query time (so a kicked member stops finding a room's messages at once).

use diesel::QueryableByName;
use diesel::sql_types::{Array, BigInt, Bool, Nullable, Text};
use diesel_async::RunQueryDsl;

use crate::DbError;
use crate::connection::{Conn, Raw};
use crate::search_terms::{phrases, terms};

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
    ON CONFLICT (message_id) DO UPDATE SET room_id = excluded.room_id, sender_id = excluded.sender_id, \
    position = excluded.position, sent_at_ms = excluded.sent_at_ms, has_file = excluded.has_file \
    WHERE message_search.position = 0 AND NOT message_search.deleted";
const INDEX_SQLITE: &str = "INSERT INTO message_search (message_id, room_id, sender_id, position, sent_at_ms, \
    has_file, text, terms, changed_at_ms, deleted) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?5, FALSE) \
    ON CONFLICT (message_id) DO UPDATE SET room_id = excluded.room_id, sender_id = excluded.sender_id, \
    position = excluded.position, sent_at_ms = excluded.sent_at_ms, has_file = excluded.has_file \
    WHERE message_search.position = 0 AND NOT message_search.deleted";

/// Adds a message; one already there (or deleted) is left as it is. Whether it was added.
///
/// A row with position 0 (positions start at 1) holds an edit that arrived before its message: the
/// message fills in where it belongs and keeps the edited text.
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

const INDEX_ALL_PG: &str = "INSERT INTO message_search (message_id, room_id, sender_id, position, sent_at_ms, \
    has_file, text, terms, changed_at_ms, deleted) \
    SELECT m, r, s, p, t, f, x, w, t, FALSE FROM unnest($1::TEXT[], $2::BIGINT[], $3::BIGINT[], \
    $4::BIGINT[], $5::BIGINT[], $6::BOOLEAN[], $7::TEXT[], $8::TEXT[]) AS u(m, r, s, p, t, f, x, w) \
    ON CONFLICT (message_id) DO UPDATE SET room_id = excluded.room_id, sender_id = excluded.sender_id, \
    position = excluded.position, sent_at_ms = excluded.sent_at_ms, has_file = excluded.has_file \
    WHERE message_search.position = 0 AND NOT message_search.deleted";

/// [`index`] for many messages at once (a backfill's page); how many were added. One statement on
/// PostgreSQL (arrays unnested), one transaction on SQLite. A message listed twice counts once.
pub async fn index_all(conn: &mut Conn<'_>, messages: &[Indexed<'_>]) -> Result<usize, DbError> {
    let mut seen = std::collections::HashSet::new();
    let messages: Vec<&Indexed<'_>> = messages.iter().filter(|m| seen.insert(m.message_id)).collect();
    match conn.raw() {
        Raw::Pg(c) => {
            let column = |f: fn(&Indexed<'_>) -> i64| messages.iter().map(|m| f(m)).collect::<Vec<i64>>();
            let added = diesel::sql_query(INDEX_ALL_PG)
                .bind::<Array<Text>, _>(messages.iter().map(|m| m.message_id).collect::<Vec<_>>())
                .bind::<Array<BigInt>, _>(column(|m| m.room_id))
                .bind::<Array<BigInt>, _>(column(|m| m.sender_id))
                .bind::<Array<BigInt>, _>(column(|m| m.position))
                .bind::<Array<BigInt>, _>(column(|m| m.sent_at_ms))
                .bind::<Array<Bool>, _>(messages.iter().map(|m| m.has_file).collect::<Vec<_>>())
                .bind::<Array<Text>, _>(messages.iter().map(|m| m.text).collect::<Vec<_>>())
                .bind::<Array<Text>, _>(messages.iter().map(|m| terms(m.text).join(" ")).collect::<Vec<_>>())
                .execute(c)
                .await?;
            Ok(added)
        }
        Raw::Sqlite(_) => {
            conn.transaction(async |mut tx| {
                let mut added = 0;
                for message in &messages {
                    added += usize::from(index(&mut tx, message).await?);
                }
                Ok::<_, DbError>(added)
            })
            .await
        }
    }
}

const EDIT_PG: &str = "INSERT INTO message_search (message_id, room_id, sender_id, position, sent_at_ms, \
    has_file, text, terms, changed_at_ms, deleted) VALUES ($4, 0, 0, 0, 0, FALSE, $1, $2, $3, FALSE) \
    ON CONFLICT (message_id) DO UPDATE SET text = excluded.text, terms = excluded.terms, \
    changed_at_ms = excluded.changed_at_ms \
    WHERE message_search.changed_at_ms < excluded.changed_at_ms AND NOT message_search.deleted";
const EDIT_SQLITE: &str = "INSERT INTO message_search (message_id, room_id, sender_id, position, sent_at_ms, \
    has_file, text, terms, changed_at_ms, deleted) VALUES (?4, 0, 0, 0, 0, FALSE, ?1, ?2, ?3, FALSE) \
    ON CONFLICT (message_id) DO UPDATE SET text = excluded.text, terms = excluded.terms, \
    changed_at_ms = excluded.changed_at_ms \
    WHERE message_search.changed_at_ms < excluded.changed_at_ms AND NOT message_search.deleted";

/// Replaces the text of a message edited at `edited_at_ms`, unless a later change (or the deletion)
/// is already applied. Whether it changed anything. An edit read before its message is kept (in a
/// row with position 0, which no search finds) until the message arrives.
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
/// SQLite's filters: a set sender is matched plainly (SQLite plans once per statement and would not
/// use the sender index behind `?5 IS NULL OR ...`); an unset one still names `?5`, which is bound.
fn filters_sqlite(filters: &Filters) -> String {
    let sender = if filters.sender_id.is_some() { "s.sender_id = ?5" } else { "?5 IS NULL" };
    format!(
        "AND {sender} AND (NOT ?6 OR s.has_file) \
         AND (?7 IS NULL OR s.sent_at_ms >= ?7) AND (?8 IS NULL OR s.sent_at_ms < ?8)"
    )
}

fn find_sql(pg: bool, with_words: bool, filters: &Filters) -> String {
    let filters_sqlite = filters_sqlite(filters);
    match (pg, with_words) {
        (true, true) => format!(
            "SELECT message_id, room_id, sender_id, position, sent_at_ms, text \
             FROM message_search, to_tsquery('simple', $1) AS q \
             WHERE terms_vector @@ q AND NOT deleted AND position > 0 AND room_id = ANY($2) {FILTERS_PG} \
             ORDER BY ts_rank(terms_vector, q, 1) DESC, sent_at_ms DESC, message_id \
             LIMIT $3 OFFSET $4"
        ),
        // $1 (no words) is still bound, so it is named once.
        (true, false) => format!(
            "SELECT message_id, room_id, sender_id, position, sent_at_ms, text FROM message_search \
             WHERE $1::TEXT IS NOT NULL AND NOT deleted AND position > 0 AND room_id = ANY($2) {FILTERS_PG} \
             ORDER BY sent_at_ms DESC, message_id LIMIT $3 OFFSET $4"
        ),
        (false, true) => format!(
            "SELECT s.message_id, s.room_id, s.sender_id, s.position, s.sent_at_ms, s.text \
             FROM message_search_fts JOIN message_search AS s ON s.id = message_search_fts.rowid \
             WHERE message_search_fts MATCH ?1 AND NOT s.deleted AND s.position > 0 \
             AND s.room_id IN (SELECT value FROM json_each(?2)) {filters_sqlite} \
             ORDER BY bm25(message_search_fts), s.sent_at_ms DESC, s.message_id LIMIT ?3 OFFSET ?4"
        ),
        (false, false) => format!(
            "SELECT s.message_id, s.room_id, s.sender_id, s.position, s.sent_at_ms, s.text \
             FROM message_search AS s WHERE ?1 IS NOT NULL AND NOT s.deleted AND s.position > 0 \
             AND s.room_id IN (SELECT value FROM json_each(?2)) {filters_sqlite} \
             ORDER BY s.sent_at_ms DESC, s.message_id LIMIT ?3 OFFSET ?4"
        ),
    }
}

/// Messages of `rooms` containing every phrase of `query` (see [`phrases`]) and passing `filters`,
/// most relevant first (then newest); `limit` of them after skipping `offset`. Without terms, the
/// newest messages passing `filters`, if any filter is set; nothing otherwise. Relevance: BM25 on
/// SQLite, `ts_rank` normalised by length on PostgreSQL; both rank more occurrences and shorter
/// messages higher, but not always by the same amounts.
pub async fn find(
    conn: &mut Conn<'_>,
    rooms: &[i64],
    query: &str,
    filters: &Filters,
    limit: i64,
    offset: i64,
) -> Result<Vec<Found>, DbError> {
    let wanted = phrases(query);
    if (wanted.is_empty() && !filters.any()) || rooms.is_empty() {
        return Ok(Vec::new());
    }
    let with_words = !wanted.is_empty();
    let pg = matches!(conn.raw(), Raw::Pg(_));
    // Terms are only letters and digits (`crate::search_terms`), so quoting them is all it takes
    // to keep a query from using either engine's operators.
    let matched = if pg {
        // tsquery: 'a' <-> 'b' is a phrase, & joins phrases.
        let phrase =
            |terms: &Vec<String>| terms.iter().map(|t| format!("'{t}'")).collect::<Vec<_>>().join(" <-> ");
        wanted.iter().map(phrase).collect::<Vec<_>>().join(" & ")
    } else {
        // FTS5: a quoted string is a phrase, phrases side by side must all match.
        wanted.iter().map(|terms| format!("\"{}\"", terms.join(" "))).collect::<Vec<_>>().join(" ")
    };
    let room_list = format!("[{}]", rooms.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
    let sql = find_sql(pg, with_words, filters);
    // The same binds after the rooms, which each engine takes in its own form.
    macro_rules! rest {
        ($query:expr) => {
            $query
                .bind::<BigInt, _>(limit)
                .bind::<BigInt, _>(offset)
                .bind::<Nullable<BigInt>, _>(filters.sender_id)
                .bind::<Bool, _>(filters.has_file)
                .bind::<Nullable<BigInt>, _>(filters.sent_from_ms)
                .bind::<Nullable<BigInt>, _>(filters.sent_before_ms)
        };
    }
    let query = diesel::sql_query(sql).bind::<Text, _>(matched);
    Ok(match conn.raw() {
        Raw::Pg(c) => rest!(query.bind::<Array<BigInt>, _>(rooms)).load(c).await?,
        Raw::Sqlite(c) => rest!(query.bind::<Text, _>(room_list)).load(c).await?,
    })
}
