//! The team's own management in DynamoDB: roles and the owner count,
//! invitations, project details and deletes, API keys.
//!
//! An invitation is four items written and deleted together: by id
//! (`INVITE#<id>`, what accepting reads), in its team's list, in the
//! invited address's list, and a per-(team, email) lock so one address has
//! at most one pending invitation per team. An API key is its credential
//! (tokens table, keyed by the key's hash) plus its entry in the project's
//! key list (`PROJECTKEYS#<project>`), written and deleted together.

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::directory::{MemberItem, ProjectItem, TeamItem, membership_items};
use super::token_item::SecretItem;
use super::transact::{Condition, check, delete, put, transact, update};
use super::{
    DynamoStore, batch_get_items, from_item, get_consistent, key_item, prefix_query, query_all,
    to_item,
};
use crate::domain::activity::{Action, Provenance, Target, changes, text};
use crate::domain::{
    ApiKeyId, Email, InvitationId, MAX_API_KEYS_PER_PROJECT, Name, ProjectId, Role, SecretHash,
    TeamId, Timestamp, UserId,
};
use crate::store::Feed;
use crate::store::teams::Deleted;
use crate::store::{
    ApiKeyEntry, Invitation, Membership, Project, StoreError, Team, TeamRefusal, TeamStore, keys,
};

/// Items a `TransactWriteItems` takes.
const TRANSACT_LIMIT: usize = 100;

#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InvitationItem {
    invitation_id: InvitationId,
    team_id: TeamId,
    email: Email,
    role: Role,
    invited_by: UserId,
    created_at: Timestamp,
    expires_at: Timestamp,
    /// Epoch seconds: DynamoDB's TTL removes expired invitations, in its
    /// own time (reads filter them by `expiresAt`).
    ttl: i64,
}

impl InvitationItem {
    fn from_invitation(i: &Invitation) -> Self {
        Self {
            invitation_id: i.id.clone(),
            team_id: i.team_id.clone(),
            email: i.email.clone(),
            role: i.role,
            invited_by: i.invited_by.clone(),
            created_at: i.created_at,
            expires_at: i.expires_at,
            ttl: i.expires_at.unix_seconds(),
        }
    }

    fn into_invitation(self) -> Invitation {
        Invitation {
            id: self.invitation_id,
            team_id: self.team_id,
            email: self.email,
            role: self.role,
            invited_by: self.invited_by,
            created_at: self.created_at,
            expires_at: self.expires_at,
        }
    }
}

/// An API key's entry in its project's list (tokens table).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiKeyItem {
    key_id: ApiKeyId,
    project_id: ProjectId,
    team_id: TeamId,
    name: Name,
    hint: String,
    created_at: Timestamp,
    /// The credential's key: what a revoke deletes. A hash, never the key.
    secret_hash: String,
}

impl ApiKeyItem {
    fn into_entry(self) -> Result<ApiKeyEntry, StoreError> {
        let hash = SecretHash::from_hex(&self.secret_hash)
            .ok_or_else(|| StoreError::Internal("an API key entry holds a bad hash".into()))?;
        Ok(ApiKeyEntry {
            id: self.key_id,
            project_id: self.project_id,
            team_id: self.team_id,
            name: self.name,
            hint: self.hint,
            created_at: self.created_at,
            hash,
        })
    }
}

fn email_value(email: Option<&Email>) -> Value {
    email.map_or(Value::Null, text)
}

fn one() -> AttributeValue {
    AttributeValue::N("1".into())
}

fn role_value(role: Role) -> AttributeValue {
    AttributeValue::S(role.as_str().to_owned())
}

/// A condition that `actor` is, at commit time, an owner of `team`.
fn actor_is_owner(
    table: &str,
    team: &TeamId,
    actor: &UserId,
) -> Result<TransactWriteItem, StoreError> {
    check(
        table,
        &keys::member(team, actor),
        Condition::new("attribute_exists(pk) AND #role = :owner")
            .with(":owner", role_value(Role::Owner))
            .named("#role", "role"),
    )
}

