//! The per-instance cache that lets a warm check answer without DynamoDB.
//!
//! Three least-recently-used maps, each bounded so that junk cannot grow
//! memory, and each evicting one entry at a time (never emptying itself):
//!
//! - API key hash → project, for `ttl`;
//! - unknown key hashes, for `negative_ttl`, so a junk (but well-formed) key
//!   costs one lookup per `negative_ttl`, not one per request. Kept apart
//!   from the known keys so a flood of junk can only evict junk;
//! - project → its prepared check data (every active version, grouped), for
//!   `ttl`, bounded by a number of projects and by an estimate of the bytes
//!   they hold. Only a known API key brings a project in, so what a caller
//!   writes in a query (app names, platforms, attributes) never adds an
//!   entry, costs a read, or evicts anyone.
//!
//! A Lambda instance serves one request at a time, but the maps sit behind
//! mutexes anyway (never held across an await), so the cache is correct
//! under any runtime.
//!
//! Expired entries are kept (until evicted) so that, when DynamoDB is
//! unreachable, a check can fall back on what it last knew rather than fail:
//! see [`Lookup::Stale`].

use std::hash::Hash;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use app_upgrade::domain::{ProjectId, SecretHash};
use lru::LruCache;

use crate::matcher::ProjectChecks;

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
    /// Lifetime of known keys and projects' check data; also the edge
    /// cache's `max-age`.
    pub ttl: Duration,
    /// Lifetime of an "unknown key" answer.
    pub negative_ttl: Duration,
    /// How long past its expiry an entry may still answer while DynamoDB is
    /// unreachable.
    pub max_stale: Duration,
    pub max_keys: usize,
    pub max_unknown_keys: usize,
    pub max_projects: usize,
    /// Estimated bytes of all projects' check data together (see
    /// [`ProjectChecks::weight`]); a project heavier than this alone is not
    /// cached, and each of its checks reads it.
    pub max_project_bytes: usize,
}

impl Default for CacheLimits {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(30),
            negative_ttl: Duration::from_secs(10),
            max_stale: Duration::from_secs(600),
            max_keys: 10_000,
            max_unknown_keys: 10_000,
            max_projects: 1_000,
            // A quarter of the function's 256 MB.
            max_project_bytes: 64 << 20,
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

#[derive(Debug)]
struct Entry<V> {
    value: V,
    expires: Instant,
    weight: usize,
}

#[derive(Debug)]
struct Entries<K: Hash + Eq, V> {
    lru: LruCache<K, Entry<V>>,
    weight: usize,
}

/// A bounded map of expiring values: at most `max` entries weighing at
/// most `max_weight` together, the least recently used evicted first.
#[derive(Debug)]
struct Expiring<K: Hash + Eq, V> {
    entries: Mutex<Entries<K, V>>,
    max_weight: usize,
}

impl<K: Eq + Hash, V: Clone> Expiring<K, V> {
    fn new(max: usize, max_weight: usize) -> Self {
        Self {
            entries: Mutex::new(Entries {
                lru: LruCache::new(NonZeroUsize::new(max).unwrap_or(NonZeroUsize::MIN)),
                weight: 0,
            }),
            max_weight,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries<K, V>> {
        // A panic while holding the lock cannot leave a map half-updated in
        // a way that matters here, so a poisoned lock is still usable.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn get<Q>(&self, key: &Q, now: Instant, max_stale: Duration) -> Lookup<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        match self.lock().lru.get(key) {
            Some(e) if now < e.expires => Lookup::Fresh(e.value.clone()),
            Some(e) if now < e.expires + max_stale => Lookup::Stale(e.value.clone()),
            _ => Lookup::Missing,
        }
    }

    /// Replaces `key`'s entry; one that cannot fit even alone is dropped.
    fn insert(&self, key: K, value: V, weight: usize, expires: Instant) {
        let mut entries = self.lock();
        if let Some(old) = entries.lru.pop(&key) {
            entries.weight -= old.weight;
        }
        if weight > self.max_weight {
            return;
        }
        while entries.weight + weight > self.max_weight {
            match entries.lru.pop_lru() {
                Some((_, evicted)) => entries.weight -= evicted.weight,
                None => break,
            }
        }
        let entry = Entry {
            value,
            expires,
            weight,
        };
        // `key` is absent, so what comes back is the evicted least recent.
        if let Some((_, evicted)) = entries.lru.push(key, entry) {
            entries.weight -= evicted.weight;
        }
        entries.weight += weight;
    }

    fn remove<Q>(&self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut entries = self.lock();
        if let Some(old) = entries.lru.pop(key) {
            entries.weight -= old.weight;
        }
    }

    fn len(&self) -> usize {
        self.lock().lru.len()
    }

    fn weight(&self) -> usize {
        self.lock().weight
    }
}

/// The check's cache; see the module docs.
pub struct CheckCache {
    limits: CacheLimits,
    clock: Arc<dyn Clock>,
    keys: Expiring<SecretHash, ProjectId>,
    unknown_keys: Expiring<SecretHash, ()>,
    projects: Expiring<ProjectId, Arc<ProjectChecks>>,
}

impl std::fmt::Debug for CheckCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckCache")
            .field("limits", &self.limits)
            .field("keys", &self.keys.len())
            .field("unknown_keys", &self.unknown_keys.len())
            .field("projects", &self.projects.len())
            .field("project_bytes", &self.projects.weight())
            .finish()
    }
}

