//! Integration tests of the `check` function against the local DynamoDB:
//! the project's versions query, the real router end to end, the number of
//! DynamoDB calls cold and warm (and under a flood of invented names), and
//! an unreachable DynamoDB.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use app_upgrade::Config;
use app_upgrade::domain::{CustomValue, PlainSecret, ProjectId, SecretKind};
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

#[tokio::test]
async fn the_query_returns_the_active_versions_of_the_project_only() {
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
        version_record(p, "wallpaper app", "1.0.0", "android", "production"),
        version_record(p, "Wallpaper App", "1.0.0", "ios", "staging"),
        version_record(p, "Wallpaper App#android", "1.0.0", "production", "x"),
    ];
    let mut inactive = version_record(p, "Wallpaper App", "1.1.0", "android", "production");
    inactive.active = false;
    let others = [
        inactive,
        version_record(
            &ProjectId::generate(),
            "Wallpaper App",
            "1.0.0",
            "android",
            "production",
        ),
    ];
    for record in wanted.iter().chain(&others) {
        fx.store.put_version_for_tests(record).await.expect("put");
    }

    // The project item (Fixture) shares the partition: left out.
    let mut got = fx.store.active_versions(p).await.expect("query");
    got.sort_by(|a, b| a.id.cmp(&b.id));
    let mut expected = wanted.to_vec();
    expected.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(got, expected, "records round-trip whole");

    let none = fx
        .store
        .active_versions(&ProjectId::generate())
        .await
        .expect("query");
    assert!(none.is_empty());
}

#[tokio::test]
async fn a_project_larger_than_a_page_is_read_whole() {
    let fx = Fixture::new().await;
    // About 4 KB each: 300 of them are more than one 1 MB page.
    let notes = "n".repeat(2_000);
    let message = "m".repeat(1_000);
    for i in 0..300 {
        let mut record = version_record(
            &fx.project,
            "Wallpaper App",
            &format!("1.0.{i}"),
            "android",
            "production",
        );
        record.internal_notes = notes.clone();
        record.message = message.clone();
        record.active = i % 3 != 0;
        fx.store.put_version_for_tests(&record).await.expect("put");
    }
    let counting = Counting::new(&fx.store);
    let got = counting
        .store
        .active_versions(&fx.project)
        .await
        .expect("query");
    assert_eq!(got.len(), 200);
    assert!(counting.calls() >= 2, "more than one page");
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
    let query = "app_name=x&app_version=1&platform=ios&environment=production";
    let (status, _, body) = check(&router, unknown.expose(), query).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], 401);
    // A PAT is no API key, whatever the query.
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
    assert_eq!(
        counting.calls(),
        2,
        "cold: key lookup + the project's query"
    );
    for _ in 0..10 {
        let (_, _, body) = check(&router, key, query).await;
        assert_eq!(body["found"], true);
    }
    assert_eq!(counting.calls(), 2, "warm: no DynamoDB calls");

    // Another app, platform or environment of the same project: already
    // read with it.
    check(
        &router,
        key,
        "app_name=Wallpaper+App&app_version=1.0.0&platform=ios&environment=production",
    )
    .await;
    assert_eq!(counting.calls(), 2);

    // Unknown keys: one lookup, then remembered.
    let junk = PlainSecret::generate(SecretKind::ApiKey).expect("randomness");
    for _ in 0..5 {
        let (status, _, _) = check(&router, junk.expose(), query).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(counting.calls(), 3);
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

/// The peak resident set of this process so far (`VmHWM`), in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

/// Issue 14: one API key (it ships in every app) floods an instance with
/// checks of names and attributes it invents. None of them costs a read,
/// the other project's checks stay warm, and memory stays flat.
#[tokio::test]
async fn invented_names_from_one_key_cost_no_reads_and_evict_no_one() {
    const FLOOD: usize = 20_000;
    let legit = Fixture::new().await;
    let attacker = Fixture::on(legit.store.clone()).await;
    for fx in [&legit, &attacker] {
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
    }
    let counting = Counting::new(&legit.store);
    // A TTL longer than the flood takes: every read it would cost shows.
    let config = check::CheckConfig {
        limits: check::cache::CacheLimits {
            ttl: Duration::from_secs(3600),
            ..Default::default()
        },
        ..Default::default()
    };
    let router = check::app_with(counting.store.clone(), config);
    let legit_query =
        "app_name=Wallpaper+App&app_version=1.0.0&platform=android&environment=production";
    for key in [legit.api_key.expose(), attacker.api_key.expose()] {
        let (_, _, body) = check(&router, key, legit_query).await;
        assert_eq!(body["found"], true);
    }
    let warm = counting.calls();
    assert_eq!(warm, 4, "cold: each key's lookup and its project's query");

    let rss_before = peak_rss_kib();
    let started = Instant::now();
    let mut refused = 0;
    for i in 0..FLOOD {
        // Every few requests a name the versions API would refuse (too
        // long, a control character); the rest are valid but unknown.
        let junk = match i % 10 {
            0 => format!(
                "app_name={}{i}&app_version=1&platform=android&environment=production",
                "n".repeat(100)
            ),
            1 => format!("app_name=App%01{i}&app_version=1&platform=ios&environment=production"),
            _ => format!(
                "app_name=App+{i}&app_version=1.{i}&platform=os-{i}&environment=env-{i}\
                 &attr-{i}=v{i}&tags[]=t{i}&tags[]=u{i}"
            ),
        };
        let (status, _, body) = check(&router, attacker.api_key.expose(), &junk).await;
        if status == StatusCode::BAD_REQUEST {
            refused += 1;
        } else {
            assert_eq!((status, &body["found"]), (StatusCode::OK, &json!(false)));
        }
        if i % 100 == 0 {
            let (status, _, body) = check(&router, legit.api_key.expose(), legit_query).await;
            assert_eq!((status, &body["found"]), (StatusCode::OK, &json!(true)));
            assert_eq!(
                counting.calls(),
                warm,
                "after {i} invented names: no DynamoDB call, the other project still warm"
            );
        }
    }
    assert_eq!(refused, FLOOD / 5, "impossible names are a 400");
    assert_eq!(counting.calls(), warm, "the whole flood: no DynamoDB call");
    let rss_after = peak_rss_kib();
    eprintln!(
        "flood of {FLOOD} checks in {:?}: peak RSS {rss_before} KiB before, {rss_after} KiB after",
        started.elapsed()
    );
    assert!(
        rss_after - rss_before < 16 * 1024,
        "peak RSS grew from {rss_before} KiB to {rss_after} KiB"
    );
}
