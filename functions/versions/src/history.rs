//! A project's activity, a version's revisions, and a restore.
//!
//! They live here, beside the writes that record them, because this
//! function already admits a caller to a project (membership and the
//! project's team in one read) under the version scopes, and a restore is
//! a version write: the same uniqueness rule, receipts and event as an
//! update or a create.

use app_upgrade::domain::activity::{Event, EventPage, Provenance, Revision};
use app_upgrade::domain::{Environment, Timestamp, VersionId, VersionRecord};
use app_upgrade::http::activity::{PageParams, events_page};
use app_upgrade::http::idempotency::json_answer;
use app_upgrade::http::{IdempotencyHeader, JsonBody, Once, RequestOrigin, idempotent, json};
use app_upgrade::store::Feed;
use app_upgrade::store::versions::next_revision;
use app_upgrade::{ApiError, FieldErrors};
use axum::extract::State;
use axum::response::Response;
use http::StatusCode;
use serde::Serialize;
use serde_json::Value;

use crate::admit::{ProjectAccess, Read, VersionAccess, Write, version_not_found};
use crate::{Store, keyed};

pub async fn project_activity<S: Store>(
    State(store): State<S>,
    access: ProjectAccess<Read>,
) -> Result<Response, ApiError> {
    let params = PageParams::parse(&access.query)?;
    let page = store
        .activity(
            &Feed::Project(access.project.clone()),
            params.cursor.as_ref(),
            params.limit,
        )
        .await?;
    let page = match access.environments.limited_to() {
        None => page,
        Some(_) => EventPage {
            events: within(&store, &access, page.events).await?,
            ..page
        },
    };
    Ok(events_page(page))
}

/// Of a page of events, those a token limited to some environments may see:
/// every event about no version, and each version event whose version is
/// in its environments. A write that created, deleted or moved a version
/// names its environment (before and after: both must be the token's); for
/// any other, the version's present environment decides (one `BatchGetItem`
/// for the page), and an event of a version since deleted that does not say
/// is left out. A page may so hold fewer events than its `limit`; its
/// cursor still leads on.
async fn within<S: Store>(
    store: &S,
    access: &ProjectAccess<Read>,
    events: Vec<Event>,
) -> Result<Vec<Event>, ApiError> {
    let reaches = |value: &Value| match value {
        Value::Null => true,
        Value::String(name) => {
            Environment::parse(name).is_ok_and(|env| access.environments.reaches(&env))
        }
        _ => false,
    };
    let mut undecided: Vec<VersionId> = events
        .iter()
        .filter(|e| e.target.kind == "version" && !e.changes.contains_key("environment"))
        .filter_map(|e| VersionId::parse(&e.target.id).ok())
        .collect();
    // A batch read refuses a key named twice.
    undecided.sort();
    undecided.dedup();
    let present = if undecided.is_empty() {
        Vec::new()
    } else {
        store.get_versions(&access.project, &undecided).await?
    };
    Ok(events
        .into_iter()
        .filter(|event| {
            if event.target.kind != "version" {
                return true;
            }
            match event.changes.get("environment") {
                Some(change) => reaches(&change.before) && reaches(&change.after),
                None => present.iter().any(|v| {
                    v.id.as_str() == event.target.id && access.environments.reaches(&v.environment)
                }),
            }
        })
        .collect())
}

#[derive(Serialize)]
struct Revisions {
    results: Vec<Revision>,
}

pub async fn version_history<S: Store>(
    State(store): State<S>,
    access: VersionAccess<Read>,
) -> Result<Response, ApiError> {
    let mut results = store.history(&access.project, &access.version).await?;
    let environment = match results.last() {
        Some(latest) => latest.version.environment.clone(),
        // A version written before history was kept still has itself.
        None => {
            store
                .get_version(&access.project, &access.version)
                .await?
                .ok_or_else(version_not_found)?
                .environment
        }
    };
    // A limited token sees the versions of its environments, and of those
    // only the revisions that were in them.
    if !access.environments.reaches(&environment) {
        return Err(version_not_found());
    }
    results.retain(|r| access.environments.reaches(&r.version.environment));
    results.reverse();
    Ok(json(StatusCode::OK, &Revisions { results }))
}

