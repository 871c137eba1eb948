//! The `versions` function: version management behind scoped PATs or an
//! account session, `/api/v1/projects/{projectId}/versions…`.
//!
//! Every handler is admission (an extractor doing auth, scope, `teamId` and
//! access, see [`admit`]), then parse, domain, store, one response. Errors
//! are [`ApiError`]s all the way. Every answer carries
//! `Cache-Control: no-store`: it is per-caller and may change at once; every
//! answer after a PAT is identified carries `Aau-Token-Expires-At`.
//! Writes honour `Idempotency-Key` ([`idempotent`]): the key belongs to the
//! caller's account (the token's owner, or the session's).

pub mod admit;
pub mod body;
pub mod history;
pub mod listing;
pub mod query;

use std::sync::Arc;

use app_upgrade::ApiError;
use app_upgrade::auth::jwt::JwtVerifier;
use app_upgrade::domain::activity::Provenance;
use app_upgrade::domain::{Answer, Environment, ReceiptScope, Timestamp, UserId, VersionRecord};
use app_upgrade::http::idempotency::json_answer;
use app_upgrade::http::{
    IdempotencyHeader, JsonBody, Once, RequestOrigin, Route, idempotent, json, no_store,
    token_expiry_header, with_fallbacks,
};
use app_upgrade::store::versions::next_revision;
use app_upgrade::store::{
    ActivityStore, CredentialStore, DirectoryStore, ReceiptStore, VersionStore,
};
use axum::extract::State;
use axum::response::Response;
use axum::{Extension, Router};
use http::StatusCode;
use serde_json::Value;

use crate::admit::{
    Environments, ProjectAccess, Read, Sessions, VersionAccess, Write, version_not_found,
};
use crate::body::{Intent, VersionFields};
use crate::listing::ListParams;

pub const COLLECTION_PATH: &str = "/api/v1/projects/{projectId}/versions";
pub const ITEM_PATH: &str = "/api/v1/projects/{projectId}/versions/{versionId}";
pub const ACTIVITY_PATH: &str = "/api/v1/projects/{projectId}/activity";
pub const HISTORY_PATH: &str = "/api/v1/projects/{projectId}/versions/{versionId}/history";
pub const RESTORE_PATH: &str = "/api/v1/projects/{projectId}/versions/{versionId}/restore";

/// Everything the function reads and writes.
pub trait Store:
    CredentialStore + DirectoryStore + VersionStore + ReceiptStore + ActivityStore + Clone + 'static
{
}

impl<S> Store for S where
    S: CredentialStore
        + DirectoryStore
        + VersionStore
        + ReceiptStore
        + ActivityStore
        + Clone
        + 'static
{
}

/// Every route, in the order `app` destructures them: a route added here
/// and not routed there does not compile.
pub const ROUTES: [Route; 8] = [
    Route::get(COLLECTION_PATH),
    Route::post(COLLECTION_PATH),
    Route::get(ITEM_PATH),
    Route::patch(ITEM_PATH),
    Route::delete(ITEM_PATH),
    Route::get(ACTIVITY_PATH),
    Route::get(HISTORY_PATH),
    Route::post(RESTORE_PATH),
];

/// The function's whole HTTP surface, taking account sessions that
/// `sessions` verifies as well as PATs.
pub fn app_with_sessions<S: Store>(store: S, sessions: Arc<JwtVerifier>) -> Router {
    app(store).layer(Extension(Sessions(sessions)))
}

/// The function's whole HTTP surface, PATs only.
pub fn app<S: Store>(store: S) -> Router {
    let [
        list,
        create,
        read,
        update,
        delete,
        activity,
        revisions,
        restore,
    ] = ROUTES;
    let routes = Router::new()
        .route(list.path, list.to(list_versions::<S>))
        .route(create.path, create.to(create_version::<S>))
        .route(read.path, read.to(get_version::<S>))
        .route(update.path, update.to(update_version::<S>))
        .route(delete.path, delete.to(delete_version::<S>))
        .route(activity.path, activity.to(history::project_activity::<S>))
        .route(revisions.path, revisions.to(history::version_history::<S>))
        .route(restore.path, restore.to(history::restore_version::<S>));
    token_expiry_header(no_store(with_fallbacks(routes))).with_state(store)
}

