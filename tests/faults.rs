//! Fault tests: DynamoDB going away mid-run, for every route of the three
//! functions, driven in-process through their real routers.
//!
//! Two injectors, both on an emulator of the test's own (see
//! `support/faults.rs`): a proxy that refuses and resets connections (an
//! endpoint that went away), and SIGSTOP on the emulator (an endpoint that
//! hangs). Every route must answer 503 with `Retry-After` and the JSON error
//! body — never a 500, never later than the SDK's operation timeout — and
//! work again once the store is back, with no transaction half-applied: no
//! version without its uniqueness item or the reverse, no token credential
//! without its account entry and name lock or the reverse.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use app_upgrade::domain::{PlainSecret, Scope, TokenId, VersionId};
use app_upgrade::store::{DynamoStore, TokenStore, VersionStore};
use axum::Router;
use axum::body::Body;
use http::{Method, Request, StatusCode, header};
use integration_tests::check::version_record;
use integration_tests::faults::{
    Consistency, Emulator, Proxy, operation_timeout, store_at, tokens_consistency,
    versions_consistency,
};
use integration_tests::http::{Reply, request};
use integration_tests::tokens::event;
use integration_tests::{Fixture, new_token};
use serde_json::{Value, json};
use tokio::task::JoinSet;

const APP: &str = "Fault App";
const CHECK_QUERY: &str =
    "app_name=Fault+App&app_version=1.0.0&platform=android&environment=production";

/// Time beyond the SDK's operation timeout a failing request may take:
/// routing, serialization, a loaded test machine.
const SLACK: Duration = Duration::from_secs(1);

/// A fixture reached only through a proxy in front of an emulator of the
/// test's own, and the routers of the functions on that store.
struct Rig {
    emulator: Emulator,
    proxy: Proxy,
    fx: Fixture,
    versions: Router,
    tokens: Router,
}

/// What the write routes act on, created before a fault: a version to
/// update then delete, a token to revoke, a token that rotates itself.
struct Targets {
    n: usize,
    version: VersionId,
    revoke: TokenId,
    rotate: PlainSecret,
}

/// One request to one function, and its status when the store is up.
struct Route {
    name: &'static str,
    app: Router,
    request: Request<Body>,
    success: StatusCode,
}

impl Rig {
    async fn new() -> Self {
        let emulator = Emulator::start().await;
        let proxy = Proxy::start(emulator.addr()).await;
        let fx = Fixture::on(store_at(&proxy.url()).await).await;
        assert!(proxy.accepted() > 0, "the store talks through the proxy");
        // The version every check looks for.
        let mut checked = version_record(&fx.project, APP, "1.0.0", "android", "production");
        checked.force_upgrade = true;
        fx.store
            .create_version(&checked, None, None)
            .await
            .expect("version");
        Self {
            versions: versions::app(fx.store.clone()),
            tokens: tokens::app(fx.store.clone()),
            emulator,
            proxy,
            fx,
        }
    }

    fn store(&self) -> &DynamoStore {
        &self.fx.store
    }

    /// A check function instance of its own, with a cold cache.
    fn check_app(&self) -> Router {
        check::app(self.fx.store.clone())
    }

    async fn targets(&self, n: usize) -> Targets {
        let version = version_record(
            &self.fx.project,
            APP,
            &format!("3.{n}.0"),
            "android",
            "production",
        );
        self.store()
            .create_version(&version, None, None)
            .await
            .expect("version");
        let read = [Scope::VersionsRead];
        let revoke = new_token(self.store(), &self.fx.user, &format!("revoke-{n}"), &read).await;
        let rotate = new_token(self.store(), &self.fx.user, &format!("rotate-{n}"), &read).await;
        Targets {
            n,
            version: version.id,
            revoke: revoke.record.token_id,
            rotate: rotate.secret,
        }
    }

    fn version_body(&self, app_version: &str) -> Value {
        json!({
            "project": self.fx.project.as_str(),
            "appName": APP,
            "appVersion": app_version,
            "platform": "android",
            "environment": "production",
            "forceUpgrade": false
        })
    }

