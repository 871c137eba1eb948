//! What the team function stores: roles, invitations, project details and
//! API keys. Memberships and projects themselves are [`DirectoryStore`]'s;
//! this adds the team's own management on top.
//!
//! Two rules live in the writes, not in the callers, so no race can break
//! them: a team always keeps at least one owner (the team item counts its
//! owners, and every write that removes or demotes an owner is conditioned
//! on the count and on the actor still being an owner, in one transaction),
//! and an invitation makes at most one membership (accepting deletes it
//! under a condition in the same transaction that adds the member).
//!
//! Every write made `by` someone (the team function passes its caller;
//! the operator CLI passes `None`) also puts its event into the team's
//! activity, in the same transaction (see [`super::activity`]).
//!
//! [`DirectoryStore`]: super::DirectoryStore

use std::future::Future;

use crate::domain::activity::Provenance;
use crate::domain::{
    ApiKeyId, Email, InvitationId, Name, ProjectId, Role, SecretHash, TeamId, Timestamp, UserId,
};
use crate::store::{Project, StoreError, Team};

/// A person in a team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub team_id: TeamId,
    pub user_id: UserId,
    /// The verified email the person joined with; `None` for memberships
    /// the operator CLI added by `sub` alone.
    pub email: Option<Email>,
    pub role: Role,
    pub joined_at: Timestamp,
}

/// A pending invitation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: InvitationId,
    pub team_id: TeamId,
    pub email: Email,
    pub role: Role,
    pub invited_by: UserId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A project API key as listed: never the key, only its hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyEntry {
    pub id: ApiKeyId,
    pub project_id: ProjectId,
    pub team_id: TeamId,
    pub name: Name,
    pub hint: String,
    pub created_at: Timestamp,
    /// What revoking deletes (the credential is keyed by it).
    pub hash: SecretHash,
}

/// How far a project delete got; a delete that stopped part-way is run
/// again from the top and finishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Deleted {
    pub api_keys: usize,
    pub items: usize,
}

