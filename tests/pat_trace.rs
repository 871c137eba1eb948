//! Issue 24: what a PAT's holder and its owner see of the token's use,
//! against the local DynamoDB. Every answer to an identified PAT carries its
//! expiry (`Aau-Token-Expires-At`), errors included; the token list shows
//! where the last use came from (`lastUsedIp`, written by the same
//! throttled write as `lastUsedAt`); a rotation's replay is recorded for the
//! owner with its source address (`lastReplayAt`, `lastReplayIp`); and
//! forged tokens cost the rotation route what they cost any other (finding 2).

use std::time::Instant;

use app_upgrade::auth::UNKNOWN_PAT_TTL_MS;
use app_upgrade::domain::{
    PlainSecret, Scope, Scopes, SecretKind, Timestamp, TokenLimits, UserId, issue_pat,
};
use app_upgrade::store::{Credential, CredentialStore, CredentialWriter, DynamoStore};
use axum::body::Body;
use http::{Method, Request, StatusCode};
use integration_tests::http::{Reply, request, send};
use integration_tests::tokens::{bearer_event, event, from_ip};
use integration_tests::{Counting, Fixture};
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::request::RequestContext;
use serde_json::{Value, json};

const TOKENS: &str = "/api/v1/account/tokens";
const ROTATE: &str = "/api/v1/account/tokens/self/rotate";
const EXPIRES_AT: &str = "aau-token-expires-at";
const REPLAYED: &str = "idempotent-replayed";

/// `request` as API Gateway hands it over when it came from `ip`.
fn sent_from(mut request: Request<Body>, ip: &str) -> Request<Body> {
    let context: ApiGatewayV2httpRequestContext = serde_json::from_value(json!({
        "http": {"method": request.method().as_str(), "path": request.uri().path(),
                 "protocol": "HTTP/1.1", "sourceIp": ip, "userAgent": "tests"}
    }))
    .expect("a valid request context");
    request
        .extensions_mut()
        .insert(RequestContext::ApiGatewayV2(context));
    request
}

async fn expiry_of(store: &DynamoStore, token: &PlainSecret) -> String {
    match store.get_credential(&token.hash()).await.expect("read") {
        Some(Credential::Pat(record)) => record.expires_at.to_string(),
        other => panic!("not a live token: {other:?}"),
    }
}

async fn list(app: &axum::Router, owner: &UserId) -> Vec<Value> {
    let reply = send(app, event("GET", TOKENS, Some(owner.as_str()), &[], None)).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    reply.json["results"].as_array().expect("results").clone()
}

async fn entry(app: &axum::Router, owner: &UserId, name: &str) -> Value {
    list(app, owner)
        .await
        .into_iter()
        .find(|t| t["name"] == name)
        .expect("listed")
}

