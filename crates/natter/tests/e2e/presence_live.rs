//! Presence through the real services: two message pods batching heartbeats into presence on a
//! Redis of this test's own (so it can be restarted). Two devices, one logs out → still online; the
//! member looks at a room → presence knows; Redis restarts empty → rebuilt from the next heartbeats;
//! kill -9 a pod → its members go offline within the lease, members also connected elsewhere stay.

use std::process::Stdio;
use std::time::{Duration, Instant};

use natter_proto::frames::ServerFrame;
use natter_proto::http::{MemberPresence, PresenceState};
use tokio::process::{Child, Command};

use crate::api::Api;
use crate::client::open;
use crate::stack::{Stack, free_port};

const HEARTBEAT_MS: u64 = 300;
/// Three heartbeats.
const LEASE: Duration = Duration::from_millis(3 * HEARTBEAT_MS);

async fn start_redis(port: u16) -> Child {
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("redis-server runs");
    natter_test_support::require_listening(
        "private Redis",
        &format!("127.0.0.1:{port}"),
        Duration::from_secs(10),
    )
    .await;
    child
}

/// Polls presence until `done` holds for `member`; what it saw then, and how long it took.
async fn until(
    stack: &Stack,
    member: i64,
    what: &str,
    done: impl Fn(&MemberPresence) -> bool,
) -> (MemberPresence, Duration) {
    let started = Instant::now();
    loop {
        let seen = stack.presence(&[member]).await.remove(0);
        if done(&seen) {
            return (seen, started.elapsed());
        }
        assert!(started.elapsed() < Duration::from_secs(20), "member {member} never {what}: {seen:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn run_distributed() {
    let port = free_port();
    let mut redis = start_redis(port).await;
    let every = vec![
        ("NATTER_REDIS_URL".to_owned(), format!("redis://127.0.0.1:{port}")),
        ("NATTER_PRESENCE_HEARTBEAT_MS".to_owned(), HEARTBEAT_MS.to_string()),
        ("NATTER_PRESENCE_SWEEP_MS".to_owned(), "100".to_owned()),
    ];
    let mut stack = Stack::distributed_with_envs(Vec::new(), Vec::new(), every).await;
    let api = Api::new(&stack.web_url);
    let (ann, ben, cat) = (api.member("ann").await, api.member("ben").await, api.member("cat").await);
    let room = api.create_room(&ann, "present", "public", None).await;
    let connect = |who, pod: usize| {
        let (api, url, web) = (api.clone(), stack.message_urls[pod].clone(), stack.web_url.clone());
        async move { open(&url, &api.ws_token(who).await, &web).await }
    };
    let ann_phone = connect(&ann, 0).await;
    let mut ann_laptop = connect(&ann, 1).await;
    let ben_ws = connect(&ben, 0).await;
    let cat_ws = connect(&cat, 1).await;

    let (seen, took) = until(&stack, ann.id, "had two devices", |p| p.connections == 2).await;
    assert_eq!(seen.state, PresenceState::Online);
    println!("presence: a new connection was visible after {took:?}");
    for who in [ben.id, cat.id] {
        until(&stack, who, "came online", |p| p.online()).await;
    }

    // One device logs out: still online on the other.
    ann_phone.close().await;
    let (seen, _) = until(&stack, ann.id, "dropped to one device", |p| p.connections == 1).await;
    assert_eq!(seen.state, PresenceState::Online, "still online on the laptop");

    // Where members are: ann looks at the room on the laptop.
    assert!(matches!(ann_laptop.subscribe(room).await, ServerFrame::Subscribed { .. }));
    until(&stack, ann.id, "looked at the room", |p| p.rooms == [room]).await;

    // Redis restarts with nothing: the pods' next heartbeats are answered "resync" and rebuild it.
    redis.kill().await.unwrap();
    let mut redis = start_redis(port).await;
    let (_, took) =
        until(&stack, ann.id, "was rebuilt after the Redis restart", |p| p.online() && p.rooms == [room])
            .await;
    println!("presence: rebuilt {took:?} after Redis came back");
    until(&stack, ben.id, "was rebuilt", |p| p.online()).await;

    // kill -9 pod 0: ben (only there) goes offline within the lease; ann and cat (pod 1) stay.
    let killed = Instant::now();
    stack.kill_message_pod(0).await;
    let (seen, _) = until(&stack, ben.id, "went offline", |p| !p.online()).await;
    let offline_after = killed.elapsed();
    assert!(offline_after <= LEASE + Duration::from_millis(1_000), "offline after {offline_after:?}");
    let (seen, _) = if seen.last_seen_ms.is_some() {
        (seen, Duration::ZERO)
    } else {
        until(&stack, ben.id, "got a last seen time", |p| p.last_seen_ms.is_some()).await
    };
    assert_eq!(seen.connections, 0);
    let now = stack.presence(&[ann.id, cat.id]).await;
    assert!(now.iter().all(MemberPresence::online), "members on the other pod stay online: {now:?}");
    println!("presence: members of a killed pod offline after {offline_after:?} (lease {LEASE:?})");

    drop(ben_ws);
    drop(cat_ws);
    ann_laptop.close().await;
    redis.kill().await.unwrap();
}
