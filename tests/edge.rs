//! Raw API Gateway v2 events through each function's Lambda entry path
//! (`app_upgrade::http::handler`, what `main` runs), against the local
//! DynamoDB: junk `X-Forwarded-Proto`, `Host`, paths and base64 bodies,
//! which `lambda_http` alone panics on, get a JSON 4xx or the normal answer;
//! and every answer carries the function's cache policy. Test builds
//! unwind, so a panic anywhere on the path fails the test.

use app_upgrade::http::handler;
use axum::Router;
use integration_tests::Fixture;
use lambda_http::request::LambdaRequest;
use lambda_http::tower::ServiceExt;
use lambda_http::{Context, LambdaEvent};
use serde_json::{Map, Value, json};

/// One function and a request it answers 200 (method, path, query, the
/// credential's header and the JWT claim's `sub`).
struct Function {
    name: &'static str,
    app: Router,
    path: String,
    query: String,
    headers: Vec<(&'static str, String)>,
    sub: Option<String>,
}

/// What came back, read from the serialized Lambda response as API Gateway
/// reads it.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Map<String, Value>,
    json: Value,
}

impl Answer {
    fn cache_control(&self) -> Option<&str> {
        self.headers.get("cache-control").and_then(Value::as_str)
    }
}

/// An event's parts; `Event::of(function)` is the function's 200.
#[derive(Clone)]
struct Event {
    method: &'static str,
    path: String,
    query: String,
    headers: Vec<(&'static str, String)>,
    domain: Option<String>,
    sub: Option<String>,
    body: Option<(String, bool)>,
}

impl Event {
    fn of(function: &Function) -> Self {
        let mut headers = function.headers.clone();
        headers.push(("host", "api.example.com".into()));
        headers.push(("x-forwarded-proto", "https".into()));
        Self {
            method: "GET",
            path: function.path.clone(),
            query: function.query.clone(),
            headers,
            domain: Some("api.example.com".into()),
            sub: function.sub.clone(),
            body: None,
        }
    }

    fn with_header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, value.into()));
        self
    }

    fn without_header(mut self, name: &'static str) -> Self {
        self.headers.retain(|(n, _)| *n != name);
        self
    }

    fn into_lambda(self) -> LambdaRequest {
        let mut context = json!({
            "accountId": "123456789012", "apiId": "test", "domainName": self.domain,
            "http": {"method": self.method, "path": self.path, "protocol": "HTTP/1.1",
                     "sourceIp": "127.0.0.1", "userAgent": "tests"},
            "requestId": "test", "routeKey": "$default", "stage": "$default", "timeEpoch": 0
        });
        if let Some(sub) = &self.sub {
            context["authorizer"] = json!({"jwt": {"claims": {"sub": sub}, "scopes": null}});
        }
        let headers: Map<String, Value> = self
            .headers
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value.into()))
            .collect();
        let (body, base64) = self.body.unzip();
        serde_json::from_value(json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": self.path,
            "rawQueryString": self.query,
            "headers": headers,
            "requestContext": context,
            "body": body,
            "isBase64Encoded": base64.unwrap_or(false)
        }))
        .expect("an API Gateway v2 event")
    }
}

async fn invoke(app: &Router, event: Event) -> Answer {
    let event = LambdaEvent::new(event.into_lambda(), Context::default());
    let answer = handler(app.clone())
        .oneshot(event)
        .await
        .expect("infallible");
    let answer = serde_json::to_value(answer).expect("a serializable response");
    let status = answer["statusCode"].as_u64().expect("a status") as u16;
    let body = answer["body"].as_str().unwrap_or_default();
    assert_ne!(answer["isBase64Encoded"], true, "JSON answers are text");
    Answer {
        status,
        headers: answer["headers"].as_object().cloned().unwrap_or_default(),
        json: if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(body).expect("a JSON body")
        },
    }
}

