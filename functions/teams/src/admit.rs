//! Who may touch what, as extractors: the account session first (401),
//! then `teamId` (400 when a project route lacks it), then membership of the
//! team, read strongly consistently so a removed member is refused on their
//! very next request (404, as for a team that does not exist).

use app_upgrade::ApiError;
use app_upgrade::auth::session::Account;
use app_upgrade::domain::activity::{Actor, Origin, Provenance};
use app_upgrade::domain::{ProjectId, TeamId, Timestamp};
use app_upgrade::http::Query;
use app_upgrade::store::{Membership, Project};
use axum::extract::{FromRequestParts, RawPathParams};
use http::request::Parts;

use crate::{Accounts, AppState, Store};

pub fn team_not_found() -> ApiError {
    ApiError::not_found("team not found")
}

pub fn project_not_found() -> ApiError {
    ApiError::not_found("project not found")
}

/// A path parameter by name ("" when absent: only routed paths get here).
async fn path_param<S: Send + Sync>(parts: &mut Parts, state: &S, name: &str) -> String {
    RawPathParams::from_request_parts(parts, state)
        .await
        .ok()
        .and_then(|params| {
            params
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_owned())
        })
        .unwrap_or_default()
}

/// The caller's membership of `team` (an id as sent), or 404.
async fn membership<S: Store>(
    store: &S,
    account: &Account,
    team: &str,
) -> Result<Membership, ApiError> {
    let team = TeamId::parse(team).map_err(|_| team_not_found())?;
    store
        .membership(&team, &account.user)
        .await?
        .ok_or_else(team_not_found)
}

/// A member of the team in the path (`/teams/{teamId}…`).
pub struct Member {
    pub account: Account,
    pub membership: Membership,
}

impl Member {
    /// Who the activity event of the caller's write names: the session,
    /// with the email the caller joined the team with.
    pub fn by(&self, origin: Origin) -> Provenance {
        Provenance::new(
            Actor::session(self.account.user.clone(), self.membership.email.clone()),
            origin,
            Timestamp::now(),
        )
    }

    /// 403 unless the caller is an owner.
    pub fn require_owner(&self) -> Result<(), ApiError> {
        if self.membership.role.is_owner() {
            Ok(())
        } else {
            Err(ApiError::forbidden("only an owner of the team may do this"))
        }
    }
}

impl<S: Store + Sync, A: Accounts + Sync> FromRequestParts<AppState<S, A>> for Member {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState<S, A>,
    ) -> Result<Self, ApiError> {
        let account = Account::from_request_parts(parts, state).await?;
        let team = path_param(parts, state, "teamId").await;
        let membership = membership(&state.store, &account, &team).await?;
        Ok(Self {
            account,
            membership,
        })
    }
}

/// `teamId` from the query string: required (400), then membership (404).
async fn query_member<S: Store + Sync, A: Accounts + Sync>(
    parts: &mut Parts,
    state: &AppState<S, A>,
) -> Result<Member, ApiError> {
    let account = Account::from_request_parts(parts, state).await?;
    let query = Query::parse(parts.uri.query());
    let team = match query.get("teamId")? {
        None | Some("") => return Err(ApiError::bad_param("teamId", "is required")),
        Some(team) => team.to_owned(),
    };
    let membership = membership(&state.store, &account, &team).await?;
    Ok(Member {
        account,
        membership,
    })
}

/// A member of the team named by `?teamId=` (`/projects?teamId=`).
pub struct TeamFromQuery(pub Member);

impl<S: Store + Sync, A: Accounts + Sync> FromRequestParts<AppState<S, A>> for TeamFromQuery {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState<S, A>,
    ) -> Result<Self, ApiError> {
        query_member(parts, state).await.map(Self)
    }
}

/// A member of `?teamId=` and a project of that team from the path
/// (`/projects/{projectId}…`). `deleting`: a delete of it is under way; only
/// the delete route goes on with such a project, to finish it.
pub struct InProject {
    pub member: Member,
    pub project: Project,
    pub deleting: bool,
}

impl InProject {
    /// 404 for a project whose delete is under way.
    pub fn live(self) -> Result<Self, ApiError> {
        if self.deleting {
            Err(project_not_found())
        } else {
            Ok(self)
        }
    }
}

impl<S: Store + Sync, A: Accounts + Sync> FromRequestParts<AppState<S, A>> for InProject {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState<S, A>,
    ) -> Result<Self, ApiError> {
        let member = query_member(parts, state).await?;
        let id = path_param(parts, state, "projectId").await;
        let id = ProjectId::parse(&id).map_err(|_| project_not_found())?;
        let (project, deleting) = state
            .store
            .project_with_state(&id)
            .await?
            .filter(|(project, _)| project.team_id == member.membership.team_id)
            .ok_or_else(project_not_found)?;
        Ok(Self {
            member,
            project,
            deleting,
        })
    }
}
