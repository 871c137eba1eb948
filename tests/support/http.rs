//! Driving a function's axum router without a server: one request in, the
//! status, headers and body out; the requests the tests send; and the
//! `Authorization` header of a PAT.

use ::http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// What came back: status, headers, the raw body and the body as JSON
/// (`Null` when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub raw: Vec<u8>,
    pub json: Value,
}

impl Reply {
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

/// Drives `app` with one request, no server. Takes an axum request as well
/// as one `lambda_http` built from an API Gateway event.
pub async fn send<B>(app: &Router, request: Request<B>) -> Reply
where
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let response = app
        .clone()
        .oneshot(request.map(Body::new))
        .await
        .expect("infallible");
    let (parts, body) = response.into_parts();
    let raw = body.collect().await.expect("body").to_bytes().to_vec();
    let json = if raw.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&raw).expect("every non-empty response body is JSON")
    };
    Reply {
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

/// The headers of a request that carries `token` as a bearer PAT.
pub fn bearer(token: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        ::http::header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {token}")).expect("header"),
    );
    h
}
