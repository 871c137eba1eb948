//! The `tokens` function: the account's Personal Access Tokens,
//! `/api/v1/account/tokens…` — the API behind the dashboard's
//! "Account → Access Tokens" page, plus self-rotation for CI.

mod account;
mod body;
#[cfg(feature = "local-jwt")]
pub mod local_jwt;
mod page;
mod replay;
mod routes;

pub use account::Account;
pub use body::{BODY_LIMIT, CreateToken};
pub use page::{PAGE_ROUTES, PageConfig, page};

use app_upgrade::http::{Route, with_fallbacks};
use app_upgrade::store::{CredentialStore, CredentialWriter, ReceiptStore, TokenStore};
use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use http::{HeaderValue, header};

/// What the function needs from the store.
pub trait Store:
    CredentialStore + CredentialWriter + TokenStore + ReceiptStore + Clone + 'static
{
}

impl<S: CredentialStore + CredentialWriter + TokenStore + ReceiptStore + Clone + 'static> Store
    for S
{
}

/// Every route, in the order `app` destructures them: a route added here
/// and not routed there does not compile.
pub const ROUTES: [Route; 4] = [
    Route::post("/api/v1/account/tokens"),
    Route::get("/api/v1/account/tokens"),
    Route::post("/api/v1/account/tokens/self/rotate"),
    Route::delete("/api/v1/account/tokens/{tokenId}"),
];

/// The function's whole HTTP surface.
pub fn app<S: Store>(store: S) -> Router {
    let [create, list, rotate, revoke] = ROUTES;
    let routes = Router::new()
        .route(create.path, create.to(routes::create_token::<S>))
        .route(list.path, list.to(routes::list_tokens::<S>))
        .route(rotate.path, rotate.to(routes::rotate_token::<S>))
        .route(revoke.path, revoke.to(routes::revoke_token::<S>))
        .route_layer(middleware::from_fn(log_request));
    with_fallbacks(routes)
        .layer(middleware::from_fn(no_store))
        .with_state(store)
}

/// One line per routed request: the route template (never the raw path or
/// any header, which could carry a secret) and the status.
async fn log_request(route: MatchedPath, request: Request, next: Next) -> Response {
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

/// A created token is in a response body exactly once: no cache may keep it.
async fn no_store(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