fn functions(fx: &Fixture) -> [Function; 3] {
    let page = tokens::PageConfig::parse("http://127.0.0.1:1/", "client").expect("a page config");
    [
        Function {
            name: "versions",
            app: versions::app(fx.store.clone()),
            path: format!("/api/v1/projects/{}/versions", fx.project),
            query: format!("teamId={}", fx.team),
            headers: vec![(
                "authorization",
                format!("Bearer {}", fx.read_token.expose()),
            )],
            sub: None,
        },
        Function {
            name: "check",
            app: check::app(fx.store.clone()),
            path: "/api/v1/versions/check".into(),
            query: "app_name=Edge+App&app_version=1.0.0&platform=android&environment=production"
                .into(),
            headers: vec![("x-api-key", fx.api_key.expose().to_owned())],
            sub: None,
        },
        Function {
            name: "tokens",
            app: tokens::app(fx.store.clone()).merge(tokens::page(Some(page))),
            path: "/api/v1/account/tokens".into(),
            query: String::new(),
            headers: Vec::new(),
            sub: Some(fx.user.as_str().to_owned()),
        },
    ]
}

fn assert_json_error(answer: &Answer, status: u16, what: &str) {
    assert_eq!(answer.status, status, "{what}: {:?}", answer.json);
    assert_eq!(answer.json["code"], status, "{what}");
    assert!(answer.json["message"].is_string(), "{what}");
    assert_eq!(answer.cache_control(), Some("no-store"), "{what}");
}

/// `lambda_http` 1.3.2 `request.rs` parses `{X-Forwarded-Proto}://{Host or
/// domainName}{rawPath}` with `Url::parse(…).unwrap()`, builds the `Uri`
/// with `expect` (64 KiB at most) and decodes a base64 body with `expect`;
/// each case below panicked there before `admit` (the shared crate's unit
/// tests show the unrepaired events panic).
#[tokio::test]
async fn junk_headers_paths_and_bodies_are_answered_never_a_panic() {
    let fx = Fixture::new().await;
    for function in functions(&fx) {
        let name = function.name;
        let ok = Event::of(&function);
        let answer = invoke(&function.app, ok.clone()).await;
        assert_eq!(answer.status, 200, "{name}: {:?}", answer.json);

        // A scheme the functions never read: dropped, the request answered.
        for proto in ["a b", "", "ftp", "file", &"x".repeat(70)] {
            let answer = invoke(
                &function.app,
                ok.clone().with_header("x-forwarded-proto", proto),
            )
            .await;
            assert_eq!(
                answer.status, 200,
                "{name} proto {proto:?}: {:?}",
                answer.json
            );
        }

        // A host that is not a host: 400, as HTTP requires.
        for host in ["a b", "", "a/b", "u@evil.example", "h:99999", "[::1", "`"] {
            let answer = invoke(&function.app, ok.clone().with_header("host", host)).await;
            assert_json_error(&answer, 400, &format!("{name} Host {host:?}"));
            let mut from_context = ok.clone().without_header("host");
            from_context.domain = Some(host.into());
            let answer = invoke(&function.app, from_context).await;
            assert_json_error(&answer, 400, &format!("{name} domainName {host:?}"));
        }

        // Spaces and control characters in a path: just an unknown route.
        let junk_path = Event {
            path: format!("{}/x/a b\u{1}\u{7f}\"<>{{}}é", function.path),
            ..ok.clone()
        };
        assert_json_error(&invoke(&function.app, junk_path).await, 404, name);
        // A path that would be read as part of the host.
        for path in ["@evil.example/x", ":99999"] {
            let event = Event {
                path: path.into(),
                ..ok.clone()
            };
            assert_json_error(&invoke(&function.app, event).await, 400, name);
        }

        // Past what a URI may hold: 414, by path or by query.
        let long_path = Event {
            path: format!("{}/{}", function.path, "a".repeat(70_000)),
            ..ok.clone()
        };
        assert_json_error(&invoke(&function.app, long_path).await, 414, name);
        let long_query = Event {
            query: format!("{}&q={}", function.query, "%22".repeat(25_000)),
            ..ok.clone()
        };
        assert_json_error(&invoke(&function.app, long_query).await, 414, name);

        // A body marked base64 that is not.
        let bad_body = Event {
            method: "POST",
            body: Some(("not base64!".into(), true)),
            ..ok.clone()
        }
        .with_header("content-type", "application/json");
        assert_json_error(&invoke(&function.app, bad_body).await, 400, name);

        // And the function still answers normally afterwards.
        assert_eq!(invoke(&function.app, ok).await.status, 200, "{name}");
    }
}

