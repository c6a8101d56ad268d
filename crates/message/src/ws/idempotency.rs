//! Idempotent publish: a retry of a message (same sender, same `client_msg_id`) never creates a
//! second message and gets the same ack, on whichever pod it lands.
//!
//! The first attempt claims `publish:{member}:{client_msg_id}` in the shared key-value store (Redis,
//! `SET NX`) with a "pending" record holding the message id, publishes, then replaces the record with
//! the ack (kept for [`REMEMBER_ACK`]). A retry finds the ack and answers it, or finds the attempt
//! still pending and waits for it briefly. A failed publish deletes the claim so the retry can try
//! again.
//!
//! The message id is fixed by the first attempt: it is kept under `publish-id:{member}:{client_msg_id}`
//! for [`REMEMBER_ACK`], longer than any retry. If the pod dies between the publish and the ack
//! record, the claim expires after [`PENDING_TTL`]; the retry then sees that an earlier attempt chose
//! the id ([`Claim::Publish`] `earlier_attempt`), answers the stored message if history has it, and
//! otherwise publishes again under the same id. Should both copies reach the log, the sequencer
//! places the first and drops the second, so one `client_msg_id` is one message, always.
//!
//! Without a `client_msg_id` there is nothing to match a retry by: such publishes are not deduped.
//! When the store is down, a publish with a `client_msg_id` is refused (`unavailable`) rather than
//! risk a duplicate.

use std::time::{Duration, Instant};

use natter_kv::{KeyValue, KvError};
use natter_proto::MemberId;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How long an ack is remembered for retries.
pub(crate) const REMEMBER_ACK: Duration = Duration::from_secs(24 * 3600);
/// How long a claim without an ack holds (longer than any publish takes).
pub(crate) const PENDING_TTL: Duration = Duration::from_secs(60);
/// How long a retry waits for the attempt in progress.
const WAIT_FOR_PENDING: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub(crate) enum Record {
    Pending { message_id: Uuid },
    Acked { message_id: Uuid, position: i64 },
}

/// What the publisher should do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Claim {
    /// Publish the message with this id: the caller's own, or (`earlier_attempt`) the one an earlier
    /// attempt chose, which may be stored already.
    Publish { message_id: Uuid, earlier_attempt: bool },
    /// Already published: answer this ack again.
    Acked { message_id: Uuid, position: i64 },
    /// Another attempt is still in progress.
    InProgress,
}

fn key(member: MemberId, client_msg_id: &str) -> String {
    format!("publish:{member}:{client_msg_id}")
}

fn intent_key(member: MemberId, client_msg_id: &str) -> String {
    format!("publish-id:{member}:{client_msg_id}")
}

/// The message id of this `client_msg_id`: `proposed` if no attempt chose one before, else theirs.
async fn message_id_for(
    kv: &dyn KeyValue,
    member: MemberId,
    client_msg_id: &str,
    proposed: Uuid,
) -> Result<(Uuid, bool), KvError> {
    let intent = intent_key(member, client_msg_id);
    if kv.set_if_absent(&intent, &proposed.to_string(), REMEMBER_ACK).await? {
        return Ok((proposed, false));
    }
    Ok(match kv.get(&intent).await?.and_then(|chosen| chosen.parse().ok()) {
        Some(chosen) => (chosen, true),
        None => (proposed, false),
    })
}

/// Claims the publish of `message_id`, or finds what an earlier attempt did.
pub(crate) async fn claim(
    kv: &dyn KeyValue,
    member: MemberId,
    client_msg_id: &str,
    message_id: Uuid,
) -> Result<Claim, KvError> {
    let key = key(member, client_msg_id);
    let (message_id, earlier_attempt) = message_id_for(kv, member, client_msg_id, message_id).await?;
    let pending = serde_json::to_string(&Record::Pending { message_id }).expect("records serialise");
    let deadline = Instant::now() + WAIT_FOR_PENDING;
    loop {
        if kv.set_if_absent(&key, &pending, PENDING_TTL).await? {
            return Ok(Claim::Publish { message_id, earlier_attempt });
        }
        match kv.get(&key).await?.and_then(|raw| serde_json::from_str::<Record>(&raw).ok()) {
            Some(Record::Acked { message_id, position }) => return Ok(Claim::Acked { message_id, position }),
            Some(Record::Pending { .. }) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            Some(Record::Pending { .. }) => return Ok(Claim::InProgress),
            // Expired between the two calls (or unreadable): claim again.
            None => {}
        }
    }
}

