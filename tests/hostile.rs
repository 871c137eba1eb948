//! Hostile input through the real routers of the three functions, against
//! the local DynamoDB: oversized, non-JSON, deeply nested and undecodable
//! bodies on every route that takes one; `%00` and undecodable bytes in
//! paths and queries; out-of-range list parameters; unbounded check
//! queries; credentials with non-ASCII bytes. Every answer must be a JSON
//! 4xx (or the normal 200 where the input is merely odd), never a 5xx or a
//! panic. The parsers' property tests live beside them (`query.rs`,
//! `body.rs`, `auth/`, `version.rs`).

use app_upgrade::http::MAX_BODY_BYTES;
use axum::Router;
use axum::body::Body;
use http::{HeaderValue, Method, Request, StatusCode};
use integration_tests::Fixture;
use integration_tests::http::{Reply, send};
use lambda_http::request::RequestContext;
use serde_json::{Value, json};

const ONE_MB: usize = 1024 * 1024;

/// The three functions on one fixture, with one stored version.
struct Apis {
    fx: Fixture,
    versions: Router,
    check: Router,
    tokens: Router,
    version_id: String,
}

/// A route that takes a JSON body, and the largest body it accepts.
struct BodyRoute {
    name: &'static str,
    method: Method,
    uri: String,
    limit: usize,
}

