//! Teams, members and invitations.

use app_upgrade::ApiError;
use app_upgrade::auth::session::Account;
use app_upgrade::domain::activity::{Actor, Provenance};
use app_upgrade::domain::{
    INVITATION_LIFETIME_DAYS, InvitationId, Role, TeamId, Timestamp, UserId,
};
use app_upgrade::http::activity::{PageParams, events_page};
use app_upgrade::http::{JsonBody, Query, RequestOrigin, json};
use app_upgrade::store::Feed;
use app_upgrade::store::{Invitation, Membership, Team, TeamRefusal};
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};
use serde::Serialize;

use crate::admit::{Member, team_not_found};
use crate::body::{self, BODY_LIMIT};
use crate::views::{InvitationView, JoinedView, MemberView, Results, TeamView};
use crate::{Accounts, AppState, Store};

type St<S, A> = State<AppState<S, A>>;

fn member_not_found() -> ApiError {
    ApiError::not_found("member not found")
}

fn invitation_not_found() -> ApiError {
    ApiError::not_found("invitation not found")
}

pub async fn list_teams<S: Store, A: Accounts>(
    State(state): St<S, A>,
    account: Account,
) -> Result<Response, ApiError> {
    let teams = state.store.teams_with_roles(&account.user).await?;
    Ok(json(
        StatusCode::OK,
        &Results {
            results: teams
                .into_iter()
                .map(|(team, role)| TeamView::new(team, role))
                .collect(),
        },
    ))
}

