//! Teams, memberships and projects in the versions table.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use super::transact::{Condition, check, delete, put, transact, update};
use super::{
    DynamoStore, batch_get, classify, from_item, key_item, prefix_query, query_all, to_item,
};
use serde_json::Value;

use crate::domain::activity::{Action, Provenance, Target, changes, text};
use crate::domain::{Description, Email, Name, ProjectId, Role, TeamId, Timestamp, UserId};
use crate::store::{
    Access, DirectoryStore, Feed, Membership, Project, StoreError, Team, TeamStore, keys,
};

/// A team; `owners` counts its owners, so that no write can leave it
/// without one (every write removing an owner is conditioned on it).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct TeamItem {
    pub(super) team_id: TeamId,
    pub(super) name: Name,
    pub(super) created_at: Timestamp,
    #[serde(default)]
    pub(super) owners: u32,
}

impl TeamItem {
    pub(super) fn into_team(self) -> Team {
        Team {
            id: self.team_id,
            name: self.name,
            created_at: self.created_at,
        }
    }
}

/// One side of a membership; both sides hold the same attributes.
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct MemberItem {
    pub(super) team_id: TeamId,
    pub(super) user_id: UserId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) email: Option<Email>,
    /// Memberships written before roles existed had every right: owners.
    #[serde(default = "legacy_role")]
    pub(super) role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) joined_at: Option<Timestamp>,
}

fn legacy_role() -> Role {
    Role::Owner
}

impl MemberItem {
    pub(super) fn from_membership(m: &Membership) -> Self {
        Self {
            team_id: m.team_id.clone(),
            user_id: m.user_id.clone(),
            email: m.email.clone(),
            role: m.role,
            joined_at: Some(m.joined_at),
        }
    }

    pub(super) fn into_membership(self) -> Membership {
        Membership {
            team_id: self.team_id,
            user_id: self.user_id,
            email: self.email,
            role: self.role,
            joined_at: self.joined_at.unwrap_or(Timestamp::from_unix_millis(0)),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProjectTeam {
    project_id: ProjectId,
    team_id: TeamId,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TeamOnly {
    team_id: TeamId,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TeamAndEmail {
    team_id: TeamId,
    #[serde(default)]
    email: Option<Email>,
}

/// Both sides of a membership: the team's `MEMBER#` item and the user's
/// `MEMBEROF#` item, always written and deleted together.
pub(super) fn membership_items(m: &Membership) -> [(keys::Key, MemberItem); 2] {
    let item = MemberItem::from_membership(m);
    [
        (keys::member(&m.team_id, &m.user_id), item.clone()),
        (keys::member_of(&m.user_id, &m.team_id), item),
    ]
}

/// A project; `deleting` is set by the first step of a delete, from when
/// the project is gone for every route but the delete itself.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ProjectItem {
    pub(super) project_id: ProjectId,
    pub(super) team_id: TeamId,
    pub(super) name: Name,
    #[serde(default)]
    pub(super) description: Description,
    pub(super) created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) updated_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) deleting: Option<Timestamp>,
}

impl ProjectItem {
    pub(super) fn from_project(p: &Project) -> Self {
        Self {
            project_id: p.id.clone(),
            team_id: p.team_id.clone(),
            name: p.name.clone(),
            description: p.description.clone(),
            created_at: p.created_at,
            updated_at: Some(p.updated_at),
            deleting: None,
        }
    }

    pub(super) fn into_project(self) -> (Project, bool) {
        (
            Project {
                id: self.project_id,
                team_id: self.team_id,
                name: self.name,
                description: self.description,
                created_at: self.created_at,
                updated_at: self.updated_at.unwrap_or(self.created_at),
            },
            self.deleting.is_some(),
        )
    }
}

impl DynamoStore {
    /// Puts `item` only if its key is new.
    async fn put_new(&self, item: super::Item) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.versions_table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Writes the by-user item of every team-side membership that lacks
    /// one: memberships added before the by-user items existed. Idempotent;
    /// the number of memberships visited.
    pub async fn backfill_member_of(&self) -> Result<usize, StoreError> {
        let mut start = None;
        let mut visited = 0;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.versions_table)
                .filter_expression("begins_with(sk, :member)")
                .expression_attribute_values(
                    ":member",
                    AttributeValue::S(keys::MEMBER_PREFIX.to_owned()),
                )
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(classify)?;
            for item in page.items.unwrap_or_default() {
                let member: MemberItem = from_item(item)?;
                let key = keys::member_of(&member.user_id, &member.team_id);
                self.client
                    .put_item()
                    .table_name(&self.versions_table)
                    .set_item(Some(to_item(&key, &member)?))
                    .send()
                    .await
                    .map_err(classify)?;
                visited += 1;
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(visited);
            }
        }
    }
}

impl DirectoryStore for DynamoStore {
    async fn create_team(&self, team: &Team) -> Result<(), StoreError> {
        self.put_new(to_item(
            &keys::team(&team.id),
            &TeamItem {
                team_id: team.id.clone(),
                name: team.name.clone(),
                created_at: team.created_at,
                owners: 0,
            },
        )?)
        .await
    }

