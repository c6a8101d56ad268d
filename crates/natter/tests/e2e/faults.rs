//! Fault campaigns turned into repeatable tests, on a distributed stack: two message pods as separate
//! processes, the nisshi Kafka-protocol broker, SecantusDB (MongoDB protocol), PostgreSQL and Redis.
//!
//! Every test drives the same [`Campaign`]: publishers on both pods publish with `client_msg_id` at a
//! steady total rate into a few rooms, and retry every publish that was not answered (socket dropped,
//! pod killed) or answered `unavailable` / `rate_limited` with the same `client_msg_id`, on a new
//! connection and, when their pod is gone, on the other one. Subscribers on both pods keep their last
//! position per room; when their socket dies they resume on the other pod with `since`, fetch over
//! REST (`GET /api/v1/rooms/{room}/messages?after=..&up_to=..`, paged, retrying a 503 after its
//! `retry_after_ms`) whatever a `reload_history` asks for, and merge it with the live stream (apply
//! position `last + 1`, hold later ones, drop what they have).
//!
//! The campaigns:
//! - `kill_9_with_resume_on_the_other_pod`: 150 msg/s for 10 s (at least 120 acked a second; the
//!   warm-up goes on for up to 30 s until they are), then SIGKILL of pod 0 while publishing goes on:
//!   its clients move to pod 1 and resume there. Pod 0 is restarted and half of the clients go back
//!   to it, three times, so a loss at a kill shows reliably.
//! - `broker_paused_while_a_pod_dies`: on a private broker, paused (SIGSTOP) while publishing: the
//!   publishes in flight on pod 0 hang; pod 0 is SIGKILLed; the broker resumes after 3 s; the clients
//!   retry on pod 1 with the same `client_msg_id`, which must not make a second message of any.
//! - `topics_deleted_under_a_running_stack`: every Kafka topic of the stack is deleted while
//!   publishing; publishing must recover by itself within 60 s, and positions go on consecutively.
//!
//! Each one then asserts: every acked message reached every subscriber exactly once, in order; the
//! acked positions of each room are exactly 1..=n and every subscriber got exactly those (nothing that
//! was never acked, no hole, no repeat); no two messages share a `client_msg_id` (an ack that was lost
//! although the message was stored is fine only if the retry got the same message id and position);
//! and history, read over REST with `after` paging, holds each acked message once at its position.
//! Failures name the room, the positions, the message and client message ids.
//!
//! Campaigns load a 2-core machine fully, so they take turns (a file lock), also across the test
//! processes nextest starts. A test takes about 1-2 minutes; most of it is the end, when publishers
//! wait for acks of retries whose first attempt died with its pod.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::join_all;
use futures_util::{SinkExt, StreamExt};
use natter_test_support::PrivateBroker;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::api::{Api, Member};
use crate::stack::{Stack, unlimited_publishing};

/// Below this many acks a second before the first fault, the campaign proves little.
const MIN_RATE: f64 = 120.0;
/// Publishing before the first fault; longer (up to `WARM_UP_AT_MOST`) until it reaches `MIN_RATE`.
const WARM_UP: Duration = Duration::from_secs(10);
const WARM_UP_AT_MOST: Duration = Duration::from_secs(30);
/// The window over which the warm-up rate is measured.
const RATE_WINDOW: Duration = Duration::from_secs(8);
/// How often pod 0 dies in `kill_9_with_resume_on_the_other_pod`.
const KILL_CYCLES: usize = 3;
/// How long the private broker stays paused.
const BROKER_PAUSE: Duration = Duration::from_secs(3);
/// How long publishing may take to come back after the topics were deleted.
const RECOVERY: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_with_resume_on_the_other_pod() {
    let _turn = one_campaign_at_a_time().await;
    let mut stack = Stack::distributed_with_message_env(Vec::new(), unlimited_publishing()).await;
    let plan = Plan { rooms: 3, publishers: 4, subscribers: 4, rate: 150 };
    let mut campaign = Campaign::start(&stack, plan).await;
    let rate = campaign.warm_up(MIN_RATE).await;
    assert!(
        rate >= MIN_RATE,
        "only {rate:.0} acks/s before the first fault (the campaign needs at least {MIN_RATE}); is the \
         machine overloaded? {}",
        campaign.status()
    );
    for cycle in 1..=KILL_CYCLES {
        let in_flight = campaign.in_flight_on(0);
        stack.kill_message_pod(0).await;
        eprintln!(
            "faults: cycle {cycle}: SIGKILL of pod 0 with {} publishes in flight on it",
            in_flight.len()
        );
        // Everyone is on pod 1 now, and publishing goes on there.
        campaign.run_for(Duration::from_secs(6)).await;
        if cycle < KILL_CYCLES {
            stack.restart_message_pod(0).await;
            campaign.send_everyone_home();
            campaign.run_for(Duration::from_secs(6)).await;
        }
    }
    campaign.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn broker_paused_while_a_pod_dies() {
    let _turn = one_campaign_at_a_time().await;
    // Pausing the shared broker would stall every other test: this stack gets a broker of its own.
    let mut broker = PrivateBroker::start().await;
    let mut stack =
        Stack::distributed_on_brokers(broker.address(), Vec::new(), unlimited_publishing(), Vec::new()).await;
    let plan = Plan { rooms: 2, publishers: 4, subscribers: 4, rate: 100 };
    let mut campaign = Campaign::start(&stack, plan).await;
    campaign.run_for(Duration::from_secs(6)).await;

    broker.pause();
    let paused_at = Instant::now();
    campaign.run_for(BROKER_PAUSE / 2).await;
    let hanging = campaign.in_flight_on(0);
    assert!(
        !hanging.is_empty(),
        "no publish was in flight on pod 0 while the broker was paused: the scenario did not happen"
    );
    stack.kill_message_pod(0).await;
    eprintln!("faults: SIGKILL of pod 0 with {} unanswered publishes: {hanging:?}", hanging.len());
    tokio::time::sleep_until(paused_at + BROKER_PAUSE).await;
    broker.resume();
    campaign.run_for(Duration::from_secs(10)).await;

    let outcome = campaign.finish().await;
    outcome.assert_acked(&hanging, "unanswered on pod 0 when it died");
}

/// The test broker (nisshi) creates a missing topic itself, with 4 partitions, when a producer asks
/// for its metadata, before the stack's `TopicKeeper` creates it with 3: fan-out readers must then
/// read the partition the topic gained (the sequencer's announcements of some rooms land there).
#[tokio::test(flavor = "multi_thread")]
async fn topics_deleted_under_a_running_stack() {
    let _turn = one_campaign_at_a_time().await;
    let stack = Stack::distributed_with_message_env(Vec::new(), unlimited_publishing()).await;
    let plan = Plan { rooms: 3, publishers: 4, subscribers: 4, rate: 100 };
    let mut campaign = Campaign::start(&stack, plan).await;
    campaign.run_for(Duration::from_secs(8)).await;

    let deleted = stack.delete_kafka_topics().await;
    let deleted_at = Instant::now();
    assert!(
        deleted.iter().any(|topic| topic.ends_with("natter.chat.community")),
        "the room message topic was among the deleted topics: {deleted:?}"
    );
    eprintln!("faults: deleted {} topics: {deleted:?}", deleted.len());
    let recovered_in =
        campaign.wait_for_steady_publishing(deleted_at, RECOVERY).await.unwrap_or_else(|status| {
            panic!("publishing did not recover within {RECOVERY:?} of deleting the topics: {status}")
        });
    eprintln!("faults: publishing recovered {recovered_in:.1?} after the topics were deleted");
    campaign.run_for(Duration::from_secs(8)).await;
    campaign.expect_steady_publishing("8 s after it recovered from the topic deletion");
    campaign.finish().await;
}

/// A campaign loads a 2-core machine fully (a stack of six processes, hundreds of messages a second
/// to eight connections): campaigns run one at a time, across test processes (nextest runs each test
/// in a process of its own). The lock (a `flock` on a file in the temp directory) is held until the
/// returned file is dropped, or the process ends.
async fn one_campaign_at_a_time() -> std::fs::File {
    let path = std::env::temp_dir().join("natter-fault-campaigns.lock");
    tokio::task::spawn_blocking(move || {
        let file = std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("opening {}: {e}", path.display()));
        file.lock().unwrap_or_else(|e| panic!("locking {}: {e}", path.display()));
        file
    })
    .await
    .unwrap()
}

// ---------------------------------------------------------------------------------------------------
// The campaign: who publishes and subscribes where, and what happens when it ends.

