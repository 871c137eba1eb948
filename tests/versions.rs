//! The Versions API against the local DynamoDB: every row of the contract
//! through the router, the store's uniqueness and optimistic concurrency
//! under real concurrency, round trips per request, and API Gateway v2
//! event fixtures.

use std::collections::BTreeSet;

use app_upgrade::domain::{
    Name, PlainSecret, ProjectId, Scope, SecretKind, TeamId, Timestamp, UserId, VersionId,
    VersionRecord,
};
use app_upgrade::store::{
    DirectoryStore, DynamoStore, Project, StoreError, Team, TokenStore, VersionStore,
};
use axum::Router;
use http::{Method, StatusCode};
use integration_tests::http::{Reply, request, send};
use integration_tests::versions::fixture_event;
use integration_tests::{Counting, Fixture, new_token};
use serde_json::{Value, json};
use versions::body::{Intent, VersionFields};

struct Api {
    fx: Fixture,
    app: Router,
}

impl Api {
    async fn new() -> Self {
        let fx = Fixture::new().await;
        let app = versions::app(fx.store.clone());
        Self { fx, app }
    }

    async fn send(
        &self,
        method: Method,
        uri: &str,
        token: &PlainSecret,
        body: Option<&Value>,
    ) -> Reply {
        send(&self.app, request(method, uri, Some(token.expose()), body)).await
    }

    async fn create(&self, body: &Value) -> Reply {
        self.send(
            Method::POST,
            &self.fx.collection(),
            &self.fx.rw_token,
            Some(body),
        )
        .await
    }

    /// Creates and returns the new version's JSON; panics unless 201.
    async fn created(&self, body: &Value) -> Value {
        let answer = self.create(body).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.json);
        answer.json
    }

    async fn list(&self, query: &str) -> Reply {
        let uri = format!("{}&{query}", self.fx.collection());
        self.send(Method::GET, &uri, &self.fx.read_token, None)
            .await
    }

    fn body(&self, app: &str, version: &str) -> Value {
        json!({
            "project": self.fx.project.as_str(),
            "appName": app,
            "appVersion": version,
            "platform": "android",
            "environment": "production",
            "forceUpgrade": false,
            "message": "A new version is available.",
            "active": true
        })
    }
}

fn id_of(version: &Value) -> String {
    version["id"].as_str().expect("an id").to_owned()
}

// ---- the version object, create, get, update, delete ----

#[tokio::test]
async fn create_returns_201_the_version_and_its_location() {
    let api = Api::new().await;
    let mut body = api.body("  Wallpaper App ", "1.0.0");
    body["platform"] = json!("Android");
    body["environment"] = json!("PRODUCTION");
    body["messageLocale"] = json!({"fr": "Une nouvelle version est disponible."});
    body["customAttributes"] = json!({"country": ["US", "CA"], "os_version": "12"});
    body["internalNotes"] = json!("never sent to apps");
    let answer = api.create(&body).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.json);
    let v = &answer.json;
    let keys: BTreeSet<&str> = v
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "id",
            "project",
            "appName",
            "appVersion",
            "platform",
            "environment",
            "forceUpgrade",
            "message",
            "messageLocale",
            "customAttributes",
            "internalNotes",
            "active",
            "createdAt",
            "updatedAt"
        ]),
        "exactly the contract's version object"
    );
    assert_eq!(v["appName"], "Wallpaper App");
    assert_eq!(v["platform"], "android");
    assert_eq!(v["environment"], "production");
    assert_eq!(v["project"], api.fx.project.as_str());
    assert_eq!(v["customAttributes"]["country"], json!(["US", "CA"]));
    assert_eq!(v["createdAt"], v["updatedAt"]);
    assert!(VersionId::parse(&id_of(v)).is_ok());
    assert_eq!(
        answer.headers["content-type"], "application/json",
        "JSON content type"
    );

    let location = answer.headers["location"].to_str().expect("ASCII");
    assert_eq!(location, api.fx.item(&id_of(v)));
    let got = api
        .send(Method::GET, location, &api.fx.read_token, None)
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(&got.json, v, "GET returns what create returned");
}

#[tokio::test]
async fn optional_fields_default_and_range_rules_are_accepted() {
    let api = Api::new().await;
    for rule in [
        "<2.0.0",
        ">=1.0.0, <1.4.0",
        "^1.2",
        "~1.2.3",
        "1.2",
        "3",
        "1.0.0+5",
        "2.1.0-beta.1",
    ] {
        let v = api
            .created(&json!({
                "project": api.fx.project.as_str(),
                "appName": "App",
                "appVersion": rule,
                "platform": "ios",
                "environment": "staging",
                "forceUpgrade": true
            }))
            .await;
        assert_eq!(v["appVersion"], rule);
        assert_eq!(
            (&v["message"], &v["active"], &v["internalNotes"]),
            (&json!(""), &json!(true), &json!(""))
        );
        assert_eq!(v["messageLocale"], json!({}));
        assert_eq!(v["customAttributes"], json!({}));
    }
    for bad in ["not a version", "=>1.0", "1.x", ">2, <1", "", "1.0 || 2.0"] {
        let answer = api.create(&api.body("App", bad)).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(answer.error_fields(), ["appVersion"], "{bad}");
    }
}

