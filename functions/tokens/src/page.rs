//! The "Account → Access Tokens" page: one HTML document, one script module,
//! one stylesheet, all compiled in and served on the API's origin, so the
//! page calls the token API without CORS and loads nothing from elsewhere.
//!
//! The page signs in against Cognito itself (the browser talks to the
//! Cognito endpoint; the password never reaches this API) and sends the
//! access token to the account routes, where API Gateway's authorizer (or,
//! under `make run`, `app_upgrade::auth::local_jwt`) checks it.

use app_upgrade::http::Route;
use axum::Router;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const HTML: &str = include_str!("../page/tokens.html");
const SCRIPT: &str = include_str!("../page/tokens.js");
const STYLE: &str = include_str!("../page/tokens.css");

/// Where the page signs in: a Cognito user pool's public app client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageConfig {
    /// The Cognito API endpoint, e.g. `https://cognito-idp.eu-west-1.amazonaws.com/`
    /// (locally, the emulator's URL).
    endpoint: String,
    /// Its origin, the one place besides this API the page may connect to.
    origin: String,
    client_id: String,
}

impl PageConfig {
    pub fn parse(endpoint: &str, client_id: &str) -> Result<Self, String> {
        let rest = endpoint
            .strip_prefix("https://")
            .or_else(|| endpoint.strip_prefix("http://"))
            .ok_or("the Cognito endpoint must be an http(s) URL")?;
        let host = rest.split('/').next().unwrap_or_default();
        // Both values go into the page and its CSP: a closed set of
        // characters keeps either from breaking out of its place.
        let url_safe = |c: char| c.is_ascii_alphanumeric() || "-._:/".contains(c);
        if host.is_empty() || !endpoint.chars().all(url_safe) {
            return Err("the Cognito endpoint is not a plain URL".into());
        }
        if client_id.is_empty() || !client_id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err("the Cognito client id must be letters and digits".into());
        }
        Ok(Self {
            origin: endpoint[..endpoint.len() - rest.len() + host.len()].to_owned(),
            endpoint: endpoint.to_owned(),
            client_id: client_id.to_owned(),
        })
    }

    /// `COGNITO_ENDPOINT` and `COGNITO_CLIENT_ID`; neither set means this
    /// deployment signs in elsewhere (an external OIDC issuer) and the page
    /// says so.
    pub fn from_env() -> Result<Option<Self>, String> {
        let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        match (var("COGNITO_ENDPOINT"), var("COGNITO_CLIENT_ID")) {
            (None, None) => Ok(None),
            (Some(endpoint), Some(client_id)) => Self::parse(&endpoint, &client_id).map(Some),
            _ => Err("set both COGNITO_ENDPOINT and COGNITO_CLIENT_ID, or neither".into()),
        }
    }
}

/// The page and its two assets, in the order `page` destructures them.
pub const PAGE_ROUTES: [Route; 3] = [
    Route::get("/account/tokens"),
    Route::get("/account/tokens.js"),
    Route::get("/account/tokens.css"),
];

/// `GET /account/tokens` and its two assets.
pub fn page(config: Option<PageConfig>) -> Router {
    let html = render(config.as_ref());
    let csp = content_security_policy(config.as_ref());
    let [document, script, style] = PAGE_ROUTES;
    Router::new()
        .route(
            document.path,
            document.to(move || async move { asset("text/html; charset=utf-8", html, Some(csp)) }),
        )
        .route(
            script.path,
            script.to(|| async { asset("text/javascript; charset=utf-8", SCRIPT.into(), None) }),
        )
        .route(
            style.path,
            style.to(|| async { asset("text/css; charset=utf-8", STYLE.into(), None) }),
        )
}

fn render(config: Option<&PageConfig>) -> String {
    let (endpoint, client_id) = config.map_or(("", ""), |c| (&c.endpoint, &c.client_id));
    HTML.replace("{{cognito_endpoint}}", endpoint)
        .replace("{{cognito_client_id}}", client_id)
}

