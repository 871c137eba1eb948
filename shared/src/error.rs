//! The one error type every handler returns.
//!
//! It owns the mapping to HTTP statuses and the contract's JSON body
//! `{"code": <status>, "message": "…", "errors": [{"field", "message"}]}`.
//! Anything unexpected becomes a logged, generic 500; store outages become
//! 503 with `Retry-After` so the SDKs' retry takes over.

use std::borrow::Cow;

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;

use crate::store::StoreError;

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

    /// A 400 listing every invalid field at once.
    pub fn invalid(errors: Vec<FieldError>) -> Self {
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
        Self::invalid(vec![FieldError::new(name, message)])
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
        Self {
            retry_after: Some(RETRY_AFTER_SECS),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the backing store is unavailable, retry shortly",
            )
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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.body()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
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
        let internal: ApiError = StoreError::Internal("secret detail".into()).into();
        assert_eq!(internal.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!internal.message().contains("secret"));
    }
}