/// Timeouts of the clients.
/// A client gives up finding a pod that accepts its connection (and subscription) after this.
const CONNECT_DEADLINE: Duration = Duration::from_secs(60);
/// A WebSocket handshake, a send or the answers to the subscribes of a connection.
const HANDSHAKE: Duration = Duration::from_secs(15);
/// Publishes a publisher keeps in flight: enough for its share of the rate at an ack latency of
/// over a second.
const WINDOW: usize = 64;
/// After publishing stops, how long publishers may take to get their last publishes acked: more than
/// the 60 s after which a dead pod's claim of a `client_msg_id` may expire.
const ACK_DEADLINE: Duration = Duration::from_secs(75);
/// Once everything is acked, how long subscribers may take to hold every acked message.
const CATCH_UP: Duration = Duration::from_secs(45);
/// How long a history range may take to be served in full (also the final history check).
const FETCH_DEADLINE: Duration = Duration::from_secs(45);
/// The window over which publishing counts as steady.
const STEADY: Duration = Duration::from_secs(2);
/// Retry delay when the server names none.
const RETRY_DEFAULT: Duration = Duration::from_millis(250);

struct Plan {
    rooms: usize,
    publishers: usize,
    subscribers: usize,
    /// Messages a second, all publishers together.
    rate: u32,
}

/// What the test tells the clients.
#[derive(Clone)]
struct Control {
    phase: Phase,
    /// Raised to send every client that is not on its home pod back there.
    homecoming: u64,
}

#[derive(Clone)]
enum Phase {
    Publishing,
    /// No new messages: get the outstanding ones acked until `until`.
    Draining {
        until: Instant,
    },
    /// Subscribers: get every position up to `goal` (per room) until `until`.
    CatchingUp {
        goal: HashMap<i64, i64>,
        until: Instant,
    },
}

/// What the test may watch while the campaign runs.
#[derive(Default)]
struct Progress {
    /// Per ack: when its publish was first sent, and when the ack came.
    acks: Mutex<Vec<(Instant, Instant)>>,
    /// Per publisher: its pod and the client message ids it has in flight there.
    in_flight: Mutex<HashMap<usize, (usize, Vec<String>)>>,
    /// Error codes publishes were answered with, and how often.
    errors: Mutex<BTreeMap<String, usize>>,
}

impl Progress {
    fn acked(&self, first_sent: Instant) {
        self.acks.lock().unwrap().push((first_sent, Instant::now()));
    }

    fn set_in_flight(&self, publisher: usize, pod: usize, client_msg_ids: Vec<String>) {
        self.in_flight.lock().unwrap().insert(publisher, (pod, client_msg_ids));
    }

    fn in_flight_on(&self, pod: usize) -> Vec<String> {
        let in_flight = self.in_flight.lock().unwrap();
        in_flight.values().filter(|(on, _)| *on == pod).flat_map(|(_, ids)| ids.clone()).collect()
    }

    fn error(&self, code: &str) {
        *self.errors.lock().unwrap().entry(code.to_owned()).or_default() += 1;
    }

    /// Acks a second over the last `over`, of publishes first sent at `sent_after` or later.
    fn ack_rate(&self, over: Duration, sent_after: Instant) -> f64 {
        let since = Instant::now().checked_sub(over).unwrap_or(sent_after);
        let acks = self.acks.lock().unwrap();
        let counted = acks.iter().filter(|(sent, acked)| *acked >= since && *sent >= sent_after).count();
        counted as f64 / over.as_secs_f64()
    }

    fn status(&self) -> String {
        let in_flight: Vec<String> =
            (0..2).map(|pod| format!("{} on pod {pod}", self.in_flight_on(pod).len())).collect();
        format!(
            "{} acks in all; publishes in flight: {}; errors answered: {:?}",
            self.acks.lock().unwrap().len(),
            in_flight.join(", "),
            self.errors.lock().unwrap()
        )
    }
}

/// Problems the clients saw while the campaign ran (reported at the end, all together).
#[derive(Clone, Default)]
struct Findings(Arc<Mutex<Vec<String>>>);