/// Why a team write was refused: the rules above, as the caller reports
/// them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TeamRefusal {
    #[error("the team must keep at least one owner")]
    LastOwner,
    #[error("only an owner of the team may do this")]
    NotOwner,
    #[error("not a member of this team")]
    NotMember,
    #[error("already a member of this team")]
    AlreadyMember,
    #[error("a pending invitation for this email exists")]
    AlreadyInvited,
    #[error("the invitation no longer exists")]
    InvitationGone,
    #[error("the project no longer exists")]
    ProjectGone,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub trait TeamStore: Send + Sync {
    /// The team, its first owner's membership (both sides) and an owner
    /// count of one, in one transaction.
    fn create_team_with_owner(
        &self,
        team: &Team,
        owner: &Membership,
        by: Option<&Provenance>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn get_team(
        &self,
        id: &TeamId,
    ) -> impl Future<Output = Result<Option<Team>, StoreError>> + Send;

    /// The teams `user` is in, with their role there (one strongly
    /// consistent query and one batch read of the teams).
    fn teams_with_roles(
        &self,
        user: &UserId,
    ) -> impl Future<Output = Result<Vec<(Team, Role)>, StoreError>> + Send;

    /// `Ok(None)` when the team does not exist.
    fn rename_team(
        &self,
        id: &TeamId,
        name: &Name,
        by: Option<&Provenance>,
    ) -> impl Future<Output = Result<Option<Team>, StoreError>> + Send;

    /// Strongly consistent: a removed member is gone for the next request.
    fn membership(
        &self,
        team: &TeamId,
        user: &UserId,
    ) -> impl Future<Output = Result<Option<Membership>, StoreError>> + Send;

    /// The team's members and its pending (unexpired at `now`) invitations.
    fn members(
        &self,
        team: &TeamId,
        now: Timestamp,
    ) -> impl Future<Output = Result<(Vec<Membership>, Vec<Invitation>), StoreError>> + Send;

    /// Changes `target`'s role from `target.role` to `role`, if `actor` is
    /// an owner at that moment and, when an owner is demoted, another
    /// owner remains.
    fn set_role(
        &self,
        actor: &UserId,
        target: &Membership,
        role: Role,
        by: Option<&Provenance>,
    ) -> impl Future<Output = Result<(), TeamRefusal>> + Send;

    /// Removes `target` (both sides of the membership). `actor`: the owner
    /// removing someone else, which must still be an owner; `None` when the
    /// member leaves (or the operator removes them). Either way the last
    /// owner cannot go.
    fn remove_membership(
        &self,
        actor: Option<&UserId>,
        target: &Membership,
        by: Option<&Provenance>,
    ) -> impl Future<Output = Result<(), TeamRefusal>> + Send;

    /// `AlreadyInvited` when a pending invitation names the same email.
    fn create_invitation(
        &self,
        invitation: &Invitation,
        now: Timestamp,
        by: Option<&Provenance>,
    ) -> impl Future<Output = Result<(), TeamRefusal>> + Send;

    fn get_invitation(
        &self,
        id: &InvitationId,
    ) -> impl Future<Output = Result<Option<Invitation>, StoreError>> + Send;

    /// `Ok(false)` when it was already gone.
    fn delete_invitation(
        &self,
        invitation: &Invitation,
        by: Option<&Provenance>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The pending invitations addressed to `email`, with their team's name.
    fn invitations_for(
        &self,
        email: &Email,
        now: Timestamp,
    ) -> impl Future<Output = Result<Vec<(Invitation, Name)>, StoreError>> + Send;

    /// Consumes the invitation and adds the membership, in one transaction:
    /// of any number of concurrent accepts, one succeeds.
    fn accept_invitation(
        &self,
        invitation: &Invitation,
        member: &Membership,
        now: Timestamp,
        by: Option<&Provenance>,
    ) -> impl Future<Output = Result<(), TeamRefusal>> + Send;

    /// The team's live projects (not being deleted), from its list.
    fn projects_of(
        &self,
        team: &TeamId,
    ) -> impl Future<Output = Result<Vec<Project>, StoreError>> + Send;

    /// The project, also while a delete of it is under way (`true`).
    fn project_with_state(
        &self,
        id: &ProjectId,
    ) -> impl Future<Output = Result<Option<(Project, bool)>, StoreError>> + Send;

    /// Writes the project's new name and description (and `updated_at`),
    /// unless it is being deleted.
    fn update_project(
        &self,
        before: &Project,
        project: &Project,
        by: Option<&Provenance>,
    ) -> impl Future<Output = Result<(), TeamRefusal>> + Send;

    /// Deletes a project: first, in one transaction, marks it deleted and
    /// revokes every API key of it (so no key outlives the delete's first
    /// step), then removes its versions, then the project. Run again after
    /// a failure, it finishes. The event rides in the first step: a run
    /// that resumes a delete passes no `by` (the first run recorded it).
    fn delete_project(
        &self,
        project: &Project,
        by: Option<&Provenance>,
    ) -> impl Future<Output = Result<Deleted, StoreError>> + Send;

    /// The credential and the list entry, if the project is live and holds
    /// fewer than [`crate::domain::MAX_API_KEYS_PER_PROJECT`] keys.
    fn create_api_key_entry(
        &self,
        entry: &ApiKeyEntry,
        by: Option<&Provenance>,
    ) -> impl Future<Output = Result<(), TeamRefusal>> + Send;

    fn api_keys(
        &self,
        project: &ProjectId,
    ) -> impl Future<Output = Result<Vec<ApiKeyEntry>, StoreError>> + Send;

    /// `Ok(false)` when no such key (of this project) exists.
    fn revoke_api_key(
        &self,
        project: &ProjectId,
        key: &ApiKeyId,
        by: Option<&Provenance>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}
