//! The one error type every handler returns.
//!
//! It owns the mapping to HTTP statuses and the contract's JSON body
//! `{"code": <status>, "message": "…", "errors": [{"field", "message"}]}`.
//! Anything unexpected becomes a logged, generic 500; store outages become
//! 503 with `Retry-After` so the SDKs' retry takes over. Every error
//! carries `Cache-Control: no-store`.

use std::borrow::Cow;

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;

use crate::auth::AuthError;
use crate::store::{StoreError, TeamRefusal};

/// Seconds a client should wait before retrying after a 503.
pub const RETRY_AFTER_SECS: u32 = 1;

/// One problem with one input field, reported in a 400's `errors` array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: Cow<'static, str>,
    pub message: Cow<'static, str>,
}

impl FieldError {
    pub fn new(field: impl Into<Cow<'static, str>>, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Longest input key (an unknown field, a map entry's name) echoed back in a
/// field error; a longer one is cut and marked with `…`.
pub const MAX_ECHOED_KEY_CHARS: usize = 64;

/// Every problem with a request's fields, collected so that one 400 names
/// them all. The only way to build a 400 with `errors`, and it never builds
/// one with none.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(
        &mut self,
        field: impl Into<Cow<'static, str>>,
        message: impl Into<Cow<'static, str>>,
    ) {
        self.0.push(FieldError::new(field, message));
    }

    /// An error about an input key the client chose: the field is `prefix`
    /// then the key, cut to [`MAX_ECHOED_KEY_CHARS`], so whatever was sent
    /// comes back bounded.
    pub fn add_key(&mut self, prefix: &str, key: &str, message: impl Into<Cow<'static, str>>) {
        self.add(format!("{prefix}{}", bounded(key)), message);
    }

    /// The value, or `None` with `field`'s error recorded.
    pub fn check<T, M: Into<Cow<'static, str>>>(
        &mut self,
        field: &'static str,
        result: Result<T, M>,
    ) -> Option<T> {
        result.map_err(|message| self.add(field, message)).ok()
    }

    /// How many errors so far: a parser compares counts to tell whether a
    /// step added any.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `value` when no error was collected, else a 400 listing them all.
    /// A `None` value with no error would be a parser that rejected a field
    /// without saying why: a bug, answered as a logged 500, never an empty
    /// 400.
    pub fn finish<T>(self, value: Option<T>) -> Result<T, ApiError> {
        match (value, self.0.is_empty()) {
            (Some(value), true) => Ok(value),
            (_, false) => Err(ApiError::invalid(self.0)),
            (None, true) => Err(ApiError::internal(&"a field was rejected without an error")),
        }
    }
}

/// `text` as it may be echoed: at most [`MAX_ECHOED_KEY_CHARS`] characters.
pub fn bounded(text: &str) -> Cow<'_, str> {
    match text.char_indices().nth(MAX_ECHOED_KEY_CHARS) {
        Some((cut, _)) => Cow::Owned(format!("{}…", &text[..cut])),
        None => Cow::Borrowed(text),
    }
}

/// An error answer. Build it with the small constructors below; `?` converts
/// store errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    message: Cow<'static, str>,
    errors: Vec<FieldError>,
    retry_after: Option<u32>,
}

#[derive(Serialize)]
struct Body<'a> {
    code: u16,
    message: &'a str,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    errors: &'a [FieldError],
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            message: message.into(),
            errors: Vec::new(),
            retry_after: None,
        }
    }

    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// A 400 listing every invalid field at once; built by
    /// [`FieldErrors::finish`] (or from one [`FieldError`]), never empty.
    fn invalid(errors: Vec<FieldError>) -> Self {
        let message = match errors.as_slice() {
            [one] => format!("{} {}", one.field, one.message),
            _ => format!("{} fields are invalid", errors.len()),
        };
        Self {
            errors,
            ..Self::bad_request(message)
        }
    }

    /// A 400 for one query parameter.
    pub fn bad_param(name: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        FieldError::new(name, message).into()
    }

    pub fn unauthorized(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method not allowed on this route",
        )
    }

    pub fn conflict(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body is larger than {limit} bytes"),
        )
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "request body must be JSON (Content-Type: application/json)",
        )
    }

    pub fn unavailable() -> Self {
        Self::unavailable_because("the backing store is unavailable, retry shortly")
    }

    /// A 503 with `Retry-After`, for what else the request waits on.
    pub fn unavailable_because(message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            retry_after: Some(RETRY_AFTER_SECS),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
        }
    }

    /// A generic 500. The cause is logged here and never sent to the client.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal server error")
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// The JSON body as bytes.
    pub fn body(&self) -> Vec<u8> {
        let body = Body {
            code: self.status.as_u16(),
            message: &self.message,
            errors: &self.errors,
        };
        // Serializing a struct of strings cannot fail.
        serde_json::to_vec(&body).unwrap_or_default()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<FieldError> for ApiError {
    fn from(error: FieldError) -> Self {
        Self::invalid(vec![error])
    }
}

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Unauthorized(message) => Self::unauthorized(message),
            AuthError::Forbidden(message) => Self::forbidden(message),
            AuthError::Store(err) => err.into(),
            AuthError::Unavailable(message) => Self::unavailable_because(message),
        }
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        ApiError::from(self).into_response()
    }
}

