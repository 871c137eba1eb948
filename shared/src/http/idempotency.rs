//! `Idempotency-Key` on writes: a retry with the same key and the same
//! request gets the first answer again (marked `Idempotent-Replayed: true`)
//! instead of a second write; the same key with another request is a 422; a
//! key whose first request is still being written is a 409.
//!
//! Only completed writes leave a receipt (in their own transaction): errors,
//! validation 400s included, are answered afresh on a retry; they repeat
//! deterministically, or (409, 503) a retry is what the client should do.

use std::future::Future;

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, StatusCode, header};

use crate::domain::idempotency::{RETENTION_DAYS, open, seal};
use crate::domain::{
    Answer, Fingerprint, IdempotencyKey, PlainSecret, Receipt, ReceiptScope, Recorded, Timestamp,
};
use crate::error::ApiError;
use crate::store::ReceiptStore;

pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";

/// The request's `Idempotency-Key` (400 when malformed or repeated; the
/// error never echoes it), with what identifies the request apart from its
/// body. Extract it after authentication.
pub struct IdempotencyHeader {
    key: Option<IdempotencyKey>,
    method: String,
    target: String,
}

/// The `Idempotency-Key` header, parsed.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, ApiError> {
    let mut values = headers.get_all(IDEMPOTENCY_KEY).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ApiError::bad_request(
            "send at most one Idempotency-Key header",
        ));
    }
    IdempotencyKey::parse(value.as_bytes())
        .map(Some)
        .map_err(|why| ApiError::bad_request(format!("Idempotency-Key {why}")))
}

impl<S: Sync> FromRequestParts<S> for IdempotencyHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Ok(Self {
            key: idempotency_key(&parts.headers)?,
            method: parts.method.to_string(),
            target: parts
                .uri
                .path_and_query()
                .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned()),
        })
    }
}

impl IdempotencyHeader {
    /// The keyed write this request is, if it carries a key; `body` is the
    /// request body as the handler received it.
    pub fn once(&self, scope: ReceiptScope, body: &[u8], now: Timestamp) -> Option<Once> {
        self.key.map(|key| Once {
            scope,
            key,
            fingerprint: Fingerprint::of(&self.method, &self.target, body),
            sealed_for: None,
            now,
        })
    }
}

/// A write made under an `Idempotency-Key`.
pub struct Once {
    scope: ReceiptScope,
    key: IdempotencyKey,
    fingerprint: Fingerprint,
    sealed_for: Option<PlainSecret>,
    now: Timestamp,
}

impl Once {
    /// Keeps the answer sealed for `old`'s holder (the answer holds a secret).
    pub fn sealed_for(self, old: PlainSecret) -> Self {
        Self {
            sealed_for: Some(old),
            ..self
        }
    }

    /// The receipt to store with a write that answers `answer`, if the
    /// request came with a key.
    pub fn receipt_for(once: Option<&Self>, answer: &Answer) -> Result<Option<Receipt>, ApiError> {
        once.map(|o| o.receipt(answer)).transpose()
    }

    /// The receipt to store with the write that answers `answer`.
    pub fn receipt(&self, answer: &Answer) -> Result<Receipt, ApiError> {
        let recorded = match &self.sealed_for {
            None => Recorded::Plain(answer.clone()),
            Some(old) => Recorded::Sealed(
                seal(answer, old, &self.key, self.context().as_bytes())
                    .map_err(|e| ApiError::internal(&e))?,
            ),
        };
        Ok(Receipt {
            scope: self.scope.clone(),
            key: self.key,
            fingerprint: self.fingerprint,
            answer: recorded,
            expires_at: self.now.plus_days(RETENTION_DAYS),
        })
    }

    /// What a sealed answer is bound to.
    fn context(&self) -> String {
        self.scope.sealing_context(&self.key)
    }

