//! HTTP glue shared by the three functions: tracing set-up, the JSON
//! fallback for unknown routes, and helpers to run an axum app on Lambda.

pub mod json_body;

use axum::Router;
use axum::response::IntoResponse;
use http::StatusCode;

use crate::error::ApiError;

pub use json_body::{JsonBody, MAX_BODY_BYTES};

/// Initializes JSON logs (what CloudWatch Logs Insights queries best) once,
/// at the level in `RUST_LOG` (default `info`). Never log secrets: the types
/// that hold them redact their `Debug`.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A second initialization (tests) is harmless; ignore its error.
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .without_time()
        .with_target(false)
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