/// The management APIs answer `no-store` always; the check keeps its CDN
/// policy on a 200 and answers `no-store` on every error (one key's 401 or a
/// store outage's 503 must not be replayed to others), including the 404
/// and 405 of its fallbacks and the refusals before routing.
#[tokio::test]
async fn every_answer_carries_the_functions_cache_policy() {
    let fx = Fixture::new().await;
    let [versions, check, tokens] = functions(&fx);

    // Successes.
    let listed = invoke(&versions.app, Event::of(&versions)).await;
    assert_eq!(listed.status, 200, "{:?}", listed.json);
    assert_eq!(listed.cache_control(), Some("no-store"), "versions list");
    let created = invoke(
        &versions.app,
        Event {
            method: "POST",
            body: Some((
                json!({
                    "project": fx.project.as_str(), "appName": "Edge App",
                    "appVersion": "1.0.0", "platform": "android",
                    "environment": "production", "forceUpgrade": false
                })
                .to_string(),
                false,
            )),
            ..Event::of(&versions)
        }
        .with_header("authorization", &format!("Bearer {}", fx.rw_token.expose()))
        .with_header("content-type", "application/json"),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.json);
    assert_eq!(created.cache_control(), Some("no-store"), "versions create");
    let id = created.json["id"].as_str().expect("an id");
    let read = invoke(
        &versions.app,
        Event {
            path: format!("{}/{id}", versions.path),
            ..Event::of(&versions)
        },
    )
    .await;
    assert_eq!(read.status, 200, "{:?}", read.json);
    assert_eq!(read.cache_control(), Some("no-store"), "versions read");
    let tokens_listed = invoke(&tokens.app, Event::of(&tokens)).await;
    assert_eq!(tokens_listed.status, 200, "{:?}", tokens_listed.json);
    assert_eq!(
        tokens_listed.cache_control(),
        Some("no-store"),
        "tokens list"
    );
    let checked = invoke(&check.app, Event::of(&check)).await;
    assert_eq!(checked.status, 200, "{:?}", checked.json);
    assert_eq!(checked.cache_control(), Some("public, max-age=30"), "check");
    assert_eq!(checked.json["found"], true);

    // Errors, on every function.
    for function in [&versions, &check, &tokens] {
        let name = function.name;
        let ok = Event::of(function);
        let no_credential = Event {
            sub: None,
            ..ok.clone()
                .without_header("authorization")
                .without_header("x-api-key")
        };
        assert_json_error(&invoke(&function.app, no_credential).await, 401, name);
        let unknown = Event {
            path: "/api/v1/nowhere".into(),
            ..ok.clone()
        };
        assert_json_error(&invoke(&function.app, unknown).await, 404, name);
        let wrong_method = Event {
            method: "PUT",
            ..ok.clone()
        };
        assert_json_error(&invoke(&function.app, wrong_method).await, 405, name);
        let refused = ok.with_header("host", "a b");
        assert_json_error(&invoke(&function.app, refused).await, 400, name);
    }
    let missing = Event {
        query: "app_name=Edge+App".into(),
        ..Event::of(&check)
    };
    assert_json_error(&invoke(&check.app, missing).await, 400, "check");
    let no_version = Event {
        path: format!("{}/{}", versions.path, "01JAAAAAAAAAAAAAAAAAAAAAAA"),
        ..Event::of(&versions)
    };
    assert_json_error(&invoke(&versions.app, no_version).await, 404, "versions");
}