impl DynamoStore {
    /// Both sides of `member`, conditioned on the team existing and the
    /// person not being in it yet; an owner raises the team's count.
    /// Item 0 of the transaction is the team.
    pub(super) async fn put_membership(
        &self,
        member: &Membership,
        replace: bool,
    ) -> Result<bool, StoreError> {
        let table = &self.versions_table;
        let team_key = keys::team(&member.team_id);
        let mut items = vec![if member.role.is_owner() {
            update(
                table,
                &team_key,
                "ADD owners :one",
                Condition::present().with(":one", one()),
            )?
        } else {
            check(table, &team_key, Condition::present())?
        }];
        let condition = if replace {
            Condition::any()
        } else {
            Condition::absent()
        };
        for (key, item) in membership_items(member) {
            items.push(put(table, to_item(&key, &item)?, condition.clone())?);
        }
        match transact(&self.client, items).await {
            Ok(()) => Ok(true),
            Err(failed) if failed.condition_failed(0) => Ok(false),
            Err(failed) => Err(failed.conflict_as("already a member of this team")),
        }
    }

    /// Deletes every item of the project's partition but the project
    /// itself (versions, identities), 100 a transaction; the number deleted.
    async fn delete_project_items(&self, project: &ProjectId) -> Result<usize, StoreError> {
        let mut removed = 0;
        // The project's own partition, then its listing copies and count.
        for pk in [keys::project_pk(project), keys::listing_pk(project)] {
            removed += self.delete_partition(project, pk).await?;
        }
        Ok(removed)
    }

    /// Deletes every item of partition `pk` but the project item itself.
    async fn delete_partition(&self, project: &ProjectId, pk: String) -> Result<usize, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.versions_table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", AttributeValue::S(pk))
            .projection_expression("pk, sk")
            .consistent_read(true);
        let project_key = keys::project(project);
        let keys_found = query_all(query, |item| {
            let s = |name: &str| {
                item.get(name)
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .ok_or_else(|| StoreError::Internal("an item without its key".into()))
            };
            Ok(keys::Key {
                pk: s(keys::PK)?,
                sk: s(keys::SK)?,
            })
        })
        .await?;
        let doomed: Vec<keys::Key> = keys_found
            .into_iter()
            .filter(|key| *key != project_key)
            .collect();
        for chunk in doomed.chunks(TRANSACT_LIMIT) {
            let items = chunk
                .iter()
                .map(|key| delete(&self.versions_table, key, None))
                .collect::<Result<Vec<_>, _>>()?;
            transact(&self.client, items).await?;
        }
        Ok(doomed.len())
    }
}

impl TeamStore for DynamoStore {
    async fn create_team_with_owner(
        &self,
        team: &Team,
        owner: &Membership,
        by: Option<&Provenance>,
    ) -> Result<(), StoreError> {
        let table = &self.versions_table;
        let mut items = vec![put(
            table,
            to_item(
                &keys::team(&team.id),
                &TeamItem {
                    team_id: team.id.clone(),
                    name: team.name.clone(),
                    created_at: team.created_at,
                    owners: 1,
                },
            )?,
            Condition::absent(),
        )?];
        for (key, item) in membership_items(owner) {
            items.push(put(table, to_item(&key, &item)?, Condition::absent())?);
        }
        self.with_recorded(
            &mut items,
            &Feed::Team(team.id.clone()),
            by,
            Action::TeamCreated,
            Target::new("team", &team.id),
            changes([("name", Value::Null, text(&team.name))]),
        )?;
        transact(&self.client, items)
            .await
            .map_err(|failed| failed.conflict_as("a team with this id exists"))
    }

    async fn get_team(&self, id: &TeamId) -> Result<Option<Team>, StoreError> {
        get_consistent(&self.client, &self.versions_table, &keys::team(id))
            .await?
            .map(|item| from_item::<TeamItem>(item).map(TeamItem::into_team))
            .transpose()
    }

    async fn teams_with_roles(&self, user: &UserId) -> Result<Vec<(Team, Role)>, StoreError> {
        let query = prefix_query(
            &self.client,
            &self.versions_table,
            keys::user_pk(user),
            keys::MEMBER_OF_PREFIX,
        );
        let memberships = query_all(query, from_item::<MemberItem>).await?;
        let team_keys: Vec<_> = memberships
            .iter()
            .map(|m| key_item(&keys::team(&m.team_id)))
            .collect();
        let teams = batch_get_all(self, &team_keys).await?;
        let mut found: Vec<Team> = teams
            .into_iter()
            .map(|item| from_item::<TeamItem>(item).map(TeamItem::into_team))
            .collect::<Result<_, _>>()?;
        let mut result = Vec::with_capacity(found.len());
        for m in memberships {
            if let Some(i) = found.iter().position(|t| t.id == m.team_id) {
                result.push((found.swap_remove(i), m.role));
            }
        }
        result.sort_by(|a, b| {
            a.0.name
                .as_str()
                .to_lowercase()
                .cmp(&b.0.name.as_str().to_lowercase())
        });
        Ok(result)
    }

