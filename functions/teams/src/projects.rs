//! Projects and their API keys.

use app_upgrade::ApiError;
use app_upgrade::domain::{ApiKeyId, PlainSecret, ProjectId, SecretKind, Timestamp};
use app_upgrade::http::{JsonBody, RequestOrigin, json};
use app_upgrade::store::{ApiKeyEntry, Project};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};
use serde::Serialize;

use crate::admit::{InProject, TeamFromQuery};
use crate::body::{self, BODY_LIMIT};
use crate::views::{ApiKeyView, ProjectView, Results};
use crate::{Accounts, AppState, Store};

type St<S, A> = State<AppState<S, A>>;

pub async fn list_projects<S: Store, A: Accounts>(
    State(state): St<S, A>,
    TeamFromQuery(member): TeamFromQuery,
) -> Result<Response, ApiError> {
    let projects = state.store.projects_of(&member.membership.team_id).await?;
    Ok(json(StatusCode::OK, &Results::<ProjectView>::of(projects)))
}

pub async fn create_project<S: Store, A: Accounts>(
    State(state): St<S, A>,
    TeamFromQuery(member): TeamFromQuery,
    RequestOrigin(origin): RequestOrigin,
    body: JsonBody<BODY_LIMIT>,
) -> Result<Response, ApiError> {
    let fields = body::project(body.into_object()?, true)?;
    let by = member.by(origin);
    let team = member.membership.team_id;
    let mut project = Project::new(
        ProjectId::generate(),
        team.clone(),
        fields
            .name
            .ok_or_else(|| ApiError::internal(&"a parsed project without a name"))?,
        Timestamp::now(),
    );
    project.description = fields.description.unwrap_or_default();
    if !state.store.create_project(&project, Some(&by)).await? {
        return Err(crate::admit::team_not_found());
    }
    tracing::info!(team_id = %team, project_id = %project.id, "project created");
    let location = format!("/api/v1/projects/{}?teamId={team}", project.id);
    let mut response = json(StatusCode::CREATED, &ProjectView::from(project));
    if let Ok(value) = location.parse() {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

pub async fn get_project(in_project: InProject) -> Result<Response, ApiError> {
    let InProject { project, .. } = in_project.live()?;
    Ok(json(StatusCode::OK, &ProjectView::from(project)))
}

pub async fn update_project<S: Store, A: Accounts>(
    State(state): St<S, A>,
    in_project: InProject,
    RequestOrigin(origin): RequestOrigin,
    body: JsonBody<BODY_LIMIT>,
) -> Result<Response, ApiError> {
    let InProject {
        mut project,
        member,
        ..
    } = in_project.live()?;
    let fields = body::project(body.into_object()?, false)?;
    let before = project.clone();
    if let Some(name) = fields.name {
        project.name = name;
    }
    if let Some(description) = fields.description {
        project.description = description;
    }
    project.updated_at = Timestamp::now();
    state
        .store
        .update_project(&before, &project, Some(&member.by(origin)))
        .await?;
    Ok(json(StatusCode::OK, &ProjectView::from(project)))
}

/// Also finishes a delete that stopped part-way (the project is then only
/// visible to this route).
pub async fn delete_project<S: Store, A: Accounts>(
    State(state): St<S, A>,
    in_project: InProject,
    RequestOrigin(origin): RequestOrigin,
) -> Result<Response, ApiError> {
    // A resumed delete was recorded by the run that began it.
    let by = (!in_project.deleting).then(|| in_project.member.by(origin));
    let deleted = state
        .store
        .delete_project(&in_project.project, by.as_ref())
        .await?;
    tracing::info!(
        project_id = %in_project.project.id,
        resumed = in_project.deleting,
        api_keys = deleted.api_keys,
        items = deleted.items,
        "project deleted"
    );
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn list_keys<S: Store, A: Accounts>(
    State(state): St<S, A>,
    in_project: InProject,
) -> Result<Response, ApiError> {
    let in_project = in_project.live()?;
    let keys = state.store.api_keys(&in_project.project.id).await?;
    Ok(json(StatusCode::OK, &Results::<ApiKeyView>::of(keys)))
}

/// The one answer that holds the key.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreatedKey {
    #[serde(flatten)]
    key: ApiKeyView,
    api_key: String,
}

pub async fn create_key<S: Store, A: Accounts>(
    State(state): St<S, A>,
    in_project: InProject,
    RequestOrigin(origin): RequestOrigin,
    body: JsonBody<BODY_LIMIT>,
) -> Result<Response, ApiError> {
    let InProject {
        project, member, ..
    } = in_project.live()?;
    let by = member.by(origin);
    let name = body::named(body.into_object()?)?;
    let secret = PlainSecret::generate(SecretKind::ApiKey).map_err(|e| ApiError::internal(&e))?;
    let entry = ApiKeyEntry {
        id: ApiKeyId::generate(),
        project_id: project.id,
        team_id: member.membership.team_id,
        name,
        hint: secret.hint(),
        created_at: Timestamp::now(),
        hash: secret.hash(),
    };
    state.store.create_api_key_entry(&entry, Some(&by)).await?;
    tracing::info!(project_id = %entry.project_id, key_id = %entry.id, "API key created");
    Ok(json(
        StatusCode::CREATED,
        &CreatedKey {
            key: ApiKeyView::from(entry),
            api_key: secret.expose().to_owned(),
        },
    ))
}

pub async fn revoke_key<S: Store, A: Accounts>(
    State(state): St<S, A>,
    in_project: InProject,
    RequestOrigin(origin): RequestOrigin,
    Path((_, key)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let in_project = in_project.live()?;
    let not_found = || ApiError::not_found("API key not found");
    let key = ApiKeyId::parse(&key).map_err(|_| not_found())?;
    if !state
        .store
        .revoke_api_key(
            &in_project.project.id,
            &key,
            Some(&in_project.member.by(origin)),
        )
        .await?
    {
        return Err(not_found());
    }
    tracing::info!(project_id = %in_project.project.id, key_id = %key, "API key revoked");
    Ok(StatusCode::NO_CONTENT.into_response())
}
