//! HTTP glue shared by the three functions: tracing set-up, the JSON
//! fallback for unknown routes, `no-store`, the token expiry header, and
//! running an axum app on Lambda ([`lambda`]).

pub mod activity;
pub mod idempotency;
pub mod json_body;
pub mod lambda;
pub mod origin;
pub mod query;
pub mod route;

use axum::Router;
use axum::response::IntoResponse;
use http::{HeaderValue, StatusCode};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::auth::TokenExpiry;
use crate::error::ApiError;

pub use idempotency::{IdempotencyHeader, Once, idempotent, idempotent_unless};
pub use json_body::{JsonBody, MAX_BODY_BYTES};
pub use lambda::{admit, handler, make_query_valid, run};
pub use origin::RequestOrigin;
pub use query::Query;
pub use route::Route;

/// Initializes JSON logs (what CloudWatch Logs Insights queries best) once,
/// at the level in `RUST_LOG` (default `info`). Never log secrets: the types
/// that hold them redact their `Debug`.
pub fn init_tracing() {
    // `Targets` parses `info` or `tokens=debug,info` without pulling in a
    // regex engine, which would cost binary size and cold-start time.
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    // A second initialization (tests) is harmless; ignore its error.
    let format = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(false)
        .without_time()
        .with_target(false);
    let _ = tracing_subscriber::registry()
        .with(format)
        .with(filter)
        .try_init();
}

/// Unknown paths: a JSON 404. Wrong methods on known paths get a JSON 405
/// through [`method_not_allowed`].
pub async fn not_found() -> impl IntoResponse {
    ApiError::not_found("no such route")
}

pub async fn method_not_allowed() -> impl IntoResponse {
    ApiError::method_not_allowed()
}

/// Adds the JSON 404/405 fallbacks every function shares.
pub fn with_fallbacks<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

/// `Cache-Control: no-store` on every answer of `router`, success or error:
/// for the management APIs, whose answers are per-caller and may carry a
/// secret shown once. (Errors carry it anyway, see [`ApiError`].)
pub fn no_store<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router.layer(axum::middleware::map_response(
        |mut response: axum::response::Response| async move {
            response.headers_mut().insert(
                http::header::CACHE_CONTROL,
                HeaderValue::from_static("no-store"),
            );
            response
        },
    ))
}

/// The header that tells a PAT's holder when the token expires.
pub const TOKEN_EXPIRES_AT: &str = "aau-token-expires-at";

/// `Aau-Token-Expires-At: <RFC 3339>` on every answer of `router` to a
/// request whose PAT the auth path identified (see [`TokenExpiry`]): its
/// successes and its errors alike, so a pipeline sees the expiry coming on
/// whatever it does. Answers to other requests are left as they are.
pub fn token_expiry_header<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router.layer(axum::middleware::from_fn(
        async |mut request: axum::extract::Request, next: axum::middleware::Next| {
            let slot = TokenExpiry::default();
            request.extensions_mut().insert(slot.clone());
            let mut response = next.run(request).await;
            if let Some(expires_at) = slot.get()
                && let Ok(value) = HeaderValue::from_str(&expires_at.to_string())
            {
                response.headers_mut().insert(TOKEN_EXPIRES_AT, value);
            }
            response
        },
    ))
}

/// One line per routed request: the route template (never the raw path or
/// any header, which could carry a secret) and the status.
pub async fn log_request(
    route: axum::extract::MatchedPath,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let method = request.method().clone();
    let response = next.run(request).await;
    tracing::info!(
        %method,
        route = route.as_str(),
        status = response.status().as_u16(),
        "request"
    );
    response
}

/// A JSON success response.
pub fn json<T: serde::Serialize>(status: StatusCode, body: &T) -> axum::response::Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(http::header::CONTENT_TYPE, "application/json")],
            bytes,
        )
            .into_response(),
        Err(err) => ApiError::internal(&err).into_response(),
    }
}