impl Apis {
    async fn new() -> Self {
        let fx = Fixture::new().await;
        let versions = versions::app(fx.store.clone());
        let check = check::app(fx.store.clone());
        let tokens = tokens::app(fx.store.clone());
        let mut apis = Self {
            fx,
            versions,
            check,
            tokens,
            version_id: String::new(),
        };
        let created = apis
            .send(
                apis.request(Method::POST, &apis.fx.collection())
                    .header("content-type", "application/json")
                    .body(Body::from(apis.version_body("1.0.0").to_string()))
                    .expect("request"),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
        apis.version_id = created.json["id"].as_str().expect("an id").to_owned();
        apis
    }

    fn version_body(&self, app_version: &str) -> Value {
        json!({
            "project": self.fx.project.as_str(),
            "appName": "Hostile App",
            "appVersion": app_version,
            "platform": "android",
            "environment": "production",
            "forceUpgrade": true,
            "message": "Please update."
        })
    }

    fn body_routes(&self) -> [BodyRoute; 3] {
        [
            BodyRoute {
                name: "create version",
                method: Method::POST,
                uri: self.fx.collection(),
                limit: MAX_BODY_BYTES,
            },
            BodyRoute {
                name: "update version",
                method: Method::PATCH,
                uri: self.fx.item(&self.version_id),
                limit: MAX_BODY_BYTES,
            },
            BodyRoute {
                name: "create token",
                method: Method::POST,
                uri: "/api/v1/account/tokens".to_owned(),
                limit: tokens::BODY_LIMIT,
            },
        ]
    }

    /// A request with the credential its route needs: the read-write PAT
    /// for versions routes, the fixture user's JWT claims (as API Gateway's
    /// authorizer puts them in the request context) for account routes, the
    /// API key for the check.
    fn request(&self, method: Method, uri: &str) -> http::request::Builder {
        let builder = Request::builder().method(method).uri(uri);
        if uri.starts_with("/api/v1/account/") {
            builder.extension(claims(self.fx.user.as_str()))
        } else if uri.starts_with("/api/v1/versions/check") {
            builder.header("x-api-key", self.fx.api_key.expose())
        } else {
            builder.header(
                "authorization",
                format!("Bearer {}", self.fx.rw_token.expose()),
            )
        }
    }

    fn router(&self, uri: &str) -> &Router {
        if uri.starts_with("/api/v1/account/") {
            &self.tokens
        } else if uri.starts_with("/api/v1/versions/check") {
            &self.check
        } else {
            &self.versions
        }
    }

    /// Sends to the function that owns the path; the answer must be JSON
    /// (or empty) and never a 5xx.
    async fn send(&self, request: Request<Body>) -> Reply {
        let what = format!("{} {}", request.method(), short(&request.uri().to_string()));
        let answer = send(self.router(&request.uri().to_string()), request).await;
        assert!(
            !answer.status.is_server_error(),
            "{what}: {} {}",
            answer.status,
            answer.json
        );
        answer
    }

    async fn send_body(
        &self,
        route: &BodyRoute,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Reply {
        let mut builder = self.request(route.method.clone(), &route.uri);
        if let Some(content_type) = content_type {
            builder = builder.header("content-type", content_type);
        }
        self.send(builder.body(Body::from(body)).expect("request"))
            .await
    }

    async fn get(&self, uri: &str) -> Reply {
        self.send(
            self.request(Method::GET, uri)
                .body(Body::empty())
                .expect("request"),
        )
        .await
    }

    fn check_uri(&self, extra: &str) -> String {
        format!(
            "/api/v1/versions/check?app_name=Hostile+App&app_version=1.0.0\
             &platform=android&environment=production{extra}"
        )
    }
}

/// The request context of an API Gateway v2 event whose JWT authorizer
/// verified `sub`.
fn claims(sub: &str) -> RequestContext {
    integration_tests::tokens::event("GET", "/api/v1/account/tokens", Some(sub), &[], None)
        .extensions()
        .get::<RequestContext>()
        .cloned()
        .expect("an API Gateway v2 request context")
}

/// A URI or body prefix short enough for an assertion message.
fn short(text: &str) -> String {
    text.chars().take(120).collect()
}

fn assert_status(answer: &Reply, status: StatusCode, what: &str) {
    assert_eq!(answer.status, status, "{what}: {}", answer.json);
    assert_eq!(answer.json["code"], status.as_u16(), "{what}");
    assert!(answer.json["message"].is_string(), "{what}");
}

#[tokio::test]
async fn bodies_of_one_megabyte_are_413_on_every_route_that_takes_a_body() {
    let apis = Apis::new().await;
    let huge = format!(r#"{{"name": "{}"}}"#, "x".repeat(ONE_MB)).into_bytes();
    for route in apis.body_routes() {
        let answer = apis
            .send_body(&route, Some("application/json"), huge.clone())
            .await;
        assert_status(&answer, StatusCode::PAYLOAD_TOO_LARGE, route.name);
        // One byte over the limit is already too large; the limit itself is not.
        let just_over = vec![b' '; route.limit + 1];
        let answer = apis
            .send_body(&route, Some("application/json"), just_over)
            .await;
        assert_status(&answer, StatusCode::PAYLOAD_TOO_LARGE, route.name);
        let at_limit = vec![b' '; route.limit];
        let answer = apis
            .send_body(&route, Some("application/json"), at_limit)
            .await;
        assert_status(&answer, StatusCode::BAD_REQUEST, route.name);
    }
    // The check takes no body: one megabyte of JSON on its GET is never read.
    let answer = apis
        .send(
            apis.request(Method::GET, &apis.check_uri(""))
                .header("content-type", "application/json")
                .body(Body::from(huge))
                .expect("request"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    assert_eq!(answer.json["found"], true);
}

#[tokio::test]
async fn non_json_bodies_are_415_on_every_route_that_takes_a_body() {
    let apis = Apis::new().await;
    let valid = apis.version_body("2.0.0").to_string().into_bytes();
    for route in apis.body_routes() {
        for content_type in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            Some("application/jsonx"),
        ] {
            let answer = apis.send_body(&route, content_type, valid.clone()).await;
            let what = format!("{} {content_type:?}", route.name);
            assert_status(&answer, StatusCode::UNSUPPORTED_MEDIA_TYPE, &what);
        }
    }
}

#[tokio::test]
async fn deep_nesting_and_undecodable_json_are_400_on_every_route_that_takes_a_body() {
    let apis = Apis::new().await;
    for route in apis.body_routes() {
        // As deep as the limit allows: serde_json stops at depth 128
        // instead of recursing (and overflowing the stack).
        let deepest_arrays = "[".repeat(route.limit);
        let deep_objects = r#"{"a":"#.repeat(route.limit / 5);
        let closed = format!(
            "{}{}",
            "[".repeat(route.limit / 2),
            "]".repeat(route.limit / 2)
        );
        let bodies: Vec<(&str, Vec<u8>)> = vec![
            ("nested arrays", deepest_arrays.into_bytes()),
            ("nested objects", deep_objects.into_bytes()),
            ("closed nesting", closed.into_bytes()),
            (
                "invalid UTF-8 in a string",
                b"{\"name\": \"\xff\xfe\xfd\"}".to_vec(),
            ),
            ("invalid UTF-8 outside strings", b"{\xc3\x28: 1}".to_vec()),
            ("UTF-16 with a BOM", b"\xff\xfe{\x00}\x00".to_vec()),
            ("a lone surrogate", br#"{"name": "\ud800"}"#.to_vec()),
            ("a number out of range", br#"{"name": 1e999999}"#.to_vec()),
            ("NUL bytes", b"{\"name\"\x00: 1}".to_vec()),
            ("trailing garbage", br#"{"name": "x"} {"#.to_vec()),
            ("not an object", br#"[{"name": "x"}]"#.to_vec()),
        ];
        for (what, body) in bodies {
            let answer = apis.send_body(&route, Some("application/json"), body).await;
            let what = format!("{}: {what}", route.name);
            assert_status(&answer, StatusCode::BAD_REQUEST, &what);
            assert!(answer.raw.len() < 1024, "{what}: the error is short");
        }
        // 100,000 brackets: over every limit, so refused before parsing.
        let answer = apis
            .send_body(&route, Some("application/json"), vec![b'['; 100_000])
            .await;
        assert_status(&answer, StatusCode::PAYLOAD_TOO_LARGE, route.name);
    }
}

#[tokio::test]
async fn nul_and_undecodable_bytes_in_paths_are_404() {
    let apis = Apis::new().await;
    let (project, team, version) = (&apis.fx.project, &apis.fx.team, &apis.version_id);
    let mut paths = Vec::new();
    for bad in ["%00", "%FF", "%C0%AF", "..%2F..", "%2e%2e", "a%00b"] {
        paths.push((
            Method::GET,
            format!("/api/v1/projects/{bad}/versions?teamId={team}"),
        ));
        paths.push((
            Method::GET,
            format!("/api/v1/projects/{project}{bad}/versions?teamId={team}"),
        ));
        for method in [Method::GET, Method::DELETE] {
            paths.push((
                method.clone(),
                format!("/api/v1/projects/{project}/versions/{bad}?teamId={team}"),
            ));
            paths.push((
                method,
                format!("/api/v1/projects/{project}/versions/{version}{bad}?teamId={team}"),
            ));
        }
        paths.push((
            Method::GET,
            format!("/api/v1/projects/{project}/versions?teamId={bad}"),
        ));
        paths.push((
            Method::GET,
            format!("/api/v1/projects/{project}/versions?teamId={team}{bad}"),
        ));
        paths.push((Method::DELETE, format!("/api/v1/account/tokens/{bad}")));
        paths.push((
            Method::GET,
            format!("/api/v1/versions/check{bad}?app_name=a"),
        ));
        paths.push((Method::GET, format!("/api/v1/versions/check/{bad}")));
    }
    for (method, uri) in paths {
        let answer = apis
            .send(
                apis.request(method.clone(), &uri)
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
        let what = format!("{method} {uri}");
        assert_status(&answer, StatusCode::NOT_FOUND, &what);
    }
    // Nothing was deleted on the way.
    let answer = apis.get(&apis.fx.item(version)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
}

#[tokio::test]
async fn out_of_range_list_parameters_are_400_naming_the_parameter() {
    let apis = Apis::new().await;
    let cases = [
        ("page=-1", "page"),
        ("page=0", "page"),
        ("page=1.5", "page"),
        ("page=1e3", "page"),
        ("page=99999999999999999999999", "page"),
        ("page=%00", "page"),
        ("page=%FF", "page"),
        ("limit=1e9", "limit"),
        ("limit=1000000000", "limit"),
        ("limit=0", "limit"),
        ("limit=-1", "limit"),
        ("limit=101", "limit"),
        ("limit=NaN", "limit"),
        ("limit=%EF%BC%91", "limit"), // a full-width digit one
        ("sortBy=%FF:asc", "sortBy"),
        ("sortBy=createdAt:%00", "sortBy"),
        ("forceUpgrade=%00", "forceUpgrade"),
        ("active=TRUE", "active"),
    ];
    for (query, field) in cases {
        let answer = apis.get(&format!("{}&{query}", apis.fx.collection())).await;
        assert_status(&answer, StatusCode::BAD_REQUEST, query);
        let fields = answer.error_fields();
        assert_eq!(fields, [field], "{query}");
    }
    // Both at once: both named.
    let answer = apis
        .get(&format!("{}&page=-1&limit=1e9", apis.fx.collection()))
        .await;
    assert_eq!(answer.error_fields(), ["page", "limit"]);
    // A far page of a valid size is empty, not an error or an overflow.
    let answer = apis
        .get(&format!(
            "{}&page=18446744073709551615&limit=100",
            apis.fx.collection()
        ))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    assert_eq!(answer.json["results"], json!([]));
    assert_eq!(answer.json["totalResults"], 1);
    // An undecodable name filter matches nothing; it is not an error.
    let answer = apis
        .get(&format!("{}&name=%FF%FE%00", apis.fx.collection()))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    assert_eq!(answer.json["totalResults"], 0);
}

#[tokio::test]
async fn check_queries_are_bounded() {
    let apis = Apis::new().await;
    // A URI longer than 64 KB cannot reach a function at all: `http` (and
    // so axum and lambda_http) refuses it. The longest one that can is
    // what the check itself must bound.
    let one_mb = format!("/api/v1/versions/check?a={}", "x".repeat(ONE_MB));
    assert!(http::Uri::try_from(one_mb).is_err());
    let longest = 60_000;
    let base = apis.check_uri("");
    let long_value = format!("{base}&country={}", "x".repeat(longest));
    let long_name = format!("{base}&{}=x", "n".repeat(longest));
    let long_version = format!(
        "/api/v1/versions/check?app_name=Hostile+App&platform=android&environment=production\
         &app_version={}",
        "1.".repeat(longest / 2)
    );
    let ten_thousand_pairs = format!("{base}{}", "&t=x".repeat(10_000));
    // Distinct short names (base 36), so that 10,000 of them fit in a URI.
    let ten_thousand_names: String = (0..10_000u32)
        .map(|i| {
            let digit = |d: u32| char::from_digit(d % 36, 36).unwrap_or('z');
            format!("&{}{}{}=x", digit(i / 1296), digit(i / 36), digit(i))
        })
        .collect();
    let ten_thousand_names = format!("{base}{ten_thousand_names}");
    let five_thousand_named = format!("{base}{}", "&app_name=x".repeat(5_000));
    let ten_thousand_nameless = format!("{base}{}", "&=".repeat(10_000));
    for (what, uri) in [
        ("a 60 KB attribute value", long_value),
        ("a 60 KB parameter name", long_name),
        ("a 60 KB app_version", long_version),
        ("10,000 values of one attribute", ten_thousand_pairs),
        ("10,000 attributes", ten_thousand_names),
        ("5,000 app_names", five_thousand_named),
        ("10,000 nameless parameters", ten_thousand_nameless),
    ] {
        let answer = apis.get(&uri).await;
        assert_status(&answer, StatusCode::BAD_REQUEST, what);
        assert!(answer.raw.len() < 1024, "{what}: the error is short");
        assert_eq!(
            answer
                .headers
                .get("cache-control")
                .map(HeaderValue::as_bytes),
            Some(&b"no-store"[..]),
            "{what}"
        );
    }
}

#[tokio::test]
async fn odd_but_bounded_check_queries_are_answered() {
    let apis = Apis::new().await;
    // Undecodable bytes become U+FFFD: a name nothing was stored under.
    let answer = apis
        .get("/api/v1/versions/check?app_name=%FF%FE&app_version=1.0.0&platform=android&environment=production")
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    assert_eq!(answer.json["found"], false);
    assert_eq!(answer.json["query"]["app_name"], "\u{FFFD}\u{FFFD}");
    let ampersands = "&".repeat(10_000);
    for extra in [
        ampersands.as_str(),
        "&country=%00",
        "&%00=US",
        "&app_language=%00%FF",
        "&country[]=%FF&country[]=",
        "&[]=x&=y&%5B%5D=z",
    ] {
        let answer = apis.get(&apis.check_uri(extra)).await;
        assert_eq!(answer.status, StatusCode::OK, "{extra}: {}", answer.json);
        assert_eq!(answer.json["found"], true, "{extra}");
    }
    for odd in [
        "%00",
        "1.0.0%00",
        "9999999999999999999999.0",
        "1..0",
        "%3E%3D1.0.0",
        "^1",
    ] {
        let uri = format!(
            "/api/v1/versions/check?app_name=Hostile+App&platform=android\
             &environment=production&app_version={odd}"
        );
        let answer = apis.get(&uri).await;
        assert_eq!(answer.status, StatusCode::OK, "{odd}: {}", answer.json);
        assert_eq!(answer.json["found"], false, "{odd}");
    }
}

#[tokio::test]
async fn credentials_with_non_ascii_bytes_are_401() {
    let apis = Apis::new().await;
    let key = apis.fx.api_key.expose().as_bytes().to_vec();
    let token = apis.fx.rw_token.expose().as_bytes().to_vec();
    let spoil = |secret: &[u8], prefix: &[u8], byte: &[u8]| {
        let mut v = prefix.to_vec();
        v.extend_from_slice(&secret[..10]);
        v.extend_from_slice(byte);
        v.extend_from_slice(&secret[10..]);
        HeaderValue::from_bytes(&v).expect("obs-text is a valid header value")
    };
    let odd_bytes: [&[u8]; 4] = [b"\xff", b"\xc3\xa9", b"\x80\x80", "\u{200b}".as_bytes()];
    for byte in odd_bytes {
        let answer = apis
            .send(
                Request::get(apis.check_uri(""))
                    .header("x-api-key", spoil(&key, b"", byte))
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
        assert_status(&answer, StatusCode::UNAUTHORIZED, "x-api-key");
        let routes = [
            (Method::GET, apis.fx.collection()),
            (Method::POST, apis.fx.collection()),
            (Method::GET, apis.fx.item(&apis.version_id)),
            (Method::PATCH, apis.fx.item(&apis.version_id)),
            (Method::DELETE, apis.fx.item(&apis.version_id)),
            (
                Method::POST,
                "/api/v1/account/tokens/self/rotate".to_owned(),
            ),
        ];
        for (method, uri) in routes {
            for prefix in [&b"Bearer "[..], b"Bearer\xa0", b"\xefBearer "] {
                let answer = apis
                    .send(
                        Request::builder()
                            .method(method.clone())
                            .uri(&uri)
                            .header("authorization", spoil(&token, prefix, byte))
                            .header("content-type", "application/json")
                            .body(Body::from(apis.version_body("3.0.0").to_string()))
                            .expect("request"),
                    )
                    .await;
                let what = format!("{method} {uri} {prefix:?}+{byte:?}");
                assert_status(&answer, StatusCode::UNAUTHORIZED, &what);
                assert!(
                    !answer
                        .raw
                        .windows(20)
                        .any(|w| token.windows(20).any(|t| t == w)),
                    "{what}: the token is not echoed"
                );
            }
        }
    }
    // A 64 KB credential is refused as quickly as a short one.
    let long = HeaderValue::from_bytes(&vec![b'a'; 64 * 1024]).expect("header");
    let answer = apis
        .send(
            Request::get(apis.check_uri(""))
                .header("x-api-key", long.clone())
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_status(&answer, StatusCode::UNAUTHORIZED, "a 64 KB x-api-key");
    let answer = apis
        .send(
            Request::get(apis.fx.collection())
                .header("authorization", long)
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_status(&answer, StatusCode::UNAUTHORIZED, "a 64 KB Authorization");
    // The real version is untouched by all of the above.
    let answer = apis.get(&apis.fx.item(&apis.version_id)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    assert_eq!(answer.json["appVersion"], "1.0.0");
}

/// API Gateway passes `rawQueryString` as the client sent it, and
/// `lambda_http` panics on bytes a URI may not hold raw; the functions'
/// runner (`app_upgrade::http::run`) encodes them first. Here the same
/// conversion as on Lambda: event → `make_query_valid` → request → router.
#[tokio::test]
async fn raw_query_bytes_a_uri_refuses_are_answered_not_a_panic() {
    let apis = Apis::new().await;
    let key = apis.fx.api_key.expose().to_owned();
    let base = "app_name=Hostile+App&app_version=1.0.0&platform=android&environment=production";
    let event = |path: &str, query: &str| {
        let event = json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": path,
            "rawQueryString": query,
            "headers": {"x-api-key": key},
            "requestContext": {
                "accountId": "123456789012", "apiId": "test", "domainName": "api.example.com",
                "http": {"method": "GET", "path": path, "protocol": "HTTP/1.1",
                         "sourceIp": "127.0.0.1", "userAgent": "tests"},
                "requestId": "test", "routeKey": "$default", "stage": "$default", "timeEpoch": 0
            },
            "isBase64Encoded": false
        });
        serde_json::from_value::<lambda_http::request::LambdaRequest>(event)
            .expect("an API Gateway v2 event")
    };
    // Unrepaired, such an event panics inside lambda_http.
    let raw = event("/api/v1/versions/check", "a=\"x\"");
    assert!(std::panic::catch_unwind(|| lambda_http::Request::from(raw)).is_err());

    let cases = [
        (format!("{base}&country=\"US\""), StatusCode::OK),
        (format!("{base}&q=<script>"), StatusCode::OK),
        (format!("{base}&q=a b\tc\u{7f}"), StatusCode::OK),
        (format!("{base}&q=#fragment"), StatusCode::OK),
        (
            "app_name=\"&app_version=<".to_owned(),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("{base}&{}", "\"=\"&".repeat(200)),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (query, status) in cases {
        let mut hostile = event("/api/v1/versions/check", &query);
        app_upgrade::http::make_query_valid(&mut hostile);
        let request = lambda_http::Request::from(hostile).map(|body| Body::from(body.to_vec()));
        let answer = send(&apis.check, request).await;
        assert_eq!(answer.status, status, "{query:?}: {}", answer.json);
    }
    // A well-formed query is left exactly as it was.
    let mut plain = event("/api/v1/versions/check", "a=%22x%22&b=c+d&e=%C3%A9&f=é");
    app_upgrade::http::make_query_valid(&mut plain);
    let request = lambda_http::Request::from(plain);
    assert_eq!(request.uri().query(), Some("a=%22x%22&b=c+d&e=%C3%A9&f=é"));
}