    fn versions_route(
        &self,
        name: &'static str,
        method: Method,
        uri: &str,
        body: Option<&Value>,
        success: StatusCode,
    ) -> Route {
        Route {
            name,
            app: self.versions.clone(),
            request: request(method, uri, Some(self.fx.rw_token.expose()), body),
            success,
        }
    }

    /// An account-session request, as API Gateway's JWT authorizer passes it.
    fn account_route(
        &self,
        name: &'static str,
        method: &str,
        path: &str,
        body: Option<&str>,
        success: StatusCode,
    ) -> Route {
        let headers: &[(&str, &str)] = match body {
            Some(_) => &[("content-type", "application/json")],
            None => &[],
        };
        Route {
            name,
            app: self.tokens.clone(),
            request: event(method, path, Some(self.fx.user.as_str()), headers, body).map(Body::new),
            success,
        }
    }

    fn create_version(&self, name: &'static str, app_version: &str) -> Route {
        let body = self.version_body(app_version);
        self.versions_route(
            name,
            Method::POST,
            &self.fx.collection(),
            Some(&body),
            StatusCode::CREATED,
        )
    }

    fn update_version(&self, id: &VersionId, app_version: &str) -> Route {
        // A new appVersion moves the uniqueness item: the three-item
        // transaction.
        let body = self.version_body(app_version);
        self.versions_route(
            "update version",
            Method::PATCH,
            &self.fx.item(id.as_str()),
            Some(&body),
            StatusCode::OK,
        )
    }

    fn delete_version(&self, id: &VersionId) -> Route {
        self.versions_route(
            "delete version",
            Method::DELETE,
            &self.fx.item(id.as_str()),
            None,
            StatusCode::NO_CONTENT,
        )
    }

    fn create_token(&self, name: &str) -> Route {
        let body = json!({"name": name, "scopes": ["versions:read"]}).to_string();
        self.account_route(
            "create token",
            "POST",
            "/api/v1/account/tokens",
            Some(&body),
            StatusCode::CREATED,
        )
    }

    fn revoke_token(&self, id: &TokenId) -> Route {
        self.account_route(
            "revoke token",
            "DELETE",
            &format!("/api/v1/account/tokens/{id}"),
            None,
            StatusCode::NO_CONTENT,
        )
    }

    fn rotate_token(&self, token: &PlainSecret) -> Route {
        let auth = format!("Bearer {}", token.expose());
        Route {
            name: "rotate token",
            app: self.tokens.clone(),
            request: event(
                "POST",
                "/api/v1/account/tokens/self/rotate",
                None,
                &[("authorization", &auth)],
                None,
            )
            .map(Body::new),
            success: StatusCode::CREATED,
        }
    }

    /// Every route of the three functions, in an order that also works
    /// sequentially (update before delete).
    fn routes(&self, t: &Targets, check: &Router) -> Vec<Route> {
        vec![
            check_route(check, self.fx.api_key.expose()),
            self.versions_route(
                "list versions",
                Method::GET,
                &self.fx.collection(),
                None,
                StatusCode::OK,
            ),
            self.versions_route(
                "get version",
                Method::GET,
                &self.fx.item(t.version.as_str()),
                None,
                StatusCode::OK,
            ),
            self.create_version("create version", &format!("2.{}.0", t.n)),
            self.update_version(&t.version, &format!("4.{}.0", t.n)),
            self.delete_version(&t.version),
            self.create_token(&format!("ci-{}", t.n)),
            self.account_route(
                "list tokens",
                "GET",
                "/api/v1/account/tokens",
                None,
                StatusCode::OK,
            ),
            self.revoke_token(&t.revoke),
            self.rotate_token(&t.rotate),
        ]
    }

    async fn assert_consistent(&self) {
        for (table, found) in [
            ("versions", versions_consistency(self.store()).await),
            ("tokens", tokens_consistency(self.store()).await),
        ] {
            let Consistency { counts, violations } = found;
            assert!(
                violations.is_empty(),
                "{table} table half-applied: {violations:#?}"
            );
            eprintln!("{table} table consistent: {counts:?}");
        }
    }
}

fn check_route(check: &Router, api_key: &str) -> Route {
    Route {
        name: "check",
        app: check.clone(),
        request: Request::get(format!("{}?{CHECK_QUERY}", check::CHECK_PATH))
            .header("x-api-key", api_key)
            .header("sdk", "flutter")
            .body(Body::empty())
            .expect("request"),
        success: StatusCode::OK,
    }
}

