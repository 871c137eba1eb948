//! Activity and version history against the real local DynamoDB: one event
//! per version write, naming its token and source IP, written in the
//! write's own transaction (a cut or refused transaction leaves both or
//! neither, a replay nothing new); another team sees nothing; a restore
//! after a delete brings the version back to the check; 500 events page
//! each exactly once; what the record costs per write.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;

use app_upgrade::domain::activity::{Actor, Origin, Provenance};
use app_upgrade::domain::{PlainSecret, Scope, Timestamp};
use app_upgrade::store::{DynamoStore, VersionStore};
use axum::Router;
use axum::body::Body;
use http::{Method, Request, StatusCode};
use integration_tests::check::version_record;
use integration_tests::faults::scan;
use integration_tests::http::{Reply, send};
use integration_tests::intercept::{NeverSent, TransactItems, with_interceptor};
use integration_tests::teams::cut_answer;
use integration_tests::{Counting, Fixture, new_token};
use lambda_http::request::RequestContext;
use serde_json::{Value, json};

const IP: &str = "203.0.113.7";
const AGENT: &str = "aau/1.0 (ci)";

/// A request as API Gateway hands it on: bearer PAT, the source IP and
/// User-Agent in the request context, a JSON body when given.
fn from_ci(
    method: Method,
    uri: &str,
    token: &PlainSecret,
    key: Option<&str>,
    body: Option<&Value>,
) -> Request<Body> {
    let mut builder = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {}", token.expose()))
        .header("user-agent", AGENT)
        // Never believed: the IP is API Gateway's.
        .header("x-forwarded-for", "198.51.100.99");
    if let Some(key) = key {
        builder = builder.header("idempotency-key", key);
    }
    let body = match body {
        Some(json) => {
            builder = builder.header("content-type", "application/json");
            Body::from(json.to_string())
        }
        None => Body::empty(),
    };
    let mut request = builder.body(body).expect("a request");
    let context = serde_json::from_value(json!({
        "http": {"method": "GET", "path": uri, "protocol": "HTTP/1.1",
                 "sourceIp": IP, "userAgent": AGENT}
    }))
    .expect("a request context");
    request
        .extensions_mut()
        .insert(RequestContext::ApiGatewayV2(context));
    request
}

fn version_body(fx: &Fixture, app_version: &str, force: bool) -> Value {
    json!({
        "project": fx.project.as_str(),
        "appName": "Wallpaper App",
        "appVersion": app_version,
        "platform": "android",
        "environment": "production",
        "forceUpgrade": force,
        "message": "Please update"
    })
}

fn activity_uri(fx: &Fixture, query: &str) -> String {
    format!(
        "/api/v1/projects/{}/activity?teamId={}{query}",
        fx.project, fx.team
    )
}

fn history_uri(fx: &Fixture, id: &str) -> String {
    format!(
        "/api/v1/projects/{}/versions/{id}/history?teamId={}",
        fx.project, fx.team
    )
}

fn restore_uri(fx: &Fixture, id: &str) -> String {
    format!(
        "/api/v1/projects/{}/versions/{id}/restore?teamId={}",
        fx.project, fx.team
    )
}

async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    token: &PlainSecret,
    body: Option<&Value>,
) -> Reply {
    send(app, from_ci(method, uri, token, None, body)).await
}