#[tokio::test]
async fn validation_reports_every_field_at_once() {
    let api = Api::new().await;
    let answer = api
        .create(&json!({
            "appName": "   ",
            "appVersion": "1.0.0",
            "platform": "p".repeat(33),
            "forceUpgrade": "no",
            "message": 7,
            "internalNotes": "n".repeat(2001),
            "id": "01JDQ00000000000000000000",
            "createdAt": "2026-11-30T10:00:00Z",
            "updatedAt": "2026-11-30T10:00:00Z",
            "teamId": api.fx.team.as_str(),
            "revision": 9,
            "unexpected": true
        }))
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.json["code"], 400);
    let fields: BTreeSet<String> = answer.error_fields().into_iter().collect();
    let want: BTreeSet<String> = [
        "project",
        "appName",
        "platform",
        "environment",
        "forceUpgrade",
        "message",
        "internalNotes",
        "id",
        "createdAt",
        "updatedAt",
        "teamId",
        "revision",
        "unexpected",
    ]
    .map(str::to_owned)
    .into();
    assert_eq!(fields, want, "{}", answer.json);
    for e in answer.json["errors"].as_array().expect("errors") {
        if ["id", "createdAt", "teamId"].contains(&e["field"].as_str().unwrap_or_default()) {
            assert_eq!(e["message"], "is read-only");
        }
    }

    let mut wrong_project = api.body("App", "1.0.0");
    wrong_project["project"] = json!(ProjectId::generate().as_str());
    let answer = api.create(&wrong_project).await;
    assert_eq!(answer.error_fields(), ["project"]);

    let mut too_many = api.body("App", "1.0.0");
    too_many["customAttributes"] =
        Value::Object((0..21).map(|i| (format!("attr{i}"), json!("x"))).collect());
    too_many["messageLocale"] = json!({"fr": "x".repeat(1001), "not a tag": "x"});
    let answer = api.create(&too_many).await;
    assert_eq!(
        answer.error_fields(),
        [
            "messageLocale.fr",
            "messageLocale.not a tag",
            "customAttributes"
        ]
    );
    let list = api.list("limit=100").await;
    assert_eq!(list.json["totalResults"], 0, "nothing was written");
}

