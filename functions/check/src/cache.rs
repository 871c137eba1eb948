//! The per-instance cache that lets a warm check answer without DynamoDB.
//!
//! Three maps, each bounded so that junk cannot grow memory without limit:
//!
//! - API key hash → project, for `ttl`;
//! - unknown key hashes, for `negative_ttl`, so a junk (but well-formed) key
//!   costs one lookup per `negative_ttl`, not one per request. Kept apart
//!   from the known keys so a flood of junk can only evict junk;
//! - check scope (`check-index` partition) → prepared candidates, for `ttl`.
//!
//! A Lambda instance serves one request at a time, but the maps sit behind
//! mutexes anyway (never held across an await), so the cache is correct
//! under any runtime.
//!
//! Expired entries are kept (until evicted) so that, when DynamoDB is
//! unreachable, a check can fall back on what it last knew rather than fail:
//! see [`Lookup::Stale`].

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use app_upgrade::domain::{ProjectId, SecretHash};

use crate::matcher::Candidates;

/// Where the cache reads the time; tests inject a manual clock.
pub trait Clock: Send + Sync {
    fn now(&self) -> Instant;
}

/// The monotonic system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// How long and how much the cache keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheLimits {
    /// Lifetime of known keys and candidate sets; also the edge cache's
    /// `max-age`.
    pub ttl: Duration,
    /// Lifetime of an "unknown key" answer.
    pub negative_ttl: Duration,
    /// How long past its expiry an entry may still answer while DynamoDB is
    /// unreachable.
    pub max_stale: Duration,
    pub max_keys: usize,
    pub max_unknown_keys: usize,
    pub max_scopes: usize,
}

impl Default for CacheLimits {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(30),
            negative_ttl: Duration::from_secs(10),
            max_stale: Duration::from_secs(600),
            max_keys: 10_000,
            max_unknown_keys: 10_000,
            max_scopes: 10_000,
        }
    }
}

/// What the cache knows about something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<T> {
    Fresh(T),
    /// Expired, but within `max_stale`: only for when the store is down.
    Stale(T),
    Missing,
}

/// What the cache knows about an API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyLookup {
    Known(Lookup<ProjectId>),
    /// Looked up recently and not an API key.
    Unknown,
}

/// A bounded map of expiring values.
#[derive(Debug)]
struct Expiring<K, V> {
    entries: Mutex<HashMap<K, (V, Instant)>>,
    max: usize,
}

impl<K: Eq + Hash, V: Clone> Expiring<K, V> {
    fn new(max: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            max,
        }
    }

    fn get<Q>(&self, key: &Q, now: Instant, max_stale: Duration) -> Lookup<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        // A panic while holding the lock cannot leave a map half-updated in
        // a way that matters here, so a poisoned lock is still usable.
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        match entries.get(key) {
            Some((value, expires)) if now < *expires => Lookup::Fresh(value.clone()),
            Some((value, expires)) if now < *expires + max_stale => Lookup::Stale(value.clone()),
            _ => Lookup::Missing,
        }
    }

    fn insert(&self, key: K, value: V, expires: Instant, now: Instant) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.max && !entries.contains_key(&key) {
            entries.retain(|_, (_, e)| now < *e);
            if entries.len() >= self.max {
                // Everything is live: start over rather than grow. The next
                // requests reload what they need.
                entries.clear();
            }
        }
        entries.insert(key, (value, expires));
    }

    fn remove<Q>(&self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.remove(key);
    }

    fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// The check's cache; see the module docs.
pub struct CheckCache {
    limits: CacheLimits,
    clock: Arc<dyn Clock>,
    keys: Expiring<SecretHash, ProjectId>,
    unknown_keys: Expiring<SecretHash, ()>,
    scopes: Expiring<String, Arc<Candidates>>,
}

impl std::fmt::Debug for CheckCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckCache")
            .field("limits", &self.limits)
            .field("keys", &self.keys.len())
            .field("unknown_keys", &self.unknown_keys.len())
            .field("scopes", &self.scopes.len())
            .finish()
    }
}

impl CheckCache {
    pub fn new(limits: CacheLimits, clock: Arc<dyn Clock>) -> Self {
        Self {
            keys: Expiring::new(limits.max_keys),
            unknown_keys: Expiring::new(limits.max_unknown_keys),
            scopes: Expiring::new(limits.max_scopes),
            limits,
            clock,
        }
    }

    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    pub fn key(&self, hash: &SecretHash, now: Instant) -> KeyLookup {
        match self.keys.get(hash, now, self.limits.max_stale) {
            Lookup::Fresh(project) => KeyLookup::Known(Lookup::Fresh(project)),
            other => match self.unknown_keys.get(hash, now, Duration::ZERO) {
                Lookup::Fresh(()) => KeyLookup::Unknown,
                _ => KeyLookup::Known(other),
            },
        }
    }

    pub fn remember_key(&self, hash: SecretHash, project: ProjectId, now: Instant) {
        self.unknown_keys.remove(&hash);
        self.keys.insert(hash, project, now + self.limits.ttl, now);
    }

    pub fn remember_unknown_key(&self, hash: SecretHash, now: Instant) {
        self.keys.remove(&hash);
        self.unknown_keys
            .insert(hash, (), now + self.limits.negative_ttl, now);
    }

    /// `scope` is the `check-index` partition key of the candidates.
    pub fn candidates(&self, scope: &str, now: Instant) -> Lookup<Arc<Candidates>> {
        self.scopes.get(scope, now, self.limits.max_stale)
    }

