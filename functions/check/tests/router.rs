//! The check's HTTP behaviour through the real router, on the in-memory
//! store with a manual clock: statuses, headers, caching, outages. The same
//! paths against DynamoDB are in the workspace's `tests/check.rs`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use app_upgrade::test_util::version_record;

use app_upgrade::domain::{
    CustomValue, PlainSecret, ProjectId, Scope, Scopes, SecretKind, Timestamp, UserId,
    VersionRecord, issue_pat,
};
use app_upgrade::store::Credential;
use axum::Router;
use axum::body::Body;
use check::cache::{CacheLimits, ManualClock};
use check::memory::MemoryStore;
use check::{CHECK_PATH, CheckConfig, app_with};
use http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

struct Harness {
    store: MemoryStore,
    clock: Arc<ManualClock>,
    router: Router,
    project: ProjectId,
    key: PlainSecret,
    limits: CacheLimits,
}

impl Harness {
    fn new() -> Self {
        let store = MemoryStore::default();
        let key = PlainSecret::generate(SecretKind::ApiKey).expect("randomness");
        let project = store.add_api_key(&key);
        let clock = Arc::new(ManualClock::default());
        let limits = CacheLimits {
            ttl: Duration::from_secs(30),
            negative_ttl: Duration::from_secs(5),
            ..CacheLimits::default()
        };
        let router = app_with(
            store.clone(),
            CheckConfig {
                limits,
                clock: clock.clone(),
            },
        );
        Self {
            store,
            clock,
            router,
            project,
            key,
            limits,
        }
    }

    fn version(&self, app_version: &str, force_upgrade: bool, message: &str) -> VersionRecord {
        VersionRecord {
            force_upgrade,
            message: message.into(),
            message_locale: BTreeMap::from([("fr".into(), "Mettez à jour".into())]),
            internal_notes: "never sent to apps".into(),
            ..version_record(&self.project, app_version)
        }
    }

    async fn send(&self, request: Request<Body>) -> (StatusCode, HeaderMap, Value) {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let body = serde_json::from_slice(&bytes).expect("every answer is JSON");
        (status, headers, body)
    }

    async fn check_with_key(
        &self,
        query: &str,
        key: Option<&str>,
    ) -> (StatusCode, HeaderMap, Value) {
        let mut request = Request::get(format!("{CHECK_PATH}?{query}"));
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        self.send(request.body(Body::empty()).expect("request"))
            .await
    }

    async fn check(&self, query: &str) -> (StatusCode, HeaderMap, Value) {
        self.check_with_key(query, Some(self.key.expose())).await
    }
}

const QUERY: &str =
    "app_name=Wallpaper+App&app_version=1.0.0&platform=android&environment=production";

#[tokio::test]
async fn found_answers_with_force_message_and_the_query_echoed() {
    let h = Harness::new();
    h.store
        .put_version(h.version("1.0.0", true, "Please update"));
    let (status, headers, body) = h.check(QUERY).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({
            "found": true,
            "forceUpgrade": true,
            "message": "Please update",
            "query": {
                "app_name": "Wallpaper App",
                "app_version": "1.0.0",
                "platform": "android",
                "environment": "production"
            }
        })
    );
    assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=30");
    assert_eq!(headers[header::VARY], "x-api-key");
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");

    let (_, _, body) = h.check(&format!("{QUERY}&app_language=fr-FR")).await;
    assert_eq!(body["message"], "Mettez à jour");
    assert_eq!(body["query"]["app_language"], "fr-FR");
}

#[tokio::test]
async fn not_found_is_a_200_without_force_or_message() {
    let h = Harness::new();
    h.store
        .put_version(h.version("1.0.0", true, "Please update"));
    let (status, headers, body) = h
        .check("app_name=Wallpaper+App&app_version=2.0.0&platform=ANDROID&environment=production&app_language=undefined")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({
            "found": false,
            "query": {
                "app_name": "Wallpaper App",
                "app_version": "2.0.0",
                "platform": "ANDROID",
                "environment": "production"
            }
        })
    );
    assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=30");
}

#[tokio::test]
async fn an_empty_message_is_an_empty_string_never_null() {
    let h = Harness::new();
    let mut v = h.version("<2", false, "");
    v.message_locale.clear();
    h.store.put_version(v);
    let (_, _, body) = h.check(&format!("{QUERY}&app_language=de")).await;
    assert_eq!(body["found"], true);
    assert_eq!(body["forceUpgrade"], false);
    assert_eq!(body["message"], "");
}

