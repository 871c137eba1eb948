//! The `check` function: `GET /api/v1/versions/check`, called by the
//! official mobile SDKs on every app launch — the hot path.
//!
//! A check is: API key (format and checksum, no I/O) → decoded query, its
//! names parsed as the versions API stores them (no I/O; a name it would
//! refuse is a 400) → project → the project's prepared check data → the
//! partition's candidates → best match → JSON. The key's project and the
//! project's data come from a per-instance [`cache`], so a warm check makes
//! no DynamoDB call and a cold one at most two (the key's `GetItem`, one
//! paginated `Query` of the project's versions). What a check costs is
//! bounded by the project's own data: any app name, platform or attribute
//! a caller invents is answered from the same cached project, with no read.
//! 200s carry `Cache-Control: public, max-age=<TTL>` and `Vary: x-api-key`
//! so a CDN can answer repeats; errors carry `no-store`.
//!
//! Configuration (environment, read once at start-up):
//!
//! - `CHECK_CACHE_TTL_SECONDS` (default 30): how long a key's project and a
//!   project's versions are reused, and the edge `max-age`; so a change to a
//!   version reaches checks within this many seconds (plus the eventually
//!   consistent read's sub-second lag).
//! - `CHECK_NEGATIVE_CACHE_TTL_SECONDS` (default 10): how long an unknown
//!   key is answered 401 without a lookup, and how often a check retries
//!   DynamoDB while it is down and a stale answer is at hand.
//!
//! When DynamoDB is unreachable a check answers from a stale cache entry if
//! it has one (at most 10 minutes past its TTL, logged as a warning), and
//! otherwise with 503 and `Retry-After`, which the SDKs retry.

pub mod cache;
pub mod matcher;
#[cfg(any(test, feature = "test-util"))]
pub mod memory;
pub mod query;

use std::sync::Arc;
use std::time::Instant;

use app_upgrade::auth::api_key;
use app_upgrade::domain::{ProjectId, SecretHash, Version};
use app_upgrade::http::{Route, with_fallbacks};
use app_upgrade::store::config::{ConfigError, seconds_from_env};
use app_upgrade::store::{CheckStore, Credential, CredentialStore, StoreError};
use app_upgrade::{ApiError, auth};
use axum::Router;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, CONTENT_TYPE, VARY};
use http::{HeaderMap, HeaderValue, StatusCode};
use serde::Serialize;

use cache::{CacheLimits, CheckCache, Clock, KeyLookup, Lookup, SystemClock};
use matcher::{LanguageTag, ProjectChecks};
use query::CheckQuery;

pub const CHECK_PATH: &str = "/api/v1/versions/check";
/// The function's one route (the contract test reads it).
pub const ROUTES: [Route; 1] = [Route::get(CHECK_PATH)];
pub const TTL_ENV: &str = "CHECK_CACHE_TTL_SECONDS";
pub const NEGATIVE_TTL_ENV: &str = "CHECK_NEGATIVE_CACHE_TTL_SECONDS";

/// The function's settings: cache limits and the clock the cache reads.
#[derive(Clone)]
pub struct CheckConfig {
    pub limits: CacheLimits,
    pub clock: Arc<dyn Clock>,
}

impl Default for CheckConfig {
    fn default() -> Self {
        Self {
            limits: CacheLimits::default(),
            clock: Arc::new(SystemClock),
        }
    }
}

impl CheckConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        let defaults = CacheLimits::default();
        Ok(Self {
            limits: CacheLimits {
                ttl: seconds_from_env(TTL_ENV, defaults.ttl)?,
                negative_ttl: seconds_from_env(NEGATIVE_TTL_ENV, defaults.negative_ttl)?,
                ..defaults
            },
            ..Self::default()
        })
    }
}

struct CheckState<S> {
    store: S,
    cache: CheckCache,
    /// `public, max-age=<TTL>`, built once.
    cache_control: HeaderValue,
}

/// The function's whole HTTP surface, configured with the defaults.
pub fn app<S>(store: S) -> Router
where
    S: CredentialStore + CheckStore + 'static,
{
    app_with(store, CheckConfig::default())
}

pub fn app_with<S>(store: S, config: CheckConfig) -> Router
where
    S: CredentialStore + CheckStore + 'static,
{
    let max_age = format!("public, max-age={}", config.limits.ttl.as_secs());
    let state = Arc::new(CheckState {
        store,
        cache: CheckCache::new(config.limits, config.clock),
        // Digits and ASCII letters always make a valid header value.
        cache_control: HeaderValue::try_from(max_age)
            .unwrap_or(HeaderValue::from_static("no-store")),
    });
    let [check] = ROUTES;
    with_fallbacks(Router::new().route(check.path, check.to(check_version::<S>))).with_state(state)
}