impl CheckCache {
    pub fn new(limits: CacheLimits, clock: Arc<dyn Clock>) -> Self {
        Self {
            keys: Expiring::new(limits.max_keys, limits.max_keys),
            unknown_keys: Expiring::new(limits.max_unknown_keys, limits.max_unknown_keys),
            projects: Expiring::new(limits.max_projects, limits.max_project_bytes),
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
        self.keys.insert(hash, project, 1, now + self.limits.ttl);
    }

    pub fn remember_unknown_key(&self, hash: SecretHash, now: Instant) {
        self.keys.remove(&hash);
        self.unknown_keys
            .insert(hash, (), 1, now + self.limits.negative_ttl);
    }

    pub fn project(&self, project: &ProjectId, now: Instant) -> Lookup<Arc<ProjectChecks>> {
        self.projects.get(project, now, self.limits.max_stale)
    }

    pub fn remember_project(&self, project: ProjectId, checks: Arc<ProjectChecks>, now: Instant) {
        let weight = checks.weight();
        self.projects
            .insert(project, checks, weight, now + self.limits.ttl);
    }

    /// Serves a stale entry again for a moment without asking the store:
    /// while DynamoDB is down, each entry costs one failed call per
    /// `negative_ttl`, not one per request.
    pub fn extend_key(&self, hash: SecretHash, project: ProjectId, now: Instant) {
        self.keys
            .insert(hash, project, 1, now + self.limits.negative_ttl);
    }

    pub fn extend_project(&self, project: ProjectId, checks: Arc<ProjectChecks>, now: Instant) {
        let weight = checks.weight();
        self.projects
            .insert(project, checks, weight, now + self.limits.negative_ttl);
    }

    /// Projects held and their estimated bytes (for tests and the debug
    /// view).
    pub fn projects_held(&self) -> (usize, usize) {
        (self.projects.len(), self.projects.weight())
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

    fn checks(versions: usize) -> (ProjectId, Arc<ProjectChecks>) {
        let project = ProjectId::generate();
        let records = (0..versions)
            .map(|i| app_upgrade::test_util::version_record(&project, &format!("1.0.{i}")))
            .collect();
        let checks = Arc::new(ProjectChecks::prepare(&project, records));
        (project, checks)
    }

    #[test]
    fn junk_cannot_grow_the_maps_or_evict_known_keys() {
        let limits = CacheLimits {
            max_keys: 4,
            max_unknown_keys: 8,
            max_projects: 3,
            ..CacheLimits::default()
        };
        let (cache, _clock) = cache(limits);
        let (good, p) = (hash(), ProjectId::generate());
        cache.remember_key(good, p.clone(), cache.now());
        for _ in 0..100 {
            cache.remember_unknown_key(hash(), cache.now());
        }
        assert_eq!(cache.unknown_keys.len(), 8);
        assert_eq!(
            cache.key(&good, cache.now()),
            KeyLookup::Known(Lookup::Fresh(p))
        );
        let mut last = None;
        for _ in 0..100 {
            let (project, checks) = checks(1);
            cache.remember_project(project.clone(), checks, cache.now());
            last = Some(project);
        }
        assert_eq!(cache.projects.len(), 3);
        let last = last.expect("inserted");
        assert!(matches!(
            cache.project(&last, cache.now()),
            Lookup::Fresh(_)
        ));
    }

    #[test]
    fn the_least_recently_used_project_goes_first_never_all() {
        let (a, b, c) = (checks(1), checks(1), checks(1));
        let limits = CacheLimits {
            max_projects: 2,
            ..CacheLimits::default()
        };
        let (cache, clock) = cache(limits);
        cache.remember_project(a.0.clone(), a.1.clone(), cache.now());
        cache.remember_project(b.0.clone(), b.1.clone(), cache.now());
        // Long expired, but read (while DynamoDB is down, say): still kept.
        clock.advance(limits.ttl * 2);
        assert!(matches!(cache.project(&a.0, cache.now()), Lookup::Stale(_)));
        cache.remember_project(c.0.clone(), c.1.clone(), cache.now());
        assert!(matches!(cache.project(&a.0, cache.now()), Lookup::Stale(_)));
        assert!(matches!(cache.project(&b.0, cache.now()), Lookup::Missing));
        assert!(matches!(cache.project(&c.0, cache.now()), Lookup::Fresh(_)));
    }

    #[test]
    fn projects_are_bounded_by_their_bytes_too() {
        let (small, big) = (checks(1), checks(50));
        let limits = CacheLimits {
            // Room for the small one twice over, not for the big one.
            max_project_bytes: small.1.weight() * 2,
            ..CacheLimits::default()
        };
        assert!(big.1.weight() > limits.max_project_bytes);
        let (cache, _clock) = cache(limits);
        cache.remember_project(small.0.clone(), small.1.clone(), cache.now());
        // Too heavy to hold: not cached, and nothing evicted for it.
        cache.remember_project(big.0.clone(), big.1.clone(), cache.now());
        assert!(matches!(
            cache.project(&big.0, cache.now()),
            Lookup::Missing
        ));
        assert!(matches!(
            cache.project(&small.0, cache.now()),
            Lookup::Fresh(_)
        ));
        assert_eq!(cache.projects_held(), (1, small.1.weight()));
        // Within the bytes, the least recent goes to make room.
        let others: Vec<_> = (0..3).map(|_| checks(1)).collect();
        for (project, checks) in &others {
            cache.remember_project(project.clone(), checks.clone(), cache.now());
        }
        let (held, bytes) = cache.projects_held();
        assert!(
            held <= 2 && bytes <= limits.max_project_bytes,
            "{held} {bytes}"
        );
        assert!(matches!(
            cache.project(&small.0, cache.now()),
            Lookup::Missing
        ));
    }
}