    async fn rename_team(
        &self,
        id: &TeamId,
        name: &Name,
        by: Option<&Provenance>,
    ) -> Result<Option<Team>, StoreError> {
        // Read first: the event holds the name it replaces, and the write
        // is conditioned on it, so the record never names a stale one.
        let Some(before) = self.get_team(id).await? else {
            return Ok(None);
        };
        let mut items = vec![update(
            &self.versions_table,
            &keys::team(id),
            "SET #n = :name",
            Condition::new("attribute_exists(pk) AND #n = :old")
                .with_s(":name", name.as_str())
                .with_s(":old", before.name.as_str())
                .named("#n", "name"),
        )?];
        self.with_recorded(
            &mut items,
            &Feed::Team(id.clone()),
            by,
            Action::TeamUpdated,
            Target::new("team", id),
            changes([("name", text(&before.name), text(name))]),
        )?;
        transact(&self.client, items)
            .await
            .map_err(|failed| failed.conflict_as("the team was renamed concurrently; try again"))?;
        Ok(Some(Team {
            name: name.clone(),
            ..before
        }))
    }

    async fn membership(
        &self,
        team: &TeamId,
        user: &UserId,
    ) -> Result<Option<Membership>, StoreError> {
        get_consistent(
            &self.client,
            &self.versions_table,
            &keys::member(team, user),
        )
        .await?
        .map(|item| from_item::<MemberItem>(item).map(MemberItem::into_membership))
        .transpose()
    }

