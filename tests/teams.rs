//! The team's own API against the real local emulators: DynamoDB and the
//! user pool (Cognito) that decides whose verified email a session is.

use std::time::Duration;

use app_upgrade::domain::{
    Email, InvitationId, PlainSecret, Role, Scope, SecretKind, TeamId, Timestamp, UserId,
};
use app_upgrade::store::{CredentialStore, DynamoStore, Invitation, TeamStore};
use axum::Router;
use http::{Method, StatusCode};
use integration_tests::http::{Reply, request, send};
use integration_tests::teams::{Person, Pool, app, as_person, call, id};
use integration_tests::{fresh_store, new_token};
use serde_json::{Value, json};

/// An owner's team with one project and one API key.
struct Team {
    store: DynamoStore,
    pool: Pool,
    app: Router,
    owner: Person,
    team: String,
    project: String,
    key: String,
    key_id: String,
}

impl Team {
    async fn new() -> Self {
        let store = fresh_store().await;
        let pool = Pool::new().await;
        let app = app(&store, &pool);
        let owner = pool.person("owner", true).await;
        let created = call(
            &app,
            Method::POST,
            "/api/v1/teams",
            &owner,
            Some(json!({"name": " Mobile "})),
        )
        .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
        assert_eq!(created.json["name"], "Mobile");
        assert_eq!(created.json["role"], "owner");
        let team = id(&created, "id");
        let project = call(
            &app,
            Method::POST,
            &format!("/api/v1/projects?teamId={team}"),
            &owner,
            Some(json!({"name": "Wallpaper", "description": "the wallpaper app"})),
        )
        .await;
        assert_eq!(project.status, StatusCode::CREATED, "{}", project.json);
        assert!(project.headers.contains_key("location"));
        let project = id(&project, "id");
        let key = call(
            &app,
            Method::POST,
            &format!("/api/v1/projects/{project}/api-keys?teamId={team}"),
            &owner,
            Some(json!({"name": "android"})),
        )
        .await;
        assert_eq!(key.status, StatusCode::CREATED, "{}", key.json);
        Self {
            key_id: id(&key, "id"),
            key: id(&key, "apiKey"),
            store,
            pool,
            app,
            owner,
            team,
            project,
        }
    }

    async fn call(&self, method: Method, uri: &str, who: &Person, body: Option<Value>) -> Reply {
        call(&self.app, method, uri, who, body).await
    }

    /// `who` joins through an invitation with `role`.
    async fn join(&self, who: &Person, role: &str) {
        let invited = self
            .call(
                Method::POST,
                &format!("/api/v1/teams/{}/invitations", self.team),
                &self.owner,
                Some(json!({"email": who.email, "role": role})),
            )
            .await;
        assert_eq!(invited.status, StatusCode::CREATED, "{}", invited.json);
        let accepted = self
            .call(
                Method::POST,
                &format!("/api/v1/account/invitations/{}/accept", id(&invited, "id")),
                who,
                None,
            )
            .await;
        assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.json);
        assert_eq!(accepted.json["role"], role);
    }

    async fn members(&self) -> Value {
        let reply = self
            .call(
                Method::GET,
                &format!("/api/v1/teams/{}/members", self.team),
                &self.owner,
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
        reply.json
    }

    fn key_hash(&self) -> app_upgrade::domain::SecretHash {
        PlainSecret::parse(SecretKind::ApiKey, &self.key)
            .expect("a well-formed key")
            .hash()
    }
}

fn user(person: &Person) -> UserId {
    UserId::parse(&person.sub).expect("a sub")
}

fn version_body(project: &str) -> Value {
    json!({"project": project, "appName": "Wallpaper App", "appVersion": "<2.0.0",
           "platform": "android", "environment": "production", "forceUpgrade": true})
}

