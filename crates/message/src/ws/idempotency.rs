//! Idempotent publish: a retry of a message (same sender, same `client_msg_id`) never creates a
//! second message and gets the same ack, on whichever pod it lands.
//!
//! The first attempt fixes the message id: it is kept under `publish-id:{member}:{client_msg_id}` in
//! the shared key-value store (Redis, `SET NX`) for [`REMEMBER_ACK`], longer than any retry. Every
//! later attempt publishes under that same id, whether the first one is still in flight, failed, or
//! died with its pod; should several copies reach the publish log, the sequencer places the first
//! and drops the others, so one `client_msg_id` is one message, always. An attempt that learns the
//! message's position records the ack under `publish:{member}:{client_msg_id}`, and a later retry
//! answers it without publishing. A retry of an attempt that may have been stored
//! ([`Claim::Publish`] `earlier_attempt`) first looks the message up in history.
//!
//! There is no lock between attempts on purpose: a lock held by a pod that died would stall every
//! retry until it expired, while a second copy costs one record that the sequencer drops.
//!
//! Without a `client_msg_id` there is nothing to match a retry by: such publishes are not deduped.
//! When the store is down, a publish with a `client_msg_id` is refused (`unavailable`) rather than
//! risk a second message.

use std::time::Duration;

use natter_kv::{KeyValue, KvError};
use natter_proto::MemberId;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How long a message id and its ack are remembered for retries.
pub(crate) const REMEMBER_ACK: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct AckRecord {
    message_id: Uuid,
    position: i64,
}

/// What the publisher should do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Claim {
    /// Publish the message with this id: the caller's own, or (`earlier_attempt`) the one an earlier
    /// attempt chose, which may be stored already.
    Publish { message_id: Uuid, earlier_attempt: bool },
    /// Already published and placed: answer this ack again.
    Acked { message_id: Uuid, position: i64 },
}

fn ack_key(member: MemberId, client_msg_id: &str) -> String {
    format!("publish:{member}:{client_msg_id}")
}

fn id_key(member: MemberId, client_msg_id: &str) -> String {
    format!("publish-id:{member}:{client_msg_id}")
}

/// Finds what earlier attempts of this message did, or fixes `proposed` as its id.
pub(crate) async fn claim(
    kv: &dyn KeyValue,
    member: MemberId,
    client_msg_id: &str,
    proposed: Uuid,
) -> Result<Claim, KvError> {
    if let Some(ack) = kv.get(&ack_key(member, client_msg_id)).await?
        && let Ok(AckRecord { message_id, position }) = serde_json::from_str(&ack)
    {
        return Ok(Claim::Acked { message_id, position });
    }
    let id_key = id_key(member, client_msg_id);
    if kv.set_if_absent(&id_key, &proposed.to_string(), REMEMBER_ACK).await? {
        return Ok(Claim::Publish { message_id: proposed, earlier_attempt: false });
    }
    Ok(match kv.get(&id_key).await?.and_then(|chosen| chosen.parse().ok()) {
        Some(chosen) => Claim::Publish { message_id: chosen, earlier_attempt: true },
        // Expired between the two calls: nothing is remembered any more.
        None => Claim::Publish { message_id: proposed, earlier_attempt: false },
    })
}

/// Records the ack, so later retries answer it at once.
pub(crate) async fn acked(
    kv: &dyn KeyValue,
    member: MemberId,
    client_msg_id: &str,
    message_id: Uuid,
    position: i64,
) -> Result<(), KvError> {
    let record = serde_json::to_string(&AckRecord { message_id, position }).expect("records serialise");
    kv.set(&ack_key(member, client_msg_id), &record, REMEMBER_ACK).await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use natter_kv::MemoryKeyValue;

    use super::*;

    fn fresh(message_id: Uuid) -> Claim {
        Claim::Publish { message_id, earlier_attempt: false }
    }

    #[tokio::test]
    async fn the_first_attempt_fixes_the_id_and_retries_get_its_ack() {
        let kv = MemoryKeyValue::new();
        let (first, retry) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(claim(&kv, 7, "c1", first).await.unwrap(), fresh(first));
        acked(&kv, 7, "c1", first, 42).await.unwrap();
        assert_eq!(
            claim(&kv, 7, "c1", retry).await.unwrap(),
            Claim::Acked { message_id: first, position: 42 }
        );
        assert_eq!(claim(&kv, 8, "c1", retry).await.unwrap(), fresh(retry), "per sender");
    }

    #[tokio::test]
    async fn a_retry_before_the_ack_publishes_under_the_first_attempts_id() {
        let kv = MemoryKeyValue::new();
        let first = Uuid::now_v7();
        claim(&kv, 7, "c3", first).await.unwrap();
        // The first attempt is still in flight, failed, or died with its pod: no ack recorded.
        assert_eq!(
            claim(&kv, 7, "c3", Uuid::now_v7()).await.unwrap(),
            Claim::Publish { message_id: first, earlier_attempt: true },
            "the first attempt's id, which may be stored"
        );
    }

    #[tokio::test]
    async fn concurrent_attempts_agree_on_one_message_id() {
        let kv = Arc::new(MemoryKeyValue::new());
        let attempts = (0..6).map(|_| {
            let kv = Arc::clone(&kv);
            tokio::spawn(async move { claim(kv.as_ref(), 7, "c4", Uuid::now_v7()).await.unwrap() })
        });
        let mut ids = Vec::new();
        let mut first = 0;
        for attempt in attempts {
            match attempt.await.unwrap() {
                Claim::Publish { message_id, earlier_attempt } => {
                    ids.push(message_id);
                    first += usize::from(!earlier_attempt);
                }
                other => panic!("{other:?}"),
            }
        }
        ids.dedup();
        assert_eq!(ids.len(), 1, "one message id for every attempt");
        assert_eq!(first, 1, "exactly one attempt chose it");
    }
}