#[tokio::test]
async fn bodies_that_are_not_json_get_400_413_415_never_500() {
    let api = Api::new().await;
    let uri = api.fx.collection();
    let post = |content_type: Option<&'static str>, body: Vec<u8>| {
        let mut builder = http::Request::builder()
            .method(Method::POST)
            .uri(&uri)
            .header(
                "authorization",
                format!("Bearer {}", api.fx.rw_token.expose()),
            );
        if let Some(ct) = content_type {
            builder = builder.header("content-type", ct);
        }
        send(
            &api.app,
            builder.body(axum::body::Body::from(body)).expect("request"),
        )
    };
    let body = api.body("App", "1.0.0").to_string().into_bytes();
    assert_eq!(
        post(None, body.clone()).await.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(
        post(Some("text/plain"), body.clone()).await.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(
        post(Some("application/json; charset=utf-8"), body)
            .await
            .status,
        StatusCode::CREATED
    );
    let huge = format!(r#"{{"appName": "{}"}}"#, "x".repeat(70_000)).into_bytes();
    let answer = post(Some("application/json"), huge).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.json["code"], 413);
    for bad in [
        &b"{"[..],
        b"",
        b"[1,2]",
        b"\"x\"",
        b"{\"appName\": }",
        b"\xff\xfe",
    ] {
        let answer = post(Some("application/json"), bad.to_vec()).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{bad:?}");
        assert_eq!(answer.json["code"], 400);
    }
}

#[tokio::test]
async fn duplicates_are_409_and_deleting_frees_the_identity() {
    let api = Api::new().await;
    let first = api.created(&api.body("Wallpaper App", "1.0.0")).await;
    let mut same = api.body("Wallpaper App", " 1.0.0 ");
    same["platform"] = json!("ANDROID");
    let answer = api.create(&same).await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.json);
    assert_eq!(answer.json["code"], 409);

    // Any part of the identity differing makes another version.
    let mut ios = api.body("Wallpaper App", "1.0.0");
    ios["platform"] = json!("ios");
    api.created(&ios).await;
    api.created(&api.body("Wallpaper App", "1.0.1")).await;
    api.created(&api.body("wallpaper app", "1.0.0")).await;

    let deleted = api
        .send(
            Method::DELETE,
            &api.fx.item(&id_of(&first)),
            &api.fx.rw_token,
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(deleted.raw.is_empty(), "204 has an empty body");
    let again = api.created(&api.body("Wallpaper App", "1.0.0")).await;
    assert_ne!(id_of(&again), id_of(&first));

    let gone = api
        .send(
            Method::GET,
            &api.fx.item(&id_of(&first)),
            &api.fx.read_token,
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let twice = api
        .send(
            Method::DELETE,
            &api.fx.item(&id_of(&first)),
            &api.fx.rw_token,
            None,
        )
        .await;
    assert_eq!(twice.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn update_replaces_the_required_set_and_rejects_partials_and_collisions() {
    let api = Api::new().await;
    let mut create = api.body("Wallpaper App", "1.0.0");
    create["customAttributes"] = json!({"country": "US"});
    let v = api.created(&create).await;
    let other = api.created(&api.body("Wallpaper App", "2.0.0")).await;
    let uri = api.fx.item(&id_of(&v));

    // The seed's update body: the required set without `project`.
    let update = json!({
        "appName": "Wallpaper App",
        "appVersion": "1.0.0",
        "platform": "android",
        "environment": "production",
        "forceUpgrade": true,
        "message": "Please update to continue using the app.",
        "active": true
    });
    let answer = api
        .send(Method::PATCH, &uri, &api.fx.rw_token, Some(&update))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    let updated = &answer.json;
    assert_eq!(updated["forceUpgrade"], true);
    assert_eq!(
        updated["message"],
        "Please update to continue using the app."
    );
    assert_eq!(updated["id"], v["id"]);
    assert_eq!(updated["createdAt"], v["createdAt"]);
    assert!(updated["updatedAt"].as_str() >= v["updatedAt"].as_str());
    assert_eq!(
        updated["customAttributes"],
        json!({"country": "US"}),
        "absent optional fields are kept"
    );
    let got = api.send(Method::GET, &uri, &api.fx.read_token, None).await;
    assert_eq!(&got.json, updated);

    let partial = api
        .send(
            Method::PATCH,
            &uri,
            &api.fx.rw_token,
            Some(&json!({"forceUpgrade": false})),
        )
        .await;
    assert_eq!(partial.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        partial.error_fields(),
        ["appName", "appVersion", "platform", "environment"]
    );

    let mut with_project = update.clone();
    with_project["project"] = json!(api.fx.project.as_str());
    with_project["customAttributes"] = Value::Null;
    let answer = api
        .send(Method::PATCH, &uri, &api.fx.rw_token, Some(&with_project))
        .await;
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "the create body may be reused"
    );
    assert_eq!(answer.json["customAttributes"], json!({}), "null clears");
    with_project["project"] = json!(ProjectId::generate().as_str());
    let answer = api
        .send(Method::PATCH, &uri, &api.fx.rw_token, Some(&with_project))
        .await;
    assert_eq!(answer.error_fields(), ["project"]);

    let mut collide = update.clone();
    collide["appVersion"] = json!("2.0.0");
    let answer = api
        .send(Method::PATCH, &uri, &api.fx.rw_token, Some(&collide))
        .await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.json);
    let unchanged = api.send(Method::GET, &uri, &api.fx.read_token, None).await;
    assert_eq!(unchanged.json["appVersion"], "1.0.0");
    let other_now = api
        .send(
            Method::GET,
            &api.fx.item(&id_of(&other)),
            &api.fx.read_token,
            None,
        )
        .await;
    assert_eq!(other_now.json, other);

    // Moving to a free identity frees the old one.
    let mut moved = update.clone();
    moved["appVersion"] = json!("1.1.0");
    let answer = api
        .send(Method::PATCH, &uri, &api.fx.rw_token, Some(&moved))
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    api.created(&api.body("Wallpaper App", "1.0.0")).await;
    let answer = api.create(&api.body("Wallpaper App", "1.1.0")).await;
    assert_eq!(answer.status, StatusCode::CONFLICT);

    let unknown = api.fx.item(&VersionId::generate().to_string());
    let answer = api
        .send(Method::PATCH, &unknown, &api.fx.rw_token, Some(&update))
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
}

// ---- authentication, scopes, teams ----

#[tokio::test]
async fn credentials_are_checked_first_and_damaged_tokens_cost_no_read() {
    let api = Api::new().await;
    let counting = Counting::new(&api.fx.store);
    let app = versions::app(counting.store.clone());
    let uri = api.fx.collection();
    let good = api.fx.read_token.expose();
    let mut damaged = good.to_owned().into_bytes();
    damaged[10] = if damaged[10] == b'a' { b'b' } else { b'a' };
    let damaged = String::from_utf8(damaged).expect("ASCII");

    for header in [
        None,
        Some("Basic dXNlcjpwYXNz".to_owned()),
        Some("Bearer".to_owned()),
        Some(format!("Bearer {damaged}")),
        Some("Bearer aau_short".to_owned()),
        Some(format!("Token {good}")),
    ] {
        let mut builder = http::Request::builder().uri(&uri);
        if let Some(h) = &header {
            builder = builder.header("authorization", h);
        }
        let answer = send(&app, builder.body(axum::body::Body::empty()).expect("req")).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{header:?}");
        assert_eq!(answer.json["code"], 401);
        assert!(!String::from_utf8_lossy(&answer.raw).contains(&good[4..]));
    }
    assert_eq!(counting.calls(), 0, "no malformed token reached DynamoDB");

    let stranger = PlainSecret::generate(SecretKind::Pat).expect("random");
    let answer = send(
        &app,
        request(Method::GET, &uri, Some(stranger.expose()), None),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);

    // Without credentials, a missing teamId is still 401: 401 comes first.
    let no_team = format!("/api/v1/projects/{}/versions", api.fx.project);
    let answer = send(&app, request(Method::GET, &no_team, None, None)).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let answer = send(&app, request(Method::GET, &no_team, Some(good), None)).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(answer.error_fields(), ["teamId"]);
    let answer = send(
        &app,
        request(Method::GET, &format!("{no_team}?teamId="), Some(good), None),
    )
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn revoked_and_expired_tokens_are_401() {
    let api = Api::new().await;
    let issued = new_token(
        &api.fx.store,
        &api.fx.user,
        "soon revoked",
        &[Scope::VersionsRead],
    )
    .await;
    let list = |token: PlainSecret| {
        let uri = api.fx.collection();
        let app = api.app.clone();
        async move { send(&app, request(Method::GET, &uri, Some(token.expose()), None)).await }
    };
    assert_eq!(list(issued.secret.clone()).await.status, StatusCode::OK);
    assert!(
        api.fx
            .store
            .revoke_token(&api.fx.user, &issued.record.token_id, None)
            .await
            .expect("revoke")
    );
    assert_eq!(list(issued.secret).await.status, StatusCode::UNAUTHORIZED);

    let expired = app_upgrade::domain::issue_pat(
        api.fx.user.clone(),
        "expired".into(),
        app_upgrade::domain::Scopes::new([Scope::VersionsRead]).expect("non-empty"),
        1,
        Timestamp::now().plus_days(-3),
    )
    .expect("random");
    use app_upgrade::store::CredentialWriter;
    api.fx
        .store
        .create_pat(&expired, None)
        .await
        .expect("stored");
    let answer = list(expired.secret).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.json["message"], "token has expired");
}

#[tokio::test]
async fn a_read_only_token_gets_403_on_writes_before_any_existence_check() {
    let api = Api::new().await;
    let v = api.created(&api.body("App", "1.0.0")).await;
    let read = &api.fx.read_token;
    let unknown_project = format!(
        "/api/v1/projects/{}/versions?teamId={}",
        ProjectId::generate(),
        api.fx.team
    );
    let garbage = "/api/v1/projects/nope/versions/nope?teamId=nope";
    let body = api.body("App", "2.0.0");
    for (method, uri, body) in [
        (Method::POST, api.fx.collection(), Some(&body)),
        (Method::POST, unknown_project.clone(), Some(&body)),
        (Method::PATCH, api.fx.item(&id_of(&v)), Some(&body)),
        (Method::PATCH, garbage.to_owned(), Some(&body)),
        (Method::DELETE, api.fx.item(&id_of(&v)), None),
        (Method::DELETE, garbage.to_owned(), None),
        (
            Method::DELETE,
            format!("/api/v1/projects/{}/versions/x", api.fx.project),
            None,
        ),
    ] {
        let answer = api.send(method.clone(), &uri, read, body).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{method} {uri}");
        assert_eq!(answer.json["code"], 403);
    }
    // Reads work, and nothing was written or deleted.
    let list = api.list("").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.json["totalResults"], 1);
    let got = api
        .send(Method::GET, &api.fx.item(&id_of(&v)), read, None)
        .await;
    assert_eq!(got.status, StatusCode::OK);
}

/// Another team with its own member, project and read-write token.
async fn other_team(store: &DynamoStore) -> (TeamId, UserId, ProjectId, PlainSecret) {
    let team = Team {
        id: TeamId::generate(),
        name: Name::parse("Other").expect("valid"),
        created_at: Timestamp::now(),
    };
    store.create_team(&team).await.expect("team");
    let user = UserId::parse(&format!("other-{}", ulid::Ulid::new())).expect("valid");
    assert!(store.add_member(&team.id, &user).await.expect("member"));
    let project = Project::new(
        ProjectId::generate(),
        team.id.clone(),
        Name::parse("Other project").expect("valid"),
        Timestamp::now(),
    );
    assert!(store.create_project(&project, None).await.expect("project"));
    let token = new_token(
        store,
        &user,
        "other rw",
        &[Scope::VersionsRead, Scope::VersionsWrite],
    )
    .await
    .secret;
    (team.id, user, project.id, token)
}

#[tokio::test]
async fn another_teams_ids_and_tokens_get_404_like_unknown_ids() {
    let api = Api::new().await;
    let v = api.created(&api.body("App", "1.0.0")).await;
    let (other_team_id, _, other_project, other_token) = other_team(&api.fx.store).await;
    let id = id_of(&v);
    let rw = &api.fx.rw_token;

    let expect_404 = |answer: Reply, what: &str| {
        assert_eq!(
            answer.status,
            StatusCode::NOT_FOUND,
            "{what}: {}",
            answer.json
        );
        assert_eq!(answer.json["code"], 404);
    };
    // Another team's token on our project, with our teamId or theirs.
    for team in [&api.fx.team, &other_team_id] {
        let item = format!(
            "/api/v1/projects/{}/versions/{id}?teamId={team}",
            api.fx.project
        );
        let coll = format!("/api/v1/projects/{}/versions?teamId={team}", api.fx.project);
        expect_404(
            api.send(Method::GET, &item, &other_token, None).await,
            "get",
        );
        expect_404(
            api.send(Method::GET, &coll, &other_token, None).await,
            "list",
        );
        expect_404(
            api.send(Method::DELETE, &item, &other_token, None).await,
            "delete",
        );
        expect_404(
            api.send(
                Method::PATCH,
                &item,
                &other_token,
                Some(&api.body("App", "9")),
            )
            .await,
            "update",
        );
        expect_404(
            api.send(
                Method::POST,
                &coll,
                &other_token,
                Some(&api.body("App", "9")),
            )
            .await,
            "create",
        );
    }
    // Our token on their project, with either teamId.
    for team in [&api.fx.team, &other_team_id] {
        let coll = format!("/api/v1/projects/{other_project}/versions?teamId={team}");
        expect_404(
            api.send(Method::GET, &coll, rw, None).await,
            "their project",
        );
    }
    // Our version through their project id: versions live under a project.
    let theirs = format!("/api/v1/projects/{other_project}/versions/{id}?teamId={other_team_id}");
    expect_404(
        api.send(Method::GET, &theirs, &other_token, None).await,
        "cross path",
    );
    // Unknown and unparsable ids look the same.
    for uri in [
        api.fx.item(&VersionId::generate().to_string()),
        api.fx.item("not-an-id"),
        format!("/api/v1/projects/prj_bad/versions?teamId={}", api.fx.team),
        format!(
            "/api/v1/projects/{}/versions?teamId=team_bad",
            api.fx.project
        ),
        format!(
            "/api/v1/projects/{}/versions?teamId={}",
            ProjectId::generate(),
            api.fx.team
        ),
    ] {
        expect_404(api.send(Method::GET, &uri, rw, None).await, &uri);
    }
    let still = api.send(Method::GET, &api.fx.item(&id), rw, None).await;
    assert_eq!(still.json, v, "nothing changed");
}

#[tokio::test]
async fn a_token_whose_owner_left_the_team_gets_404() {
    let api = Api::new().await;
    let v = api.created(&api.body("App", "1.0.0")).await;
    assert!(
        api.fx
            .store
            .remove_member(&api.fx.team, &api.fx.user)
            .await
            .expect("removed")
    );
    for (method, uri, body) in [
        (Method::GET, api.fx.collection(), None),
        (Method::GET, api.fx.item(&id_of(&v)), None),
        (
            Method::POST,
            api.fx.collection(),
            Some(api.body("App", "2.0.0")),
        ),
        (Method::DELETE, api.fx.item(&id_of(&v)), None),
    ] {
        let answer = api
            .send(method.clone(), &uri, &api.fx.rw_token, body.as_ref())
            .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{method} {uri}");
    }
    assert!(
        api.fx
            .store
            .add_member(&api.fx.team, &api.fx.user)
            .await
            .expect("re-added")
    );
    let answer = api
        .send(
            Method::GET,
            &api.fx.item(&id_of(&v)),
            &api.fx.rw_token,
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "membership is checked live");
}

#[tokio::test]
async fn unknown_routes_and_methods_are_json() {
    let api = Api::new().await;
    let answer = api
        .send(Method::PUT, &api.fx.collection(), &api.fx.rw_token, None)
        .await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.json["code"], 405);
    let answer = api
        .send(Method::GET, "/api/v1/projects", &api.fx.rw_token, None)
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.json["code"], 404);
}

