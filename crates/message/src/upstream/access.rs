//! Asking web whether a member may use a room.

use std::future::Future;

use natter_http::{InternalCallError, InternalClient};
use natter_proto::http::RoomAccess;
use natter_proto::{MemberId, RoomId};

/// Where room access answers come from: web in production, a fake in tests.
pub(crate) trait AccessSource: Send + Sync + 'static {
    /// The member's current access to the room.
    fn fetch(
        &self,
        room: RoomId,
        member: MemberId,
    ) -> impl Future<Output = Result<RoomAccess, InternalCallError>> + Send;
}

pub(crate) struct RoomAccessClient {
    web: InternalClient,
}

impl RoomAccessClient {
    pub(crate) fn new(web: InternalClient) -> Self {
        Self { web }
    }
}

impl AccessSource for RoomAccessClient {
    async fn fetch(&self, room: RoomId, member: MemberId) -> Result<RoomAccess, InternalCallError> {
        self.web.get_json(&format!("/internal/rooms/{room}/members/{member}")).await
    }
}

/// A scripted [`AccessSource`] for tests.
#[cfg(test)]
pub(crate) mod fake {
    use std::collections::VecDeque;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use natter_proto::http::RoomRole;
    use tokio::sync::Semaphore;

    use super::*;

    /// The scripted answer of one fetch: a role (or none), or `Err` for "web unavailable".
    pub(crate) type Answer = Result<Option<RoomRole>, ()>;

    pub(crate) const MEMBER: Answer = Ok(Some(RoomRole::Member));
    pub(crate) const NOT_A_MEMBER: Answer = Ok(None);
    pub(crate) const UNAVAILABLE: Answer = Err(());

    /// Answers from a script, in order, counting calls. Every call waits for a permit of its gate, so
    /// a test can hold a fetch in flight; [`Scripted::open`] has the gate open.
    pub(crate) struct Scripted {
        answers: Mutex<VecDeque<Answer>>,
        calls: AtomicUsize,
        gate: Semaphore,
    }

    impl Scripted {
        pub(crate) fn open(answers: impl IntoIterator<Item = Answer>) -> Self {
            Self::with_permits(answers, Semaphore::MAX_PERMITS)
        }

        pub(crate) fn gated(answers: impl IntoIterator<Item = Answer>) -> Self {
            Self::with_permits(answers, 0)
        }

        fn with_permits(answers: impl IntoIterator<Item = Answer>, permits: usize) -> Self {
            Self {
                answers: Mutex::new(answers.into_iter().collect()),
                calls: AtomicUsize::new(0),
                gate: Semaphore::new(permits),
            }
        }

        /// Lets one waiting (or future) fetch answer.
        pub(crate) fn release_one(&self) {
            self.gate.add_permits(1);
        }

        pub(crate) fn calls(&self) -> usize {
            self.calls.load(Ordering::SeqCst)
        }

        /// Waits until `n` fetches have started.
        pub(crate) async fn started(&self, n: usize) {
            while self.calls() < n {
                tokio::task::yield_now().await;
            }
        }
    }

    impl AccessSource for std::sync::Arc<Scripted> {
        async fn fetch(&self, room: RoomId, member: MemberId) -> Result<RoomAccess, InternalCallError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            self.gate.acquire().await.expect("the gate never closes").forget();
            let answer = self.answers.lock().unwrap().pop_front().expect("an answer is scripted");
            let role = answer.map_err(|()| InternalCallError::Status {
                service: "web",
                status: reqwest::StatusCode::SERVICE_UNAVAILABLE,
            })?;
            Ok(RoomAccess {
                room_id: room,
                member_id: member,
                role,
                direct: false,
                read_only: None,
                muted_until_ms: None,
            })
        }
    }
}
