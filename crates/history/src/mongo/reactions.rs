//! Reactions: one document per member, message and emoji in `reactions` (`_id`
//! `"{message}/{emoji}/{member}"`) holding the member's latest change (`present`, `at_ms`). A change
//! is a compare-and-set on that document: read it, then replace it only if it is still what was
//! read, or insert it if there was none (a duplicate key means another writer got there first: read
//! again). So the later change wins whatever the order, and a repeat changes nothing. An index on
//! `(message_id, emoji)` serves the tallies and the page reads.

use std::collections::HashMap;

use futures_util::TryStreamExt;
use mongodb::Collection;
use mongodb::bson::doc;
use natter_proto::MemberId;
use natter_proto::events::MessageReacted;
use natter_proto::reactions::{REACTORS_SHOWN, Reaction};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{is_duplicate_key, unavailable};
use crate::{HistoryError, ReactionState, ReactionTally, summarise};

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct ReactionDoc {
    #[serde(rename = "_id")]
    id: String,
    message_id: String,
    emoji: String,
    member_id: i64,
    present: bool,
    at_ms: i64,
    since_ms: i64,
}

impl ReactionDoc {
    fn state(&self) -> ReactionState {
        ReactionState { present: self.present, at_ms: self.at_ms, since_ms: self.since_ms }
    }
}

pub(super) async fn react(
    reactions: &Collection<ReactionDoc>,
    change: &MessageReacted,
) -> Result<Option<ReactionTally>, HistoryError> {
    let id = format!("{}/{}/{}", change.message_id, change.emoji, change.member_id);
    loop {
        let before = reactions.find_one(doc! { "_id": &id }).await.map_err(unavailable)?;
        let state = ReactionState::after(before.as_ref().map(ReactionDoc::state), change.added, change.at_ms);
        let wanted = ReactionDoc {
            id: id.clone(),
            message_id: change.message_id.to_string(),
            emoji: change.emoji.clone(),
            member_id: change.member_id,
            present: state.present,
            at_ms: state.at_ms,
            since_ms: state.since_ms,
        };
        let was_present = match before {
            Some(before) if before.at_ms >= change.at_ms => return Ok(None),
            Some(before) => {
                let replaced = reactions
                    .replace_one(doc! { "_id": &id, "at_ms": before.at_ms }, &wanted)
                    .await
                    .map_err(unavailable)?;
                if replaced.matched_count == 0 {
                    continue;
                }
                before.present
            }
            None => match reactions.insert_one(&wanted).await {
                Ok(_) => false,
                Err(e) if is_duplicate_key(&e) => continue,
                Err(e) => return Err(unavailable(e)),
            },
        };
        if was_present == change.added {
            return Ok(None);
        }
        return tally(reactions, &wanted.message_id, &wanted.emoji).await.map(Some);
    }
}

async fn tally(
    reactions: &Collection<ReactionDoc>,
    message_id: &str,
    emoji: &str,
) -> Result<ReactionTally, HistoryError> {
    let present = doc! { "message_id": message_id, "emoji": emoji, "present": true };
    let count = reactions.count_documents(present.clone()).await.map_err(unavailable)?;
    let newest: Vec<ReactionDoc> = reactions
        .find(present)
        .sort(doc! { "since_ms": -1 })
        .limit(REACTORS_SHOWN as i64)
        .await
        .map_err(unavailable)?
        .try_collect()
        .await
        .map_err(unavailable)?;
    Ok(ReactionTally { count: count as u32, reactors: newest.into_iter().map(|d| d.member_id).collect() })
}

pub(super) async fn of_messages(
    reactions: &Collection<ReactionDoc>,
    message_ids: &[Uuid],
    reader: MemberId,
) -> Result<HashMap<Uuid, Vec<Reaction>>, HistoryError> {
    if message_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: Vec<String> = message_ids.iter().map(Uuid::to_string).collect();
    let docs: Vec<ReactionDoc> = reactions
        .find(doc! { "message_id": { "$in": ids }, "present": true })
        .await
        .map_err(unavailable)?
        .try_collect()
        .await
        .map_err(unavailable)?;
    let mut by_message: HashMap<&str, Vec<&ReactionDoc>> = HashMap::new();
    for doc in &docs {
        by_message.entry(doc.message_id.as_str()).or_default().push(doc);
    }
    Ok(by_message
        .into_iter()
        .filter_map(|(id, docs)| {
            let id = Uuid::parse_str(id).ok()?;
            let states = docs.into_iter().map(|d| (d.emoji.as_str(), d.member_id, d.state()));
            Some((id, summarise(states, reader)))
        })
        .collect())
}
