//! Authentication and authorization: request headers in, a verified
//! principal (or an [`AuthError`]: unauthenticated, forbidden, or the
//! store's failure) out. The credentials themselves are domain data; the
//! HTTP layer (`error.rs`) turns an `AuthError` into its answer.
//! A PAT is checked here ([`authenticate_request`]); an account session is
//! a JWT that API Gateway verifies before the function sees it
//! ([`session`]) or, on the routes that take either, the function itself
//! ([`authenticate_caller`], [`jwt`]).

pub mod jwt;
#[cfg(feature = "local-jwt")]
pub mod local_jwt;
pub mod session;

mod context;

use std::borrow::Cow;
use std::net::IpAddr;

use http::HeaderMap;
use http::header::AUTHORIZATION;

use crate::domain::activity::Origin;
use crate::domain::{
    PatRecord, PlainSecret, Scope, SecretHash, SecretKind, Timestamp, TokenId, UserId, authorize,
};
use crate::store::{Credential, CredentialStore, StoreError};
use jwt::JwtVerifier;
use session::Account;

pub use context::{TokenExpiry, authenticate_with_context, source_ip};

pub use crate::store::unknown::{MAX_UNKNOWN_PATS, UNKNOWN_PAT_TTL_MS, UnknownPats};

/// Why a request was not let through. Messages never hold a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No credential, a malformed, unknown, revoked or expired one: 401.
    #[error("{0}")]
    Unauthorized(Cow<'static, str>),
    /// A live credential without the right: 403.
    #[error("{0}")]
    Forbidden(String),
    /// The store could not answer.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Something else the check needs (an issuer's keys) is out of reach:
    /// 503 with `Retry-After`.
    #[error("{0}")]
    Unavailable(Cow<'static, str>),
}

impl AuthError {
    pub(crate) fn unauthorized(message: impl Into<Cow<'static, str>>) -> Self {
        Self::Unauthorized(message.into())
    }
}

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

    /// Forbidden unless the token carries `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), AuthError> {
        authorize(self.token.scopes, scope).map_err(|missing| {
            AuthError::Forbidden(format!("this token lacks the {missing} scope"))
        })
    }
}

/// The PAT in `Authorization: Bearer aau_…`, checked for format and checksum
/// without any I/O. The error never echoes the header.
pub fn bearer_token(headers: &HeaderMap) -> Result<PlainSecret, AuthError> {
    let value = headers
        .get(AUTHORIZATION)
        .ok_or_else(|| AuthError::unauthorized("missing Authorization: Bearer token"))?
        .to_str()
        .map_err(|_| malformed())?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(malformed());
    }
    PlainSecret::parse(SecretKind::Pat, token.trim()).map_err(|_| malformed())
}

/// The candidate account session in `Authorization: Bearer …`: any bearer
/// value that is not a PAT (`aau_…`), parsed as [`bearer_token`] parses.
pub fn bearer_session(headers: &HeaderMap) -> Option<&str> {
    let (scheme, token) = headers
        .get(AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim()
        .split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer")
        && !token.is_empty()
        && !token.starts_with(SecretKind::Pat.prefix()))
    .then_some(token)
}

fn malformed() -> AuthError {
    AuthError::unauthorized("malformed token: expected Authorization: Bearer aau_…")
}

/// The project API key in `x-api-key`, checked for format and checksum.
pub fn api_key(headers: &HeaderMap) -> Result<PlainSecret, AuthError> {
    let value = headers
        .get(API_KEY_HEADER)
        .ok_or_else(|| AuthError::unauthorized("missing x-api-key header"))?;
    value
        .to_str()
        .ok()
        .and_then(|v| PlainSecret::parse(SecretKind::ApiKey, v.trim()).ok())
        .ok_or_else(|| AuthError::unauthorized("invalid API key"))
}

/// How fresh `lastUsedAt` is kept: a token's use is recorded at most once
/// per this many milliseconds, so authentication stays a read, not a write.
pub const LAST_USED_GRANULARITY_MS: i64 = 3_600_000;

fn unknown_token() -> AuthError {
    AuthError::unauthorized("unknown or revoked token")
}

/// Resolves a PAT to its live record (as read, before this use is recorded):
/// 401 when unknown, revoked (deleted) or expired. One strongly consistent
/// read, so a revocation is seen at once; at most once an hour per token,
/// also one `lastUsedAt` write. A hash that named nothing is answered 401
/// without a read for [`UNKNOWN_PAT_TTL_MS`], by the store's
/// [`UnknownPats`] (one per store, built with it at start-up).
pub async fn authenticate_pat<S: CredentialStore>(
    store: &S,
    token: &PlainSecret,
    now: Timestamp,
) -> Result<Principal, AuthError> {
    authenticate_pat_from(store, token, now, None).await
}

/// 401 without a read when `token`'s hash named nothing less than
/// [`UNKNOWN_PAT_TTL_MS`] ago (the store's [`UnknownPats`], one per store,
/// built with it at start-up): the first check of every PAT route, before
/// anything else it may read (a rotation's receipt included).
pub fn screen_pat<S: CredentialStore>(
    store: &S,
    token: &PlainSecret,
    now: Timestamp,
) -> Result<(), AuthError> {
    match store.unknown_pats() {
        Some(unknown) if unknown.contains(&token.hash(), now) => Err(unknown_token()),
        _ => Ok(()),
    }
}

