//! Every pod reads every membership change (fan-out subscription to `Topic::Membership`), drops the
//! cached access answers it concerns and, when the change takes the room away, removes the member's
//! connections from the room (and from its call) at once, so a kicked or banned member stops
//! receiving it.

use std::sync::Arc;

use bytestring::ByteString;
use natter_bus::BusStream;
use natter_proto::events::{MembershipChange, MembershipChanged};
use natter_proto::frames::ServerFrame;

use crate::hub::Hub;
use crate::seats::Seats;
use crate::upstream::access::AccessSource;
use crate::upstream::access_cache::AccessCache;

pub(crate) async fn run<S: AccessSource>(
    stream: Box<dyn BusStream>,
    access: Arc<AccessCache<S>>,
    hub: Arc<Hub>,
    seats: Arc<Seats>,
) {
    super::each_event::each_event(stream, "membership", |event: MembershipChanged, _| {
        apply(&event, &access, &hub, &seats);
    })
    .await;
}

/// Invalidates first, then removes: a subscribe racing with the change either is removed here or
/// sees the invalidation afterwards and asks web again (see `ws/admission.rs`).
fn apply<S: AccessSource>(event: &MembershipChanged, access: &AccessCache<S>, hub: &Hub, seats: &Seats) {
    let room = event.room_id;
    match event.member_id {
        Some(member) => access.invalidate_member(room, member),
        None => access.invalidate_room(room),
    }
    if event.change.removes_access() {
        let frame = ServerFrame::Removed { room, reason: reason(event.change).to_owned() };
        let frame = ByteString::from(serde_json::to_string(&frame).expect("frames serialise"));
        let removed = hub.remove(room, event.member_id, &frame);
        let left_call = seats.remove(room, event.member_id);
        tracing::debug!(room.id = room, member.id = event.member_id, change = ?event.change, removed, left_call, "access removed");
    } else {
        tell_room_list(event, hub);
    }
    if changes_members(event.change) {
        let frame = ByteString::from(
            serde_json::to_string(&ServerFrame::MembersChanged { room }).expect("frames serialise"),
        );
        hub.deliver(room, &frame);
    }
}

/// Whether the change alters the room's member list as its members see it.
fn changes_members(change: MembershipChange) -> bool {
    matches!(
        change,
        MembershipChange::Joined
            | MembershipChange::Left
            | MembershipChange::Kicked
            | MembershipChange::Banned
            | MembershipChange::RoleChanged
            | MembershipChange::Muted
            | MembershipChange::Unmuted
    )
}

/// A change the member's room list shows (a room joined, a role, a rename): the member's own
/// connections hear about their own changes, even without a subscription to the room (a direct chat
/// someone else just started); room-wide changes go to the room's subscribers.
fn tell_room_list(event: &MembershipChanged, hub: &Hub) {
    let room = event.room_id;
    let frame = ServerFrame::RoomChanged { room, change: event.change };
    let frame = ByteString::from(serde_json::to_string(&frame).expect("frames serialise"));
    let told = match event.member_id {
        Some(member) => hub.deliver_to_member(member, room, &frame),
        None => hub.deliver(room, &frame),
    };
    tracing::debug!(room.id = room, member.id = event.member_id, change = ?event.change, told, "room list changed");
}

/// What the client is told.
fn reason(change: MembershipChange) -> &'static str {
    match change {
        MembershipChange::Left => "you left this room",
        MembershipChange::Kicked => "you were removed from this room",
        MembershipChange::Banned => "you were banned from this room",
        MembershipChange::RoomDeleted => "the room was deleted",
        _ => "you no longer have access to this room",
    }
}

#[cfg(test)]
mod tests {
    use natter_bus::{EventBus, MemoryBus};
    use natter_proto::topics::{Topic, room_key};
    use natter_proto::{MemberId, RoomId};
    use tokio::sync::mpsc;

    use std::time::Duration;

    use super::*;
    use crate::outbox::{Outbox, Outgoing};
    use crate::upstream::access::fake::{Answer, MEMBER, Scripted};

    fn cache(answers: impl IntoIterator<Item = Answer>) -> AccessCache<Arc<Scripted>> {
        AccessCache::new(Arc::new(Scripted::open(answers)), Duration::from_secs(60))
    }

    fn connection(hub: &Hub, id: u64, member: MemberId, rooms: &[RoomId]) -> mpsc::Receiver<Outgoing> {
        let (frames, receiver) = mpsc::channel(8);
        let outbox = Outbox::new(frames);
        for &room in rooms {
            hub.join(room, id, member, outbox.clone());
        }
        receiver
    }

    fn removed(room: RoomId, reason: &str) -> Outgoing {
        let frame = ServerFrame::Removed { room, reason: reason.to_owned() };
        Outgoing::Removed { room, frame: serde_json::to_string(&frame).unwrap().into() }
    }

