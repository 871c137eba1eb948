//! The team's and the account's activity against the real local emulators:
//! every team write (the team, its members and invitations, its projects
//! and API keys) and every token write leaves exactly one event naming its
//! actor, changes and source IP, written in the write's own transaction (a
//! cut or refused transaction leaves both or neither, a replay nothing
//! new); another team's member sees 404; the feeds page with their cursor;
//! a project's delete leaves the team's record of it; what the record
//! costs a team write.

use std::sync::atomic::{AtomicBool, Ordering};

use app_upgrade::domain::activity::{Action, Actor, Origin, Provenance, Target};
use app_upgrade::domain::{PlainSecret, Scope, SecretKind, TeamId, Timestamp, UserId};
use app_upgrade::store::{DynamoStore, Feed};
use aws_sdk_dynamodb::config::interceptors::{
    BeforeDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsInput;
use axum::Router;
use axum::body::Body;
use http::{Method, Request, StatusCode};
use integration_tests::faults::scan;
use integration_tests::http::{Reply, send};
use integration_tests::intercept::{NeverSent, TransactItems, with_interceptor};
use integration_tests::teams::{Person, Pool, as_person, id};
use integration_tests::{Counting, Fixture, fresh_store, new_token};
use lambda_http::request::RequestContext;
use serde_json::{Value, json};

/// The address `as_person` puts in API Gateway's request context.
const PERSON_IP: &str = "192.0.2.10";
/// The address of CI's requests here.
const CI_IP: &str = "203.0.113.7";

// ---- fault injection on a store's client ----

/// The first `TransactWriteItems` is sent and applied, but its answer is
/// lost (a timeout or a cut connection after the write), whatever calls
/// come before it.
#[derive(Debug, Default)]
struct CutFirstTransaction {
    sending: AtomicBool,
    cut: AtomicBool,
}

impl Intercept for CutFirstTransaction {
    fn name(&self) -> &'static str {
        "CutFirstTransaction"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let transaction = context
            .input()
            .downcast_ref::<TransactWriteItemsInput>()
            .is_some();
        self.sending.store(transaction, Ordering::SeqCst);
        Ok(())
    }

    fn read_before_deserialization(
        &self,
        _context: &BeforeDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if self.sending.load(Ordering::SeqCst) && !self.cut.swap(true, Ordering::SeqCst) {
            return Err("the answer was lost".into());
        }
        Ok(())
    }
}

// ---- the team ----

/// An owner's team, in fresh tables and a fresh user pool.
struct TeamRig {
    store: DynamoStore,
    pool: Pool,
    app: Router,
    owner: Person,
    team: String,
}

impl TeamRig {
    async fn new() -> Self {
        let store = fresh_store().await;
        let pool = Pool::new().await;
        let app = teams::app(store.clone(), pool.accounts());
        let owner = pool.person("owner", true).await;
        let created = send(
            &app,
            as_person(
                Method::POST,
                "/api/v1/teams",
                Some(&owner),
                Some(&json!({"name": "Mobile"})),
            ),
        )
        .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
        let team = id(&created, "id");
        Self {
            store,
            pool,
            app,
            owner,
            team,
        }
    }

    /// The same team's API on another store (a faulty one) of its tables.
    fn app_on(&self, store: DynamoStore) -> Router {
        teams::app(store, self.pool.accounts())
    }

    async fn call(&self, method: Method, uri: &str, who: &Person, body: Option<Value>) -> Reply {
        send(&self.app, as_person(method, uri, Some(who), body.as_ref())).await
    }

    /// `call`, which must succeed.
    async fn ok(&self, method: Method, uri: &str, who: &Person, body: Option<Value>) -> Reply {
        let reply = self.call(method, uri, who, body).await;
        assert!(reply.status.is_success(), "{uri}: {}", reply.json);
        reply
    }

    fn feed(&self, query: &str) -> String {
        format!("/api/v1/teams/{}/activity{query}", self.team)
    }

    fn projects(&self) -> String {
        format!("/api/v1/projects?teamId={}", self.team)
    }

    fn project(&self, project: &str, rest: &str) -> String {
        format!("/api/v1/projects/{project}{rest}?teamId={}", self.team)
    }

