//! This pod's call seats: which of its connections is in which room's call, under which session id.
//!
//! The pod is the truth for its own connections: a seat is taken and given up here, and reported to
//! presence with the connection ([`PresenceReporter::seated`]), which tells everyone who is in the
//! call. Signals are checked against seats here on both ends: the sender's pod relays only from a
//! connection seated in the room's call, and the receiver's pod delivers only to the connection
//! seated as the addressed session in that same call. Neither end has to trust the other's view of
//! the call, and no check waits for presence.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytestring::ByteString;
use natter_proto::calls::{CallMedia, CallParticipant, CallSeat};
use natter_proto::events::SignalRelayed;
use natter_proto::frames::ServerFrame;
use natter_proto::{MemberId, RoomId};

use crate::delivery_lag::now_ms;
use crate::outbox::{ConnectionId, Outbox, Outgoing};
use crate::upstream::presence_reporter::PresenceReporter;

/// Who takes a seat: one connection of one member.
pub(crate) struct Sitter<'a> {
    pub(crate) member: MemberId,
    pub(crate) name: &'a str,
    pub(crate) connection: ConnectionId,
    pub(crate) presence_key: &'a Arc<str>,
    pub(crate) outbox: &'a Outbox,
}

struct Seat {
    room: RoomId,
    connection: ConnectionId,
    presence_key: Arc<str>,
    outbox: Outbox,
    participant: CallParticipant,
}

#[derive(Default)]
struct Table {
    by_session: HashMap<String, Seat>,
    by_connection: HashMap<ConnectionId, String>,
}

impl Table {
    fn remove_connection(&mut self, connection: ConnectionId) -> Option<Seat> {
        let session = self.by_connection.remove(&connection)?;
        self.by_session.remove(&session)
    }
}

pub(crate) struct Seats {
    table: Mutex<Table>,
    reporter: PresenceReporter,
}

/// What [`Seats::take`] did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Taken {
    pub(crate) session: String,
    /// The room whose call the connection left to take this seat.
    pub(crate) left: Option<RoomId>,
}

impl Seats {
    pub(crate) fn new(reporter: PresenceReporter) -> Self {
        Self { table: Mutex::default(), reporter }
    }