    #[tokio::test]
    async fn a_kick_published_by_web_removes_the_member_from_the_room() {
        let bus = MemoryBus::new(100);
        let topic = Topic::Membership.name("test.");
        bus.ensure_topics(std::slice::from_ref(&topic)).await.unwrap();
        let stream = bus.subscribe_all(std::slice::from_ref(&topic)).await.unwrap();
        let hub = Arc::new(Hub::new());
        let access = Arc::new(cache([]));
        let mut kicked = connection(&hub, 1, 7, &[5, 6]);
        let mut stays = connection(&hub, 2, 8, &[5]);
        let seats = Arc::new(Seats::for_test());
        let consumer = tokio::spawn(run(stream, Arc::clone(&access), Arc::clone(&hub), seats));

        bus.publish(&topic, &room_key(5), b"not json".to_vec()).await.unwrap();
        let event = MembershipChanged { room_id: 5, member_id: Some(7), change: MembershipChange::Kicked };
        bus.publish(&topic, &room_key(5), serde_json::to_vec(&event).unwrap()).await.unwrap();

        let notice = tokio::time::timeout(Duration::from_secs(1), kicked.recv()).await.unwrap();
        assert_eq!(notice, Some(removed(5, "you were removed from this room")));
        assert!(!hub.is_subscribed(5, 1));
        assert!(hub.is_subscribed(6, 1), "other rooms are untouched");
        assert!(hub.is_subscribed(5, 2), "other members are untouched");
        let members = ServerFrame::MembersChanged { room: 5 };
        let told = tokio::time::timeout(Duration::from_secs(1), stays.recv()).await.unwrap();
        assert_eq!(
            told,
            Some(Outgoing::Frame(serde_json::to_string(&members).unwrap().into())),
            "the others re-read the members"
        );
        assert!(kicked.try_recv().is_err(), "the kicked member hears nothing more of the room");
        consumer.abort();
    }

    #[tokio::test]
    async fn a_member_hears_of_a_room_they_joined_on_every_connection_even_unsubscribed() {
        let hub = Hub::new();
        let access = cache([]);
        let (frames, mut elsewhere) = mpsc::channel(8);
        hub.connected(7, 1, Outbox::new(frames));
        let (frames, mut stranger) = mpsc::channel(8);
        hub.connected(8, 2, Outbox::new(frames));
        let event = MembershipChanged { room_id: 5, member_id: Some(7), change: MembershipChange::Joined };
        apply(&event, &access, &hub, &Seats::for_test());
        let frame = ServerFrame::RoomChanged { room: 5, change: MembershipChange::Joined };
        let expected = Outgoing::Frame(serde_json::to_string(&frame).unwrap().into());
        assert_eq!(elsewhere.try_recv().ok(), Some(expected));
        assert!(stranger.try_recv().is_err(), "only the member is told");
        hub.disconnected(7, 1);
        apply(&event, &access, &hub, &Seats::for_test());
        assert!(elsewhere.try_recv().is_err(), "a closed connection is forgotten");
    }

    #[tokio::test]
    async fn a_rename_reaches_the_rooms_subscribers() {
        let hub = Hub::new();
        let access = cache([]);
        let mut reader = connection(&hub, 1, 7, &[5]);
        let mut elsewhere = connection(&hub, 2, 8, &[6]);
        let event = MembershipChanged { room_id: 5, member_id: None, change: MembershipChange::RoomEdited };
        apply(&event, &access, &hub, &Seats::for_test());
        let frame = ServerFrame::RoomChanged { room: 5, change: MembershipChange::RoomEdited };
        assert_eq!(
            reader.try_recv().ok(),
            Some(Outgoing::Frame(serde_json::to_string(&frame).unwrap().into()))
        );
        assert!(elsewhere.try_recv().is_err());
    }

    #[tokio::test]
    async fn changes_that_keep_access_invalidate_and_refresh_the_member_list() {
        let hub = Hub::new();
        let access = cache([MEMBER]);
        let mut muted = connection(&hub, 1, 7, &[5]);
        let before = access.check(5, 7).await.unwrap();
        let event = MembershipChanged { room_id: 5, member_id: Some(7), change: MembershipChange::Muted };
        apply(&event, &access, &hub, &Seats::for_test());
        assert!(access.changed_since(&before));
        assert!(hub.is_subscribed(5, 1));
        let members = ServerFrame::MembersChanged { room: 5 };
        assert_eq!(
            muted.try_recv().ok(),
            Some(Outgoing::Frame(serde_json::to_string(&members).unwrap().into()))
        );
        assert!(muted.try_recv().is_err(), "nothing else");
    }

    #[tokio::test]
    async fn a_deleted_room_removes_everyone() {
        let hub = Hub::new();
        let access = cache([]);
        let mut first = connection(&hub, 1, 7, &[5, 6]);
        let mut second = connection(&hub, 2, 8, &[5]);
        let event = MembershipChanged { room_id: 5, member_id: None, change: MembershipChange::RoomDeleted };
        apply(&event, &access, &hub, &Seats::for_test());
        assert_eq!(hub.subscribers(5), 0);
        assert_eq!(hub.subscribers(6), 1);
        assert_eq!(first.try_recv().ok(), Some(removed(5, "the room was deleted")));
        assert_eq!(second.try_recv().ok(), Some(removed(5, "the room was deleted")));
    }

    #[test]
    fn every_change_that_removes_access_has_its_own_reason() {
        use MembershipChange::*;
        for change in [Left, Kicked, Banned, RoomDeleted] {
            assert!(change.removes_access());
            assert_ne!(reason(change), reason(Joined), "{change:?}");
        }
    }
}
