//! Listing at any size, against the local DynamoDB: the default order reads
//! the project's count and its newest versions as far as the page, other
//! orders and filters read every version's summary and then the page; both answer exactly what ordering the
//! whole project in memory answers, and the count stays exact through
//! creates, replays, races and deletes. Versions written before copies,
//! summaries and counts existed are read whole until `aau-admin versions
//! backfill`, and by the page after it.

use std::sync::Arc;
use std::time::Duration;

use app_upgrade::domain::{ProjectId, Timestamp, VersionRecord};
use app_upgrade::store::{DynamoStore, VersionStore, keys};
use aws_sdk_dynamodb::types::AttributeValue;
use axum::Router;
use http::{Method, StatusCode};
use integration_tests::http::{Reply, request, send};
use integration_tests::{Counting, Fixture};
use serde_json::{Value, json};
use tokio::task::JoinSet;
use versions::body::{Intent, VersionFields};
use versions::listing::{ListParams, page};
use versions::query::Query;

fn record(project: &ProjectId, i: usize, created: Timestamp) -> VersionRecord {
    let name = ["Wallpaper App", "Other", "wall clock"][i % 3];
    let body = json!({
        "project": project.as_str(),
        "appName": name,
        "appVersion": format!("{}.{}.0", i % 4, i),
        "platform": if i.is_multiple_of(2) { "android" } else { "ios" },
        "environment": "production",
        "forceUpgrade": i.is_multiple_of(5),
        "active": !i.is_multiple_of(7),
        "message": "Please update.",
    });
    VersionFields::parse(&body, Intent::Create, project)
        .expect("valid")
        .into_new_record(project.clone(), created)
}

async fn list(app: &Router, fx: &Fixture, query: &str) -> Reply {
    let uri = format!("{}&{query}", fx.collection());
    send(
        app,
        request(Method::GET, &uri, Some(fx.read_token.expose()), None),
    )
    .await
}

/// The page the whole project, read and ordered in memory, gives.
async fn expected(store: &DynamoStore, fx: &Fixture, query: &str) -> Value {
    let params = ListParams::parse(&Query::parse(Some(query))).expect("valid");
    let all = store.list_versions(&fx.project).await.expect("all");
    serde_json::to_value(page(all, &params)).expect("json")
}

#[tokio::test]
async fn every_order_and_filter_answers_what_the_whole_project_would() {
    let fx = Fixture::new().await;
    let base = Timestamp::now().unix_millis();
    // Groups of three share a millisecond: ties are ordered by id.
    let records: Vec<_> = (0..47)
        .map(|i| {
            record(
                &fx.project,
                i,
                Timestamp::from_unix_millis(base + (i / 3) as i64),
            )
        })
        .collect();
    fx.store.seed_versions(&records).await.expect("seeded");
    let app = versions::app(fx.store.clone());
    for query in [
        "",
        "page=2",
        "page=5",
        "page=6",
        "page=99",
        "limit=7&page=3",
        "limit=100",
        "sortBy=createdAt:desc",
        "sortBy=createdAt:asc&page=2",
        "sortBy=appVersion:desc,createdAt:asc&limit=5&page=2",
        "sortBy=appName,updatedAt:desc",
        "name=WALL&page=2&limit=6",
        "name=clock",
        "name=nothing",
        "forceUpgrade=true",
        "active=false&sortBy=platform:desc",
        "forceUpgrade=false&active=true&page=3&limit=4",
    ] {
        let answer = list(&app, &fx, query).await;
        assert_eq!(answer.status, StatusCode::OK, "{query}: {}", answer.json);
        assert_eq!(
            answer.json,
            expected(&fx.store, &fx, query).await,
            "{query}"
        );
    }
}

#[tokio::test]
async fn a_default_page_costs_the_same_at_any_size() {
    let calls_for = |versions: usize| async move {
        let fx = Fixture::new().await;
        let now = Timestamp::now().unix_millis();
        let records: Vec<_> = (0..versions)
            .map(|i| record(&fx.project, i, Timestamp::from_unix_millis(now + i as i64)))
            .collect();
        fx.store.seed_versions(&records).await.expect("seeded");
        let counting = Counting::new(&fx.store);
        let app = versions::app(counting.store.clone());
        let before = counting.calls();
        let answer = list(&app, &fx, "page=2").await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
        assert_eq!(answer.json["totalResults"], versions);
        assert_eq!(answer.json["results"].as_array().map(Vec::len), Some(10));
        counting.calls() - before
    };
    // The default page reads the count and the newest 20 versions.
    let (small, large) = (calls_for(25).await, calls_for(1_200).await);
    assert_eq!(small, large, "DynamoDB calls of page 2: {small} vs {large}");
}

struct Api {
    fx: Fixture,
    app: Router,
}

impl Api {
    async fn send(&self, method: Method, uri: &str, body: Option<&Value>, key: &str) -> Reply {
        let mut request = request(method, uri, Some(self.fx.rw_token.expose()), body);
        if !key.is_empty() {
            request
                .headers_mut()
                .insert("idempotency-key", key.parse().expect("header"));
        }
        send(&self.app, request).await
    }