    async fn members(
        &self,
        team: &TeamId,
        now: Timestamp,
    ) -> Result<(Vec<Membership>, Vec<Invitation>), StoreError> {
        let in_team = |prefix: &'static str| {
            prefix_query(
                &self.client,
                &self.versions_table,
                keys::team(team).pk,
                prefix,
            )
        };
        let (members, invitations) = tokio::try_join!(
            query_all(in_team(keys::MEMBER_PREFIX), |item| {
                from_item::<MemberItem>(item).map(MemberItem::into_membership)
            }),
            query_all(in_team(keys::INVITATION_PREFIX), |item| {
                from_item::<InvitationItem>(item).map(InvitationItem::into_invitation)
            }),
        )?;
        let mut members = members;
        members.sort_by_key(|m| m.joined_at);
        let invitations = invitations
            .into_iter()
            .filter(|i| i.expires_at > now)
            .collect();
        Ok((members, invitations))
    }

    async fn set_role(
        &self,
        actor: &UserId,
        target: &Membership,
        role: Role,
        by: Option<&Provenance>,
    ) -> Result<(), TeamRefusal> {
        if target.role == role {
            return Ok(());
        }
        let table = &self.versions_table;
        let team_key = keys::team(&target.team_id);
        let counter = if role.is_owner() {
            update(
                table,
                &team_key,
                "ADD owners :one",
                Condition::present().with(":one", one()),
            )?
        } else {
            update(
                table,
                &team_key,
                "ADD owners :minus",
                Condition::new("owners > :one")
                    .with(":one", one())
                    .with(":minus", AttributeValue::N("-1".into())),
            )?
        };
        let set_role = |key: &keys::Key| {
            update(
                table,
                key,
                "SET #role = :role",
                Condition::new("attribute_exists(pk) AND #role = :from")
                    .with(":role", role_value(role))
                    .with(":from", role_value(target.role))
                    .named("#role", "role"),
            )
        };
        let mut items = vec![
            counter,
            set_role(&keys::member(&target.team_id, &target.user_id))?,
            set_role(&keys::member_of(&target.user_id, &target.team_id))?,
        ];
        // An owner changing their own role is checked by the update's own
        // condition (a transaction touches an item once).
        if *actor != target.user_id {
            items.push(actor_is_owner(table, &target.team_id, actor)?);
        }
        self.with_recorded(
            &mut items,
            &Feed::Team(target.team_id.clone()),
            by,
            Action::MemberRoleChanged,
            Target::new("member", &target.user_id),
            changes([("role", text(target.role), text(role))]),
        )?;
        transact(&self.client, items).await.map_err(|failed| {
            if *actor != target.user_id && failed.condition_failed(3) {
                TeamRefusal::NotOwner
            } else if failed.condition_failed(1) {
                TeamRefusal::NotMember
            } else if failed.condition_failed(0) {
                TeamRefusal::LastOwner
            } else {
                failed.into_store_error().into()
            }
        })
    }

    async fn remove_membership(
        &self,
        actor: Option<&UserId>,
        target: &Membership,
        by: Option<&Provenance>,
    ) -> Result<(), TeamRefusal> {
        let table = &self.versions_table;
        let team = &target.team_id;
        let mut items = vec![
            delete(
                table,
                &keys::member(team, &target.user_id),
                Some(
                    Condition::new("attribute_exists(pk) AND #role = :role")
                        .with(":role", role_value(target.role))
                        .named("#role", "role"),
                ),
            )?,
            delete(table, &keys::member_of(&target.user_id, team), None)?,
        ];
        if target.role.is_owner() {
            items.push(update(
                table,
                &keys::team(team),
                "ADD owners :minus",
                Condition::new("owners > :one")
                    .with(":one", one())
                    .with(":minus", AttributeValue::N("-1".into())),
            )?);
        }
        // Where the actor's check is, if there is one (the event follows).
        let mut actor_index = None;
        if let Some(actor) = actor.filter(|actor| **actor != target.user_id) {
            actor_index = Some(items.len());
            items.push(actor_is_owner(table, team, actor)?);
        }
        self.with_recorded(
            &mut items,
            &Feed::Team(team.clone()),
            by,
            Action::MemberRemoved,
            Target::new("member", &target.user_id),
            changes([
                ("role", text(target.role), Value::Null),
                ("email", email_value(target.email.as_ref()), Value::Null),
            ]),
        )?;
        transact(&self.client, items).await.map_err(|failed| {
            if actor_index.is_some_and(|at| failed.condition_failed(at)) {
                TeamRefusal::NotOwner
            } else if failed.condition_failed(0) {
                TeamRefusal::NotMember
            } else if target.role.is_owner() && failed.condition_failed(2) {
                TeamRefusal::LastOwner
            } else {
                failed.into_store_error().into()
            }
        })
    }

    async fn create_invitation(
        &self,
        invitation: &Invitation,
        now: Timestamp,
        by: Option<&Provenance>,
    ) -> Result<(), TeamRefusal> {
        let table = &self.versions_table;
        let item = InvitationItem::from_invitation(invitation);
        let lock = keys::invitee(&invitation.team_id, &invitation.email);
        let mut items = vec![
            // An expired invitation's lock is taken over.
            put(
                table,
                to_item(&lock, &item)?,
                Condition::new("attribute_not_exists(pk) OR expiresAt <= :now")
                    .with_s(":now", now.to_string()),
            )?,
            check(
                table,
                &keys::team(&invitation.team_id),
                Condition::present(),
            )?,
            put(
                table,
                to_item(&keys::invitation(&invitation.id), &item)?,
                Condition::absent(),
            )?,
            put(
                table,
                to_item(
                    &keys::team_invitation(&invitation.team_id, &invitation.id),
                    &item,
                )?,
                Condition::absent(),
            )?,
            put(
                table,
                to_item(
                    &keys::email_invitation(&invitation.email, &invitation.id),
                    &item,
                )?,
                Condition::absent(),
            )?,
        ];
        self.with_recorded(
            &mut items,
            &Feed::Team(invitation.team_id.clone()),
            by,
            Action::MemberInvited,
            Target::new("invitation", &invitation.id),
            changes([
                ("email", Value::Null, text(&invitation.email)),
                ("role", Value::Null, text(invitation.role)),
            ]),
        )?;
        transact(&self.client, items).await.map_err(|failed| {
            if failed.condition_failed(0) {
                TeamRefusal::AlreadyInvited
            } else {
                failed.into_store_error().into()
            }
        })
    }

    async fn get_invitation(&self, id: &InvitationId) -> Result<Option<Invitation>, StoreError> {
        get_consistent(&self.client, &self.versions_table, &keys::invitation(id))
            .await?
            .map(|item| from_item::<InvitationItem>(item).map(InvitationItem::into_invitation))
            .transpose()
    }

    async fn delete_invitation(
        &self,
        invitation: &Invitation,
        by: Option<&Provenance>,
    ) -> Result<bool, StoreError> {
        let mut items = invitation_deletes(&self.versions_table, invitation)?;
        // Withdrawn: recorded as the contract's `member.removed`, of the
        // invitation (target kind `invitation`), not of a member.
        self.with_recorded(
            &mut items,
            &Feed::Team(invitation.team_id.clone()),
            by,
            Action::MemberRemoved,
            Target::new("invitation", &invitation.id),
            changes([
                ("email", text(&invitation.email), Value::Null),
                ("role", text(invitation.role), Value::Null),
            ]),
        )?;
        match transact(&self.client, items).await {
            Ok(()) => Ok(true),
            Err(failed) if failed.condition_failed(0) => Ok(false),
            Err(failed) => Err(failed.into()),
        }
    }

    async fn invitations_for(
        &self,
        email: &Email,
        now: Timestamp,
    ) -> Result<Vec<(Invitation, Name)>, StoreError> {
        let query = prefix_query(
            &self.client,
            &self.versions_table,
            keys::email_pk(email),
            keys::INVITATION_PREFIX,
        );
        let invitations: Vec<Invitation> = query_all(query, |item| {
            from_item::<InvitationItem>(item).map(InvitationItem::into_invitation)
        })
        .await?
        .into_iter()
        .filter(|i| i.expires_at > now)
        .collect();
        let team_keys: Vec<_> = invitations
            .iter()
            .map(|i| key_item(&keys::team(&i.team_id)))
            .collect();
        let teams: Vec<Team> = batch_get_all(self, &team_keys)
            .await?
            .into_iter()
            .map(|item| from_item::<TeamItem>(item).map(TeamItem::into_team))
            .collect::<Result<_, _>>()?;
        Ok(invitations
            .into_iter()
            .filter_map(|i| {
                let name = teams.iter().find(|t| t.id == i.team_id)?.name.clone();
                Some((i, name))
            })
            .collect())
    }

    async fn accept_invitation(
        &self,
        invitation: &Invitation,
        member: &Membership,
        now: Timestamp,
        by: Option<&Provenance>,
    ) -> Result<(), TeamRefusal> {
        let table = &self.versions_table;
        let mut items = invitation_deletes(table, invitation)?;
        // The first delete is the invitation by id: it must still be live.
        items[0] = delete(
            table,
            &keys::invitation(&invitation.id),
            Some(
                Condition::new("attribute_exists(pk) AND expiresAt > :now")
                    .with_s(":now", now.to_string()),
            ),
        )?;
        let first_member_item = items.len() + 1;
        let team_key = keys::team(&member.team_id);
        items.push(if member.role.is_owner() {
            update(
                table,
                &team_key,
                "ADD owners :one",
                Condition::present().with(":one", one()),
            )?
        } else {
            check(table, &team_key, Condition::present())?
        });
        for (key, item) in membership_items(member) {
            items.push(put(table, to_item(&key, &item)?, Condition::absent())?);
        }
        self.with_recorded(
            &mut items,
            &Feed::Team(member.team_id.clone()),
            by,
            Action::MemberJoined,
            Target::new("member", &member.user_id),
            changes([
                ("email", Value::Null, email_value(member.email.as_ref())),
                ("role", Value::Null, text(member.role)),
                ("invitation", Value::Null, text(&invitation.id)),
            ]),
        )?;
        transact(&self.client, items).await.map_err(|failed| {
            if failed.condition_failed(first_member_item) {
                TeamRefusal::AlreadyMember
            } else if failed.condition_failed(0) || failed.conflicted(0) {
                TeamRefusal::InvitationGone
            } else {
                failed.into_store_error().into()
            }
        })
    }

    async fn projects_of(&self, team: &TeamId) -> Result<Vec<Project>, StoreError> {
        let query = prefix_query(
            &self.client,
            &self.versions_table,
            keys::team(team).pk,
            keys::TEAM_PROJECT_PREFIX,
        );
        let mut projects: Vec<Project> = query_all(query, |item| {
            from_item::<ProjectItem>(item).map(ProjectItem::into_project)
        })
        .await?
        .into_iter()
        .filter_map(|(project, deleting)| (!deleting).then_some(project))
        .collect();
        projects.sort_by_key(|p| std::cmp::Reverse(p.created_at));
        Ok(projects)
    }

    async fn project_with_state(
        &self,
        id: &ProjectId,
    ) -> Result<Option<(Project, bool)>, StoreError> {
        get_consistent(&self.client, &self.versions_table, &keys::project(id))
            .await?
            .map(|item| from_item::<ProjectItem>(item).map(ProjectItem::into_project))
            .transpose()
    }

    async fn update_project(
        &self,
        before: &Project,
        project: &Project,
        by: Option<&Provenance>,
    ) -> Result<(), TeamRefusal> {
        let table = &self.versions_table;
        let item = ProjectItem::from_project(project);
        let live = || {
            Condition::new(
                "attribute_exists(pk) AND teamId = :team AND attribute_not_exists(deleting)",
            )
            .with_s(":team", project.team_id.as_str())
        };
        let mut items = vec![
            put(table, to_item(&keys::project(&project.id), &item)?, live())?,
            put(
                table,
                to_item(&keys::team_project(&project.team_id, &project.id), &item)?,
                live(),
            )?,
        ];
        self.with_recorded(
            &mut items,
            &Feed::Team(project.team_id.clone()),
            by,
            Action::ProjectUpdated,
            Target::new("project", &project.id),
            changes([
                ("name", text(&before.name), text(&project.name)),
                (
                    "description",
                    text(before.description.as_str()),
                    text(project.description.as_str()),
                ),
            ]),
        )?;
        transact(&self.client, items).await.map_err(|failed| {
            if failed.condition_failed(0) || failed.condition_failed(1) {
                TeamRefusal::ProjectGone
            } else {
                failed.into_store_error().into()
            }
        })
    }

    async fn delete_project(
        &self,
        project: &Project,
        by: Option<&Provenance>,
    ) -> Result<Deleted, StoreError> {
        let table = &self.versions_table;
        let now = Timestamp::now().to_string();
        // 1. Mark it and revoke its keys at once: from here no key of it
        //    works and no new one can be made (creating one checks the mark).
        let entries = self.api_keys(&project.id).await?;
        let mut items = Vec::with_capacity(2 + 2 * entries.len());
        for at in [
            keys::project(&project.id),
            keys::team_project(&project.team_id, &project.id),
        ] {
            items.push(update(
                table,
                &at,
                "SET deleting = if_not_exists(deleting, :now)",
                Condition::present().with_s(":now", now.clone()),
            )?);
        }
        for entry in &entries {
            items.push(delete(
                &self.tokens_table,
                &keys::secret(&entry.hash),
                None,
            )?);
            items.push(delete(
                &self.tokens_table,
                &keys::project_key(&project.id, &entry.id),
                None,
            )?);
        }
        // In the team's partition: the project's own is swept below.
        self.with_recorded(
            &mut items,
            &Feed::Team(project.team_id.clone()),
            by,
            Action::ProjectDeleted,
            Target::new("project", &project.id),
            changes([
                ("name", text(&project.name), Value::Null),
                ("apiKeys", Value::from(entries.len()), Value::from(0)),
            ]),
        )?;
        match transact(&self.client, items).await {
            Ok(()) => {}
            // Gone already: an earlier run finished.
            Err(failed) if failed.condition_failed(0) => return Ok(Deleted::default()),
            Err(failed) => return Err(failed.into()),
        }
        // 2. Its versions and identities; 3. the project and its list entry.
        let removed = self.delete_project_items(&project.id).await?;
        let items = vec![
            delete(table, &keys::project(&project.id), None)?,
            delete(
                table,
                &keys::team_project(&project.team_id, &project.id),
                None,
            )?,
        ];
        transact(&self.client, items).await?;
        Ok(Deleted {
            api_keys: entries.len(),
            items: removed,
        })
    }

    async fn create_api_key_entry(
        &self,
        entry: &ApiKeyEntry,
        by: Option<&Provenance>,
    ) -> Result<(), TeamRefusal> {
        if self.api_keys(&entry.project_id).await?.len() >= MAX_API_KEYS_PER_PROJECT {
            return Err(StoreError::Conflict(format!(
                "a project holds at most {MAX_API_KEYS_PER_PROJECT} API keys; revoke one first"
            ))
            .into());
        }
        let credential = SecretItem::ApiKey {
            project_id: entry.project_id.clone(),
            team_id: entry.team_id.clone(),
            created_at: entry.created_at,
        };
        let listed = ApiKeyItem {
            key_id: entry.id.clone(),
            project_id: entry.project_id.clone(),
            team_id: entry.team_id.clone(),
            name: entry.name.clone(),
            hint: entry.hint.clone(),
            created_at: entry.created_at,
            secret_hash: entry.hash.to_hex(),
        };
        let mut items = vec![
            check(
                &self.versions_table,
                &keys::project(&entry.project_id),
                Condition::new(
                    "attribute_exists(pk) AND teamId = :team AND attribute_not_exists(deleting)",
                )
                .with_s(":team", entry.team_id.as_str()),
            )?,
            put(
                &self.tokens_table,
                to_item(&keys::secret(&entry.hash), &credential)?,
                Condition::absent(),
            )?,
            put(
                &self.tokens_table,
                to_item(&keys::project_key(&entry.project_id, &entry.id), &listed)?,
                Condition::absent(),
            )?,
        ];
        // Its name and project; never the key, its hash or its hint.
        self.with_recorded(
            &mut items,
            &Feed::Team(entry.team_id.clone()),
            by,
            Action::ApiKeyCreated,
            Target::new("apiKey", &entry.id),
            changes([
                ("name", Value::Null, text(&entry.name)),
                ("project", Value::Null, text(&entry.project_id)),
            ]),
        )?;
        transact(&self.client, items).await.map_err(|failed| {
            if failed.condition_failed(0) {
                TeamRefusal::ProjectGone
            } else {
                failed.into_store_error().into()
            }
        })
    }

    async fn api_keys(&self, project: &ProjectId) -> Result<Vec<ApiKeyEntry>, StoreError> {
        let query = prefix_query(
            &self.client,
            &self.tokens_table,
            keys::project_keys_pk(project),
            keys::API_KEY_PREFIX,
        );
        let mut entries =
            query_all(query, |item| from_item::<ApiKeyItem>(item)?.into_entry()).await?;
        entries.sort_by_key(|e| std::cmp::Reverse(e.created_at));
        Ok(entries)
    }

    async fn revoke_api_key(
        &self,
        project: &ProjectId,
        key: &ApiKeyId,
        by: Option<&Provenance>,
    ) -> Result<bool, StoreError> {
        let listed = keys::project_key(project, key);
        let Some(item) = get_consistent(&self.client, &self.tokens_table, &listed).await? else {
            return Ok(false);
        };
        let entry = from_item::<ApiKeyItem>(item)?.into_entry()?;
        let mut items = vec![
            delete(&self.tokens_table, &listed, Some(Condition::present()))?,
            delete(&self.tokens_table, &keys::secret(&entry.hash), None)?,
        ];
        self.with_recorded(
            &mut items,
            &Feed::Team(entry.team_id.clone()),
            by,
            Action::ApiKeyRevoked,
            Target::new("apiKey", &entry.id),
            changes([
                ("name", text(&entry.name), Value::Null),
                ("project", text(&entry.project_id), Value::Null),
            ]),
        )?;
        match transact(&self.client, items).await {
            Ok(()) => Ok(true),
            Err(failed) if failed.condition_failed(0) => Ok(false),
            Err(failed) => Err(failed.into()),
        }
    }
}

/// The four items of an invitation, as deletes; the first (by id) must
/// exist.
fn invitation_deletes(
    table: &str,
    invitation: &Invitation,
) -> Result<Vec<TransactWriteItem>, StoreError> {
    Ok(vec![
        delete(
            table,
            &keys::invitation(&invitation.id),
            Some(Condition::present()),
        )?,
        delete(
            table,
            &keys::team_invitation(&invitation.team_id, &invitation.id),
            None,
        )?,
        delete(
            table,
            &keys::email_invitation(&invitation.email, &invitation.id),
            None,
        )?,
        // The lock: a newer invitation holds it only once this one expired.
        delete(
            table,
            &keys::invitee(&invitation.team_id, &invitation.email),
            None,
        )?,
    ])
}

/// Whole items by key (team items are small; `name` is a reserved word, so
/// no projection).
async fn batch_get_all(
    store: &DynamoStore,
    keys: &[super::Item],
) -> Result<Vec<super::Item>, StoreError> {
    batch_get_items(&store.client, &store.versions_table, keys, None).await
}
