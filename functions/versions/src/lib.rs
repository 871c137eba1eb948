//! The `versions` function: version management behind scoped PATs,
//! `/api/v1/projects/{projectId}/versions…`.
//!
//! Every handler is admission (an extractor doing auth, scope, `teamId` and
//! access, see [`admit`]), then parse, domain, store, one response. Errors
//! are [`ApiError`]s all the way. Every answer carries
//! `Cache-Control: no-store`: it is per-token and may change at once.

pub mod admit;
pub mod body;
pub mod listing;
pub mod query;

use app_upgrade::ApiError;
use app_upgrade::domain::{Timestamp, VersionRecord};
use app_upgrade::http::{JsonBody, Route, json, no_store, with_fallbacks};
use app_upgrade::store::{CredentialStore, DirectoryStore, VersionStore};
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

use crate::admit::{ProjectAccess, Read, VersionAccess, Write, version_not_found};
use crate::body::{Intent, VersionFields};
use crate::listing::ListParams;

pub const COLLECTION_PATH: &str = "/api/v1/projects/{projectId}/versions";
pub const ITEM_PATH: &str = "/api/v1/projects/{projectId}/versions/{versionId}";

/// Everything the function reads and writes.
pub trait Store: CredentialStore + DirectoryStore + VersionStore + Clone + 'static {}

impl<S: CredentialStore + DirectoryStore + VersionStore + Clone + 'static> Store for S {}

/// Every route, in the order `app` destructures them: a route added here
/// and not routed there does not compile.
pub const ROUTES: [Route; 5] = [
    Route::get(COLLECTION_PATH),
    Route::post(COLLECTION_PATH),
    Route::get(ITEM_PATH),
    Route::patch(ITEM_PATH),
    Route::delete(ITEM_PATH),
];

/// The function's whole HTTP surface.
pub fn app<S: Store>(store: S) -> Router {
    let [list, create, read, update, delete] = ROUTES;
    let routes = Router::new()
        .route(list.path, list.to(list_versions::<S>))
        .route(create.path, create.to(create_version::<S>))
        .route(read.path, read.to(get_version::<S>))
        .route(update.path, update.to(update_version::<S>))
        .route(delete.path, delete.to(delete_version::<S>));
    no_store(with_fallbacks(routes)).with_state(store)
}

async fn list_versions<S: Store>(
    State(store): State<S>,
    access: ProjectAccess<Read>,
) -> Result<Response, ApiError> {
    let params = ListParams::parse(&access.query)?;
    let records = store.list_versions(&access.project).await?;
    Ok(json(StatusCode::OK, &listing::page(records, &params)))
}

async fn get_version<S: Store>(
    State(store): State<S>,
    access: VersionAccess<Read>,
) -> Result<Response, ApiError> {
    let record = find(&store, &access).await?;
    Ok(json(StatusCode::OK, &record))
}

async fn create_version<S: Store>(
    State(store): State<S>,
    access: ProjectAccess<Write>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let record = VersionFields::parse(&body, Intent::Create, &access.project)?
        .into_new_record(access.project.clone(), Timestamp::now());
    store.create_version(&record).await?;
    // With `teamId`, so the URL works as is for a GET.
    let location = format!(
        "/api/v1/projects/{}/versions/{}?teamId={}",
        record.project, record.id, access.team
    );
    let mut response = json(StatusCode::CREATED, &record);
    // Ids are ASCII by construction; a failure here would be a bug, not bad input.
    let location = HeaderValue::try_from(location).map_err(|e| ApiError::internal(&e))?;
    response.headers_mut().insert(header::LOCATION, location);
    Ok(response)
}

async fn update_version<S: Store>(
    State(store): State<S>,
    access: VersionAccess<Write>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let fields = VersionFields::parse(&body, Intent::Update, &access.project)?;
    let current = find(&store, &access).await?;
    let next = fields.apply_to(&current, Timestamp::now());
    let stored = store.update_version(&current, &next).await?;
    Ok(json(StatusCode::OK, &stored))
}

async fn delete_version<S: Store>(
    State(store): State<S>,
    access: VersionAccess<Write>,
) -> Result<Response, ApiError> {
    let current = find(&store, &access).await?;
    if store.delete_version(&current).await? {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(version_not_found())
    }
}

async fn find<S: Store, Sc>(
    store: &S,
    access: &VersionAccess<Sc>,
) -> Result<VersionRecord, ApiError> {
    store
        .get_version(&access.project, &access.version)
        .await?
        .ok_or_else(version_not_found)
}