impl Findings {
    fn note(&self, finding: String) {
        let mut all = self.0.lock().unwrap();
        if all.len() < 20 {
            eprintln!("faults: PROBLEM: {finding}");
        }
        all.push(finding);
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

struct Campaign {
    api: Api,
    owner: Member,
    rooms: Vec<i64>,
    control: watch::Sender<Control>,
    progress: Arc<Progress>,
    findings: Findings,
    publishers: Vec<JoinHandle<PublisherReport>>,
    subscribers: Vec<JoinHandle<SubscriberReport>>,
    /// The planned messages a second, all publishers together.
    rate: u32,
    started: Instant,
}

impl Campaign {
    /// Signs up the members, makes the rooms, subscribes every subscriber, then starts publishing.
    async fn start(stack: &Stack, plan: Plan) -> Campaign {
        let api = Api::new(&stack.web_url);
        let pods = Pods { message_urls: stack.message_urls.clone(), web_url: stack.web_url.clone() };
        let owner = api.member("owner").await;
        let names =
            |prefix: &str, count: usize| (0..count).map(|i| format!("{prefix}{i}")).collect::<Vec<_>>();
        let (publisher_names, subscriber_names) =
            (names("pub", plan.publishers), names("sub", plan.subscribers));
        let publishers = join_all(publisher_names.iter().map(|name| api.member(name))).await;
        let subscribers = join_all(subscriber_names.iter().map(|name| api.member(name))).await;
        let mut rooms = Vec::new();
        for r in 0..plan.rooms {
            rooms.push(api.create_room(&owner, &format!("faults{r}"), "public", None).await);
        }
        let everyone = publishers.iter().chain(&subscribers);
        join_all(everyone.flat_map(|who| rooms.iter().map(|room| api.join(*room, who)))).await;

        let (control, _) = watch::channel(Control { phase: Phase::Publishing, homecoming: 0 });
        let progress = Arc::new(Progress::default());
        let findings = Findings::default();
        let client = |name: String, who: &Member, home: usize| Client {
            name,
            who: who.clone(),
            home,
            pods: pods.clone(),
            api: api.clone(),
            rooms: rooms.clone(),
            findings: findings.clone(),
        };

        let (ready, mut subscribed) = mpsc::channel(plan.subscribers);
        let mut subscribing = Vec::new();
        for (index, who) in subscribers.iter().enumerate() {
            let subscriber =
                Subscriber::new(client(format!("subscriber {index}"), who, index % 2), control.subscribe());
            subscribing.push(tokio::spawn(subscriber.run(ready.clone())));
        }
        let mut ready_count = 0;
        while ready_count < plan.subscribers {
            tokio::select! {
                Some(()) = subscribed.recv() => ready_count += 1,
                _ = tokio::time::sleep(Duration::from_millis(250)) => {
                    if let Some(index) = subscribing.iter().position(JoinHandle::is_finished) {
                        fail_with(subscribing.remove(index), &format!("subscriber {index}")).await;
                    }
                }
            }
        }

        let interval = Duration::from_secs_f64(plan.publishers as f64 / f64::from(plan.rate));
        let publishing = publishers
            .iter()
            .enumerate()
            .map(|(index, who)| {
                let publisher = Publisher::new(
                    client(format!("publisher {index}"), who, index % 2),
                    index,
                    interval,
                    control.subscribe(),
                    progress.clone(),
                );
                tokio::spawn(publisher.run())
            })
            .collect();
        eprintln!(
            "faults: {} publishers at {} msg/s into rooms {rooms:?}, {} subscribers, on both pods",
            plan.publishers, plan.rate, plan.subscribers
        );
        Campaign {
            api,
            owner,
            rooms,
            control,
            progress,
            findings,
            publishers: publishing,
            subscribers: subscribing,
            rate: plan.rate,
            started: Instant::now(),
        }
    }

    /// Lets the campaign run; fails at once if a client failed.
    async fn run_for(&mut self, duration: Duration) {
        let until = Instant::now() + duration;
        while Instant::now() < until {
            tokio::time::sleep(
                until.saturating_duration_since(Instant::now()).min(Duration::from_millis(250)),
            )
            .await;
            if let Some(index) = self.publishers.iter().position(JoinHandle::is_finished) {
                fail_with(self.publishers.remove(index), &format!("publisher {index}")).await;
            }
            if let Some(index) = self.subscribers.iter().position(JoinHandle::is_finished) {
                fail_with(self.subscribers.remove(index), &format!("subscriber {index}")).await;
            }
        }
    }

    /// Runs for [`WARM_UP`], longer (up to [`WARM_UP_AT_MOST`]) while fewer than `rate` publishes a
    /// second were acked over the last [`RATE_WINDOW`]; the rate reached.
    async fn warm_up(&mut self, rate: f64) -> f64 {
        self.run_for(WARM_UP).await;
        loop {
            let reached = self.ack_rate(RATE_WINDOW);
            if reached >= rate || self.started.elapsed() >= WARM_UP_AT_MOST {
                return reached;
            }
            self.run_for(Duration::from_secs(1)).await;
        }
    }

    /// Acks a second over the last `over`.
    fn ack_rate(&self, over: Duration) -> f64 {
        let rate = self.progress.ack_rate(over, self.started);
        eprintln!("faults: {rate:.0} acks/s over the last {over:?}");
        rate
    }

    fn status(&self) -> String {
        self.progress.status()
    }

    /// The client message ids of the publishes in flight on `pod` right now.
    fn in_flight_on(&self, pod: usize) -> Vec<String> {
        self.progress.in_flight_on(pod)
    }

    /// Every client not on its home pod (publishers and subscribers alternate between pod 0 and 1)
    /// drops its connection and comes back there, resuming and retrying as after any reconnect.
    fn send_everyone_home(&self) {
        self.control.send_modify(|control| control.homecoming += 1);
    }

    /// Waits until publishing runs steadily again after `fault`: publishes first sent after it are
    /// acked at half the planned rate or more, over [`STEADY`]. How long after `fault` that was, or
    /// what the campaign looked like when `limit` ran out.
    async fn wait_for_steady_publishing(
        &mut self,
        fault: Instant,
        limit: Duration,
    ) -> Result<Duration, String> {
        loop {
            let rate = self.progress.ack_rate(STEADY, fault);
            if fault.elapsed() >= STEADY && rate >= f64::from(self.rate) / 2.0 {
                return Ok(fault.elapsed());
            }
            if fault.elapsed() > limit {
                return Err(format!("{rate:.0} acks/s over the last {STEADY:?}; {}", self.status()));
            }
            self.run_for(Duration::from_millis(250)).await;
        }
    }

    /// Notes a problem unless publishes are acked at half the planned rate or more right now.
    fn expect_steady_publishing(&self, when: &str) {
        let rate = self.progress.ack_rate(STEADY, self.started);
        if rate < f64::from(self.rate) / 2.0 {
            self.findings.note(format!(
                "publishing stalled {when}: {rate:.0} acks/s over the last {STEADY:?} (planned {}); {}",
                self.rate,
                self.status()
            ));
        }
    }

    /// Stops publishing, lets the publishers get everything acked and the subscribers catch up, reads
    /// history, and fails with every problem found.
    async fn finish(mut self) -> Outcome {
        let until = Instant::now() + ACK_DEADLINE;
        self.control.send_modify(|control| control.phase = Phase::Draining { until });
        let published = join_tasks(std::mem::take(&mut self.publishers), "publisher").await;
        let publishing_took = self.started.elapsed();
        let mut problems = self.findings.take();
        let ledger = Ledger::of(&published, &self.rooms, &mut problems);
        let goal = ledger.goal(&self.rooms);
        eprintln!("faults: publishers done after {publishing_took:.1?}; last acked positions {goal:?}");

        let until = Instant::now() + CATCH_UP;
        self.control.send_modify(|control| control.phase = Phase::CatchingUp { goal: goal.clone(), until });
        let subscribed = join_tasks(std::mem::take(&mut self.subscribers), "subscriber").await;
        problems.extend(self.findings.take());

        let mut stored = BTreeMap::new();
        for room in &self.rooms {
            let deadline = Instant::now() + FETCH_DEADLINE;
            stored.insert(*room, history_range(&self.api, &self.owner, *room, 0, goal[room], deadline).await);
        }
        let beyond = self.history_beyond(&goal).await;

        for subscriber in &subscribed {
            check_deliveries(subscriber, &ledger, &mut problems);
        }
        check_history(&stored, &beyond, &ledger, &mut problems);
        check_client_msg_ids(&ledger, &subscribed, &stored, &mut problems);

        let summary = summary(&published, &subscribed, &goal, self.started.elapsed());
        if !problems.is_empty() {
            let shown = problems.iter().take(40).map(|p| format!("\n  - {p}")).collect::<String>();
            let more = problems.len().saturating_sub(40);
            let more = if more > 0 { format!("\n  ... and {more} more") } else { String::new() };
            panic!("{} problems in the campaign:{shown}{more}\n({summary})", problems.len());
        }
        eprintln!("faults: passed: {summary}");
        Outcome { acks: ledger.by_client_msg_id }
    }

    /// Whatever history holds after the last acked position of each room (nothing, if no publish
    /// made a second message): one quick look.
    async fn history_beyond(&self, goal: &HashMap<i64, i64>) -> BTreeMap<i64, Vec<Delivered>> {
        let mut beyond = BTreeMap::new();
        for room in &self.rooms {
            let last = goal[room];
            // No `up_to`: whatever is stored after `last`, if anything.
            let path = format!("/api/v1/rooms/{room}/messages?after={last}");
            let look = self.api.call(Method::GET, &path, Some(&self.owner.token), None);
            if let Ok((StatusCode::OK, body)) = tokio::time::timeout(Duration::from_secs(10), look).await {
                let found: Vec<Delivered> = page_messages(&body.0)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|m| m.position > last)
                    .collect();
                beyond.insert(*room, found);
            }
        }
        beyond
    }
}

/// What a campaign ended with, for the checks particular to one test.
struct Outcome {
    acks: HashMap<String, Acked>,
}

impl Outcome {
    /// Every one of these publishes was acked in the end (once: `finish` checked that).
    fn assert_acked(&self, client_msg_ids: &[String], what: &str) {
        let mut by_pod = BTreeMap::new();
        for id in client_msg_ids {
            let ack = self.acks.get(id).unwrap_or_else(|| panic!("publish {id} ({what}) was never acked"));
            *by_pod.entry(ack.pod).or_insert(0) += 1;
        }
        eprintln!("faults: the {} publishes {what} were acked (by pod: {by_pod:?})", client_msg_ids.len());
    }
}

async fn fail_with<T>(task: JoinHandle<T>, what: &str) -> ! {
    match task.await {
        Err(failed) if failed.is_panic() => std::panic::resume_unwind(failed.into_panic()),
        Err(failed) => panic!("{what} failed: {failed}"),
        Ok(_) => panic!("{what} ended before the campaign did"),
    }
}

async fn join_tasks<T>(tasks: Vec<JoinHandle<T>>, what: &str) -> Vec<T> {
    let mut results = Vec::new();
    for (index, result) in join_all(tasks).await.into_iter().enumerate() {
        match result {
            Ok(report) => results.push(report),
            Err(failed) if failed.is_panic() => std::panic::resume_unwind(failed.into_panic()),
            Err(failed) => panic!("{what} {index} failed: {failed}"),
        }
    }
    results
}

// ---------------------------------------------------------------------------------------------------
// The wire: WebSocket frames as JSON, read leniently so a frame the test does not know ends nothing.

type WebSocket = WebSocketStream<MaybeTlsStream<TcpStream>>;

#[derive(Clone)]
struct Pods {
    message_urls: [String; 2],
    web_url: String,
}

/// A chat message as a subscriber or history shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Delivered {
    room: i64,
    position: i64,
    message_id: String,
    sender_id: i64,
    client_msg_id: Option<String>,
}

impl Delivered {
    /// A `StoredMessage` (the `message` of a `message` frame, an entry of a history page).
    fn from_json(message: &Value) -> Option<Delivered> {
        Some(Delivered {
            room: message["room_id"].as_i64()?,
            position: message["position"].as_i64()?,
            message_id: message["message_id"].as_str()?.to_owned(),
            sender_id: message["sender_id"].as_i64()?,
            client_msg_id: message["client_msg_id"].as_str().map(str::to_owned),
        })
    }

    fn describe(&self) -> String {
        format!("{} (client_msg_id {})", self.message_id, self.client_msg_id.as_deref().unwrap_or("none"))
    }
}

/// A frame from a message pod, as far as the campaign cares.
enum Incoming {
    Subscribed {
        room: i64,
    },
    Ack {
        id: String,
        room: i64,
        message_id: String,
        position: i64,
    },
    Message(Delivered),
    ReloadHistory {
        room: i64,
        after: i64,
        up_to: i64,
    },
    Error {
        id: Option<String>,
        code: String,
        detail: String,
        retry_after: Option<Duration>,
    },
    Reconnect {
        retry_after: Duration,
    },
    Removed {
        room: i64,
        reason: String,
    },
    /// Not JSON, or a known type without the fields it needs.
    Unreadable(String),
    Other,
}

