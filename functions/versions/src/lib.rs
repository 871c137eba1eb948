//! The `versions` function: version management behind scoped PATs,
//! `/api/v1/projects/{projectId}/versions…`.

use app_upgrade::http::with_fallbacks;
use app_upgrade::store::{CredentialStore, DirectoryStore};
use axum::Router;

/// The function's whole HTTP surface.
pub fn app<S>(store: S) -> Router
where
    S: CredentialStore + DirectoryStore + Clone + 'static,
{
    with_fallbacks(Router::new()).with_state(store)
}
