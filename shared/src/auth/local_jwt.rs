//! `make run` only: the account routes' JWT check that API Gateway's JWT
//! authorizer does in AWS. `cargo lambda watch` has no authorizer, so without
//! this a local account session could only be a hand-made Lambda event.
//!
//! It verifies the `Authorization: Bearer` JWT with [`JwtVerifier`] (the
//! checks and the keys are that module's) and hands the function the token's
//! claims in the request context where [`super::session::Account`] reads
//! them. It always replaces whatever authorizer context a request arrived
//! with, so only a verified signature can name the account.

// The deployed account routes rely on API Gateway; this layer in front of
// them as well would be a second, differently-configured check. `make build`
// and `make bench` build release binaries: this makes including the feature
// there impossible, not just unlikely. (The version routes verify sessions
// in the function in every build: `app_upgrade::auth::authenticate_caller`.)
#[cfg(not(debug_assertions))]
compile_error!("the `local-jwt` feature is for `make run` (debug builds) only");

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use http::header;
use lambda_http::request::RequestContext;

pub use super::jwt::JwtVerifier;

/// `app` with every request's authorizer context replaced by the claims of
/// its verified `Authorization: Bearer` JWT, or by none.
pub fn with_local_jwt(app: Router, verifier: JwtVerifier) -> Router {
    app.layer(middleware::from_fn_with_state(
        Arc::new(verifier),
        authorize,
    ))
}

async fn authorize(
    State(verifier): State<Arc<JwtVerifier>>,
    mut request: Request,
    next: Next,
) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim);
    let claims = match token {
        Some(token) => verifier.verify(token).await.ok(),
        None => None,
    };
    if let Some(RequestContext::ApiGatewayV2(ctx)) = request.extensions_mut().get_mut() {
        ctx.authorizer = claims.and_then(|claims| {
            // The authorizer types are non-exhaustive: built as API Gateway
            // sends them.
            serde_json::from_value(serde_json::json!({"jwt": {"claims": claims}})).ok()
        });
    }
    next.run(request).await
}
