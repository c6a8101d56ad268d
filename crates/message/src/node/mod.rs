//! The pod's spine: one [`Node`] owns what the pod's connections and consumers share.
//!
//! A message pod has three kinds of parts: the outside stores it writes and reads ([`Backends`]:
//! bus, history, shared counters), the services it asks ([`Upstream`]: web and presence), and its
//! own state (the [`Hub`] of connections, publishes waiting for positions, the [`Drain`]).
//! [`Node::start`] builds them once, in one order; connections get the node as `Arc<Node>`, and
//! `consumers::start` takes from it what each consumer reads.
//!
//! Tasks are never detached and forgotten: the bus consumers and history writers are watched as a
//! set (see `consumers`; one that ends makes the pod unready and exit), and the requests a
//! connection serves off its own task run on the node's request tracker ([`Drain::spawn`]), which a
//! draining pod waits for before it stops.

mod drain;

use std::sync::Arc;

use anyhow::Context;
use natter_bus::{EventBus, TopicKeeper};
use natter_history::HistoryStore;
use natter_kv::KeyValue;
use natter_proto::topics::Topic;

pub(crate) use self::drain::Drain;
use crate::delivery_lag::DeliveryLag;
use crate::hub::Hub;
use crate::pending_acks::PendingAcks;
use crate::rate_limit::MemberLimit;
use crate::seats::Seats;
use crate::settings::MessageSettings;
use crate::upstream::Upstream;

/// The outside systems a message pod uses.
pub struct Backends {
    pub bus: Arc<dyn EventBus>,
    pub history: Arc<dyn HistoryStore>,
    /// Shared counters (per-member publish limit); Redis in production, so the limit holds across pods.
    pub kv: Arc<dyn KeyValue>,
}

/// One message pod.
pub(crate) struct Node {
    pub(crate) settings: MessageSettings,
    pub(crate) backends: Backends,
    /// Web and presence.
    pub(crate) upstream: Upstream,
    /// This pod's connections and their subscriptions.
    pub(crate) hub: Arc<Hub>,
    /// Publishes waiting for their message's position.
    pub(crate) acks: Arc<PendingAcks>,
    /// How far behind the fan-out runs (publish admission control).
    pub(crate) delivery_lag: Arc<DeliveryLag>,
    /// Each member's publishes over every pod (in the shared key-value store).
    pub(crate) member_limit: MemberLimit,
    /// Recreates bus topics that vanished (readiness).
    pub(crate) topics: TopicKeeper,
    /// Shutting down: open connections and requests in flight.
    pub(crate) drain: Drain,
    /// This pod's connections' seats in calls.
    pub(crate) seats: Arc<Seats>,
}

impl Node {
    /// Creates the bus topics, keeps them, and connects to web and presence.
    pub(crate) async fn start(settings: MessageSettings, backends: Backends) -> anyhow::Result<Self> {
        let all: Vec<String> = Topic::ALL.iter().map(|t| t.name(&settings.topic_prefix)).collect();
        backends.bus.ensure_topics(&all).await.context("creating bus topics")?;
        let topics = TopicKeeper::start(Arc::clone(&backends.bus), all, settings.topic_check);
        let member_limit = MemberLimit::new(
            Arc::clone(&backends.kv),
            settings.publish_rate_per_member,
            settings.publish_rate_window,
        );
        let upstream = Upstream::connect(&settings).await;
        Ok(Self {
            seats: Arc::new(Seats::new(upstream.presence.clone())),
            upstream,
            hub: Arc::new(Hub::new()),
            acks: Arc::new(PendingAcks::default()),
            delivery_lag: Arc::default(),
            member_limit,
            topics,
            drain: Drain::default(),
            settings,
            backends,
        })
    }

    /// `Err` naming what is missing when the pod cannot serve: the bus, one of its topics, history
    /// or the shared key-value store.
    pub(crate) async fn check_backends(&self) -> Result<(), String> {
        let Backends { bus, history, kv } = &self.backends;
        bus.ping().await.map_err(|e| e.to_string())?;
        self.topics.ready().map_err(|e| e.to_string())?;
        history.ping().await.map_err(|e| e.to_string())?;
        kv.ping().await.map_err(|e| e.to_string())
    }
}
