//! The pod's bus consumers, started together by [`start`] and watched as one set.
//!
//! Fan-out consumers (every pod reads every event of their topic and tells its own connections):
//! `messages` (sequenced messages, in position order), `typing`, `presence`, `calls`, `whispers`, `edits`,
//! and
//! `membership` (drops cached access answers and removes members who lost a room). History writers
//! (one consumer group shared by every pod, so each record is written once) live in `writers`.
//!
//! They run as the pod's tracked workers ([`natter_runtime::workers`]), with the presence heartbeat.
//! What happens when one dies: a worker loop ends only when something is wrong (it returned or
//! panicked). The set notices at once: `/readyz` answers 503 from then on and
//! `Application::run_until_stopped` returns an error, so the process exits non-zero and its
//! orchestrator starts it again. A pod is never left up without, say, its fan-out.

mod calls;
mod each_event;
mod edits;
mod membership;
mod messages;
mod presence;
mod typing;
mod whispers;

use std::sync::Arc;

use anyhow::Context;
use natter_proto::topics::Topic;

use crate::node::Node;
use crate::writers;
use natter_runtime::workers::{WorkerSet, Workers};

/// Subscribes every consumer and writer of the pod and starts them with the presence heartbeat; they
/// are reading when this returns, so anything published afterwards reaches the pod's connections.
pub(crate) async fn start(node: &Node) -> anyhow::Result<Workers> {
    let bus = &node.backends.bus;
    let prefix = &node.settings.topic_prefix;
    let fan_out = |topic: Topic, what: &'static str| {
        let topic = [topic.name(prefix)];
        async move { bus.subscribe_all(&topic).await.with_context(|| format!("subscribing to {what}")) }
    };
    let shared = |topics: Vec<String>, group: &str, what: &'static str| {
        let group = format!("{prefix}{group}");
        async move { bus.subscribe_shared(&topics, &group).await.context(what) }
    };
    let mut set = WorkerSet::default();
    set.add("presence heartbeat", node.upstream.presence.heartbeat());

    // Messages: published to the publish log (the room message topics), placed and stored by the
    // sequencer (one shared group), announced on the sequenced topic, which every pod fans out.
    let delivery = messages::FanOut {
        hub: Arc::clone(&node.hub),
        history: Arc::clone(&node.backends.history),
        acks: Arc::clone(&node.acks),
        lag: Arc::clone(&node.delivery_lag),
    };
    let stream = fan_out(Topic::Sequenced, "room events").await?;
    set.add("fan-out of messages", messages::run(stream, delivery));
    let publish_log = Topic::MESSAGES.iter().map(|t| t.name(prefix)).collect();
    let stream =
        shared(publish_log, "natter-history-writer", "joining the sequencers (history writers)").await?;
    let announcer = writers::Announcer { bus: Arc::clone(bus), topic: Topic::Sequenced.name(prefix) };
    let history = Arc::clone(&node.backends.history);
    set.add("sequencer", writers::sequencer::run(stream, history, announcer));

    let stream = fan_out(Topic::Membership, "membership changes").await?;
    let (access, hub) = (Arc::clone(&node.upstream.access), Arc::clone(&node.hub));
    set.add("membership changes", membership::run(stream, access, hub, Arc::clone(&node.seats)));
    let stream = fan_out(Topic::Typing, "typing").await?;
    set.add("fan-out of typing", typing::run(stream, Arc::clone(&node.hub)));
    let stream = fan_out(Topic::Presence, "presence changes").await?;
    set.add("fan-out of presence", presence::run(stream, Arc::clone(&node.hub)));
    let stream = fan_out(Topic::Whispers, "whispers").await?;
    set.add("fan-out of whispers", whispers::run(stream, Arc::clone(&node.hub)));
    let stream = fan_out(Topic::Calls, "calls").await?;
    set.add("fan-out of calls", calls::run(stream, Arc::clone(&node.hub), Arc::clone(&node.seats)));

    // Edits and deletions: every pod tells its subscribers; one shared group, of its own, writes.
    let stream = fan_out(Topic::Edits, "edits").await?;
    set.add("fan-out of edits", edits::run(stream, Arc::clone(&node.hub)));
    let edits_topic = vec![Topic::Edits.name(prefix)];
    let stream = shared(edits_topic, "natter-history-edits", "joining the edit writers").await?;
    let announcer = writers::Announcer { bus: Arc::clone(bus), topic: Topic::Edits.name(prefix) };
    set.add("edit writer", writers::edits::run(stream, Arc::clone(&node.backends.history), announcer));

    Ok(Workers::start(set))
}