    async fn create(&self, version: &str, key: &str) -> Reply {
        let body = json!({
            "project": self.fx.project.as_str(),
            "appName": "Counted",
            "appVersion": version,
            "platform": "android",
            "environment": "production",
            "forceUpgrade": false,
        });
        self.send(Method::POST, &self.fx.collection(), Some(&body), key)
            .await
    }

    async fn delete(&self, id: &str, key: &str) -> Reply {
        self.send(Method::DELETE, &self.fx.item(id), None, key)
            .await
    }

    async fn totals(&self) -> (Value, usize) {
        let answer = list(&self.app, &self.fx, "limit=100").await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
        let entries = self
            .fx
            .store
            .version_summaries(&self.fx.project)
            .await
            .expect("summaries")
            .expect("every version has its summary");
        (answer.json["totalResults"].clone(), entries.len())
    }
}

#[tokio::test]
async fn the_count_stays_exact_through_replays_races_and_deletes() {
    let fx = Fixture::new().await;
    let app = versions::app(fx.store.clone());
    let api = Arc::new(Api { fx, app });
    let mut ids = Vec::new();
    for (version, key) in [("1.0.0", "create-1"), ("1.1.0", ""), ("1.2.0", "create-3")] {
        let created = api.create(version, key).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
        ids.push(created.json["id"].as_str().expect("id").to_owned());
    }
    // A replay answers from its receipt; a duplicate is refused: neither counts.
    let replay = api.create("1.0.0", "create-1").await;
    assert_eq!(replay.status, StatusCode::CREATED);
    assert_eq!(replay.headers["idempotent-replayed"], "true");
    assert_eq!(api.create("1.1.0", "").await.status, StatusCode::CONFLICT);
    assert_eq!(api.totals().await, (json!(3), 3));

    // Concurrent creates of one project all count.
    let mut racing = JoinSet::new();
    for i in 0..6 {
        let api = api.clone();
        racing.spawn(async move { api.create(&format!("2.{i}.0"), "").await.status });
    }
    let statuses = tokio::time::timeout(Duration::from_secs(60), racing.join_all())
        .await
        .expect("the racing creates answer within a minute");
    assert!(
        statuses.iter().all(|s| *s == StatusCode::CREATED),
        "{statuses:?}"
    );
    assert_eq!(api.totals().await, (json!(9), 9));

    assert_eq!(
        api.delete(&ids[0], "delete-1").await.status,
        StatusCode::NO_CONTENT
    );
    let replayed = api.delete(&ids[0], "delete-1").await;
    assert_eq!(replayed.status, StatusCode::NO_CONTENT);
    assert_eq!(replayed.headers["idempotent-replayed"], "true");
    assert_eq!(api.delete(&ids[0], "").await.status, StatusCode::NOT_FOUND);
    assert_eq!(api.delete(&ids[1], "").await.status, StatusCode::NO_CONTENT);
    assert_eq!(api.totals().await, (json!(7), 7));
}

#[tokio::test]
async fn versions_from_before_listing_entries_are_listed_after_the_backfill() {
    let fx = Fixture::new().await;
    let now = Timestamp::now().unix_millis();
    // As an older deployment stored them: version and identity items only.
    let old: Vec<_> = (0..12)
        .map(|i| record(&fx.project, i, Timestamp::from_unix_millis(now + i as i64)))
        .collect();
    for r in &old {
        fx.store.put_version_for_tests(r).await.expect("put");
        let identity = keys::version_identity(
            &r.project,
            &r.app_name,
            r.app_version.as_str(),
            &r.platform,
            &r.environment,
        );
        fx.store
            .client()
            .put_item()
            .table_name(fx.store.versions_table())
            .item(keys::PK, AttributeValue::S(identity.pk))
            .item(keys::SK, AttributeValue::S(identity.sk))
            .item("versionId", AttributeValue::S(r.id.to_string()))
            .send()
            .await
            .expect("identity");
    }
    let app = versions::app(fx.store.clone());
    let queries = ["", "page=2&limit=5", "name=wall&sortBy=appVersion"];
    // Until the backfill, such a project is read whole, as before.
    assert_eq!(
        fx.store.version_summaries(&fx.project).await.expect("read"),
        None
    );
    for query in queries {
        assert_eq!(
            list(&app, &fx, query).await.json,
            expected(&fx.store, &fx, query).await,
            "{query}"
        );
    }
    for _ in 0..2 {
        let (projects, versions) = fx
            .store
            .backfill_version_listings()
            .await
            .expect("backfill");
        assert_eq!((projects, versions), (1, 12));
        let counting = Counting::new(&fx.store);
        let counted = versions::app(counting.store.clone());
        for query in queries {
            let before = counting.calls();
            assert_eq!(
                list(&counted, &fx, query).await.json,
                expected(&fx.store, &fx, query).await,
                "{query}"
            );
            // auth, access, then one Query (default order) or a Query of
            // the summaries and a BatchGetItem of the page.
            let want = if query.contains("name=") { 4 } else { 3 };
            assert_eq!(counting.calls() - before, want, "{query}");
        }
    }
}
