//! Telling every message pod who is in a call (topic `natter.calls`, event [`CallEvent::State`]),
//! at once after each change: a heartbeat that seated or unseated a connection, or a pod's lease
//! that ended. Pods pass it to the room's subscribers.
//!
//! Each announcement is the room's state read after the change, with its version: when two presence
//! instances announce the same room at about the same time, pods and clients keep the highest
//! version, so nobody ends on an older state.

use std::sync::Arc;

use natter_bus::EventBus;
use natter_proto::RoomId;
use natter_proto::events::CallEvent;
use natter_proto::topics::{Topic, room_key};

use crate::store::PresenceStore;

#[derive(Clone)]
pub(crate) struct CallAnnouncer {
    pub(crate) store: Arc<dyn PresenceStore>,
    pub(crate) bus: Arc<dyn EventBus>,
    pub(crate) topic: String,
}

impl CallAnnouncer {
    pub(crate) fn new(store: Arc<dyn PresenceStore>, bus: Arc<dyn EventBus>, topic_prefix: &str) -> Self {
        Self { store, bus, topic: Topic::Calls.name(topic_prefix) }
    }

    /// Publishes the state of each of `rooms`' calls. Soft, like all presence: a failure is logged
    /// (the next change of the room announces it again, and subscribing reads it afresh).
    pub(crate) async fn announce(&self, rooms: &[RoomId]) {
        for &room in rooms {
            let state = match self.store.call(room, crate::app::now_ms()).await {
                Ok(state) => state,
                Err(e) => {
                    tracing::warn!(error = %e, room.id = room, "call state not announced");
                    continue;
                }
            };
            let participants = state.participants.len();
            let payload = serde_json::to_vec(&CallEvent::State(state)).expect("events serialise");
            match self.bus.publish(&self.topic, &room_key(room), payload).await {
                Ok(_) => tracing::debug!(room.id = room, participants, "call state announced"),
                Err(e) => tracing::warn!(error = %e, room.id = room, "call state not announced"),
            }
        }
    }
}
