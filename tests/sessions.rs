//! The version routes with an account session, against the local emulators:
//! real RS256 access tokens from the emulator's Cognito, verified by the
//! function against the pool's key set as in AWS, and the memberships in
//! the local DynamoDB. A session has a member's rights; everything a PAT
//! gets is unchanged beside it.

use std::sync::Arc;

use app_upgrade::auth::jwt::JwtVerifier;
use app_upgrade::domain::{Email, Name, ProjectId, Role, Scope, TeamId, Timestamp};
use app_upgrade::store::{DirectoryStore, Membership, Project, Team, TeamStore};
use axum::Router;
use axum::body::Body;
use http::{Method, Request, StatusCode, header};
use integration_tests::cognito::{Session, SignIn, claims_of, signed_by_the_emulator};
use integration_tests::http::{Reply, request, send};
use integration_tests::{Fixture, new_token};
use serde_json::{Value, json};

/// The fixture's team and project, a pool, a member's session, and the
/// function configured for that pool.
struct Api {
    fx: Fixture,
    pool: SignIn,
    member: Session,
    verifier: Arc<JwtVerifier>,
    app: Router,
}

impl Api {
    async fn new() -> Self {
        let fx = Fixture::new().await;
        let pool = SignIn::new().await;
        let member = pool.session().await;
        assert!(
            fx.store
                .add_member(&fx.team, &member.user)
                .await
                .expect("member")
        );
        let verifier = Arc::new(pool.verifier());
        let app = versions::app_with_sessions(fx.store.clone(), Arc::clone(&verifier));
        Self {
            fx,
            pool,
            member,
            verifier,
            app,
        }
    }

    async fn send(&self, method: Method, uri: &str, jwt: &str, body: Option<&Value>) -> Reply {
        send(&self.app, request(method, uri, Some(jwt), body)).await
    }

    fn body(&self, version: &str) -> Value {
        json!({
            "project": self.fx.project.as_str(),
            "appName": "Wallpaper App",
            "appVersion": version,
            "platform": "android",
            "environment": "production",
            "forceUpgrade": false,
            "message": "A new version is available.",
            "active": true
        })
    }

    /// Another team with a project of its own.
    async fn other_team(&self) -> (TeamId, ProjectId) {
        let team = Team {
            id: TeamId::generate(),
            name: Name::parse("Other Team").expect("valid"),
            created_at: Timestamp::now(),
        };
        self.fx.store.create_team(&team).await.expect("team");
        let project = Project::new(
            ProjectId::generate(),
            team.id.clone(),
            Name::parse("Other Project").expect("valid"),
            Timestamp::now(),
        );
        assert!(
            self.fx
                .store
                .create_project(&project, None)
                .await
                .expect("project")
        );
        (team.id, project.id)
    }
}

fn id_of(version: &Value) -> String {
    version["id"].as_str().expect("an id").to_owned()
}

#[tokio::test]
async fn a_members_session_lists_creates_updates_and_deletes_versions() {
    let api = Api::new().await;
    let jwt = &api.member.access_token;
    assert_eq!(
        api.verifier.fetches(),
        0,
        "no keys before the first session"
    );

    let created = api
        .send(
            Method::POST,
            &api.fx.collection(),
            jwt,
            Some(&api.body("1.0.0")),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let id = id_of(&created.json);
    assert_eq!(
        created.headers[header::LOCATION],
        api.fx.item(&id).as_str(),
        "with teamId, as for a PAT"
    );

    let listed = api.send(Method::GET, &api.fx.collection(), jwt, None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.json);
    assert_eq!(listed.json["results"][0]["id"], id.as_str());

    let mut update = api.body("1.0.0");
    update.as_object_mut().expect("an object").remove("project");
    update["forceUpgrade"] = json!(true);
    let updated = api
        .send(Method::PATCH, &api.fx.item(&id), jwt, Some(&update))
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.json);
    assert_eq!(updated.json["forceUpgrade"], true);

    let read = api.send(Method::GET, &api.fx.item(&id), jwt, None).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.json["forceUpgrade"], true);

    let deleted = api.send(Method::DELETE, &api.fx.item(&id), jwt, None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.json);
    let gone = api.send(Method::GET, &api.fx.item(&id), jwt, None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);

    // A second account of the team, many more requests: the key set was
    // fetched once, on the first session.
    let second = api.pool.session().await;
    assert!(
        api.fx
            .store
            .add_member(&api.fx.team, &second.user)
            .await
            .expect("member")
    );
    for session in [&api.member, &second].repeat(10) {
        let listed = api
            .send(
                Method::GET,
                &api.fx.collection(),
                &session.access_token,
                None,
            )
            .await;
        assert_eq!(listed.status, StatusCode::OK);
    }
    assert_eq!(api.verifier.fetches(), 1);
}

