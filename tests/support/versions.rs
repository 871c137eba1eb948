//! Test support for the `versions` function: the counting wrapper for its
//! store traits and the API Gateway v2 event fixtures under `infra/events/`.

use app_upgrade::domain::{ProjectId, TeamId, UserId, VersionId, VersionRecord};
use app_upgrade::store::{Access, DirectoryStore, Project, StoreError, Team, VersionStore};
use axum::body::Body;
use http::Request;

use crate::Counting;

impl<S: VersionStore> VersionStore for Counting<S> {
    async fn create_version(&self, record: &VersionRecord) -> Result<(), StoreError> {
        self.count();
        self.inner.create_version(record).await
    }

    async fn get_version(
        &self,
        project: &ProjectId,
        id: &VersionId,
    ) -> Result<Option<VersionRecord>, StoreError> {
        self.count();
        self.inner.get_version(project, id).await
    }

    async fn update_version(
        &self,
        current: &VersionRecord,
        next: &VersionRecord,
    ) -> Result<VersionRecord, StoreError> {
        self.count();
        self.inner.update_version(current, next).await
    }

    async fn delete_version(&self, current: &VersionRecord) -> Result<bool, StoreError> {
        self.count();
        self.inner.delete_version(current).await
    }

    async fn list_versions(&self, project: &ProjectId) -> Result<Vec<VersionRecord>, StoreError> {
        self.count();
        self.inner.list_versions(project).await
    }
}

impl<S: DirectoryStore> DirectoryStore for Counting<S> {
    async fn create_team(&self, team: &Team) -> Result<(), StoreError> {
        self.count();
        self.inner.create_team(team).await
    }

    async fn add_member(&self, team: &TeamId, user: &UserId) -> Result<bool, StoreError> {
        self.count();
        self.inner.add_member(team, user).await
    }

    async fn remove_member(&self, team: &TeamId, user: &UserId) -> Result<bool, StoreError> {
        self.count();
        self.inner.remove_member(team, user).await
    }

    async fn create_project(&self, project: &Project) -> Result<bool, StoreError> {
        self.count();
        self.inner.create_project(project).await
    }

    async fn get_project(&self, id: &ProjectId) -> Result<Option<Project>, StoreError> {
        self.count();
        self.inner.get_project(id).await
    }

    async fn access(
        &self,
        team: &TeamId,
        user: &UserId,
        project: &ProjectId,
    ) -> Result<Access, StoreError> {
        self.count();
        self.inner.access(team, user, project).await
    }
}

/// An event of `infra/events/` with its `${VAR}` placeholders (the names
/// `.local/demo.env` exports, so the files also work with `envsubst` and
/// `cargo lambda invoke --data-file`) replaced, parsed the way the deployed
/// function receives it.
pub fn fixture_event(name: &str, vars: &[(&str, &str)]) -> Request<Body> {
    let path = format!("{}/../infra/events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    for (var, value) in vars {
        text = text.replace(&format!("${{{var}}}"), value);
    }
    assert!(!text.contains("${"), "{name}: a placeholder is left");
    lambda_http::request::from_str(&text)
        .expect("a valid API Gateway v2 event")
        .map(Body::new)
}