    /// Every event of the team's feed, newest first, as `who` reads it.
    async fn events(&self, who: &Person) -> Vec<Value> {
        let reply = self
            .call(Method::GET, &self.feed("?limit=100"), who, None)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
        assert!(reply.json["nextCursor"].is_null(), "{}", reply.json);
        reply.json["results"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// `who` joins through an invitation with `role`.
    async fn join(&self, who: &Person, role: &str) {
        let invited = self
            .ok(
                Method::POST,
                &format!("/api/v1/teams/{}/invitations", self.team),
                &self.owner,
                Some(json!({"email": who.email, "role": role})),
            )
            .await;
        self.ok(
            Method::POST,
            &format!("/api/v1/account/invitations/{}/accept", id(&invited, "id")),
            who,
            None,
        )
        .await;
    }
}

/// The events of one partition (`pk`) of `table`, as stored.
async fn stored_events(store: &DynamoStore, table: &str, pk: &str) -> usize {
    scan(store.client(), table)
        .await
        .iter()
        .filter(|item| {
            item.get("pk")
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
                == Some(pk)
                && item
                    .get("sk")
                    .and_then(|v| v.as_s().ok())
                    .is_some_and(|sk| sk.starts_with("EVENT#"))
        })
        .count()
}

fn actions(events: &[Value]) -> Vec<&str> {
    events.iter().filter_map(|e| e["action"].as_str()).collect()
}

fn change(event: &Value, field: &str) -> (Value, Value) {
    let change = &event["changes"][field];
    (change["before"].clone(), change["after"].clone())
}

#[tokio::test]
async fn each_team_write_leaves_one_event_naming_its_actor_changes_and_source() {
    let t = TeamRig::new().await;
    let member = t.pool.person("member", true).await;
    let owner = &t.owner;
    t.ok(
        Method::PATCH,
        &format!("/api/v1/teams/{}", t.team),
        owner,
        Some(json!({"name": "Mobile apps"})),
    )
    .await;
    let project = t
        .ok(
            Method::POST,
            &t.projects(),
            owner,
            Some(json!({"name": "Wallpaper"})),
        )
        .await;
    let project = id(&project, "id");
    t.ok(
        Method::PATCH,
        &t.project(&project, ""),
        owner,
        Some(json!({"name": "Wallpapers", "description": "the app"})),
    )
    .await;
    let key = t
        .ok(
            Method::POST,
            &t.project(&project, "/api-keys"),
            owner,
            Some(json!({"name": "android"})),
        )
        .await;
    let (key_id, api_key) = (id(&key, "id"), id(&key, "apiKey"));
    t.ok(
        Method::DELETE,
        &t.project(&project, &format!("/api-keys/{key_id}")),
        owner,
        None,
    )
    .await;
    t.join(&member, "member").await;
    let members = format!("/api/v1/teams/{}/members/{}", t.team, member.sub);
    t.ok(
        Method::PATCH,
        &members,
        owner,
        Some(json!({"role": "owner"})),
    )
    .await;
    // The same role again writes nothing, so records nothing.
    t.ok(
        Method::PATCH,
        &members,
        owner,
        Some(json!({"role": "owner"})),
    )
    .await;
    t.ok(
        Method::PATCH,
        &members,
        owner,
        Some(json!({"role": "member"})),
    )
    .await;
    let later = t.pool.person("later", true).await;
    let invited = t
        .ok(
            Method::POST,
            &format!("/api/v1/teams/{}/invitations", t.team),
            &member,
            Some(json!({"email": later.email, "role": "member"})),
        )
        .await;
    let invitation = id(&invited, "id");
    t.ok(
        Method::DELETE,
        &format!("/api/v1/teams/{}/invitations/{invitation}", t.team),
        &member,
        None,
    )
    .await;
    // The member leaves; the project goes, its partition swept.
    t.ok(Method::DELETE, &members, &member, None).await;
    t.ok(Method::DELETE, &t.project(&project, ""), owner, None)
        .await;

    let events = t.events(owner).await;
    // What the dashboard shows (`--no-capture` prints it).
    println!(
        "{}",
        serde_json::to_string_pretty(&events).unwrap_or_default()
    );
    assert_eq!(
        actions(&events),
        [
            "project.deleted",
            "member.removed",
            "member.removed",
            "member.invited",
            "member.roleChanged",
            "member.roleChanged",
            "member.joined",
            "member.invited",
            "apiKey.revoked",
            "apiKey.created",
            "project.updated",
            "project.created",
            "team.updated",
            "team.created",
        ]
    );
    // Exactly one item per write, all in the team's partition.
    let team_pk = format!("TEAM#{}", t.team);
    assert_eq!(
        stored_events(&t.store, t.store.versions_table(), &team_pk).await,
        14
    );
    for event in &events {
        assert_eq!(event["sourceIp"], PERSON_IP, "{event}");
        assert_eq!(event["userAgent"], "tests");
        assert_eq!(event["actor"]["kind"], "session");
        assert!(event["actor"]["tokenId"].is_null());
        assert!(event["id"].as_str().is_some_and(|e| e.starts_with("evt_")));
    }
    let by = |i: usize| events[i]["actor"]["email"].as_str().unwrap_or_default();
    let target = |i: usize| &events[i]["target"];
    // Who: the owner, the member (invite, withdraw, leave, join).
    for i in [0, 4, 5, 7, 8, 9, 10, 11, 12, 13] {
        assert_eq!(by(i), owner.email, "{}", events[i]);
    }
    for i in [1, 2, 3, 6] {
        assert_eq!(by(i), member.email, "{}", events[i]);
    }
    assert_eq!(events[6]["actor"]["userId"], member.sub.as_str());
    // What: targets and before/after.
    assert_eq!(*target(0), json!({"kind": "project", "id": project}));
    assert_eq!(
        change(&events[0], "name"),
        (json!("Wallpapers"), Value::Null)
    );
    assert_eq!(*target(1), json!({"kind": "member", "id": member.sub}));
    assert_eq!(change(&events[1], "role"), (json!("member"), Value::Null));
    assert_eq!(*target(2), json!({"kind": "invitation", "id": invitation}));
    assert_eq!(
        change(&events[2], "email"),
        (json!(later.email), Value::Null)
    );
    assert_eq!(*target(3), json!({"kind": "invitation", "id": invitation}));
    assert_eq!(
        change(&events[4], "role"),
        (json!("owner"), json!("member"))
    );
    assert_eq!(
        change(&events[5], "role"),
        (json!("member"), json!("owner"))
    );
    assert_eq!(*target(6), json!({"kind": "member", "id": member.sub}));
    assert_eq!(change(&events[6], "role"), (Value::Null, json!("member")));
    assert_eq!(*target(8), json!({"kind": "apiKey", "id": key_id}));
    assert_eq!(change(&events[8], "name"), (json!("android"), Value::Null));
    assert_eq!(change(&events[9], "project"), (Value::Null, json!(project)));
    assert_eq!(
        change(&events[10], "name"),
        (json!("Wallpaper"), json!("Wallpapers"))
    );
    assert_eq!(
        change(&events[10], "description"),
        (json!(""), json!("the app"))
    );
    assert_eq!(
        change(&events[12], "name"),
        (json!("Mobile"), json!("Mobile apps"))
    );
    assert_eq!(*target(13), json!({"kind": "team", "id": t.team}));
    // Never the key or its hash.
    let text = serde_json::to_string(&events).expect("json");
    let key = PlainSecret::parse(SecretKind::ApiKey, &api_key).expect("a key");
    for secret in [&api_key[4..], &key.hash().to_hex()] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}

#[tokio::test]
async fn only_the_teams_members_read_its_feed_and_bad_paging_is_400() {
    let t = TeamRig::new().await;
    let outsider = t.pool.person("outsider", true).await;
    // The outsider's own team, and its feed.
    let theirs = send(
        &t.app,
        as_person(
            Method::POST,
            "/api/v1/teams",
            Some(&outsider),
            Some(&json!({"name": "Theirs"})),
        ),
    )
    .await;
    let theirs = id(&theirs, "id");
    let ours = t.call(Method::GET, &t.feed(""), &outsider, None).await;
    assert_eq!(ours.status, StatusCode::NOT_FOUND, "{}", ours.json);
    assert_eq!(ours.json["code"], 404);
    let unknown = format!("/api/v1/teams/{}/activity", TeamId::generate());
    for uri in [unknown.as_str(), "/api/v1/teams/nope/activity"] {
        let reply = t.call(Method::GET, uri, &t.owner, None).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{uri}");
    }
    let anonymous = send(&t.app, as_person(Method::GET, &t.feed(""), None, None)).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let mine = t
        .call(
            Method::GET,
            &format!("/api/v1/teams/{theirs}/activity"),
            &outsider,
            None,
        )
        .await;
    assert_eq!(
        actions(mine.json["results"].as_array().expect("a list")),
        ["team.created"]
    );
    assert_eq!(actions(&t.events(&t.owner).await), ["team.created"]);
    for bad in ["?limit=0", "?limit=101", "?limit=x", "?cursor=nope"] {
        let reply = t.call(Method::GET, &t.feed(bad), &t.owner, None).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(!reply.error_fields().is_empty(), "{bad}: {}", reply.json);
    }
    let wrong = t.call(Method::POST, &t.feed(""), &t.owner, None).await;
    assert_eq!(wrong.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn the_team_feed_pages_each_event_once_newest_first() {
    let t = TeamRig::new().await;
    let team = TeamId::parse(&t.team).expect("a team id");
    let by = Provenance::new(
        Actor::session(UserId::parse(&t.owner.sub).expect("sub"), None),
        Origin::default(),
        Timestamp::now(),
    );
    let seeded: Vec<_> = (0..44)
        .map(|i| {
            by.event(
                Action::ProjectCreated,
                Target::new("project", format!("prj_{i}")),
                Default::default(),
            )
        })
        .collect();
    t.store
        .seed_feed(&Feed::Team(team), &seeded)
        .await
        .expect("seeded");
    let (mut seen, mut cursor, mut pages) = (Vec::new(), String::new(), 0);
    loop {
        let query = match cursor.as_str() {
            "" => "?limit=20".to_owned(),
            c => format!("?limit=20&cursor={c}"),
        };
        let page = t.call(Method::GET, &t.feed(&query), &t.owner, None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.json);
        let results = page.json["results"].as_array().expect("a list");
        assert!(results.len() <= 20);
        seen.extend(
            results
                .iter()
                .map(|e| e["id"].as_str().expect("id").to_owned()),
        );
        pages += 1;
        match page.json["nextCursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
        assert!(pages < 10, "paging does not end");
    }
    assert_eq!(seen.len(), 45, "44 seeded and team.created");
    let mut newest_first = seen.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    newest_first.dedup();
    assert_eq!(seen, newest_first, "each once, newest first");
}

#[tokio::test]
async fn a_cut_or_refused_team_write_leaves_its_change_and_its_event_together_or_neither() {
    let t = TeamRig::new().await;
    let count = async || {
        let pk = format!("TEAM#{}", t.team);
        let events = stored_events(&t.store, t.store.versions_table(), &pk).await;
        let projects = scan(t.store.client(), t.store.versions_table())
            .await
            .iter()
            .filter(|i| {
                i.get("sk").and_then(|v| v.as_s().ok()).map(String::as_str) == Some("PROJECT")
            })
            .count();
        (projects, events)
    };
    assert_eq!(count().await, (0, 1));
    let body = Some(json!({"name": "Wallpaper"}));

    // 1. The transaction never reaches DynamoDB: neither.
    let refused = t.app_on(with_interceptor(&t.store, NeverSent));
    let reply = send(
        &refused,
        as_person(Method::POST, &t.projects(), Some(&t.owner), body.as_ref()),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.json
    );
    assert_eq!(count().await, (0, 1));

    // 2. Applied, but its answer lost: both.
    let cut = t.app_on(with_interceptor(&t.store, CutFirstTransaction::default()));
    let reply = send(
        &cut,
        as_person(Method::POST, &t.projects(), Some(&t.owner), body.as_ref()),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.json
    );
    assert_eq!(count().await, (1, 2));
    assert_eq!(
        actions(&t.events(&t.owner).await),
        ["project.created", "team.created"]
    );

    // 3. DynamoDB refuses it (the last owner demoted): neither.
    let demote = t
        .call(
            Method::PATCH,
            &format!("/api/v1/teams/{}/members/{}", t.team, t.owner.sub),
            &t.owner,
            Some(json!({"role": "member"})),
        )
        .await;
    assert_eq!(demote.status, StatusCode::CONFLICT, "{}", demote.json);
    assert_eq!(count().await, (1, 2));
    let members = t
        .call(
            Method::GET,
            &format!("/api/v1/teams/{}/members", t.team),
            &t.owner,
            None,
        )
        .await;
    assert_eq!(members.json["results"][0]["role"], "owner");

    // 4. A rename cut after DynamoDB applied it: the change and its event.
    let cut = t.app_on(with_interceptor(&t.store, CutFirstTransaction::default()));
    let reply = send(
        &cut,
        as_person(
            Method::PATCH,
            &format!("/api/v1/teams/{}", t.team),
            Some(&t.owner),
            Some(&json!({"name": "Renamed"})),
        ),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.json
    );
    let events = t.events(&t.owner).await;
    assert_eq!(actions(&events)[0], "team.updated");
    assert_eq!(
        change(&events[0], "name"),
        (json!("Mobile"), json!("Renamed"))
    );
    assert_eq!(count().await, (1, 3));
}

#[tokio::test]
async fn a_projects_delete_leaves_the_teams_record_of_it() {
    let t = TeamRig::new().await;
    let project = t
        .ok(
            Method::POST,
            &t.projects(),
            &t.owner,
            Some(json!({"name": "Doomed"})),
        )
        .await;
    let project = id(&project, "id");
    t.ok(
        Method::POST,
        &t.project(&project, "/api-keys"),
        &t.owner,
        Some(json!({"name": "k"})),
    )
    .await;
    t.ok(Method::DELETE, &t.project(&project, ""), &t.owner, None)
        .await;
    // Nothing of the project's partition is left; its record is.
    let left = scan(t.store.client(), t.store.versions_table())
        .await
        .iter()
        .filter(|i| {
            i.get("pk")
                .and_then(|v| v.as_s().ok())
                .is_some_and(|pk| pk.starts_with(&format!("PROJECT#{project}")))
        })
        .count();
    assert_eq!(left, 0);
    let events = t.events(&t.owner).await;
    assert_eq!(
        actions(&events),
        [
            "project.deleted",
            "apiKey.created",
            "project.created",
            "team.created"
        ]
    );
    assert_eq!(change(&events[0], "apiKeys"), (json!(1), json!(0)));
}

/// What the record costs each team write: DynamoDB calls and transaction
/// items through the route. Prints the table the README quotes.
#[tokio::test]
async fn what_the_record_costs_per_team_write() {
    let t = TeamRig::new().await;
    let member = t.pool.person("member", true).await;
    let counted = TransactItems::default();
    let counting = Counting::new(&with_interceptor(&t.store, counted.clone()));
    let app = t.app_on(counting.store.clone());
    let measure = async |method: Method, uri: &str, who: &Person, body: Option<Value>| {
        let (calls, items) = (counting.calls(), counted.0.load(Ordering::SeqCst));
        let reply = send(&app, as_person(method, uri, Some(who), body.as_ref())).await;
        assert!(reply.status.is_success(), "{uri}: {}", reply.json);
        (
            reply,
            counting.calls() - calls,
            counted.0.load(Ordering::SeqCst) - items,
        )
    };
    let team_uri = format!("/api/v1/teams/{}", t.team);
    let (_, rename_calls, rename_items) = measure(
        Method::PATCH,
        &team_uri,
        &t.owner,
        Some(json!({"name": "Renamed"})),
    )
    .await;
    let (project, create_calls, create_items) = measure(
        Method::POST,
        &t.projects(),
        &t.owner,
        Some(json!({"name": "P"})),
    )
    .await;
    let project = id(&project, "id");
    let (_, update_calls, update_items) = measure(
        Method::PATCH,
        &t.project(&project, ""),
        &t.owner,
        Some(json!({"name": "Q"})),
    )
    .await;
    let (key, key_calls, key_items) = measure(
        Method::POST,
        &t.project(&project, "/api-keys"),
        &t.owner,
        Some(json!({"name": "k"})),
    )
    .await;
    let (_, revoke_calls, revoke_items) = measure(
        Method::DELETE,
        &t.project(&project, &format!("/api-keys/{}", id(&key, "id"))),
        &t.owner,
        None,
    )
    .await;
    let (invited, invite_calls, invite_items) = measure(
        Method::POST,
        &format!("{team_uri}/invitations"),
        &t.owner,
        Some(json!({"email": member.email, "role": "member"})),
    )
    .await;
    let (_, accept_calls, accept_items) = measure(
        Method::POST,
        &format!("/api/v1/account/invitations/{}/accept", id(&invited, "id")),
        &member,
        None,
    )
    .await;
    let member_uri = format!("{team_uri}/members/{}", member.sub);
    let (_, role_calls, role_items) = measure(
        Method::PATCH,
        &member_uri,
        &t.owner,
        Some(json!({"role": "owner"})),
    )
    .await;
    let (_, remove_calls, remove_items) =
        measure(Method::DELETE, &member_uri, &t.owner, None).await;
    let (_, delete_calls, delete_items) =
        measure(Method::DELETE, &t.project(&project, ""), &t.owner, None).await;
    let figures = [
        ("rename team", rename_calls, rename_items),
        ("create project", create_calls, create_items),
        ("update project", update_calls, update_items),
        ("create API key", key_calls, key_items),
        ("revoke API key", revoke_calls, revoke_items),
        ("invite", invite_calls, invite_items),
        ("accept", accept_calls, accept_items),
        ("change role", role_calls, role_items),
        ("remove member", remove_calls, remove_items),
        ("delete empty project", delete_calls, delete_items),
    ];
    println!("DynamoDB calls and transaction items per team write, with the record: {figures:?}");
    // What an event stores: DynamoDB bills an item by its attribute names
    // and values (here strings and a number).
    let sizes: Vec<usize> = scan(t.store.client(), t.store.versions_table())
        .await
        .iter()
        .filter(|item| {
            item.get("sk")
                .and_then(|v| v.as_s().ok())
                .is_some_and(|sk| sk.starts_with("EVENT#"))
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
    println!("team EVENT# item bytes: {sizes:?}");
    assert_eq!(sizes.len(), 11, "team.created and the ten writes");
    assert!(
        sizes.iter().all(|&size| size < 1024),
        "each fits in one write unit: {sizes:?}"
    );
    // Before the record each write's transaction held one item less (a
    // project delete's first one) and the calls were the same but a
    // rename's: 2 then (the caller's membership, an `UpdateItem`), 3 now
    // (a `GetItem` of the name it replaces, then a transaction). The
    // invitation's user-pool calls are not DynamoDB's and not counted.
    assert_eq!(
        figures,
        [
            ("rename team", 3, 2),
            ("create project", 2, 4),
            ("update project", 3, 3),
            ("create API key", 4, 4),
            ("revoke API key", 4, 3),
            ("invite", 4, 6),
            ("accept", 3, 8),
            ("change role", 3, 5),
            ("remove member", 3, 5),
            ("delete empty project", 7, 5),
        ]
    );
}

// ---- the account's tokens ----

const TOKENS: &str = "/api/v1/account/tokens";
const ROTATE: &str = "/api/v1/account/tokens/self/rotate";
const ACCOUNT_FEED: &str = "/api/v1/account/activity";

/// The fixture's account, as a session.
fn person_of(fx: &Fixture) -> Person {
    Person {
        sub: fx.user.to_string(),
        username: fx.user.to_string(),
        email: String::new(),
    }
}

/// A request made with a PAT from CI's address, with an `Idempotency-Key`
/// when given.
fn with_pat(method: Method, uri: &str, token: &str, key: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder()
        .method(method)
        .uri(uri)
        .header("authorization", format!("Bearer {token}"))
        .header("user-agent", "aau/1.0 (ci)");
    if let Some(key) = key {
        builder = builder.header("idempotency-key", key);
    }
    let mut request = builder.body(Body::empty()).expect("a request");
    let context = serde_json::from_value(json!({
        "http": {"method": "POST", "path": uri, "protocol": "HTTP/1.1",
                 "sourceIp": CI_IP, "userAgent": "aau/1.0 (ci)"}
    }))
    .expect("a request context");
    request
        .extensions_mut()
        .insert(RequestContext::ApiGatewayV2(context));
    request
}

/// Every event of `who`'s account feed, newest first.
async fn account_events(app: &Router, who: &Person) -> Vec<Value> {
    let reply = send(
        app,
        as_person(
            Method::GET,
            &format!("{ACCOUNT_FEED}?limit=100"),
            Some(who),
            None,
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.json);
    reply.json["results"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn create(app: &Router, who: &Person, name: &str) -> Reply {
    send(
        app,
        as_person(
            Method::POST,
            TOKENS,
            Some(who),
            Some(&json!({"name": name, "scopes": ["versions:read"]})),
        ),
    )
    .await
}

#[tokio::test]
async fn each_token_write_leaves_one_account_event_with_its_source() {
    let fx = Fixture::new().await;
    let app = tokens::app(fx.store.clone());
    let me = person_of(&fx);
    let created = create(&app, &me, "ci").await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let (token_id, secret) = (id(&created, "id"), id(&created, "token"));
    let rotated = send(&app, with_pat(Method::POST, ROTATE, &secret, None)).await;
    assert_eq!(rotated.status, StatusCode::CREATED, "{}", rotated.json);
    let current = id(&rotated, "token");
    // A duplicate name is refused by DynamoDB: nothing recorded.
    let dup = create(&app, &me, "ci").await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    // The rotated-away secret again: the token is revoked, as reuse.
    let reuse = send(&app, with_pat(Method::POST, ROTATE, &secret, None)).await;
    assert_eq!(reuse.status, StatusCode::UNAUTHORIZED);
    let one = id(&create(&app, &me, "one").await, "id");
    let two = id(&create(&app, &me, "two").await, "id");
    let revoked = send(
        &app,
        as_person(Method::DELETE, &format!("{TOKENS}/{one}"), Some(&me), None),
    )
    .await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT);
    let all = send(&app, as_person(Method::DELETE, TOKENS, Some(&me), None)).await;
    assert_eq!(all.json, json!({"revoked": 3}), "two, rw and read");

    let events = account_events(&app, &me).await;
    println!(
        "{}",
        serde_json::to_string_pretty(&events).unwrap_or_default()
    );
    let mut acted = actions(&events);
    // The revoke-all's three events are one per token, in no set order.
    acted[..3].sort_unstable();
    assert_eq!(
        acted,
        [
            "token.revoked",
            "token.revoked",
            "token.revoked",
            "token.revoked",
            "token.created",
            "token.created",
            "token.reuseDetected",
            "token.rotated",
            "token.created",
        ]
    );
    let revoked_ids: Vec<&str> = events[..3]
        .iter()
        .filter_map(|e| e["target"]["id"].as_str())
        .collect();
    assert!(revoked_ids.contains(&two.as_str()), "{revoked_ids:?}");
    assert_eq!(events[3]["target"], json!({"kind": "token", "id": one}));
    let owner = fx.user.as_str();
    for event in &events {
        assert_eq!(event["actor"]["userId"], owner, "{event}");
        assert!(event["sourceIp"].is_string(), "{event}");
    }
    // By the session: created, revoked.
    let created_event = &events[8];
    assert_eq!(created_event["actor"]["kind"], "session");
    assert_eq!(created_event["sourceIp"], PERSON_IP);
    assert_eq!(
        created_event["target"],
        json!({"kind": "token", "id": token_id})
    );
    assert_eq!(change(created_event, "name"), (Value::Null, json!("ci")));
    assert_eq!(
        change(created_event, "scopes"),
        (Value::Null, json!(["versions:read"]))
    );
    // By the token itself, from CI: the rotation and the reuse.
    for event in &events[6..8] {
        assert_eq!(event["actor"]["kind"], "pat");
        assert_eq!(event["actor"]["tokenId"], token_id.as_str());
        assert_eq!(event["actor"]["tokenName"], "ci");
        assert_eq!(event["sourceIp"], CI_IP);
        assert_eq!(event["target"]["id"], token_id.as_str());
    }
    assert_eq!(events[7]["userAgent"], "aau/1.0 (ci)");
    assert_eq!(change(&events[6], "name"), (json!("ci"), Value::Null));
    // One item per write, in the account's own partition; no secret.
    let pk = format!("ACCOUNTEVENTS#{owner}");
    assert_eq!(
        stored_events(&fx.store, fx.store.tokens_table(), &pk).await,
        9
    );
    let text = serde_json::to_string(&events).expect("json");
    for token in [&secret, &current] {
        let plain = PlainSecret::parse(SecretKind::Pat, token).expect("a token");
        assert!(!text.contains(&token[4..]));
        assert!(!text.contains(&plain.hash().to_hex()));
    }
    // Another account's feed is its own.
    let other = UserId::parse("someone-else").expect("valid");
    let them = Person {
        sub: other.to_string(),
        username: other.to_string(),
        email: String::new(),
    };
    assert!(account_events(&app, &them).await.is_empty());
    let anonymous = send(&app, as_person(Method::GET, ACCOUNT_FEED, None, None)).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let bad = send(
        &app,
        as_person(
            Method::GET,
            &format!("{ACCOUNT_FEED}?cursor=x"),
            Some(&me),
            None,
        ),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_cut_or_refused_rotation_leaves_both_or_neither_and_a_replay_nothing_new() {
    let fx = Fixture::new().await;
    let app = tokens::app(fx.store.clone());
    let me = person_of(&fx);
    let pat = new_token(&fx.store, &fx.user, "deploy", &[Scope::VersionsRead]).await;
    let rotations = async || {
        account_events(&app, &me)
            .await
            .iter()
            .filter(|e| e["action"] == "token.rotated")
            .count()
    };

    // 1. The transaction never reaches DynamoDB: neither.
    let refused = tokens::app(with_interceptor(&fx.store, NeverSent));
    let reply = send(
        &refused,
        with_pat(Method::POST, ROTATE, pat.secret.expose(), None),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.json
    );
    assert_eq!(rotations().await, 0);

    // 2. Applied, answer lost: the new secret is the token's, and recorded.
    let cut = tokens::app(with_interceptor(&fx.store, CutFirstTransaction::default()));
    let reply = send(
        &cut,
        with_pat(Method::POST, ROTATE, pat.secret.expose(), None),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.json
    );
    assert_eq!(rotations().await, 1);
    let listed = send(&app, as_person(Method::GET, TOKENS, Some(&me), None)).await;
    let deploy = listed.json["results"]
        .as_array()
        .expect("a list")
        .iter()
        .find(|t| t["name"] == "deploy")
        .cloned()
        .expect("listed");
    assert_ne!(deploy["hint"], pat.secret.hint().as_str(), "rotated");

    // 3. Refused by DynamoDB (a rotation whose entry a revocation fenced):
    //    neither. The next secret is made, then its rotation refused.
    let other = new_token(&fx.store, &fx.user, "other", &[Scope::VersionsRead]).await;
    fx.store
        .client()
        .update_item()
        .table_name(fx.store.tokens_table())
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("ACCOUNT#{}", fx.user)),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("TOKEN#{}", other.record.token_id)),
        )
        .update_expression("SET revoking = :now")
        .expression_attribute_values(
            ":now",
            aws_sdk_dynamodb::types::AttributeValue::S(Timestamp::now().to_string()),
        )
        .send()
        .await
        .expect("fenced");
    let fenced = send(
        &app,
        with_pat(Method::POST, ROTATE, other.secret.expose(), None),
    )
    .await;
    assert_eq!(fenced.status, StatusCode::CONFLICT, "{}", fenced.json);
    assert_eq!(rotations().await, 1);

    // 4. A keyed rotation and its replay: one event.
    let third = new_token(&fx.store, &fx.user, "third", &[Scope::VersionsRead]).await;
    let key = "k-7f3a9c2e51d84b06a1e2";
    let first = send(
        &app,
        with_pat(Method::POST, ROTATE, third.secret.expose(), Some(key)),
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.json);
    let again = send(
        &app,
        with_pat(Method::POST, ROTATE, third.secret.expose(), Some(key)),
    )
    .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.json);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.json["token"], first.json["token"]);
    assert_eq!(rotations().await, 2);
    let text = serde_json::to_string(&account_events(&app, &me).await).expect("json");
    assert!(!text.contains(key), "the key is nowhere in the record");
}
