//! Integration tests of the `check` function against the local DynamoDB:
//! the `check-index` query, the real router end to end, the number of
//! DynamoDB calls cold and warm, and an unreachable DynamoDB.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use app_upgrade::Config;
use app_upgrade::domain::{CustomValue, Environment, PlainSecret, Platform, ProjectId, SecretKind};
use app_upgrade::store::dynamo::load_sdk_config;
use app_upgrade::store::{CheckStore, DynamoStore};
use axum::Router;
use axum::body::Body;
use http::{Request, StatusCode, header};
use integration_tests::check::version_record;
use integration_tests::http::send;
use integration_tests::{Counting, Fixture};
use serde_json::{Value, json};

async fn check(router: &Router, key: &str, query: &str) -> (StatusCode, http::HeaderMap, Value) {
    let request = Request::get(format!("{}?{query}", check::CHECK_PATH))
        .header("x-api-key", key)
        .header("sdk", "flutter")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::empty())
        .expect("request");
    let reply = send(router, request).await;
    assert!(!reply.raw.is_empty(), "JSON");
    (reply.status, reply.headers, reply.json)
}

fn platform(p: &str) -> Platform {
    Platform::parse(p).expect("valid")
}

fn environment(e: &str) -> Environment {
    Environment::parse(e).expect("valid")
}

#[tokio::test]
async fn the_index_returns_only_the_active_versions_of_the_scope() {
    let fx = Fixture::new().await;
    let p = &fx.project;
    let wanted = [
        version_record(p, "Wallpaper App", "1.0.0", "android", "production"),
        version_record(
            p,
            "Wallpaper App",
            ">=1.0.0, <1.4.0",
            "Android",
            "Production",
        ),
    ];
    let mut inactive = version_record(p, "Wallpaper App", "1.1.0", "android", "production");
    inactive.active = false;
    let others = [
        inactive,
        version_record(p, "wallpaper app", "1.0.0", "android", "production"),
        version_record(p, "Wallpaper App", "1.0.0", "ios", "production"),
        version_record(p, "Wallpaper App", "1.0.0", "android", "staging"),
        version_record(
            &ProjectId::generate(),
            "Wallpaper App",
            "1.0.0",
            "android",
            "production",
        ),
        // A `#` in the name must not leak into another scope's partition.
        version_record(p, "Wallpaper App#android", "1.0.0", "production", "x"),
    ];
    for record in wanted.iter().chain(&others) {
        fx.store.put_version_for_tests(record).await.expect("put");
    }

    let mut got = fx
        .store
        .candidates(
            p,
            "Wallpaper App",
            &platform("android"),
            &environment("production"),
        )
        .await
        .expect("query");
    got.sort_by(|a, b| a.id.cmp(&b.id));
    let mut expected = wanted.to_vec();
    expected.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(got, expected, "records round-trip whole");

    let none = fx
        .store
        .candidates(
            p,
            "No Such App",
            &platform("android"),
            &environment("production"),
        )
        .await
        .expect("query");
    assert!(none.is_empty());
}