    pub fn remember_candidates(&self, scope: String, candidates: Arc<Candidates>, now: Instant) {
        self.scopes
            .insert(scope, candidates, now + self.limits.ttl, now);
    }

    /// Serves a stale entry again for a moment without asking the store:
    /// while DynamoDB is down, each entry costs one failed call per
    /// `negative_ttl`, not one per request.
    pub fn extend_key(&self, hash: SecretHash, project: ProjectId, now: Instant) {
        self.keys
            .insert(hash, project, now + self.limits.negative_ttl, now);
    }

    pub fn extend_candidates(&self, scope: String, candidates: Arc<Candidates>, now: Instant) {
        self.scopes
            .insert(scope, candidates, now + self.limits.negative_ttl, now);
    }
}

/// A clock that only moves when told to.
#[cfg(any(test, feature = "test-util"))]
#[derive(Debug)]
pub struct ManualClock {
    start: Instant,
    offset: Mutex<Duration>,
}

#[cfg(any(test, feature = "test-util"))]
impl Default for ManualClock {
    fn default() -> Self {
        Self {
            start: Instant::now(),
            offset: Mutex::new(Duration::ZERO),
        }
    }
}

#[cfg(any(test, feature = "test-util"))]
impl ManualClock {
    pub fn advance(&self, by: Duration) {
        *self.offset.lock().unwrap_or_else(PoisonError::into_inner) += by;
    }
}

#[cfg(any(test, feature = "test-util"))]
impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + *self.offset.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app_upgrade::domain::{PlainSecret, SecretKind};

    fn hash() -> SecretHash {
        PlainSecret::generate(SecretKind::ApiKey)
            .expect("randomness")
            .hash()
    }

    fn cache(limits: CacheLimits) -> (CheckCache, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::default());
        (CheckCache::new(limits, clock.clone()), clock)
    }

    #[test]
    fn keys_expire_after_the_ttl_then_serve_stale_for_a_while() {
        let limits = CacheLimits::default();
        let (cache, clock) = cache(limits);
        let (h, p) = (hash(), ProjectId::generate());
        assert_eq!(
            cache.key(&h, cache.now()),
            KeyLookup::Known(Lookup::Missing)
        );
        cache.remember_key(h, p.clone(), cache.now());
        clock.advance(limits.ttl - Duration::from_millis(1));
        assert_eq!(
            cache.key(&h, cache.now()),
            KeyLookup::Known(Lookup::Fresh(p.clone()))
        );
        clock.advance(Duration::from_millis(1));
        assert_eq!(
            cache.key(&h, cache.now()),
            KeyLookup::Known(Lookup::Stale(p.clone()))
        );
        cache.extend_key(h, p.clone(), cache.now());
        assert_eq!(
            cache.key(&h, cache.now()),
            KeyLookup::Known(Lookup::Fresh(p))
        );
        clock.advance(limits.negative_ttl + limits.max_stale);
        assert_eq!(
            cache.key(&h, cache.now()),
            KeyLookup::Known(Lookup::Missing)
        );
    }

    #[test]
    fn unknown_keys_are_remembered_briefly() {
        let limits = CacheLimits::default();
        let (cache, clock) = cache(limits);
        let h = hash();
        cache.remember_unknown_key(h, cache.now());
        assert_eq!(cache.key(&h, cache.now()), KeyLookup::Unknown);
        clock.advance(limits.negative_ttl);
        assert_eq!(
            cache.key(&h, cache.now()),
            KeyLookup::Known(Lookup::Missing)
        );
        // A key that turns out to exist replaces its negative entry.
        cache.remember_unknown_key(h, cache.now());
        let p = ProjectId::generate();
        cache.remember_key(h, p.clone(), cache.now());
        assert_eq!(
            cache.key(&h, cache.now()),
            KeyLookup::Known(Lookup::Fresh(p))
        );
    }

    #[test]
    fn junk_cannot_grow_the_maps_or_evict_known_keys() {
        let limits = CacheLimits {
            max_keys: 4,
            max_unknown_keys: 8,
            max_scopes: 3,
            ..CacheLimits::default()
        };
        let (cache, _clock) = cache(limits);
        let (good, p) = (hash(), ProjectId::generate());
        cache.remember_key(good, p.clone(), cache.now());
        for _ in 0..100 {
            cache.remember_unknown_key(hash(), cache.now());
        }
        assert!(cache.unknown_keys.len() <= 8);
        assert_eq!(
            cache.key(&good, cache.now()),
            KeyLookup::Known(Lookup::Fresh(p))
        );
        for i in 0..100 {
            cache.remember_candidates(format!("scope-{i}"), Arc::default(), cache.now());
        }
        assert!(cache.scopes.len() <= 3);
        assert!(matches!(
            cache.candidates("scope-99", cache.now()),
            Lookup::Fresh(_)
        ));
    }

    #[test]
    fn eviction_drops_expired_entries_first() {
        let limits = CacheLimits {
            max_scopes: 2,
            ..CacheLimits::default()
        };
        let (cache, clock) = cache(limits);
        cache.remember_candidates("old".into(), Arc::default(), cache.now());
        clock.advance(limits.ttl / 2);
        cache.remember_candidates("live".into(), Arc::default(), cache.now());
        clock.advance(limits.ttl / 2);
        cache.remember_candidates("new".into(), Arc::default(), cache.now());
        assert!(matches!(
            cache.candidates("live", cache.now()),
            Lookup::Fresh(_)
        ));
        assert!(matches!(
            cache.candidates("new", cache.now()),
            Lookup::Fresh(_)
        ));
        assert!(matches!(
            cache.candidates("old", cache.now()),
            Lookup::Missing
        ));
    }
}