impl AuthError {
    /// The status this error is answered with.
    pub fn status(&self) -> StatusCode {
        ApiError::from(self.clone()).status()
    }

    /// The message this error is answered with.
    pub fn message(&self) -> String {
        ApiError::from(self.clone()).message().to_owned()
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict(message) => Self::conflict(message),
            StoreError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "store unavailable");
                Self::unavailable()
            }
            StoreError::Internal(cause) => Self::internal(&cause),
        }
    }
}

impl From<crate::store::accounts::AccountError> for ApiError {
    fn from(err: crate::store::accounts::AccountError) -> Self {
        use crate::store::accounts::AccountError;
        match err {
            AccountError::EmailRefused => Self::bad_param(
                "email",
                "is not an address the sign-in service accepts; check it for typos",
            ),
            AccountError::Store(err) => err.into(),
        }
    }
}

impl From<TeamRefusal> for ApiError {
    fn from(refusal: TeamRefusal) -> Self {
        match refusal {
            TeamRefusal::Store(err) => err.into(),
            TeamRefusal::NotOwner => Self::forbidden(refusal.to_string()),
            TeamRefusal::NotMember => Self::not_found("member not found"),
            TeamRefusal::InvitationGone => Self::not_found("invitation not found"),
            TeamRefusal::ProjectGone => Self::not_found("project not found"),
            TeamRefusal::LastOwner | TeamRefusal::AlreadyMember | TeamRefusal::AlreadyInvited => {
                Self::conflict(refusal.to_string())
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.body()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        // An error is about one request at one moment (a bad key, a store
        // outage): no cache, CDN or browser, may answer a later one with it.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(err: &ApiError) -> serde_json::Value {
        serde_json::from_slice(&err.body()).expect("valid JSON")
    }

    #[test]
    fn an_address_the_user_pool_refuses_is_a_400_about_the_email() {
        use crate::store::accounts::AccountError;
        let err = ApiError::from(AccountError::EmailRefused);
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        let v = json(&err);
        assert_eq!(v["errors"][0]["field"], "email", "{v}");
        let outage = ApiError::from(AccountError::Store(StoreError::Unavailable("x".into())));
        assert_eq!(outage.status(), StatusCode::SERVICE_UNAVAILABLE);
    }

    #[test]
    fn body_has_code_and_message_and_no_empty_errors() {
        let v = json(&ApiError::not_found("version not found"));
        assert_eq!(
            v,
            serde_json::json!({"code": 404, "message": "version not found"})
        );
    }

    #[test]
    fn invalid_lists_every_field() {
        let err = ApiError::invalid(vec![
            FieldError::new("appName", "is required"),
            FieldError::new("platform", "is required"),
        ]);
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        let v = json(&err);
        assert_eq!(v["errors"].as_array().map(Vec::len), Some(2));
        assert_eq!(v["errors"][1]["field"], "platform");
    }

    #[test]
    fn store_errors_map_to_statuses() {
        let conflict: ApiError = StoreError::Conflict("taken".into()).into();
        assert_eq!(conflict.status(), StatusCode::CONFLICT);
        let down: ApiError = StoreError::Unavailable("connection refused".into()).into();
        assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
        let response = down.into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        let internal: ApiError = StoreError::Internal("secret detail".into()).into();
        assert_eq!(internal.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!internal.message().contains("secret"));
    }
}