impl Incoming {
    fn parse(text: &str) -> Incoming {
        let Ok(frame) = serde_json::from_str::<Value>(text) else {
            return Incoming::Unreadable(text.to_owned());
        };
        Self::from_json(&frame).unwrap_or_else(|| Incoming::Unreadable(text.to_owned()))
    }

    fn from_json(frame: &Value) -> Option<Incoming> {
        let number = |field: &str| frame[field].as_i64();
        let text = |field: &str| frame[field].as_str().map(str::to_owned);
        let millis = |field: &str| frame[field].as_u64().map(Duration::from_millis);
        Some(match frame["type"].as_str()? {
            "subscribed" => Incoming::Subscribed { room: number("room")? },
            "ack" => Incoming::Ack {
                id: text("id")?,
                room: number("room")?,
                message_id: text("message_id")?,
                position: number("position")?,
            },
            "message" => Incoming::Message(Delivered::from_json(&frame["message"])?),
            "reload_history" => Incoming::ReloadHistory {
                room: number("room")?,
                after: number("after")?,
                up_to: number("up_to")?,
            },
            "error" => Incoming::Error {
                id: text("id"),
                code: text("code")?,
                detail: text("detail").unwrap_or_default(),
                retry_after: millis("retry_after_ms"),
            },
            "reconnect" => Incoming::Reconnect { retry_after: millis("retry_after_ms").unwrap_or_default() },
            "removed" => {
                Incoming::Removed { room: number("room")?, reason: text("reason").unwrap_or_default() }
            }
            _ => Incoming::Other,
        })
    }
}

/// Error codes that mean "try again later".
fn retryable(code: &str) -> bool {
    matches!(code, "unavailable" | "rate_limited")
}

/// A WebSocket to one message pod that reports a close or a failure instead of failing the test.
struct Socket {
    ws: WebSocket,
    pod: usize,
}

impl Socket {
    async fn open(pods: &Pods, pod: usize, token: &str) -> Result<Socket, String> {
        let mut request = format!("{}/ws", pods.message_urls[pod]).into_client_request().unwrap();
        let headers = request.headers_mut();
        let protocols = format!("natter.v1, natter.token.{token}");
        headers.insert("Sec-WebSocket-Protocol", HeaderValue::from_str(&protocols).unwrap());
        headers.insert("Origin", HeaderValue::from_str(&pods.web_url).unwrap());
        match tokio::time::timeout(HANDSHAKE, tokio_tungstenite::connect_async(request)).await {
            Ok(Ok((ws, _))) => Ok(Socket { ws, pod }),
            Ok(Err(e)) => Err(format!("pod {pod}: {e}")),
            Err(_) => Err(format!("pod {pod}: no WebSocket handshake within {HANDSHAKE:?}")),
        }
    }

    /// `false` when the connection is gone.
    async fn send(&mut self, frame: &Value) -> bool {
        let sent = tokio::time::timeout(HANDSHAKE, self.ws.send(WsMessage::text(frame.to_string()))).await;
        matches!(sent, Ok(Ok(())))
    }