/// Scripts and styles from this origin only (nothing inline), connections
/// to this API and the Cognito endpoint, and no framing.
fn content_security_policy(config: Option<&PageConfig>) -> String {
    let cognito = config.map_or(String::new(), |c| format!(" {}", c.origin));
    // form-action 'none': the forms are submitted by the script; should it
    // ever fail to load, a sign-in form must not send the password anywhere.
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
         connect-src 'self'{cognito}; form-action 'none'; base-uri 'none'; \
         frame-ancestors 'none'"
    )
}

fn asset(content_type: &'static str, body: String, csp: Option<String>) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    let fixed: [(HeaderName, &'static str); 4] = [
        (header::CONTENT_TYPE, content_type),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        // A new token is only ever in the DOM: nothing may be cached.
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if let Some(csp) = csp.and_then(|csp| HeaderValue::from_str(&csp).ok()) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    fn config() -> PageConfig {
        PageConfig::parse("https://cognito-idp.eu-west-1.amazonaws.com/", "abc123").expect("valid")
    }

    async fn get(config: Option<PageConfig>, path: &str) -> (http::HeaderMap, String) {
        let request = http::Request::get(path)
            .body(axum::body::Body::empty())
            .expect("a request");
        let response = page(config).oneshot(request).await.expect("infallible");
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("a body")
            .to_bytes();
        (headers, String::from_utf8(body.to_vec()).expect("utf-8"))
    }

    #[test]
    fn config_parses_plain_urls_only() {
        let c = config();
        assert_eq!(c.origin, "https://cognito-idp.eu-west-1.amazonaws.com");
        let local = PageConfig::parse("http://127.0.0.1:8000/", "x1").expect("valid");
        assert_eq!(local.origin, "http://127.0.0.1:8000");
        for (endpoint, client) in [
            ("ftp://x/", "abc"),
            ("https:///", "abc"),
            ("https://x/'unsafe-inline'", "abc"),
            ("https://x; script-src *", "abc"),
            ("https://x/\"><script>", "abc"),
            ("https://x/", ""),
            ("https://x/", "a\"b"),
        ] {
            assert!(
                PageConfig::parse(endpoint, client).is_err(),
                "{endpoint} {client}"
            );
        }
    }

    #[tokio::test]
    async fn the_page_carries_its_config_and_strict_headers() {
        let (headers, html) = get(Some(config()), "/account/tokens").await;
        assert!(html.contains(r#"content="https://cognito-idp.eu-west-1.amazonaws.com/""#));
        assert!(html.contains(r#"content="abc123""#));
        assert!(!html.contains("{{"), "every placeholder filled");
        let csp = headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("ascii");
        assert!(csp.contains("connect-src 'self' https://cognito-idp.eu-west-1.amazonaws.com;"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(csp.contains("script-src 'self';") && csp.contains("style-src 'self';"));
        assert!(!csp.contains("unsafe"));
        assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
        // No inline script or style for the CSP to block.
        assert!(!html.contains("<script>") && !html.contains("style="));
        assert!(html.contains(r#"<script type="module" src="/account/tokens.js">"#));
    }

    #[tokio::test]
    async fn without_cognito_the_page_still_loads() {
        let (headers, html) = get(None, "/account/tokens").await;
        assert!(html.contains(r#"name="aau-cognito-endpoint" content="""#));
        let csp = headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("ascii");
        assert!(csp.contains("connect-src 'self';"));
    }

    #[tokio::test]
    async fn assets_have_their_types() {
        let (headers, js) = get(None, "/account/tokens.js").await;
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .is_ok_and(|t| t.starts_with("text/javascript"))
        );
        assert!(js.contains("InitiateAuth"));
        let (headers, css) = get(None, "/account/tokens.css").await;
        assert_eq!(headers[header::CONTENT_TYPE], "text/css; charset=utf-8");
        assert!(!css.is_empty());
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    }
}
