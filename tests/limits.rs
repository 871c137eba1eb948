//! Least-privilege tokens against the real local DynamoDB: a PAT limited at
//! creation to some projects and environments gets 404 outside its projects,
//! 403 naming the environment on a write outside its environments, and
//! lists, gets, histories and activity of its environments only; the limits
//! survive rotation and its replay; bad limits are 400s that never tell
//! whether another team's project exists; and a limited token's request
//! costs the DynamoDB calls an unlimited one's does.

use app_upgrade::domain::{
    Email, Name, PlainSecret, ProjectId, Role, SecretKind, TeamId, Timestamp, UserId,
};
use app_upgrade::store::{DirectoryStore, Membership, Project, Team, TeamStore};
use axum::Router;
use http::{Method, StatusCode};
use integration_tests::http::{Reply, request, send};
use integration_tests::tokens::{bearer_event, event, json_event};
use integration_tests::{Counting, Fixture};
use serde_json::{Value, json};

const TOKENS: &str = "/api/v1/account/tokens";
const ROTATE: &str = "/api/v1/account/tokens/self/rotate";

/// A second project in the fixture's team.
async fn sibling_project(fx: &Fixture) -> ProjectId {
    let project = Project::new(
        ProjectId::generate(),
        fx.team.clone(),
        Name::parse("Sibling").expect("valid"),
        Timestamp::now(),
    );
    assert!(
        fx.store
            .create_project(&project, None)
            .await
            .expect("project")
    );
    project.id
}

/// A project of a team the fixture's user is not in.
async fn foreign_project(fx: &Fixture) -> ProjectId {
    let team = Team {
        id: TeamId::generate(),
        name: Name::parse("Elsewhere").expect("valid"),
        created_at: Timestamp::now(),
    };
    fx.store.create_team(&team).await.expect("team");
    let stranger = UserId::parse(&format!("stranger-{}", ulid::Ulid::new())).expect("valid");
    assert!(
        fx.store
            .add_member(&team.id, &stranger)
            .await
            .expect("member")
    );
    let project = Project::new(
        ProjectId::generate(),
        team.id,
        Name::parse("Theirs").expect("valid"),
        Timestamp::now(),
    );
    assert!(
        fx.store
            .create_project(&project, None)
            .await
            .expect("project")
    );
    project.id
}

async fn create_token(tokens: &Router, owner: &UserId, body: Value) -> Reply {
    send(
        tokens,
        json_event("POST", TOKENS, Some(owner.as_str()), &body.to_string()),
    )
    .await
}