/// [`authenticate_pat`], recording the use with the caller's address.
async fn authenticate_pat_from<S: CredentialStore>(
    store: &S,
    token: &PlainSecret,
    now: Timestamp,
    source: Option<IpAddr>,
) -> Result<Principal, AuthError> {
    screen_pat(store, token, now)?;
    let hash = token.hash();
    let unknown = store.unknown_pats();
    let record = match store.get_credential(&hash).await? {
        Some(Credential::Pat(record)) if record.expires_at > now => record,
        Some(Credential::Pat(record)) => {
            tracing::info!(token_id = %record.token_id, "expired token rejected");
            return Err(AuthError::unauthorized("token has expired"));
        }
        Some(Credential::Rotated { token_id, owner }) => {
            return Err(revoke_reused(store, &owner, &token_id, source).await);
        }
        _ => {
            if let Some(unknown) = unknown {
                unknown.remember(hash, now);
            }
            return Err(unknown_token());
        }
    };
    touch_last_used(store, &hash, &record, now, source).await;
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
    source: Option<IpAddr>,
) -> AuthError {
    // Recorded for the owner with the presenter's address.
    let origin = Origin::new(source.map(|ip| ip.to_string()).as_deref(), None);
    let revoked = match store.revoke_reused(owner, token_id, &origin).await {
        Ok(revoked) => revoked,
        // Still racing other writes after the store's retries: the
        // presented secret is dead either way.
        Err(StoreError::Conflict(_)) => false,
        Err(err) => return AuthError::Store(err),
    };
    tracing::warn!(token_id = %token_id, revoked, "rotated-away token presented: token revoked");
    AuthError::unauthorized("this token was rotated and then presented again; the token is revoked")
}

/// Records the token's use, with `source` (the caller's address), when the
/// stored `lastUsedAt` is missing or older than [`LAST_USED_GRANULARITY_MS`];
/// the credential just read says so, no extra read. The write is awaited
/// inside the request rather than spawned: on Lambda a task left running
/// after the response may be frozen until the next invocation. The store gives it a tight deadline and no retries, and
/// a failure is logged and swallowed: `lastUsedAt` is informational and must
/// never fail the request it rides on.
async fn touch_last_used<S: CredentialStore>(
    store: &S,
    hash: &SecretHash,
    record: &PatRecord,
    now: Timestamp,
    source: Option<IpAddr>,
) {
    let cutoff = now.plus_millis(-LAST_USED_GRANULARITY_MS);
    if record.last_used_at.is_some_and(|at| at >= cutoff) {
        return;
    }
    match store.touch_last_used(hash, now, cutoff, source).await {
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
) -> Result<Principal, AuthError> {
    let token = bearer_token(headers)?;
    authenticate_pat(store, &token, now).await
}

/// Who calls a route that takes either credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A live PAT, with its scopes.
    Pat(Principal),
    /// A verified account session: the account's own rights.
    Session(Account),
}

impl Caller {
    /// The account acting: the token's owner or the session's.
    pub fn account(&self) -> &UserId {
        match self {
            Self::Pat(principal) => principal.owner(),
            Self::Session(account) => &account.user,
        }
    }

    /// 403 unless a PAT carries `scope`; a session has every scope.
    pub fn require(&self, scope: Scope) -> Result<(), AuthError> {
        match self {
            Self::Pat(principal) => principal.require(scope),
            Self::Session(_) => Ok(()),
        }
    }
}

/// A PAT exactly as [`authenticate_request`] checks it or, when `sessions`
/// is configured and the bearer is not a PAT, an account session that
/// `sessions` verifies (401 otherwise, never echoing it). Without `sessions`,
/// PATs only.
pub async fn authenticate_caller<S: CredentialStore>(
    store: &S,
    sessions: Option<&JwtVerifier>,
    headers: &HeaderMap,
    extensions: &http::Extensions,
    now: Timestamp,
) -> Result<Caller, AuthError> {
    match (sessions, bearer_session(headers)) {
        (Some(verifier), Some(jwt)) => verifier.authenticate(jwt).await.map(Caller::Session),
        _ => authenticate_with_context(store, headers, extensions, now)
            .await
            .map(Caller::Pat),
    }
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
    fn a_bearer_that_is_not_a_pat_is_a_session_candidate() {
        let pat = PlainSecret::generate(SecretKind::Pat).expect("randomness");
        for (value, session) in [
            ("Bearer eyJ.a.b", Some("eyJ.a.b")),
            ("  bearer   eyJ.a.b ", Some("eyJ.a.b")),
            ("Bearer garbage", Some("garbage")),
            (&format!("Bearer {}", pat.expose()), None),
            ("Bearer aau_short", None),
            ("Basic eyJ.a.b", None),
            ("Bearer", None),
            ("Bearer  ", None),
            ("eyJ.a.b", None),
        ] {
            assert_eq!(
                bearer_session(&headers("authorization", value)),
                session,
                "{value}"
            );
        }
        assert_eq!(bearer_session(&HeaderMap::new()), None);
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