/// `{"revision": n}`, nothing else.
fn wanted_revision(body: &Value) -> Result<u64, ApiError> {
    let mut errors = FieldErrors::new();
    let Some(object) = body.as_object() else {
        return Err(ApiError::bad_request("the body must be a JSON object"));
    };
    for key in object.keys().filter(|k| *k != "revision") {
        errors.add_key("", key, "is not a known field");
    }
    let revision = match object.get("revision") {
        None => {
            errors.add("revision", "is required");
            None
        }
        Some(value) => errors.check(
            "revision",
            // `3` and `3.0` are the same JSON number (an integer to JSON
            // Schema too); a revision never in the history is the route's 404.
            value
                .as_u64()
                .or_else(|| {
                    // Past u64 (saturated): no history holds it, so a 404.
                    value
                        .as_f64()
                        .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                        .map(|f| f as u64)
                })
                .ok_or("must be a revision number from the history"),
        ),
    };
    errors.finish(revision)
}

pub async fn restore_version<S: Store>(
    State(store): State<S>,
    access: VersionAccess<Write>,
    RequestOrigin(origin): RequestOrigin,
    header: IdempotencyHeader,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    let once = keyed(&header, &access.owner, body.to_string().as_bytes(), now);
    idempotent(&store, once.as_ref(), || async {
        let wanted = wanted_revision(&body)?;
        let history = store.history(&access.project, &access.version).await?;
        let no_such_revision = || ApiError::not_found("no such revision of this version");
        let Some(latest) = history.last() else {
            // Written before revisions were kept, expired, or never there.
            return Err(
                match store.get_version(&access.project, &access.version).await? {
                    Some(_) => no_such_revision(),
                    None => version_not_found(),
                },
            );
        };
        if !access.environments.reaches(&latest.version.environment) {
            return Err(version_not_found());
        }
        let old = history
            .iter()
            .find(|r| r.revision == wanted)
            .ok_or_else(no_such_revision)?;
        // Writing back a revision from another environment moves the
        // version there: a write to that environment.
        access.environments.may_write(&old.version.environment)?;
        if old.deleted {
            return Err(ApiError::bad_param(
                "revision",
                "is the version's deletion; restore the revision before it",
            ));
        }
        let by = Provenance::new(access.actor.clone(), origin, now).restoring(wanted);
        let back = VersionRecord {
            updated_at: now,
            ..old.version.clone()
        };
        match store.get_version(&access.project, &access.version).await? {
            Some(current) => {
                let answer = json_answer(StatusCode::OK, &next_revision(&current, &back))?;
                let receipt = Once::receipt_for(once.as_ref(), &answer)?;
                store
                    .update_version(&current, &back, receipt.as_ref(), Some(&by))
                    .await?;
                Ok(answer)
            }
            // Deleted: it comes back with its id, one revision after its
            // deletion, if no other version took its identity meanwhile.
            None => {
                let back = VersionRecord {
                    revision: latest.revision + 1,
                    ..back
                };
                let answer = json_answer(StatusCode::OK, &back)?;
                let receipt = Once::receipt_for(once.as_ref(), &answer)?;
                store
                    .create_version(&back, receipt.as_ref(), Some(&by))
                    .await?;
                Ok(answer)
            }
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restore_names_one_revision_and_nothing_else() {
        assert_eq!(wanted_revision(&serde_json::json!({"revision": 2})), Ok(2));
        for bad in [
            serde_json::json!({}),
            serde_json::json!({"revision": -1}),
            serde_json::json!({"revision": "2"}),
            serde_json::json!({"revision": 1, "id": "x"}),
            serde_json::json!([1]),
        ] {
            assert!(wanted_revision(&bad).is_err(), "{bad}");
        }
    }
}