// ---- listing ----

#[tokio::test]
async fn listing_pages_an_empty_project_and_a_last_partial_page() {
    let api = Api::new().await;
    let empty = api.list("").await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(
        empty.json,
        json!({"results": [], "page": 1, "limit": 10, "totalPages": 0, "totalResults": 0})
    );

    let mut created = Vec::new();
    for i in 0..23 {
        created.push(api.created(&api.body("App", &format!("1.{i}.0"))).await);
    }
    let page3 = api.list("page=3").await;
    assert_eq!(page3.json["totalResults"], 23);
    assert_eq!(page3.json["totalPages"], 3);
    assert_eq!(
        (page3.json["page"].as_u64(), page3.json["limit"].as_u64()),
        (Some(3), Some(10))
    );
    let results = page3.json["results"].as_array().expect("results");
    assert_eq!(results.len(), 3, "the last, partial page");
    // Default order: newest first, so page 3 holds the three oldest.
    let oldest: Vec<&Value> = created[..3].iter().rev().collect();
    assert_eq!(results.iter().collect::<Vec<_>>(), oldest);

    let past = api.list("page=9&limit=5").await;
    assert_eq!(past.status, StatusCode::OK);
    assert_eq!(
        (
            past.json["results"].as_array().map(Vec::len),
            &past.json["totalPages"]
        ),
        (Some(0), &json!(5))
    );

    // Pages partition the whole list.
    let mut seen = BTreeSet::new();
    for page in 1..=5 {
        let answer = api
            .list(&format!("page={page}&limit=5&sortBy=appVersion:asc"))
            .await;
        for v in answer.json["results"].as_array().expect("results") {
            assert!(seen.insert(id_of(v)), "no version on two pages");
        }
    }
    assert_eq!(seen.len(), 23);
}