/// What a route answered, and how fast.
struct Outcome {
    name: &'static str,
    success: StatusCode,
    answer: Reply,
    elapsed: Duration,
}

async fn send(route: Route) -> Outcome {
    let started = Instant::now();
    let answer = integration_tests::http::send(&route.app, route.request).await;
    Outcome {
        name: route.name,
        success: route.success,
        answer,
        elapsed: started.elapsed(),
    }
}

/// The contract's outage answer, in time.
fn assert_unavailable(outcome: &Outcome, bound: Duration) {
    let Outcome {
        name,
        answer,
        elapsed,
        ..
    } = outcome;
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{name}: {}",
        answer.json
    );
    let retry_after = answer
        .headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u32>().ok());
    assert!(
        retry_after.is_some_and(|s| s >= 1),
        "{name}: Retry-After {:?}",
        answer.headers.get(header::RETRY_AFTER)
    );
    assert_eq!(answer.json["code"], 503, "{name}: {}", answer.json);
    assert!(
        answer.json["message"].is_string(),
        "{name}: {}",
        answer.json
    );
    assert!(
        *elapsed <= bound,
        "{name}: answered after {elapsed:?}, more than {bound:?}"
    );
}

fn assert_success(outcome: &Outcome) {
    assert_eq!(
        outcome.answer.status, outcome.success,
        "{} with the store up: {}",
        outcome.name, outcome.answer.json
    );
}

/// A warm check instance: it has answered once, so its cache holds the
/// key's project and the scope's versions.
async fn warmed(rig: &Rig) -> Router {
    let warm = rig.check_app();
    let answer = send(check_route(&warm, rig.fx.api_key.expose()))
        .await
        .answer;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    assert_eq!(answer.json["found"], true);
    warm
}

#[tokio::test]
async fn an_unreachable_store_is_a_prompt_503_on_every_route_then_everything_works() {
    let rig = Rig::new().await;
    let targets = rig.targets(1).await;
    let cold = rig.check_app();
    let warm = warmed(&rig).await;
    let bound = operation_timeout().await + SLACK;

    rig.proxy.stop().await;
    for route in rig.routes(&targets, &cold) {
        let outcome = send(route).await;
        assert_unavailable(&outcome, bound);
        eprintln!(
            "unreachable: {} → 503 in {:?}",
            outcome.name, outcome.elapsed
        );
    }
    // A warm check needs no DynamoDB: apps keep getting their answer.
    let answer = send(check_route(&warm, rig.fx.api_key.expose()))
        .await
        .answer;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    assert_eq!(answer.json["forceUpgrade"], true);

    rig.proxy.resume().await;
    // The same requests on the same targets now succeed, so none of the
    // failed ones left anything behind (a half-created version would make
    // the create a 409, a half-revoked token the revoke a 404). The cold
    // check instance is the one that answered 503: the outage was not
    // remembered as an unknown key.
    for route in rig.routes(&targets, &cold) {
        assert_success(&send(route).await);
    }
    rig.assert_consistent().await;
}

