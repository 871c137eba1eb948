//! The dashboard: one HTML shell, its script modules and one stylesheet,
//! all compiled in and served on the API's origin, so the pages call the
//! API without CORS and load nothing from elsewhere. Every dashboard URL
//! (`/`, `/teams/…`, `/account/tokens`) answers the same shell; its router
//! (`page/app.js`) shows the view the URL names.
//!
//! The shell signs in against Cognito itself (the browser talks to the
//! Cognito endpoint; the password never reaches this API) and sends the
//! access token to the API, where API Gateway's authorizer (or, under
//! `make run`, `app_upgrade::auth::local_jwt`) verifies it.

use app_upgrade::http::Route;
use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

const HTML: &str = include_str!("../page/index.html");

/// The shell's assets, served at `/app/{file}`: (file, content type, body).
/// The first is the entry module; every other module is preloaded by the
/// shell, so the browser fetches them all at once instead of one import
/// level at a time.
const ASSETS: [(&str, &str, &str); 16] = [
    ("app.js", JS, include_str!("../page/app.js")),
    ("app.css", CSS, include_str!("../page/app.css")),
    ("api.js", JS, include_str!("../page/api.js")),
    ("ui.js", JS, include_str!("../page/ui.js")),
    (
        "version-form.js",
        JS,
        include_str!("../page/version-form.js"),
    ),
    ("view-signin.js", JS, include_str!("../page/view-signin.js")),
    ("view-teams.js", JS, include_str!("../page/view-teams.js")),
    (
        "view-projects.js",
        JS,
        include_str!("../page/view-projects.js"),
    ),
    (
        "view-project.js",
        JS,
        include_str!("../page/view-project.js"),
    ),
    (
        "view-version.js",
        JS,
        include_str!("../page/view-version.js"),
    ),
    (
        "view-members.js",
        JS,
        include_str!("../page/view-members.js"),
    ),
    ("view-tokens.js", JS, include_str!("../page/view-tokens.js")),
    (
        "view-activity.js",
        JS,
        include_str!("../page/view-activity.js"),
    ),
    (
        "activity-feed.js",
        JS,
        include_str!("../page/activity-feed.js"),
    ),
    (
        "view-token-activity.js",
        JS,
        include_str!("../page/view-token-activity.js"),
    ),
    ("icon.svg", SVG, include_str!("../page/icon.svg")),
];
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const SVG: &str = "image/svg+xml";

/// Where the page signs in: a Cognito user pool's public app client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageConfig {
    /// The Cognito API endpoint, e.g. `https://cognito-idp.eu-west-1.amazonaws.com/`
    /// (locally, the emulator's URL).
    endpoint: String,
    /// Its origin, the one place besides this API the page may connect to.
    origin: String,
    client_id: String,
    /// Whether the pool lets people sign up themselves (its
    /// `AllowAdminCreateUserOnly` is false): the page then offers sign-up.
    sign_up: bool,
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
            sign_up: false,
        })
    }

    /// The page offers sign-up (only where the pool allows it).
    #[must_use]
    pub fn with_sign_up(self, sign_up: bool) -> Self {
        Self { sign_up, ..self }
    }

    /// `COGNITO_ENDPOINT` and `COGNITO_CLIENT_ID`; neither set means this
    /// deployment signs in elsewhere (an external OIDC issuer) and the page
    /// says so. `COGNITO_SIGN_UP=true`: the pool allows self sign-up.
    pub fn from_env() -> Result<Option<Self>, String> {
        let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        let sign_up = match var("COGNITO_SIGN_UP").as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => {
                return Err(format!(
                    "COGNITO_SIGN_UP must be true or false, not {other:?}"
                ));
            }
        };
        match (var("COGNITO_ENDPOINT"), var("COGNITO_CLIENT_ID")) {
            (None, None) => Ok(None),
            (Some(endpoint), Some(client_id)) => {
                Self::parse(&endpoint, &client_id).map(|c| Some(c.with_sign_up(sign_up)))
            }
            _ => Err("set both COGNITO_ENDPOINT and COGNITO_CLIENT_ID, or neither".into()),
        }
    }
}

/// Every dashboard URL (each answers the shell), then the assets' route, in
/// the order `page` destructures them.
pub const PAGE_ROUTES: [Route; 10] = [
    Route::get("/"),
    Route::get("/teams"),
    Route::get("/teams/{teamId}"),
    Route::get("/teams/{teamId}/projects"),
    Route::get("/teams/{teamId}/projects/{projectId}"),
    Route::get("/teams/{teamId}/projects/{projectId}/versions/{versionId}"),
    Route::get("/teams/{teamId}/members"),
    Route::get("/teams/{teamId}/activity"),
    Route::get("/account/tokens"),
    Route::get("/app/{file}"),
];

/// The dashboard's documents and assets.
pub fn page(config: Option<PageConfig>) -> Router {
    let html = render(config.as_ref());
    let csp = content_security_policy(config.as_ref());
    let [documents @ .., assets] = PAGE_ROUTES;
    let mut router = Router::new();
    for document in documents {
        let (html, csp) = (html.clone(), csp.clone());
        router = router.route(
            document.path,
            document.to(move || async move { asset("text/html; charset=utf-8", html, Some(csp)) }),
        );
    }
    router.route(assets.path, assets.to(serve_asset))
}