#[tokio::test]
async fn listing_sorts_and_filters() {
    let api = Api::new().await;
    for (app, version, force, active) in [
        ("Wallpaper App", "1.9.0", false, true),
        ("Wallpaper App", "1.10.0", true, true),
        ("wallpaper lite", "1.2.0", true, false),
        ("Other", "2.0.0", false, true),
        ("Other", "<1.5.0", true, true),
    ] {
        let mut body = api.body(app, version);
        body["forceUpgrade"] = json!(force);
        body["active"] = json!(active);
        api.created(&body).await;
    }
    let versions = |answer: &Reply| -> Vec<String> {
        answer.json["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|v| v["appVersion"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let asc = api.list("sortBy=appVersion:asc").await;
    assert_eq!(
        versions(&asc),
        ["1.2.0", "<1.5.0", "1.9.0", "1.10.0", "2.0.0"]
    );
    let desc = api.list("sortBy=appVersion:desc").await;
    assert_eq!(
        versions(&desc),
        ["2.0.0", "1.10.0", "1.9.0", "<1.5.0", "1.2.0"]
    );
    let by_name = api.list("sortBy=appName:asc,appVersion:desc").await;
    assert_eq!(
        versions(&by_name),
        ["2.0.0", "<1.5.0", "1.10.0", "1.9.0", "1.2.0"]
    );
    let created_asc = api.list("sortBy=createdAt:asc").await;
    assert_eq!(
        versions(&created_asc),
        ["1.9.0", "1.10.0", "1.2.0", "2.0.0", "<1.5.0"]
    );
    let default = api.list("").await;
    assert_eq!(
        versions(&default),
        ["<1.5.0", "2.0.0", "1.2.0", "1.10.0", "1.9.0"]
    );

    let wall = api.list("name=WALLPAPER&sortBy=appVersion:asc").await;
    assert_eq!(versions(&wall), ["1.2.0", "1.9.0", "1.10.0"]);
    assert_eq!(wall.json["totalResults"], 3);
    let spaced = api.list("name=paper+app").await;
    assert_eq!(spaced.json["totalResults"], 2);
    let forced = api.list("forceUpgrade=true&sortBy=appVersion:asc").await;
    assert_eq!(versions(&forced), ["1.2.0", "<1.5.0", "1.10.0"]);
    let inactive = api.list("active=false").await;
    assert_eq!(versions(&inactive), ["1.2.0"]);
    let both = api.list("forceUpgrade=true&active=true&name=wall").await;
    assert_eq!(versions(&both), ["1.10.0"]);
    let none = api.list("name=nothing").await;
    assert_eq!(none.json["totalPages"], 0);
}

#[tokio::test]
async fn listing_rejects_out_of_range_and_unknown_values_by_name() {
    let api = Api::new().await;
    for (query, field) in [
        ("page=0", "page"),
        ("page=-2", "page"),
        ("page=one", "page"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("sortBy=size:asc", "sortBy"),
        ("sortBy=createdAt:newest", "sortBy"),
        ("forceUpgrade=yes", "forceUpgrade"),
        ("active=TRUE1", "active"),
        ("teamId=again", "teamId"),
    ] {
        let answer = api.list(query).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(answer.error_fields(), [field], "{query}");
        assert!(
            answer.json["message"]
                .as_str()
                .unwrap_or_default()
                .contains(field)
        );
    }
    let answer = api.list("limit=100&page=1").await;
    assert_eq!(answer.status, StatusCode::OK);
}

// ---- the store, concurrency, round trips ----

fn record(project: &ProjectId, app: &str, version: &str) -> VersionRecord {
    let body = json!({
        "project": project.as_str(), "appName": app, "appVersion": version,
        "platform": "android", "environment": "production", "forceUpgrade": false
    });
    VersionFields::parse(&body, Intent::Create, project)
        .expect("valid")
        .into_new_record(project.clone(), Timestamp::now())
}

#[tokio::test]
async fn store_round_trips_and_guards_revisions() {
    let fx = Fixture::new().await;
    let store = &fx.store;
    let v = record(&fx.project, "App", "1.0.0");
    store.create_version(&v, None, None).await.expect("created");
    assert_eq!(
        store.get_version(&fx.project, &v.id).await.expect("get"),
        Some(v.clone())
    );
    assert_eq!(
        store.list_versions(&fx.project).await.expect("list"),
        std::slice::from_ref(&v)
    );

    let next = VersionRecord {
        force_upgrade: true,
        ..v.clone()
    };
    let stored = store
        .update_version(&v, &next, None, None)
        .await
        .expect("updated");
    assert_eq!(stored.revision, v.revision + 1);
    assert_eq!(
        store.get_version(&fx.project, &v.id).await.expect("get"),
        Some(stored.clone())
    );

    // A writer still holding the old revision loses, whatever it writes.
    let stale = store.update_version(&v, &next, None, None).await;
    assert!(
        matches!(&stale, Err(StoreError::Conflict(m)) if m.contains("concurrent")),
        "{stale:?}"
    );
    let stale_delete = store.delete_version(&v, None, None).await;
    assert!(
        matches!(stale_delete, Err(StoreError::Conflict(_))),
        "{stale_delete:?}"
    );

    assert!(
        store
            .delete_version(&stored, None, None)
            .await
            .expect("deleted")
    );
    assert!(
        !store
            .delete_version(&stored, None, None)
            .await
            .expect("already gone")
    );
    assert_eq!(
        store.get_version(&fx.project, &v.id).await.expect("get"),
        None
    );
    assert!(
        store
            .list_versions(&fx.project)
            .await
            .expect("list")
            .is_empty()
    );
    // Only the versions' own items remain in the partition: none.
    store
        .create_version(&record(&fx.project, "App", "1.0.0"), None, None)
        .await
        .expect("identity freed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_of_one_identity_leave_exactly_one_record() {
    let fx = Fixture::new().await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..24 {
        let store = fx.store.clone();
        let v = record(&fx.project, "Race App", "1.0.0");
        tasks.spawn(async move { store.create_version(&v, None, None).await });
    }
    let (mut won, mut conflicts) = (0, 0);
    while let Some(result) = tasks.join_next().await {
        match result.expect("task") {
            Ok(()) => won += 1,
            Err(StoreError::Conflict(_)) => conflicts += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((won, conflicts), (1, 23));
    let all = fx.store.list_versions(&fx.project).await.expect("list");
    assert_eq!(all.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_through_the_api_are_one_201_and_409s() {
    let api = Api::new().await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let app = api.app.clone();
        let req = request(
            Method::POST,
            &api.fx.collection(),
            Some(api.fx.rw_token.expose()),
            Some(&api.body("Race App", "3.0.0")),
        );
        tasks.spawn(async move { send(&app, req).await.status });
    }
    let mut statuses = Vec::new();
    while let Some(status) = tasks.join_next().await {
        statuses.push(status.expect("task").as_u16());
    }
    statuses.sort_unstable();
    let mut want = vec![409; 19];
    want.insert(0, 201);
    assert_eq!(statuses, want);
    assert_eq!(api.list("").await.json["totalResults"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_updates_never_mix_two_bodies() {
    let api = Api::new().await;
    let v = api.created(&api.body("App", "1.0.0")).await;
    let uri = api.fx.item(&id_of(&v));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..12_u32 {
        // Each writer changes two fields together; a mix would pair one
        // writer's message with another's internal notes or version.
        let body = json!({
            "appName": "App",
            "appVersion": format!("1.0.{i}"),
            "platform": "android",
            "environment": "production",
            "forceUpgrade": i.is_multiple_of(2),
            "message": format!("writer {i}"),
            "internalNotes": format!("writer {i}"),
        });
        let app = api.app.clone();
        let req = request(
            Method::PATCH,
            &uri,
            Some(api.fx.rw_token.expose()),
            Some(&body),
        );
        tasks.spawn(async move { (send(&app, req).await, body) });
    }
    let mut winners = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (answer, body) = done.expect("task");
        match answer.status {
            StatusCode::OK => winners.push(body),
            StatusCode::CONFLICT => {}
            other => panic!("unexpected {other}: {}", answer.json),
        }
    }
    assert!(!winners.is_empty());
    let last = api
        .send(Method::GET, &uri, &api.fx.read_token, None)
        .await
        .json;
    assert_eq!(
        last["message"], last["internalNotes"],
        "one writer's body: {last}"
    );
    let i: u32 = last["message"]
        .as_str()
        .and_then(|m| m.strip_prefix("writer "))
        .and_then(|n| n.parse().ok())
        .expect("a writer's message");
    assert_eq!(last["appVersion"], format!("1.0.{i}"));
    assert_eq!(last["forceUpgrade"], i.is_multiple_of(2));
    assert!(winners.iter().any(|w| w["message"] == last["message"]));
    // Whichever identity won, only that one is taken now.
    let list = api.list("").await;
    assert_eq!(list.json["totalResults"], 1);
    for j in 0..12 {
        let answer = api.create(&api.body("App", &format!("1.0.{j}"))).await;
        let want = if j == i {
            StatusCode::CONFLICT
        } else {
            StatusCode::CREATED
        };
        assert_eq!(answer.status, want, "identity 1.0.{j}");
    }
}

#[tokio::test]
async fn round_trips_per_request() {
    let api = Api::new().await;
    let counting = Counting::new(&api.fx.store);
    let app = versions::app(counting.store.clone());
    let token = Some(api.fx.rw_token.expose());
    let measure = async |method: Method, uri: &str, body: Option<&Value>| {
        let before = counting.calls();
        let answer = send(&app, request(method, uri, token, body)).await;
        (answer, counting.calls() - before)
    };
    // auth (1 GetItem) + access (1 BatchGetItem) + the operation.
    let (created, calls) = measure(
        Method::POST,
        &api.fx.collection(),
        Some(&api.body("A", "1")),
    )
    .await;
    assert_eq!(
        (created.status, calls),
        (StatusCode::CREATED, 3),
        "create: + 1 transaction"
    );
    let item = api.fx.item(&id_of(&created.json));
    let (got, calls) = measure(Method::GET, &item, None).await;
    assert_eq!((got.status, calls), (StatusCode::OK, 3), "get: + 1 GetItem");
    let (updated, calls) = measure(Method::PATCH, &item, Some(&api.body("A", "2"))).await;
    assert_eq!(
        (updated.status, calls),
        (StatusCode::OK, 4),
        "update: + GetItem + transaction"
    );
    let (listed, calls) = measure(Method::GET, &api.fx.collection(), None).await;
    assert_eq!(
        (listed.status, calls),
        (StatusCode::OK, 3),
        "list: + 1 paginated Query"
    );
    let (deleted, calls) = measure(Method::DELETE, &item, None).await;
    assert_eq!(
        (deleted.status, calls),
        (StatusCode::NO_CONTENT, 4),
        "delete: + GetItem + transaction"
    );
    let (bad, calls) = measure(Method::POST, &api.fx.collection(), Some(&json!({}))).await;
    assert_eq!(
        (bad.status, calls),
        (StatusCode::BAD_REQUEST, 2),
        "invalid bodies reach no write"
    );
    assert!(
        counting.touches() <= 1,
        "lastUsedAt is written at most once"
    );
}

// ---- API Gateway HTTP API v2 events ----

#[tokio::test]
async fn api_gateway_v2_events_drive_every_route() {
    let api = Api::new().await;
    let (token, team, project) = (
        api.fx.rw_token.expose().to_owned(),
        api.fx.team.to_string(),
        api.fx.project.to_string(),
    );
    let vars = |version: &str| {
        [
            ("APP_UPGRADE_TOKEN", token.clone()),
            ("APP_UPGRADE_TEAM_ID", team.clone()),
            ("APP_UPGRADE_PROJECT_ID", project.clone()),
            ("APP_UPGRADE_VERSION_ID", version.to_owned()),
        ]
    };
    let event = |name: &str, version: &str| {
        let vars = vars(version);
        let refs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        fixture_event(name, &refs)
    };

    let created = send(&api.app, event("versions-create", "")).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    assert_eq!(created.json["appName"], "Wallpaper App");
    assert_eq!(created.json["forceUpgrade"], false);
    let id = id_of(&created.json);

    let got = send(&api.app, event("versions-get", &id)).await;
    assert_eq!((got.status, &got.json), (StatusCode::OK, &created.json));

    let updated = send(&api.app, event("versions-update", &id)).await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.json);
    assert_eq!(updated.json["forceUpgrade"], true);
    assert_eq!(
        updated.json["message"],
        "Please update to continue using the app."
    );

    // The list event filters by `name=Wallpaper+App`: `+` is a space.
    api.created(&api.body("Other App", "9.0.0")).await;
    let listed = send(&api.app, event("versions-list", "")).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.json["totalResults"], 1);
    assert_eq!(listed.json["results"][0]["id"], id.as_str());

    let deleted = send(&api.app, event("versions-delete", &id)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(deleted.raw.is_empty());
    let gone = send(&api.app, event("versions-get", &id)).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_event_with_a_read_only_token_is_403() {
    let api = Api::new().await;
    let vars = [
        ("APP_UPGRADE_TOKEN", api.fx.read_token.expose()),
        ("APP_UPGRADE_TEAM_ID", api.fx.team.as_str()),
        ("APP_UPGRADE_PROJECT_ID", api.fx.project.as_str()),
    ];
    let answer = send(&api.app, fixture_event("versions-create", &vars)).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let list = api.list("").await;
    assert_eq!(list.json["totalResults"], 0);
}

#[tokio::test]
async fn a_create_in_a_project_whose_delete_has_begun_is_refused_and_leaves_nothing() {
    let fx = Fixture::new().await;
    let store = &fx.store;
    let before = record(&fx.project, "App", "1.0.0");
    store
        .create_version(&before, None, None)
        .await
        .expect("live");

    // The delete's first step: the project is marked, then swept.
    let key = app_upgrade::store::keys::project(&fx.project);
    store
        .client()
        .update_item()
        .table_name(store.versions_table())
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(key.pk))
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S(key.sk))
        .update_expression("SET deleting = :now")
        .expression_attribute_values(
            ":now",
            aws_sdk_dynamodb::types::AttributeValue::S(Timestamp::now().to_string()),
        )
        .send()
        .await
        .expect("marked");

    let late = record(&fx.project, "App", "2.0.0");
    assert_eq!(
        store.create_version(&late, None, None).await,
        Err(StoreError::Conflict("the project is being deleted".into())),
        "refused, not left behind after the sweep"
    );
    assert_eq!(store.get_version(&fx.project, &late.id).await, Ok(None));
    let page = store
        .newest_versions(&fx.project, 0, 10)
        .await
        .expect("listed")
        .expect("counted");
    assert_eq!(page.total, 1, "the count is the live version's alone");
    assert_eq!(page.records, vec![before]);
}
