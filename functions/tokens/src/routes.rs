//! The handlers: extract → domain → store → response.

use std::net::IpAddr;

use app_upgrade::ApiError;
use app_upgrade::FieldErrors;
use app_upgrade::auth::{
    TokenExpiry, authenticate_with_context, bearer_token, screen_pat, source_ip,
};
use app_upgrade::domain::activity::{Actor, Origin, Provenance};
use app_upgrade::domain::{
    Answer, Environment, IssuedPat, PatRecord, ProjectId, ReceiptScope, RequestedProjects, Scopes,
    TeamId, Timestamp, TokenId, TokenLimits, UserId, issue_pat, reissue_pat,
};
use app_upgrade::error::bounded;
use app_upgrade::http::activity::{PageParams, events_page};
use app_upgrade::http::idempotency::{json_answer, respond};
use app_upgrade::http::{
    IdempotencyHeader, JsonBody, Once, Query, RequestOrigin, idempotent_unless, json,
};
use app_upgrade::store::{Feed, TokenSummary};
use axum::Extension;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::{Extensions, HeaderMap, StatusCode};
use serde::Serialize;

use crate::Store;
use crate::body::{BODY_LIMIT, CreateToken};
use crate::limits::Limits;
use crate::replay;
use app_upgrade::auth::session::Account;

/// A token as the owner sees it: never the secret or its hash.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenView {
    id: TokenId,
    name: String,
    scopes: Scopes,
    created_at: Timestamp,
    expires_at: Timestamp,
    last_used_at: Option<Timestamp>,
    last_used_ip: Option<IpAddr>,
    last_replay_at: Option<Timestamp>,
    last_replay_ip: Option<IpAddr>,
    hint: String,
    #[serde(flatten)]
    limits: LimitsView,
}

/// A token's limits as answers show them: each list only when limited.
#[derive(Serialize)]
struct LimitsView {
    #[serde(skip_serializing_if = "Option::is_none")]
    projects: Option<Vec<ProjectId>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    environments: Option<Vec<Environment>>,
}

impl From<&TokenLimits> for LimitsView {
    fn from(limits: &TokenLimits) -> Self {
        Self {
            projects: limits.projects().map(<[_]>::to_vec),
            environments: limits.environments().map(<[_]>::to_vec),
        }
    }
}

impl From<TokenSummary> for TokenView {
    fn from(t: TokenSummary) -> Self {
        Self {
            id: t.token_id,
            name: t.name,
            scopes: t.scopes,
            created_at: t.created_at,
            expires_at: t.expires_at,
            last_used_at: t.last_used_at,
            last_used_ip: t.last_used_ip,
            last_replay_at: t.last_replay_at,
            last_replay_ip: t.last_replay_ip,
            limits: LimitsView::from(&t.limits),
            hint: t.hint,
        }
    }
}

#[derive(Serialize)]
struct TokenList {
    results: Vec<TokenView>,
}

/// The one response that shows a token's plaintext.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IssuedView<'a> {
    id: &'a TokenId,
    name: &'a str,
    scopes: Scopes,
    created_at: Timestamp,
    expires_at: Timestamp,
    #[serde(flatten)]
    limits: LimitsView,
    token: &'a str,
}

fn issued(pat: &IssuedPat) -> Result<Response, ApiError> {
    respond(&issued_answer(pat)?)
}

fn issued_answer(pat: &IssuedPat) -> Result<Answer, ApiError> {
    let PatRecord {
        token_id,
        name,
        scopes,
        created_at,
        expires_at,
        limits,
        ..
    } = &pat.record;
    json_answer(
        StatusCode::CREATED,
        &IssuedView {
            id: token_id,
            name,
            scopes: *scopes,
            created_at: *created_at,
            expires_at: *expires_at,
            limits: LimitsView::from(limits),
            token: pat.secret.expose(),
        },
    )
}

/// The OS random source failed: nothing the caller can fix.
fn no_randomness(err: impl std::fmt::Display) -> ApiError {
    ApiError::internal(&err)
}

