//! The account routes under `make run`: the `local-jwt` check in front of
//! the tokens function, against the local DynamoDB. Every way a JWT can be
//! wrong is a 401 on every account route, and only a verified JWT names the
//! account, whatever authorizer context the request arrived with.

use app_upgrade::auth::jwt::testing::{access_token, rejected_tokens, verifier};
use app_upgrade::auth::local_jwt::with_local_jwt;
use app_upgrade::domain::{Name, TeamId, Timestamp, UserId};
use app_upgrade::store::{DirectoryStore, Team};
use http::StatusCode;
use integration_tests::fresh_store;
use integration_tests::http::{Reply, send};
use integration_tests::tokens::event;
use serde_json::json;

const TOKENS: &str = "/api/v1/account/tokens";
const CREATE: &str = r#"{"name":"ci","scopes":["versions:read"]}"#;

/// A new account `sub` in a team of `app`'s tables: only members may create
/// tokens.
async fn app_with_member(sub: &str) -> axum::Router {
    let store = fresh_store().await;
    let team = Team {
        id: TeamId::generate(),
        name: Name::parse("Team").expect("valid"),
        created_at: Timestamp::now(),
    };
    store.create_team(&team).await.expect("team");
    let user = UserId::parse(sub).expect("valid");
    assert!(store.add_member(&team.id, &user).await.expect("member"));
    with_local_jwt(tokens::app(store), verifier())
}

/// A request with `token` as its bearer and, as if a client could supply
/// one, an authorizer context naming `claimed`.
fn request(
    method: &str,
    path: &str,
    token: &str,
    claimed: Option<&str>,
    body: Option<&str>,
) -> lambda_http::Request {
    let bearer = format!("Bearer {token}");
    let headers = [
        ("authorization", bearer.as_str()),
        ("content-type", "application/json"),
    ];
    event(method, path, claimed, &headers, body)
}

async fn create(app: &axum::Router, token: &str) -> Reply {
    send(app, request("POST", TOKENS, token, None, Some(CREATE))).await
}

async fn list(app: &axum::Router, token: &str, claimed: Option<&str>) -> Reply {
    send(app, request("GET", TOKENS, token, claimed, None)).await
}

#[tokio::test]
async fn a_verified_jwt_names_the_account() {
    let sub = format!("user-{}", ulid::Ulid::new());
    let app = app_with_member(&sub).await;
    let jwt = access_token(&sub, json!({}));
    let created = create(&app, &jwt).await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let listed = list(&app, &jwt, None).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.json["results"][0]["id"], created.json["id"]);
    // Another account claimed in the context: the JWT's account wins.
    let claimed = list(&app, &jwt, Some("someone-else")).await;
    assert_eq!(claimed.json["results"], listed.json["results"]);
}

#[tokio::test]
async fn every_bad_jwt_is_401_on_every_account_route() {
    let victim = format!("victim-{}", ulid::Ulid::new());
    let app = app_with_member(&victim).await;
    let jwt = access_token(&victim, json!({}));
    let created = create(&app, &jwt).await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let one = format!("{TOKENS}/{}", created.json["id"].as_str().expect("an id"));

    let mut cases = rejected_tokens(&victim);
    cases.push(("no JWT, only a claimed context", String::new()));
    for (why, token) in &cases {
        for (method, path, body) in [
            ("GET", TOKENS, None),
            ("POST", TOKENS, Some(CREATE)),
            ("DELETE", one.as_str(), None),
        ] {
            let reply = send(&app, request(method, path, token, Some(&victim), body)).await;
            assert_eq!(
                reply.status,
                StatusCode::UNAUTHORIZED,
                "{why}: {method} {path}"
            );
            assert_eq!(reply.json["code"], 401, "{why}: {method} {path}");
        }
    }
    let listed = list(&app, &jwt, None).await;
    assert_eq!(
        listed.json["results"].as_array().map(Vec::len),
        Some(1),
        "nothing changed"
    );
}