async fn serve_asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, ..)| *name == file) {
        Some((_, content_type, body)) => asset(content_type, (*body).to_owned(), None),
        None => app_upgrade::ApiError::not_found("no such file").into_response(),
    }
}

fn render(config: Option<&PageConfig>) -> String {
    let (endpoint, client_id) = config.map_or(("", ""), |c| (&c.endpoint, &c.client_id));
    let sign_up = config.is_some_and(|c| c.sign_up);
    let preload: Vec<String> = ASSETS
        .iter()
        .skip(1)
        .filter(|(name, ..)| name.ends_with(".js"))
        .map(|(name, ..)| format!(r#"<link rel="modulepreload" href="/app/{name}">"#))
        .collect();
    HTML.replace("{{cognito_endpoint}}", endpoint)
        .replace("{{cognito_client_id}}", client_id)
        .replace("{{sign_up}}", if sign_up { "true" } else { "false" })
        .replace("{{modulepreload}}", &preload.join("\n"))
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

fn asset(content_type: &str, body: String, csp: Option<String>) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    let fixed: [(HeaderName, &'static str); 3] = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        // A new token or API key is only ever in the DOM: nothing may be cached.
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if let Ok(value) = HeaderValue::from_str(content_type) {
        headers.insert(header::CONTENT_TYPE, value);
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

    async fn answer(
        config: Option<PageConfig>,
        path: &str,
    ) -> (StatusCode, http::HeaderMap, String) {
        let request = http::Request::get(path)
            .body(axum::body::Body::empty())
            .expect("a request");
        let response = page(config).oneshot(request).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("a body")
            .to_bytes();
        (
            status,
            headers,
            String::from_utf8(body.to_vec()).expect("utf-8"),
        )
    }

    async fn get(config: Option<PageConfig>, path: &str) -> (http::HeaderMap, String) {
        let (status, headers, body) = answer(config, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        (headers, body)
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
    async fn every_dashboard_url_is_the_shell_with_its_config_and_strict_headers() {
        for path in [
            "/",
            "/teams",
            "/teams/t_1",
            "/teams/t_1/projects",
            "/teams/t_1/projects/prj_1",
            "/teams/t_1/projects/prj_1/versions/01J",
            "/teams/t_1/members",
            "/teams/t_1/activity",
            "/account/tokens",
        ] {
            let (headers, html) = get(Some(config()), path).await;
            assert!(html.contains(r#"content="https://cognito-idp.eu-west-1.amazonaws.com/""#));
            assert!(html.contains(r#"content="abc123""#));
            assert!(html.contains(r#"name="aau-sign-up" content="false""#));
            assert!(!html.contains("{{"), "every placeholder filled");
            let csp = headers[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .expect("ascii");
            assert!(
                csp.contains("connect-src 'self' https://cognito-idp.eu-west-1.amazonaws.com;")
            );
            assert!(csp.contains("frame-ancestors 'none'"));
            assert!(csp.contains("script-src 'self';") && csp.contains("style-src 'self';"));
            assert!(!csp.contains("unsafe"));
            assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
            assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
            assert_eq!(headers[header::CACHE_CONTROL], "no-store");
            // No inline script or style for the CSP to block.
            assert!(!html.contains("<script>") && !html.contains("style="));
            assert!(html.contains(r#"<script type="module" src="/app/app.js">"#));
            assert!(html.contains(r#"<link rel="modulepreload" href="/app/view-project.js">"#));
        }
    }

    #[tokio::test]
    async fn sign_up_is_offered_only_when_configured() {
        let (_, html) = get(Some(config().with_sign_up(true)), "/").await;
        assert!(html.contains(r#"name="aau-sign-up" content="true""#));
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
    async fn assets_have_their_types_and_every_import_is_served() {
        let (headers, js) = get(None, "/app/api.js").await;
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .is_ok_and(|t| t.starts_with("text/javascript"))
        );
        assert!(js.contains("InitiateAuth"));
        let (headers, css) = get(None, "/app/app.css").await;
        assert_eq!(headers[header::CONTENT_TYPE], "text/css; charset=utf-8");
        assert!(!css.is_empty());
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        // Each module's imports name a served file (a typo would be a
        // blank page, not a compile error).
        for (name, content_type, body) in ASSETS {
            if content_type != JS {
                continue;
            }
            for (_, rest) in body
                .match_indices("from \"./")
                .map(|(i, _)| body.split_at(i + 8))
            {
                let target = rest.split_once('"').map_or(rest, |(file, _)| file);
                assert!(
                    ASSETS.iter().any(|(served, ..)| *served == target),
                    "{name} imports {target}, which is not served"
                );
            }
            // Data goes in as text, never as markup.
            for markup in [
                ".innerHTML",
                ".outerHTML",
                "insertAdjacentHTML",
                "document.write",
            ] {
                assert!(!body.contains(markup), "{name} uses {markup}");
            }
        }
        let (status, _, body) = answer(None, "/app/nothing.js").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(body.contains(r#""code":404"#), "{body}");
    }
}
