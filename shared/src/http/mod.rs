//! HTTP glue shared by the three functions: tracing set-up, the JSON
//! fallback for unknown routes, and helpers to run an axum app on Lambda.

pub mod idempotency;
pub mod json_body;
pub mod route;

use std::fmt::Write as _;

use axum::Router;
use axum::response::IntoResponse;
use http::StatusCode;
use lambda_http::request::LambdaRequest;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::error::ApiError;

pub use idempotency::{IdempotencyHeader, Once, idempotent, idempotent_unless};
pub use json_body::{JsonBody, MAX_BODY_BYTES};
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

/// Serves `app` on Lambda, as `lambda_http::run` does, but through
/// [`make_query_valid`] first.
pub async fn run(app: Router) -> Result<(), lambda_http::Error> {
    use lambda_http::tower::ServiceExt;
    let service = lambda_http::Adapter::from(app).map_request(
        |mut event: lambda_http::LambdaEvent<LambdaRequest>| {
            make_query_valid(&mut event.payload);
            event
        },
    );
    lambda_http::lambda_runtime::run(service).await
}

/// Percent-encodes the bytes of an API Gateway event's `rawQueryString`
/// that a URI query may not hold raw (controls, space, `"`, `#`, `<`, `>`,
/// DEL). `lambda_http` builds the request URI from it verbatim and panics on
/// such a byte (`?q="x"`), which would let any caller crash an instance: a
/// 5xx, then a cold start. Everything else, escapes included, is kept, so a
/// well-formed query is unchanged.
pub fn make_query_valid(event: &mut LambdaRequest) {
    // The only variant with the features we build lambda_http with.
    #[allow(irrefutable_let_patterns)]
    let LambdaRequest::ApiGatewayV2(request) = event else {
        return;
    };
    let Some(query) = &mut request.raw_query_string else {
        return;
    };
    let refused = |b: u8| b <= b' ' || matches!(b, b'"' | b'#' | b'<' | b'>' | 0x7f);
    if !query.bytes().any(refused) {
        return;
    }
    let mut encoded = String::with_capacity(query.len() + 16);
    for c in query.chars() {
        match u8::try_from(c) {
            Ok(b) if refused(b) => {
                let _ = write!(encoded, "%{b:02X}");
            }
            _ => encoded.push(c),
        }
    }
    *query = encoded;
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
