//! The `check` function: `GET /api/v1/versions/check`, called by the
//! official mobile SDKs on every app launch.

use app_upgrade::ApiError;
use app_upgrade::auth::api_key;
use app_upgrade::http::with_fallbacks;
use app_upgrade::store::{Credential, CredentialStore};
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use http::HeaderMap;

pub const CHECK_PATH: &str = "/api/v1/versions/check";

/// The function's whole HTTP surface.
pub fn app<S>(store: S) -> Router
where
    S: CredentialStore + Clone + 'static,
{
    with_fallbacks(Router::new().route(CHECK_PATH, get(check_version::<S>))).with_state(store)
}

async fn check_version<S: CredentialStore>(
    State(store): State<S>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let key = api_key(&headers)?;
    match store.get_credential(&key.hash()).await? {
        Some(Credential::ApiKey(_)) => Err(ApiError::new(
            http::StatusCode::NOT_IMPLEMENTED,
            "version matching is not implemented yet",
        )),
        _ => Err(ApiError::unauthorized("invalid API key")),
    }
}
