//! A short-lived cache of web's room-access answers, so publishing does not cost a call to web per
//! message. Web announces membership changes on the bus; the pod then drops the affected answers
//! (see `consumers/membership.rs`), so the TTL only bounds how long a lost event can leave an answer stale.
//!
//! A fetch that asked web before a change may finish after the change was handled; it must not put
//! the old answer back. Every invalidation bumps a generation (one per stripe of rooms, so changes in
//! other rooms rarely get in the way); a fetch notes the generation before asking web and stores its
//! answer only if the generation is still the same. Callers use the same generation to tell whether an
//! answer they acted on may have been overtaken by a change ([`AccessCache::changed_since`]).

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use moka::sync::Cache;
use natter_http::InternalCallError;
use natter_proto::http::RoomAccess;
use natter_proto::{MemberId, RoomId};

use crate::upstream::access::AccessSource;

/// Rooms share generations in this many stripes.
const STRIPES: usize = 256;
/// Most answers kept; a few hundred bytes each.
const MAX_ENTRIES: u64 = 100_000;

/// An access answer and the generation of its room when it was read.
#[derive(Debug)]
pub(crate) struct Checked {
    pub(crate) access: RoomAccess,
    room: RoomId,
    generation: u64,
}

pub(crate) struct AccessCache<S> {
    source: S,
    /// `None` when caching is off (TTL 0); generations are kept anyway for
    /// [`AccessCache::changed_since`].
    entries: Option<Cache<(RoomId, MemberId), RoomAccess>>,
    /// Invalidations per stripe of rooms. Inserts check it and invalidations bump it under this lock,
    /// so an insert never lands between an invalidation's removal and its bump.
    generations: Mutex<Vec<u64>>,
}

impl<S: AccessSource> AccessCache<S> {
    /// Keeps answers for `ttl`; a zero `ttl` asks web every time.
    pub(crate) fn new(source: S, ttl: Duration) -> Self {
        let entries = (!ttl.is_zero()).then(|| {
            Cache::builder()
                .max_capacity(MAX_ENTRIES)
                .time_to_live(ttl)
                .support_invalidation_closures()
                .build()
        });
        Self { source, entries, generations: Mutex::new(vec![0; STRIPES]) }
    }

    /// The member's access to the room, cached or from the source. Failures are not cached.
    pub(crate) async fn check(&self, room: RoomId, member: MemberId) -> Result<Checked, InternalCallError> {
        // Read before the entry: an invalidation in between shows up as a changed generation.
        let generation = self.generation(room);
        if let Some(access) = self.entries.as_ref().and_then(|entries| entries.get(&(room, member))) {
            return Ok(Checked { access, room, generation });
        }
        let access = self.source.fetch(room, member).await?;
        if let Some(entries) = &self.entries {
            let generations = self.lock();
            if generations[stripe(room)] == generation {
                entries.insert((room, member), access.clone());
            }
        }
        Ok(Checked { access, room, generation })
    }

    /// Whether the room's answers may have been invalidated since `checked` was read.
    pub(crate) fn changed_since(&self, checked: &Checked) -> bool {
        self.generation(checked.room) != checked.generation
    }

    /// Drops the member's answer for the room.
    pub(crate) fn invalidate_member(&self, room: RoomId, member: MemberId) {
        let mut generations = self.lock();
        if let Some(entries) = &self.entries {
            entries.invalidate(&(room, member));
        }
        bump(&mut generations, room);
    }

    /// Drops every answer for the room.
    pub(crate) fn invalidate_room(&self, room: RoomId) {
        let mut generations = self.lock();
        if let Some(entries) = &self.entries {
            entries
                .invalidate_entries_if(move |(r, _), _| *r == room)
                .expect("the cache is built with invalidation closures");
        }
        bump(&mut generations, room);
    }

    fn generation(&self, room: RoomId) -> u64 {
        self.lock()[stripe(room)]
    }

