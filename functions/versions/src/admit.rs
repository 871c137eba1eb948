//! The checks every route makes before its own work, as extractors
//! parameterized by the route's scope, in this order:
//!
//! 1. `Authorization: Bearer aau_…` → a live token (401; a malformed or
//!    mistyped token is rejected before any read). Unauthenticated callers
//!    learn nothing else, not even that `teamId` is missing.
//! 2. The route's scope (403), before anything about the project is looked
//!    at: a read-only token gets 403 on a write even for an unknown project.
//! 3. `teamId` present (400).
//! 4. The ids parse and the token's owner is a member of `teamId`, which
//!    owns the project (one `BatchGetItem`); otherwise 404, never 403, so
//!    another team's ids look exactly like ids that do not exist.

use std::marker::PhantomData;

use app_upgrade::ApiError;
use app_upgrade::auth::authenticate_with_context;
use app_upgrade::domain::{ProjectId, Scope, TeamId, Timestamp, UserId, VersionId};
use app_upgrade::store::{CredentialStore, DirectoryStore};
use axum::extract::{FromRequestParts, RawPathParams};
use http::request::Parts;

use crate::query::Query;

/// The scope a route needs, as a type.
pub trait RouteScope {
    const SCOPE: Scope;
}

/// `versions:read`: list and get.
pub struct Read;
/// `versions:write`: create, update, delete.
pub struct Write;

impl RouteScope for Read {
    const SCOPE: Scope = Scope::VersionsRead;
}

impl RouteScope for Write {
    const SCOPE: Scope = Scope::VersionsWrite;
}

/// A caller admitted to a project: `/projects/{projectId}/versions`.
pub struct ProjectAccess<Sc> {
    /// The token's owner: whose `Idempotency-Key`s the request's is.
    pub owner: UserId,
    pub team: TeamId,
    pub project: ProjectId,
    pub query: Query,
    scope: PhantomData<fn() -> Sc>,
}

/// A caller admitted to a project, and the version the path names:
/// `/projects/{projectId}/versions/{versionId}`. Whether that version exists
/// is the route's business.
pub struct VersionAccess<Sc> {
    pub owner: UserId,
    pub team: TeamId,
    pub project: ProjectId,
    pub version: VersionId,
    scope: PhantomData<fn() -> Sc>,
}

pub fn project_not_found() -> ApiError {
    ApiError::not_found("project not found")
}

pub fn version_not_found() -> ApiError {
    ApiError::not_found("version not found")
}

struct Admitted {
    owner: UserId,
    team: TeamId,
    project: ProjectId,
    version: Option<VersionId>,
    query: Query,
}

async fn admit<S>(parts: &mut Parts, store: &S, scope: Scope) -> Result<Admitted, ApiError>
where
    S: CredentialStore + DirectoryStore + Sync,
{
    let principal =
        authenticate_with_context(store, &parts.headers, &parts.extensions, Timestamp::now())
            .await?;
    principal.require(scope)?;

    let query = Query::parse(parts.uri.query());
    let team = match query.get("teamId")? {
        None | Some("") => return Err(ApiError::bad_param("teamId", "is required")),
        Some(team) => TeamId::parse(team).map_err(|_| project_not_found())?,
    };
    let params = RawPathParams::from_request_parts(parts, store)
        .await
        .map_err(|_| project_not_found())?;
    let mut project = None;
    let mut version = None;
    for (name, value) in &params {
        match name {
            "projectId" => {
                project = Some(ProjectId::parse(value).map_err(|_| project_not_found())?)
            }
            "versionId" => {
                version = Some(VersionId::parse(value).map_err(|_| version_not_found())?)
            }
            _ => {}
        }
    }
    let project = project.ok_or_else(project_not_found)?;

    if !store
        .access(&team, principal.owner(), &project)
        .await?
        .allowed()
    {
        return Err(project_not_found());
    }
    Ok(Admitted {
        owner: principal.token.owner,
        team,
        project,
        version,
        query,
    })
}

impl<S, Sc> FromRequestParts<S> for ProjectAccess<Sc>
where
    S: CredentialStore + DirectoryStore + Sync,
    Sc: RouteScope,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, store: &S) -> Result<Self, ApiError> {
        let admitted = admit(parts, store, Sc::SCOPE).await?;
        Ok(Self {
            owner: admitted.owner,
            team: admitted.team,
            project: admitted.project,
            query: admitted.query,
            scope: PhantomData,
        })
    }
}

impl<S, Sc> FromRequestParts<S> for VersionAccess<Sc>
where
    S: CredentialStore + DirectoryStore + Sync,
    Sc: RouteScope,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, store: &S) -> Result<Self, ApiError> {
        let admitted = admit(parts, store, Sc::SCOPE).await?;
        Ok(Self {
            owner: admitted.owner,
            team: admitted.team,
            project: admitted.project,
            // Only routed paths with `{versionId}` use this extractor.
            version: admitted.version.ok_or_else(version_not_found)?,
            scope: PhantomData,
        })
    }
}
