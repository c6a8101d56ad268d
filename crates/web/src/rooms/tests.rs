//! The room rules on their own: SQLite in memory and the in-process bus, no web server. What a
//! member may do to a room and to other members, and what the rules announce to message pods.

use std::sync::Arc;

use natter_bus::{EventBus, MemoryBus};
use natter_db::{Db, NewMember, Role, Visibility, members, memberships};
use natter_proto::events::{MembershipChange, MembershipChanged};
use natter_proto::rooms::NewRoom;
use natter_proto::topics::Topic;

use super::{RoomContext, RoomError, Rules, joining, manage, moderation};

struct World {
    db: Db,
    bus: Arc<MemoryBus>,
}

impl World {
    async fn new() -> Self {
        let bus = Arc::new(MemoryBus::new(1000));
        bus.ensure_topics(&[Topic::Membership.name("")]).await.unwrap();
        Self { db: Db::open_sqlite(":memory:").unwrap(), bus }
    }

    fn rules(&self) -> Rules<'_> {
        Rules { db: &self.db, bus: self.bus.as_ref(), topic_prefix: "" }
    }

    async fn member(&self, name: &str) -> i64 {
        let new = NewMember { username: name, display_name: name, password_hash: "x" };
        members::create(&mut self.db.conn().await.unwrap(), new).await.unwrap().id
    }

    async fn room(&self, owner: i64, visibility: Visibility) -> i64 {
        let new =
            NewRoom { name: format!("room of {owner}"), topic: String::new(), visibility, capacity: None };
        manage::create(&self.rules(), owner, &new).await.unwrap().id
    }

    async fn ctx(&self, room: i64, caller: i64) -> Result<RoomContext, RoomError> {
        RoomContext::load(&self.rules(), room, caller).await
    }

    async fn join(&self, room: i64, member: i64) {
        joining::join(&self.rules(), &self.ctx(room, member).await.unwrap()).await.unwrap();
    }

    async fn role(&self, room: i64, member: i64) -> Option<Role> {
        memberships::role(&mut self.db.conn().await.unwrap(), room, member).await.unwrap()
    }
}

