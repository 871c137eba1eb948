//! Account sessions verified in the function: the one JWT check of the
//! codebase. The version routes use it in AWS (they have no authorizer in
//! front: their PATs are checked in the function, and an HTTP API has no
//! optional authorizer), and `make run`'s [`super::local_jwt`] layer uses it
//! for the routes that API Gateway's JWT authorizer guards in AWS.
//!
//! Like that authorizer it checks the RS256 signature against the issuer's
//! JWKS, the issuer, `exp`/`nbf`/`iat`, and the audience (`aud`, or
//! Cognito's `client_id`). Stricter in one way: only Cognito access tokens
//! (`token_use: access`), the token the page sends, pass. An id token would
//! pass the authorizer too; a page that works here works in AWS.
//!
//! The key set is fetched on first use, never at start-up, and kept. A
//! token naming a `kid` the set lacks (the pool's keys changed) fetches it
//! again, at most once per [`REFETCH_INTERVAL`]: made-up kids cannot make
//! every request a fetch. A failed fetch is tried again after
//! [`RETRY_INTERVAL`] (503 meanwhile while there are no keys).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use aws_smithy_http_client::Connector;
use aws_smithy_http_client::tls::Provider;
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_runtime_api::client::http::HttpConnector;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use http_body_util::{BodyExt, Limited};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use super::AuthError;
use super::session::Account;
use crate::store::dynamo::amazon_trust;

/// The token use the page sends.
const TOKEN_USE: &str = "access";
/// The least time between two fetches of the key set.
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// The least time between a failed fetch and the next.
pub const RETRY_INTERVAL: Duration = Duration::from_secs(5);
/// How long one fetch may take, connection and TLS included.
const FETCH_TIMEOUT: Duration = Duration::from_secs(2);
/// A Cognito key set is about 1 KB; anything far larger is not one.
const MAX_JWKS_BYTES: usize = 64 * 1024;

/// A token's claims as API Gateway's authorizer passes them on: each a
/// string (other JSON values as their JSON text).
pub type Claims = HashMap<String, String>;

/// Why a token did not pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejected {
    /// Forged, tampered, expired, another issuer's or audience's: 401.
    Invalid,
    /// The key set could not be fetched: nothing is known about the token.
    KeysUnavailable,
}

type Keys = HashMap<String, DecodingKey>;

/// What an account JWT must be to pass, and the issuer's keys.
pub struct JwtVerifier {
    issuer: String,
    audiences: Vec<String>,
    /// Where the keys come from; `None`: only the keys given at
    /// construction.
    jwks_url: Option<String>,
    keys: RwLock<Arc<Keys>>,
    /// When the next fetch may be made (none yet: at once). Held across a
    /// fetch, so concurrent requests wait for one fetch instead of each
    /// making their own.
    next_fetch: tokio::sync::Mutex<Option<Instant>>,
    fetches: AtomicUsize,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("issuer", &self.issuer)
            .field("audiences", &self.audiences)
            .field("jwks_url", &self.jwks_url)
            .field("kids", &self.current_keys().keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl JwtVerifier {
    /// `issuer`: the exact `iss`; `audiences`: accepted `aud`/`client_id`
    /// values; `jwks_url`: the issuer's JSON Web Key Set, fetched on first
    /// use.
    pub fn new(issuer: &str, audiences: &[&str], jwks_url: &str) -> Result<Self, String> {
        if !(jwks_url.starts_with("https://") || jwks_url.starts_with("http://")) {
            return Err(format!("the JWKS URL {jwks_url:?} is not an http(s) URL"));
        }
        Self::build(issuer, audiences, Some(jwks_url.to_owned()), Keys::new())
    }

    /// From `ACCOUNT_JWT_ISSUER` and `ACCOUNT_JWT_AUDIENCE` (comma-separated),
    /// with the keys at `<issuer>/.well-known/jwks.json` (Cognito's and most
    /// OIDC providers' place) unless `ACCOUNT_JWKS_URL` names another (the
    /// local Cognito serves them on the emulator's own address).
    pub fn from_env() -> Result<Self, String> {
        Self::from_env_if_configured()?.ok_or_else(|| "ACCOUNT_JWT_ISSUER is not set".into())
    }

    /// [`Self::from_env`], or `None` without an issuer: no account sessions.
    pub fn from_env_if_configured() -> Result<Option<Self>, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let Some(issuer) = var("ACCOUNT_JWT_ISSUER") else {
            return Ok(None);
        };
        let audience = var("ACCOUNT_JWT_AUDIENCE")
            .ok_or("ACCOUNT_JWT_ISSUER is set but ACCOUNT_JWT_AUDIENCE is not")?;
        let audiences: Vec<&str> = audience.split(',').collect();
        let jwks_url = var("ACCOUNT_JWKS_URL")
            .unwrap_or_else(|| format!("{}/.well-known/jwks.json", issuer.trim_end_matches('/')));
        Self::new(&issuer, &audiences, &jwks_url).map(Some)
    }

    fn build(
        issuer: &str,
        audiences: &[&str],
        jwks_url: Option<String>,
        keys: Keys,
    ) -> Result<Self, String> {
        let audiences: Vec<String> = audiences
            .iter()
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty())
            .collect();
        if issuer.is_empty() || audiences.is_empty() {
            return Err("an issuer and an audience are required".into());
        }
        Ok(Self {
            issuer: issuer.to_owned(),
            audiences,
            jwks_url,
            keys: RwLock::new(Arc::new(keys)),
            next_fetch: tokio::sync::Mutex::new(None),
            fetches: AtomicUsize::new(0),
        })
    }