pub async fn create_team<S: Store, A: Accounts>(
    State(state): St<S, A>,
    account: Account,
    RequestOrigin(origin): RequestOrigin,
    body: JsonBody<BODY_LIMIT>,
) -> Result<Response, ApiError> {
    let name = body::named(body.into_object()?)?;
    let now = Timestamp::now();
    let team = Team {
        id: TeamId::generate(),
        name,
        created_at: now,
    };
    // The members list shows people by email: the owner's, if verified.
    let email = state.accounts.verified_email(&account.username).await?;
    let by = Provenance::new(
        Actor::session(account.user.clone(), email.clone()),
        origin,
        now,
    );
    let owner = Membership {
        team_id: team.id.clone(),
        user_id: account.user,
        email,
        role: Role::Owner,
        joined_at: now,
    };
    state
        .store
        .create_team_with_owner(&team, &owner, Some(&by))
        .await?;
    tracing::info!(team_id = %team.id, "team created");
    let location = format!("/api/v1/teams/{}", team.id);
    let mut response = json(StatusCode::CREATED, &TeamView::new(team, Role::Owner));
    if let Ok(value) = location.parse() {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

pub async fn get_team<S: Store, A: Accounts>(
    State(state): St<S, A>,
    member: Member,
) -> Result<Response, ApiError> {
    let team = state
        .store
        .get_team(&member.membership.team_id)
        .await?
        .ok_or_else(team_not_found)?;
    Ok(json(
        StatusCode::OK,
        &TeamView::new(team, member.membership.role),
    ))
}

pub async fn rename_team<S: Store, A: Accounts>(
    State(state): St<S, A>,
    member: Member,
    RequestOrigin(origin): RequestOrigin,
    body: JsonBody<BODY_LIMIT>,
) -> Result<Response, ApiError> {
    member.require_owner()?;
    let name = body::named(body.into_object()?)?;
    let team = state
        .store
        .rename_team(&member.membership.team_id, &name, Some(&member.by(origin)))
        .await?
        .ok_or_else(team_not_found)?;
    Ok(json(StatusCode::OK, &TeamView::new(team, Role::Owner)))
}

/// The team's activity, newest first: one `Query` a page.
pub async fn team_activity<S: Store, A: Accounts>(
    State(state): St<S, A>,
    member: Member,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = PageParams::parse(&Query::parse(query.as_deref()))?;
    let page = state
        .store
        .activity(
            &Feed::Team(member.membership.team_id),
            params.cursor.as_ref(),
            params.limit,
        )
        .await?;
    Ok(events_page(page))
}

#[derive(Serialize)]
struct MembersView {
    results: Vec<MemberView>,
    invitations: Vec<InvitationView>,
}

pub async fn list_members<S: Store, A: Accounts>(
    State(state): St<S, A>,
    member: Member,
) -> Result<Response, ApiError> {
    let (members, invitations) = state
        .store
        .members(&member.membership.team_id, Timestamp::now())
        .await?;
    Ok(json(
        StatusCode::OK,
        &MembersView {
            results: members.into_iter().map(MemberView::from).collect(),
            invitations: invitations
                .into_iter()
                .map(|i| InvitationView::new(i, None))
                .collect(),
        },
    ))
}

/// The membership `{userId}` names in the caller's team, or 404.
async fn target<S: Store>(store: &S, member: &Member, user: &str) -> Result<Membership, ApiError> {
    let user = UserId::parse(user).map_err(|_| member_not_found())?;
    store
        .membership(&member.membership.team_id, &user)
        .await?
        .ok_or_else(member_not_found)
}

pub async fn set_role<S: Store, A: Accounts>(
    State(state): St<S, A>,
    member: Member,
    RequestOrigin(origin): RequestOrigin,
    Path((_, user)): Path<(String, String)>,
    body: JsonBody<BODY_LIMIT>,
) -> Result<Response, ApiError> {
    member.require_owner()?;
    let role = body::role(body.into_object()?)?;
    let mut target = target(&state.store, &member, &user).await?;
    let by = member.by(origin);
    state
        .store
        .set_role(&member.account.user, &target, role, Some(&by))
        .await?;
    target.role = role;
    Ok(json(StatusCode::OK, &MemberView::from(target)))
}

/// An owner removes someone, or anyone leaves (`{userId}` is themself).
pub async fn remove_member<S: Store, A: Accounts>(
    State(state): St<S, A>,
    member: Member,
    RequestOrigin(origin): RequestOrigin,
    Path((_, user)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let leaving = member.account.user.as_str() == user;
    if !leaving {
        member.require_owner()?;
    }
    let target = target(&state.store, &member, &user).await?;
    let actor = (!leaving).then_some(&member.account.user);
    let by = member.by(origin);
    match state
        .store
        .remove_membership(actor, &target, Some(&by))
        .await
    {
        Err(TeamRefusal::LastOwner) if leaving => Err(ApiError::conflict(
            "you are the team's last owner: make someone else an owner first",
        )),
        Err(refusal) => Err(refusal.into()),
        Ok(()) => {
            tracing::info!(team_id = %target.team_id, leaving, "member removed");
            Ok(StatusCode::NO_CONTENT.into_response())
        }
    }
}

pub async fn invite<S: Store, A: Accounts>(
    State(state): St<S, A>,
    member: Member,
    RequestOrigin(origin): RequestOrigin,
    body: JsonBody<BODY_LIMIT>,
) -> Result<Response, ApiError> {
    let (email, role) = body::invitation(body.into_object()?)?;
    if role.is_owner() {
        member
            .require_owner()
            .map_err(|_| ApiError::forbidden("only an owner may invite an owner"))?;
    }
    let team = &member.membership.team_id;
    let now = Timestamp::now();
    let (members, _) = state.store.members(team, now).await?;
    if members.iter().any(|m| m.email.as_ref() == Some(&email)) {
        return Err(ApiError::conflict(format!("{email} is already a member")));
    }
    // The account first: an invitation its invitee cannot sign in to
    // accept would be a dead letter. Repeating this is harmless.
    let account = state.accounts.ensure_account(&email).await?;
    if members.iter().any(|m| m.user_id == account.user) {
        return Err(ApiError::conflict(format!("{email} is already a member")));
    }
    let invitation = Invitation {
        id: InvitationId::generate(),
        team_id: team.clone(),
        email,
        role,
        invited_by: member.account.user.clone(),
        created_at: now,
        expires_at: now.plus_days(INVITATION_LIFETIME_DAYS),
    };
    state
        .store
        .create_invitation(&invitation, now, Some(&member.by(origin)))
        .await
        .map_err(|refusal| match refusal {
            TeamRefusal::AlreadyInvited => ApiError::conflict(format!(
                "{} already has a pending invitation: withdraw it to invite again",
                invitation.email
            )),
            other => other.into(),
        })?;
    tracing::info!(team_id = %team, invitation_id = %invitation.id, account_created = account.created, "invitation created");
    Ok(json(
        StatusCode::CREATED,
        &InvitationView::new(invitation, None),
    ))
}

pub async fn withdraw<S: Store, A: Accounts>(
    State(state): St<S, A>,
    member: Member,
    RequestOrigin(origin): RequestOrigin,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id = InvitationId::parse(&id).map_err(|_| invitation_not_found())?;
    let invitation = state
        .store
        .get_invitation(&id)
        .await?
        .filter(|i| i.team_id == member.membership.team_id)
        .ok_or_else(invitation_not_found)?;
    if !state
        .store
        .delete_invitation(&invitation, Some(&member.by(origin)))
        .await?
    {
        return Err(invitation_not_found());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn my_invitations<S: Store, A: Accounts>(
    State(state): St<S, A>,
    account: Account,
) -> Result<Response, ApiError> {
    // Only a verified address is the caller's: an unverified one could be
    // anyone's.
    let results = match state.accounts.verified_email(&account.username).await? {
        None => Vec::new(),
        Some(email) => state
            .store
            .invitations_for(&email, Timestamp::now())
            .await?
            .into_iter()
            .map(|(i, team_name)| InvitationView::new(i, Some(team_name)))
            .collect(),
    };
    Ok(json(StatusCode::OK, &Results { results }))
}

pub async fn accept<S: Store, A: Accounts>(
    State(state): St<S, A>,
    account: Account,
    RequestOrigin(origin): RequestOrigin,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = InvitationId::parse(&id).map_err(|_| invitation_not_found())?;
    let invitation = state
        .store
        .get_invitation(&id)
        .await?
        .ok_or_else(invitation_not_found)?;
    let email = state
        .accounts
        .verified_email(&account.username)
        .await?
        .ok_or_else(|| {
            ApiError::forbidden(
                "your account's email address is not verified; verify it to accept invitations",
            )
        })?;
    if email != invitation.email {
        return Err(ApiError::forbidden(
            "this invitation is for another email address",
        ));
    }
    let now = Timestamp::now();
    if invitation.expires_at <= now {
        return Err(ApiError::new(
            StatusCode::GONE,
            "this invitation has expired: ask the team for a new one",
        ));
    }
    let team = state
        .store
        .get_team(&invitation.team_id)
        .await?
        .ok_or_else(invitation_not_found)?;
    let by = Provenance::new(
        Actor::session(account.user.clone(), Some(email.clone())),
        origin,
        now,
    );
    let member = Membership {
        team_id: invitation.team_id.clone(),
        user_id: account.user,
        email: Some(email),
        role: invitation.role,
        joined_at: now,
    };
    state
        .store
        .accept_invitation(&invitation, &member, now, Some(&by))
        .await
        .map_err(|refusal| match refusal {
            TeamRefusal::AlreadyMember => {
                ApiError::conflict("you are already a member of this team")
            }
            other => other.into(),
        })?;
    tracing::info!(team_id = %member.team_id, invitation_id = %invitation.id, "invitation accepted");
    Ok(json(
        StatusCode::OK,
        &JoinedView {
            team_id: member.team_id,
            team_name: team.name,
            user_id: member.user_id,
            email: member.email,
            role: member.role,
            joined_at: member.joined_at,
        },
    ))
}
