//! What a request's handler may use ([`Ctx`]: the pod, and who asks on which connection), and the
//! one way a request is served off its connection's task ([`Ctx::spawn_reply`]).
//!
//! Every handler has the same shape, `async fn handle(&Ctx, Req) -> Result<ServerFrame, Refusal>`:
//! the answer, or a refusal the connection turns into an error frame naming the request.

use std::future::Future;
use std::sync::Arc;

use bytestring::ByteString;
use natter_proto::MemberId;
use natter_proto::frames::ServerFrame;
use tokio::sync::OwnedSemaphorePermit;

use super::refusal::Refusal;
use crate::node::Node;
use crate::outbox::{ConnectionId, Outbox, Outgoing};
use crate::rate_limit::ConnectionLimits;

/// The pod, and the member and connection a request comes from. Cheap to clone: a request served
/// off the connection's task takes its own.
#[derive(Clone)]
pub(super) struct Ctx {
    pub(super) node: Arc<Node>,
    pub(super) member: MemberId,
    /// The member's display name, from their token.
    pub(super) name: Arc<str>,
    pub(super) connection: ConnectionId,
    /// The connection's outbound queue.
    pub(super) outbox: Outbox,
    /// The connection's id in presence heartbeats.
    pub(super) presence_key: Arc<str>,
    /// The connection's own rate limits.
    pub(super) limits: Arc<ConnectionLimits>,
}

impl Ctx {
    /// Serves request `id` off the connection's task (tracked by the pod's drain), then queues its
    /// answer, or its refusal naming `id`. `slot`, a publishing slot of the connection, is held until
    /// the answer is queued.
    pub(super) fn spawn_reply<F>(&self, id: String, slot: Option<OwnedSemaphorePermit>, answer: F)
    where
        F: Future<Output = Result<ServerFrame, Refusal>> + Send + 'static,
    {
        let frames = self.outbox.frames.clone();
        self.node.drain.spawn(async move {
            let frame = answer.await.unwrap_or_else(|refusal| refusal.answering(Some(id)));
            let text = ByteString::from(serde_json::to_string(&frame).expect("frames serialise"));
            // The connection may be gone by now; then nobody needs the answer.
            let _ = frames.send(Outgoing::Frame(text)).await;
            drop(slot);
        });
    }
}