#[tokio::test]
async fn keys_are_checked_before_anything_else() {
    let h = Harness::new();
    let pat = issue_pat(
        UserId::parse("u").expect("valid"),
        "ci".into(),
        Scopes::new([Scope::VersionsRead]).expect("non-empty"),
        90,
        Timestamp::now(),
    )
    .expect("randomness");
    h.store
        .add_credential(pat.secret.hash(), Credential::Pat(pat.record.clone()));
    // Whatever its format, a secret must resolve to an API key.
    let not_a_key = PlainSecret::generate(SecretKind::ApiKey).expect("randomness");
    h.store
        .add_credential(not_a_key.hash(), Credential::Pat(pat.record.clone()));
    let unknown = PlainSecret::generate(SecretKind::ApiKey).expect("randomness");

    // Missing or malformed keys cost no read, even with a bad query.
    for key in [
        None,
        Some("junk"),
        Some("aak_0000000000000000000000000000000000AAAA"),
    ] {
        let (status, headers, body) = h.check_with_key("app_name=", key).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{key:?}");
        assert_eq!(body["code"], 401);
        assert!(body["message"].is_string());
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    }
    assert_eq!(h.store.calls(), 0);

    // A PAT is not an API key: its prefix gives it away, no read needed.
    let (status, _, body) = h.check_with_key(QUERY, Some(pat.secret.expose())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(!body.to_string().contains(&pat.secret.expose()[4..]));
    assert_eq!(h.store.calls(), 0);

    // An unknown key is looked up once, then remembered until the negative
    // TTL runs out.
    for _ in 0..3 {
        let (status, _, body) = h.check_with_key(QUERY, Some(unknown.expose())).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(
            !body.to_string().contains(&unknown.expose()[4..]),
            "no secret in errors"
        );
    }
    assert_eq!(h.store.calls(), 1);
    h.clock.advance(h.limits.negative_ttl);
    let (status, _, _) = h.check_with_key(QUERY, Some(unknown.expose())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(h.store.calls(), 2);

    for _ in 0..2 {
        let (status, _, _) = h.check_with_key(QUERY, Some(not_a_key.expose())).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(h.store.calls(), 3);
}

#[tokio::test]
async fn missing_parameters_are_a_400_naming_them() {
    let h = Harness::new();
    let (status, headers, body) = h
        .check("app_name=Wallpaper+App&app_version=undefined&environment=null")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], 400);
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["app_version", "platform", "environment"]);
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
}

#[tokio::test]
async fn the_sdks_json_content_type_and_sdk_header_are_accepted() {
    let h = Harness::new();
    h.store.put_version(h.version("1.0.0", false, "m"));
    for sdk in ["react-native", "flutter", "android-kotlin", "ios-swift"] {
        let request = Request::get(format!("{CHECK_PATH}?{QUERY}"))
            .header("x-api-key", h.key.expose())
            .header("sdk", sdk)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::empty())
            .expect("request");
        let (status, _, body) = h.send(request).await;
        assert_eq!(status, StatusCode::OK, "{sdk}");
        assert_eq!(body["found"], true);
    }
}

#[tokio::test]
async fn other_methods_are_a_json_405() {
    let h = Harness::new();
    let request = Request::post(CHECK_PATH)
        .header("x-api-key", h.key.expose())
        .body(Body::empty())
        .expect("request");
    let (status, _, body) = h.send(request).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["code"], 405);
}

#[tokio::test]
async fn warm_checks_read_nothing_and_changes_show_after_the_ttl() {
    let h = Harness::new();
    let mut v = h.version("1.0.0", false, "old");
    h.store.put_version(v.clone());
    let (_, _, body) = h.check(QUERY).await;
    assert_eq!(body["message"], "old");
    assert_eq!(h.store.calls(), 2, "cold: key lookup + one query");

    v.message = "new".into();
    v.force_upgrade = true;
    h.store.put_version(v);
    for _ in 0..5 {
        let (_, _, body) = h.check(QUERY).await;
        assert_eq!(body["message"], "old", "still inside the TTL");
    }
    assert_eq!(h.store.calls(), 2, "warm: no reads");

    h.clock.advance(h.limits.ttl);
    let (_, _, body) = h.check(QUERY).await;
    assert_eq!(body["message"], "new");
    assert_eq!(body["forceUpgrade"], true);
    assert_eq!(h.store.calls(), 4, "both entries reloaded after the TTL");
}

