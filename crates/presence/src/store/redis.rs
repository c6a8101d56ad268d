//! Presence in Redis. The key layout and the atomic updates are in `presence.lua` (one script call
//! per heartbeat or pod expiry). Reads are two pipelined round trips: each member's connections,
//! last activity and last-seen time, then the leases of the pods holding them. No `KEYS` or `SCAN`:
//! expired pods are found in the `pods` sorted set by lease deadline.

use std::collections::{BTreeSet, HashMap};

use async_trait::async_trait;
use deadpool_redis::Pool;
use deadpool_redis::redis::{self, Script};
use natter_proto::calls::{CallParticipant, CallState};
use natter_proto::http::{MemberPresence, PodHeartbeat};
use natter_proto::{MemberId, RoomId};

use super::{Applied, Change, PresenceError, PresenceStore, Sighting};

fn unavailable(e: impl std::fmt::Display) -> PresenceError {
    PresenceError::Unavailable(e.to_string())
}

pub struct RedisPresence {
    pool: Pool,
    prefix: String,
    script: Script,
}

impl RedisPresence {
    /// A pool to `url`; every key starts with `prefix`.
    pub fn connect(url: &str, prefix: &str) -> Result<Self, PresenceError> {
        let pool = natter_kv::redis_pool(url).map_err(unavailable)?;
        Ok(Self { pool, prefix: prefix.to_owned(), script: Script::new(include_str!("presence.lua")) })
    }

    fn key(&self, rest: &str) -> String {
        format!("{}presence:{rest}", self.prefix)
    }

    async fn run(&self, invocation: &mut redis::ScriptInvocation<'_>) -> Result<Applied, PresenceError> {
        let mut conn = self.pool.get().await.map_err(unavailable)?;
        let reply: Vec<i64> = invocation.invoke_async(&mut *conn).await.map_err(unavailable)?;
        // {resync, n, change x n, call room...}: a change is +member (came online) or -member (went
        // offline); a call room is one whose call changed.
        let (resync, n, rest) = match reply.as_slice() {
            [resync, n, rest @ ..] => (*resync == 1, usize::try_from(*n).unwrap_or(0).min(rest.len()), rest),
            _ => return Err(unavailable("presence script gave a malformed reply")),
        };
        let (changes, calls) = rest.split_at(n);
        let changes = changes.iter().map(|&m| Change { member_id: m.abs(), online: m > 0 }).collect();
        let mut calls = calls.to_vec();
        calls.sort_unstable();
        Ok(Applied { resync, changes, calls })
    }

    /// Lease deadlines of `pods` (absent pods: none).
    async fn leases(&self, pods: &[String]) -> Result<HashMap<String, i64>, PresenceError> {
        if pods.is_empty() {
            return Ok(HashMap::new());
        }
        let mut conn = self.pool.get().await.map_err(unavailable)?;
        let scores: Vec<Option<f64>> = redis::cmd("ZMSCORE")
            .arg(self.key("pods"))
            .arg(pods)
            .query_async(&mut *conn)
            .await
            .map_err(unavailable)?;
        Ok(pods.iter().cloned().zip(scores).filter_map(|(pod, s)| Some((pod, s? as i64))).collect())
    }
}

/// `"pod/connection"` → the pod.
fn pod_of(field: &str) -> &str {
    field.split_once('/').map_or(field, |(pod, _)| pod)
}

#[async_trait]
impl PresenceStore for RedisPresence {
    async fn heartbeat(&self, pod: &str, beat: &PodHeartbeat, now_ms: i64) -> Result<Applied, PresenceError> {
        let deadline = now_ms.saturating_add(i64::try_from(beat.lease_ms).unwrap_or(i64::MAX));
        let mut invocation = self.script.prepare_invoke();
        invocation.arg("beat").arg(&self.prefix).arg(pod).arg(deadline).arg(now_ms);
        invocation.arg(if beat.full { 1 } else { 0 }).arg(beat.upserts.len());
        for c in &beat.upserts {
            let room = c.room.map(|r| r.to_string()).unwrap_or_default();
            invocation.arg(&c.connection).arg(c.member_id).arg(room).arg(c.active_at_ms);
            match &c.call {
                Some(seat) => {
                    let participant = serde_json::to_string(&seat.participant).expect("seats serialise");
                    invocation.arg(seat.room).arg(participant)
                }
                None => invocation.arg("").arg(""),
            };
        }
        for closed in &beat.closed {
            invocation.arg(closed);
        }
        self.run(&mut invocation).await
    }

    async fn expire_pods(&self, now_ms: i64) -> Result<Applied, PresenceError> {
        let expired: Vec<String> = {
            let mut conn = self.pool.get().await.map_err(unavailable)?;
            redis::cmd("ZRANGEBYSCORE")
                .arg(self.key("pods"))
                .arg("-inf")
                .arg(now_ms)
                .arg("LIMIT")
                .arg(0)
                .arg(100)
                .query_async(&mut *conn)
                .await
                .map_err(unavailable)?
        };
        let mut applied = Applied::default();
        for pod in expired {
            let mut invocation = self.script.prepare_invoke();
            invocation.arg("expire").arg(&self.prefix).arg(&pod).arg(now_ms);
            applied.merge(self.run(&mut invocation).await?);
        }
        Ok(applied)
    }