/// Who the event of an account-session write names.
/// The account's session as an event names it: with the address its team
/// memberships record (the first that has one; `None` for an account the
/// operator added by `sub` alone). One query, which creation needs anyway
/// for the account's teams.
async fn by_session<S: Store>(
    store: &S,
    owner: &UserId,
    origin: Origin,
) -> Result<(Vec<TeamId>, Provenance), ApiError> {
    let memberships = store.memberships_of(owner).await?;
    let email = memberships.iter().find_map(|(_, email)| email.clone());
    let teams = memberships.into_iter().map(|(team, _)| team).collect();
    let by = Provenance::new(
        Actor::session(owner.clone(), email),
        origin,
        Timestamp::now(),
    );
    Ok((teams, by))
}

pub async fn create_token<S: Store>(
    State(store): State<S>,
    Extension(limits): Extension<Limits>,
    Account { user: owner, .. }: Account,
    RequestOrigin(origin): RequestOrigin,
    body: JsonBody<BODY_LIMIT>,
) -> Result<Response, ApiError> {
    let request = CreateToken::parse(&body.into_object()?)?;
    let now = Timestamp::now();
    let (teams, by) = by_session(&store, &owner, origin).await?;
    may_create(&store, &owner, &teams, limits, now).await?;
    let projects = match request.projects {
        Some(requested) => Some(in_teams(&store, requested, &teams).await?),
        None => None,
    };
    let pat = issue_pat(
        owner,
        request.name.as_str().to_owned(),
        request.scopes,
        request.lifetime_days,
        now,
    )
    .map_err(no_randomness)?
    .limited(TokenLimits::new(projects, request.environments));
    store.create_pat(&pat, Some(&by)).await?;
    tracing::info!(token_id = %pat.record.token_id, "token created");
    issued(&pat)
}

/// Only a member of some team has a use for a token, and an account holds at
/// most `limits.max_tokens_per_account` live ones. The count is read before
/// the write, not inside its transaction, so the cap is approximate under
/// concurrency: n simultaneous creates can each see one slot free and
/// overshoot it by at most n - 1. Exact would need a per-account counter
/// that TTL expiry never decrements.
async fn may_create<S: Store>(
    store: &S,
    owner: &UserId,
    teams: &[TeamId],
    limits: Limits,
    now: Timestamp,
) -> Result<(), ApiError> {
    if teams.is_empty() {
        return Err(ApiError::forbidden(
            "this account is in no team, so it may not create tokens; ask the operator to add it to a team",
        ));
    }
    let max = limits.max_tokens_per_account;
    if store.count_live_tokens(owner, now).await? >= max {
        return Err(ApiError::conflict(format!(
            "this account already has {max} live tokens, the most allowed; revoke one first"
        )));
    }
    Ok(())
}

/// The requested projects, if every one is a project of one of `teams` (the
/// owner's): one `BatchGetItem`. Otherwise a 400 listing the others with one
/// message, whether they do not exist or are another team's, so a token's
/// creation never tells whether someone else's project id exists.
async fn in_teams<S: Store>(
    store: &S,
    requested: RequestedProjects,
    teams: &[TeamId],
) -> Result<Vec<ProjectId>, ApiError> {
    let found = store.teams_of_projects(&requested.ids).await?;
    let reachable = |id: &ProjectId| {
        found
            .iter()
            .any(|(project, team)| project == id && teams.contains(team))
    };
    let outside: Vec<String> = requested
        .malformed
        .iter()
        .map(|id| bounded(id).into_owned())
        .chain(
            requested
                .ids
                .iter()
                .filter(|id| !reachable(id))
                .map(ToString::to_string),
        )
        .collect();
    if !outside.is_empty() {
        let mut errors = FieldErrors::new();
        errors.add(
            "projects",
            format!(
                "names projects that are not in your teams: {}",
                outside.join(", ")
            ),
        );
        return errors.finish(None);
    }
    Ok(requested.ids)
}

pub async fn list_tokens<S: Store>(
    State(store): State<S>,
    Account { user: owner, .. }: Account,
) -> Result<Response, ApiError> {
    let tokens = store.list_tokens(&owner).await?;
    tracing::debug!(count = tokens.len(), "tokens listed");
    Ok(json(
        StatusCode::OK,
        &TokenList {
            results: tokens.into_iter().map(TokenView::from).collect(),
        },
    ))
}

