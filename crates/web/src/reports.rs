//! Reporting a message to the room's owners and admins: any member may report a message of the
//! room, or a whisper they received (moderators cannot read whispers otherwise), once, with a
//! reason. The text is kept as it was when reported, so an edit or deletion afterwards hides
//! nothing from them.

use natter_db::{members, reports};
use natter_proto::reports::{MAX_REASON_CHARS, NewReport, ReportView};
use uuid::Uuid;

use crate::app::State;
use crate::rooms::RoomError;

/// Most reports the manage panel and the API list.
pub(crate) const LISTED: i64 = 100;
/// Whispers looked through for the reported one.
const WHISPERS_SEARCHED: u32 = 1000;

/// What is reported: who wrote it, its text, whether a whisper.
struct Reported {
    author_id: i64,
    author_name: String,
    text: String,
    whisper: bool,
}

async fn find(state: &State, room: i64, reporter: i64, message_id: Uuid) -> Result<Reported, RoomError> {
    let unavailable = |e: natter_history::HistoryError| RoomError::Unavailable(e.to_string());
    if let Some(message) = state.history.message(room, message_id).await.map_err(unavailable)? {
        if message.deleted {
            return Err(RoomError::Conflict("That message was deleted.".to_owned()));
        }
        let posted = message.posted;
        return Ok(Reported {
            author_id: posted.sender_id,
            author_name: posted.sender_name,
            text: posted.text,
            whisper: false,
        });
    }
    let whispers =
        state.history.whispers(room, reporter, 0, None, WHISPERS_SEARCHED).await.map_err(unavailable)?;
    match whispers.into_iter().find(|w| w.message_id == message_id && w.to_id == reporter) {
        Some(w) => {
            Ok(Reported { author_id: w.sender_id, author_name: w.sender_name, text: w.text, whisper: true })
        }
        None => Err(RoomError::NotFound("No such message in this room.".to_owned())),
    }
}

/// Files `report` of `reporter` (a member of `room`); the report's id.
pub(crate) async fn file(
    state: &State,
    room: i64,
    reporter: i64,
    report: &NewReport,
) -> Result<i64, RoomError> {
    let reason = report.reason.trim();
    let chars = reason.chars().count();
    if chars == 0 || chars > MAX_REASON_CHARS {
        return Err(RoomError::bad_request(format!("Say why in 1 to {MAX_REASON_CHARS} characters.")));
    }
    let found = find(state, room, reporter, report.message_id).await?;
    if found.author_id == reporter {
        return Err(RoomError::bad_request("You cannot report your own message."));
    }
    let message_id = report.message_id.to_string();
    let new = reports::NewReport {
        room_id: room,
        reporter_id: reporter,
        message_id: &message_id,
        whisper: found.whisper,
        author_id: found.author_id,
        author_name: &found.author_name,
        text: &found.text,
        reason,
        created_at: chrono::Utc::now().naive_utc(),
    };
    let mut conn = state.db.conn().await?;
    match reports::file(&mut conn, new).await {
        Ok(id) => {
            tracing::info!(
                room.id = room,
                member.id = reporter,
                report.id = id,
                whisper = found.whisper,
                "message reported"
            );
            Ok(id)
        }
        Err(natter_db::DbError::Conflict) => {
            Err(RoomError::Conflict("You reported this message already.".to_owned()))
        }
        Err(e) => Err(e.into()),
    }
}

/// The room's reports, newest first (the caller checked the reader moderates the room).
pub(crate) async fn list(state: &State, room: i64) -> Result<Vec<ReportView>, RoomError> {
    let mut conn = state.db.conn().await?;
    let filed = reports::of_room(&mut conn, room, LISTED).await?;
    let mut views = Vec::with_capacity(filed.len());
    for r in filed {
        let reporter_name = members::by_id(&mut conn, r.reporter_id)
            .await?
            .map_or_else(|| format!("member {}", r.reporter_id), |m| m.display_name);
        views.push(ReportView {
            id: r.id,
            message_id: r.message_id.parse().unwrap_or_default(),
            whisper: r.whisper,
            author_id: r.author_id,
            author_name: r.author_name,
            text: r.text,
            reason: r.reason,
            reporter_id: r.reporter_id,
            reporter_name,
            created_at_ms: r.created_at.and_utc().timestamp_millis(),
        });
    }
    Ok(views)
}