fn header<'r>(reply: &'r Reply, name: &str) -> Option<&'r str> {
    reply.headers.get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn every_answer_to_an_identified_pat_carries_its_expiry() {
    let fx = Fixture::new().await;
    let versions = versions::app(fx.store.clone());
    let tokens = tokens::app(fx.store.clone());
    let rw = fx.rw_token.expose();
    let read = fx.read_token.expose();
    let rw_expiry = expiry_of(&fx.store, &fx.rw_token).await;
    let read_expiry = expiry_of(&fx.store, &fx.read_token).await;
    let unknown_version = fx.item("ver_01JDQ0000000000000000000AA");
    let without_team = format!("/api/v1/projects/{}/versions", fx.project);
    let bad_body = json!({"appName": ""});
    let cases = [
        (
            "list",
            request(Method::GET, &fx.collection(), Some(rw), None),
            StatusCode::OK,
            &rw_expiry,
        ),
        (
            "unknown version",
            request(Method::GET, &unknown_version, Some(rw), None),
            StatusCode::NOT_FOUND,
            &rw_expiry,
        ),
        (
            "no teamId",
            request(Method::GET, &without_team, Some(rw), None),
            StatusCode::BAD_REQUEST,
            &rw_expiry,
        ),
        (
            "bad body",
            request(Method::POST, &fx.collection(), Some(rw), Some(&bad_body)),
            StatusCode::BAD_REQUEST,
            &rw_expiry,
        ),
        (
            "no scope",
            request(Method::POST, &fx.collection(), Some(read), Some(&bad_body)),
            StatusCode::FORBIDDEN,
            &read_expiry,
        ),
    ];
    for (what, request, status, expiry) in cases {
        let reply = send(&versions, request).await;
        assert_eq!(reply.status, status, "{what}: {reply:?}");
        assert_eq!(header(&reply, EXPIRES_AT), Some(expiry.as_str()), "{what}");
        Timestamp::parse(expiry).expect("RFC 3339");
    }

    // A token nobody holds, or none at all: nothing to tell.
    let forged = PlainSecret::generate(SecretKind::Pat).expect("randomness");
    for token in [Some(forged.expose()), None] {
        let reply = send(
            &versions,
            request(Method::GET, &fx.collection(), token, None),
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert_eq!(header(&reply, EXPIRES_AT), None);
    }

    // Self-rotation: the same token, so the same expiry.
    let rotated = send(&tokens, bearer_event("POST", ROTATE, read)).await;
    assert_eq!(rotated.status, StatusCode::CREATED, "{rotated:?}");
    assert_eq!(header(&rotated, EXPIRES_AT), Some(read_expiry.as_str()));
    assert_eq!(rotated.json["expiresAt"], read_expiry.as_str());

    // The account's own routes answer a session, not a PAT.
    let listed = send(
        &tokens,
        event("GET", TOKENS, Some(fx.user.as_str()), &[], None),
    )
    .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(header(&listed, EXPIRES_AT), None);
}

/// The address rides on the hourly `lastUsedAt` write: no extra call, and
/// the call count of a PAT request is what it was (auth `GetItem`, access
/// `BatchGetItem`, the list's `Query`).
#[tokio::test]
async fn the_token_list_shows_where_the_last_use_came_from_at_no_extra_cost() {
    let fx = Fixture::new().await;
    let counting = Counting::new(&fx.store);
    let versions = versions::app(counting.store.clone());
    let tokens = tokens::app(fx.store.clone());
    let rw = fx.rw_token.expose();
    assert_eq!(
        entry(&tokens, &fx.user, "rw").await["lastUsedIp"],
        Value::Null
    );

    let list_from =
        |ip: &str| sent_from(request(Method::GET, &fx.collection(), Some(rw), None), ip);
    let (calls, touches) = (counting.calls(), counting.touches());
    let reply = send(&versions, list_from("203.0.113.9")).await;
    assert_eq!(reply.status, StatusCode::OK);
    let first = (counting.calls() - calls, counting.touches() - touches);
    let listed = entry(&tokens, &fx.user, "rw").await;
    assert_eq!(listed["lastUsedIp"], "203.0.113.9");
    assert!(listed["lastUsedAt"].is_string());

    // Within the hour, a use from elsewhere writes nothing, as before.
    let (calls, touches) = (counting.calls(), counting.touches());
    let reply = send(&versions, list_from("2001:db8::7")).await;
    assert_eq!(reply.status, StatusCode::OK);
    let warm = (counting.calls() - calls, counting.touches() - touches);
    println!(
        "DynamoDB calls of a PAT list (calls, lastUsedAt writes): first use {first:?}, warm {warm:?}"
    );
    // The address rides on the hourly lastUsedAt write: the first use
    // writes once, a warm one not at all, and neither reads more.
    assert_eq!(first.1, 1);
    assert_eq!(warm.1, 0);
    assert_eq!(first.0, warm.0);

    // A token limited to the project reads its limits with its credential:
    // its list costs what the unlimited token's does.
    let limited = issue_pat(
        fx.user.clone(),
        "limited".into(),
        Scopes::new([Scope::VersionsRead]).expect("non-empty"),
        1,
        Timestamp::now(),
    )
    .expect("randomness")
    .limited(TokenLimits::new(Some(vec![fx.project.clone()]), None));
    fx.store.create_pat(&limited, None).await.expect("stored");
    let limited_list = || {
        request(
            Method::GET,
            &fx.collection(),
            Some(limited.secret.expose()),
            None,
        )
    };
    assert_eq!(send(&versions, limited_list()).await.status, StatusCode::OK);
    let calls = counting.calls();
    assert_eq!(send(&versions, limited_list()).await.status, StatusCode::OK);
    assert_eq!(
        counting.calls() - calls,
        warm.0,
        "a limited token's list costs no call more"
    );
    assert_eq!(
        entry(&tokens, &fx.user, "rw").await["lastUsedIp"],
        "203.0.113.9"
    );

    // A rotation is a use: its address is kept with its time.
    let rotated = send(
        &tokens,
        from_ip(bearer_event("POST", ROTATE, rw), "2001:db8::7"),
    )
    .await;
    assert_eq!(rotated.status, StatusCode::CREATED);
    let before = Timestamp::parse(listed["lastUsedAt"].as_str().expect("set")).expect("ts");
    let listed = entry(&tokens, &fx.user, "rw").await;
    assert_eq!(listed["lastUsedIp"], "2001:db8::7");
    let at = Timestamp::parse(listed["lastUsedAt"].as_str().expect("set")).expect("ts");
    assert!(at >= before);
}

/// Finding 1, the owner's side: whoever gets a rotation's answer again (the
/// owner's CI retrying, or someone else holding the old secret and the key)
/// leaves a trace on the token, with the address, and a later rotation
/// keeps it.
#[tokio::test]
async fn a_rotation_replay_is_recorded_for_the_owner_with_its_source() {
    let fx = Fixture::new().await;
    let tokens = tokens::app(fx.store.clone());
    let old = fx.rw_token.expose().to_owned();
    let keyed = |ip: &str| {
        let auth = format!("Bearer {old}");
        from_ip(
            event(
                "POST",
                ROTATE,
                None,
                &[("authorization", &auth), ("idempotency-key", "rotate-4242")],
                None,
            ),
            ip,
        )
    };
    let first = send(&tokens, keyed("192.0.2.10")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
    assert_eq!(header(&first, REPLAYED), None);
    let listed = entry(&tokens, &fx.user, "rw").await;
    assert_eq!(
        (&listed["lastReplayAt"], &listed["lastReplayIp"]),
        (&Value::Null, &Value::Null)
    );
    assert_eq!(listed["lastUsedIp"], "192.0.2.10");

    let before = Timestamp::now();
    let replay = send(&tokens, keyed("198.51.100.66")).await;
    assert_eq!(replay.status, StatusCode::CREATED, "{replay:?}");
    assert_eq!(header(&replay, REPLAYED), Some("true"));
    assert_eq!(replay.json["token"], first.json["token"]);
    assert_eq!(
        header(&replay, EXPIRES_AT),
        first.json["expiresAt"].as_str(),
        "a replay tells the expiry too"
    );
    let listed = entry(&tokens, &fx.user, "rw").await;
    assert_eq!(listed["lastReplayIp"], "198.51.100.66");
    let at = Timestamp::parse(listed["lastReplayAt"].as_str().expect("set")).expect("ts");
    assert!(at >= before);

    // The next rotation (with the new secret, which ends the replays)
    // updates the token's entry and leaves the trace where it is.
    let new = first.json["token"].as_str().expect("token");
    let next = send(
        &tokens,
        from_ip(bearer_event("POST", ROTATE, new), "192.0.2.10"),
    )
    .await;
    assert_eq!(next.status, StatusCode::CREATED);
    let listed = entry(&tokens, &fx.user, "rw").await;
    assert_eq!(listed["lastReplayIp"], "198.51.100.66");
    assert_eq!(
        listed["hint"],
        format!("aau_…{}", &next.json["token"].as_str().expect("t")[38..])
    );
}

/// Finding 2: a rotation with an `Idempotency-Key` read its receipt before
/// the unknown-token memory was consulted, so a forged token with a valid
/// checksum cost a read on every request. Now the first request costs its
/// receipt and credential reads, and repeats cost nothing for
/// `UNKNOWN_PAT_TTL_MS`.
#[tokio::test]
async fn forged_tokens_cost_the_rotation_route_reads_per_period_not_per_request() {
    const REQUESTS: usize = 200;
    let fx = Fixture::new().await;
    let counting = Counting::new(&fx.store);
    let tokens = tokens::app(counting.store.clone());
    let forged = PlainSecret::generate(SecretKind::Pat).expect("randomness");
    let auth = format!("Bearer {}", forged.expose());
    let started = Instant::now();
    for n in 0..REQUESTS {
        let key = format!("key-{n}");
        let reply = send(
            &tokens,
            event(
                "POST",
                ROTATE,
                None,
                &[("authorization", &auth), ("idempotency-key", &key)],
                None,
            ),
        )
        .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{reply:?}");
    }
    let periods = 1 + started.elapsed().as_millis() / u128::from(UNKNOWN_PAT_TTL_MS.unsigned_abs());
    let calls = counting.calls();
    println!(
        "{REQUESTS} forged rotations: {calls} DynamoDB calls in {:?}",
        started.elapsed()
    );
    assert!(
        calls as u128 <= 2 * periods,
        "{calls} calls for {REQUESTS} requests over {periods} period(s)"
    );
}