#[tokio::test]
async fn names_that_could_never_be_stored_are_a_400_before_any_read() {
    let h = Harness::new();
    let long_platform = "p".repeat(33);
    let long_name = "n".repeat(101);
    for query in [
        format!("app_name=Wallpaper+App&app_version=1&platform={long_platform}&environment=prod"),
        format!("app_name={long_name}&app_version=1&platform=ios&environment=prod"),
        "app_name=Wall%00paper&app_version=1&platform=ios&environment=prod".to_owned(),
    ] {
        let (status, headers, body) = h.check(&query).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(body["code"], 400);
        assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    }
    assert_eq!(h.store.calls(), 0, "not even the key lookup");
}

#[tokio::test]
async fn any_name_a_caller_invents_is_answered_from_the_cached_project() {
    let h = Harness::new();
    h.store.put_version(h.version("1.0.0", true, "m"));
    h.check(QUERY).await;
    assert_eq!(h.store.calls(), 2, "cold: key lookup + the project's query");
    for i in 0..500 {
        let (status, _, body) = h
            .check(&format!(
                "app_name=App+{i}&app_version=1&platform=os{i}&environment=env{i}&attr{i}=x"
            ))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["found"], false);
    }
    let (_, _, body) = h.check(QUERY).await;
    assert_eq!(body["found"], true);
    assert_eq!(h.store.calls(), 2, "invented names cost no read");
}

#[tokio::test]
async fn an_outage_with_nothing_cached_is_a_503_with_retry_after() {
    let h = Harness::new();
    h.store.set_down(true);
    let (status, headers, body) = h.check(QUERY).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["code"], 503);
    assert_eq!(headers[header::RETRY_AFTER], "1");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");

    // Once the project is cached, a name it never had is answered from
    // the cache, outage or not: no name costs a call.
    h.store.set_down(false);
    h.check(QUERY).await;
    h.store.set_down(true);
    let calls = h.store.calls();
    let (status, _, body) = h
        .check("app_name=Other&app_version=1&platform=ios&environment=production")
        .await;
    assert_eq!((status, &body["found"]), (StatusCode::OK, &json!(false)));
    assert_eq!(h.store.calls(), calls);
}

#[tokio::test]
async fn an_outage_after_the_ttl_answers_from_the_expired_cache() {
    let h = Harness::new();
    h.store
        .put_version(h.version("1.0.0", true, "Please update"));
    h.check(QUERY).await;
    h.store.set_down(true);
    h.clock.advance(h.limits.ttl);
    let calls = h.store.calls();
    let (status, _, body) = h.check(QUERY).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["forceUpgrade"], true);
    assert_eq!(h.store.calls(), calls + 2, "tried the store first");
    // Re-armed: the next checks do not hammer the failing store.
    h.check(QUERY).await;
    assert_eq!(h.store.calls(), calls + 2);
    // Too stale: fail visibly rather than answer from ancient data.
    h.clock.advance(h.limits.negative_ttl + h.limits.max_stale);
    let (status, _, _) = h.check(QUERY).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn an_api_gateway_v2_event_round_trips() {
    let h = Harness::new();
    let mut v = h.version("^1", false, "Update available");
    v.custom_attributes = BTreeMap::from([
        (
            "country".into(),
            CustomValue::Many(vec!["US".into(), "CA".into()]),
        ),
        ("tags".into(), CustomValue::One("b".into())),
    ]);
    h.store.put_version(v);
    let event = include_str!("data/apigw_v2_check.json").replace("__API_KEY__", h.key.expose());
    let request = lambda_http::request::from_str(&event).expect("a valid API Gateway v2 event");
    let response = h.router.clone().oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let body: Value = serde_json::from_slice(&bytes).expect("JSON");
    assert_eq!(
        body,
        json!({
            "found": true,
            "forceUpgrade": false,
            "message": "Mettez à jour",
            "query": {
                "app_name": "Wallpaper App",
                "app_version": "1.0.0+5",
                "platform": "Android",
                "environment": "production",
                "app_language": "fr_CA"
            }
        })
    );
}
