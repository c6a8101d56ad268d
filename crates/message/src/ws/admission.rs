//! Admitting a connection to a room: web's access check, and the race with a membership change that
//! is handled while web is being asked.
//!
//! The membership consumer invalidates the cache first and then removes the member's connections from
//! the hub. A connection that joins the hub after that removal, on an answer web gave before the
//! change, would stay subscribed. So after joining, a connection whose answer may have been overtaken
//! (its room's generation moved) asks again; any change after that finds it in the hub.

use natter_http::InternalCallError;
use natter_proto::{MemberId, RoomId};

use crate::hub::Hub;
use crate::outbox::{ConnectionId, Outbox};
use crate::upstream::access::AccessSource;
use crate::upstream::access_cache::AccessCache;

/// Who asks to join which room.
pub(super) struct Applicant<'a> {
    pub(super) room: RoomId,
    pub(super) member: MemberId,
    pub(super) connection: ConnectionId,
    pub(super) outbox: &'a Outbox,
}

/// The connection is in the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Admitted {
    /// The room's last message this pod delivered before the connection joined (see [`Hub::join`]).
    pub(super) delivered_before: Option<i64>,
}

/// Joins the room in the hub when the member may read it: `Ok(Some(_))`. On a refusal (`Ok(None)`)
/// the connection is not in the room afterwards, even if it was before. When web does not answer
/// (`Err`), a first check changes nothing; a failed second check leaves the room, to be safe.
pub(super) async fn join<S: AccessSource>(
    access: &AccessCache<S>,
    hub: &Hub,
    applicant: Applicant<'_>,
) -> Result<Option<Admitted>, InternalCallError> {
    let Applicant { room, member, connection, outbox } = applicant;
    let checked = access.check(room, member).await?;
    if !checked.access.may_read() {
        hub.leave(room, connection);
        return Ok(None);
    }
    let admitted = Admitted { delivered_before: hub.join(room, connection, member, outbox.clone()) };
    if !access.changed_since(&checked) {
        return Ok(Some(admitted));
    }
    let again = access.check(room, member).await;
    if again.as_ref().is_ok_and(|again| again.access.may_read()) {
        return Ok(Some(admitted));
    }
    hub.leave(room, connection);
    again.map(|_| None)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use tokio::sync::mpsc;

    use super::*;
    use crate::upstream::access::fake::{Answer, MEMBER, NOT_A_MEMBER, Scripted, UNAVAILABLE};

    struct Setup {
        source: Arc<Scripted>,
        access: Arc<AccessCache<Arc<Scripted>>>,
        hub: Arc<Hub>,
        outbox: Outbox,
    }

    fn setup(source: Scripted) -> Setup {
        let source = Arc::new(source);
        let access = Arc::new(AccessCache::new(Arc::clone(&source), Duration::from_secs(60)));
        let (frames, _) = mpsc::channel(8);
        let outbox = Outbox::new(frames);
        Setup { source, access, hub: Arc::new(Hub::new()), outbox }
    }

    impl Setup {
        async fn join(&self) -> Result<bool, InternalCallError> {
            let applicant = Applicant { room: 1, member: 7, connection: 10, outbox: &self.outbox };
            join(&self.access, &self.hub, applicant).await.map(|admitted| admitted.is_some())
        }
    }

    async fn outcome(answers: impl IntoIterator<Item = Answer>) -> (Result<bool, InternalCallError>, bool) {
        let setup = setup(Scripted::open(answers));
        let result = setup.join().await;
        (result, setup.hub.is_subscribed(1, 10))
    }

    #[tokio::test]
    async fn members_join_and_others_do_not() {
        assert!(matches!(outcome([MEMBER]).await, (Ok(true), true)));
        assert!(matches!(outcome([NOT_A_MEMBER]).await, (Ok(false), false)));
        assert!(matches!(outcome([UNAVAILABLE]).await, (Err(_), false)));
    }

    #[tokio::test]
    async fn a_refused_resubscribe_ends_the_subscription() {
        let setup = setup(Scripted::open([MEMBER, NOT_A_MEMBER]));
        assert!(setup.join().await.unwrap());
        setup.access.invalidate_member(1, 7);
        assert!(!setup.join().await.unwrap());
        assert!(!setup.hub.is_subscribed(1, 10));
    }

    #[tokio::test]
    async fn a_kick_handled_while_web_answers_is_not_missed() {
        // Web said "member" before the kick was committed; the kick's removal ran before the join.
        let setup = Arc::new(setup(Scripted::gated([MEMBER, NOT_A_MEMBER])));
        let joining = tokio::spawn({
            let setup = Arc::clone(&setup);
            async move { setup.join().await }
        });
        setup.source.started(1).await;
        setup.access.invalidate_member(1, 7);
        assert_eq!(setup.hub.remove(1, Some(7), &"removed".into()), 0, "not in the hub yet");
        setup.source.release_one();
        setup.source.release_one();
        assert!(!joining.await.unwrap().unwrap(), "asked again after joining and was refused");
        assert!(!setup.hub.is_subscribed(1, 10));
        assert_eq!(setup.source.calls(), 2);
    }

    #[tokio::test]
    async fn an_unrelated_change_costs_one_more_question_only() {
        let setup = Arc::new(setup(Scripted::gated([MEMBER, MEMBER])));
        let joining = tokio::spawn({
            let setup = Arc::clone(&setup);
            async move { setup.join().await }
        });
        setup.source.started(1).await;
        setup.access.invalidate_member(1, 8);
        setup.source.release_one();
        setup.source.release_one();
        assert!(joining.await.unwrap().unwrap());
        assert!(setup.hub.is_subscribed(1, 10));
    }
}
