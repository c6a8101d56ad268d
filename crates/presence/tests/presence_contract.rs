//! The contract every `PresenceStore` adapter meets, against real Redis and in memory. Time is
//! passed in, so lease ends and idleness are exact.

use std::sync::Arc;

use natter_presence::store::{Change, MemoryPresence, PresenceStore, RedisPresence};
use natter_proto::calls::{CallMedia, CallParticipant, CallSeat, CallState};
use natter_proto::http::{ConnectionState, MemberPresence, PodHeartbeat, PresenceState};

async fn redis() -> Arc<dyn PresenceStore> {
    let (url, prefix) = natter_test_support::redis_with_prefix().await;
    Arc::new(RedisPresence::connect(&url, &prefix).expect("redis pool"))
}

fn memory() -> Arc<dyn PresenceStore> {
    Arc::new(MemoryPresence::new())
}

const T: i64 = 1_800_000_000_000;
const LEASE: u64 = 10_000;
const AWAY: i64 = 300_000;

fn conn(connection: &str, member: i64, room: Option<i64>, active_at_ms: i64) -> ConnectionState {
    ConnectionState { connection: connection.into(), member_id: member, room, active_at_ms, call: None }
}

/// Connection `connection` of `member` looking at `room` and seated in its call as `session`.
fn in_call(
    connection: &str,
    member: i64,
    room: i64,
    session: &str,
    media: CallMedia,
    since_ms: i64,
) -> ConnectionState {
    let participant = CallParticipant {
        session: session.into(),
        member_id: member,
        name: format!("m{member}"),
        media,
        since_ms,
    };
    ConnectionState {
        call: Some(CallSeat { room, participant }),
        ..conn(connection, member, Some(room), since_ms)
    }
}

fn sessions(state: &CallState) -> Vec<&str> {
    state.participants.iter().map(|p| p.session.as_str()).collect()
}

fn beat(full: bool, upserts: Vec<ConnectionState>, closed: &[&str]) -> PodHeartbeat {
    PodHeartbeat { lease_ms: LEASE, full, upserts, closed: closed.iter().map(|c| c.to_string()).collect() }
}

async fn one(store: &Arc<dyn PresenceStore>, member: i64, now: i64) -> MemberPresence {
    store.presence(&[member], AWAY, now).await.unwrap().remove(0)
}

async fn closing_one_device_leaves_the_member_online(store: Arc<dyn PresenceStore>) {
    let applied =
        store.heartbeat("pod-a", &beat(true, vec![conn("phone", 1, None, T)], &[]), T).await.unwrap();
    assert_eq!(applied.changes, [Change::online(1)]);
    let applied =
        store.heartbeat("pod-b", &beat(true, vec![conn("laptop", 1, None, T)], &[]), T).await.unwrap();
    assert_eq!(applied.changes, [], "already online on the phone");
    let p = one(&store, 1, T + 1).await;
    assert_eq!((p.state, p.connections), (PresenceState::Online, 2));
    assert_eq!(p.last_seen_ms, None, "no last seen while online");

    let applied = store.heartbeat("pod-a", &beat(false, vec![], &["phone"]), T + 100).await.unwrap();
    assert_eq!(applied.changes, []);
    let p = one(&store, 1, T + 200).await;
    assert_eq!((p.state, p.connections), (PresenceState::Online, 1), "still on the laptop");
    let applied =
        store.heartbeat("pod-b", &beat(false, vec![], &["laptop", "laptop"]), T + 300).await.unwrap();
    assert_eq!(applied.changes, [Change::offline(1)]);
    let p = one(&store, 1, T + 400).await;
    assert_eq!((p.state, p.connections, p.last_seen_ms), (PresenceState::Offline, 0, Some(T + 300)));
    // Reporting the same connection twice counts it once.
    let twice = vec![conn("tab", 2, None, T), conn("tab", 2, None, T)];
    store.heartbeat("pod-a", &beat(false, twice, &[]), T).await.unwrap();
    assert_eq!(one(&store, 2, T + 1).await.connections, 1);
}