/// Every event of the fixture's project, newest first, read through the API.
async fn events(app: &Router, fx: &Fixture) -> Vec<Value> {
    let reply = call(
        app,
        Method::GET,
        &activity_uri(fx, "&limit=100"),
        &fx.read_token,
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    reply.json["results"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The items of one kind (by sort-key prefix) in the versions table.
async fn items(store: &DynamoStore, prefix: &str) -> usize {
    scan(store.client(), store.versions_table())
        .await
        .iter()
        .filter(|item| {
            item.get("sk")
                .and_then(|v| v.as_s().ok())
                .is_some_and(|sk| sk.starts_with(prefix))
        })
        .count()
}

#[tokio::test]
async fn each_write_leaves_one_event_naming_its_token_changes_and_source() {
    let fx = Fixture::new().await;
    let app = versions::app(fx.store.clone());
    let created = call(
        &app,
        Method::POST,
        &fx.collection(),
        &fx.rw_token,
        Some(&version_body(&fx, "1.0.0", false)),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let id = created.json["id"].as_str().expect("an id").to_owned();
    let updated = call(
        &app,
        Method::PATCH,
        &fx.item(&id),
        &fx.rw_token,
        Some(&version_body(&fx, "1.0.0", true)),
    )
    .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.json);
    let deleted = call(&app, Method::DELETE, &fx.item(&id), &fx.rw_token, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);

    let events = events(&app, &fx).await;
    // What the dashboard shows (`--no-capture` prints it).
    println!(
        "{}",
        serde_json::to_string_pretty(&events).unwrap_or_default()
    );
    let actions: Vec<&str> = events.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(
        actions,
        ["version.deleted", "version.updated", "version.created"]
    );
    for event in &events {
        assert_eq!(event["target"], json!({"kind": "version", "id": id}));
        assert_eq!(event["actor"]["kind"], "pat");
        assert_eq!(event["actor"]["tokenName"], "rw");
        assert_eq!(event["actor"]["userId"], fx.user.as_str());
        assert!(
            event["actor"]["tokenId"]
                .as_str()
                .is_some_and(|t| t.starts_with("tok_"))
        );
        assert_eq!(
            event["sourceIp"], IP,
            "API Gateway's IP, not X-Forwarded-For"
        );
        assert_eq!(event["userAgent"], AGENT);
        assert!(event["id"].as_str().is_some_and(|e| e.starts_with("evt_")));
        assert!(event["at"].as_str().is_some());
    }
    // The update names exactly what changed, with both values.
    assert_eq!(
        events[1]["changes"],
        json!({"forceUpgrade": {"before": false, "after": true}})
    );
    assert_eq!(
        events[2]["changes"]["appVersion"],
        json!({"before": null, "after": "1.0.0"})
    );
    assert_eq!(
        events[0]["changes"]["forceUpgrade"],
        json!({"before": true, "after": null})
    );

    // No event holds a secret, its hash or an Idempotency-Key.
    let text = serde_json::to_string(
        &scan(fx.store.client(), fx.store.versions_table())
            .await
            .iter()
            .map(|i| format!("{i:?}"))
            .collect::<Vec<_>>(),
    )
    .expect("text");
    for secret in [
        fx.rw_token.expose(),
        fx.rw_token.hash().to_hex().as_str(),
        "aau_",
    ] {
        assert!(!text.contains(secret), "a secret in the versions table");
    }

    // Reads leave nothing.
    let before = items(&fx.store, "EVENT#").await;
    call(&app, Method::GET, &fx.collection(), &fx.read_token, None).await;
    call(
        &app,
        Method::GET,
        &history_uri(&fx, &id),
        &fx.read_token,
        None,
    )
    .await;
    assert_eq!(items(&fx.store, "EVENT#").await, before);
}

#[tokio::test]
async fn an_idempotent_replay_records_nothing_new() {
    let fx = Fixture::new().await;
    let app = versions::app(fx.store.clone());
    let create = || {
        from_ci(
            Method::POST,
            &fx.collection(),
            &fx.rw_token,
            Some("release-1"),
            Some(&version_body(&fx, "2.0.0", false)),
        )
    };
    let first = send(&app, create()).await;
    assert_eq!(first.status, StatusCode::CREATED);
    let again = send(&app, create()).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(events(&app, &fx).await.len(), 1);
    // The key itself is nowhere in the event.
    let event = events(&app, &fx).await.remove(0).to_string();
    assert!(!event.contains("release-1"));
}

#[tokio::test]
async fn a_cut_or_refused_write_leaves_its_change_and_its_event_together_or_neither() {
    let fx = Fixture::new().await;
    let app = versions::app(fx.store.clone());
    // Warm the token's hourly lastUsedAt touch, so the call indexes below
    // are the request's own.
    call(&app, Method::GET, &fx.collection(), &fx.read_token, None).await;
    call(&app, Method::GET, &fx.collection(), &fx.rw_token, None).await;

    // 1. The transaction never reaches DynamoDB: neither.
    let refused = versions::app(with_interceptor(&fx.store, NeverSent));
    let reply = call(
        &refused,
        Method::POST,
        &fx.collection(),
        &fx.rw_token,
        Some(&version_body(&fx, "3.0.0", false)),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.json
    );
    assert_eq!(
        (
            items(&fx.store, "VERSION#").await,
            items(&fx.store, "EVENT#").await,
            items(&fx.store, "REVISION#").await
        ),
        (0, 0, 0)
    );

    // 2. Applied, but its answer lost (auth GetItem, access BatchGetItem,
    //    then the transaction): both.
    let cut = versions::app(cut_answer(&fx.store, 2).store);
    let reply = call(
        &cut,
        Method::POST,
        &fx.collection(),
        &fx.rw_token,
        Some(&version_body(&fx, "3.0.0", false)),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.json
    );
    assert_eq!(
        (
            items(&fx.store, "VERSION#").await,
            items(&fx.store, "EVENT#").await,
            items(&fx.store, "REVISION#").await
        ),
        (1, 1, 1)
    );

    // 3. DynamoDB refuses it (the identity is taken; a stale revision):
    //    neither.
    let dup = call(
        &app,
        Method::POST,
        &fx.collection(),
        &fx.rw_token,
        Some(&version_body(&fx, "3.0.0", true)),
    )
    .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    let id = events(&app, &fx).await[0]["target"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let current = fx
        .store
        .get_version(&fx.project, &id.parse_id())
        .await
        .expect("read")
        .expect("there");
    let by = Provenance::new(
        Actor::session(fx.user.clone(), None),
        Origin::default(),
        Timestamp::now(),
    );
    let stale = app_upgrade::domain::VersionRecord {
        revision: current.revision + 7,
        ..current.clone()
    };
    let lost = fx
        .store
        .update_version(&stale, &current, None, Some(&by))
        .await;
    assert!(lost.is_err(), "{lost:?}");
    assert_eq!(
        (
            items(&fx.store, "VERSION#").await,
            items(&fx.store, "EVENT#").await,
            items(&fx.store, "REVISION#").await
        ),
        (1, 1, 1)
    );

    // 4. An update cut after DynamoDB applied it (auth, access, version
    //    read, transaction): the change and its event, once.
    let cut = versions::app(cut_answer(&fx.store, 3).store);
    let reply = call(
        &cut,
        Method::PATCH,
        &fx.item(&id),
        &fx.rw_token,
        Some(&version_body(&fx, "3.0.0", true)),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.json
    );
    let now = fx
        .store
        .get_version(&fx.project, &id.parse_id())
        .await
        .expect("read")
        .expect("there");
    assert!(now.force_upgrade);
    let events = events(&app, &fx).await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["action"], "version.updated");
    assert_eq!(items(&fx.store, "REVISION#").await, 2);
}

trait ParseId {
    fn parse_id(&self) -> app_upgrade::domain::VersionId;
}

impl ParseId for String {
    fn parse_id(&self) -> app_upgrade::domain::VersionId {
        app_upgrade::domain::VersionId::parse(self).expect("a version id")
    }
}

#[tokio::test]
async fn another_team_sees_nothing() {
    let ours = Fixture::new().await;
    // Another team in the same tables, its member's token.
    let theirs = Fixture::on(ours.store.clone()).await;
    let app = versions::app(ours.store.clone());
    let created = call(
        &app,
        Method::POST,
        &ours.collection(),
        &ours.rw_token,
        Some(&version_body(&ours, "1.0.0", false)),
    )
    .await;
    let id = created.json["id"].as_str().expect("id").to_owned();

    let stranger = &theirs.rw_token;
    for (method, uri, body) in [
        (Method::GET, activity_uri(&ours, ""), None),
        (Method::GET, history_uri(&ours, &id), None),
        (
            Method::POST,
            restore_uri(&ours, &id),
            Some(json!({"revision": 0})),
        ),
        // Their own team id, our project: still not theirs.
        (
            Method::GET,
            format!(
                "/api/v1/projects/{}/activity?teamId={}",
                ours.project, theirs.team
            ),
            None,
        ),
    ] {
        let reply = call(&app, method, &uri, stranger, body.as_ref()).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{uri}: {}", reply.json);
        assert!(reply.json.get("results").is_none());
    }
    // Their own project's activity is empty.
    let reply = call(
        &app,
        Method::GET,
        &activity_uri(&theirs, ""),
        stranger,
        None,
    )
    .await;
    assert_eq!(reply.json, json!({"results": [], "nextCursor": null}));
}

#[tokio::test]
async fn a_restore_after_a_delete_brings_the_version_back_to_the_check() {
    let fx = Fixture::new().await;
    let app = versions::app(fx.store.clone());
    let created = call(
        &app,
        Method::POST,
        &fx.collection(),
        &fx.rw_token,
        Some(&version_body(&fx, "1.0.0", false)),
    )
    .await;
    let id = created.json["id"].as_str().expect("id").to_owned();
    call(
        &app,
        Method::PATCH,
        &fx.item(&id),
        &fx.rw_token,
        Some(&version_body(&fx, "1.0.0", true)),
    )
    .await;
    let deleted = call(&app, Method::DELETE, &fx.item(&id), &fx.rw_token, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);

    let check = || async {
        let request = Request::get(format!(
            "{}?app_name=Wallpaper+App&app_version=1.0.0&platform=android&environment=production",
            check::CHECK_PATH
        ))
        .header("x-api-key", fx.api_key.expose())
        .body(Body::empty())
        .expect("request");
        // A fresh instance: no cached answer.
        send(&check::app(fx.store.clone()), request).await.json
    };
    assert_eq!(check().await["found"], false);

    // Revisions 0 (created), 1 (updated), 2 (deleted), newest first.
    let history = call(
        &app,
        Method::GET,
        &history_uri(&fx, &id),
        &fx.read_token,
        None,
    )
    .await;
    assert_eq!(history.status, StatusCode::OK, "{}", history.json);
    let revisions: Vec<(u64, bool, bool)> = history.json["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                r["revision"].as_u64().unwrap_or(99),
                r["deleted"] == true,
                r["version"]["forceUpgrade"] == true,
            )
        })
        .collect();
    assert_eq!(
        revisions,
        [(2, true, true), (1, false, true), (0, false, false)]
    );

    // Restoring needs versions:write; the deletion itself is not a revision to restore.
    let read_only = call(
        &app,
        Method::POST,
        &restore_uri(&fx, &id),
        &fx.read_token,
        Some(&json!({"revision": 1})),
    )
    .await;
    assert_eq!(read_only.status, StatusCode::FORBIDDEN);
    let deletion = call(
        &app,
        Method::POST,
        &restore_uri(&fx, &id),
        &fx.rw_token,
        Some(&json!({"revision": 2})),
    )
    .await;
    assert_eq!(
        deletion.status,
        StatusCode::BAD_REQUEST,
        "{}",
        deletion.json
    );
    let unknown = call(
        &app,
        Method::POST,
        &restore_uri(&fx, &id),
        &fx.rw_token,
        Some(&json!({"revision": 9})),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    let restored = call(
        &app,
        Method::POST,
        &restore_uri(&fx, &id),
        &fx.rw_token,
        Some(&json!({"revision": 1})),
    )
    .await;
    assert_eq!(restored.status, StatusCode::OK, "{}", restored.json);
    assert_eq!(
        restored.json["id"],
        id.as_str(),
        "it comes back with its id"
    );
    assert_eq!(restored.json["forceUpgrade"], true);
    assert_eq!(restored.json["createdAt"], created.json["createdAt"]);
    let got = call(&app, Method::GET, &fx.item(&id), &fx.read_token, None).await;
    assert_eq!(got.status, StatusCode::OK);
    let answer = check().await;
    assert_eq!(
        (answer["found"].clone(), answer["forceUpgrade"].clone()),
        (json!(true), json!(true))
    );

    // Restore a live version to its first revision: an update, recorded as a restore.
    let back = call(
        &app,
        Method::POST,
        &restore_uri(&fx, &id),
        &fx.rw_token,
        Some(&json!({"revision": 0})),
    )
    .await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.json);
    assert_eq!(back.json["forceUpgrade"], false);
    let events = events(&app, &fx).await;
    assert_eq!(events[0]["action"], "version.restored");
    assert_eq!(events[0]["restoredRevision"], 0);
    assert_eq!(
        events[0]["changes"],
        json!({"forceUpgrade": {"before": true, "after": false}})
    );
    assert_eq!(events[1]["action"], "version.restored");
    assert_eq!(events[1]["restoredRevision"], 1);
    assert_eq!(events.len(), 5);
    let history = call(
        &app,
        Method::GET,
        &history_uri(&fx, &id),
        &fx.read_token,
        None,
    )
    .await;
    assert_eq!(history.json["results"][0]["revision"], 4);
    assert_eq!(history.json["results"][0]["action"], "version.restored");
}

#[tokio::test]
async fn a_restore_into_a_taken_identity_is_a_409_and_writes_nothing() {
    let fx = Fixture::new().await;
    let app = versions::app(fx.store.clone());
    let created = call(
        &app,
        Method::POST,
        &fx.collection(),
        &fx.rw_token,
        Some(&version_body(&fx, "1.0.0", false)),
    )
    .await;
    let id = created.json["id"].as_str().expect("id").to_owned();
    call(&app, Method::DELETE, &fx.item(&id), &fx.rw_token, None).await;
    // Another version takes the identity meanwhile.
    let other = call(
        &app,
        Method::POST,
        &fx.collection(),
        &fx.rw_token,
        Some(&version_body(&fx, "1.0.0", true)),
    )
    .await;
    assert_eq!(other.status, StatusCode::CREATED);
    let before = items(&fx.store, "EVENT#").await;
    let reply = call(
        &app,
        Method::POST,
        &restore_uri(&fx, &id),
        &fx.rw_token,
        Some(&json!({"revision": 0})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.json);
    assert_eq!(items(&fx.store, "EVENT#").await, before);
    let gone = call(&app, Method::GET, &fx.item(&id), &fx.read_token, None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    // A live version moved onto another's identity by a restore: 409 too.
    let mover = call(
        &app,
        Method::POST,
        &fx.collection(),
        &fx.rw_token,
        Some(&version_body(&fx, "1.0.0-x", false)),
    )
    .await;
    let mover_id = mover.json["id"].as_str().expect("id").to_owned();
    let patched = call(
        &app,
        Method::PATCH,
        &fx.item(&mover_id),
        &fx.rw_token,
        Some(&version_body(&fx, "9.9.9", false)),
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK);
    call(
        &app,
        Method::PATCH,
        &fx.item(other.json["id"].as_str().expect("id")),
        &fx.rw_token,
        Some(&version_body(&fx, "1.0.0-x", false)),
    )
    .await;
    let reply = call(
        &app,
        Method::POST,
        &restore_uri(&fx, &mover_id),
        &fx.rw_token,
        Some(&json!({"revision": 0})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.json);
}

#[tokio::test]
async fn bad_paging_and_restore_input_are_400s() {
    let fx = Fixture::new().await;
    let app = versions::app(fx.store.clone());
    for query in [
        "&limit=0",
        "&limit=101",
        "&limit=ten",
        "&cursor=not-a-cursor",
        "&cursor=ZXZ0Xw",
    ] {
        let reply = call(
            &app,
            Method::GET,
            &activity_uri(&fx, query),
            &fx.read_token,
            None,
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{query}: {}",
            reply.json
        );
        assert_eq!(reply.json["code"], 400);
    }
    let created = call(
        &app,
        Method::POST,
        &fx.collection(),
        &fx.rw_token,
        Some(&version_body(&fx, "1.0.0", false)),
    )
    .await;
    let id = created.json["id"].as_str().expect("id").to_owned();
    for body in [
        json!({}),
        json!({"revision": "1"}),
        json!({"revision": -1}),
        json!({"revision": 0, "id": "x"}),
    ] {
        let reply = call(
            &app,
            Method::POST,
            &restore_uri(&fx, &id),
            &fx.rw_token,
            Some(&body),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.json
        );
        assert!(
            reply.json["errors"]
                .as_array()
                .is_some_and(|e| !e.is_empty())
        );
    }
    // A version written without its record (seeded) has no revision to
    // restore; one that never existed is not found.
    let seeded = version_record(&fx.project, "Seeded", "1.0.0", "ios", "production");
    fx.store
        .create_version(&seeded, None, None)
        .await
        .expect("seeded");
    let reply = call(
        &app,
        Method::POST,
        &restore_uri(&fx, seeded.id.as_str()),
        &fx.rw_token,
        Some(&json!({"revision": 1})),
    )
    .await;
    assert_eq!(
        (reply.status, reply.json["message"].as_str()),
        (
            StatusCode::NOT_FOUND,
            Some("no such revision of this version")
        )
    );
    // A version that never existed has no history.
    let unknown = app_upgrade::domain::VersionId::generate().to_string();
    let reply = call(
        &app,
        Method::GET,
        &history_uri(&fx, &unknown),
        &fx.read_token,
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn paging_over_500_events_returns_each_once_newest_first() {
    let fx = Fixture::new().await;
    let token = new_token(&fx.store, &fx.user, "seeder", &[Scope::VersionsWrite]).await;
    let by = Provenance::new(
        Actor::pat(&token.record),
        Origin::default(),
        Timestamp::now(),
    );
    // Written in batches: the writes themselves are what the other tests
    // make; this one is about reading a long history.
    let events: Vec<_> = (0..500)
        .map(|i| {
            let v = version_record(
                &fx.project,
                "Paged",
                &format!("{i}.0.0"),
                "ios",
                "production",
            );
            let by = Provenance {
                at: Timestamp::now(),
                ..by.clone()
            };
            by.version_event(None, Some(&v)).expect("an event")
        })
        .collect();
    fx.store
        .seed_events(&fx.project, &events)
        .await
        .expect("seeded");

    let counting = Counting::new(&fx.store);
    let app = versions::app(counting.store.clone());
    call(
        &app,
        Method::GET,
        &activity_uri(&fx, "&limit=1"),
        &fx.read_token,
        None,
    )
    .await;
    let (mut seen, mut order, mut cursor, mut pages) =
        (BTreeSet::new(), Vec::new(), String::new(), 0);
    loop {
        let before = counting.calls();
        let reply = call(
            &app,
            Method::GET,
            &activity_uri(&fx, &format!("&limit=37{cursor}")),
            &fx.read_token,
            None,
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
        // auth GetItem + access BatchGetItem + one Query, whatever the length.
        assert_eq!(counting.calls() - before, 3, "page {pages}");
        pages += 1;
        for event in reply.json["results"].as_array().expect("results") {
            let id = event["id"].as_str().expect("id").to_owned();
            assert!(seen.insert(id.clone()), "{id} twice");
            order.push(id);
        }
        match reply.json["nextCursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
        assert!(pages < 30, "paging does not end");
    }
    assert_eq!(seen.len(), 500);
    let mut newest_first = order.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(order, newest_first, "newest first");
}

/// What the record costs a version write: DynamoDB calls (unchanged: the
/// event and the revision ride in the write's transaction) and items
/// written, with and without it. Prints the table the README quotes.
#[tokio::test]
async fn what_the_record_costs_per_version_write() {
    let fx = Fixture::new().await;
    let counted = TransactItems::default();
    let store = with_interceptor(&fx.store, counted.clone());
    let counting = Counting::new(&store);
    let app = versions::app(counting.store.clone());
    call(&app, Method::GET, &fx.collection(), &fx.rw_token, None).await;
    let measure = async |method: Method, uri: &str, body: Option<&Value>| {
        let (calls, items) = (counting.calls(), counted.0.load(Ordering::SeqCst));
        let reply = call(&app, method, uri, &fx.rw_token, body).await;
        assert!(reply.status.is_success(), "{}", reply.json);
        (
            reply,
            counting.calls() - calls,
            counted.0.load(Ordering::SeqCst) - items,
        )
    };
    let (created, create_calls, create_items) = measure(
        Method::POST,
        &fx.collection(),
        Some(&version_body(&fx, "1.0.0", false)),
    )
    .await;
    let id = created.json["id"].as_str().expect("id").to_owned();
    let (_, update_calls, update_items) = measure(
        Method::PATCH,
        &fx.item(&id),
        Some(&version_body(&fx, "1.0.0", true)),
    )
    .await;
    let (_, delete_calls, delete_items) = measure(Method::DELETE, &fx.item(&id), None).await;
    let (_, restore_calls, restore_items) = measure(
        Method::POST,
        &restore_uri(&fx, &id),
        Some(&json!({"revision": 1})),
    )
    .await;
    let figures = [
        ("create", create_calls, create_items),
        ("update", update_calls, update_items),
        ("delete", delete_calls, delete_items),
        ("restore deleted", restore_calls, restore_items),
    ];
    println!("calls and transaction items per write, with the record: {figures:?}");
    // What the record stores: DynamoDB bills an item by its attribute names
    // and values (here all strings and numbers).
    for prefix in ["EVENT#", "REVISION#"] {
        let sizes: Vec<usize> = scan(fx.store.client(), fx.store.versions_table())
            .await
            .iter()
            .filter(|item| {
                item.get("sk")
                    .and_then(|v| v.as_s().ok())
                    .is_some_and(|sk| sk.starts_with(prefix))
            })
            .map(|item| {
                item.iter()
                    .map(|(name, value)| {
                        name.len()
                            + value
                                .as_s()
                                .map(String::len)
                                .or_else(|_| value.as_n().map(String::len))
                                .unwrap_or(0)
                    })
                    .sum()
            })
            .collect();
        assert_eq!(sizes.len(), 4, "{prefix}");
        assert!(
            sizes.iter().all(|&size| size < 1024),
            "{prefix} items fit in one write unit: {sizes:?}"
        );
        println!("{prefix} item bytes: {sizes:?}");
    }
    // Before the record (with the listing's copy and count): create 3
    // calls / 4 items, update 4 / 3, delete 4 / 4. The record adds the
    // event and the revision to the same transaction, and no call; a
    // create (a restore of a deleted version is one) also checks that its
    // project is not being deleted.
    assert_eq!(
        figures,
        [
            ("create", 3, 7),
            ("update", 4, 5),
            ("delete", 4, 6),
            // + the history Query and the version's GetItem.
            ("restore deleted", 5, 7),
        ]
    );
}
