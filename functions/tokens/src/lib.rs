//! The `tokens` function: the account's Personal Access Tokens,
//! `/api/v1/account/tokens…` — the API behind the dashboard's
//! "Account → Access Tokens" page, plus self-rotation for CI, and the
//! account's activity (what each token write records in its transaction).

mod body;
mod limits;
mod page;
mod replay;
mod routes;

pub use body::{BODY_LIMIT, CreateToken};
pub use limits::{DEFAULT_MAX_TOKENS_PER_ACCOUNT, Limits};
pub use page::{PAGE_ROUTES, PageConfig, page};

use app_upgrade::http::{Route, log_request, no_store, token_expiry_header, with_fallbacks};
use app_upgrade::store::{
    ActivityStore, CredentialStore, CredentialWriter, DirectoryStore, ReceiptStore, TokenStore,
};
use axum::Router;
use axum::middleware;

/// What the function needs from the store; the directory only to learn
/// whether an account is in any team.
pub trait Store:
    CredentialStore
    + CredentialWriter
    + TokenStore
    + DirectoryStore
    + ReceiptStore
    + ActivityStore
    + Clone
    + 'static
{
}

impl<
    S: CredentialStore
        + CredentialWriter
        + TokenStore
        + DirectoryStore
        + ReceiptStore
        + ActivityStore
        + Clone
        + 'static,
> Store for S
{
}

/// Every route, in the order `app` destructures them: a route added here
/// and not routed there does not compile.
pub const ROUTES: [Route; 6] = [
    Route::post("/api/v1/account/tokens"),
    Route::get("/api/v1/account/tokens"),
    Route::delete("/api/v1/account/tokens"),
    Route::post("/api/v1/account/tokens/self/rotate"),
    Route::delete("/api/v1/account/tokens/{tokenId}"),
    Route::get("/api/v1/account/activity"),
];

/// The function's whole HTTP surface, with the default [`Limits`].
pub fn app<S: Store>(store: S) -> Router {
    app_with(store, Limits::default())
}

/// [`app`] with explicit limits (`main` reads them from the environment).
pub fn app_with<S: Store>(store: S, limits: Limits) -> Router {
    let [create, list, revoke_all, rotate, revoke, activity] = ROUTES;
    let routes = Router::new()
        .route(create.path, create.to(routes::create_token::<S>))
        .route(list.path, list.to(routes::list_tokens::<S>))
        .route(
            revoke_all.path,
            revoke_all.to(routes::revoke_all_tokens::<S>),
        )
        .route(rotate.path, rotate.to(routes::rotate_token::<S>))
        .route(revoke.path, revoke.to(routes::revoke_token::<S>))
        .route(activity.path, activity.to(routes::account_activity::<S>))
        .route_layer(middleware::from_fn(log_request));
    // A created token is in a response body exactly once: no cache may keep it.
    token_expiry_header(no_store(with_fallbacks(routes)))
        .layer(axum::Extension(limits))
        .with_state(store)
}