#[tokio::test]
async fn another_accounts_session_and_another_teams_ids_are_404() {
    let api = Api::new().await;
    let created = api
        .send(
            Method::POST,
            &api.fx.collection(),
            &api.member.access_token,
            Some(&api.body("1.0.0")),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = id_of(&created.json);

    // A valid session of an account in no team.
    let stranger = api.pool.session().await;
    for (method, uri, body) in [
        (Method::GET, api.fx.collection(), None),
        (Method::POST, api.fx.collection(), Some(api.body("2.0.0"))),
        (Method::GET, api.fx.item(&id), None),
        (Method::DELETE, api.fx.item(&id), None),
    ] {
        let reply = api
            .send(method.clone(), &uri, &stranger.access_token, body.as_ref())
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {uri}");
        assert_eq!(reply.json["message"], "project not found");
    }

    // The member, with another team's ids in any combination.
    let (other_team, other_project) = api.other_team().await;
    let mine = (&api.fx.team, &api.fx.project);
    for (team, project) in [
        (&other_team, &other_project),
        (mine.0, &other_project),
        (&other_team, mine.1),
    ] {
        let uri = format!("/api/v1/projects/{project}/versions?teamId={team}");
        let reply = api
            .send(Method::GET, &uri, &api.member.access_token, None)
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{uri}");
        let post = api
            .send(
                Method::POST,
                &uri,
                &api.member.access_token,
                Some(&api.body("3.0.0")),
            )
            .await;
        assert_eq!(post.status, StatusCode::NOT_FOUND, "{uri}");
    }

    // `teamId` is required of a session too.
    let uri = format!("/api/v1/projects/{}/versions", api.fx.project);
    let reply = api
        .send(Method::GET, &uri, &api.member.access_token, None)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.json);

    let listed = api
        .send(
            Method::GET,
            &api.fx.collection(),
            &api.member.access_token,
            None,
        )
        .await;
    assert_eq!(listed.json["results"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_tampered_expired_or_other_issuers_session_is_401_and_echoed_nowhere() {
    let api = Api::new().await;
    let real = &api.member.access_token;
    let claims = claims_of(real);
    let now = i64::try_from(unix_now()).expect("a sane clock");

    // The forging is sound: the real claims re-signed pass.
    let resigned = signed_by_the_emulator(&claims);
    let reply = api
        .send(Method::GET, &api.fx.collection(), &resigned, None)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);

    let (head, rest) = real.split_once('.').expect("a JWT");
    let signature = rest.split_once('.').expect("a JWT").1;
    let mut tampered_claims = claims.clone();
    tampered_claims["sub"] = json!("someone-else");
    let tampered_body = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tampered_claims.to_string())
    };
    let mut expired = claims.clone();
    expired["iat"] = json!(now - 7200);
    expired["auth_time"] = json!(now - 7200);
    expired["exp"] = json!(now - 3600);
    // Another pool of the same emulator: the same signing key, another issuer.
    let other_pool = SignIn::new().await;
    let other_issuer = other_pool.session().await.access_token;
    let cases = [
        (
            "tampered claims",
            format!("{head}.{tampered_body}.{signature}"),
        ),
        ("expired", signed_by_the_emulator(&expired)),
        ("another pool's (issuer)", other_issuer),
        ("not a JWT", "not-a-jwt".to_owned()),
        ("a JWT's header only", head.to_owned()),
    ];
    for (why, token) in &cases {
        for (method, uri, body) in [
            (Method::GET, api.fx.collection(), None),
            (Method::POST, api.fx.collection(), Some(api.body("1.0.0"))),
            (
                Method::DELETE,
                api.fx.item("01J00000000000000000000000"),
                None,
            ),
        ] {
            let reply = api.send(method.clone(), &uri, token, body.as_ref()).await;
            assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{why}: {method}");
            assert_eq!(reply.json["code"], 401, "{why}");
            let raw = String::from_utf8_lossy(&reply.raw);
            assert!(!raw.contains(token.as_str()), "{why}: echoed");
            assert!(!raw.contains(signature), "{why}: echoed");
        }
    }
    let listed = api
        .send(Method::GET, &api.fx.collection(), real, None)
        .await;
    assert_eq!(listed.json["results"], json!([]), "nothing was written");
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

#[tokio::test]
async fn a_removed_members_session_is_404_on_the_next_request() {
    let api = Api::new().await;
    let jwt = &api.member.access_token;
    let listed = api.send(Method::GET, &api.fx.collection(), jwt, None).await;
    assert_eq!(listed.status, StatusCode::OK);

    assert!(
        api.fx
            .store
            .remove_member(&api.fx.team, &api.member.user)
            .await
            .expect("removed")
    );
    let listed = api.send(Method::GET, &api.fx.collection(), jwt, None).await;
    assert_eq!(listed.status, StatusCode::NOT_FOUND, "{}", listed.json);
    let created = api
        .send(
            Method::POST,
            &api.fx.collection(),
            jwt,
            Some(&api.body("1.0.0")),
        )
        .await;
    assert_eq!(created.status, StatusCode::NOT_FOUND, "{}", created.json);
}

#[tokio::test]
async fn pats_are_answered_exactly_as_without_sessions() {
    let api = Api::new().await;
    let pats_only = versions::app(api.fx.store.clone());
    let rw = api.fx.rw_token.expose().to_owned();
    let read = api.fx.read_token.expose().to_owned();
    // Garbled: a PAT (its prefix) with a bad checksum.
    let garbled = format!("{}x", &read[..read.len() - 1]);
    let cases: Vec<(Method, String, Option<String>, Option<Value>)> = vec![
        (Method::GET, api.fx.collection(), Some(read.clone()), None),
        (
            Method::POST,
            api.fx.collection(),
            Some(read.clone()),
            Some(api.body("1.0.0")),
        ),
        (Method::GET, api.fx.collection(), Some(garbled), None),
        (
            Method::GET,
            api.fx.collection(),
            Some("aau_short".into()),
            None,
        ),
        (Method::GET, api.fx.collection(), None, None),
        (
            Method::GET,
            format!("/api/v1/projects/{}/versions", api.fx.project),
            Some(rw.clone()),
            None,
        ),
        (
            Method::GET,
            api.fx.item("01J00000000000000000000000"),
            Some(rw.clone()),
            None,
        ),
    ];
    for (method, uri, token, body) in &cases {
        let one = send(
            &api.app,
            request(method.clone(), uri, token.as_deref(), body.as_ref()),
        )
        .await;
        let other = send(
            &pats_only,
            request(method.clone(), uri, token.as_deref(), body.as_ref()),
        )
        .await;
        assert_eq!(one.status, other.status, "{method} {uri}");
        assert_eq!(one.raw, other.raw, "{method} {uri}");
        assert_eq!(one.headers, other.headers, "{method} {uri}");
    }
    let created = send(
        &api.app,
        request(
            Method::POST,
            &api.fx.collection(),
            Some(&rw),
            Some(&api.body("1.0.0")),
        ),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED);

    // And without a verifier, a session is only a malformed PAT.
    let reply = send(
        &pats_only,
        request(
            Method::GET,
            &api.fx.collection(),
            Some(&api.member.access_token),
            None,
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

/// A write with `Idempotency-Key`, as the dashboard or the aau CLI sends it.
fn keyed(uri: &str, bearer: &str, key: &str, body: &Value) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {bearer}"))
        .header(header::CONTENT_TYPE, "application/json")
        .header("idempotency-key", key)
        .body(Body::from(body.to_string()))
        .expect("valid request")
}

#[tokio::test]
async fn a_sessions_idempotency_keys_belong_to_its_account() {
    let api = Api::new().await;
    let key = ulid::Ulid::new().to_string();
    let body = api.body("1.0.0");
    let uri = api.fx.collection();
    let first = send(&api.app, keyed(&uri, &api.member.access_token, &key, &body)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.json);
    let again = send(&api.app, keyed(&uri, &api.member.access_token, &key, &body)).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(
        again.json["id"], first.json["id"],
        "replayed, not re-created"
    );

    // The same account's PAT, same key: the same receipt.
    let pat = new_token(
        &api.fx.store,
        &api.member.user,
        "ci",
        &[Scope::VersionsRead, Scope::VersionsWrite],
    )
    .await
    .secret;
    let by_pat = send(&api.app, keyed(&uri, pat.expose(), &key, &body)).await;
    assert_eq!(by_pat.json["id"], first.json["id"]);

    // Another account's same key is its own: a new version (here a
    // conflict on the same app version, not a replay).
    let by_other = send(&api.app, keyed(&uri, api.fx.rw_token.expose(), &key, &body)).await;
    assert_eq!(by_other.status, StatusCode::CONFLICT, "{}", by_other.json);

    let listed = api
        .send(Method::GET, &uri, &api.member.access_token, None)
        .await;
    assert_eq!(listed.json["results"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_sessions_version_event_names_the_member_by_the_email_they_joined_with() {
    let api = Api::new().await;
    let owner = api.pool.session().await;
    let email = Email::parse(&format!("owner-{}@example.com", owner.user.as_str())).expect("valid");
    let team = Team {
        id: TeamId::generate(),
        name: Name::parse("Emailed Team").expect("valid"),
        created_at: Timestamp::now(),
    };
    let membership = Membership {
        team_id: team.id.clone(),
        user_id: owner.user.clone(),
        email: Some(email.clone()),
        role: Role::Owner,
        joined_at: Timestamp::now(),
    };
    api.fx
        .store
        .create_team_with_owner(&team, &membership, None)
        .await
        .expect("team");
    let project = Project::new(
        ProjectId::generate(),
        team.id.clone(),
        Name::parse("Emailed Project").expect("valid"),
        Timestamp::now(),
    );
    assert!(
        api.fx
            .store
            .create_project(&project, None)
            .await
            .expect("project")
    );
    let collection = format!(
        "/api/v1/projects/{}/versions?teamId={}",
        project.id, team.id
    );
    let mut body = api.body("2.0.0");
    body["project"] = json!(project.id.as_str());
    let created = api
        .send(Method::POST, &collection, &owner.access_token, Some(&body))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);

    // The legacy member of the fixture's team, added by `sub` alone, has no
    // address to name: the event says so rather than inventing one.
    let legacy = api
        .send(
            Method::POST,
            &api.fx.collection(),
            &api.member.access_token,
            Some(&api.body("2.0.0")),
        )
        .await;
    assert_eq!(legacy.status, StatusCode::CREATED, "{}", legacy.json);

    for (project, team, jwt, expected) in [
        (
            &project.id,
            &team.id,
            &owner.access_token,
            json!(email.as_str()),
        ),
        (
            &api.fx.project,
            &api.fx.team,
            &api.member.access_token,
            Value::Null,
        ),
    ] {
        let feed = api
            .send(
                Method::GET,
                &format!("/api/v1/projects/{project}/activity?teamId={team}"),
                jwt,
                None,
            )
            .await;
        assert_eq!(feed.status, StatusCode::OK, "{}", feed.json);
        let actor = &feed.json["results"][0]["actor"];
        assert_eq!(actor["kind"], "session", "{}", feed.json);
        assert_eq!(actor["email"], expected, "{}", feed.json);
    }
}