#[tokio::test]
async fn an_owner_builds_a_team_a_project_and_a_working_api_key() {
    let t = Team::new().await;
    let members = t.members().await;
    assert_eq!(members["results"][0]["email"], t.owner.email.as_str());
    assert_eq!(members["results"][0]["role"], "owner");
    let listed = t
        .call(
            Method::GET,
            &format!("/api/v1/projects/{}/api-keys?teamId={}", t.project, t.team),
            &t.owner,
            None,
        )
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    let keys = listed.json["results"].as_array().expect("a list");
    assert_eq!(keys.len(), 1);
    assert!(keys[0].get("apiKey").is_none(), "never the key again");
    assert!(!listed.raw.windows(8).any(|w| w == &t.key.as_bytes()[4..12]));
    assert_eq!(
        keys[0]["hint"],
        PlainSecret::parse(SecretKind::ApiKey, &t.key)
            .expect("key")
            .hint()
    );
    // The key is a credential of the project: what the check reads.
    match t.store.get_credential(&t.key_hash()).await.expect("read") {
        Some(app_upgrade::store::Credential::ApiKey(record)) => {
            assert_eq!(record.project_id.as_str(), t.project);
            assert_eq!(record.team_id.as_str(), t.team);
        }
        other => panic!("not an API key credential: {other:?}"),
    }
    // The teams list and the project read.
    let teams = t.call(Method::GET, "/api/v1/teams", &t.owner, None).await;
    assert_eq!(teams.json["results"][0]["id"], t.team.as_str());
    let project = t
        .call(
            Method::GET,
            &format!("/api/v1/projects/{}?teamId={}", t.project, t.team),
            &t.owner,
            None,
        )
        .await;
    assert_eq!(project.json["description"], "the wallpaper app");
    // Rename and describe.
    let renamed = t
        .call(
            Method::PATCH,
            &format!("/api/v1/projects/{}?teamId={}", t.project, t.team),
            &t.owner,
            Some(json!({"name": "Wallpapers"})),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.json);
    assert_eq!(renamed.json["name"], "Wallpapers");
    assert_eq!(renamed.json["description"], "the wallpaper app");
    // Revoked: the credential is gone for the check's next read.
    let revoked = t
        .call(
            Method::DELETE,
            &format!(
                "/api/v1/projects/{}/api-keys/{}?teamId={}",
                t.project, t.key_id, t.team
            ),
            &t.owner,
            None,
        )
        .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    assert_eq!(
        t.store.get_credential(&t.key_hash()).await.expect("read"),
        None
    );
    let again = t
        .call(
            Method::DELETE,
            &format!(
                "/api/v1/projects/{}/api-keys/{}?teamId={}",
                t.project, t.key_id, t.team
            ),
            &t.owner,
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn another_teams_ids_are_404_on_every_route() {
    let t = Team::new().await;
    let outsider = t.pool.person("outsider", true).await;
    // The outsider has a team of their own, so their session is live.
    let own = t
        .call(
            Method::POST,
            "/api/v1/teams",
            &outsider,
            Some(json!({"name": "Theirs"})),
        )
        .await;
    assert_eq!(own.status, StatusCode::CREATED);
    let invited = t
        .call(
            Method::POST,
            &format!("/api/v1/teams/{}/invitations", t.team),
            &t.owner,
            Some(json!({"email": "someone@example.com"})),
        )
        .await;
    let invitation = id(&invited, "id");
    let (team, project, key) = (&t.team, &t.project, &t.key_id);
    let routes = [
        (Method::GET, format!("/api/v1/teams/{team}"), None),
        (
            Method::PATCH,
            format!("/api/v1/teams/{team}"),
            Some(json!({"name": "x"})),
        ),
        (Method::GET, format!("/api/v1/teams/{team}/members"), None),
        (
            Method::PATCH,
            format!("/api/v1/teams/{team}/members/{}", t.owner.sub),
            Some(json!({"role": "member"})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/teams/{team}/members/{}", t.owner.sub),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/teams/{team}/invitations"),
            Some(json!({"email": "x@example.com"})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/teams/{team}/invitations/{invitation}"),
            None,
        ),
        (Method::GET, format!("/api/v1/projects?teamId={team}"), None),
        (
            Method::POST,
            format!("/api/v1/projects?teamId={team}"),
            Some(json!({"name": "x"})),
        ),
        (
            Method::GET,
            format!("/api/v1/projects/{project}?teamId={team}"),
            None,
        ),
        (
            Method::PATCH,
            format!("/api/v1/projects/{project}?teamId={team}"),
            Some(json!({"name": "x"})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/projects/{project}?teamId={team}"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/projects/{project}/api-keys?teamId={team}"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/projects/{project}/api-keys?teamId={team}"),
            Some(json!({"name": "x"})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/projects/{project}/api-keys/{key}?teamId={team}"),
            None,
        ),
        // Their own team id with this team's project: still not theirs.
        (
            Method::GET,
            format!("/api/v1/projects/{project}?teamId={}", id(&own, "id")),
            None,
        ),
    ];
    for (method, uri, body) in routes {
        let reply = t.call(method.clone(), &uri, &outsider, body).await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{method} {uri}: {}",
            reply.json
        );
    }
    // Nothing changed: the owner still sees it all.
    assert_eq!(
        t.members().await["results"].as_array().map(Vec::len),
        Some(1)
    );
    assert!(
        t.store
            .get_credential(&t.key_hash())
            .await
            .expect("read")
            .is_some()
    );

    // A PAT is never an account session on these routes…
    let pat = new_token(
        &t.store,
        &user(&t.owner),
        "ci",
        &[Scope::VersionsRead, Scope::VersionsWrite],
    )
    .await;
    let reply = send(
        &t.app,
        request(
            Method::GET,
            "/api/v1/teams",
            Some(pat.secret.expose()),
            None,
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    // …and on the version routes a PAT whose owner is not in the team is 404.
    let outsiders_pat = new_token(
        &t.store,
        &user(&outsider),
        "ci",
        &[Scope::VersionsRead, Scope::VersionsWrite],
    )
    .await;
    let versions = versions::app(t.store.clone());
    let reply = send(
        &versions,
        request(
            Method::GET,
            &format!("/api/v1/projects/{project}/versions?teamId={team}"),
            Some(outsiders_pat.secret.expose()),
            None,
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    // Unauthenticated: 401 before anything else.
    let anonymous = send(&t.app, as_person(Method::GET, "/api/v1/teams", None, None)).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_removed_member_is_refused_on_their_very_next_request() {
    let t = Team::new().await;
    let member = t.pool.person("member", true).await;
    t.join(&member, "member").await;
    let pat = new_token(
        &t.store,
        &user(&member),
        "ci",
        &[Scope::VersionsRead, Scope::VersionsWrite],
    )
    .await;
    let versions = versions::app(t.store.clone());
    let list_versions = format!("/api/v1/projects/{}/versions?teamId={}", t.project, t.team);
    let list_projects = format!("/api/v1/projects?teamId={}", t.team);
    let created = send(
        &versions,
        request(
            Method::POST,
            &list_versions,
            Some(pat.secret.expose()),
            Some(&version_body(&t.project)),
        ),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    assert_eq!(
        t.call(Method::GET, &list_projects, &member, None)
            .await
            .status,
        StatusCode::OK
    );

    let removed = t
        .call(
            Method::DELETE,
            &format!("/api/v1/teams/{}/members/{}", t.team, member.sub),
            &t.owner,
            None,
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let session = t.call(Method::GET, &list_projects, &member, None).await;
    assert_eq!(session.status, StatusCode::NOT_FOUND, "{}", session.json);
    let by_pat = send(
        &versions,
        request(Method::GET, &list_versions, Some(pat.secret.expose()), None),
    )
    .await;
    assert_eq!(by_pat.status, StatusCode::NOT_FOUND);
    let teams = t.call(Method::GET, "/api/v1/teams", &member, None).await;
    assert_eq!(teams.json["results"], json!([]));
}

#[tokio::test]
async fn roles_decide_who_renames_removes_and_promotes() {
    let t = Team::new().await;
    let member = t.pool.person("member", true).await;
    t.join(&member, "member").await;
    let team_uri = format!("/api/v1/teams/{}", t.team);
    let rename = t
        .call(
            Method::PATCH,
            &team_uri,
            &member,
            Some(json!({"name": "Mine"})),
        )
        .await;
    assert_eq!(rename.status, StatusCode::FORBIDDEN);
    let owner_invite = t
        .call(
            Method::POST,
            &format!("{team_uri}/invitations"),
            &member,
            Some(json!({"email": "boss@example.com", "role": "owner"})),
        )
        .await;
    assert_eq!(owner_invite.status, StatusCode::FORBIDDEN);
    let member_invite = t
        .call(
            Method::POST,
            &format!("{team_uri}/invitations"),
            &member,
            Some(json!({"email": "peer@example.com"})),
        )
        .await;
    assert_eq!(
        member_invite.status,
        StatusCode::CREATED,
        "{}",
        member_invite.json
    );
    let duplicate = t
        .call(
            Method::POST,
            &format!("{team_uri}/invitations"),
            &t.owner,
            Some(json!({"email": "PEER@example.com"})),
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT, "{}", duplicate.json);
    let remove_owner = t
        .call(
            Method::DELETE,
            &format!("{team_uri}/members/{}", t.owner.sub),
            &member,
            None,
        )
        .await;
    assert_eq!(remove_owner.status, StatusCode::FORBIDDEN);
    // The last owner can neither leave nor be demoted.
    let leave = t
        .call(
            Method::DELETE,
            &format!("{team_uri}/members/{}", t.owner.sub),
            &t.owner,
            None,
        )
        .await;
    assert_eq!(leave.status, StatusCode::CONFLICT);
    assert!(
        leave.json["message"]
            .as_str()
            .is_some_and(|m| m.contains("last owner"))
    );
    let demote = t
        .call(
            Method::PATCH,
            &format!("{team_uri}/members/{}", t.owner.sub),
            &t.owner,
            Some(json!({"role": "member"})),
        )
        .await;
    assert_eq!(demote.status, StatusCode::CONFLICT);
    // Promote the member; now the first owner may leave.
    let promote = t
        .call(
            Method::PATCH,
            &format!("{team_uri}/members/{}", member.sub),
            &t.owner,
            Some(json!({"role": "owner"})),
        )
        .await;
    assert_eq!(promote.status, StatusCode::OK, "{}", promote.json);
    assert_eq!(promote.json["role"], "owner");
    let renamed = t
        .call(
            Method::PATCH,
            &team_uri,
            &member,
            Some(json!({"name": "Ours"})),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK);
    let leave = t
        .call(
            Method::DELETE,
            &format!("{team_uri}/members/{}", t.owner.sub),
            &t.owner,
            None,
        )
        .await;
    assert_eq!(leave.status, StatusCode::NO_CONTENT);
    let members = call(
        &t.app,
        Method::GET,
        &format!("{team_uri}/members"),
        &member,
        None,
    )
    .await;
    let roles: Vec<&str> = members.json["results"]
        .as_array()
        .expect("members")
        .iter()
        .filter_map(|m| m["role"].as_str())
        .collect();
    assert_eq!(roles, ["owner"]);
}

#[tokio::test]
async fn two_owners_removing_each_other_at_once_leave_an_owner() {
    for round in 0..5 {
        let t = Team::new().await;
        let second = t.pool.person("second", true).await;
        t.join(&second, "owner").await;
        let team_uri = format!("/api/v1/teams/{}", t.team);
        let remove_second = format!("{team_uri}/members/{}", second.sub);
        let remove_first = format!("{team_uri}/members/{}", t.owner.sub);
        let (a, b) = tokio::join!(
            t.call(Method::DELETE, &remove_second, &t.owner, None),
            t.call(Method::DELETE, &remove_first, &second, None),
        );
        let succeeded = [&a, &b]
            .iter()
            .filter(|r| r.status == StatusCode::NO_CONTENT)
            .count();
        assert!(succeeded <= 1, "round {round}: both removals passed");
        for reply in [&a, &b] {
            assert!(
                reply.status == StatusCode::NO_CONTENT || reply.status.is_client_error(),
                "round {round}: {} {}",
                reply.status,
                reply.json
            );
        }
        // Whoever is left is an owner, and there is someone left.
        let survivor = if a.status == StatusCode::NO_CONTENT {
            &t.owner
        } else {
            &second
        };
        let members = t
            .call(Method::GET, &format!("{team_uri}/members"), survivor, None)
            .await;
        let owners = members.json["results"]
            .as_array()
            .expect("members")
            .iter()
            .filter(|m| m["role"] == "owner")
            .count();
        assert!(
            owners >= 1,
            "round {round}: no owner left: {}",
            members.json
        );
    }
}

#[tokio::test]
async fn the_same_invitation_accepted_ten_times_at_once_makes_one_membership() {
    let t = Team::new().await;
    let invitee = t.pool.person("invitee", true).await;
    let invited = t
        .call(
            Method::POST,
            &format!("/api/v1/teams/{}/invitations", t.team),
            &t.owner,
            Some(json!({"email": invitee.email})),
        )
        .await;
    let accept = format!("/api/v1/account/invitations/{}/accept", id(&invited, "id"));
    let mut handles = Vec::new();
    for _ in 0..10 {
        let (app, accept, invitee) = (t.app.clone(), accept.clone(), invitee.clone());
        handles.push(tokio::spawn(async move {
            call(&app, Method::POST, &accept, &invitee, None).await
        }));
    }
    let mut replies = Vec::new();
    for handle in handles {
        replies.push(handle.await.expect("task"));
    }
    let ok = replies
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    assert_eq!(
        ok,
        1,
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    for reply in &replies {
        assert!(
            matches!(
                reply.status,
                StatusCode::OK | StatusCode::NOT_FOUND | StatusCode::CONFLICT
            ),
            "{} {}",
            reply.status,
            reply.json
        );
    }
    assert_eq!(
        t.members().await["results"].as_array().map(Vec::len),
        Some(2)
    );
}

#[tokio::test]
async fn invitations_for_another_email_expired_or_withdrawn_are_refused_clearly() {
    let t = Team::new().await;
    let invitee = t.pool.person("invitee", true).await;
    let stranger = t.pool.person("stranger", true).await;
    let unverified = t.pool.person("unverified", false).await;
    let invitations = format!("/api/v1/teams/{}/invitations", t.team);
    let invite = |email: String| {
        t.call(
            Method::POST,
            &invitations,
            &t.owner,
            Some(json!({"email": email})),
        )
    };
    let invited = invite(invitee.email.clone()).await;
    let accept = format!("/api/v1/account/invitations/{}/accept", id(&invited, "id"));
    // Another account cannot take it, nor see it.
    let taken = t.call(Method::POST, &accept, &stranger, None).await;
    assert_eq!(taken.status, StatusCode::FORBIDDEN);
    assert!(
        taken.json["message"]
            .as_str()
            .is_some_and(|m| m.contains("another email"))
    );
    let theirs = t
        .call(Method::GET, "/api/v1/account/invitations", &stranger, None)
        .await;
    assert_eq!(theirs.json["results"], json!([]));
    let mine = t
        .call(Method::GET, "/api/v1/account/invitations", &invitee, None)
        .await;
    assert_eq!(mine.json["results"][0]["teamName"], "Mobile");
    // An unverified email is nobody's yet.
    let unverified_invite = invite(unverified.email.clone()).await;
    let listed = t
        .call(
            Method::GET,
            "/api/v1/account/invitations",
            &unverified,
            None,
        )
        .await;
    assert_eq!(listed.json["results"], json!([]));
    let refused = t
        .call(
            Method::POST,
            &format!(
                "/api/v1/account/invitations/{}/accept",
                id(&unverified_invite, "id")
            ),
            &unverified,
            None,
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.json["message"]
            .as_str()
            .is_some_and(|m| m.contains("not verified"))
    );
    // Withdrawn: gone.
    let withdrawn = t
        .call(
            Method::DELETE,
            &format!(
                "/api/v1/teams/{}/invitations/{}",
                t.team,
                id(&invited, "id")
            ),
            &t.owner,
            None,
        )
        .await;
    assert_eq!(withdrawn.status, StatusCode::NO_CONTENT);
    let late = t.call(Method::POST, &accept, &invitee, None).await;
    assert_eq!(late.status, StatusCode::NOT_FOUND);
    // Expired: said so.
    let now = Timestamp::now();
    let expired = Invitation {
        id: InvitationId::generate(),
        team_id: TeamId::parse(&t.team).expect("id"),
        email: Email::parse(&invitee.email).expect("email"),
        role: Role::Member,
        invited_by: user(&t.owner),
        created_at: now.plus_days(-8),
        expires_at: now.plus_millis(-1),
    };
    t.store
        .create_invitation(&expired, now.plus_days(-8), None)
        .await
        .expect("stored");
    let gone = t
        .call(
            Method::POST,
            &format!("/api/v1/account/invitations/{}/accept", expired.id),
            &invitee,
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::GONE);
    assert!(
        gone.json["message"]
            .as_str()
            .is_some_and(|m| m.contains("expired"))
    );
    assert_eq!(
        t.members().await["results"].as_array().map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn bad_input_lists_every_field_at_once() {
    let t = Team::new().await;
    let cases = [
        (
            Method::POST,
            "/api/v1/teams".to_owned(),
            json!({"name": "", "extra": 1}),
            vec!["extra", "name"],
        ),
        (
            Method::POST,
            "/api/v1/teams".to_owned(),
            json!({"name": "x".repeat(101)}),
            vec!["name"],
        ),
        (
            Method::POST,
            format!("/api/v1/teams/{}/invitations", t.team),
            json!({"email": "not an email", "role": "admin", "teamId": "x"}),
            vec!["email", "role", "teamId"],
        ),
        (
            Method::POST,
            format!("/api/v1/teams/{}/invitations", t.team),
            json!({"email": format!("{}@example.com", "a".repeat(250))}),
            vec!["email"],
        ),
        (
            Method::POST,
            format!("/api/v1/projects?teamId={}", t.team),
            json!({"name": 7, "description": "d".repeat(1001)}),
            vec!["description", "name"],
        ),
        (
            Method::PATCH,
            format!("/api/v1/teams/{}/members/{}", t.team, t.owner.sub),
            json!({"role": "root"}),
            vec!["role"],
        ),
    ];
    for (method, uri, body, fields) in cases {
        let reply = t.call(method.clone(), &uri, &t.owner, Some(body)).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{method} {uri}: {}",
            reply.json
        );
        let mut got = reply.error_fields();
        got.sort();
        assert_eq!(got, fields, "{method} {uri}");
    }
    let no_team = t
        .call(Method::GET, "/api/v1/projects", &t.owner, None)
        .await;
    assert_eq!(no_team.status, StatusCode::BAD_REQUEST);
    assert_eq!(no_team.error_fields(), ["teamId"]);
    let mut not_json = as_person(Method::POST, "/api/v1/teams", Some(&t.owner), None);
    *not_json.body_mut() = axum::body::Body::from("name=x");
    assert_eq!(
        send(&t.app, not_json).await.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
}

#[tokio::test]
async fn deleting_a_project_removes_its_versions_and_revokes_its_keys() {
    let t = Team::new().await;
    let pat = new_token(
        &t.store,
        &user(&t.owner),
        "ci",
        &[Scope::VersionsRead, Scope::VersionsWrite],
    )
    .await;
    let versions = versions::app(t.store.clone());
    let collection = format!("/api/v1/projects/{}/versions?teamId={}", t.project, t.team);
    for v in ["1.0.0", "1.1.0", "<2.0.0"] {
        let mut body = version_body(&t.project);
        body["appVersion"] = json!(v);
        let reply = send(
            &versions,
            request(
                Method::POST,
                &collection,
                Some(pat.secret.expose()),
                Some(&body),
            ),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED);
    }
    let deleted = t
        .call(
            Method::DELETE,
            &format!("/api/v1/projects/{}?teamId={}", t.project, t.team),
            &t.owner,
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.json);
    assert_eq!(
        t.store.get_credential(&t.key_hash()).await.expect("read"),
        None
    );
    let partition =
        integration_tests::faults::scan(t.store.client(), t.store.versions_table()).await;
    assert!(
        !partition.iter().any(|item| {
            item.get("pk")
                .and_then(|v| v.as_s().ok())
                .is_some_and(|pk| pk.contains(&t.project))
                || item
                    .get("sk")
                    .and_then(|v| v.as_s().ok())
                    .is_some_and(|sk| sk.contains(&t.project))
        }),
        "nothing of the project is left"
    );
    let gone = send(
        &versions,
        request(Method::GET, &collection, Some(pat.secret.expose()), None),
    )
    .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    let listed = t
        .call(
            Method::GET,
            &format!("/api/v1/projects?teamId={}", t.team),
            &t.owner,
            None,
        )
        .await;
    assert_eq!(listed.json["results"], json!([]));
}

#[tokio::test]
async fn a_project_delete_cut_at_any_call_leaves_no_live_key_and_finishes_when_run_again() {
    // Cut the answer of call k (the write is applied, the client sees an
    // error), for every k the delete makes.
    for cut in 0.. {
        let t = Team::new().await;
        let pat = new_token(&t.store, &user(&t.owner), "ci", &[Scope::VersionsWrite]).await;
        let versions = versions::app(t.store.clone());
        let collection = format!("/api/v1/projects/{}/versions?teamId={}", t.project, t.team);
        let made = send(
            &versions,
            request(
                Method::POST,
                &collection,
                Some(pat.secret.expose()),
                Some(&version_body(&t.project)),
            ),
        )
        .await;
        assert_eq!(made.status, StatusCode::CREATED);
        let faulty = integration_tests::teams::cut_answer(&t.store, cut);
        let faulty_app = app(&faulty.store, &t.pool);
        let uri = format!("/api/v1/projects/{}?teamId={}", t.project, t.team);
        let first = call(&faulty_app, Method::DELETE, &uri, &t.owner, None).await;
        if first.status == StatusCode::NO_CONTENT {
            assert!(cut > 2, "the delete makes several calls");
            break;
        }
        assert!(
            first.status.is_server_error(),
            "cut {cut}: {} {}",
            first.status,
            first.json
        );
        let key_live = t
            .store
            .get_credential(&t.key_hash())
            .await
            .expect("read")
            .is_some();
        let project_listed = t
            .call(
                Method::GET,
                &format!("/api/v1/projects?teamId={}", t.team),
                &t.owner,
                None,
            )
            .await
            .json["results"]
            .as_array()
            .is_some_and(|p| !p.is_empty());
        // Either nothing happened yet, or the key is dead and the project gone from view.
        assert!(
            !key_live || project_listed,
            "cut {cut}: a live key of a project being deleted"
        );
        if !key_live {
            assert!(
                !project_listed,
                "cut {cut}: the project is half deleted but listed"
            );
        }
        let again = t.call(Method::DELETE, &uri, &t.owner, None).await;
        assert!(
            matches!(again.status, StatusCode::NO_CONTENT | StatusCode::NOT_FOUND),
            "cut {cut}: {} {}",
            again.status,
            again.json
        );
        assert_eq!(
            t.store.get_credential(&t.key_hash()).await.expect("read"),
            None
        );
        let after = t.call(Method::GET, &uri, &t.owner, None).await;
        assert_eq!(after.status, StatusCode::NOT_FOUND, "cut {cut}");
        assert!(cut < 20, "the delete should end within 20 calls");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}
