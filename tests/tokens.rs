//! Integration tests of the `tokens` function against the local DynamoDB:
//! every status of the token admin routes, create → use → revoke → 401,
//! atomic self-rotation, expiry, `lastUsedAt` throttling, the fixture events
//! under `infra/events/`, and that no secret ever reaches the logs.

use app_upgrade::auth::{LAST_USED_GRANULARITY_MS, authenticate_pat, authenticate_request};
use app_upgrade::domain::{Name, PlainSecret, Scope, SecretKind, TeamId, Timestamp, UserId};
use app_upgrade::store::{
    Credential, CredentialStore, DirectoryStore, DynamoStore, Team, TokenStore,
};
use aws_sdk_dynamodb::types::AttributeValue;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http::StatusCode;
use integration_tests::http::{Reply, bearer, send};
use integration_tests::tokens::{LogCapture, bearer_event, event, json_event, stored_token};
use integration_tests::{Counting, Fixture, fresh_store};
use serde_json::{Value, json};

const TOKENS: &str = "/api/v1/account/tokens";
const ROTATE: &str = "/api/v1/account/tokens/self/rotate";
const DAY_MS: i64 = 86_400_000;
/// The longest any wait of these tests may take before it fails.
const WAIT: Duration = Duration::from_secs(30);

fn user(name: &str) -> UserId {
    UserId::parse(&format!("{name}-{}", ulid::Ulid::new())).expect("valid")
}

/// A new account that is a member of a new team: only members may create
/// tokens.
async fn member(store: &DynamoStore, name: &str) -> UserId {
    let owner = user(name);
    let team = Team {
        id: TeamId::generate(),
        name: Name::parse("Team").expect("valid"),
        created_at: Timestamp::now(),
    };
    store.create_team(&team).await.expect("team");
    assert!(store.add_member(&team.id, &owner).await.expect("member"));
    owner
}

async fn create(app: &axum::Router, sub: &UserId, body: Value) -> Reply {
    send(
        app,
        json_event("POST", TOKENS, Some(sub.as_str()), &body.to_string()),
    )
    .await
}

/// Creates a `versions:read` token named `name`.
async fn create_read(app: &axum::Router, sub: &UserId, name: &str) -> Reply {
    create(app, sub, json!({"name": name, "scopes": ["versions:read"]})).await
}

async fn list(app: &axum::Router, sub: &UserId) -> Vec<Value> {
    let reply = send(app, event("GET", TOKENS, Some(sub.as_str()), &[], None)).await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    reply.json["results"].as_array().expect("results").clone()
}

async fn revoke(app: &axum::Router, sub: &UserId, id: &str) -> Reply {
    send(
        app,
        event(
            "DELETE",
            &format!("{TOKENS}/{id}"),
            Some(sub.as_str()),
            &[],
            None,
        ),
    )
    .await
}

fn token_of(reply: &Reply) -> PlainSecret {
    let token = reply.json["token"].as_str().expect("a token");
    PlainSecret::parse(SecretKind::Pat, token).expect("a well-formed token")
}

async fn is_live(store: &DynamoStore, token: &PlainSecret) -> Result<(), StatusCode> {
    authenticate_request(store, &bearer(token.expose()), Timestamp::now())
        .await
        .map(|_| ())
        .map_err(|e| e.status())
}

/// Every attribute value of every item in the tokens table, as text.
async fn tokens_table_text(store: &DynamoStore) -> String {
    let items = store
        .client()
        .scan()
        .table_name(store.tokens_table())
        .send()
        .await
        .expect("scan")
        .items
        .unwrap_or_default();
    format!("{items:?}")
}

async fn account_items(store: &DynamoStore, owner: &UserId) -> Vec<String> {
    let items = store
        .client()
        .query()
        .table_name(store.tokens_table())
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(
            ":pk",
            AttributeValue::S(format!("ACCOUNT#{}", owner.as_str())),
        )
        .consistent_read(true)
        .send()
        .await
        .expect("query")
        .items
        .unwrap_or_default();
    let mut sks: Vec<String> = items
        .iter()
        .filter_map(|i| i.get("sk")?.as_s().ok().cloned())
        .collect();
    sks.sort();
    sks
}

