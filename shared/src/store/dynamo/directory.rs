//! Teams, memberships and projects in the versions table.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use super::transact::{Condition, delete, put, transact};
use super::{
    DynamoStore, batch_get, classify, from_item, get_consistent, key_item, query_all, to_item,
};
use crate::domain::{Name, ProjectId, TeamId, Timestamp, UserId};
use crate::store::{Access, DirectoryStore, Project, StoreError, Team, keys};

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TeamItem {
    team_id: TeamId,
    name: Name,
    created_at: Timestamp,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MemberItem {
    team_id: TeamId,
    user_id: UserId,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TeamOnly {
    team_id: TeamId,
}

/// Both sides of a membership: the team's `MEMBER#` item and the user's
/// `MEMBEROF#` item, always written and deleted together.
fn membership_items(team: &TeamId, user: &UserId) -> [(keys::Key, MemberItem); 2] {
    let item = MemberItem {
        team_id: team.clone(),
        user_id: user.clone(),
    };
    [
        (keys::member(team, user), item.clone()),
        (keys::member_of(user, team), item),
    ]
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProjectItem {
    project_id: ProjectId,
    team_id: TeamId,
    name: Name,
    created_at: Timestamp,
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
                .projection_expression("teamId, userId")
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

    async fn team_exists(&self, team: &TeamId) -> Result<bool, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.versions_table)
            .set_key(Some(key_item(&keys::team(team))))
            .consistent_read(true)
            .projection_expression("pk")
            .send()
            .await
            .map_err(classify)?;
        Ok(output.item.is_some())
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
            },
        )?)
        .await
    }

    async fn add_member(&self, team: &TeamId, user: &UserId) -> Result<bool, StoreError> {
        if !self.team_exists(team).await? {
            return Ok(false);
        }
        let items = membership_items(team, user)
            .into_iter()
            .map(|(key, item)| {
                put(
                    &self.versions_table,
                    to_item(&key, &item)?,
                    Condition::any(),
                )
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        transact(&self.client, items).await?;
        Ok(true)
    }

    async fn remove_member(&self, team: &TeamId, user: &UserId) -> Result<bool, StoreError> {
        let table = &self.versions_table;
        let items = vec![
            delete(table, &keys::member(team, user), Some(Condition::present()))?,
            delete(table, &keys::member_of(user, team), None)?,
        ];
        match transact(&self.client, items).await {
            Ok(()) => Ok(true),
            Err(failed) if failed.condition_failed(0) => Ok(false),
            Err(failed) => Err(failed.into()),
        }
    }

    async fn teams_of(&self, user: &UserId) -> Result<Vec<TeamId>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.versions_table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", AttributeValue::S(keys::user_pk(user)))
            .expression_attribute_values(
                ":prefix",
                AttributeValue::S(keys::MEMBER_OF_PREFIX.to_owned()),
            )
            .projection_expression("teamId")
            .consistent_read(true);
        query_all(query, |item| {
            from_item::<TeamOnly>(item).map(|row| row.team_id)
        })
        .await
    }

    async fn create_project(&self, project: &Project) -> Result<bool, StoreError> {
        if !self.team_exists(&project.team_id).await? {
            return Ok(false);
        }
        self.put_new(to_item(
            &keys::project(&project.id),
            &ProjectItem {
                project_id: project.id.clone(),
                team_id: project.team_id.clone(),
                name: project.name.clone(),
                created_at: project.created_at,
            },
        )?)
        .await?;
        Ok(true)
    }

    async fn get_project(&self, id: &ProjectId) -> Result<Option<Project>, StoreError> {
        let found = get_consistent(&self.client, &self.versions_table, &keys::project(id)).await?;
        let Some(item) = found else {
            return Ok(None);
        };
        let p: ProjectItem = from_item(item)?;
        Ok(Some(Project {
            id: p.project_id,
            team_id: p.team_id,
            name: p.name,
            created_at: p.created_at,
        }))
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
            "pk, sk, teamId",
        )
        .await?;
        let mut access = Access {
            is_member: false,
            project_in_team: false,
        };
        for item in items {
            let sk = item.get(keys::SK).and_then(|v| v.as_s().ok());
            if sk == Some(&member_key.sk) {
                access.is_member = true;
            } else if sk == Some(&project_key.sk) {
                access.project_in_team =
                    item.get("teamId") == Some(&AttributeValue::S(team.as_str().to_owned()));
            }
        }
        Ok(access)
    }
}