/// Records the ack of a claimed publish.
pub(crate) async fn acked(
    kv: &dyn KeyValue,
    member: MemberId,
    client_msg_id: &str,
    message_id: Uuid,
    position: i64,
) -> Result<(), KvError> {
    let record = serde_json::to_string(&Record::Acked { message_id, position }).expect("records serialise");
    kv.set(&key(member, client_msg_id), &record, REMEMBER_ACK).await
}

/// Releases a claim whose publish failed, so a retry publishes.
pub(crate) async fn failed(kv: &dyn KeyValue, member: MemberId, client_msg_id: &str) -> Result<(), KvError> {
    kv.delete(&key(member, client_msg_id)).await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use natter_kv::MemoryKeyValue;

    use super::*;

    #[tokio::test]
    async fn the_first_attempt_publishes_and_retries_get_its_ack() {
        let kv = MemoryKeyValue::new();
        let (first, retry) = (Uuid::now_v7(), Uuid::now_v7());
        let fresh = |message_id| Claim::Publish { message_id, earlier_attempt: false };
        assert_eq!(claim(&kv, 7, "c1", first).await.unwrap(), fresh(first));
        acked(&kv, 7, "c1", first, 42).await.unwrap();
        assert_eq!(
            claim(&kv, 7, "c1", retry).await.unwrap(),
            Claim::Acked { message_id: first, position: 42 }
        );
        assert_eq!(claim(&kv, 8, "c1", retry).await.unwrap(), fresh(retry), "per sender");
    }

    #[tokio::test]
    async fn a_retry_waits_for_the_attempt_in_progress() {
        let kv = Arc::new(MemoryKeyValue::new());
        let first = Uuid::now_v7();
        let claimed = claim(kv.as_ref(), 7, "c2", first).await.unwrap();
        assert_eq!(claimed, Claim::Publish { message_id: first, earlier_attempt: false });
        let finisher = Arc::clone(&kv);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            acked(finisher.as_ref(), 7, "c2", first, 9).await.unwrap();
        });
        let retry = claim(kv.as_ref(), 7, "c2", Uuid::now_v7()).await.unwrap();
        assert_eq!(retry, Claim::Acked { message_id: first, position: 9 });
    }

    #[tokio::test]
    async fn a_failed_attempt_lets_the_retry_publish_under_the_same_id() {
        let kv = MemoryKeyValue::new();
        let first = Uuid::now_v7();
        claim(&kv, 7, "c3", first).await.unwrap();
        failed(&kv, 7, "c3").await.unwrap();
        let second = Uuid::now_v7();
        assert_eq!(
            claim(&kv, 7, "c3", second).await.unwrap(),
            Claim::Publish { message_id: first, earlier_attempt: true },
            "the first attempt's id, which may be stored"
        );
    }

    #[tokio::test]
    async fn an_expired_claim_keeps_the_first_attempts_message_id() {
        let kv = MemoryKeyValue::new();
        let first = Uuid::now_v7();
        claim(&kv, 7, "c5", first).await.unwrap();
        // The pod died holding the claim; it expired.
        kv.delete(&key(7, "c5")).await.unwrap();
        assert_eq!(
            claim(&kv, 7, "c5", Uuid::now_v7()).await.unwrap(),
            Claim::Publish { message_id: first, earlier_attempt: true }
        );
    }

    #[tokio::test]
    async fn concurrent_attempts_publish_once() {
        let kv = Arc::new(MemoryKeyValue::new());
        let attempts = (0..6).map(|_| {
            let kv = Arc::clone(&kv);
            tokio::spawn(async move {
                let id = Uuid::now_v7();
                let claim = claim(kv.as_ref(), 7, "c4", id).await.unwrap();
                if let Claim::Publish { message_id, .. } = claim {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    acked(kv.as_ref(), 7, "c4", message_id, 5).await.unwrap();
                }
                claim
            })
        });
        let mut published = 0;
        for attempt in attempts {
            match attempt.await.unwrap() {
                Claim::Publish { .. } => published += 1,
                Claim::Acked { position: 5, .. } => {}
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(published, 1);
    }
}