#[tokio::test]
async fn a_hung_store_is_a_503_within_the_sdk_deadline_on_every_route() {
    let rig = Rig::new().await;
    let during = rig.targets(1).await;
    let after = rig.targets(2).await;
    let cold = rig.check_app();
    let warm = warmed(&rig).await;
    let bound = operation_timeout().await + SLACK;

    rig.emulator.freeze();
    // All at once: each is bounded on its own, and the test takes one
    // deadline, not ten.
    let mut requests = JoinSet::new();
    for route in rig.routes(&during, &cold) {
        requests.spawn(send(route));
    }
    requests.spawn(send(check_route(&warm, rig.fx.api_key.expose())));
    let answers = requests.join_all().await;
    rig.emulator.thaw();

    let mut slowest = Duration::ZERO;
    let mut warm_answers = 0;
    for outcome in &answers {
        if outcome.name == "check" && outcome.answer.status == StatusCode::OK {
            // Only the warm instance can answer without DynamoDB.
            warm_answers += 1;
            assert_eq!(outcome.answer.json["found"], true);
            continue;
        }
        assert_unavailable(outcome, bound);
        slowest = slowest.max(outcome.elapsed);
    }
    assert_eq!(warm_answers, 1, "exactly the warm check answers from cache");
    eprintln!(
        "hung: {} routes → 503, slowest after {slowest:?} (operation timeout {:?})",
        answers.len() - 1,
        operation_timeout().await
    );

    // Thawed: every route works, the cold check instance included.
    for route in rig.routes(&after, &cold) {
        assert_success(&send(route).await);
    }
    // Requests queued in the frozen emulator ran when it thawed: a write
    // answered 503 may still have happened (which is why clients retry and
    // the writes are conditional), but never half of it.
    let late = rig.store().list_tokens(&rig.fx.user).await.expect("list");
    eprintln!(
        "token created during the hang (answered 503) exists after the thaw: {}",
        late.iter().any(|t| t.name == "ci-1")
    );
    rig.assert_consistent().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_cut_mid_flight_leave_no_half_applied_transaction() {
    const VERSIONS: usize = 8;
    const TOKENS: usize = 3;
    const CUT_SHARES: [f64; 5] = [0.1, 0.3, 0.5, 0.7, 0.9];
    let rig = Rig::new().await;
    let mut tally: BTreeMap<(&'static str, u16), usize> = BTreeMap::new();

    // Each round cuts a burst once a share of it has answered, whatever the
    // machine's speed: from "most requests still authenticating" to "most
    // transactions sent".
    for (round, cut_share) in CUT_SHARES.iter().enumerate() {
        let mut routes = Vec::new();
        let mut versions = Vec::new();
        for k in 0..VERSIONS {
            let record = version_record(
                &rig.fx.project,
                APP,
                &format!("5.{round}.{k}"),
                "android",
                "production",
            );
            rig.store()
                .create_version(&record, None, None)
                .await
                .expect("version");
            versions.push(record.id);
        }
        for (k, id) in versions.iter().enumerate() {
            routes.push(if k % 2 == 0 {
                rig.update_version(id, &format!("7.{round}.{k}"))
            } else {
                rig.delete_version(id)
            });
            routes.push(rig.create_version("create version", &format!("6.{round}.{k}")));
        }
        for k in 0..TOKENS {
            let read = [Scope::VersionsRead];
            let revoke =
                new_token(rig.store(), &rig.fx.user, &format!("r-{round}-{k}"), &read).await;
            let rotate =
                new_token(rig.store(), &rig.fx.user, &format!("o-{round}-{k}"), &read).await;
            routes.push(rig.revoke_token(&revoke.record.token_id));
            routes.push(rig.rotate_token(&rotate.secret));
            routes.push(rig.create_token(&format!("c-{round}-{k}")));
        }

        let cut_at = (routes.len() as f64 * cut_share) as usize;
        let answered = Arc::new(AtomicUsize::new(0));
        let mut requests = JoinSet::new();
        for route in routes {
            let answered = answered.clone();
            requests.spawn(async move {
                let outcome = send(route).await;
                answered.fetch_add(1, Ordering::SeqCst);
                outcome
            });
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while answered.load(Ordering::SeqCst) < cut_at && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        rig.proxy.stop().await;
        for Outcome {
            name,
            success,
            answer,
            ..
        } in requests.join_all().await
        {
            assert!(
                [
                    success,
                    StatusCode::SERVICE_UNAVAILABLE,
                    StatusCode::CONFLICT,
                    StatusCode::NOT_FOUND
                ]
                .contains(&answer.status),
                "{name} cut mid-flight: {} {}",
                answer.status,
                answer.json
            );
            *tally.entry((name, answer.status.as_u16())).or_default() += 1;
        }
        rig.proxy.resume().await;
    }
    for ((name, status), count) in &tally {
        eprintln!("cut mid-flight: {name} → {status} ×{count}");
    }
    let unavailable = tally
        .iter()
        .filter(|((_, status), _)| *status == 503)
        .map(|(_, n)| n)
        .sum::<usize>();
    let succeeded = tally.values().sum::<usize>() - unavailable;
    assert!(
        unavailable > 0 && succeeded > 0,
        "the cuts must fall mid-burst: {tally:?}"
    );

    rig.assert_consistent().await;

    // Every success was applied; some 503s were too (the cut fell after
    // the request reached the store), which is what clients retrying a 503
    // must be able to live with.
    let versions = rig
        .store()
        .list_versions(&rig.fx.project)
        .await
        .expect("list");
    let tokens = rig.store().list_tokens(&rig.fx.user).await.expect("list");
    let created_versions = versions
        .iter()
        .filter(|v| v.app_version.as_str().starts_with("6."))
        .count();
    let updated_versions = versions
        .iter()
        .filter(|v| v.app_version.as_str().starts_with("7."))
        .count();
    let created_tokens = tokens.iter().filter(|t| t.name.starts_with("c-")).count();
    let rotated_tokens = tokens.iter().filter(|t| t.name.starts_with("o-")).count();
    for (name, success, applied) in [
        ("create version", 201, created_versions),
        ("update version", 200, updated_versions),
        ("create token", 201, created_tokens),
    ] {
        let answered = tally.get(&(name, success)).copied().unwrap_or(0);
        assert!(
            applied >= answered,
            "{name}: {answered} answered {success} but only {applied} applied"
        );
        eprintln!("{name}: {answered} answered {success}, {applied} applied");
    }
    // A rotation keeps the name: each of these tokens is there once,
    // rotated or not.
    assert_eq!(
        rotated_tokens,
        5 * TOKENS,
        "rotations lost or doubled a token"
    );

    // And the store works again.
    assert_success(&send(rig.create_version("create version", "9.9.9")).await);
}

/// What a request may spend outside DynamoDB calls (routing, parsing,
/// serializing: milliseconds) and still finish before its function's
/// timeout: the margin of the budget below.
const OUTSIDE_DYNAMODB: Duration = Duration::from_millis(500);

/// Sequential DynamoDB calls on a function's longest ordinary path: a cold
/// check (key lookup, index query); a version update (credential, access,
/// version, transaction; an `Idempotency-Key` adds no call); a token
/// creation (the account's teams, its live tokens, the transaction); a
/// token rotation with an `Idempotency-Key` (its receipt, credential,
/// transaction). If DynamoDB is slow rather than down, each may take up to
/// the operation timeout.
const SEQUENTIAL_CALLS: &[(&str, u32)] = &[
    ("CheckFunction", 2),
    ("VersionsFunction", 4),
    ("TokensFunction", 3),
    // An invitation: the caller's membership, the team's members, the
    // invitee's account (read, then create), the transaction.
    ("TeamsFunction", 5),
];

/// The SDK's deadlines fit inside the function timeouts of `template.yaml`,
/// so an outage ends in our 503 with `Retry-After`, never in Lambda killing
/// the request (which API Gateway turns into a bare 5xx).
#[tokio::test]
async fn the_sdk_deadlines_fit_inside_every_function_timeout() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    let text = std::fs::read_to_string(path).expect("template.yaml is readable");
    let template: serde_norway::Value = serde_norway::from_str(&text).expect("YAML");
    let default = template["Globals"]["Function"]["Timeout"].as_u64();
    let operation = operation_timeout().await;
    let functions = template["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|(name, r)| (name.as_str().expect("a name"), r))
        .collect::<Vec<_>>();
    assert_eq!(
        functions.len(),
        SEQUENTIAL_CALLS.len(),
        "every function is budgeted"
    );
    for (name, function) in functions {
        let timeout = function["Properties"]["Timeout"]
            .as_u64()
            .or(default)
            .map(Duration::from_secs)
            .unwrap_or_else(|| panic!("{name} has a timeout"));
        let calls = SEQUENTIAL_CALLS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, calls)| *calls)
            .unwrap_or_else(|| panic!("{name}: how many sequential calls?"));
        // Down: the first call fails. Slow: every call nearly times out.
        assert!(
            operation + SLACK < timeout,
            "{name}: an outage outlasts {timeout:?}"
        );
        assert!(
            operation * calls + OUTSIDE_DYNAMODB < timeout,
            "{name}: {calls} slow calls outlast {timeout:?}"
        );
    }
}
