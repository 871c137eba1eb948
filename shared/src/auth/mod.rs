//! Authentication and authorization: request headers in, a verified
//! principal (or a 401/403) out. The credentials themselves are domain data.
//! A PAT is checked here ([`authenticate_request`]); an account session is
//! a JWT verified before the function sees it ([`session`]).

#[cfg(feature = "local-jwt")]
pub mod local_jwt;
pub mod session;

use std::num::NonZeroUsize;
use std::sync::{LazyLock, Mutex, PoisonError};

use http::HeaderMap;
use http::header::AUTHORIZATION;
use lru::LruCache;

use crate::domain::{
    PatRecord, PlainSecret, Scope, SecretHash, SecretKind, Timestamp, TokenId, UserId, authorize,
};
use crate::error::ApiError;
use crate::store::{Credential, CredentialStore, StoreError};

/// Header the mobile SDKs send the project API key in.
pub const API_KEY_HEADER: &str = "x-api-key";

/// A request authenticated by a live PAT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub hash: SecretHash,
    pub token: PatRecord,
}

impl Principal {
    pub fn owner(&self) -> &UserId {
        &self.token.owner
    }

    /// 403 unless the token carries `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        authorize(self.token.scopes, scope)
            .map_err(|missing| ApiError::forbidden(format!("this token lacks the {missing} scope")))
    }
}

/// The PAT in `Authorization: Bearer aau_…`, checked for format and checksum
/// without any I/O. The error never echoes the header.
pub fn bearer_token(headers: &HeaderMap) -> Result<PlainSecret, ApiError> {
    let value = headers
        .get(AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer token"))?
        .to_str()
        .map_err(|_| malformed())?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(malformed());
    }
    PlainSecret::parse(SecretKind::Pat, token.trim()).map_err(|_| malformed())
}

fn malformed() -> ApiError {
    ApiError::unauthorized("malformed token: expected Authorization: Bearer aau_…")
}

/// The project API key in `x-api-key`, checked for format and checksum.
pub fn api_key(headers: &HeaderMap) -> Result<PlainSecret, ApiError> {
    let value = headers
        .get(API_KEY_HEADER)
        .ok_or_else(|| ApiError::unauthorized("missing x-api-key header"))?;
    value
        .to_str()
        .ok()
        .and_then(|v| PlainSecret::parse(SecretKind::ApiKey, v.trim()).ok())
        .ok_or_else(|| ApiError::unauthorized("invalid API key"))
}

/// How fresh `lastUsedAt` is kept: a token's use is recorded at most once
/// per this many milliseconds, so authentication stays a read, not a write.
pub const LAST_USED_GRANULARITY_MS: i64 = 3_600_000;

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

/// One per process, i.e. per Lambda instance, like the check's caches: the
/// auth path is a free function its callers share, so it keeps its own.
static UNKNOWN_PATS: LazyLock<UnknownPats> = LazyLock::new(|| UnknownPats::new(MAX_UNKNOWN_PATS));

fn unknown_token() -> ApiError {
    ApiError::unauthorized("unknown or revoked token")
}

/// Resolves a PAT to its live record (as read, before this use is recorded):
/// 401 when unknown, revoked (deleted) or expired. One strongly consistent
/// read, so a revocation is seen at once; at most once an hour per token,
/// also one `lastUsedAt` write. A hash that named nothing is answered 401
/// without a read for [`UNKNOWN_PAT_TTL_MS`].
pub async fn authenticate_pat<S: CredentialStore>(
    store: &S,
    token: &PlainSecret,
    now: Timestamp,
) -> Result<Principal, ApiError> {
    let hash = token.hash();
    if UNKNOWN_PATS.contains(&hash, now) {
        return Err(unknown_token());
    }
    let record = match store.get_credential(&hash).await? {
        Some(Credential::Pat(record)) if record.expires_at > now => record,
        Some(Credential::Pat(record)) => {
            tracing::info!(token_id = %record.token_id, "expired token rejected");
            return Err(ApiError::unauthorized("token has expired"));
        }
        Some(Credential::Rotated { token_id, owner }) => {
            return Err(revoke_reused(store, &owner, &token_id).await);
        }
        _ => {
            UNKNOWN_PATS.remember(hash, now);
            return Err(unknown_token());
        }
    };
    touch_last_used(store, &hash, &record, now).await;
    tracing::debug!(token_id = %record.token_id, "token authenticated");
    Ok(Principal {
        hash,
        token: record,
    })
}

/// A secret that self-rotation replaced was presented again. Either the
/// thief or the owner holds a copy of the current secret too, and nothing
/// tells which request is whose, so the whole token is revoked (RFC 9700
/// §4.14, refresh-token reuse detection) and the answer is 401. If the
/// revocation cannot be done (DynamoDB down), the answer is that error (a
/// 503): the token stays live until it is revoked or the same secret comes
/// again, but this request never passes.
async fn revoke_reused<S: CredentialStore>(
    store: &S,
    owner: &UserId,
    token_id: &TokenId,
) -> ApiError {
    let revoked = match store.revoke_reused(owner, token_id).await {
        Ok(revoked) => revoked,
        // Still racing other writes after the store's retries: the
        // presented secret is dead either way.
        Err(StoreError::Conflict(_)) => false,
        Err(err) => return err.into(),
    };
    tracing::warn!(token_id = %token_id, revoked, "rotated-away token presented: token revoked");
    ApiError::unauthorized("this token was rotated and then presented again; the token is revoked")
}