/// A new `versions:read`+`versions:write` token with `limits` merged into
/// its body.
async fn limited(tokens: &Router, owner: &UserId, name: &str, limits: Value) -> PlainSecret {
    let mut body = json!({"name": name, "scopes": ["versions:read", "versions:write"]});
    if let (Value::Object(body), Value::Object(limits)) = (&mut body, limits) {
        body.extend(limits);
    }
    let reply = create_token(tokens, owner, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    secret(&reply)
}

fn secret(reply: &Reply) -> PlainSecret {
    PlainSecret::parse(
        SecretKind::Pat,
        reply.json["token"].as_str().expect("token"),
    )
    .expect("a PAT")
}

async fn listed(tokens: &Router, owner: &UserId, name: &str) -> Value {
    let reply = send(
        tokens,
        event("GET", TOKENS, Some(owner.as_str()), &[], None),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    reply.json["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|t| t["name"] == name)
        .cloned()
        .expect("listed")
}

fn collection(fx: &Fixture, project: &ProjectId) -> String {
    format!("/api/v1/projects/{project}/versions?teamId={}", fx.team)
}

fn item(fx: &Fixture, project: &ProjectId, id: &str, tail: &str) -> String {
    format!(
        "/api/v1/projects/{project}/versions/{id}{tail}?teamId={}",
        fx.team
    )
}

fn version(project: &ProjectId, app: &str, environment: &str) -> Value {
    json!({
        "project": project.as_str(),
        "appName": app,
        "appVersion": "1.0.0",
        "platform": "android",
        "environment": environment,
        "forceUpgrade": false
    })
}

async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    token: &PlainSecret,
    body: Option<&Value>,
) -> Reply {
    send(app, request(method, uri, Some(token.expose()), body)).await
}

/// Creates a version with `token`; its id.
async fn created(app: &Router, fx: &Fixture, token: &PlainSecret, body: &Value) -> String {
    let reply = call(
        app,
        Method::POST,
        &collection(fx, &fx.project),
        token,
        Some(body),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    reply.json["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn a_token_limited_to_a_project_gets_404_on_the_teams_others() {
    let fx = Fixture::new().await;
    let tokens = tokens::app(fx.store.clone());
    let versions = versions::app(fx.store.clone());
    let other = sibling_project(&fx).await;
    let only_a = limited(
        &tokens,
        &fx.user,
        "only A",
        json!({"projects": [fx.project.as_str()]}),
    )
    .await;

    // Its own project: as any token.
    let id = created(
        &versions,
        &fx,
        &only_a,
        &version(&fx.project, "A", "production"),
    )
    .await;
    let listed_a = call(
        &versions,
        Method::GET,
        &collection(&fx, &fx.project),
        &only_a,
        None,
    )
    .await;
    assert_eq!(listed_a.status, StatusCode::OK);
    assert_eq!(listed_a.json["totalResults"], 1);

    // The sibling, which the unlimited token reaches: exactly the 404 of
    // another team's project.
    let theirs = created_in(&versions, &fx, &other).await;
    let foreign = foreign_project(&fx).await;
    let cases = [
        (Method::GET, collection(&fx, &other), None),
        (Method::GET, item(&fx, &other, &theirs, ""), None),
        (
            Method::POST,
            collection(&fx, &other),
            Some(version(&other, "B", "production")),
        ),
        (
            Method::PATCH,
            item(&fx, &other, &theirs, ""),
            Some(version(&other, "B", "staging")),
        ),
        (Method::DELETE, item(&fx, &other, &theirs, ""), None),
        (Method::GET, item(&fx, &other, &theirs, "/history"), None),
        (
            Method::POST,
            item(&fx, &other, &theirs, "/restore"),
            Some(json!({"revision": 1})),
        ),
        (
            Method::GET,
            format!("/api/v1/projects/{other}/activity?teamId={}", fx.team),
            None,
        ),
    ];
    for (method, uri, body) in cases {
        let reply = call(&versions, method.clone(), &uri, &only_a, body.as_ref()).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{method} {uri}");
        let foreign_uri = uri.replace(other.as_str(), foreign.as_str());
        let stranger = call(
            &versions,
            method.clone(),
            &foreign_uri,
            &fx.rw_token,
            body.as_ref(),
        )
        .await;
        assert_eq!(
            (reply.status, &reply.json),
            (stranger.status, &stranger.json),
            "{method} {uri}: not exactly another team's 404"
        );
    }
    // Untouched: still there for the unlimited token.
    let still = call(
        &versions,
        Method::GET,
        &item(&fx, &other, &theirs, ""),
        &fx.rw_token,
        None,
    )
    .await;
    assert_eq!(still.status, StatusCode::OK);

    // Scopes come first, as before: a read-only limited token writing
    // outside its projects is a 403.
    let read_only = create_token(
        &tokens,
        &fx.user,
        json!({"name": "read A", "scopes": ["versions:read"], "projects": [fx.project.as_str()]}),
    )
    .await;
    let read_only = secret(&read_only);
    let reply = call(
        &versions,
        Method::POST,
        &collection(&fx, &other),
        &read_only,
        Some(&version(&other, "B", "production")),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);

    // The list shows the limits; an unlimited token shows none.
    let entry = listed(&tokens, &fx.user, "only A").await;
    assert_eq!(entry["projects"], json!([fx.project.as_str()]));
    assert!(entry.get("environments").is_none());
    let rw = listed(&tokens, &fx.user, "rw").await;
    assert!(rw.get("projects").is_none() && rw.get("environments").is_none());
    let _ = id;
}

/// A version of `project` created by the fixture's unlimited token.
async fn created_in(app: &Router, fx: &Fixture, project: &ProjectId) -> String {
    let reply = call(
        app,
        Method::POST,
        &collection(fx, project),
        &fx.rw_token,
        Some(&version(project, "B", "production")),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.json);
    reply.json["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn a_token_limited_to_staging_writes_and_sees_staging_only() {
    let fx = Fixture::new().await;
    let tokens = tokens::app(fx.store.clone());
    let versions = versions::app(fx.store.clone());
    let staging = limited(
        &tokens,
        &fx.user,
        "staging",
        json!({"environments": [" Staging "]}),
    )
    .await;
    assert_eq!(
        listed(&tokens, &fx.user, "staging").await["environments"],
        json!(["staging"])
    );

    let prod = created(
        &versions,
        &fx,
        &fx.rw_token,
        &version(&fx.project, "P", "production"),
    )
    .await;
    let stage = created(
        &versions,
        &fx,
        &fx.rw_token,
        &version(&fx.project, "S", "staging"),
    )
    .await;
    let mine = created(
        &versions,
        &fx,
        &staging,
        &version(&fx.project, "M", "STAGING"),
    )
    .await;
    let forbidden_production = |reply: &Reply| {
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.json);
        let message = reply.json["message"].as_str().expect("message");
        assert!(message.contains("production"), "{message}");
    };

    // Writes touching production, before or after: 403 naming it.
    let project = &fx.project;
    forbidden_production(
        &call(
            &versions,
            Method::POST,
            &collection(&fx, project),
            &staging,
            Some(&version(project, "N", "production")),
        )
        .await,
    );
    forbidden_production(
        &call(
            &versions,
            Method::PATCH,
            &item(&fx, project, &stage, ""),
            &staging,
            Some(&version(project, "S", "production")),
        )
        .await,
    );
    forbidden_production(
        &call(
            &versions,
            Method::PATCH,
            &item(&fx, project, &prod, ""),
            &staging,
            Some(&version(project, "P", "staging")),
        )
        .await,
    );
    forbidden_production(
        &call(
            &versions,
            Method::DELETE,
            &item(&fx, project, &prod, ""),
            &staging,
            None,
        )
        .await,
    );

    // Reads of production: as if it did not exist.
    for tail in ["", "/history"] {
        let reply = call(
            &versions,
            Method::GET,
            &item(&fx, project, &prod, tail),
            &staging,
            None,
        )
        .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{tail}");
    }
    let restore = call(
        &versions,
        Method::POST,
        &item(&fx, project, &prod, "/restore"),
        &staging,
        Some(&json!({"revision": 1})),
    )
    .await;
    assert_eq!(restore.status, StatusCode::NOT_FOUND);

    // Its own environment: everything.
    let got = call(
        &versions,
        Method::GET,
        &item(&fx, project, &stage, ""),
        &staging,
        None,
    )
    .await;
    assert_eq!(got.status, StatusCode::OK);
    let mut changed = version(project, "S", "staging");
    changed["forceUpgrade"] = json!(true);
    let updated = call(
        &versions,
        Method::PATCH,
        &item(&fx, project, &stage, ""),
        &staging,
        Some(&changed),
    )
    .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.json);
    let history = call(
        &versions,
        Method::GET,
        &item(&fx, project, &stage, "/history"),
        &staging,
        None,
    )
    .await;
    assert_eq!(history.json["results"].as_array().map(Vec::len), Some(2));

    // Lists: only staging, and the totals count only staging, in the
    // store's order and in any other.
    for query in ["", "&sortBy=appName:asc", "&limit=1&page=2"] {
        let uri = format!("{}{query}", collection(&fx, project));
        let list = call(&versions, Method::GET, &uri, &staging, None).await;
        assert_eq!(list.status, StatusCode::OK, "{query}");
        assert_eq!(list.json["totalResults"], 2, "{query}");
        let environments: Vec<&str> = list.json["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|v| v["environment"].as_str().expect("environment"))
            .collect();
        assert!(
            !environments.is_empty() && environments.iter().all(|e| *e == "staging"),
            "{query}"
        );
        let all = call(&versions, Method::GET, &uri, &fx.rw_token, None).await;
        assert_eq!(all.json["totalResults"], 3, "{query}");
    }

    // Activity: nothing about the production version.
    let activity_uri = format!(
        "/api/v1/projects/{project}/activity?teamId={}&limit=100",
        fx.team
    );
    let activity = call(&versions, Method::GET, &activity_uri, &staging, None).await;
    assert_eq!(activity.status, StatusCode::OK);
    let targets: Vec<&str> = activity.json["results"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["target"]["id"].as_str().expect("id"))
        .collect();
    assert!(targets.contains(&stage.as_str()) && targets.contains(&mine.as_str()));
    assert!(!targets.contains(&prod.as_str()), "{targets:?}");
    let all = call(&versions, Method::GET, &activity_uri, &fx.rw_token, None).await;
    assert!(all.json["results"].as_array().expect("events").len() > targets.len());

    // The unlimited token still does everything.
    let moved = call(
        &versions,
        Method::PATCH,
        &item(&fx, project, &prod, ""),
        &fx.rw_token,
        Some(&version(project, "P", "qa")),
    )
    .await;
    assert_eq!(moved.status, StatusCode::OK);
    let deleted = call(
        &versions,
        Method::DELETE,
        &item(&fx, project, &stage, ""),
        &fx.rw_token,
        None,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn limits_survive_rotation_and_its_replay_and_a_rotation_cannot_widen_them() {
    let fx = Fixture::new().await;
    let tokens = tokens::app(fx.store.clone());
    let versions = versions::app(fx.store.clone());
    let other = sibling_project(&fx).await;
    let old = limited(
        &tokens,
        &fx.user,
        "ci",
        json!({"projects": [fx.project.as_str()], "environments": ["staging"]}),
    )
    .await;

    let key = format!("rotate-{}", ulid::Ulid::new());
    let widening = json!({"projects": null, "environments": ["production"]}).to_string();
    let rotate = |token: &PlainSecret| {
        event(
            "POST",
            ROTATE,
            None,
            &[
                ("authorization", &format!("Bearer {}", token.expose())),
                ("idempotency-key", &key),
                ("content-type", "application/json"),
            ],
            Some(&widening),
        )
    };
    let rotated = send(&tokens, rotate(&old)).await;
    assert_eq!(rotated.status, StatusCode::CREATED, "{}", rotated.json);
    assert_eq!(rotated.json["projects"], json!([fx.project.as_str()]));
    assert_eq!(rotated.json["environments"], json!(["staging"]));
    let replay = send(&tokens, rotate(&old)).await;
    assert_eq!(replay.status, StatusCode::CREATED);
    assert_eq!(replay.json["token"], rotated.json["token"]);
    let new = secret(&rotated);

    // And once more, without a key.
    let again = send(&tokens, bearer_event("POST", ROTATE, new.expose())).await;
    assert_eq!(again.status, StatusCode::CREATED);
    let newest = secret(&again);

    let outside = call(
        &versions,
        Method::GET,
        &collection(&fx, &other),
        &newest,
        None,
    )
    .await;
    assert_eq!(outside.status, StatusCode::NOT_FOUND);
    let production = call(
        &versions,
        Method::POST,
        &collection(&fx, &fx.project),
        &newest,
        Some(&version(&fx.project, "R", "production")),
    )
    .await;
    assert_eq!(production.status, StatusCode::FORBIDDEN);
    let staging = call(
        &versions,
        Method::POST,
        &collection(&fx, &fx.project),
        &newest,
        Some(&version(&fx.project, "R", "staging")),
    )
    .await;
    assert_eq!(staging.status, StatusCode::CREATED);
    let entry = listed(&tokens, &fx.user, "ci").await;
    assert_eq!(entry["projects"], json!([fx.project.as_str()]));
    assert_eq!(entry["environments"], json!(["staging"]));
}

#[tokio::test]
async fn bad_limits_are_400s_that_never_tell_whether_a_project_exists() {
    let fx = Fixture::new().await;
    let tokens = tokens::app(fx.store.clone());
    let foreign = foreign_project(&fx).await;
    let unknown = ProjectId::generate();
    let base = |limits: Value| {
        let mut body = json!({"name": "bad", "scopes": ["versions:read"]});
        if let (Value::Object(body), Value::Object(limits)) = (&mut body, limits) {
            body.extend(limits);
        }
        body
    };
    let message = |reply: &Reply, field: &str| -> String {
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.json);
        assert_eq!(
            reply.error_fields(),
            vec![field.to_owned()],
            "{}",
            reply.json
        );
        reply.json["errors"][0]["message"]
            .as_str()
            .expect("message")
            .to_owned()
    };

    let of_unknown = create_token(
        &tokens,
        &fx.user,
        base(json!({"projects": [unknown.as_str()]})),
    )
    .await;
    let of_foreign = create_token(
        &tokens,
        &fx.user,
        base(json!({"projects": [foreign.as_str()]})),
    )
    .await;
    let (of_unknown, of_foreign) = (
        message(&of_unknown, "projects"),
        message(&of_foreign, "projects"),
    );
    assert!(of_unknown.contains(unknown.as_str()));
    assert_eq!(
        of_unknown.replace(unknown.as_str(), "ID"),
        of_foreign.replace(foreign.as_str(), "ID"),
        "another team's project must read exactly as an unknown one"
    );
    // Every one is listed, a good one beside them is fine.
    let mixed = create_token(
        &tokens,
        &fx.user,
        base(
            json!({"projects": [fx.project.as_str(), unknown.as_str(), foreign.as_str(), "nope"]}),
        ),
    )
    .await;
    let mixed = message(&mixed, "projects");
    for id in [unknown.as_str(), foreign.as_str(), "nope"] {
        assert!(mixed.contains(id), "{mixed}");
    }
    assert!(!mixed.contains(fx.project.as_str()), "{mixed}");

    let many_projects: Vec<String> = (0..51).map(|_| ProjectId::generate().to_string()).collect();
    let many_environments: Vec<String> = (0..21).map(|i| format!("env{i}")).collect();
    let cases = [
        (json!({"projects": []}), "projects"),
        (
            json!({"projects": [fx.project.as_str(), fx.project.as_str()]}),
            "projects",
        ),
        (json!({"projects": many_projects}), "projects"),
        (json!({"projects": "all"}), "projects"),
        (json!({"projects": [7]}), "projects"),
        (json!({"environments": []}), "environments"),
        (
            json!({"environments": ["staging", "Staging"]}),
            "environments",
        ),
        (json!({"environments": many_environments}), "environments"),
        (json!({"environments": ["  "]}), "environments"),
        (json!({"environments": ["x".repeat(33)]}), "environments"),
        (json!({"environments": "staging"}), "environments"),
    ];
    for (limits, field) in cases {
        let reply = create_token(&tokens, &fx.user, base(limits.clone())).await;
        message(&reply, field);
    }
    // Nothing was created by any of them.
    let reply = send(
        &tokens,
        event("GET", TOKENS, Some(fx.user.as_str()), &[], None),
    )
    .await;
    assert_eq!(reply.json["results"].as_array().map(Vec::len), Some(2));

    // The most of each is fine.
    let most: Vec<String> = many_environments[..20].to_vec();
    let ok = create_token(
        &tokens,
        &fx.user,
        base(json!({"projects": [fx.project.as_str()], "environments": most})),
    )
    .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.json);
    assert_eq!(ok.json["environments"].as_array().map(Vec::len), Some(20));
}

/// Limits ride in the credential item: a limited token's request makes the
/// DynamoDB calls an unlimited one's does (the credential `GetItem`, the
/// access `BatchGetItem`, the route's own). One exception, by design: the
/// list of a token limited to some environments is a filtered list (totals
/// over those environments need every version's summary), so it costs what
/// any filtered or re-sorted list costs, not the newest-first fast path.
#[tokio::test]
async fn a_limited_token_costs_the_calls_an_unlimited_one_does() {
    let fx = Fixture::new().await;
    let tokens = tokens::app(fx.store.clone());
    let counting = Counting::new(&fx.store);
    let versions = versions::app(counting.store.clone());
    let both = limited(
        &tokens,
        &fx.user,
        "limited",
        json!({"projects": [fx.project.as_str()], "environments": ["staging"]}),
    )
    .await;
    let project_only = limited(
        &tokens,
        &fx.user,
        "project only",
        json!({"projects": [fx.project.as_str()]}),
    )
    .await;
    let plain_list = collection(&fx, &fx.project);
    let sorted_list = format!("{plain_list}&sortBy=appName:asc");
    let mut figures = Vec::new();
    for (name, token) in [
        ("unlimited", &fx.rw_token),
        ("limited", &both),
        ("project only", &project_only),
    ] {
        // Warm the hourly lastUsedAt touch, so it is in no count.
        call(&versions, Method::GET, &plain_list, token, None).await;
        let id = created(
            &versions,
            &fx,
            token,
            &version(&fx.project, name, "staging"),
        )
        .await;
        let mut counts = Vec::new();
        for (method, uri, body) in [
            (Method::GET, item(&fx, &fx.project, &id, ""), None),
            (
                Method::PATCH,
                item(&fx, &fx.project, &id, ""),
                Some(version(&fx.project, name, "staging")),
            ),
            (
                Method::POST,
                plain_list.clone(),
                Some(version(&fx.project, &format!("{name} 2"), "staging")),
            ),
            (Method::DELETE, item(&fx, &fx.project, &id, ""), None),
            (Method::GET, sorted_list.clone(), None),
            (Method::GET, plain_list.clone(), None),
        ] {
            let before = counting.calls();
            let reply = call(&versions, method.clone(), &uri, token, body.as_ref()).await;
            assert!(reply.status.is_success(), "{method} {}", reply.json);
            counts.push(counting.calls() - before);
        }
        figures.push((name, counts));
    }
    println!(
        "DynamoDB calls per PAT request (get, patch, post, delete, sorted list, list): {figures:?}"
    );
    let [(_, unlimited), (_, both), (_, project_only)] = &figures[..] else {
        unreachable!("three tokens")
    };
    assert_eq!(unlimited, project_only);
    assert_eq!(unlimited[..5], both[..5]);
    // The environment-limited plain list is the filtered list.
    assert_eq!(both[5], unlimited[4]);
}

#[tokio::test]
async fn the_account_feed_records_a_tokens_limits_at_creation_and_none_for_an_unlimited_one() {
    let fx = Fixture::new().await;
    let tokens = tokens::app(fx.store.clone());
    // The fixture's membership was added by `sub` alone; a team the person
    // created with their address gives the events an email to name.
    let email = Email::parse(&format!("{}@example.com", fx.user.as_str())).expect("valid");
    let team = Team {
        id: TeamId::generate(),
        name: Name::parse("Emailed").expect("valid"),
        created_at: Timestamp::now(),
    };
    let membership = Membership {
        team_id: team.id.clone(),
        user_id: fx.user.clone(),
        email: Some(email.clone()),
        role: Role::Owner,
        joined_at: Timestamp::now(),
    };
    fx.store
        .create_team_with_owner(&team, &membership, None)
        .await
        .expect("team");
    limited(
        &tokens,
        &fx.user,
        "staging ci",
        json!({"projects": [fx.project.as_str()], "environments": ["Staging"]}),
    )
    .await;
    limited(&tokens, &fx.user, "everything", json!({})).await;

    let feed = send(
        &tokens,
        event(
            "GET",
            "/api/v1/account/activity",
            Some(fx.user.as_str()),
            &[],
            None,
        ),
    )
    .await;
    assert_eq!(feed.status, StatusCode::OK, "{}", feed.json);
    let created = |name: &str| {
        feed.json["results"]
            .as_array()
            .expect("results")
            .iter()
            .find(|e| e["action"] == "token.created" && e["changes"]["name"]["after"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} created: {}", feed.json))
    };
    let staging = created("staging ci");
    assert_eq!(staging["actor"]["kind"], "session");
    assert_eq!(staging["actor"]["email"], email.as_str(), "{staging}");
    assert_eq!(
        staging["changes"]["projects"],
        json!({"before": null, "after": [fx.project.as_str()]})
    );
    assert_eq!(
        staging["changes"]["environments"],
        json!({"before": null, "after": ["staging"]})
    );
    let everything = created("everything");
    let changes = everything["changes"].as_object().expect("changes");
    assert!(
        !changes.contains_key("projects") && !changes.contains_key("environments"),
        "an unlimited token's event names no limits: {everything}"
    );
}