    async fn presence(
        &self,
        members: &[MemberId],
        away_after_ms: i64,
        now_ms: i64,
    ) -> Result<Vec<MemberPresence>, PresenceError> {
        if members.is_empty() {
            return Ok(Vec::new());
        }
        type Row = (HashMap<String, String>, Option<i64>, Option<i64>);
        let rows: Vec<Row> = {
            let mut conn = self.pool.get().await.map_err(unavailable)?;
            let mut pipe = redis::pipe();
            for member in members {
                pipe.cmd("HGETALL").arg(self.key(&format!("member:{member}")));
                pipe.cmd("GET").arg(self.key(&format!("active:{member}")));
                pipe.cmd("GET").arg(self.key(&format!("seen:{member}")));
            }
            let flat: Vec<redis::Value> = pipe.query_async(&mut *conn).await.map_err(unavailable)?;
            flat.chunks(3)
                .map(|c| {
                    let connections = redis::from_redis_value(c[0].clone()).unwrap_or_default();
                    let active = redis::from_redis_value(c[1].clone()).ok().flatten();
                    let seen = redis::from_redis_value(c[2].clone()).ok().flatten();
                    (connections, active, seen)
                })
                .collect()
        };
        let pods: BTreeSet<String> =
            rows.iter().flat_map(|(c, _, _)| c.keys().map(|f| pod_of(f).to_owned())).collect();
        let leases = self.leases(&pods.into_iter().collect::<Vec<_>>()).await?;
        let live = |field: &str| leases.get(pod_of(field)).is_some_and(|deadline| *deadline > now_ms);
        Ok(members
            .iter()
            .zip(rows)
            .map(|(&member, (connections, active_at_ms, seen_at_ms))| {
                let live = connections
                    .iter()
                    .filter(|(field, _)| live(field))
                    .map(|(_, room)| room.parse::<RoomId>().ok())
                    .collect();
                // Connections of a pod that died count no more; it went when its lease ended.
                Sighting { live, active_at_ms, seen_at_ms }.into_presence(member, away_after_ms, now_ms)
            })
            .collect())
    }

    async fn call(&self, room: RoomId, now_ms: i64) -> Result<CallState, PresenceError> {
        let (seats, version): (HashMap<String, String>, Option<u64>) = {
            let mut conn = self.pool.get().await.map_err(unavailable)?;
            redis::pipe()
                .atomic()
                .cmd("HGETALL")
                .arg(self.key(&format!("call:{room}")))
                .cmd("GET")
                .arg(self.key(&format!("callver:{room}")))
                .query_async(&mut *conn)
                .await
                .map_err(unavailable)?
        };
        let pods: BTreeSet<String> = seats.keys().map(|f| pod_of(f).to_owned()).collect();
        let leases = self.leases(&pods.into_iter().collect::<Vec<_>>()).await?;
        let mut participants: Vec<CallParticipant> = seats
            .into_iter()
            .filter(|(field, _)| leases.get(pod_of(field)).is_some_and(|deadline| *deadline > now_ms))
            .filter_map(|(field, seat)| match serde_json::from_str(&seat) {
                Ok(participant) => Some(participant),
                Err(e) => {
                    tracing::warn!(error = %e, seat.field = %field, "unreadable call seat skipped");
                    None
                }
            })
            .collect();
        participants.sort_by(|a, b| (a.since_ms, &a.session).cmp(&(b.since_ms, &b.session)));
        Ok(CallState { room_id: room, version: version.unwrap_or_default(), participants })
    }

    async fn room_present(&self, room: RoomId, now_ms: i64) -> Result<Vec<MemberId>, PresenceError> {
        let connections: HashMap<String, MemberId> = {
            let mut conn = self.pool.get().await.map_err(unavailable)?;
            redis::cmd("HGETALL")
                .arg(self.key(&format!("room:{room}")))
                .query_async(&mut *conn)
                .await
                .map_err(unavailable)?
        };
        let pods: BTreeSet<String> = connections.keys().map(|f| pod_of(f).to_owned()).collect();
        let leases = self.leases(&pods.into_iter().collect::<Vec<_>>()).await?;
        let members: BTreeSet<MemberId> = connections
            .into_iter()
            .filter(|(field, _)| leases.get(pod_of(field)).is_some_and(|deadline| *deadline > now_ms))
            .map(|(_, member)| member)
            .collect();
        Ok(members.into_iter().collect())
    }

    async fn ping(&self) -> Result<(), PresenceError> {
        let mut conn = self.pool.get().await.map_err(unavailable)?;
        let _: String = redis::cmd("PING").query_async(&mut *conn).await.map_err(unavailable)?;
        Ok(())
    }
}
