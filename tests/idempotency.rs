//! `Idempotency-Key` against the real local DynamoDB: a write whose answer
//! was lost, retried with the same key, is done once and answered with the
//! first answer; the same key with another request is a 422; keys are
//! their owner's; a rotation's replay gives the same new token to the old
//! token's holder, and nothing stored reveals it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use app_upgrade::domain::{PlainSecret, Scope, SecretKind, Timestamp};
use app_upgrade::http::idempotency::IDEMPOTENT_REPLAYED;
use app_upgrade::store::keys::RECEIPT_PK_PREFIX;
use app_upgrade::store::{DynamoStore, ReceiptStore};
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::config::interceptors::{
    BeforeDeserializationInterceptorContextMut, BeforeTransmitInterceptorContextMut,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_types::body::SdkBody;
use axum::body::Body;
use http::{Method, Request, StatusCode, header};
use integration_tests::faults::{scan, store_at};
use integration_tests::http::{Reply, send};
use integration_tests::{Counting, Fixture, new_token};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

const ROTATE: &str = "/api/v1/account/tokens/self/rotate";

fn body(fx: &Fixture, app_version: &str) -> Value {
    json!({
        "project": fx.project.as_str(),
        "appName": "Idem App",
        "appVersion": app_version,
        "platform": "android",
        "environment": "production",
        "forceUpgrade": false
    })
}

/// A write as the aau CLI sends it: bearer PAT, JSON body, and `key`.
fn keyed(
    method: Method,
    uri: &str,
    token: &PlainSecret,
    key: Option<&str>,
    body: Option<&Value>,
) -> Request<Body> {
    let mut builder = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {}", token.expose()));
    if let Some(key) = key {
        builder = builder.header("idempotency-key", key);
    }
    let body = match body {
        Some(json) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            Body::from(json.to_string())
        }
        None => Body::empty(),
    };
    builder.body(body).expect("valid request")
}

fn replayed(reply: &Reply) -> bool {
    reply
        .headers
        .get(IDEMPOTENT_REPLAYED)
        .is_some_and(|v| v == "true")
}

fn location(reply: &Reply) -> Option<&str> {
    reply
        .headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
}

/// The version items (not identities) of the store's versions table.
async fn versions_stored(store: &DynamoStore) -> Vec<HashMap<String, AttributeValue>> {
    scan(store.client(), store.versions_table())
        .await
        .into_iter()
        .filter(|item| {
            item.get("sk")
                .and_then(|v| v.as_s().ok())
                .is_some_and(|sk| sk.starts_with("VERSION#"))
        })
        .collect()
}

/// A TCP proxy in front of DynamoDB that, while armed, lets every
/// `TransactWriteItems` through and cuts its answer (the connection is
/// reset once DynamoDB has applied it): a write that happened but whose
/// answer was lost, the case `Idempotency-Key` exists for.
struct Cutter {
    addr: SocketAddr,
    armed: Arc<AtomicBool>,
    cut: Arc<AtomicUsize>,
}

impl Cutter {
    async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let armed = Arc::new(AtomicBool::new(false));
        let cut = Arc::new(AtomicUsize::new(0));
        let (a, c) = (armed.clone(), cut.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(cutting_pipe(client, upstream, a.clone(), c.clone()));
            }
        });
        Self { addr, armed, cut }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn arm(&self, on: bool) {
        self.armed.store(on, Ordering::SeqCst);
    }

    fn cut(&self) -> usize {
        self.cut.load(Ordering::SeqCst)
    }
}

/// HTTP/1.1 without pipelining: the answer that follows a request naming
/// `TransactWriteItems` on a connection is that request's.
async fn cutting_pipe(
    client: TcpStream,
    upstream: SocketAddr,
    armed: Arc<AtomicBool>,
    cut: Arc<AtomicUsize>,
) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_zero_linger();
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let doomed = Arc::new(AtomicBool::new(false));
    let marked = doomed.clone();
    let upstream_half = tokio::spawn(async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match client_read.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            let chunk = &buf[..n];
            if armed.load(Ordering::SeqCst) && chunk.windows(18).any(|w| w == b"TransactWriteItems")
            {
                marked.store(true, Ordering::SeqCst);
            }
            if server_write.write_all(chunk).await.is_err() {
                return;
            }
        }
    });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match server_read.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if doomed.load(Ordering::SeqCst) {
            // Dropping both halves with zero linger: the SDK sees a reset.
            cut.fetch_add(1, Ordering::SeqCst);
            break;
        }
        if client_write.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    upstream_half.abort();
}