    /// The account of a session token: 401 unless it passes every check
    /// (the answer never echoes it), 503 when the keys cannot be fetched.
    pub async fn authenticate(&self, token: &str) -> Result<Account, AuthError> {
        match self.verify(token).await {
            Ok(claims) => Account::from_claims(Some(&claims)),
            Err(Rejected::Invalid) => Err(AuthError::unauthorized(
                "invalid or expired account session: sign in again",
            )),
            Err(Rejected::KeysUnavailable) => Err(AuthError::Unavailable(
                "account sessions cannot be verified right now, retry shortly".into(),
            )),
        }
    }

    /// The claims of a token that passes every check.
    pub async fn verify(&self, token: &str) -> Result<Claims, Rejected> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| Rejected::Invalid)?;
        if header.alg != Algorithm::RS256 {
            return Err(Rejected::Invalid);
        }
        let kid = header.kid.ok_or(Rejected::Invalid)?;
        let key = self.key(&kid).await?;
        self.check(token, &key).ok_or(Rejected::Invalid)
    }

    /// The key `kid` names, fetching the set when it lacks that key and the
    /// last fetch is old enough.
    async fn key(&self, kid: &str) -> Result<DecodingKey, Rejected> {
        if let Some(key) = self.current_keys().get(kid) {
            return Ok(key.clone());
        }
        let Some(url) = &self.jwks_url else {
            return Err(Rejected::Invalid);
        };
        let mut next_fetch = self.next_fetch.lock().await;
        // Another request may have fetched while this one waited.
        let keys = self.current_keys();
        if let Some(key) = keys.get(kid) {
            return Ok(key.clone());
        }
        let unknown = if keys.is_empty() {
            Rejected::KeysUnavailable
        } else {
            Rejected::Invalid
        };
        if next_fetch.is_some_and(|at| Instant::now() < at) {
            return Err(unknown);
        }
        self.fetches.fetch_add(1, Ordering::Relaxed);
        match fetch_keys(url).await {
            Ok(fetched) => {
                tracing::info!(kids = ?fetched.keys().collect::<Vec<_>>(), "JWKS fetched");
                *next_fetch = Some(Instant::now() + REFETCH_INTERVAL);
                let key = fetched.get(kid).cloned();
                *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(fetched);
                key.ok_or(Rejected::Invalid)
            }
            Err(err) => {
                tracing::error!(url, error = %err, "JWKS not fetched");
                *next_fetch = Some(Instant::now() + RETRY_INTERVAL);
                Err(unknown)
            }
        }
    }

    fn current_keys(&self) -> Arc<Keys> {
        // The lock only guards a pointer swap: a poisoned one holds a whole set.
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Every check but the key lookup.
    fn check(&self, token: &str, key: &DecodingKey) -> Option<Claims> {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.validate_nbf = true;
        // Cognito and Lambda keep their clocks in sync: no skew to allow for.
        validation.leeway = 0;
        // Cognito access tokens carry `client_id`, not `aud`: checked below.
        validation.validate_aud = false;
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation)
            .ok()?
            .claims;
        let now = jsonwebtoken::get_current_timestamp();
        let issued_in_future = claims
            .get("iat")
            .is_some_and(|iat| iat.as_u64().is_none_or(|iat| iat > now));
        let audience = claims.get("aud").or_else(|| claims.get("client_id"));
        let audience_ok = match audience {
            Some(Value::String(a)) => self.audiences.contains(a),
            Some(Value::Array(list)) => list.iter().any(|a| {
                a.as_str()
                    .is_some_and(|a| self.audiences.iter().any(|x| x == a))
            }),
            _ => false,
        };
        let token_use_ok = claims.get("token_use").and_then(Value::as_str) == Some(TOKEN_USE);
        if issued_in_future || !audience_ok || !token_use_ok {
            return None;
        }
        Some(
            claims
                .into_iter()
                .map(|(name, value)| match value {
                    Value::String(s) => (name, s),
                    other => (name, other.to_string()),
                })
                .collect(),
        )
    }

    /// How many times the key set was fetched.
    #[cfg(any(test, feature = "test-util"))]
    pub fn fetches(&self) -> usize {
        self.fetches.load(Ordering::Relaxed)
    }
}