    /// The answer stored under this key for this request, opened; 422 if
    /// the key was used with another request.
    pub async fn stored<S: ReceiptStore>(&self, store: &S) -> Result<Option<Answer>, ApiError> {
        let Some(found) = store.get_receipt(&self.scope, &self.key, self.now).await? else {
            return Ok(None);
        };
        if found.fingerprint != self.fingerprint {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "this Idempotency-Key was already used with a different request; \
                 use a new key for a new request",
            ));
        }
        match found.answer {
            Recorded::Plain(answer) => Ok(Some(answer)),
            Recorded::Sealed(sealed) => match &self.sealed_for {
                Some(old) => open(&sealed, old, &self.key, self.context().as_bytes())
                    .map(Some)
                    .map_err(|e| ApiError::internal(&e)),
                None => Err(ApiError::internal(&"a sealed receipt without its secret")),
            },
        }
    }

    /// Removes this key's receipt: its answer must not be given again.
    pub async fn forget<S: ReceiptStore>(&self, store: &S) -> Result<(), ApiError> {
        Ok(store.delete_receipt(&self.scope, &self.key).await?)
    }
}

/// A stored answer given again, marked as such.
fn replayed(answer: &Answer) -> Result<Response, ApiError> {
    let mut response = respond(answer)?;
    response
        .headers_mut()
        .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    Ok(response)
}

/// An answer as a response: JSON body unless empty, `Location` if any.
pub fn respond(answer: &Answer) -> Result<Response, ApiError> {
    let status = StatusCode::from_u16(answer.status).map_err(|e| ApiError::internal(&e))?;
    let mut response = if answer.body.is_empty() {
        status.into_response()
    } else {
        (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            answer.body.clone(),
        )
            .into_response()
    };
    if let Some(location) = &answer.location {
        let location = HeaderValue::try_from(location).map_err(|e| ApiError::internal(&e))?;
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// A JSON answer with `status`.
pub fn json_answer<T: serde::Serialize>(status: StatusCode, body: &T) -> Result<Answer, ApiError> {
    Ok(Answer {
        status: status.as_u16(),
        location: None,
        body: serde_json::to_string(body).map_err(|e| ApiError::internal(&e))?,
    })
}

/// Runs `write`, which stores `once`'s receipt in its own transaction.
///
/// Optimistic: the receipt is not read first. Every keyed write puts its
/// receipt on the condition that no live one exists, so a write under a key
/// already answered cannot succeed; it fails as a lost race does, with 404
/// (a retried delete finds the version gone) or 409 (a retried create finds
/// its identity taken, an update its receipt). Only then is the receipt
/// read, and its answer replayed (or 422 for another request). A first
/// attempt, the common case, costs no extra call: one more item in its
/// transaction.
pub async fn idempotent<S, F, Fut>(
    store: &S,
    once: Option<&Once>,
    write: F,
) -> Result<Response, ApiError>
where
    S: ReceiptStore,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Answer, ApiError>>,
{
    let Some(once) = once else {
        return respond(&write().await?);
    };
    match write().await {
        Ok(answer) => respond(&answer),
        Err(err) if lost_to_a_receipt(&err) => match once.stored(store).await? {
            Some(answer) => replayed(&answer),
            None => Err(err),
        },
        Err(err) => Err(err),
    }
}

/// How a keyed write fails when its key was answered already (or is being
/// answered by a concurrent request).
fn lost_to_a_receipt(err: &ApiError) -> bool {
    matches!(err.status(), StatusCode::NOT_FOUND | StatusCode::CONFLICT)
}

/// For a write that cannot be retried as such once it happened (a rotation
/// revokes the credential its retry comes with): the receipt is read first
/// and its answer replayed, unless `stale` says it must no longer be given,
/// in which case it is forgotten and the request served as if it had none.
/// Otherwise as [`idempotent`].
pub async fn idempotent_unless<S, V, VFut, F, Fut>(
    store: &S,
    once: Option<&Once>,
    stale: V,
    write: F,
) -> Result<Response, ApiError>
where
    S: ReceiptStore,
    V: Fn(&Answer) -> VFut,
    VFut: Future<Output = Result<bool, ApiError>>,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Answer, ApiError>>,
{
    let Some(once) = once else {
        return respond(&write().await?);
    };
    let replay = async |once: &Once| -> Result<Option<Response>, ApiError> {
        let Some(answer) = once.stored(store).await? else {
            return Ok(None);
        };
        if stale(&answer).await? {
            once.forget(store).await?;
            return Ok(None);
        }
        replayed(&answer).map(Some)
    };
    if let Some(response) = replay(once).await? {
        return Ok(response);
    }
    match write().await {
        Ok(answer) => respond(&answer),
        Err(err) if lost_to_a_receipt(&err) => match replay(once).await? {
            Some(response) => Ok(response),
            None => Err(err),
        },
        Err(err) => Err(err),
    }
}