#[tokio::test]
async fn checks_end_to_end_against_dynamodb() {
    let fx = Fixture::new().await;
    let p = &fx.project;
    let mut range = version_record(p, "Wallpaper App", "<2.0.0", "android", "production");
    range.message = "Update available".into();
    let mut exact = version_record(p, "Wallpaper App", "1.0.0", "android", "production");
    exact.force_upgrade = true;
    exact.message = "Please update".into();
    exact.message_locale = BTreeMap::from([("pt".into(), "Atualize".into())]);
    exact.custom_attributes = BTreeMap::from([(
        "country".into(),
        CustomValue::Many(vec!["US".into(), "CA".into()]),
    )]);
    for record in [&range, &exact] {
        fx.store.put_version_for_tests(record).await.expect("put");
    }
    let router = check::app(fx.store.clone());
    let key = fx.api_key.expose();

    // The exact version wins when its attribute matches...
    let (status, headers, body) = check(
        &router,
        key,
        "app_name=Wallpaper+App&app_version=1.0.0%2B5&platform=Android&environment=production\
         &app_language=pt-BR&country=CA",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({
            "found": true,
            "forceUpgrade": true,
            "message": "Atualize",
            "query": {
                "app_name": "Wallpaper App",
                "app_version": "1.0.0+5",
                "platform": "Android",
                "environment": "production",
                "app_language": "pt-BR"
            }
        })
    );
    assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=30");
    assert_eq!(headers[header::VARY], "x-api-key");

    // ...and the range answers when it does not.
    let (_, _, body) = check(
        &router,
        key,
        "app_name=Wallpaper+App&app_version=1.0.0&platform=android&environment=production&country=FR",
    )
    .await;
    assert_eq!(body["message"], "Update available");
    assert_eq!(body["forceUpgrade"], false);

    let (status, _, body) = check(
        &router,
        key,
        "app_name=Wallpaper+App&app_version=2.0.0&platform=android&environment=production",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["found"], false);

    let unknown = PlainSecret::generate(SecretKind::ApiKey).expect("randomness");
    let (status, _, body) = check(&router, unknown.expose(), "app_name=x").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], 401);
    // A PAT is no API key.
    let (status, _, body) = check(&router, fx.rw_token.expose(), "app_name=x").await;
    assert_eq!(
        (status, body["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!(401))
    );
}

#[tokio::test]
async fn a_cold_check_makes_two_calls_and_a_warm_one_none() {
    let fx = Fixture::new().await;
    fx.store
        .put_version_for_tests(&version_record(
            &fx.project,
            "Wallpaper App",
            "1.0.0",
            "android",
            "production",
        ))
        .await
        .expect("put");
    let counting = Counting::new(&fx.store);
    let router = check::app(counting.store.clone());
    let key = fx.api_key.expose();
    let query = "app_name=Wallpaper+App&app_version=1.0.0&platform=android&environment=production";

    let (_, _, body) = check(&router, key, query).await;
    assert_eq!(body["found"], true);
    assert_eq!(counting.calls(), 2, "cold: key lookup + one index query");
    for _ in 0..10 {
        let (_, _, body) = check(&router, key, query).await;
        assert_eq!(body["found"], true);
    }
    assert_eq!(counting.calls(), 2, "warm: no DynamoDB calls");

    // A new scope for a known key costs just its query.
    check(
        &router,
        key,
        "app_name=Wallpaper+App&app_version=1.0.0&platform=ios&environment=production",
    )
    .await;
    assert_eq!(counting.calls(), 3);

    // Unknown keys: one lookup, then remembered.
    let junk = PlainSecret::generate(SecretKind::ApiKey).expect("randomness");
    for _ in 0..5 {
        let (status, _, _) = check(&router, junk.expose(), query).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(counting.calls(), 4);
}

/// A store whose DynamoDB endpoint refuses connections.
async fn unreachable_store() -> DynamoStore {
    let sdk = load_sdk_config().await;
    let conf = aws_sdk_dynamodb::config::Builder::from(&sdk)
        .endpoint_url("http://127.0.0.1:1")
        .build();
    DynamoStore::new(
        aws_sdk_dynamodb::Client::from_conf(conf),
        &Config {
            versions_table: "unreachable-versions".into(),
            tokens_table: "unreachable-tokens".into(),
        },
    )
}

#[tokio::test]
async fn an_unreachable_dynamodb_is_a_prompt_503() {
    let router = check::app(unreachable_store().await);
    let key = PlainSecret::generate(SecretKind::ApiKey).expect("randomness");
    let started = Instant::now();
    let (status, headers, body) = check(
        &router,
        key.expose(),
        "app_name=Wallpaper+App&app_version=1.0.0&platform=android&environment=production",
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["code"], 503);
    assert_eq!(headers[header::RETRY_AFTER], "1");
    // The SDK config's retries (3 attempts, backoff) end well inside the
    // mobile SDKs' own timeouts.
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "took {:?}",
        started.elapsed()
    );
}