    async fn add_member(&self, team: &TeamId, user: &UserId) -> Result<bool, StoreError> {
        if let Some(existing) = self.membership(team, user).await? {
            // Idempotent; an operator's add makes an owner of a member.
            if existing.role.is_owner() {
                return Ok(true);
            }
        }
        let member = Membership {
            team_id: team.clone(),
            user_id: user.clone(),
            email: None,
            role: Role::Owner,
            joined_at: Timestamp::now(),
        };
        self.put_membership(&member, true).await
    }

    async fn remove_member(&self, team: &TeamId, user: &UserId) -> Result<bool, StoreError> {
        let Some(member) = self.membership(team, user).await? else {
            return Ok(false);
        };
        // The operator's override: the last owner may go too (a team of
        // the API's always keeps one; the operator can add another).
        let table = &self.versions_table;
        let mut items = vec![
            delete(table, &keys::member(team, user), Some(Condition::present()))?,
            delete(table, &keys::member_of(user, team), None)?,
        ];
        if member.role.is_owner() {
            items.push(update(
                table,
                &keys::team(team),
                "ADD owners :minus",
                Condition::present().with(":minus", AttributeValue::N("-1".into())),
            )?);
        }
        match transact(&self.client, items).await {
            Ok(()) => Ok(true),
            Err(failed) if failed.condition_failed(0) => Ok(false),
            Err(failed) => Err(failed.into()),
        }
    }

    async fn teams_of(&self, user: &UserId) -> Result<Vec<TeamId>, StoreError> {
        let query = prefix_query(
            &self.client,
            &self.versions_table,
            keys::user_pk(user),
            keys::MEMBER_OF_PREFIX,
        )
        .projection_expression("teamId");
        query_all(query, |item| {
            from_item::<TeamOnly>(item).map(|row| row.team_id)
        })
        .await
    }

    async fn memberships_of(
        &self,
        user: &UserId,
    ) -> Result<Vec<(TeamId, Option<Email>)>, StoreError> {
        let query = prefix_query(
            &self.client,
            &self.versions_table,
            keys::user_pk(user),
            keys::MEMBER_OF_PREFIX,
        )
        .projection_expression("teamId, email");
        query_all(query, |item| {
            from_item::<TeamAndEmail>(item).map(|row| (row.team_id, row.email))
        })
        .await
    }

    async fn create_project(
        &self,
        project: &Project,
        by: Option<&Provenance>,
    ) -> Result<bool, StoreError> {
        let table = &self.versions_table;
        let item = ProjectItem::from_project(project);
        let mut items = vec![
            check(table, &keys::team(&project.team_id), Condition::present())?,
            put(
                table,
                to_item(&keys::project(&project.id), &item)?,
                Condition::absent(),
            )?,
            put(
                table,
                to_item(&keys::team_project(&project.team_id, &project.id), &item)?,
                Condition::absent(),
            )?,
        ];
        self.with_recorded(
            &mut items,
            &Feed::Team(project.team_id.clone()),
            by,
            Action::ProjectCreated,
            Target::new("project", &project.id),
            changes([
                ("name", Value::Null, text(&project.name)),
                (
                    "description",
                    Value::Null,
                    text(project.description.as_str()),
                ),
            ]),
        )?;
        match transact(&self.client, items).await {
            Ok(()) => Ok(true),
            Err(failed) if failed.condition_failed(0) => Ok(false),
            Err(failed) => Err(failed.conflict_as("a project with this id exists")),
        }
    }

    async fn get_project(&self, id: &ProjectId) -> Result<Option<Project>, StoreError> {
        Ok(self
            .project_with_state(id)
            .await?
            .and_then(|(project, deleting)| (!deleting).then_some(project)))
    }

    async fn access(
        &self,
        team: &TeamId,
        user: &UserId,
        project: &ProjectId,
    ) -> Result<Access, StoreError> {
        let member_key = keys::member(team, user);
        let project_key = keys::project(project);
        let items = batch_get(
            &self.client,
            &self.versions_table,
            &[key_item(&member_key), key_item(&project_key)],
            "pk, sk, teamId, deleting, email",
        )
        .await?;
        let mut access = Access {
            is_member: false,
            project_in_team: false,
            email: None,
        };
        for item in items {
            let sk = item.get(keys::SK).and_then(|v| v.as_s().ok());
            if sk == Some(&member_key.sk) {
                access.is_member = true;
                access.email = item
                    .get("email")
                    .and_then(|v| v.as_s().ok())
                    .and_then(|e| Email::parse(e).ok());
            } else if sk == Some(&project_key.sk) {
                access.project_in_team = item.get("teamId")
                    == Some(&AttributeValue::S(team.as_str().to_owned()))
                    && !item.contains_key("deleting");
            }
        }
        Ok(access)
    }

    async fn teams_of_projects(
        &self,
        projects: &[ProjectId],
    ) -> Result<Vec<(ProjectId, TeamId)>, StoreError> {
        let keys: Vec<_> = projects
            .iter()
            .map(|p| key_item(&keys::project(p)))
            .collect();
        let items = batch_get(
            &self.client,
            &self.versions_table,
            &keys,
            "pk, sk, projectId, teamId, deleting",
        )
        .await?;
        let mut found = Vec::with_capacity(items.len());
        for item in items {
            if item.contains_key("deleting") {
                continue;
            }
            let row: ProjectTeam = from_item(item)?;
            found.push((row.project_id, row.team_id));
        }
        Ok(found)
    }
}