    /// The next frame; `None` once the connection closed or failed. Cancel-safe.
    async fn next(&mut self) -> Option<Incoming> {
        loop {
            match self.ws.next().await? {
                Ok(WsMessage::Text(text)) => return Some(Incoming::parse(&text)),
                Ok(WsMessage::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }
}

/// What a client does after a frame or a wait.
enum Next {
    Stay,
    /// Drop the connection and, after `after`, connect again, to pod `to` if it takes connections.
    Move {
        to: usize,
        after: Duration,
    },
}

impl Next {
    /// The connection to `pod` is gone: try the other pod.
    fn lost(pod: usize) -> Next {
        Next::Move { to: 1 - pod, after: Duration::ZERO }
    }
}

/// One member using the message pods: a publisher or a subscriber.
#[derive(Clone)]
struct Client {
    name: String,
    who: Member,
    /// The pod it starts on and goes back to when sent home.
    home: usize,
    pods: Pods,
    api: Api,
    rooms: Vec<i64>,
    findings: Findings,
}

impl Client {
    async fn message_token(&self) -> String {
        let deadline = Instant::now() + CONNECT_DEADLINE;
        loop {
            let (status, body) =
                self.api.call(Method::GET, "/api/v1/ws-token", Some(&self.who.token), None).await;
            if status == StatusCode::OK {
                return body.0["token"].as_str().expect("a token").to_owned();
            }
            assert!(Instant::now() < deadline, "{}: no message token: {status} {:?}", self.name, body.0);
            tokio::time::sleep(RETRY_DEFAULT).await;
        }
    }

    /// A connection to pod `prefer`, or the other one if `prefer` does not take connections.
    async fn open_socket(&self, prefer: usize) -> Socket {
        let deadline = Instant::now() + CONNECT_DEADLINE;
        loop {
            let mut failures = Vec::new();
            for pod in [prefer, 1 - prefer] {
                let token = self.message_token().await;
                match Socket::open(&self.pods, pod, &token).await {
                    Ok(socket) => return socket,
                    Err(failure) => failures.push(failure),
                }
            }
            assert!(
                Instant::now() < deadline,
                "{}: no pod took a connection within {CONNECT_DEADLINE:?}: {failures:?}",
                self.name
            );
            tokio::time::sleep(RETRY_DEFAULT).await;
        }
    }

    /// A connection subscribed to every room (no `since`), to pod `prefer` if it can.
    async fn connect_subscribed(&self, mut prefer: usize) -> Socket {
        let deadline = Instant::now() + CONNECT_DEADLINE;
        loop {
            let mut socket = self.open_socket(prefer).await;
            match self.subscribe_and_wait(&mut socket).await {
                Ok(()) => return socket,
                Err(why) => {
                    assert!(
                        Instant::now() < deadline,
                        "{}: not subscribed within {CONNECT_DEADLINE:?}: {why}",
                        self.name
                    );
                    eprintln!("faults: {}: {why}; connecting again", self.name);
                    prefer = 1 - socket.pod;
                    tokio::time::sleep(RETRY_DEFAULT).await;
                }
            }
        }
    }

    async fn subscribe_and_wait(&self, socket: &mut Socket) -> Result<(), String> {
        let pod = socket.pod;
        for room in &self.rooms {
            if !socket.send(&json!({"type": "subscribe", "id": format!("s{room}"), "room": room})).await {
                return Err(format!("pod {pod}: the connection failed while subscribing"));
            }
        }
        let mut waiting: HashSet<i64> = self.rooms.iter().copied().collect();
        let deadline = Instant::now() + HANDSHAKE;
        while !waiting.is_empty() {
            match tokio::time::timeout_at(deadline, socket.next()).await {
                Err(_) => {
                    return Err(format!("pod {pod}: rooms {waiting:?} not subscribed within {HANDSHAKE:?}"));
                }
                Ok(None) => return Err(format!("pod {pod}: the connection closed while subscribing")),
                Ok(Some(Incoming::Subscribed { room })) => {
                    waiting.remove(&room);
                }
                Ok(Some(Incoming::Error { code, detail, .. })) => {
                    return Err(format!("pod {pod}: subscribe answered {code}: {detail}"));
                }
                Ok(Some(_)) => {}
            }
        }
        Ok(())
    }
}

/// After the campaign's control changed: back home if the test said so.
async fn on_control(
    changed: bool,
    control: &mut watch::Receiver<Control>,
    homecomings_seen: &mut u64,
    home: usize,
    pod: usize,
) -> Next {
    if !changed {
        // The campaign is gone (the test failed); idle until the runtime stops.
        tokio::time::sleep(Duration::from_millis(100)).await;
        return Next::Stay;
    }
    let homecoming = control.borrow_and_update().homecoming;
    if homecoming == *homecomings_seen {
        return Next::Stay;
    }
    *homecomings_seen = homecoming;
    if pod == home { Next::Stay } else { Next::Move { to: home, after: Duration::ZERO } }
}

// ---------------------------------------------------------------------------------------------------
// Publishers.

/// One message to publish until it is acked.
struct Publish {
    client_msg_id: String,
    room: i64,
    first_sent: Option<Instant>,
    /// When the latest attempt was sent.
    last_sent: Option<Instant>,
    attempts: u32,
    /// Not before this (after `unavailable` or `rate_limited`).
    not_before: Instant,
}

/// An acked publish.
#[derive(Clone, Debug)]
struct Acked {
    client_msg_id: String,
    room: i64,
    position: i64,
    message_id: String,
    publisher: usize,
    /// The pod that acked it.
    pod: usize,
}

struct PublisherReport {
    generated: usize,
    acks: HashMap<String, Acked>,
    reconnects: usize,
    retries: usize,
}

struct Publisher {
    client: Client,
    index: usize,
    /// One new message every `interval` while publishing.
    interval: Duration,
    control: watch::Receiver<Control>,
    homecomings_seen: u64,
    progress: Arc<Progress>,
    /// To send, oldest first (retries go to the front).
    queue: VecDeque<Publish>,
    /// Sent and not answered yet, by request number (request id `p<number>`).
    in_flight: BTreeMap<u64, Publish>,
    acks: HashMap<String, Acked>,
    next_request: u64,
    generated: usize,
    next_new_at: Instant,
    reconnects: usize,
    retries: usize,
}

impl Publisher {
    fn new(
        client: Client,
        index: usize,
        interval: Duration,
        control: watch::Receiver<Control>,
        progress: Arc<Progress>,
    ) -> Publisher {
        Publisher {
            client,
            index,
            interval,
            control,
            homecomings_seen: 0,
            progress,
            queue: VecDeque::new(),
            in_flight: BTreeMap::new(),
            acks: HashMap::new(),
            next_request: 0,
            generated: 0,
            next_new_at: Instant::now(),
            reconnects: 0,
            retries: 0,
        }
    }

    async fn run(mut self) -> PublisherReport {
        let mut socket = self.client.connect_subscribed(self.client.home).await;
        self.next_new_at = Instant::now();
        loop {
            let phase = self.control.borrow().phase.clone();
            match phase {
                Phase::Publishing => self.generate_due(),
                Phase::Draining { until } | Phase::CatchingUp { until, .. } => {
                    if self.queue.is_empty() && self.in_flight.is_empty() {
                        break;
                    }
                    if Instant::now() > until {
                        self.give_up(socket.pod);
                        break;
                    }
                }
            }
            let next = if self.send_due(&mut socket).await {
                self.wait_for_something(&mut socket).await
            } else {
                Next::lost(socket.pod)
            };
            if let Next::Move { to, after } = next {
                self.requeue_in_flight();
                self.progress.set_in_flight(self.index, socket.pod, Vec::new());
                drop(socket);
                tokio::time::sleep(after).await;
                socket = self.client.connect_subscribed(to).await;
                self.reconnects += 1;
            }
            let in_flight = self.in_flight.values().map(|p| p.client_msg_id.clone()).collect();
            self.progress.set_in_flight(self.index, socket.pod, in_flight);
        }
        self.progress.set_in_flight(self.index, socket.pod, Vec::new());
        PublisherReport {
            generated: self.generated,
            acks: self.acks,
            reconnects: self.reconnects,
            retries: self.retries,
        }
    }

    /// New messages at the campaign's pace (also those due while reconnecting: a person keeps typing).
    fn generate_due(&mut self) {
        let now = Instant::now();
        while self.next_new_at <= now {
            let n = self.generated;
            self.queue.push_back(Publish {
                client_msg_id: format!("p{}-{n}", self.index),
                room: self.client.rooms[(n + self.index) % self.client.rooms.len()],
                first_sent: None,
                last_sent: None,
                attempts: 0,
                not_before: now,
            });
            self.generated += 1;
            self.next_new_at += self.interval;
        }
    }

    /// Sends what is due while the window allows; `false` when the connection failed.
    async fn send_due(&mut self, socket: &mut Socket) -> bool {
        while self.in_flight.len() < WINDOW {
            let now = Instant::now();
            let Some(due) = self.queue.iter().position(|p| p.not_before <= now) else { break };
            let mut publish = self.queue.remove(due).expect("index from position");
            publish.attempts += 1;
            if publish.attempts > 1 {
                self.retries += 1;
            }
            publish.first_sent.get_or_insert(now);
            publish.last_sent = Some(now);
            self.next_request += 1;
            let frame = json!({
                "type": "publish", "id": format!("p{}", self.next_request), "room": publish.room,
                "text": publish.client_msg_id, "client_msg_id": publish.client_msg_id,
            });
            self.in_flight.insert(self.next_request, publish);
            if !socket.send(&frame).await {
                return false;
            }
        }
        true
    }

    async fn wait_for_something(&mut self, socket: &mut Socket) -> Next {
        let wake = match self.control.borrow().phase {
            Phase::Publishing => self.next_new_at.saturating_duration_since(Instant::now()),
            _ => Duration::from_millis(100),
        };
        let wake = wake.clamp(Duration::from_millis(1), Duration::from_millis(100));
        tokio::select! {
            frame = socket.next() => match frame {
                Some(frame) => self.on_frame(frame, socket.pod),
                None => Next::lost(socket.pod),
            },
            _ = tokio::time::sleep(wake) => Next::Stay,
            changed = self.control.changed() => {
                let (home, pod) = (self.client.home, socket.pod);
                on_control(changed.is_ok(), &mut self.control, &mut self.homecomings_seen, home, pod).await
            }
        }
    }

    fn on_frame(&mut self, frame: Incoming, pod: usize) -> Next {
        match frame {
            Incoming::Ack { id, room, message_id, position } => {
                self.on_ack(&id, room, message_id, position, pod);
                Next::Stay
            }
            Incoming::Error { id: Some(id), code, detail, retry_after } => {
                self.on_error(&id, &code, &detail, retry_after, pod);
                Next::Stay
            }
            Incoming::Error { id: None, code, detail, .. } => {
                self.client
                    .findings
                    .note(format!("{}: error {code} from pod {pod}: {detail}", self.client.name));
                Next::Stay
            }
            Incoming::Reconnect { retry_after } => Next::Move { to: 1 - pod, after: retry_after },
            Incoming::Removed { room, reason } => {
                self.client
                    .findings
                    .note(format!("{}: removed from room {room}: {reason}", self.client.name));
                Next::Stay
            }
            Incoming::Unreadable(text) => {
                self.client
                    .findings
                    .note(format!("{}: unreadable frame from pod {pod}: {text}", self.client.name));
                Next::Stay
            }
            _ => Next::Stay,
        }
    }

    fn on_ack(&mut self, id: &str, room: i64, message_id: String, position: i64, pod: usize) {
        let name = &self.client.name;
        let Some(publish) = request_number(id).and_then(|n| self.in_flight.remove(&n)) else {
            self.client
                .findings
                .note(format!("{name}: an ack from pod {pod} for request {id}, not in flight"));
            return;
        };
        let cmid = publish.client_msg_id;
        if room != publish.room {
            self.client
                .findings
                .note(format!("{name}: {cmid} to room {} acked for room {room}", publish.room));
        }
        self.progress.acked(publish.first_sent.expect("sent"));
        let ack =
            Acked { client_msg_id: cmid.clone(), room, position, message_id, publisher: self.index, pod };
        if let Some(earlier) = self.acks.insert(cmid.clone(), ack.clone())
            && (earlier.message_id != ack.message_id || earlier.position != ack.position)
        {
            self.client.findings.note(format!(
                "{name}: client_msg_id {cmid} acked twice, differently: message {} at position {} (pod {}), then \
                 message {} at position {position} (pod {pod})",
                earlier.message_id, earlier.position, earlier.pod, ack.message_id
            ));
        }
    }

    fn on_error(&mut self, id: &str, code: &str, detail: &str, retry_after: Option<Duration>, pod: usize) {
        let name = &self.client.name;
        let Some(number) = request_number(id).filter(|n| self.in_flight.contains_key(n)) else {
            // An answer to a subscribe: the connection's state is unclear, so the next publish tells.
            self.client.findings.note(format!("{name}: error {code} from pod {pod} for {id}: {detail}"));
            return;
        };
        self.progress.error(code);
        let mut publish = self.in_flight.remove(&number).expect("checked");
        if retryable(code) {
            publish.not_before = Instant::now() + retry_after.unwrap_or(RETRY_DEFAULT);
            self.queue.push_front(publish);
        } else {
            self.client.findings.note(format!(
                "{name}: publish {} refused by pod {pod}: {code}: {detail}",
                publish.client_msg_id
            ));
        }
    }

    /// The connection is going: whatever it did not answer is sent again, in the same order, first.
    fn requeue_in_flight(&mut self) {
        for (_, publish) in std::mem::take(&mut self.in_flight).into_iter().rev() {
            self.queue.push_front(publish);
        }
    }

    /// Notes what never got acked, and how long the connection left the oldest attempt unanswered
    /// (a stuck connection shows here).
    fn give_up(&mut self, pod: usize) {
        let unacked: Vec<String> = self
            .in_flight
            .values()
            .chain(&self.queue)
            .map(|p| format!("{} (attempts: {})", p.client_msg_id, p.attempts))
            .collect();
        let oldest_unanswered = self.in_flight.values().filter_map(|p| p.last_sent).min();
        let waiting = oldest_unanswered.map(|sent| sent.elapsed()).unwrap_or_default();
        self.client.findings.note(format!(
            "{}: {} publishes not acked within {ACK_DEADLINE:?} after publishing stopped; {} of them in flight \
             on pod {pod}, the oldest sent {waiting:.0?} ago and not answered: {}",
            self.client.name,
            unacked.len(),
            self.in_flight.len(),
            some(&unacked)
        ));
    }
}

fn request_number(id: &str) -> Option<u64> {
    id.strip_prefix('p')?.parse().ok()
}

// ---------------------------------------------------------------------------------------------------
// Subscribers.

/// One room as a subscriber holds it: the merge of the live stream and of history fetched over REST.
struct RoomFeed {
    room: i64,
    /// Every message taken, in order: positions 1..=`last()`.
    delivered: Vec<Delivered>,
    /// Messages past a hole, waiting for it to be filled.
    waiting: BTreeMap<i64, Delivered>,
    /// The `since` of the current connection's subscribe.
    since: i64,
    /// The position the current connection must bring next.
    socket_next: i64,
    /// After `reload_history`, the socket may repeat positions up to here (REST brings them).
    overlap_until: i64,
    /// Messages dropped because the subscriber had them already.
    duplicates: usize,
}

impl RoomFeed {
    fn new(room: i64) -> RoomFeed {
        RoomFeed {
            room,
            delivered: Vec::new(),
            waiting: BTreeMap::new(),
            since: 0,
            socket_next: 1,
            overlap_until: 0,
            duplicates: 0,
        }
    }

    fn last(&self) -> i64 {
        self.delivered.len() as i64
    }

    /// A new connection subscribed with `since` = `last()`: it must bring `since + 1` next, and
    /// nothing at or before `since`.
    fn resumed(&mut self) {
        self.since = self.last();
        self.socket_next = self.since + 1;
        self.overlap_until = 0;
    }

    /// A message from the socket; the range to fetch over REST when the socket skipped some.
    fn take_from_socket(
        &mut self,
        message: Delivered,
        pod: usize,
        who: &str,
        findings: &Findings,
    ) -> Option<(i64, i64)> {
        let (room, position, expected) = (self.room, message.position, self.socket_next);
        let mut skipped = None;
        if position > expected {
            findings.note(format!(
                "{who}, room {room}: pod {pod} skipped positions {expected}..={} on the socket (subscribed since \
                 {}); fetching them from history",
                position - 1,
                self.since
            ));
            skipped = Some((expected - 1, position - 1));
        } else if position < expected && position > self.overlap_until {
            findings.note(format!(
                "{who}, room {room}: pod {pod} sent position {position} again on the socket (expected {expected}, \
                 subscribed since {}): {}",
                self.since,
                message.describe()
            ));
        }
        self.socket_next = self.socket_next.max(position + 1);
        self.take(message, &format!("pod {pod}"), who, findings);
        skipped
    }

    /// Merges a message: applies it when it is the next one, holds it past a hole, drops it when the
    /// subscriber has it (checking that it is the same message).
    fn take(&mut self, message: Delivered, source: &str, who: &str, findings: &Findings) {
        let (room, position) = (self.room, message.position);
        if position < 1 {
            findings.note(format!(
                "{who}, room {room}: {source} brought position {position}: {}",
                message.describe()
            ));
            return;
        }
        let had = if position <= self.last() {
            self.duplicates += 1;
            self.delivered.get(position as usize - 1)
        } else {
            self.waiting.get(&position)
        };
        if let Some(had) = had {
            if had.message_id != message.message_id {
                findings.note(format!(
                    "{who}, room {room}: position {position} is {} but {source} brought {}",
                    had.describe(),
                    message.describe()
                ));
            }
            return;
        }
        self.waiting.insert(position, message);
        while let Some(next) = self.waiting.remove(&(self.last() + 1)) {
            self.delivered.push(next);
        }
    }
}

/// A history range fetched over REST.
struct Fetched {
    room: i64,
    after: i64,
    up_to: i64,
    why: &'static str,
    result: Result<Vec<Delivered>, String>,
}

struct SubscriberReport {
    name: String,
    feeds: BTreeMap<i64, RoomFeed>,
    reconnects: usize,
    reloads: usize,
    fetches: usize,
    /// How it ended when it did not catch up.
    gave_up: Option<String>,
}

struct Subscriber {
    client: Client,
    control: watch::Receiver<Control>,
    homecomings_seen: u64,
    feeds: BTreeMap<i64, RoomFeed>,
    fetched_tx: mpsc::UnboundedSender<Fetched>,
    fetched_rx: mpsc::UnboundedReceiver<Fetched>,
    pending_fetches: usize,
    reconnects: usize,
    reloads: usize,
    fetches: usize,
}

/// Whether a subscriber is done.
enum Done {
    No,
    CaughtUp,
    GaveUp(String),
}

impl Subscriber {
    fn new(client: Client, control: watch::Receiver<Control>) -> Subscriber {
        let (fetched_tx, fetched_rx) = mpsc::unbounded_channel();
        let feeds = client.rooms.iter().map(|room| (*room, RoomFeed::new(*room))).collect();
        Subscriber {
            client,
            control,
            homecomings_seen: 0,
            feeds,
            fetched_tx,
            fetched_rx,
            pending_fetches: 0,
            reconnects: 0,
            reloads: 0,
            fetches: 0,
        }
    }

    /// Subscribes (before anyone publishes: positions start at 1), says so on `ready`, then follows
    /// the rooms until the campaign's goal or deadline.
    async fn run(mut self, ready: mpsc::Sender<()>) -> SubscriberReport {
        let mut socket = self.client.connect_subscribed(self.client.home).await;
        ready.send(()).await.expect("the campaign waits for its subscribers");
        let gave_up = loop {
            match self.done(socket.pod) {
                Done::No => {}
                Done::CaughtUp => break None,
                Done::GaveUp(state) => break Some(state),
            }
            if let Next::Move { to, after } = self.wait_for_something(&mut socket).await {
                drop(socket);
                tokio::time::sleep(after).await;
                socket = self.resume(to).await;
                self.reconnects += 1;
            }
        };
        SubscriberReport {
            name: self.client.name,
            feeds: self.feeds,
            reconnects: self.reconnects,
            reloads: self.reloads,
            fetches: self.fetches,
            gave_up,
        }
    }

    fn done(&self, pod: usize) -> Done {
        let control = self.control.borrow();
        let Phase::CatchingUp { goal, until } = &control.phase else { return Done::No };
        let caught_up =
            self.feeds.values().all(|feed| feed.last() >= goal.get(&feed.room).copied().unwrap_or(0));
        if caught_up && self.pending_fetches == 0 {
            return Done::CaughtUp;
        }
        if Instant::now() < *until {
            return Done::No;
        }
        Done::GaveUp(format!(
            "the subscriber gave up after {CATCH_UP:?} on pod {pod} with {} history fetches pending",
            self.pending_fetches
        ))
    }

    /// A new connection, to pod `prefer` if it can, subscribed with `since` per room.
    async fn resume(&mut self, mut prefer: usize) -> Socket {
        let deadline = Instant::now() + CONNECT_DEADLINE;
        loop {
            let mut socket = self.client.open_socket(prefer).await;
            let mut sent = true;
            for feed in self.feeds.values_mut() {
                feed.resumed();
                let (room, since) = (feed.room, feed.since);
                let frame =
                    json!({"type": "subscribe", "id": format!("s{room}"), "room": room, "since": since});
                sent = sent && socket.send(&frame).await;
            }
            if sent {
                return socket;
            }
            assert!(
                Instant::now() < deadline,
                "{}: could not resume within {CONNECT_DEADLINE:?}",
                self.client.name
            );
            prefer = 1 - socket.pod;
        }
    }

    async fn wait_for_something(&mut self, socket: &mut Socket) -> Next {
        tokio::select! {
            frame = socket.next() => match frame {
                Some(frame) => self.on_frame(frame, socket.pod),
                None => Next::lost(socket.pod),
            },
            Some(fetched) = self.fetched_rx.recv() => {
                self.on_fetched(fetched);
                Next::Stay
            }
            changed = self.control.changed() => {
                let (home, pod) = (self.client.home, socket.pod);
                on_control(changed.is_ok(), &mut self.control, &mut self.homecomings_seen, home, pod).await
            }
            _ = tokio::time::sleep(Duration::from_millis(250)) => Next::Stay,
        }
    }

    fn on_frame(&mut self, frame: Incoming, pod: usize) -> Next {
        let (name, findings) = (self.client.name.clone(), self.client.findings.clone());
        match frame {
            Incoming::Message(message) => {
                let room = message.room;
                let Some(feed) = self.feeds.get_mut(&room) else {
                    findings.note(format!(
                        "{name}: a message of room {room}, not subscribed: {}",
                        message.describe()
                    ));
                    return Next::Stay;
                };
                if let Some((after, up_to)) = feed.take_from_socket(message, pod, &name, &findings) {
                    self.fetch(room, after, up_to, "positions the socket skipped");
                }
                Next::Stay
            }
            Incoming::ReloadHistory { room, after, up_to } => {
                self.on_reload_history(room, after, up_to, pod);
                Next::Stay
            }
            Incoming::Error { code, retry_after, .. } if retryable(&code) => {
                // A subscribe the pod could not serve now: resume again, elsewhere.
                Next::Move { to: 1 - pod, after: retry_after.unwrap_or(RETRY_DEFAULT) }
            }
            Incoming::Error { id, code, detail, .. } => {
                findings.note(format!("{name}: error {code} from pod {pod} for {id:?}: {detail}"));
                Next::Move { to: 1 - pod, after: Duration::from_secs(1) }
            }
            Incoming::Reconnect { retry_after } => Next::Move { to: 1 - pod, after: retry_after },
            Incoming::Removed { room, reason } => {
                findings.note(format!("{name}: removed from room {room} by pod {pod}: {reason}"));
                Next::Stay
            }
            Incoming::Unreadable(text) => {
                findings.note(format!("{name}: unreadable frame from pod {pod}: {text}"));
                Next::Stay
            }
            Incoming::Subscribed { .. } | Incoming::Ack { .. } | Incoming::Other => Next::Stay,
        }
    }

    /// The pod will not replay `after + 1 ..= up_to`: fetch it; live messages after `up_to` follow.
    fn on_reload_history(&mut self, room: i64, after: i64, up_to: i64, pod: usize) {
        let (name, findings) = (&self.client.name, &self.client.findings);
        let Some(feed) = self.feeds.get_mut(&room) else {
            findings.note(format!("{name}: reload_history for room {room}, not subscribed"));
            return;
        };
        self.reloads += 1;
        // What this connection brought so far: the reload must start there, or positions are lost.
        let brought = feed.socket_next - 1;
        if after > brought {
            findings.note(format!(
                "{name}, room {room}: reload_history from pod {pod} after {after} up to {up_to}, but the client \
                 resumed since {} and has {brought}: positions {}..={after} would never come",
                feed.since,
                brought + 1
            ));
        }
        if up_to < after {
            findings.note(format!(
                "{name}, room {room}: reload_history from pod {pod} after {after} up to {up_to}"
            ));
        }
        feed.socket_next = feed.socket_next.max(up_to + 1);
        feed.overlap_until = feed.overlap_until.max(up_to);
        self.fetch(room, after.min(brought), up_to, "reload_history");
    }

    /// Fetches `after + 1 ..= up_to` of `room` over REST, alongside the live stream.
    fn fetch(&mut self, room: i64, after: i64, up_to: i64, why: &'static str) {
        if up_to <= after {
            return;
        }
        self.pending_fetches += 1;
        self.fetches += 1;
        let (api, who, done) = (self.client.api.clone(), self.client.who.clone(), self.fetched_tx.clone());
        tokio::spawn(async move {
            let result = history_range(&api, &who, room, after, up_to, Instant::now() + FETCH_DEADLINE).await;
            let _ = done.send(Fetched { room, after, up_to, why, result });
        });
    }

    fn on_fetched(&mut self, fetched: Fetched) {
        self.pending_fetches -= 1;
        let (name, findings) = (&self.client.name, &self.client.findings);
        let Fetched { room, after, up_to, why, result } = fetched;
        match result {
            Ok(messages) => {
                let feed = self.feeds.get_mut(&room).expect("fetched for a subscribed room");
                for message in messages {
                    feed.take(message, "history", name, findings);
                }
            }
            Err(failure) => findings.note(format!(
                "{name}, room {room}: history after {after} up to {up_to} ({why}) not served: {failure}"
            )),
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// History over REST.

/// Positions `after + 1 ..= up_to` of `room`, asking again from the last position received while a
/// page is short, and after `retry_after_ms` when the answer is 503; every position exactly once,
/// in order, or why not.
async fn history_range(
    api: &Api,
    who: &Member,
    room: i64,
    after: i64,
    up_to: i64,
    deadline: Instant,
) -> Result<Vec<Delivered>, String> {
    let mut got = Vec::new();
    let mut cursor = after;
    let mut last_answer = String::from("none");
    while cursor < up_to {
        if Instant::now() > deadline {
            return Err(format!(
                "history served positions after {after} only up to {cursor} of {up_to} in time; the last \
                 answer: {last_answer}"
            ));
        }
        let path = format!("/api/v1/rooms/{room}/messages?after={cursor}&up_to={up_to}");
        let (status, body) = api.call(Method::GET, &path, Some(&who.token), None).await;
        match status {
            StatusCode::OK => {
                let page =
                    page_messages(&body.0).ok_or_else(|| format!("GET {path}: 200 with {}", body.0))?;
                if page.is_empty() {
                    last_answer = format!("GET {path}: 200 with no messages");
                    tokio::time::sleep(RETRY_DEFAULT).await;
                    continue;
                }
                for message in page {
                    if message.room != room || message.position != cursor + 1 || message.position > up_to {
                        return Err(format!(
                            "GET {path}: after position {cursor} came room {} position {} ({}), expected room {room} \
                             position {}",
                            message.room,
                            message.position,
                            message.describe(),
                            cursor + 1
                        ));
                    }
                    cursor = message.position;
                    got.push(message);
                }
                last_answer = format!("GET {path}: 200 up to {cursor}");
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                let wait = find_number(&body.0, "retry_after_ms").map(Duration::from_millis);
                last_answer = format!("GET {path}: 503 {}", body.0);
                tokio::time::sleep(wait.unwrap_or(RETRY_DEFAULT)).await;
            }
            other => return Err(format!("GET {path}: {other} {}", body.0)),
        }
    }
    Ok(got)
}

/// The messages of a history page: its `messages` (or the page itself, if it is an array).
fn page_messages(body: &Value) -> Option<Vec<Delivered>> {
    let list = body.get("messages").unwrap_or(body).as_array()?;
    list.iter().map(Delivered::from_json).collect()
}

/// The first number called `field` anywhere in `body` (error bodies may nest it).
fn find_number(body: &Value, field: &str) -> Option<u64> {
    match body {
        Value::Object(map) => map
            .get(field)
            .and_then(Value::as_u64)
            .or_else(|| map.values().find_map(|v| find_number(v, field))),
        Value::Array(items) => items.iter().find_map(|v| find_number(v, field)),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------------
// The checks at the end.

/// Every ack, by room and position and by client message id.
struct Ledger {
    by_position: HashMap<i64, BTreeMap<i64, Acked>>,
    by_client_msg_id: HashMap<String, Acked>,
}

impl Ledger {
    /// Also checks that each room's acked positions are exactly 1..=n.
    fn of(published: &[PublisherReport], rooms: &[i64], problems: &mut Vec<String>) -> Ledger {
        let mut by_position: HashMap<i64, BTreeMap<i64, Acked>> =
            rooms.iter().map(|room| (*room, BTreeMap::new())).collect();
        let mut by_client_msg_id = HashMap::new();
        for ack in published.iter().flat_map(|p| p.acks.values()) {
            by_client_msg_id.insert(ack.client_msg_id.clone(), ack.clone());
            let room = by_position.entry(ack.room).or_default();
            match room.get(&ack.position) {
                Some(other) => problems.push(format!(
                    "room {}: position {} acked twice: to {} (message {}, publisher {}) and to {} (message {}, \
                     publisher {})",
                    ack.room,
                    ack.position,
                    other.client_msg_id,
                    other.message_id,
                    other.publisher,
                    ack.client_msg_id,
                    ack.message_id,
                    ack.publisher
                )),
                None => {
                    room.insert(ack.position, ack.clone());
                }
            }
        }
        for (room, acked) in &by_position {
            let last = acked.keys().last().copied().unwrap_or(0);
            if last != acked.len() as i64 {
                let holes = (1..=last).filter(|p| !acked.contains_key(p));
                problems.push(format!(
                    "room {room}: {} messages acked, at positions up to {last}: never acked: {}",
                    acked.len(),
                    ranges(holes)
                ));
            }
        }
        Ledger { by_position, by_client_msg_id }
    }

    /// The last acked position of each room.
    fn goal(&self, rooms: &[i64]) -> HashMap<i64, i64> {
        rooms.iter().map(|room| (*room, self.by_position[room].keys().last().copied().unwrap_or(0))).collect()
    }
}

/// Compares what arrived (in this order) with the acks of `room`: messages at other positions than
/// acked, and messages nobody got an ack for.
fn compare_with_acks(arrived: &[Delivered], acked: &BTreeMap<i64, Acked>) -> (Vec<String>, Vec<String>) {
    let (mut wrong, mut unacked) = (Vec::new(), Vec::new());
    for message in arrived {
        match acked.get(&message.position) {
            Some(ack) if ack.message_id == message.message_id => {}
            Some(ack) => wrong.push(format!(
                "position {}: {} where {} (client_msg_id {}) was acked",
                message.position,
                message.describe(),
                ack.message_id,
                ack.client_msg_id
            )),
            None => unacked.push(format!("position {}: {}", message.position, message.describe())),
        }
    }
    (wrong, unacked)
}

fn check_deliveries(subscriber: &SubscriberReport, ledger: &Ledger, problems: &mut Vec<String>) {
    let name = &subscriber.name;
    for (room, feed) in &subscriber.feeds {
        let acked = &ledger.by_position[room];
        let (wrong, unacked) = compare_with_acks(&feed.delivered, acked);
        if !wrong.is_empty() {
            problems
                .push(format!("{name}, room {room}: delivered other messages than acked: {}", some(&wrong)));
        }
        if !unacked.is_empty() {
            problems.push(format!("{name}, room {room}: delivered messages never acked: {}", some(&unacked)));
        }
        let goal = acked.keys().last().copied().unwrap_or(0);
        if feed.last() < goal {
            let missing = (feed.last() + 1..=goal).filter(|p| !feed.waiting.contains_key(p));
            problems.push(format!(
                "{name}, room {room}: acked but never delivered: positions {} (got 1..={} in order, then {} past \
                 the hole){}",
                ranges(missing),
                feed.last(),
                ranges(feed.waiting.keys().copied()),
                subscriber.gave_up.as_ref().map(|g| format!("; {g}")).unwrap_or_default()
            ));
        }
    }
}

fn check_history(
    stored: &BTreeMap<i64, Result<Vec<Delivered>, String>>,
    beyond: &BTreeMap<i64, Vec<Delivered>>,
    ledger: &Ledger,
    problems: &mut Vec<String>,
) {
    for (room, stored) in stored {
        match stored {
            // `history_range` checked that every position came once, in order.
            Ok(stored) => {
                let (wrong, unacked) = compare_with_acks(stored, &ledger.by_position[room]);
                if !wrong.is_empty() {
                    problems.push(format!(
                        "history of room {room} holds other messages than acked: {}",
                        some(&wrong)
                    ));
                }
                if !unacked.is_empty() {
                    problems.push(format!(
                        "history of room {room} holds messages never acked: {}",
                        some(&unacked)
                    ));
                }
            }
            Err(failure) => problems.push(format!("history of room {room} is not complete: {failure}")),
        }
    }
    for (room, extra) in beyond {
        if !extra.is_empty() {
            let extra: Vec<String> =
                extra.iter().map(|m| format!("position {}: {}", m.position, m.describe())).collect();
            problems.push(format!(
                "history of room {room} holds messages after the last acked one: {}",
                some(&extra)
            ));
        }
    }
}

/// No two messages (message id, room, position) for one client message id, wherever they showed.
fn check_client_msg_ids(
    ledger: &Ledger,
    subscribed: &[SubscriberReport],
    stored: &BTreeMap<i64, Result<Vec<Delivered>, String>>,
    problems: &mut Vec<String>,
) {
    let mut messages: HashMap<String, BTreeSet<(String, i64, i64)>> = HashMap::new();
    let mut without_id = BTreeSet::new();
    for ack in ledger.by_client_msg_id.values() {
        let message = (ack.message_id.clone(), ack.room, ack.position);
        messages.entry(ack.client_msg_id.clone()).or_default().insert(message);
    }
    let delivered = subscribed
        .iter()
        .flat_map(|s| s.feeds.values().flat_map(|f| f.delivered.iter().chain(f.waiting.values())));
    let in_history = stored.values().filter_map(|s| s.as_ref().ok()).flatten();
    for message in delivered.chain(in_history) {
        let Some(client_msg_id) = &message.client_msg_id else {
            without_id.insert(format!(
                "room {} position {}: {}",
                message.room, message.position, message.message_id
            ));
            continue;
        };
        let seen = (message.message_id.clone(), message.room, message.position);
        messages.entry(client_msg_id.clone()).or_default().insert(seen);
    }
    if !without_id.is_empty() {
        let without_id: Vec<String> = without_id.into_iter().collect();
        problems.push(format!("messages without a client_msg_id: {}", some(&without_id)));
    }
    let mut doubled: Vec<String> = messages
        .iter()
        .filter(|(_, seen)| seen.len() > 1)
        .map(|(id, seen)| {
            let seen: Vec<String> =
                seen.iter().map(|(m, room, p)| format!("{m} in room {room} at position {p}")).collect();
            format!("{id}: {}", seen.join(", "))
        })
        .collect();
    doubled.sort();
    if !doubled.is_empty() {
        problems.push(format!("client_msg_ids with more than one message: {}", some(&doubled)));
    }
}

fn summary(
    published: &[PublisherReport],
    subscribed: &[SubscriberReport],
    goal: &HashMap<i64, i64>,
    took: Duration,
) -> String {
    let sum = |f: &dyn Fn(&PublisherReport) -> usize| published.iter().map(f).sum::<usize>();
    let sub = |f: &dyn Fn(&SubscriberReport) -> usize| subscribed.iter().map(f).sum::<usize>();
    format!(
        "{} messages published, {} acked, last positions {goal:?}; publishers: {} reconnects, {} retries; {} \
         subscribers: {} reconnects, {} reload_history, {} history fetches, {} duplicates dropped; {took:.1?} in all",
        sum(&|p| p.generated),
        sum(&|p| p.acks.len()),
        sum(&|p| p.reconnects),
        sum(&|p| p.retries),
        subscribed.len(),
        sub(&|s| s.reconnects),
        sub(&|s| s.reloads),
        sub(&|s| s.fetches),
        sub(&|s| s.feeds.values().map(|f| f.duplicates).sum()),
    )
}

/// At most a few items, for messages.
fn some(items: &[String]) -> String {
    let shown = items.iter().take(8).cloned().collect::<Vec<_>>().join("; ");
    if items.len() > 8 { format!("{} in all, e.g. {shown}", items.len()) } else { shown }
}

/// Positions as ranges: `3..=7, 9, 12..=13` (at most 12 ranges shown).
fn ranges(positions: impl IntoIterator<Item = i64>) -> String {
    let mut runs: Vec<(i64, i64)> = Vec::new();
    for position in positions {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == position => *end = position,
            _ => runs.push((position, position)),
        }
    }
    if runs.is_empty() {
        return "none".to_owned();
    }
    let shown: Vec<String> = runs
        .iter()
        .take(12)
        .map(|(start, end)| if start == end { start.to_string() } else { format!("{start}..={end}") })
        .collect();
    let more = if runs.len() > 12 { format!(" and {} more ranges", runs.len() - 12) } else { String::new() };
    format!("{}{more}", shown.join(", "))
}

/// The subscribers' merge on its own (no stack): live messages around a reload from history end up
/// once each, in order, and nothing is reported.
#[test]
fn the_client_merge_applies_in_order_and_drops_repeats() {
    let message = |position: i64| Delivered {
        room: 7,
        position,
        message_id: format!("m{position}"),
        sender_id: 1,
        client_msg_id: Some(format!("c{position}")),
    };
    let findings = Findings::default();
    let mut feed = RoomFeed::new(7);
    for position in 1..=3 {
        assert_eq!(feed.take_from_socket(message(position), 0, "test", &findings), None);
    }
    // Back with since 3; the pod answers reload_history after 3 up to 6, then goes on live.
    feed.resumed();
    feed.socket_next = 7;
    feed.overlap_until = 6;
    for position in [7, 8] {
        assert_eq!(feed.take_from_socket(message(position), 1, "test", &findings), None);
    }
    assert_eq!(feed.last(), 3, "live messages wait for the reload");
    for position in [2, 4, 5, 6, 7] {
        feed.take(message(position), "history", "test", &findings);
    }
    assert_eq!(feed.delivered, (1..=8).map(message).collect::<Vec<_>>());
    assert_eq!(feed.duplicates, 2);
    // A socket that skips 9 reports it and asks for it.
    assert_eq!(feed.take_from_socket(message(10), 1, "test", &findings), Some((8, 9)));
    assert_eq!(findings.take().len(), 1);
    assert_eq!(ranges([1, 2, 3, 5, 7, 8]), "1..=3, 5, 7..=8");
}