async fn a_crashed_pod_s_members_go_offline_when_its_lease_ends(store: Arc<dyn PresenceStore>) {
    // Member 3 only on pod-a; member 4 on both.
    let a = vec![conn("a1", 3, Some(9), T), conn("a2", 4, Some(9), T)];
    store.heartbeat("pod-a", &beat(true, a, &[]), T).await.unwrap();
    store.heartbeat("pod-b", &beat(true, vec![conn("b1", 4, None, T)], &[]), T).await.unwrap();
    // pod-b keeps beating; pod-a goes silent.
    store.heartbeat("pod-b", &beat(false, vec![], &[]), T + 8_000).await.unwrap();
    assert_eq!(one(&store, 3, T + 9_999).await.state, PresenceState::Online, "within the lease");
    let after = T + LEASE as i64 + 1;
    assert_eq!(one(&store, 3, after).await.state, PresenceState::Offline, "the lease ended");
    let p = one(&store, 4, after).await;
    assert_eq!((p.state, p.connections, p.rooms.clone()), (PresenceState::Online, 1, vec![]), "{p:?}");
    assert!(store.room_present(9, after).await.unwrap().is_empty(), "nobody left looking at room 9");

    let applied = store.expire_pods(after).await.unwrap();
    assert_eq!(applied.changes, [Change::offline(3)], "member 4 is still on pod-b");
    assert_eq!(one(&store, 3, after).await.last_seen_ms, Some(after));
    assert!(store.expire_pods(after).await.unwrap().changes.is_empty(), "expired once");
    assert_eq!(one(&store, 4, after).await.connections, 1);

    // The pod comes back (a long pause, not a crash): presence asks it for everything.
    let applied = store.heartbeat("pod-a", &beat(false, vec![], &[]), after + 1).await.unwrap();
    assert!(applied.resync, "an unknown lease asks for a full heartbeat");
    let full = vec![conn("a1", 3, Some(9), after)];
    assert!(!store.heartbeat("pod-a", &beat(true, full, &[]), after + 2).await.unwrap().resync);
    assert_eq!(one(&store, 3, after + 3).await.state, PresenceState::Online);
}

async fn a_full_heartbeat_replaces_what_the_pod_had(store: Arc<dyn PresenceStore>) {
    let first = vec![conn("c1", 5, None, T), conn("c2", 6, None, T)];
    store.heartbeat("pod", &beat(true, first, &[]), T).await.unwrap();
    let applied =
        store.heartbeat("pod", &beat(true, vec![conn("c2", 6, None, T)], &[]), T + 1).await.unwrap();
    assert_eq!(applied.changes, [Change::offline(5)], "c1 is gone");
    // Opened and closed within one heartbeat: both changes, in order.
    let flap = beat(false, vec![conn("c3", 9, None, T)], &["c3"]);
    let applied = store.heartbeat("pod", &flap, T + 2).await.unwrap();
    assert_eq!(applied.changes, [Change::online(9), Change::offline(9)]);
    assert_eq!(one(&store, 5, T + 2).await.state, PresenceState::Offline);
    assert_eq!(one(&store, 6, T + 2).await.state, PresenceState::Online);
}

async fn rooms_follow_the_connections(store: Arc<dyn PresenceStore>) {
    let upserts = vec![conn("c1", 7, Some(1), T), conn("c2", 7, Some(2), T), conn("c3", 8, Some(1), T)];
    store.heartbeat("pod", &beat(true, upserts, &[]), T).await.unwrap();
    assert_eq!(one(&store, 7, T).await.rooms, [1, 2]);
    assert_eq!(store.room_present(1, T).await.unwrap(), [7, 8]);
    // Member 7 moves c1 to the lobby and closes c2.
    store.heartbeat("pod", &beat(false, vec![conn("c1", 7, None, T)], &["c2"]), T + 1).await.unwrap();
    assert_eq!(store.room_present(1, T + 1).await.unwrap(), [8]);
    assert!(store.room_present(2, T + 1).await.unwrap().is_empty());
    let p = one(&store, 7, T + 1).await;
    assert_eq!((p.connections, p.rooms), (1, vec![]));
}

async fn idle_members_are_away_and_activity_only_moves_forward(store: Arc<dyn PresenceStore>) {
    store.heartbeat("pod", &beat(true, vec![conn("c", 9, None, T)], &[]), T).await.unwrap();
    // The pod keeps beating (the lease is shorter than the idle time), the member does nothing.
    store.heartbeat("pod", &beat(false, vec![], &[]), T + AWAY - 5_000).await.unwrap();
    assert_eq!(one(&store, 9, T + AWAY).await.state, PresenceState::Online);
    assert_eq!(one(&store, 9, T + AWAY + 1).await.state, PresenceState::Away);
    // A late report of older activity does not make the member look idler.
    store.heartbeat("pod", &beat(false, vec![conn("c", 9, None, T + AWAY)], &[]), T + AWAY).await.unwrap();
    store.heartbeat("pod", &beat(false, vec![conn("c", 9, None, T)], &[]), T + AWAY).await.unwrap();
    assert_eq!(one(&store, 9, T + AWAY + 1_000).await.state, PresenceState::Online);
}

async fn answers_in_the_order_asked(store: Arc<dyn PresenceStore>) {
    store.heartbeat("pod", &beat(true, vec![conn("c", 3, None, T)], &[]), T).await.unwrap();
    let answer = store.presence(&[2, 3, 4], AWAY, T).await.unwrap();
    let got: Vec<(i64, bool)> = answer.iter().map(|p| (p.member_id, p.online())).collect();
    assert_eq!(got, [(2, false), (3, true), (4, false)]);
    assert!(store.presence(&[], AWAY, T).await.unwrap().is_empty());
    store.ping().await.unwrap();
}

const TALKING: CallMedia = CallMedia { audio: true, video: true, screen: false, muted: false };
const LISTENING: CallMedia = CallMedia { audio: false, video: false, screen: false, muted: false };