async fn list_versions<S: Store>(
    State(store): State<S>,
    access: ProjectAccess<Read>,
) -> Result<Response, ApiError> {
    let params = ListParams::parse(&access.query)?.within(access.environments.limited_to());
    let page = listing::list(&store, &access.project, &params).await?;
    Ok(json(StatusCode::OK, &page))
}

async fn get_version<S: Store>(
    State(store): State<S>,
    access: VersionAccess<Read>,
) -> Result<Response, ApiError> {
    let record = find(&store, &access).await?;
    if !access.environments.reaches(&record.environment) {
        return Err(version_not_found());
    }
    Ok(json(StatusCode::OK, &record))
}

/// A version write's `Idempotency-Key`, if any: keys belong to the caller's
/// account.
pub(crate) fn keyed(
    header: &IdempotencyHeader,
    owner: &UserId,
    body: &[u8],
    now: Timestamp,
) -> Option<Once> {
    header.once(ReceiptScope::Account(owner.clone()), body, now)
}

async fn create_version<S: Store>(
    State(store): State<S>,
    access: ProjectAccess<Write>,
    RequestOrigin(origin): RequestOrigin,
    header: IdempotencyHeader,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    may_write_requested(&access.environments, &body)?;
    let once = keyed(&header, &access.owner, body.to_string().as_bytes(), now);
    idempotent(&store, once.as_ref(), || async {
        let record = VersionFields::parse(&body, Intent::Create, &access.project)?
            .into_new_record(access.project.clone(), now);
        access.environments.may_write(&record.environment)?;
        let mut answer = json_answer(StatusCode::CREATED, &record)?;
        // With `teamId`, so the URL works as is for a GET.
        answer.location = Some(format!(
            "/api/v1/projects/{}/versions/{}?teamId={}",
            record.project, record.id, access.team
        ));
        let receipt = Once::receipt_for(once.as_ref(), &answer)?;
        let by = Provenance::new(access.actor.clone(), origin, now);
        store
            .create_version(&record, receipt.as_ref(), Some(&by))
            .await?;
        Ok(answer)
    })
    .await
}

async fn update_version<S: Store>(
    State(store): State<S>,
    access: VersionAccess<Write>,
    RequestOrigin(origin): RequestOrigin,
    header: IdempotencyHeader,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    may_write_requested(&access.environments, &body)?;
    let once = keyed(&header, &access.owner, body.to_string().as_bytes(), now);
    idempotent(&store, once.as_ref(), || async {
        let fields = VersionFields::parse(&body, Intent::Update, &access.project)?;
        let current = find(&store, &access).await?;
        let next = fields.apply_to(&current, now);
        // Moving a version out of the token's environments, or into them
        // from another, is a write to both.
        access.environments.may_write(&current.environment)?;
        access.environments.may_write(&next.environment)?;
        let answer = json_answer(StatusCode::OK, &next_revision(&current, &next))?;
        let receipt = Once::receipt_for(once.as_ref(), &answer)?;
        let by = Provenance::new(access.actor.clone(), origin, now);
        store
            .update_version(&current, &next, receipt.as_ref(), Some(&by))
            .await?;
        Ok(answer)
    })
    .await
}

async fn delete_version<S: Store>(
    State(store): State<S>,
    access: VersionAccess<Write>,
    RequestOrigin(origin): RequestOrigin,
    header: IdempotencyHeader,
) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    let once = keyed(&header, &access.owner, b"", now);
    idempotent(&store, once.as_ref(), || async {
        let current = find(&store, &access).await?;
        access.environments.may_write(&current.environment)?;
        let answer = Answer {
            status: StatusCode::NO_CONTENT.as_u16(),
            location: None,
            body: String::new(),
        };
        let receipt = Once::receipt_for(once.as_ref(), &answer)?;
        let by = Provenance::new(access.actor.clone(), origin, now);
        if store
            .delete_version(&current, receipt.as_ref(), Some(&by))
            .await?
        {
            Ok(answer)
        } else {
            Err(version_not_found())
        }
    })
    .await
}

/// A write's requested `environment`, checked before its `Idempotency-Key`
/// is: a limited token never gets a stored answer (the account's, perhaps
/// another token's) for an environment it may not write. A missing or
/// invalid one is the body's 400, later.
fn may_write_requested(environments: &Environments, body: &Value) -> Result<(), ApiError> {
    match body
        .get("environment")
        .and_then(Value::as_str)
        .map(Environment::parse)
    {
        Some(Ok(environment)) => environments.may_write(&environment),
        _ => Ok(()),
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
