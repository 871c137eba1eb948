//! The memory of PAT hashes that named no credential: what bounds forged
//! tokens (see `auth::authenticate_pat`). Its policy (how long, how many) is
//! the auth path's; it lives beside the store because each store value
//! carries one, built with it at start-up and shared by its clones, so
//! every request of a function instance consults the same memory without a
//! process-wide global.

use std::num::NonZeroUsize;
use std::sync::{Mutex, PoisonError};

use lru::LruCache;

use crate::domain::{SecretHash, Timestamp};

/// How long a well-formed PAT that named no credential is answered 401
/// without a read. The checksum only catches typos (anyone can compute it),
/// so this is what bounds forged tokens: each costs one read per this many
/// milliseconds per instance. A token created after its hash was answered
/// unknown (only possible if someone guessed it before it existed) works
/// within this delay at most. Nothing remembers a valid token, so a
/// revocation is never delayed.
pub const UNKNOWN_PAT_TTL_MS: i64 = 10_000;
/// Most unknown PAT hashes remembered; the least recently seen go first.
pub const MAX_UNKNOWN_PATS: usize = 10_000;

/// PAT hashes recently looked up and found to be nobody's, with when that
/// answer expires.
#[derive(Debug)]
pub struct UnknownPats(Mutex<LruCache<SecretHash, Timestamp>>);

impl UnknownPats {
    pub fn new(max: usize) -> Self {
        let max = NonZeroUsize::new(max).unwrap_or(NonZeroUsize::MIN);
        Self(Mutex::new(LruCache::new(max)))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<SecretHash, Timestamp>> {
        // Each operation is one map call: a poisoned lock holds a whole map.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `hash` was found unknown less than [`UNKNOWN_PAT_TTL_MS`]
    /// before `now`.
    pub fn contains(&self, hash: &SecretHash, now: Timestamp) -> bool {
        self.lock().get(hash).is_some_and(|expires| now < *expires)
    }

    pub fn remember(&self, hash: SecretHash, now: Timestamp) {
        self.lock().put(hash, now.plus_millis(UNKNOWN_PAT_TTL_MS));
    }

    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{PlainSecret, SecretKind};

    #[test]
    fn unknown_pats_are_remembered_briefly_and_boundedly() {
        let unknown = UnknownPats::new(3);
        let now = Timestamp::from_unix_millis(1_000_000);
        let hashes: Vec<SecretHash> = (0..5)
            .map(|_| {
                PlainSecret::generate(SecretKind::Pat)
                    .expect("randomness")
                    .hash()
            })
            .collect();
        unknown.remember(hashes[0], now);
        assert!(unknown.contains(&hashes[0], now));
        assert!(unknown.contains(&hashes[0], now.plus_millis(UNKNOWN_PAT_TTL_MS - 1)));
        assert!(!unknown.contains(&hashes[0], now.plus_millis(UNKNOWN_PAT_TTL_MS)));
        for hash in &hashes {
            unknown.remember(*hash, now);
        }
        assert_eq!(unknown.len(), 3, "bounded");
        assert!(
            !unknown.contains(&hashes[0], now),
            "the least recent went first"
        );
        assert!(unknown.contains(&hashes[4], now));
    }
}