    /// Seats whose reports go nowhere, for tests.
    #[cfg(test)]
    pub(crate) fn for_test() -> Self {
        natter_runtime::install_tls_provider();
        let presence = natter_http::InternalClient::new("presence", "http://127.0.0.1:9", "t".into());
        Self::new(PresenceReporter::new(presence, "pod".into(), std::time::Duration::from_secs(60)))
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Seats `sitter` in `room`'s call sending `media`. Already there: the media change, the session
    /// stays. Seated elsewhere: that seat is given up first (one call per connection).
    pub(crate) fn take(&self, sitter: Sitter<'_>, room: RoomId, media: CallMedia) -> Taken {
        let mut table = self.table();
        let mut left = None;
        let session = match table.by_connection.get(&sitter.connection).cloned() {
            Some(session) if table.by_session[&session].room == room => session,
            Some(_) => {
                left = table.remove_connection(sitter.connection).map(|seat| seat.room);
                self.new_seat(&mut table, &sitter, room)
            }
            None => self.new_seat(&mut table, &sitter, room),
        };
        let seat = table.by_session.get_mut(&session).expect("seated above");
        seat.participant.media = media;
        let reported = CallSeat { room, participant: seat.participant.clone() };
        drop(table);
        self.reporter.seated(sitter.presence_key, Some(reported));
        Taken { session, left }
    }

    fn new_seat(&self, table: &mut Table, sitter: &Sitter<'_>, room: RoomId) -> String {
        let session = uuid::Uuid::now_v7().simple().to_string();
        let participant = CallParticipant {
            session: session.clone(),
            member_id: sitter.member,
            name: sitter.name.to_owned(),
            media: CallMedia::default(),
            since_ms: now_ms(),
        };
        let seat = Seat {
            room,
            connection: sitter.connection,
            presence_key: Arc::clone(sitter.presence_key),
            outbox: sitter.outbox.clone(),
            participant,
        };
        table.by_connection.insert(sitter.connection, session.clone());
        table.by_session.insert(session.clone(), seat);
        session
    }

    /// The session of `connection` in `room`'s call, if it is in it.
    pub(crate) fn session_in(&self, connection: ConnectionId, room: RoomId) -> Option<String> {
        let table = self.table();
        let session = table.by_connection.get(&connection)?;
        (table.by_session[session].room == room).then(|| session.clone())
    }

    /// `connection` leaves `room`'s call (any call: `None`); whether it was in it.
    pub(crate) fn leave(&self, connection: ConnectionId, room: Option<RoomId>) -> bool {
        let mut table = self.table();
        let Some(session) = table.by_connection.get(&connection) else { return false };
        if room.is_some_and(|room| table.by_session[session].room != room) {
            return false;
        }
        let seat = table.remove_connection(connection).expect("looked up above");
        drop(table);
        self.reporter.seated(&seat.presence_key, None);
        true
    }

    /// The connection closed: its seat goes with it (presence hears of the close itself).
    pub(crate) fn closed(&self, connection: ConnectionId) {
        self.table().remove_connection(connection);
    }

    /// `member` (everyone: `None`) lost `room`: their connections leave its call at once. How many
    /// seats were given up.
    pub(crate) fn remove(&self, room: RoomId, member: Option<MemberId>) -> usize {
        let mut table = self.table();
        let leaving: Vec<ConnectionId> = table
            .by_session
            .values()
            .filter(|s| s.room == room && member.is_none_or(|m| s.participant.member_id == m))
            .map(|s| s.connection)
            .collect();
        let gone: Vec<Seat> = leaving.into_iter().filter_map(|c| table.remove_connection(c)).collect();
        drop(table);
        for seat in &gone {
            self.reporter.seated(&seat.presence_key, None);
        }
        gone.len()
    }

    /// Queues `signal` for the connection seated as its `to` in its room's call, if it is on this
    /// pod; whether it was.
    pub(crate) fn deliver(&self, signal: &SignalRelayed) -> bool {
        let table = self.table();
        let Some(seat) = table.by_session.get(&signal.to) else { return false };
        if seat.room != signal.room_id {
            return false;
        }
        let frame = ServerFrame::Signal {
            room: signal.room_id,
            from: signal.from.clone(),
            from_member: signal.from_member,
            data: signal.data.clone(),
        };
        let text = ByteString::from(serde_json::to_string(&frame).expect("frames serialise"));
        seat.outbox.offer(Outgoing::Frame(text), seat.connection, seat.room)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use tokio::sync::mpsc;

    use super::*;

    fn seats() -> Seats {
        Seats::for_test()
    }

    struct Device {
        member: MemberId,
        connection: ConnectionId,
        key: Arc<str>,
        outbox: Outbox,
        frames: mpsc::Receiver<Outgoing>,
    }

    fn device(member: MemberId, connection: ConnectionId) -> Device {
        let (tx, frames) = mpsc::channel(8);
        Device { member, connection, key: format!("c{connection}").into(), outbox: Outbox::new(tx), frames }
    }

    impl Device {
        fn sitter(&self) -> Sitter<'_> {
            Sitter {
                member: self.member,
                name: "someone",
                connection: self.connection,
                presence_key: &self.key,
                outbox: &self.outbox,
            }
        }
    }

    fn signal(room: RoomId, from: &str, to: &str) -> SignalRelayed {
        SignalRelayed {
            room_id: room,
            from: from.into(),
            from_member: 1,
            to: to.into(),
            data: json!({"candidate": "x"}),
        }
    }

    #[test]
    fn one_seat_per_connection_and_media_changes_keep_the_session() {
        let seats = seats();
        let phone = device(1, 10);
        let first = seats.take(phone.sitter(), 5, CallMedia::default());
        assert_eq!(first.left, None);
        let talking = CallMedia { audio: true, ..CallMedia::default() };
        let again = seats.take(phone.sitter(), 5, talking);
        assert_eq!(again, Taken { session: first.session.clone(), left: None }, "same seat");
        let moved = seats.take(phone.sitter(), 6, talking);
        assert_eq!(moved.left, Some(5));
        assert_ne!(moved.session, first.session);
        assert_eq!(seats.session_in(10, 5), None);
        assert_eq!(seats.session_in(10, 6), Some(moved.session));
        assert!(!seats.leave(10, Some(5)), "not in room 5's call");
        assert!(seats.leave(10, Some(6)));
        assert_eq!(seats.session_in(10, 6), None);
    }

    #[test]
    fn signals_reach_only_the_addressed_seat_in_the_same_room() {
        let seats = seats();
        let mut ann = device(1, 10);
        let mut ben = device(2, 11);
        let a = seats.take(ann.sitter(), 5, CallMedia::default()).session;
        let b = seats.take(ben.sitter(), 5, CallMedia::default()).session;
        assert!(seats.deliver(&signal(5, &a, &b)));
        let Ok(Outgoing::Frame(text)) = ben.frames.try_recv() else { panic!("ben gets it") };
        let frame: ServerFrame = serde_json::from_str(&text).unwrap();
        assert!(matches!(frame, ServerFrame::Signal { room: 5, ref from, .. } if *from == a));
        assert!(ann.frames.try_recv().is_err(), "nobody else");
        assert!(!seats.deliver(&signal(6, &a, &b)), "the session is in room 5's call, not 6's");
        assert!(!seats.deliver(&signal(5, &a, "unknown")));
        seats.closed(11);
        assert!(!seats.deliver(&signal(5, &a, &b)), "a closed connection gets nothing");
    }

    #[test]
    fn losing_the_room_gives_up_the_member_s_seats_there_only() {
        let seats = seats();
        let (ann_phone, ann_laptop, ben) = (device(1, 10), device(1, 11), device(2, 12));
        seats.take(ann_phone.sitter(), 5, CallMedia::default());
        seats.take(ann_laptop.sitter(), 6, CallMedia::default());
        seats.take(ben.sitter(), 5, CallMedia::default());
        assert_eq!(seats.remove(5, Some(1)), 1);
        assert_eq!(seats.session_in(10, 5), None);
        assert!(seats.session_in(11, 6).is_some(), "her seat in another room stays");
        assert!(seats.session_in(12, 5).is_some(), "others stay");
        assert_eq!(seats.remove(5, None), 1, "a deleted room empties its call");
    }
}