pub async fn revoke_token<S: Store>(
    State(store): State<S>,
    Account { user: owner, .. }: Account,
    RequestOrigin(origin): RequestOrigin,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::not_found("token not found");
    // An id that cannot be a token id is as unknown as a missing one.
    let id = path
        .ok()
        .and_then(|Path(id)| TokenId::parse(&id).ok())
        .ok_or_else(not_found)?;
    let (_, by) = by_session(&store, &owner, origin).await?;
    if !store.revoke_token(&owner, &id, Some(&by)).await? {
        return Err(not_found());
    }
    tracing::info!(token_id = %id, "token revoked");
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Serialize)]
struct RevokedAll {
    revoked: usize,
}

/// Every token of the account at once: the owner's way out when a secret
/// has leaked and they do not know which.
pub async fn revoke_all_tokens<S: Store>(
    State(store): State<S>,
    Account { user: owner, .. }: Account,
    RequestOrigin(origin): RequestOrigin,
) -> Result<Response, ApiError> {
    let (_, by) = by_session(&store, &owner, origin).await?;
    let revoked = store.revoke_all_tokens(&owner, Some(&by)).await?;
    tracing::info!(revoked, "all tokens revoked");
    Ok(json(StatusCode::OK, &RevokedAll { revoked }))
}

/// The account's own activity (its tokens), newest first: one `Query` a
/// page.
pub async fn account_activity<S: Store>(
    State(store): State<S>,
    Account { user: owner, .. }: Account,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = PageParams::parse(&Query::parse(query.as_deref()))?;
    let page = store
        .activity(&Feed::Account(owner), params.cursor.as_ref(), params.limit)
        .await?;
    Ok(events_page(page))
}

/// Authenticated by the PAT being rotated, not by an account session.
///
/// With an `Idempotency-Key`, the answer (the new token) is kept sealed for
/// the old token's holder, and a retry is answered from it before
/// authentication, which no longer accepts the old token once it is rotated.
/// Only until the new token is first used: from then on the old token is
/// worth nothing, and a retry is authenticated (and refused) like any other
/// use of it. Every replay is recorded for the owner (see [`replay::spent`]).
/// The key is the caller's to keep secret: whoever holds the old token and
/// the key gets the new token as a replay, so `aau` and the docs derive it
/// from a second CI secret, never from a public run id alone.
pub async fn rotate_token<S: Store>(
    State(store): State<S>,
    key: Result<IdempotencyHeader, ApiError>,
    RequestOrigin(origin): RequestOrigin,
    headers: HeaderMap,
    extensions: Extensions,
) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    // A caller without a well-formed token hears nothing about its key, and
    // one whose token was just found to be nobody's costs no read, not even
    // of a receipt: forged tokens cost here what they cost elsewhere.
    let old = bearer_token(&headers)?;
    screen_pat(&store, &old, now)?;
    let asker = replay::Asker {
        now,
        source: source_ip(&extensions),
        expiry: extensions.get::<TokenExpiry>().cloned(),
    };
    let once = key?
        .once(ReceiptScope::Rotation(old.hash()), b"", now)
        .map(|once| once.sealed_for(old));
    let spent = |answer: &Answer| replay::spent(&store, answer, asker.clone());
    idempotent_unless(&store, once.as_ref(), spent, || async {
        let principal = authenticate_with_context(&store, &headers, &extensions, now).await?;
        let old = &principal.token;
        let pat = reissue_pat(old, now).map_err(no_randomness)?;
        let answer = issued_answer(&pat)?;
        let receipt = Once::receipt_for(once.as_ref(), &answer)?;
        let by = Provenance::new(Actor::pat(old), origin.clone(), now);
        store
            .rotate_token(
                &principal.hash,
                old,
                &pat,
                receipt.as_ref(),
                asker.source,
                Some(&by),
            )
            .await?;
        tracing::info!(token_id = %old.token_id, "token rotated");
        Ok(answer)
    })
    .await
}