    fn lock(&self) -> MutexGuard<'_, Vec<u64>> {
        self.generations.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn stripe(room: RoomId) -> usize {
    room.rem_euclid(STRIPES as i64) as usize
}

fn bump(generations: &mut [u64], room: RoomId) {
    let generation = &mut generations[stripe(room)];
    *generation = generation.wrapping_add(1);
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::upstream::access::fake::{MEMBER, NOT_A_MEMBER, Scripted, UNAVAILABLE};

    fn cache(source: &Arc<Scripted>, ttl_ms: u64) -> AccessCache<Arc<Scripted>> {
        AccessCache::new(Arc::clone(source), Duration::from_millis(ttl_ms))
    }

    #[tokio::test]
    async fn answers_are_kept_for_the_ttl_and_then_asked_again() {
        let source = Arc::new(Scripted::open([MEMBER, NOT_A_MEMBER]));
        let cache = cache(&source, 500);
        assert!(cache.check(1, 7).await.unwrap().access.may_read());
        assert!(cache.check(1, 7).await.unwrap().access.may_read());
        assert_eq!(source.calls(), 1, "the second check is served from the cache");
        tokio::time::sleep(Duration::from_millis(1000)).await;
        assert!(!cache.check(1, 7).await.unwrap().access.may_read(), "expired; web asked again");
        assert_eq!(source.calls(), 2);
    }

    #[tokio::test]
    async fn a_zero_ttl_asks_every_time() {
        let source = Arc::new(Scripted::open([MEMBER, MEMBER]));
        let cache = cache(&source, 0);
        cache.check(1, 7).await.unwrap();
        cache.check(1, 7).await.unwrap();
        assert_eq!(source.calls(), 2);
    }

    #[tokio::test]
    async fn failures_are_not_cached() {
        let source = Arc::new(Scripted::open([UNAVAILABLE, MEMBER]));
        let cache = cache(&source, 60_000);
        assert!(cache.check(1, 7).await.is_err());
        assert!(cache.check(1, 7).await.unwrap().access.may_read());
        assert_eq!(source.calls(), 2);
    }

    #[tokio::test]
    async fn invalidating_a_member_drops_only_that_answer() {
        let source = Arc::new(Scripted::open([MEMBER, MEMBER, NOT_A_MEMBER]));
        let cache = cache(&source, 60_000);
        let seven = cache.check(1, 7).await.unwrap();
        cache.check(1, 8).await.unwrap();
        cache.invalidate_member(1, 7);
        assert!(cache.changed_since(&seven));
        assert!(!cache.check(1, 7).await.unwrap().access.may_read(), "asked web again");
        cache.check(1, 8).await.unwrap();
        assert_eq!(source.calls(), 3, "member 8's answer stayed cached");
    }

    #[tokio::test]
    async fn invalidating_a_room_drops_every_answer_of_it_and_no_other() {
        let source = Arc::new(Scripted::open([MEMBER, MEMBER, MEMBER, NOT_A_MEMBER, NOT_A_MEMBER]));
        let cache = cache(&source, 60_000);
        cache.check(1, 7).await.unwrap();
        cache.check(1, 8).await.unwrap();
        let other = cache.check(2, 7).await.unwrap();
        cache.invalidate_room(1);
        assert!(!cache.changed_since(&other), "room 2 is in another stripe");
        assert!(!cache.check(1, 7).await.unwrap().access.may_read());
        assert!(!cache.check(1, 8).await.unwrap().access.may_read());
        assert!(cache.check(2, 7).await.unwrap().access.may_read());
        assert_eq!(source.calls(), 5);
    }

    #[tokio::test]
    async fn a_fetch_overtaken_by_an_invalidation_is_not_cached() {
        let source = Arc::new(Scripted::gated([MEMBER, NOT_A_MEMBER]));
        let cache = Arc::new(cache(&source, 60_000));
        let fetching = tokio::spawn({
            let cache = Arc::clone(&cache);
            async move { cache.check(1, 7).await.unwrap() }
        });
        source.started(1).await;
        // The member is kicked while web's (old) answer is on its way.
        cache.invalidate_member(1, 7);
        source.release_one();
        let stale = fetching.await.unwrap();
        assert!(stale.access.may_read(), "the caller gets the answer it asked for");
        assert!(cache.changed_since(&stale), "and can tell it may be stale");
        source.release_one();
        assert!(!cache.check(1, 7).await.unwrap().access.may_read(), "the stale answer was not stored");
        assert_eq!(source.calls(), 2);
    }
}