#[tokio::test]
async fn create_returns_the_token_once_and_stores_only_its_hash() {
    let store = fresh_store().await;
    let app = tokens::app(store.clone());
    let owner = member(&store, "creator").await;
    let before = Timestamp::now();
    let reply = create_read(&app, &owner, "  GitHub Actions production ").await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    assert_eq!(reply.headers["cache-control"], "no-store");
    let body = &reply.json;
    assert_eq!(body["name"], "GitHub Actions production");
    assert_eq!(body["scopes"], json!(["versions:read"]));
    assert!(body["id"].as_str().is_some_and(|id| id.starts_with("tok_")));
    let created = Timestamp::parse(body["createdAt"].as_str().expect("createdAt")).expect("ts");
    let expires = Timestamp::parse(body["expiresAt"].as_str().expect("expiresAt")).expect("ts");
    assert!(created >= before);
    assert_eq!(expires.unix_millis() - created.unix_millis(), 90 * DAY_MS);
    let token = token_of(&reply);

    let Some(Credential::Pat(record)) = store.get_credential(&token.hash()).await.expect("read")
    else {
        panic!("the credential is stored under the token's hash");
    };
    assert_eq!(record.owner, owner);
    assert_eq!(record.token_id.as_str(), body["id"]);
    assert_eq!(record.expires_at, expires);
    let stored = tokens_table_text(&store).await;
    assert!(stored.contains(&token.hash().to_hex()));
    assert!(
        !stored.contains(&token.expose()[4..]),
        "no plaintext is stored"
    );

    let reply = create(
        &app,
        &owner,
        json!({"name": "short", "scopes": ["versions:write", "versions:read"], "expiresInDays": 1}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(
        reply.json["scopes"],
        json!(["versions:read", "versions:write"])
    );
}

#[tokio::test]
async fn bad_create_requests_are_4xx_json() {
    let store = fresh_store().await;
    let app = tokens::app(store.clone());
    let owner = member(&store, "bad").await;
    let sub = Some(owner.as_str());

    let reply = create(
        &app,
        &owner,
        json!({"name": "", "scopes": ["versions:admin"], "expiresInDays": 400, "owner": "x"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let fields: Vec<&str> = reply.json["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["owner", "name", "scopes", "expiresInDays"]);
    assert_eq!(reply.json["code"], 400);

    for (headers, body, want) in [
        (
            vec![],
            Some(r#"{"name":"a","scopes":["versions:read"]}"#),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            vec![("content-type", "text/plain")],
            Some("name=a"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            vec![("content-type", "application/json")],
            Some("{not json"),
            StatusCode::BAD_REQUEST,
        ),
        (
            vec![("content-type", "application/json")],
            Some("[1]"),
            StatusCode::BAD_REQUEST,
        ),
        (
            vec![("content-type", "application/json")],
            None,
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let reply = send(&app, event("POST", TOKENS, sub, &headers, body)).await;
        assert_eq!(reply.status, want, "{headers:?} {body:?}");
        assert_eq!(reply.json["code"], want.as_u16());
    }
    let huge = json!({"name": "a", "scopes": ["versions:read"], "pad": "x".repeat(10_000)});
    let reply = create(&app, &owner, huge).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);

    let reply = send(&app, event("PUT", TOKENS, sub, &[], None)).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(list(&app, &owner).await.is_empty(), "nothing was created");
}

#[tokio::test]
async fn names_are_unique_among_an_accounts_live_tokens() {
    let store = fresh_store().await;
    let app = tokens::app(store.clone());
    let (alice, bob) = (member(&store, "alice").await, member(&store, "bob").await);
    let body = json!({"name": "CI", "scopes": ["versions:read"]});
    assert_eq!(
        create(&app, &alice, body.clone()).await.status,
        StatusCode::CREATED
    );
    let reply = create(
        &app,
        &alice,
        json!({"name": "ci ", "scopes": ["versions:write"]}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{reply:?}");
    assert_eq!(create(&app, &bob, body).await.status, StatusCode::CREATED);

    // An expired token's name is free again.
    stored_token(
        &store,
        &alice,
        "old",
        &[Scope::VersionsRead],
        1,
        Timestamp::now().plus_days(-5),
    )
    .await;
    let reply = create_read(&app, &alice, "OLD").await;
    assert_eq!(reply.status, StatusCode::CREATED);
}

#[tokio::test]
async fn account_routes_trust_only_the_authorizer_claims() {
    let store = fresh_store().await;
    let app = tokens::app(store.clone());
    let owner = member(&store, "owner").await;
    let created = create_read(&app, &owner, "ci").await;
    let id = created.json["id"].as_str().expect("id").to_owned();

    let no_claims = [
        json_event(
            "POST",
            TOKENS,
            None,
            r#"{"name":"x","scopes":["versions:read"]}"#,
        ),
        event("GET", TOKENS, None, &[("x-user-id", owner.as_str())], None),
        event("DELETE", &format!("{TOKENS}/{id}"), None, &[], None),
        // A PAT is not an account session.
        bearer_event("GET", TOKENS, token_of(&created).expose()),
    ];
    for request in no_claims {
        let reply = send(&app, request).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{reply:?}");
        assert_eq!(reply.json["code"], 401);
    }
    assert_eq!(list(&app, &owner).await.len(), 1, "nothing changed");
}

#[tokio::test]
async fn list_shows_only_the_accounts_tokens_without_secrets() {
    let store = fresh_store().await;
    let app = tokens::app(store.clone());
    let (owner, other) = (member(&store, "owner").await, member(&store, "other").await);
    let first = create_read(&app, &owner, "first").await;
    let second = create(
        &app,
        &owner,
        json!({"name": "second", "scopes": ["versions:read", "versions:write"], "expiresInDays": 7}),
    )
    .await;
    let theirs = create_read(&app, &other, "theirs").await;
    let expired = stored_token(
        &store,
        &owner,
        "expired",
        &[Scope::VersionsWrite],
        1,
        Timestamp::now().plus_days(-3),
    )
    .await;

    let results = list(&app, &owner).await;
    let names: Vec<&str> = results.iter().filter_map(|t| t["name"].as_str()).collect();
    assert_eq!(
        names,
        ["expired", "second", "first"],
        "newest first, expired included"
    );
    let token = token_of(&second);
    let entry = &results[1];
    let expose = token.expose();
    assert_eq!(
        entry,
        &json!({
            "id": second.json["id"],
            "name": "second",
            "scopes": ["versions:read", "versions:write"],
            "createdAt": second.json["createdAt"],
            "expiresAt": second.json["expiresAt"],
            "lastUsedAt": null,
            "lastUsedIp": null,
            "lastReplayAt": null,
            "lastReplayIp": null,
            "hint": format!("aau_…{}", &expose[expose.len() - 4..]),
        })
    );
    assert_eq!(
        results[0]["expiresAt"],
        expired.record.expires_at.to_string()
    );
    let text = Value::Array(results.clone()).to_string();
    for secret in [&token, &token_of(&first), &expired.secret] {
        assert!(!text.contains(&secret.expose()[4..20]));
        assert!(!text.contains(&secret.hash().to_hex()));
    }
    assert!(!text.contains(theirs.json["id"].as_str().expect("id")));

    // A use shows up as lastUsedAt.
    let before = Timestamp::now();
    assert_eq!(is_live(&store, &token).await, Ok(()));
    let results = list(&app, &owner).await;
    let used = Timestamp::parse(results[1]["lastUsedAt"].as_str().expect("set")).expect("ts");
    assert!(used >= before);
    assert_eq!(results[2]["lastUsedAt"], Value::Null);
}

#[tokio::test]
async fn create_use_revoke_then_401() {
    let store = fresh_store().await;
    let app = tokens::app(store.clone());
    let (owner, other) = (member(&store, "owner").await, member(&store, "other").await);
    let created = create_read(&app, &owner, "ci").await;
    let token = token_of(&created);
    let id = created.json["id"].as_str().expect("id");
    assert_eq!(is_live(&store, &token).await, Ok(()));

    // Another account cannot see or revoke it.
    assert_eq!(revoke(&app, &other, id).await.status, StatusCode::NOT_FOUND);
    assert_eq!(is_live(&store, &token).await, Ok(()));

    let reply = revoke(&app, &owner, id).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(reply.json, Value::Null);
    assert_eq!(is_live(&store, &token).await, Err(StatusCode::UNAUTHORIZED));
    assert_eq!(revoke(&app, &owner, id).await.status, StatusCode::NOT_FOUND);
    for junk in [
        "nope",
        "tok_",
        "self",
        "tok_01JDQ0000000000000000000AA",
        "%FF",
    ] {
        let reply = revoke(&app, &owner, junk).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{junk}");
        assert_eq!(reply.json["code"], 404);
    }
    assert!(list(&app, &owner).await.is_empty());
    assert!(
        account_items(&store, &owner).await.is_empty(),
        "entry and name lock are gone"
    );
    // The name is free again.
    let again = create_read(&app, &owner, "CI").await;
    assert_eq!(again.status, StatusCode::CREATED);
}

#[tokio::test]
async fn revoking_an_expired_token_keeps_its_names_new_owner() {
    let store = fresh_store().await;
    let app = tokens::app(store.clone());
    let owner = member(&store, "owner").await;
    let old = stored_token(
        &store,
        &owner,
        "ci",
        &[Scope::VersionsRead],
        1,
        Timestamp::now().plus_days(-5),
    )
    .await;
    let new = create_read(&app, &owner, "ci").await;
    assert_eq!(new.status, StatusCode::CREATED);

    let reply = revoke(&app, &owner, old.record.token_id.as_str()).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert_eq!(
        store
            .get_credential(&old.secret.hash())
            .await
            .expect("read"),
        None
    );
    assert_eq!(is_live(&store, &token_of(&new)).await, Ok(()));
    let dup = create_read(&app, &owner, "ci").await;
    assert_eq!(
        dup.status,
        StatusCode::CONFLICT,
        "the new token still holds the name"
    );
}

#[tokio::test]
async fn self_rotation_swaps_the_secret_and_keeps_the_token() {
    let store = fresh_store().await;
    let app = tokens::app(store.clone());
    let owner = member(&store, "ci").await;
    let created = create(
        &app,
        &owner,
        json!({"name": "deploy", "scopes": ["versions:read", "versions:write"], "expiresInDays": 30}),
    )
    .await;
    let old = token_of(&created);

    let reply = send(&app, bearer_event("POST", ROTATE, old.expose())).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    assert_eq!(reply.headers["cache-control"], "no-store");
    let new = token_of(&reply);
    assert_ne!(new, old);
    // One identity for the token's whole life, and no extension of it.
    for field in ["id", "name", "scopes", "createdAt", "expiresAt"] {
        assert_eq!(reply.json[field], created.json[field], "{field}");
    }

    assert_eq!(is_live(&store, &new).await, Ok(()));
    let results = list(&app, &owner).await;
    assert_eq!(results.len(), 1, "no second token: {results:?}");
    assert_eq!(results[0]["id"], created.json["id"]);
    let expose = new.expose();
    assert_eq!(
        results[0]["hint"],
        format!("aau_…{}", &expose[expose.len() - 4..])
    );
    assert!(results[0]["lastUsedAt"].is_string(), "rotation is a use");
    let id = created.json["id"].as_str().expect("id");
    assert_eq!(
        account_items(&store, &owner).await,
        [format!("TOKEN#{id}"), "TOKENNAME#deploy".to_owned()]
    );
    let dup = create_read(&app, &owner, "Deploy").await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "the token keeps its name");

    // Rotating again keeps going with the same identity.
    let third = send(&app, bearer_event("POST", ROTATE, new.expose())).await;
    assert_eq!(third.status, StatusCode::CREATED, "{third:?}");
    assert_eq!(third.json["id"], created.json["id"]);
    assert_eq!(third.json["expiresAt"], created.json["expiresAt"]);

    // The id the owner listed before any rotation still revokes it.
    assert_eq!(
        revoke(&app, &owner, id).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        is_live(&store, &token_of(&third)).await,
        Err(StatusCode::UNAUTHORIZED)
    );
    assert!(account_items(&store, &owner).await.is_empty());
}

#[tokio::test]
async fn presenting_a_rotated_away_secret_revokes_the_token() {
    let store = fresh_store().await;
    let app = tokens::app(store.clone());
    let owner = member(&store, "owner").await;
    let created = create_read(&app, &owner, "leaked").await;
    let stolen = token_of(&created);
    let rotated = send(&app, bearer_event("POST", ROTATE, stolen.expose())).await;
    assert_eq!(rotated.status, StatusCode::CREATED);
    let current = token_of(&rotated);
    assert_eq!(is_live(&store, &current).await, Ok(()));

    // The old secret again, on any PAT route: 401, and the current secret
    // dies with it — whoever holds it.
    let reuse = authenticate_request(&store, &bearer(stolen.expose()), Timestamp::now())
        .await
        .expect_err("a rotated-away secret");
    assert_eq!(reuse.status(), StatusCode::UNAUTHORIZED);
    assert!(reuse.message().contains("revoked"), "{}", reuse.message());
    assert!(!reuse.message().contains(&stolen.expose()[4..]));
    assert_eq!(
        is_live(&store, &current).await,
        Err(StatusCode::UNAUTHORIZED)
    );
    assert!(list(&app, &owner).await.is_empty());
    assert!(account_items(&store, &owner).await.is_empty());
    let again = send(&app, bearer_event("POST", ROTATE, current.expose())).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    // Through the rotation route too, and the name is free again.
    let second = create_read(&app, &owner, "leaked").await;
    assert_eq!(second.status, StatusCode::CREATED);
    let next = send(
        &app,
        bearer_event("POST", ROTATE, token_of(&second).expose()),
    )
    .await;
    assert_eq!(next.status, StatusCode::CREATED);
    let reused = send(
        &app,
        bearer_event("POST", ROTATE, token_of(&second).expose()),
    )
    .await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reused.json["code"], 401);
    assert_eq!(
        is_live(&store, &token_of(&next)).await,
        Err(StatusCode::UNAUTHORIZED)
    );
}

#[tokio::test]
async fn concurrent_rotations_of_one_secret_leave_at_most_one_live() {
    let store = fresh_store().await;
    let app = tokens::app(store.clone());
    let owner = member(&store, "ci").await;
    let created = create_read(&app, &owner, "race").await;
    let old = token_of(&created);
    let (a, b, c) = tokio::join!(
        send(&app, bearer_event("POST", ROTATE, old.expose())),
        send(&app, bearer_event("POST", ROTATE, old.expose())),
        send(&app, bearer_event("POST", ROTATE, old.expose())),
    );
    let replies = [a, b, c];
    let winners: Vec<&Reply> = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .collect();
    assert_eq!(winners.len(), 1, "{replies:?}");
    let losers: Vec<&Reply> = replies
        .iter()
        .filter(|r| r.status != StatusCode::CREATED)
        .collect();
    for loser in &losers {
        assert!(
            [StatusCode::CONFLICT, StatusCode::UNAUTHORIZED].contains(&loser.status),
            "{loser:?}"
        );
    }
    // A loser that read the secret before the winner committed lost the
    // transaction (409); one that read it after presented a rotated-away
    // secret (401), which revokes the token.
    let winner = is_live(&store, &token_of(winners[0])).await;
    if losers.iter().any(|r| r.status == StatusCode::UNAUTHORIZED) {
        assert_eq!(winner, Err(StatusCode::UNAUTHORIZED));
        assert!(list(&app, &owner).await.is_empty());
    } else {
        assert_eq!(winner, Ok(()), "{replies:?}");
        let results = list(&app, &owner).await;
        assert_eq!(results.len(), 1, "{results:?}");
        assert_eq!(results[0]["id"], created.json["id"]);
    }
    // The old secret is rotated away either way; presenting it now is a
    // reuse, and takes the winner's secret with it.
    assert_eq!(is_live(&store, &old).await, Err(StatusCode::UNAUTHORIZED));
    assert_eq!(
        is_live(&store, &token_of(winners[0])).await,
        Err(StatusCode::UNAUTHORIZED)
    );
}

/// The issue's attack: a thief with a leaked PAT rotates in a loop while the
/// owner revokes the id they listed. The owner must win every time, at
/// once, and the thief's latest secret must be dead by their next request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_outruns_an_attackers_rotation_loop() {
    let store = fresh_store().await;
    let app = tokens::app(store.clone());
    let owner = member(&store, "victim").await;
    for round in 0..20 {
        let created = create_read(&app, &owner, &format!("leaked-{round}")).await;
        assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
        let id = created.json["id"].as_str().expect("id").to_owned();
        let leaked = token_of(&created);
        let stop = Arc::new(AtomicBool::new(false));
        let rotated = Arc::new(AtomicUsize::new(0));

        let attacker = {
            let (app, stop, rotated) = (app.clone(), stop.clone(), rotated.clone());
            tokio::spawn(async move {
                let mut latest = leaked;
                while !stop.load(Ordering::SeqCst) {
                    let reply = send(&app, bearer_event("POST", ROTATE, latest.expose())).await;
                    match reply.status {
                        StatusCode::CREATED => {
                            latest = token_of(&reply);
                            rotated.fetch_add(1, Ordering::SeqCst);
                        }
                        // Lost to the revocation: the token is gone.
                        StatusCode::CONFLICT | StatusCode::UNAUTHORIZED => break,
                        // An overloaded emulator timed the call out: a
                        // client retries, with the secret it holds.
                        StatusCode::SERVICE_UNAVAILABLE => {}
                        other => panic!("rotation answered {other}: {reply:?}"),
                    }
                }
                latest
            })
        };
        // The owner acts mid-loop, with the id listed before any rotation.
        // Bounded: an attacker that stopped (or panicked) never rotates again.
        let head_start = 1 + round % 4;
        let deadline = Instant::now() + WAIT;
        while rotated.load(Ordering::SeqCst) < head_start {
            assert!(
                !attacker.is_finished(),
                "round {round}: the attacker stopped after {} rotations: {:?}",
                rotated.load(Ordering::SeqCst),
                attacker.await
            );
            assert!(
                Instant::now() < deadline,
                "round {round}: {head_start} rotations did not happen within {WAIT:?}"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // An overloaded emulator may time a call out: a 503 is retried as a
        // client would, and a 404 after it means the 503'd attempt did land.
        let mut revoked = revoke(&app, &owner, &id).await;
        let mut unavailable = 0;
        while revoked.status == StatusCode::SERVICE_UNAVAILABLE && unavailable < 3 {
            unavailable += 1;
            revoked = revoke(&app, &owner, &id).await;
        }
        assert!(
            revoked.status == StatusCode::NO_CONTENT
                || (unavailable > 0 && revoked.status == StatusCode::NOT_FOUND),
            "round {round}: the owner's revoke of the listed id must succeed: {revoked:?}"
        );
        // Within one request: whatever the attacker holds now is dead.
        stop.store(true, Ordering::SeqCst);
        let latest = tokio::time::timeout(WAIT, attacker)
            .await
            .unwrap_or_else(|_| panic!("round {round}: the attacker did not stop within {WAIT:?}"))
            .expect("attacker task");
        let rotations = rotated.load(Ordering::SeqCst);
        eprintln!("round {round}: the attacker rotated {rotations} times, then lost");
        assert_eq!(
            is_live(&store, &latest).await,
            Err(StatusCode::UNAUTHORIZED),
            "round {round}: the attacker kept a live token after {rotations} rotations"
        );
        let after = send(&app, bearer_event("POST", ROTATE, latest.expose())).await;
        assert_eq!(after.status, StatusCode::UNAUTHORIZED, "round {round}");
        assert!(list(&app, &owner).await.is_empty(), "round {round}");
    }
}

#[tokio::test]
async fn revoke_all_revokes_every_token_of_the_account_only() {
    let store = fresh_store().await;
    let app = tokens::app(store.clone());
    let (owner, other) = (member(&store, "owner").await, member(&store, "other").await);
    let mut secrets = Vec::new();
    for name in ["a", "b", "c"] {
        secrets.push(token_of(&create_read(&app, &owner, name).await));
    }
    let rotated = send(&app, bearer_event("POST", ROTATE, secrets[0].expose())).await;
    secrets[0] = token_of(&rotated);
    let expired = stored_token(
        &store,
        &owner,
        "expired",
        &[Scope::VersionsRead],
        1,
        Timestamp::now().plus_days(-3),
    )
    .await;
    let theirs = token_of(&create_read(&app, &other, "theirs").await);

    let all = send(
        &app,
        event("DELETE", TOKENS, Some(owner.as_str()), &[], None),
    )
    .await;
    assert_eq!(all.status, StatusCode::OK, "{all:?}");
    assert_eq!(all.json, json!({"revoked": 4}));
    assert_eq!(all.headers["cache-control"], "no-store");
    for secret in secrets.iter().chain([&expired.secret]) {
        assert_eq!(is_live(&store, secret).await, Err(StatusCode::UNAUTHORIZED));
    }
    assert!(list(&app, &owner).await.is_empty());
    assert!(account_items(&store, &owner).await.is_empty());
    assert_eq!(is_live(&store, &theirs).await, Ok(()));
    assert_eq!(list(&app, &other).await.len(), 1);

    let none = send(
        &app,
        event("DELETE", TOKENS, Some(owner.as_str()), &[], None),
    )
    .await;
    assert_eq!(none.json, json!({"revoked": 0}));
    let anonymous = send(&app, event("DELETE", TOKENS, None, &[], None)).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn rotation_needs_a_live_pat() {
    let fx = Fixture::new().await;
    let app = tokens::app(fx.store.clone());
    let expired = stored_token(
        &fx.store,
        &fx.user,
        "expired",
        &[Scope::VersionsRead],
        1,
        Timestamp::now().plus_days(-2),
    )
    .await;
    let stranger = PlainSecret::generate(SecretKind::Pat).expect("random");
    let good = fx.rw_token.expose();
    let damaged = format!(
        "{}{}",
        &good[..41],
        if good.ends_with('a') { 'b' } else { 'a' }
    );
    for request in [
        event("POST", ROTATE, None, &[], None),
        event("POST", ROTATE, Some(fx.user.as_str()), &[], None),
        bearer_event("POST", ROTATE, "aau_short"),
        bearer_event("POST", ROTATE, &damaged),
        bearer_event("POST", ROTATE, stranger.expose()),
        bearer_event("POST", ROTATE, expired.secret.expose()),
        bearer_event("POST", ROTATE, fx.api_key.expose()),
    ] {
        let reply = send(&app, request).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{reply:?}");
    }
    let reply = send(&app, event("GET", ROTATE, None, &[], None)).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(list(&app, &fx.user).await.len(), 3, "nothing rotated");
}

#[tokio::test]
async fn expiry_is_enforced_on_every_request() {
    let store = fresh_store().await;
    let owner = member(&store, "owner").await;
    let now = Timestamp::now();
    let expired = stored_token(
        &store,
        &owner,
        "expired",
        &[Scope::VersionsRead],
        1,
        now.plus_days(-1).plus_millis(-1),
    )
    .await;
    let err = authenticate_pat(&store, &expired.secret, now)
        .await
        .expect_err("expired");
    assert_eq!(err.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(err.message(), "token has expired");

    // A live token stops working the moment it expires.
    let live = stored_token(&store, &owner, "live", &[Scope::VersionsRead], 1, now).await;
    let at_expiry = live.record.expires_at;
    assert!(
        authenticate_pat(&store, &live.secret, at_expiry.plus_millis(-1))
            .await
            .is_ok()
    );
    let err = authenticate_pat(&store, &live.secret, at_expiry)
        .await
        .expect_err("expired at expiresAt");
    assert_eq!(err.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn last_used_is_written_at_most_once_an_hour() {
    let store = fresh_store().await;
    let counting = Counting::new(&store);
    let owner = member(&store, "owner").await;
    let t0 = Timestamp::now();
    let pat = stored_token(&store, &owner, "ci", &[Scope::VersionsRead], 30, t0).await;
    let last_used = || async {
        match store
            .get_credential(&pat.secret.hash())
            .await
            .expect("read")
        {
            Some(Credential::Pat(record)) => record.last_used_at,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(last_used().await, None);

    // First use: one write. More uses within the hour: none.
    authenticate_pat(&counting.store, &pat.secret, t0)
        .await
        .expect("live");
    assert_eq!(last_used().await, Some(t0));
    for minutes in [1, 30, 59] {
        authenticate_pat(
            &counting.store,
            &pat.secret,
            t0.plus_millis(minutes * 60_000),
        )
        .await
        .expect("live");
    }
    assert_eq!(counting.touches(), 1);
    assert_eq!(
        counting.calls(),
        4,
        "every request is still exactly one read"
    );
    assert_eq!(last_used().await, Some(t0));

    // An hour later the next use writes again.
    let t1 = t0.plus_millis(LAST_USED_GRANULARITY_MS + 1);
    authenticate_pat(&counting.store, &pat.secret, t1)
        .await
        .expect("live");
    assert_eq!(counting.touches(), 2);
    assert_eq!(last_used().await, Some(t1));

    // The write is conditional: a stale view (two instances deciding at the
    // same time) does not write twice, and a revoked token is not recreated.
    let cutoff = t1.plus_millis(-LAST_USED_GRANULARITY_MS);
    assert_eq!(
        store
            .touch_last_used(&pat.secret.hash(), t1.plus_millis(5), cutoff, None)
            .await,
        Ok(false)
    );
    assert_eq!(last_used().await, Some(t1));
    assert!(
        store
            .revoke_token(&owner, &pat.record.token_id, None)
            .await
            .expect("revoke")
    );
    assert_eq!(
        store
            .touch_last_used(&pat.secret.hash(), t1.plus_days(1), t1, None)
            .await,
        Ok(false)
    );
    assert_eq!(
        store
            .get_credential(&pat.secret.hash())
            .await
            .expect("read"),
        None
    );
}

#[tokio::test]
async fn a_failing_last_used_write_does_not_fail_the_request() {
    let store = fresh_store().await;
    let owner = member(&store, "owner").await;
    let pat = stored_token(
        &store,
        &owner,
        "ci",
        &[Scope::VersionsRead],
        30,
        Timestamp::now(),
    )
    .await;
    // Same tables, but a client whose writes cannot reach DynamoDB: reads
    // go through `store`, the touch through `broken`.
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url("http://127.0.0.1:9")
        .load()
        .await;
    let broken = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        &app_upgrade::Config {
            versions_table: store.versions_table().to_owned(),
            tokens_table: store.tokens_table().to_owned(),
        },
    );
    let split = ReadsFrom {
        reads: store.clone(),
        writes: broken,
    };
    let started = std::time::Instant::now();
    authenticate_pat(&split, &pat.secret, Timestamp::now())
        .await
        .expect("the request succeeds without its lastUsedAt write");
    assert_eq!(
        store
            .get_credential(&pat.secret.hash())
            .await
            .expect("read"),
        Some(Credential::Pat(pat.record.clone())),
        "nothing was written"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

/// Reads from one store and touches through another.
struct ReadsFrom {
    reads: DynamoStore,
    writes: DynamoStore,
}

impl CredentialStore for ReadsFrom {
    async fn get_credential(
        &self,
        hash: &app_upgrade::domain::SecretHash,
    ) -> Result<Option<Credential>, app_upgrade::store::StoreError> {
        self.reads.get_credential(hash).await
    }

    async fn touch_last_used(
        &self,
        hash: &app_upgrade::domain::SecretHash,
        now: Timestamp,
        cutoff: Timestamp,
        source: Option<std::net::IpAddr>,
    ) -> Result<bool, app_upgrade::store::StoreError> {
        self.writes.touch_last_used(hash, now, cutoff, source).await
    }

    async fn revoke_reused(
        &self,
        owner: &UserId,
        token: &app_upgrade::domain::TokenId,
        origin: &app_upgrade::domain::activity::Origin,
    ) -> Result<bool, app_upgrade::store::StoreError> {
        self.reads.revoke_reused(owner, token, origin).await
    }
}

#[tokio::test]
async fn fixture_events_drive_every_route() {
    let store = fresh_store().await;
    let app = tokens::app(store.clone());
    let fixture = |text: &str| lambda_http::request::from_str(text).expect("a valid v2 event");
    let demo = UserId::parse("demo-user").expect("valid");
    let team = Team {
        id: TeamId::generate(),
        name: Name::parse("Demo").expect("valid"),
        created_at: Timestamp::now(),
    };
    store.create_team(&team).await.expect("team");
    assert!(store.add_member(&team.id, &demo).await.expect("member"));

    let created = send(
        &app,
        fixture(include_str!("../infra/events/tokens-create.json")),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    assert_eq!(created.json["name"], "GitHub Actions production");
    let again = send(
        &app,
        fixture(include_str!("../infra/events/tokens-create.json")),
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let anonymous = send(
        &app,
        fixture(include_str!("../infra/events/tokens-create-no-claims.json")),
    )
    .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    let listed = send(
        &app,
        fixture(include_str!("../infra/events/tokens-list.json")),
    )
    .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.json["results"][0]["id"], created.json["id"]);

    let rotate = include_str!("../infra/events/tokens-rotate.json");
    let placeholder = send(&app, fixture(rotate)).await;
    assert_eq!(placeholder.status, StatusCode::UNAUTHORIZED);
    let token = token_of(&created);
    let rotated = send(
        &app,
        fixture(&rotate.replace("aau_REPLACE_WITH_A_TOKEN", token.expose())),
    )
    .await;
    assert_eq!(rotated.status, StatusCode::CREATED, "{rotated:?}");

    let revoke = include_str!("../infra/events/tokens-revoke.json");
    let unknown = send(&app, fixture(revoke)).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let id = rotated.json["id"].as_str().expect("id");
    let revoked = send(
        &app,
        fixture(&revoke.replace("tok_01JDQ0000000000000000000AA", id)),
    )
    .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert!(store.list_tokens(&demo).await.expect("list").is_empty());
}

#[tokio::test]
async fn no_secret_reaches_the_logs() {
    let fx = Fixture::new().await;
    let app = tokens::app(fx.store.clone());
    let (logs, _guard) = LogCapture::start();
    let mut secrets = vec![
        fx.rw_token.clone(),
        fx.read_token.clone(),
        fx.api_key.clone(),
    ];

    let created = create_read(&app, &fx.user, "logged").await;
    assert_eq!(created.status, StatusCode::CREATED);
    let token = token_of(&created);
    secrets.push(token.clone());
    assert_eq!(is_live(&fx.store, &token).await, Ok(()));
    assert_eq!(is_live(&fx.store, &fx.rw_token).await, Ok(()));
    list(&app, &fx.user).await;
    let rotated = send(&app, bearer_event("POST", ROTATE, token.expose())).await;
    assert_eq!(rotated.status, StatusCode::CREATED);
    let first = token_of(&rotated);
    secrets.push(first.clone());
    // A keyed rotation and its replay (the sealed answer opened with the
    // old secret): neither secret, nor the answer, is logged.
    let keyed = || {
        event(
            "POST",
            ROTATE,
            None,
            &[
                ("authorization", &format!("Bearer {}", first.expose())),
                ("idempotency-key", "rotate-logged"),
            ],
            None,
        )
    };
    let rotated = send(&app, keyed()).await;
    assert_eq!(rotated.status, StatusCode::CREATED);
    let replayed = send(&app, keyed()).await;
    assert_eq!(replayed.json["token"], rotated.json["token"]);
    let new = token_of(&rotated);
    secrets.push(new.clone());
    // Error paths: malformed, wrong checksum, revoked, an API key as a PAT.
    let good = new.expose();
    let damaged = format!(
        "{}{}",
        &good[..41],
        if good.ends_with('a') { 'b' } else { 'a' }
    );
    for bad in [
        "aau_short".to_owned(),
        damaged,
        fx.api_key.expose().to_owned(),
    ] {
        let reply = send(&app, bearer_event("POST", ROTATE, &bad)).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    }
    let id = rotated.json["id"].as_str().expect("id");
    assert_eq!(
        revoke(&app, &fx.user, id).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        is_live(&fx.store, &new).await,
        Err(StatusCode::UNAUTHORIZED)
    );
    // The rotated-away secret, presented again (after the revocation, so
    // the test's own revoke above still finds the token).
    let reused = send(&app, bearer_event("POST", ROTATE, token.expose())).await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED);

    let text = logs.text();
    // The capture saw the flows, or the assertions below prove nothing.
    for expected in [
        "token created",
        "token rotated",
        "token revoked",
        "rotated-away token presented",
        "token authenticated",
        "/api/v1/account/tokens/self/rotate",
    ] {
        assert!(
            text.contains(expected),
            "no {expected:?} in the logs:\n{text}"
        );
    }
    for secret in &secrets {
        let s = secret.expose();
        // Hints show the last 4 characters; 5 would be a leak. Any longer
        // suffix contains the 5-character one.
        let suffix = &s[s.len() - 5..];
        assert!(!text.contains(suffix), "a token suffix was logged:\n{text}");
        // Nor any 8-character piece of the random part (5 would collide
        // with ordinary log text by chance).
        for window in s.as_bytes()[4..].windows(8) {
            let window = std::str::from_utf8(window).expect("ascii");
            assert!(
                !text.contains(window),
                "a piece of a secret was logged:\n{text}"
            );
        }
        assert!(!text.contains(&secret.hash().to_hex()));
    }
}

#[tokio::test]
async fn only_team_members_may_create_tokens() {
    let store = fresh_store().await;
    let app = tokens::app(store.clone());
    let outsider = user("outsider");
    let reply = create_read(&app, &outsider, "mine").await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{reply:?}");
    assert_eq!(reply.json["code"], 403);
    assert!(
        reply.json["message"]
            .as_str()
            .is_some_and(|m| m.contains("no team")),
        "{reply:?}"
    );
    assert!(account_items(&store, &outsider).await.is_empty());

    // Joining a team allows it; leaving every team stops it again.
    let team = Team {
        id: TeamId::generate(),
        name: Name::parse("Joined").expect("valid"),
        created_at: Timestamp::now(),
    };
    store.create_team(&team).await.expect("team");
    assert!(store.add_member(&team.id, &outsider).await.expect("add"));
    assert_eq!(store.teams_of(&outsider).await, Ok(vec![team.id.clone()]));
    assert_eq!(
        create_read(&app, &outsider, "mine").await.status,
        StatusCode::CREATED
    );
    assert!(
        store
            .remove_member(&team.id, &outsider)
            .await
            .expect("remove")
    );
    assert_eq!(store.teams_of(&outsider).await, Ok(vec![]));
    assert_eq!(
        create_read(&app, &outsider, "second").await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn an_account_holds_at_most_the_cap_of_live_tokens() {
    let store = fresh_store().await;
    let app = tokens::app_with(
        store.clone(),
        tokens::Limits {
            max_tokens_per_account: 3,
        },
    );
    let owner = member(&store, "hoarder").await;
    // Expired tokens do not count.
    stored_token(
        &store,
        &owner,
        "expired",
        &[Scope::VersionsRead],
        1,
        Timestamp::now().plus_days(-3),
    )
    .await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let reply = create_read(&app, &owner, &format!("t{n}")).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
        ids.push(reply.json["id"].as_str().expect("id").to_owned());
    }
    let full = create_read(&app, &owner, "one-too-many").await;
    assert_eq!(full.status, StatusCode::CONFLICT, "{full:?}");
    let message = full.json["message"].as_str().expect("message");
    assert!(
        message.contains('3') && message.contains("live tokens"),
        "{message}"
    );
    assert_eq!(list(&app, &owner).await.len(), 4);

    // Rotation is not a new token; a revoke frees a slot.
    let other = member(&store, "other").await;
    assert_eq!(
        create_read(&app, &other, "t0").await.status,
        StatusCode::CREATED,
        "the cap is per account"
    );
    assert_eq!(
        revoke(&app, &owner, &ids[0]).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        create_read(&app, &owner, "after-revoke").await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        store
            .count_live_tokens(&owner, Timestamp::now())
            .await
            .expect("count"),
        3
    );
}

/// Memberships added before the by-user items existed: `aau-admin member
/// backfill` (this store call) writes them, and their members may create
/// tokens from then on.
#[tokio::test]
async fn memberships_from_before_the_by_user_items_are_backfilled() {
    let store = fresh_store().await;
    let app = tokens::app(store.clone());
    let legacy = user("legacy");
    let team = Team {
        id: TeamId::generate(),
        name: Name::parse("Old").expect("valid"),
        created_at: Timestamp::now(),
    };
    store.create_team(&team).await.expect("team");
    // The team-side item alone, as add_member wrote it before.
    store
        .client()
        .put_item()
        .table_name(store.versions_table())
        .item("pk", AttributeValue::S(format!("TEAM#{}", team.id)))
        .item(
            "sk",
            AttributeValue::S(format!("MEMBER#{}", legacy.as_str())),
        )
        .item("teamId", AttributeValue::S(team.id.to_string()))
        .item("userId", AttributeValue::S(legacy.as_str().to_owned()))
        .send()
        .await
        .expect("legacy membership");
    assert_eq!(
        create_read(&app, &legacy, "ci").await.status,
        StatusCode::FORBIDDEN
    );
    assert!(store.backfill_member_of().await.expect("backfill") >= 1);
    assert_eq!(store.teams_of(&legacy).await, Ok(vec![team.id.clone()]));
    assert_eq!(
        create_read(&app, &legacy, "ci").await.status,
        StatusCode::CREATED
    );
    // Idempotent.
    store.backfill_member_of().await.expect("again");
    assert_eq!(store.teams_of(&legacy).await, Ok(vec![team.id]));
}
