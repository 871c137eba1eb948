//! What the routes answer: the contract's JSON shapes.

use app_upgrade::domain::{
    ApiKeyId, Description, Email, InvitationId, Name, ProjectId, Role, TeamId, Timestamp, UserId,
};
use app_upgrade::store::{ApiKeyEntry, Invitation, Membership, Project, Team};
use serde::Serialize;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamView {
    pub id: TeamId,
    pub name: Name,
    pub role: Role,
    pub created_at: Timestamp,
}

impl TeamView {
    pub fn new(team: Team, role: Role) -> Self {
        Self {
            id: team.id,
            name: team.name,
            role,
            created_at: team.created_at,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberView {
    pub user_id: UserId,
    /// `null` for a member the operator added by id alone.
    pub email: Option<Email>,
    pub role: Role,
    pub joined_at: Timestamp,
}

impl From<Membership> for MemberView {
    fn from(m: Membership) -> Self {
        Self {
            user_id: m.user_id,
            email: m.email,
            role: m.role,
            joined_at: m.joined_at,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvitationView {
    pub id: InvitationId,
    pub team_id: TeamId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_name: Option<Name>,
    pub email: Email,
    pub role: Role,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl InvitationView {
    pub fn new(i: Invitation, team_name: Option<Name>) -> Self {
        Self {
            id: i.id,
            team_id: i.team_id,
            team_name,
            email: i.email,
            role: i.role,
            created_at: i.created_at,
            expires_at: i.expires_at,
        }
    }
}

/// An accepted invitation: the membership it made.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinedView {
    pub team_id: TeamId,
    pub team_name: Name,
    pub user_id: UserId,
    pub email: Option<Email>,
    pub role: Role,
    pub joined_at: Timestamp,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectView {
    pub id: ProjectId,
    pub team_id: TeamId,
    pub name: Name,
    pub description: Description,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<Project> for ProjectView {
    fn from(p: Project) -> Self {
        Self {
            id: p.id,
            team_id: p.team_id,
            name: p.name,
            description: p.description,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyView {
    pub id: ApiKeyId,
    pub name: Name,
    pub hint: String,
    pub created_at: Timestamp,
}

impl From<ApiKeyEntry> for ApiKeyView {
    fn from(k: ApiKeyEntry) -> Self {
        Self {
            id: k.id,
            name: k.name,
            hint: k.hint,
            created_at: k.created_at,
        }
    }
}

/// `{"results": […]}`.
#[derive(Serialize)]
pub struct Results<T> {
    pub results: Vec<T>,
}

impl<T> Results<T> {
    pub fn of<U: Into<T>>(items: impl IntoIterator<Item = U>) -> Self {
        Self {
            results: items.into_iter().map(Into::into).collect(),
        }
    }
}
