//! The checks every route makes before its own work, as extractors
//! parameterized by the route's scope, in this order:
//!
//! 1. `Authorization: Bearer aau_…` → a live token (401; a malformed or
//!    mistyped token is rejected before any read), or any other bearer → a
//!    verified account session when the function has [`Sessions`] (401).
//!    Unauthenticated callers learn nothing else, not even that `teamId` is
//!    missing.
//! 2. The route's scope (403), before anything about the project is looked
//!    at: a read-only token gets 403 on a write even for an unknown project.
//!    A session has a member's rights: every scope.
//! 3. `teamId` present (400).
//! 4. The ids parse and the caller's account is a member of `teamId`, which
//!    owns the project (one strongly consistent `BatchGetItem`); otherwise
//!    404, never 403, so another team's ids look exactly like ids that do
//!    not exist.

use std::marker::PhantomData;
use std::sync::Arc;

use app_upgrade::ApiError;
use app_upgrade::auth::jwt::JwtVerifier;
use app_upgrade::auth::{Caller, authenticate_caller};
use app_upgrade::domain::activity::Actor;
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

/// The account-session verifier, as a request extension: without it the
/// routes take PATs only.
#[derive(Debug, Clone)]
pub struct Sessions(pub Arc<JwtVerifier>);

/// A caller admitted to a project: `/projects/{projectId}/versions`.
pub struct ProjectAccess<Sc> {
    /// The caller's account (the token's owner, or the session's): whose
    /// `Idempotency-Key`s the request's is.
    pub owner: UserId,
    /// Who the activity event of a write names.
    pub actor: Actor,
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
    pub actor: Actor,
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
    actor: Actor,
    team: TeamId,
    project: ProjectId,
    version: Option<VersionId>,
    query: Query,
}

async fn admit<S>(parts: &mut Parts, store: &S, scope: Scope) -> Result<Admitted, ApiError>
where
    S: CredentialStore + DirectoryStore + Sync,
{
    let sessions = parts.extensions.get::<Sessions>().map(|s| &*s.0);
    let caller = authenticate_caller(
        store,
        sessions,
        &parts.headers,
        &parts.extensions,
        Timestamp::now(),
    )
    .await?;
    caller.require(scope)?;

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

    let access = store.access(&team, caller.account(), &project).await?;
    if !access.allowed() {
        return Err(project_not_found());
    }
    Ok(Admitted {
        actor: match &caller {
            Caller::Pat(principal) => Actor::pat(&principal.token),
            Caller::Session(account) => Actor::session(account.user.clone(), access.email),
        },
        owner: caller.account().clone(),
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
            actor: admitted.actor,
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
            actor: admitted.actor,
            team: admitted.team,
            project: admitted.project,
            // Only routed paths with `{versionId}` use this extractor.
            version: admitted.version.ok_or_else(version_not_found)?,
            scope: PhantomData,
        })
    }
}
