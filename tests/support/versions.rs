//! Test support for the `versions` function: the counting wrapper for its
//! store traits, requests through its router, and the API Gateway v2 event
//! fixtures under `infra/events/`.

use app_upgrade::domain::{ProjectId, TeamId, UserId, VersionId, VersionRecord};
use app_upgrade::store::{Access, DirectoryStore, Project, StoreError, Team, VersionStore};
use axum::Router;
use axum::body::Body;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

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

/// What came back: status, headers, the raw body and the body as JSON
/// (`Null` when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub raw: Vec<u8>,
    pub json: Value,
}

impl Answer {
    /// The `field`s of a 400's `errors` array.
    pub fn error_fields(&self) -> Vec<String> {
        self.json["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Drives `app` with one request, no server.
pub async fn call(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.expect("infallible");
    let (parts, body) = response.into_parts();
    let raw = body.collect().await.expect("body").to_bytes().to_vec();
    let json = if raw.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&raw).expect("every non-empty response body is JSON")
    };
    Answer {
        status: parts.status,
        headers: parts.headers,
        raw,
        json,
    }
}

/// A request as curl in a CI job would send it: `uri` with its query,
/// `Authorization: Bearer token` when given, a JSON body when given.
pub fn request(
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        builder = builder.header("authorization", format!("Bearer {token}"));
    }
    let body = match body {
        Some(json) => {
            builder = builder.header("content-type", "application/json");
            Body::from(json.to_string())
        }
        None => Body::empty(),
    };
    builder.body(body).expect("valid request")
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
