//! JSON request bodies: `415` unless declared JSON, `413` past the limit,
//! `400` when they do not parse. Handlers take the extractor after their
//! admission extractors, so an unauthenticated caller cannot make a function
//! buffer a body.

use crate::ApiError;
use axum::body::Body;
use axum::extract::{FromRequest, Request};
use http::HeaderMap;
use http::header::CONTENT_TYPE;
use serde_json::error::Category;
use serde_json::{Map, Value};

/// Far above the largest valid version (bounded strings and maps), far
/// below API Gateway's payload limit.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A parsed JSON body of at most `LIMIT` bytes, not yet validated.
pub struct JsonBody<const LIMIT: usize = MAX_BODY_BYTES>(pub Value);

impl<S: Sync, const LIMIT: usize> FromRequest<S> for JsonBody<LIMIT> {
    type Rejection = ApiError;

    async fn from_request(request: Request, _: &S) -> Result<Self, ApiError> {
        let (parts, body) = request.into_parts();
        read_json(&parts.headers, body, LIMIT).await.map(JsonBody)
    }
}

impl<const LIMIT: usize> JsonBody<LIMIT> {
    /// The body as a JSON object, the only shape our endpoints take.
    pub fn into_object(self) -> Result<Map<String, Value>, ApiError> {
        match self.0 {
            Value::Object(map) => Ok(map),
            _ => Err(ApiError::bad_request("request body must be a JSON object")),
        }
    }
}

/// `application/json`, any parameters (`; charset=utf-8`), any case; also
/// structured `+json` types.
pub fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| mime.trim().to_ascii_lowercase())
        .is_some_and(|mime| {
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        })
}

pub async fn read_json(headers: &HeaderMap, body: Body, limit: usize) -> Result<Value, ApiError> {
    if !is_json(headers) {
        return Err(ApiError::unsupported_media_type());
    }
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|err| {
        let too_large = std::error::Error::source(&err)
            .is_some_and(|e| e.is::<http_body_util::LengthLimitError>());
        if too_large {
            ApiError::payload_too_large(limit)
        } else {
            ApiError::bad_request("could not read the request body")
        }
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("request body must be a JSON object"));
    }
    // The parser's position and category only: its full message can quote
    // the input back.
    serde_json::from_slice(&bytes).map_err(|err| {
        let what = match err.classify() {
            Category::Eof => "ends unexpectedly",
            Category::Syntax | Category::Io => "is not valid JSON",
            Category::Data => "has invalid data",
        };
        ApiError::bad_request(format!(
            "request body {what} (line {}, column {})",
            err.line(),
            err.column()
        ))
    })
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(content_type: Option<&'static str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(ct) = content_type {
            h.insert(CONTENT_TYPE, HeaderValue::from_static(ct));
        }
        h
    }

    #[test]
    fn json_content_types() {
        for ok in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/merge-patch+json",
        ] {
            assert!(is_json(&headers(Some(ok))), "{ok}");
        }
        for bad in [
            None,
            Some("text/plain"),
            Some("application/jsonp"),
            Some(""),
        ] {
            assert!(!is_json(&headers(bad)), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn statuses_for_bad_bodies() {
        let json = headers(Some("application/json"));
        let status = |r: Result<Value, ApiError>| r.map_err(|e| e.status().as_u16());
        assert_eq!(
            status(read_json(&json, Body::from(r#"{"a":1}"#), MAX_BODY_BYTES).await),
            Ok(serde_json::json!({"a": 1}))
        );
        assert_eq!(
            status(read_json(&headers(None), Body::from("{}"), MAX_BODY_BYTES).await),
            Err(415)
        );
        let huge = format!(r#"{{"a":"{}"}}"#, "x".repeat(MAX_BODY_BYTES));
        assert_eq!(
            status(read_json(&json, Body::from(huge), MAX_BODY_BYTES).await),
            Err(413)
        );
        for bad in ["", "  ", "{", "{\"secret-ish\": }", "nul"] {
            let err = read_json(&json, Body::from(bad), MAX_BODY_BYTES)
                .await
                .expect_err("invalid");
            assert_eq!(err.status().as_u16(), 400, "{bad}");
            assert!(!err.message().contains("secret-ish"));
        }
    }
}
