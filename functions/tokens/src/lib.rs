//! The `tokens` function: the account's Personal Access Tokens,
//! `/api/v1/account/tokens…`.

use app_upgrade::http::with_fallbacks;
use app_upgrade::store::CredentialStore;
use axum::Router;

/// The function's whole HTTP surface.
pub fn app<S>(store: S) -> Router
where
    S: CredentialStore + Clone + 'static,
{
    with_fallbacks(Router::new()).with_state(store)
}