/// The key set at `url`: plain http for the local Cognito, https trusting
/// the Amazon roots as the store's client does (Cognito chains to them).
async fn fetch_keys(url: &str) -> Result<Keys, String> {
    let connector = Connector::builder()
        .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(amazon_trust())
        .build();
    let request = HttpRequest::get(url).map_err(|e| e.to_string())?;
    let fetch = async {
        let response = connector.call(request).await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(format!("HTTP {status}"));
        }
        Limited::new(response.into_body(), MAX_JWKS_BYTES)
            .collect()
            .await
            .map(|body| body.to_bytes())
            .map_err(|e| e.to_string())
    };
    let body = tokio::time::timeout(FETCH_TIMEOUT, fetch)
        .await
        .map_err(|_| format!("no answer within {FETCH_TIMEOUT:?}"))??;
    parse_keys(&body)
}

fn parse_keys(jwks: &[u8]) -> Result<Keys, String> {
    let set: JwkSet =
        serde_json::from_slice(jwks).map_err(|e| format!("the JWKS is not a key set: {e}"))?;
    let mut keys = Keys::new();
    for jwk in &set.keys {
        let kid = jwk.common.key_id.clone().ok_or("a JWKS key has no kid")?;
        let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("JWKS key {kid}: {e}"))?;
        keys.insert(kid, key);
    }
    if keys.is_empty() {
        return Err("the JWKS has no keys".into());
    }
    Ok(keys)
}

/// Tokens signed by test-only keys (testdata/README.md), for this module's
/// tests and the integration tests' router checks.
#[cfg(any(test, feature = "test-util"))]
pub mod testing {
    use super::{JwtVerifier, parse_keys};
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use serde_json::{Value, json};

    /// The issuer's signing key; its public half is [`JWKS`].
    pub const ISSUER_KEY: &[u8] = include_bytes!("testdata/test-key-a.der");
    /// A key the issuer never published: an attacker's.
    pub const OTHER_KEY: &[u8] = include_bytes!("testdata/test-key-b.der");
    pub const KID: &str = "test-a";
    pub const JWKS: &str = include_str!("testdata/test-jwks-a.json");
    pub const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_test";
    pub const CLIENT: &str = "localclient";

    impl JwtVerifier {
        /// A verifier with the keys of `jwks` and no URL to fetch more from.
        pub fn with_keys(issuer: &str, audiences: &[&str], jwks: &str) -> Result<Self, String> {
            Self::build(issuer, audiences, None, parse_keys(jwks.as_bytes())?)
        }
    }

    /// [`ISSUER`]'s verifier, holding [`JWKS`].
    pub fn verifier() -> JwtVerifier {
        JwtVerifier::with_keys(ISSUER, &[CLIENT], JWKS).expect("a valid verifier")
    }

    pub fn now() -> i64 {
        i64::try_from(jsonwebtoken::get_current_timestamp()).expect("a sane clock")
    }