/// A fixture whose store reaches the shared emulator through a [`Cutter`].
async fn cut_rig() -> (Cutter, Fixture) {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").expect("emulator endpoint");
    let upstream: SocketAddr = endpoint
        .trim_start_matches("http://")
        .replace("localhost", "127.0.0.1")
        .parse()
        .expect("host:port");
    let cutter = Cutter::start(upstream).await;
    let fx = Fixture::on(store_at(&cutter.url()).await).await;
    (cutter, fx)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_create_whose_answer_was_lost_is_retried_into_exactly_one_version() {
    let (cutter, fx) = cut_rig().await;
    let app = versions::app(fx.store.clone());
    let create = || {
        keyed(
            Method::POST,
            &fx.collection(),
            &fx.rw_token,
            Some("release-1.0.0-android"),
            Some(&body(&fx, "1.0.0")),
        )
    };

    cutter.arm(true);
    let lost = send(&app, create()).await;
    cutter.arm(false);
    assert!(cutter.cut() > 0, "the transaction's answer was cut");
    assert_eq!(
        lost.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{:?}",
        lost.json
    );
    assert_eq!(
        versions_stored(&fx.store).await.len(),
        1,
        "applied all the same"
    );

    let retry = send(&app, create()).await;
    assert_eq!(retry.status, StatusCode::CREATED, "{:?}", retry.json);
    assert!(replayed(&retry), "the retry is the first answer, replayed");
    let again = send(&app, create()).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert!(replayed(&again));
    assert_eq!(retry.raw, again.raw);
    assert_eq!(location(&retry), location(&again));
    assert!(location(&retry).is_some_and(|l| l.contains(retry.json["id"].as_str().unwrap_or("-"))));

    let stored = versions_stored(&fx.store).await;
    assert_eq!(stored.len(), 1, "exactly one version");
    assert_eq!(
        stored[0]["sk"].as_s().ok().map(String::as_str),
        Some(format!("VERSION#{}", retry.json["id"].as_str().unwrap_or("-")).as_str())
    );

    // Without a key the same request is a new write: the identity is taken.
    let plain = keyed(
        Method::POST,
        &fx.collection(),
        &fx.rw_token,
        None,
        Some(&body(&fx, "1.0.0")),
    );
    assert_eq!(send(&app, plain).await.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn the_same_key_with_another_request_is_a_422_and_changes_nothing() {
    let fx = Fixture::new().await;
    let app = versions::app(fx.store.clone());
    let key = "k-422-secret-looking-key";
    let first = send(
        &app,
        keyed(
            Method::POST,
            &fx.collection(),
            &fx.rw_token,
            Some(key),
            Some(&body(&fx, "2.0.0")),
        ),
    )
    .await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert!(!replayed(&first));

    let other = send(
        &app,
        keyed(
            Method::POST,
            &fx.collection(),
            &fx.rw_token,
            Some(key),
            Some(&body(&fx, "2.0.1")),
        ),
    )
    .await;
    assert_eq!(
        other.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        other.json
    );
    let message = other.json["message"].as_str().unwrap_or_default();
    assert!(message.contains("Idempotency-Key"), "{message}");
    assert!(!message.contains(key), "the key is never echoed");
    assert_eq!(versions_stored(&fx.store).await.len(), 1);

    // A malformed key is a 400 before any work, and not echoed either.
    let bad = send(
        &app,
        keyed(
            Method::POST,
            &fx.collection(),
            &fx.rw_token,
            Some(&"k".repeat(256)),
            Some(&body(&fx, "2.0.2")),
        ),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(!String::from_utf8_lossy(&bad.raw).contains("kkkk"));
    assert_eq!(versions_stored(&fx.store).await.len(), 1);

    // A validation error is not kept: the key is still free for a fixed body.
    let fresh = "k-after-400";
    let mut invalid = body(&fx, "2.1.0");
    invalid
        .as_object_mut()
        .expect("an object")
        .remove("appName");
    let rejected = send(
        &app,
        keyed(
            Method::POST,
            &fx.collection(),
            &fx.rw_token,
            Some(fresh),
            Some(&invalid),
        ),
    )
    .await;
    assert_eq!(rejected.status, StatusCode::BAD_REQUEST);
    let fixed = send(
        &app,
        keyed(
            Method::POST,
            &fx.collection(),
            &fx.rw_token,
            Some(fresh),
            Some(&body(&fx, "2.1.0")),
        ),
    )
    .await;
    assert_eq!(fixed.status, StatusCode::CREATED);
    assert!(!replayed(&fixed));
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_requests_with_one_key_create_one_version() {
    let fx = Fixture::new().await;
    let app = versions::app(fx.store.clone());
    let mut tasks = JoinSet::new();
    for _ in 0..6 {
        let request = keyed(
            Method::POST,
            &fx.collection(),
            &fx.rw_token,
            Some("concurrent-key"),
            Some(&body(&fx, "3.0.0")),
        );
        let app = app.clone();
        tasks.spawn(async move { send(&app, request).await });
    }
    let replies = tasks.join_all().await;
    let fresh: Vec<_> = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED && !replayed(r))
        .collect();
    assert_eq!(fresh.len(), 1, "one request did the work: {replies:?}");
    for reply in &replies {
        match reply.status {
            StatusCode::CREATED => assert_eq!(reply.raw, fresh[0].raw, "a replay of the one 201"),
            // Lost the race before the winner's receipt was readable; never
            // the identity's 409, which would mean two writes were tried.
            StatusCode::CONFLICT => assert!(
                reply.json["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("in progress")),
                "{:?}",
                reply.json
            ),
            other => panic!("unexpected {other}: {:?}", reply.json),
        }
    }
    assert_eq!(versions_stored(&fx.store).await.len(), 1);
}

/// Answers every `TransactWriteItems` through its client as DynamoDB
/// answers a transaction that touched an item another transaction is
/// writing: cancelled, nothing written, `TransactionConflict` on the last
/// item (the receipt's place). What reaches the emulator is emptied of its
/// items, so it writes nothing either.
#[derive(Debug, Default)]
struct InFlight {
    /// Items of the intercepted transaction; 0 between attempts.
    items: AtomicUsize,
    attempts: Arc<AtomicUsize>,
}

impl Intercept for InFlight {
    fn name(&self) -> &'static str {
        "InFlight"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        let transaction = request
            .headers()
            .get("x-amz-target")
            .is_some_and(|t| t.ends_with(".TransactWriteItems"));
        if !transaction {
            return Ok(());
        }
        self.attempts.fetch_add(1, Ordering::SeqCst);
        let sent: Value = request
            .body()
            .bytes()
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or_default();
        let items = sent["TransactItems"].as_array().map_or(0, Vec::len);
        self.items.store(items, Ordering::SeqCst);
        *request.body_mut() = SdkBody::from("{}");
        request.headers_mut().insert("content-length", "2");
        Ok(())
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let items = self.items.swap(0, Ordering::SeqCst);
        if items == 0 {
            return Ok(());
        }
        let mut reasons = vec![json!({"Code": "None"}); items - 1];
        reasons.push(json!({"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}));
        let body = json!({
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "Message": "Transaction cancelled, please refer cancellation reasons for specific reasons",
            "CancellationReasons": reasons,
        });
        let mut response = HttpResponse::new(
            400.try_into().expect("a status"),
            SdkBody::from(body.to_string()),
        );
        response
            .headers_mut()
            .insert("content-type", "application/x-amz-json-1.0");
        *context.response_mut() = response;
        Ok(())
    }
}

#[tokio::test]
async fn a_key_whose_first_request_is_still_in_flight_is_a_409_and_the_retry_writes_once() {
    let fx = Fixture::new().await;
    let attempts = Arc::new(AtomicUsize::new(0));
    let config = fx
        .store
        .client()
        .config()
        .to_builder()
        .interceptor(InFlight {
            attempts: attempts.clone(),
            ..InFlight::default()
        })
        .build();
    let tables = app_upgrade::Config {
        versions_table: fx.store.versions_table().to_owned(),
        tokens_table: fx.store.tokens_table().to_owned(),
    };
    let conflicting = DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(config), &tables);
    let create = || {
        keyed(
            Method::POST,
            &fx.collection(),
            &fx.rw_token,
            Some("in-flight-key"),
            Some(&body(&fx, "4.0.0")),
        )
    };

    let lost = send(&versions::app(conflicting), create()).await;
    assert_eq!(lost.status, StatusCode::CONFLICT, "{:?}", lost.json);
    assert_eq!(
        lost.json["message"],
        "a request with this Idempotency-Key is still in progress; retry later"
    );

    assert!(versions_stored(&fx.store).await.is_empty());
    assert_eq!(
        attempts.load(Ordering::SeqCst),
        1,
        "a cancelled transaction is not retried"
    );

    // The other request never finished (or failed): the retry does the
    // write, once.
    let retry = send(&versions::app(fx.store.clone()), create()).await;
    assert_eq!(retry.status, StatusCode::CREATED, "{:?}", retry.json);
    assert!(!replayed(&retry));
    assert_eq!(versions_stored(&fx.store).await.len(), 1);
}

#[tokio::test]
async fn keys_belong_to_their_owner() {
    let fx = Fixture::new().await;
    let app = versions::app(fx.store.clone());
    // Another account, in the same team.
    let other =
        app_upgrade::domain::UserId::parse(&format!("user-{}", ulid::Ulid::new())).expect("valid");
    use app_upgrade::store::DirectoryStore;
    assert!(fx.store.add_member(&fx.team, &other).await.expect("member"));
    let theirs = new_token(
        &fx.store,
        &other,
        "theirs",
        &[Scope::VersionsRead, Scope::VersionsWrite],
    )
    .await
    .secret;

    let key = "shared-key";
    let mine = send(
        &app,
        keyed(
            Method::POST,
            &fx.collection(),
            &fx.rw_token,
            Some(key),
            Some(&body(&fx, "4.0.0")),
        ),
    )
    .await;
    assert_eq!(mine.status, StatusCode::CREATED);
    let mine_again = send(
        &app,
        keyed(
            Method::POST,
            &fx.collection(),
            &fx.rw_token,
            Some(key),
            Some(&body(&fx, "4.0.0")),
        ),
    )
    .await;
    assert!(replayed(&mine_again), "the owner's own retry replays");

    // The same key and request from the other account is its own write (the
    // identity is taken: 409), never the first account's answer.
    let same = send(
        &app,
        keyed(
            Method::POST,
            &fx.collection(),
            &theirs,
            Some(key),
            Some(&body(&fx, "4.0.0")),
        ),
    )
    .await;
    assert_eq!(same.status, StatusCode::CONFLICT, "{:?}", same.json);
    assert!(!replayed(&same));
    // And another request under that key is no 422 there: a new version.
    let different = send(
        &app,
        keyed(
            Method::POST,
            &fx.collection(),
            &theirs,
            Some(key),
            Some(&body(&fx, "4.0.1")),
        ),
    )
    .await;
    assert_eq!(
        different.status,
        StatusCode::CREATED,
        "{:?}",
        different.json
    );
    assert!(!replayed(&different));
    assert_eq!(versions_stored(&fx.store).await.len(), 2);

    // Receipts sit in their owner's partition, by the key's hash only.
    let receipts: Vec<_> = scan(fx.store.client(), fx.store.tokens_table())
        .await
        .into_iter()
        .filter(|i| {
            i["pk"]
                .as_s()
                .is_ok_and(|pk| pk.starts_with(RECEIPT_PK_PREFIX))
        })
        .collect();
    assert_eq!(receipts.len(), 2);
    for receipt in &receipts {
        let text = format!("{receipt:?}");
        assert!(!text.contains(key), "no plaintext key stored");
        assert!(receipt.contains_key("ttl"), "TTL removes it");
    }
}

#[tokio::test]
async fn patch_and_delete_replay_their_first_answer() {
    let fx = Fixture::new().await;
    let app = versions::app(fx.store.clone());
    let created = send(
        &app,
        keyed(
            Method::POST,
            &fx.collection(),
            &fx.rw_token,
            None,
            Some(&body(&fx, "5.0.0")),
        ),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.json["id"].as_str().expect("id").to_owned();
    let item = fx.item(&id);
    let patched = |message: &str| {
        let mut b = body(&fx, "5.0.0");
        b["message"] = json!(message);
        b
    };
    let patch = |message: &str| {
        keyed(
            Method::PATCH,
            &item,
            &fx.rw_token,
            Some("patch-key"),
            Some(&patched(message)),
        )
    };

    let first = send(&app, patch("Please update")).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.json);
    assert!(!replayed(&first));
    let retry = send(&app, patch("Please update")).await;
    assert_eq!(retry.status, StatusCode::OK);
    assert!(replayed(&retry));
    assert_eq!(retry.raw, first.raw);
    let now = send(&app, keyed(Method::GET, &item, &fx.rw_token, None, None)).await;
    assert_eq!(now.json["revision"], first.json["revision"], "written once");
    assert_eq!(
        send(&app, patch("Something else")).await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let delete = || {
        keyed(
            Method::DELETE,
            &item,
            &fx.rw_token,
            Some("delete-key"),
            None,
        )
    };
    let deleted = send(&app, delete()).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let again = send(&app, delete()).await;
    assert_eq!(again.status, StatusCode::NO_CONTENT, "{:?}", again.json);
    assert!(replayed(&again));
    assert!(again.raw.is_empty());
    let unkeyed = send(&app, keyed(Method::DELETE, &item, &fx.rw_token, None, None)).await;
    assert_eq!(unkeyed.status, StatusCode::NOT_FOUND);
    // The same key on another route is another request.
    let elsewhere = send(
        &app,
        keyed(
            Method::POST,
            &fx.collection(),
            &fx.rw_token,
            Some("delete-key"),
            Some(&body(&fx, "5.0.1")),
        ),
    )
    .await;
    assert_eq!(elsewhere.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// Every string (and binary, as text) anywhere in `item`, nested included.
fn strings(value: &AttributeValue, out: &mut Vec<String>) {
    match value {
        AttributeValue::S(s) => out.push(s.clone()),
        AttributeValue::B(b) => out.push(String::from_utf8_lossy(b.as_ref()).into_owned()),
        AttributeValue::M(m) => m.values().for_each(|v| strings(v, out)),
        AttributeValue::L(l) => l.iter().for_each(|v| strings(v, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotation_whose_answer_was_lost_gives_the_same_new_token_and_keeps_it_sealed() {
    let (cutter, fx) = cut_rig().await;
    let tokens = tokens::app(fx.store.clone());
    let versions = versions::app(fx.store.clone());
    let old = new_token(&fx.store, &fx.user, "ci", &[Scope::VersionsRead])
        .await
        .secret;
    let rotate = |key: Option<&str>| keyed(Method::POST, ROTATE, &old, key, None);

    cutter.arm(true);
    let lost = send(&tokens, rotate(Some("rotate-run-42"))).await;
    cutter.arm(false);
    assert!(cutter.cut() > 0);
    assert_eq!(
        lost.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{:?}",
        lost.json
    );

    let retry = send(&tokens, rotate(Some("rotate-run-42"))).await;
    assert_eq!(retry.status, StatusCode::CREATED, "{:?}", retry.json);
    assert!(replayed(&retry));
    let issued = retry.json["token"]
        .as_str()
        .expect("the new token")
        .to_owned();
    let again = send(&tokens, rotate(Some("rotate-run-42"))).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(
        again.json["token"].as_str(),
        Some(issued.as_str()),
        "the same new token"
    );
    assert_eq!(
        again
            .headers
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );

    // Nothing stored holds the new token or anything that opens without
    // the old one.
    let random_part = &issued[4..];
    let mut found = 0;
    for item in scan(fx.store.client(), fx.store.tokens_table()).await {
        let mut texts = Vec::new();
        item.values().for_each(|v| strings(v, &mut texts));
        for text in &texts {
            assert!(
                !text.contains(random_part),
                "the new token is stored readable"
            );
        }
        if item["sk"]
            .as_s()
            .is_ok_and(|sk| sk.starts_with("ROTATION#"))
        {
            found += 1;
            assert!(item.contains_key("ttl"));
            for text in &texts {
                assert!(!text.contains("aau_"), "no token in the receipt: {text}");
            }
        }
    }
    assert_eq!(found, 1, "one rotation receipt");

    // The replayed token is the live one.
    let new = PlainSecret::parse(SecretKind::Pat, &issued).expect("a PAT");
    let list_with_new = || {
        send(
            &versions,
            keyed(Method::GET, &fx.collection(), &new, None, None),
        )
    };
    assert_eq!(list_with_new().await.status, StatusCode::OK);

    // The new token has been used: that first use deleted the receipt, and
    // from now on the old one is worth nothing: the same retry is refused
    // like any use of it (a reuse of a rotated-away secret, which revokes
    // the token).
    let receipts = scan(fx.store.client(), fx.store.tokens_table())
        .await
        .into_iter()
        .filter(|i| i["sk"].as_s().is_ok_and(|sk| sk.starts_with("ROTATION#")))
        .count();
    assert_eq!(
        receipts, 0,
        "the receipt is gone once the new token is used"
    );
    let late = send(&tokens, rotate(Some("rotate-run-42"))).await;
    assert_eq!(late.status, StatusCode::UNAUTHORIZED, "{:?}", late.json);
    assert_eq!(
        list_with_new().await.status,
        StatusCode::UNAUTHORIZED,
        "the reuse revoked the whole token"
    );
    for key in [None, Some("another-key")] {
        assert_eq!(
            send(&tokens, rotate(key)).await.status,
            StatusCode::UNAUTHORIZED
        );
    }

    // Another token with the same key finds nothing of it.
    let stranger = new_token(&fx.store, &fx.user, "other", &[Scope::VersionsRead])
        .await
        .secret;
    let theirs = send(
        &tokens,
        keyed(Method::POST, ROTATE, &stranger, Some("rotate-run-42"), None),
    )
    .await;
    assert_eq!(theirs.status, StatusCode::CREATED);
    assert!(!replayed(&theirs));
    assert_ne!(theirs.json["token"].as_str(), Some(issued.as_str()));
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_rotations_with_one_key_rotate_once() {
    let fx = Fixture::new().await;
    let tokens = tokens::app(fx.store.clone());
    let old = new_token(&fx.store, &fx.user, "ci", &[Scope::VersionsRead])
        .await
        .secret;
    let mut tasks = JoinSet::new();
    for _ in 0..4 {
        let request = keyed(Method::POST, ROTATE, &old, Some("one-rotation"), None);
        let app = tokens.clone();
        tasks.spawn(async move { send(&app, request).await });
    }
    let replies = tasks.join_all().await;
    let issued: Vec<_> = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .map(|r| r.json["token"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(!issued.is_empty());
    assert!(
        issued.iter().all(|t| *t == issued[0]),
        "one new token: {replies:?}"
    );
    for reply in &replies {
        match reply.status {
            StatusCode::CREATED => {}
            StatusCode::CONFLICT => assert!(
                reply.json["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("in progress")),
                "{:?}",
                reply.json
            ),
            other => panic!("unexpected {other}: {:?}", reply.json),
        }
    }
}

/// What a key costs: DynamoDB calls of a plain and a keyed create, and of
/// a replay. Prints the figures; asserts the call counts.
#[tokio::test]
async fn what_an_idempotent_create_costs() {
    let fx = Fixture::new().await;
    let counting = Counting::new(&fx.store);
    let app = versions::app(counting.store.clone());
    // Warm the token's lastUsedAt touch so it is not in the counts.
    let _ = send(
        &app,
        keyed(Method::GET, &fx.collection(), &fx.rw_token, None, None),
    )
    .await;

    let mut figures = Vec::new();
    for (name, key, version) in [
        ("plain create", None, "6.0.0"),
        ("keyed create", Some("cost-key"), "6.0.1"),
        ("keyed replay", Some("cost-key"), "6.0.1"),
    ] {
        let before = counting.calls();
        let reply = send(
            &app,
            keyed(
                Method::POST,
                &fx.collection(),
                &fx.rw_token,
                key,
                Some(&body(&fx, version)),
            ),
        )
        .await;
        assert_eq!(reply.status, StatusCode::CREATED);
        figures.push((name, counting.calls() - before));
    }
    println!("DynamoDB calls per request: {figures:?}");
    // Auth GetItem + access BatchGetItem + the transaction (the keyed one
    // holds one more item, the receipt); a replay's transaction fails on
    // the receipt, which is read then.
    assert_eq!(
        figures,
        [
            ("plain create", 3),
            ("keyed create", 3),
            ("keyed replay", 4)
        ]
    );
    let receipt = counting
        .store
        .get_receipt(
            &app_upgrade::domain::ReceiptScope::Account(fx.user.clone()),
            &app_upgrade::domain::IdempotencyKey::parse(b"cost-key").expect("valid"),
            Timestamp::now(),
        )
        .await
        .expect("read");
    assert!(receipt.is_some());
}

/// The versions function may put into the tokens table only receipts and
/// account events (a reused token's revocation is recorded): its one
/// PutItem there is limited to those partitions.
#[test]
fn the_versions_function_can_put_only_receipts_in_the_tokens_table() {
    let text = std::fs::read_to_string(format!("{}/template.yaml", integration_tests::repo::ROOT))
        .expect("template.yaml");
    let template: serde_norway::Value = serde_norway::from_str(&text).expect("YAML");
    let statements =
        template["Resources"]["VersionsFunction"]["Properties"]["Policies"][0]["Statement"]
            .as_sequence()
            .expect("statements");
    let puts: Vec<_> = statements
        .iter()
        .filter(|s| format!("{:?}", s["Resource"]).contains("TokensTable"))
        .filter(|s| format!("{:?}", s["Action"]).contains("PutItem"))
        .collect();
    assert_eq!(puts.len(), 1);
    let leading = &puts[0]["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"];
    assert_eq!(
        leading
            .as_sequence()
            .map(|l| l.iter().filter_map(|v| v.as_str()).collect::<Vec<_>>()),
        Some(vec![
            format!("{RECEIPT_PK_PREFIX}*").as_str(),
            format!("{}*", app_upgrade::store::keys::ACCOUNT_EVENTS_PK_PREFIX).as_str()
        ])
    );
}

/// A malformed key is a 400, but only for a caller with a well-formed
/// token: without one, the answer is the usual 401 and says nothing of the
/// key.
#[tokio::test]
async fn a_bad_key_is_a_400_only_after_authentication() {
    let fx = Fixture::new().await;
    let versions = versions::app(fx.store.clone());
    let tokens = tokens::app(fx.store.clone());
    let bad = "bad key ";
    let anonymous = |method: Method, uri: &str| {
        Request::builder()
            .method(method)
            .uri(uri)
            .header("idempotency-key", bad)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body(&fx, "8.0.0").to_string()))
            .expect("request")
    };
    for (app, request) in [
        (&versions, anonymous(Method::POST, &fx.collection())),
        (&tokens, anonymous(Method::POST, ROTATE)),
    ] {
        let reply = send(app, request).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{:?}", reply.json);
        assert!(
            !reply.json["message"]
                .as_str()
                .unwrap_or_default()
                .contains("Idempotency")
        );
    }
    let authenticated = [
        (
            &versions,
            keyed(
                Method::POST,
                &fx.collection(),
                &fx.rw_token,
                Some(bad),
                Some(&body(&fx, "8.0.0")),
            ),
        ),
        (
            &tokens,
            keyed(Method::POST, ROTATE, &fx.read_token, Some(bad), None),
        ),
    ];
    for (app, request) in authenticated {
        let reply = send(app, request).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:?}", reply.json);
        assert!(
            reply.json["message"]
                .as_str()
                .unwrap_or_default()
                .contains("Idempotency-Key")
        );
    }
    assert!(versions_stored(&fx.store).await.is_empty());
}