/// Records the token's use when the stored `lastUsedAt` is missing or older
/// than [`LAST_USED_GRANULARITY_MS`]; the credential just read says so, no
/// extra read. The write is awaited inside the request rather than spawned:
/// on Lambda a task left running after the response may be frozen until the
/// next invocation. The store gives it a tight deadline and no retries, and
/// a failure is logged and swallowed: `lastUsedAt` is informational and must
/// never fail the request it rides on.
async fn touch_last_used<S: CredentialStore>(
    store: &S,
    hash: &SecretHash,
    record: &PatRecord,
    now: Timestamp,
) {
    let cutoff = now.plus_millis(-LAST_USED_GRANULARITY_MS);
    if record.last_used_at.is_some_and(|at| at >= cutoff) {
        return;
    }
    match store.touch_last_used(hash, now, cutoff).await {
        Ok(written) => tracing::debug!(token_id = %record.token_id, written, "lastUsedAt touched"),
        Err(err) => {
            tracing::warn!(token_id = %record.token_id, error = %err, "lastUsedAt not recorded");
        }
    }
}

/// `Authorization: Bearer` → live PAT: format and checksum first (a damaged
/// or invented token costs no read), then one consistent lookup.
pub async fn authenticate_request<S: CredentialStore>(
    store: &S,
    headers: &HeaderMap,
    now: Timestamp,
) -> Result<Principal, ApiError> {
    let token = bearer_token(headers)?;
    authenticate_pat(store, &token, now).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(name: &'static str, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).expect("valid header"));
        h
    }

    #[test]
    fn bearer_extraction() {
        let token = PlainSecret::generate(SecretKind::Pat).expect("randomness");
        let t = token.expose();
        for ok in [
            format!("Bearer {t}"),
            format!("bearer {t}"),
            format!("  Bearer   {t} "),
        ] {
            assert_eq!(
                bearer_token(&headers("authorization", &ok)).as_ref(),
                Ok(&token),
                "{ok}"
            );
        }
        for bad in [
            t.to_owned(),
            format!("Basic {t}"),
            "Bearer".to_owned(),
            "Bearer aau_short".to_owned(),
        ] {
            let err = bearer_token(&headers("authorization", &bad)).expect_err(&bad);
            assert_eq!(err.status(), http::StatusCode::UNAUTHORIZED);
            assert!(!err.message().contains(&t[4..]));
        }
        assert_eq!(
            bearer_token(&HeaderMap::new())
                .expect_err("missing")
                .status(),
            http::StatusCode::UNAUTHORIZED
        );
    }

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

    #[test]
    fn api_key_extraction() {
        let key = PlainSecret::generate(SecretKind::ApiKey).expect("randomness");
        assert_eq!(
            api_key(&headers("x-api-key", key.expose())).as_ref(),
            Ok(&key)
        );
        assert!(api_key(&headers("x-api-key", "junk")).is_err());
        assert!(api_key(&HeaderMap::new()).is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Any bytes a header can carry (obs-text, i.e. non-ASCII, included),
        /// with or without a real-looking prefix: a 401 that echoes nothing,
        /// unless they are exactly a well-formed secret.
        #[test]
        fn credential_headers_of_any_bytes_are_401_or_the_exact_secret(
            prefix in proptest::sample::select(vec!["", "Bearer ", "Bearer aau_", "aak_", "bearer  aau_"]),
            tail in proptest::collection::vec(
                proptest::prop_oneof![32u8..127, 128u8..=255, proptest::sample::select(b"\t0aZ_".to_vec())],
                0..64,
            ),
        ) {
            let mut bytes = prefix.as_bytes().to_vec();
            bytes.extend(&tail);
            let Ok(value) = HeaderValue::from_bytes(&bytes) else {
                return Ok(());
            };
            for name in [AUTHORIZATION.as_str(), API_KEY_HEADER] {
                let mut h = HeaderMap::new();
                h.insert(name, value.clone());
                let results = [bearer_token(&h), api_key(&h)];
                for result in results {
                    match result {
                        Ok(secret) => {
                            let text = value.to_str().map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
                            proptest::prop_assert!(text.contains(secret.expose()));
                        }
                        Err(err) => {
                            proptest::prop_assert_eq!(err.status(), http::StatusCode::UNAUTHORIZED);
                            let tail_text = String::from_utf8_lossy(&tail);
                            proptest::prop_assert!(tail.len() < 8 || !err.message().contains(tail_text.as_ref()));
                        }
                    }
                }
            }
        }
    }
}
