//! Teams, memberships and projects in the versions table.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use super::{DynamoStore, batch_get, classify, from_item, is_code, key_item, to_item};
use crate::domain::{Name, ProjectId, TeamId, Timestamp, UserId};
use crate::store::{Access, DirectoryStore, Project, StoreError, Team, keys};

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TeamItem {
    team_id: TeamId,
    name: Name,
    created_at: Timestamp,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MemberItem {
    team_id: TeamId,
    user_id: UserId,
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
        let item = to_item(
            &keys::member(team, user),
            &MemberItem {
                team_id: team.clone(),
                user_id: user.clone(),
            },
        )?;
        self.client
            .put_item()
            .table_name(&self.versions_table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(classify)?;
        Ok(true)
    }

    async fn remove_member(&self, team: &TeamId, user: &UserId) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.versions_table)
            .set_key(Some(key_item(&keys::member(team, user))))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(err) if is_code(&err, "ConditionalCheckFailedException") => Ok(false),
            Err(err) => Err(classify(err)),
        }
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
        let output = self
            .client
            .get_item()
            .table_name(&self.versions_table)
            .set_key(Some(key_item(&keys::project(id))))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        let Some(item) = output.item else {
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