async fn seats_follow_connections_and_every_change_raises_the_version(store: Arc<dyn PresenceStore>) {
    let empty = store.call(5, T).await.unwrap();
    assert!(empty.participants.is_empty());
    let applied = store
        .heartbeat("pod-a", &beat(true, vec![in_call("c1", 1, 5, "s1", TALKING, T)], &[]), T)
        .await
        .unwrap();
    assert_eq!(applied.calls, [5]);
    let first = store.call(5, T).await.unwrap();
    assert_eq!(sessions(&first), ["s1"]);
    assert_eq!(first.participants[0].media, TALKING);
    assert!(first.version >= T as u64 && first.version > empty.version);

    // Ben joins on another pod, listening; the same seat reported again changes nothing.
    let beat_b = beat(true, vec![in_call("c2", 2, 5, "s2", LISTENING, T + 10)], &[]);
    assert_eq!(store.heartbeat("pod-b", &beat_b, T + 10).await.unwrap().calls, [5]);
    let again = beat(false, vec![in_call("c1", 1, 5, "s1", TALKING, T)], &[]);
    assert_eq!(store.heartbeat("pod-a", &again, T + 11).await.unwrap().calls, [] as [i64; 0]);
    let second = store.call(5, T + 12).await.unwrap();
    assert_eq!(sessions(&second), ["s1", "s2"], "in the order they joined");
    assert!(second.version > first.version);

    // Ann mutes: same seat, new media, new version.
    let muted = CallMedia { muted: true, ..TALKING };
    let beat_a = beat(false, vec![in_call("c1", 1, 5, "s1", muted, T)], &[]);
    assert_eq!(store.heartbeat("pod-a", &beat_a, T + 20).await.unwrap().calls, [5]);
    let third = store.call(5, T + 21).await.unwrap();
    assert_eq!(third.participants[0].media, muted);
    assert!(third.version > second.version);

    // Ann moves her device to room 6's call: both rooms change.
    let moved = beat(false, vec![in_call("c1", 1, 6, "s3", TALKING, T + 30)], &[]);
    assert_eq!(store.heartbeat("pod-a", &moved, T + 30).await.unwrap().calls, [5, 6]);
    assert_eq!(sessions(&store.call(5, T + 31).await.unwrap()), ["s2"]);
    assert_eq!(sessions(&store.call(6, T + 31).await.unwrap()), ["s3"]);
    // She leaves the call but keeps the connection.
    let left = beat(false, vec![conn("c1", 1, Some(6), T + 40)], &[]);
    assert_eq!(store.heartbeat("pod-a", &left, T + 40).await.unwrap().calls, [6]);
    assert!(store.call(6, T + 41).await.unwrap().participants.is_empty());
    // Ben's connection closes: he leaves the call.
    let closed = beat(false, vec![], &["c2"]);
    assert_eq!(store.heartbeat("pod-b", &closed, T + 50).await.unwrap().calls, [5]);
    let last = store.call(5, T + 51).await.unwrap();
    assert!(last.participants.is_empty());
    assert!(last.version > third.version);
}

async fn a_crashed_pod_s_participants_leave_when_its_lease_ends(store: Arc<dyn PresenceStore>) {
    let a = beat(true, vec![in_call("c1", 1, 5, "s1", TALKING, T)], &[]);
    store.heartbeat("pod-a", &a, T).await.unwrap();
    let b = beat(true, vec![in_call("c2", 2, 5, "s2", TALKING, T + 1)], &[]);
    store.heartbeat("pod-b", &b, T + 5_000).await.unwrap();
    // Pod a's lease (10 s) has ended: its seat no longer counts, even before the sweep...
    let end = T + LEASE as i64;
    assert_eq!(sessions(&store.call(5, end + 1).await.unwrap()), ["s2"]);
    // ...and the sweep reports the change, with a new version.
    let before = store.call(5, end + 1).await.unwrap().version;
    let applied = store.expire_pods(end + 1).await.unwrap();
    assert_eq!(applied.calls, [5]);
    let after = store.call(5, end + 2).await.unwrap();
    assert_eq!(sessions(&after), ["s2"]);
    assert!(after.version > before);
    // A full heartbeat without the seat drops it too.
    let full = beat(true, vec![conn("c2", 2, Some(5), T + 6_000)], &[]);
    assert_eq!(store.heartbeat("pod-b", &full, T + 6_000).await.unwrap().calls, [5]);
    assert!(store.call(5, T + 6_001).await.unwrap().participants.is_empty());
}

macro_rules! contract {
    ($($case:ident),*) => {
        mod on_redis {
            $(#[tokio::test]
            async fn $case() { super::$case(super::redis().await).await })*
        }
        mod in_memory {
            $(#[tokio::test]
            async fn $case() { super::$case(super::memory()).await })*
        }
    };
}

contract!(
    closing_one_device_leaves_the_member_online,
    a_crashed_pod_s_members_go_offline_when_its_lease_ends,
    a_full_heartbeat_replaces_what_the_pod_had,
    rooms_follow_the_connections,
    idle_members_are_away_and_activity_only_moves_forward,
    answers_in_the_order_asked,
    seats_follow_connections_and_every_change_raises_the_version,
    a_crashed_pod_s_participants_leave_when_its_lease_ends
);
