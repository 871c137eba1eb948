//! Test support for the `tokens` function: API Gateway HTTP API (v2) events
//! with or without JWT claims, stored tokens, and capturing log output.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};

use app_upgrade::domain::{IssuedPat, Scope, Scopes, Timestamp, UserId, issue_pat};
use app_upgrade::store::{CredentialWriter, DynamoStore};

/// A request as `lambda_http` builds it from an API Gateway v2 event: the
/// same parsing a deployed function goes through. `sub` becomes the JWT
/// authorizer's claim; `None` means no authorizer ran.
pub fn event(
    method: &str,
    path: &str,
    sub: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> lambda_http::Request {
    let mut context = serde_json::json!({
        "accountId": "123456789012",
        "apiId": "test",
        "domainName": "api.example.com",
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                 "sourceIp": "127.0.0.1", "userAgent": "tests"},
        "requestId": "test",
        "routeKey": "$default",
        "stage": "$default",
        "timeEpoch": 0
    });
    if let Some(sub) = sub {
        context["authorizer"] =
            serde_json::json!({"jwt": {"claims": {"sub": sub}, "scopes": null}});
    }
    let headers: serde_json::Map<String, serde_json::Value> = headers
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).into()))
        .collect();
    let event = serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": false
    });
    lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway v2 event")
}

/// A JSON request body with its content type.
pub fn json_event(method: &str, path: &str, sub: Option<&str>, body: &str) -> lambda_http::Request {
    event(
        method,
        path,
        sub,
        &[("content-type", "application/json")],
        Some(body),
    )
}

/// A request authenticated by a PAT, as CI would send it.
pub fn bearer_event(method: &str, path: &str, token: &str) -> lambda_http::Request {
    event(
        method,
        path,
        None,
        &[("authorization", &format!("Bearer {token}"))],
        None,
    )
}

/// `request` as sent from `ip`: API Gateway's `requestContext.http.sourceIp`.
pub fn from_ip(mut request: lambda_http::Request, ip: &str) -> lambda_http::Request {
    use lambda_http::request::RequestContext;
    if let Some(RequestContext::ApiGatewayV2(context)) =
        request.extensions_mut().get_mut::<RequestContext>()
    {
        context.http.source_ip = Some(ip.to_owned());
    }
    request
}

/// A token stored directly, e.g. one that expired long ago.
pub async fn stored_token(
    store: &DynamoStore,
    owner: &UserId,
    name: &str,
    scopes: &[Scope],
    lifetime_days: u16,
    created_at: Timestamp,
) -> IssuedPat {
    let scopes = Scopes::new(scopes.iter().copied()).expect("non-empty");
    let pat = issue_pat(
        owner.clone(),
        name.to_owned(),
        scopes,
        lifetime_days,
        created_at,
    )
    .expect("randomness");
    store.create_pat(&pat, None).await.expect("stored");
    pat
}

/// Log output captured from the current thread (use a current-thread
/// runtime so every task logs here).
#[derive(Clone, Default)]
pub struct LogCapture(Arc<Mutex<Vec<u8>>>);

impl LogCapture {
    /// Captures everything at `debug` and above, as JSON lines like the
    /// functions write on Lambda, until the guard is dropped.
    pub fn start() -> (Self, tracing::subscriber::DefaultGuard) {
        let capture = Self::default();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(capture.clone())
            .finish();
        (capture, tracing::subscriber::set_default(subscriber))
    }

    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogCapture {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