fn status(result: Result<impl Sized, RoomError>) -> u16 {
    match result {
        Ok(_) => 200,
        Err(e) => e.status().as_u16(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn moderators_act_only_on_members_ranked_below_them() {
    let world = World::new().await;
    let (owner, admin, member, other) = (
        world.member("owner").await,
        world.member("admin").await,
        world.member("mia").await,
        world.member("otto").await,
    );
    let room = world.room(owner, Visibility::Public).await;
    for m in [admin, member, other] {
        world.join(room, m).await;
    }
    let rules = world.rules();
    let as_owner = world.ctx(room, owner).await.unwrap();
    moderation::set_role(&rules, &as_owner, admin, Role::Admin).await.unwrap();
    assert_eq!(world.role(room, admin).await, Some(Role::Admin));

    let as_admin = world.ctx(room, admin).await.unwrap();
    assert_eq!(
        status(moderation::kick(&rules, &as_admin, owner).await),
        403,
        "an admin cannot kick the owner"
    );
    assert_eq!(
        status(moderation::set_role(&rules, &as_admin, member, Role::Admin).await),
        403,
        "an admin cannot make another admin"
    );
    let as_member = world.ctx(room, member).await.unwrap();
    assert_eq!(status(moderation::kick(&rules, &as_member, other).await), 403, "members do not moderate");
    assert_eq!(status(moderation::kick(&rules, &as_admin, admin).await), 400, "nobody kicks themselves");

    moderation::kick(&rules, &as_admin, other).await.unwrap();
    assert_eq!(world.role(room, other).await, None);
    assert_eq!(status(moderation::kick(&rules, &as_admin, other).await), 404, "gone already");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ban_keeps_a_member_out_until_lifted() {
    let world = World::new().await;
    let (owner, member) = (world.member("owner").await, world.member("bob").await);
    let room = world.room(owner, Visibility::Public).await;
    world.join(room, member).await;
    let rules = world.rules();
    let as_owner = world.ctx(room, owner).await.unwrap();
    moderation::ban(&rules, &as_owner, member, None).await.unwrap();
    assert_eq!(world.role(room, member).await, None, "a ban removes the member");
    let refused = joining::join(&rules, &world.ctx(room, member).await.unwrap()).await;
    assert_eq!(status(refused), 403, "a banned member cannot join again");
    assert_eq!(status(joining::invite(&rules, &as_owner, "bob").await), 409, "nor be invited");
    moderation::unban(&rules, &as_owner, member).await.unwrap();
    world.join(room, member).await;
    assert_eq!(world.role(room, member).await, Some(Role::Member));
}

#[tokio::test(flavor = "multi_thread")]
async fn private_rooms_do_not_exist_for_outsiders_until_invited() {
    let world = World::new().await;
    let (owner, outsider) = (world.member("owner").await, world.member("eve").await);
    let room = world.room(owner, Visibility::Private).await;
    assert_eq!(status(world.ctx(room, outsider).await), 404, "hidden, not forbidden");

    let rules = world.rules();
    joining::invite(&rules, &world.ctx(room, owner).await.unwrap(), "eve").await.unwrap();
    let invited = world.ctx(room, outsider).await.unwrap();
    joining::join(&rules, &invited).await.unwrap();
    assert_eq!(world.role(room, outsider).await, Some(Role::Member));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_owner_hands_the_room_over_before_leaving() {
    let world = World::new().await;
    let (owner, heir) = (world.member("owner").await, world.member("heir").await);
    let room = world.room(owner, Visibility::Public).await;
    world.join(room, heir).await;
    let rules = world.rules();
    assert_eq!(status(joining::leave(&rules, &world.ctx(room, owner).await.unwrap()).await), 409);
    manage::transfer(&rules, &world.ctx(room, owner).await.unwrap(), heir).await.unwrap();
    assert_eq!(world.role(room, heir).await, Some(Role::Owner));
    joining::leave(&rules, &world.ctx(room, owner).await.unwrap()).await.unwrap();
    assert_eq!(world.role(room, owner).await, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_change_of_membership_is_announced_to_message_pods() {
    let world = World::new().await;
    let mut announced = world.bus.subscribe_all(&[Topic::Membership.name("")]).await.unwrap();
    let (owner, member) = (world.member("owner").await, world.member("kim").await);
    let room = world.room(owner, Visibility::Public).await;
    world.join(room, member).await;
    moderation::kick(&world.rules(), &world.ctx(room, owner).await.unwrap(), member).await.unwrap();

    let mut changes = Vec::new();
    while changes.len() < 2 {
        let record = announced.next().await.unwrap();
        assert_eq!(record.key.as_deref(), Some(room.to_string().as_str()), "keyed by room: one order");
        let event: MembershipChanged = serde_json::from_slice(&record.payload).unwrap();
        if event.member_id == Some(member) {
            changes.push(event.change);
        }
    }
    assert_eq!(changes, [MembershipChange::Joined, MembershipChange::Kicked]);
}

#[tokio::test(flavor = "multi_thread")]
async fn checks_use_the_standing_at_the_time_of_the_change() {
    let world = World::new().await;
    let (owner, heir, other) =
        (world.member("owner").await, world.member("heir").await, world.member("other").await);
    let room = world.room(owner, Visibility::Public).await;
    world.join(room, heir).await;
    world.join(room, other).await;
    let rules = world.rules();
    // Two requests of the owner, loaded before either is carried out (as when sent at once).
    let (first, second) = (world.ctx(room, owner).await.unwrap(), world.ctx(room, owner).await.unwrap());
    manage::transfer(&rules, &first, heir).await.unwrap();
    assert_eq!(status(manage::transfer(&rules, &second, other).await), 403, "no longer the owner");
    assert_eq!(world.role(room, heir).await, Some(Role::Owner));
    assert_eq!(world.role(room, other).await, Some(Role::Member), "one owner, not two");
    assert_eq!(world.role(room, owner).await, Some(Role::Admin));

    // Nor may the former owner, now an admin, kick the new owner with the standing they had.
    assert_eq!(status(moderation::kick(&rules, &second, heir).await), 403);
    assert_eq!(world.role(room, heir).await, Some(Role::Owner));
}