/// The whole request is taken (not `Query`/`Json` extractors): nothing is
/// rejected for its `Content-Type`, and the raw query is decoded once, by
/// our own rules.
async fn check_version<S>(State(state): State<Arc<CheckState<S>>>, request: Request) -> Response
where
    S: CredentialStore + CheckStore,
{
    match answer(&state, request.headers(), request.uri().query()).await {
        Ok(body) => (
            StatusCode::OK,
            [
                (CONTENT_TYPE, HeaderValue::from_static("application/json")),
                (CACHE_CONTROL, state.cache_control.clone()),
                (VARY, HeaderValue::from_static(auth::API_KEY_HEADER)),
            ],
            body,
        )
            .into_response(),
        // `ApiError` answers carry `no-store` already.
        Err(err) => err.into_response(),
    }
}

/// The response body, `found` or not.
#[derive(Serialize)]
struct Answer<'a> {
    found: bool,
    #[serde(rename = "forceUpgrade", skip_serializing_if = "Option::is_none")]
    force_upgrade: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    query: Echo<'a>,
}

/// The request's named parameters as sent (decoded).
#[derive(Serialize)]
struct Echo<'a> {
    app_name: &'a str,
    app_version: &'a str,
    platform: &'a str,
    environment: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_language: Option<&'a str>,
}

async fn answer<S>(
    state: &CheckState<S>,
    headers: &HeaderMap,
    raw_query: Option<&str>,
) -> Result<Vec<u8>, ApiError>
where
    S: CredentialStore + CheckStore,
{
    // A missing or malformed key is a 401 whatever the query; then the
    // query is checked, so that nothing a caller invents costs a read.
    let key = api_key(headers)?;
    let query = CheckQuery::parse(raw_query)?;
    let now = state.cache.now();
    let project = project_of(state, key.hash(), now).await?;
    let checks = checks_of(state, &project, now).await?;
    let candidates = checks.candidates(&query.partition);

    let version = Version::parse(&query.app_version).ok();
    let best = candidates.and_then(|c| c.best(version.as_ref(), &query.attributes));
    let language = query.app_language.as_deref().map(LanguageTag::parse);
    let body = Answer {
        found: best.is_some(),
        force_upgrade: best.map(|c| c.force_upgrade()),
        message: best.map(|c| c.message(language.as_ref())),
        query: Echo {
            app_name: &query.app_name,
            app_version: &query.app_version,
            platform: &query.platform,
            environment: &query.environment,
            app_language: query.app_language.as_deref(),
        },
    };
    serde_json::to_vec(&body).map_err(|e| ApiError::internal(&e))
}

fn unknown_key() -> ApiError {
    ApiError::unauthorized("invalid API key")
}

/// The project of an API key: cached, else one lookup. A PAT sent as
/// `x-api-key` is as unknown as a made-up key.
async fn project_of<S: CredentialStore>(
    state: &CheckState<S>,
    hash: SecretHash,
    now: Instant,
) -> Result<ProjectId, ApiError> {
    let stale = match state.cache.key(&hash, now) {
        KeyLookup::Known(Lookup::Fresh(project)) => return Ok(project),
        KeyLookup::Unknown => return Err(unknown_key()),
        KeyLookup::Known(Lookup::Stale(project)) => Some(project),
        KeyLookup::Known(Lookup::Missing) => None,
    };
    match state.store.get_credential(&hash).await {
        Ok(Some(Credential::ApiKey(record))) => {
            state
                .cache
                .remember_key(hash, record.project_id.clone(), now);
            Ok(record.project_id)
        }
        Ok(_) => {
            state.cache.remember_unknown_key(hash, now);
            Err(unknown_key())
        }
        Err(err) => match (err, stale) {
            (StoreError::Unavailable(cause), Some(project)) => {
                warn_stale(&cause);
                state.cache.extend_key(hash, project.clone(), now);
                Ok(project)
            }
            (err, _) => Err(err.into()),
        },
    }
}

/// The prepared check data of a project: cached, else one (paginated)
/// `Query`.
async fn checks_of<S: CheckStore>(
    state: &CheckState<S>,
    project: &ProjectId,
    now: Instant,
) -> Result<Arc<ProjectChecks>, ApiError> {
    let stale = match state.cache.project(project, now) {
        Lookup::Fresh(checks) => return Ok(checks),
        Lookup::Stale(checks) => Some(checks),
        Lookup::Missing => None,
    };
    match (state.store.active_versions(project).await, stale) {
        (Ok(records), _) => {
            let checks = Arc::new(ProjectChecks::prepare(project, records));
            state
                .cache
                .remember_project(project.clone(), checks.clone(), now);
            Ok(checks)
        }
        (Err(StoreError::Unavailable(cause)), Some(checks)) => {
            warn_stale(&cause);
            state
                .cache
                .extend_project(project.clone(), checks.clone(), now);
            Ok(checks)
        }
        (Err(err), _) => Err(err.into()),
    }
}

fn warn_stale(cause: &str) {
    tracing::warn!(error = %cause, "store unavailable; answering from the expired cache");
}