    /// An access token for `sub` as Cognito issues it, with `changes`
    /// applied to its claims (a null removes the claim).
    pub fn access_token(sub: &str, changes: Value) -> String {
        sign(ISSUER_KEY, KID, sub, changes)
    }

    pub fn sign(key: &[u8], kid: &str, sub: &str, changes: Value) -> String {
        let mut claims = json!({
            "iss": ISSUER, "sub": sub, "client_id": CLIENT, "token_use": "access",
            "username": sub, "iat": now(), "auth_time": now(), "exp": now() + 3600,
        });
        let map = claims.as_object_mut().expect("an object");
        for (name, value) in changes.as_object().expect("an object of changes") {
            match value {
                Value::Null => map.remove(name),
                v => map.insert(name.clone(), v.clone()),
            };
        }
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.into());
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_rsa_der(key)).expect("signs")
    }

    /// One token per way a JWT must fail, with what is wrong with it.
    pub fn rejected_tokens(sub: &str) -> Vec<(&'static str, String)> {
        let token = |changes| access_token(sub, changes);
        let other_issuer = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other";
        vec![
            (
                "signed by another key",
                sign(OTHER_KEY, KID, sub, json!({})),
            ),
            ("unknown kid", sign(ISSUER_KEY, "other", sub, json!({}))),
            ("wrong issuer", token(json!({"iss": other_issuer}))),
            ("no issuer", token(json!({"iss": null}))),
            ("expired", token(json!({"exp": now() - 1}))),
            ("no expiry", token(json!({"exp": null}))),
            ("not yet valid", token(json!({"nbf": now() + 600}))),
            ("issued in the future", token(json!({"iat": now() + 600}))),
            (
                "wrong client",
                token(json!({"client_id": "someone-elses-client"})),
            ),
            ("no audience", token(json!({"client_id": null}))),
            (
                "wrong aud",
                token(json!({"client_id": null, "aud": "other"})),
            ),
            ("id token", token(json!({"token_use": "id"}))),
            ("no token use", token(json!({"token_use": null}))),
            ("no sub", token(json!({"sub": null}))),
            ("not a JWT", "aau_notajwt".to_owned()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use http::StatusCode;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    const SUB: &str = "3f6c2b1e-0000-4000-8000-000000000001";

    #[tokio::test]
    async fn a_cognito_access_token_passes_with_its_claims() {
        let claims = verifier()
            .verify(&access_token(SUB, json!({})))
            .await
            .expect("passes");
        assert_eq!(claims["sub"], SUB);
        assert_eq!(claims["token_use"], "access");
        assert!(claims["exp"].parse::<i64>().is_ok(), "numbers as text");
        // An `aud` claim is checked instead of client_id when present.
        let with_aud = access_token(SUB, json!({"client_id": null, "aud": [CLIENT, "other"]}));
        assert!(verifier().verify(&with_aud).await.is_ok());
        let account = verifier()
            .authenticate(&access_token(SUB, json!({})))
            .await
            .expect("an account");
        assert_eq!(account.user.as_str(), SUB);
    }

    #[tokio::test]
    async fn every_failed_check_rejects_with_a_401_that_echoes_nothing() {
        for (why, token) in rejected_tokens(SUB) {
            assert_eq!(
                verifier().verify(&token).await,
                Err(Rejected::Invalid),
                "{why} passed"
            );
            let err = verifier().authenticate(&token).await.expect_err(why);
            assert_eq!(err.status(), StatusCode::UNAUTHORIZED, "{why}");
            assert!(!err.message().contains(&token), "{why}");
        }
    }

    #[tokio::test]
    async fn other_algorithms_are_refused() {
        // HS256 "signed" with the public JWKS text: the classic key confusion.
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(KID.into());
        let claims = json!({"iss": ISSUER, "sub": SUB, "client_id": CLIENT,
                            "token_use": "access", "exp": now() + 3600});
        let secret = EncodingKey::from_secret(JWKS.as_bytes());
        let token = jsonwebtoken::encode(&header, &claims, &secret).expect("signs");
        assert!(verifier().verify(&token).await.is_err());
        // alg "none": a valid token's claims with no signature.
        let valid = access_token(SUB, json!({}));
        let claims_part = valid.split('.').nth(1).expect("three parts");
        // {"alg":"none","kid":"test-a"}
        let unsigned = format!("eyJhbGciOiJub25lIiwia2lkIjoidGVzdC1hIn0.{claims_part}.");
        assert!(verifier().verify(&unsigned).await.is_err());
    }

    #[test]
    fn configuration_must_be_complete() {
        let url = "https://example.com/.well-known/jwks.json";
        assert!(JwtVerifier::new("", &[CLIENT], url).is_err());
        assert!(JwtVerifier::new(ISSUER, &[" "], url).is_err());
        assert!(JwtVerifier::new(ISSUER, &[CLIENT], "file:///etc/jwks.json").is_err());
        assert!(JwtVerifier::new(ISSUER, &[CLIENT], url).is_ok());
        assert!(JwtVerifier::with_keys(ISSUER, &[CLIENT], r#"{"keys": []}"#).is_err());
        assert!(JwtVerifier::with_keys(ISSUER, &[CLIENT], "not json").is_err());
    }

    /// A JWKS endpoint on a local port answering each request with the
    /// next of `bodies` (the last one again once they run out).
    async fn jwks_server(bodies: Vec<(u16, String)>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let addr = listener.local_addr().expect("an address");
        tokio::spawn(async move {
            for n in 0.. {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let (status, body) = bodies[n.min(bodies.len() - 1)].clone();
                let mut request = vec![0; 4096];
                let _ = socket.read(&mut request).await;
                let answer = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        format!("http://{addr}/us-east-1_test/.well-known/jwks.json")
    }

    #[tokio::test]
    async fn keys_are_fetched_on_first_use_then_kept() {
        let url = jwks_server(vec![(200, JWKS.to_owned())]).await;
        let verifier = JwtVerifier::new(ISSUER, &[CLIENT], &url).expect("valid");
        assert_eq!(verifier.fetches(), 0, "nothing at construction");
        for _ in 0..20 {
            let token = access_token(SUB, json!({}));
            assert!(verifier.verify(&token).await.is_ok());
        }
        assert_eq!(verifier.fetches(), 1);
        // Garbage and made-up kids: refused, and the set is not fetched again
        // within the interval, however many there are.
        for n in 0..50 {
            let kid = format!("made-up-{n}");
            let forged = sign(ISSUER_KEY, &kid, SUB, json!({}));
            assert_eq!(verifier.verify(&forged).await, Err(Rejected::Invalid));
            assert_eq!(verifier.verify("garbage").await, Err(Rejected::Invalid));
        }
        assert_eq!(verifier.fetches(), 1);
    }

    #[tokio::test]
    async fn concurrent_first_requests_share_one_fetch() {
        let url = jwks_server(vec![(200, JWKS.to_owned())]).await;
        let verifier = Arc::new(JwtVerifier::new(ISSUER, &[CLIENT], &url).expect("valid"));
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let verifier = Arc::clone(&verifier);
                tokio::spawn(
                    async move { verifier.verify(&access_token(SUB, json!({}))).await.is_ok() },
                )
            })
            .collect();
        for task in tasks {
            assert!(task.await.expect("joins"));
        }
        assert_eq!(verifier.fetches(), 1);
    }

    #[tokio::test]
    async fn a_key_set_that_cannot_be_fetched_is_a_503_and_fetched_once_per_interval() {
        let url = jwks_server(vec![(500, "{}".to_owned())]).await;
        let verifier = JwtVerifier::new(ISSUER, &[CLIENT], &url).expect("valid");
        let token = access_token(SUB, json!({}));
        let err = verifier.authenticate(&token).await.expect_err("no keys");
        assert_eq!(err.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(!err.message().contains(&token));
        // Within the interval: no second fetch.
        assert_eq!(
            verifier.verify(&token).await,
            Err(Rejected::KeysUnavailable)
        );
        assert_eq!(verifier.fetches(), 1);
        // Nothing listens here.
        let closed = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
            listener.local_addr().expect("an address")
        };
        let verifier = JwtVerifier::new(ISSUER, &[CLIENT], &format!("http://{closed}/jwks.json"))
            .expect("valid");
        assert_eq!(
            verifier.verify(&token).await,
            Err(Rejected::KeysUnavailable)
        );
    }
}
