//! Warm-path benchmark of the check, request in → response out, exactly as
//! `lambda_http::run` drives a handler: each request is an API Gateway v2
//! event deserialized from JSON, passed through `lambda_http::Adapter` (event
//! → `http::Request` → router → `LambdaResponse`), and the response
//! serialized back to JSON. Only the runtime API's HTTP round trip is left
//! out.
//!
//! The store is the in-memory one: the warm path makes no store call (the
//! router and integration tests prove it), so what is measured is the
//! handler's own work — key check and hash, cache look-ups, query decoding,
//! matching over realistic candidates, JSON.
//!
//! ```text
//! warm_bench <check|hello-axum|hello-fn> <requests>
//! ```
//!
//! `hello-axum` is an axum router answering a constant small JSON on the
//! same route; `hello-fn` a bare `lambda_http` `service_fn` doing the same.
//! All three get the same event, and one warm-up request before the timed
//! loop; a run with 0 requests measures everything but the loop, which is
//! how `infra/scripts/bench-check.sh` derives instructions per request.
//! Prints one JSON line with the wall-clock figures.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::time::{Duration, Instant};

use app_upgrade::test_util::version_record;

use app_upgrade::domain::{
    AppName, CustomValue, Environment, PlainSecret, Platform, SecretKind, VersionId, VersionRecord,
};
use axum::routing::get;
use check::CHECK_PATH;
use check::memory::MemoryStore;
use http::HeaderValue;
use http::header::CONTENT_TYPE;
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Body, Context, LambdaEvent, Service, service_fn};
use tower::ServiceExt;

const EVENT: &str = include_str!("../tests/data/apigw_v2_check.json");
const HELLO: &str = r#"{"hello":"world"}"#;

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: warm_bench <check|hello-axum|hello-fn> <requests>";
    let handler = args.next().ok_or(usage)?;
    let requests: u64 = args.next().ok_or(usage)?.parse()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let key = PlainSecret::generate(SecretKind::ApiKey)?;
        let event = EVENT.replace("__API_KEY__", key.expose());
        let elapsed = match handler.as_str() {
            "check" => {
                let router = check::app(seeded_store(&key)?);
                drive(Adapter::from(router), &event, requests, true).await?
            }
            "hello-axum" => {
                let router = axum::Router::new().route(
                    CHECK_PATH,
                    get(|| async { ([(CONTENT_TYPE, "application/json")], HELLO) }),
                );
                drive(Adapter::from(router), &event, requests, false).await?
            }
            "hello-fn" => {
                let hello = service_fn(|_: lambda_http::Request| async {
                    let mut response = lambda_http::Response::new(Body::from(HELLO));
                    response
                        .headers_mut()
                        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                    Ok::<_, Infallible>(response)
                });
                drive(Adapter::from(hello), &event, requests, false).await?
            }
            _ => return Err(usage.into()),
        };
        let seconds = elapsed.as_secs_f64();
        let per_second = if seconds > 0.0 {
            requests as f64 / seconds
        } else {
            0.0
        };
        println!(
            r#"{{"handler":"{handler}","requests":{requests},"seconds":{seconds:.6},"requests_per_second":{per_second:.0}}}"#
        );
        Ok(())
    })
}

/// One warm-up request, checked, then `requests` timed ones.
async fn drive<S>(
    mut adapter: S,
    event: &str,
    requests: u64,
    expect_found: bool,
) -> Result<Duration, Error>
where
    S: Service<LambdaEvent<LambdaRequest>>,
    S::Response: serde::Serialize,
    S::Error: std::fmt::Debug,
{
    let warm_up = serde_json::from_slice::<serde_json::Value>(&handle(&mut adapter, event).await?)?;
    let body: serde_json::Value =
        serde_json::from_str(warm_up["body"].as_str().ok_or("a response body")?)?;
    if warm_up["statusCode"] != 200 || (expect_found && body["found"] != true) {
        return Err(format!("unexpected warm-up response: {warm_up}").into());
    }
    let started = Instant::now();
    for _ in 0..requests {
        std::hint::black_box(handle(&mut adapter, event).await?);
    }
    Ok(started.elapsed())
}

/// What `lambda_runtime` does with one invocation, minus the HTTP: parse
/// the event, call the handler, serialize the response.
async fn handle<S>(adapter: &mut S, event: &str) -> Result<Vec<u8>, Error>
where
    S: Service<LambdaEvent<LambdaRequest>>,
    S::Response: serde::Serialize,
    S::Error: std::fmt::Debug,
{
    let payload: LambdaRequest = serde_json::from_str(event)?;
    let response = adapter
        .ready()
        .await
        .map_err(|e| format!("{e:?}"))?
        .call(LambdaEvent::new(payload, Context::default()))
        .await
        .map_err(|e| format!("{e:?}"))?;
    Ok(serde_json::to_vec(&response)?)
}

fn seeded_store(key: &PlainSecret) -> Result<MemoryStore, Error> {
    let store = MemoryStore::default();
    let project = store.add_api_key(key);
    // A realistic project (the check caches a whole one): the event's
    // partition holds a few ranges and exact versions, attributes and
    // locales; its request (1.0.0+5, country=US, fr_CA) matches several, and
    // precedence picks the exact one with an attribute. The same versions
    // again for iOS, for staging, and for a second app sit beside it.
    let record = |app_version: &str, force: bool, attributes: &[(&str, &[&str])]| VersionRecord {
        force_upgrade: force,
        message: "A new version is available.".into(),
        message_locale: BTreeMap::from([
            ("fr".into(), "Une nouvelle version est disponible.".into()),
            ("de".into(), "Eine neue Version ist verfügbar.".into()),
            ("pt-BR".into(), "Uma nova versão está disponível.".into()),
        ]),
        custom_attributes: attributes
            .iter()
            .map(|(n, vs)| {
                (
                    (*n).to_owned(),
                    CustomValue::Many(vs.iter().map(|v| (*v).to_owned()).collect()),
                )
            })
            .collect(),
        ..version_record(&project, app_version)
    };
    let partition = [
        record("1.2.0", false, &[]),
        record("1.1.0", false, &[]),
        record(">=0.9.0, <1.1.0", false, &[]),
        record("<2.0.0", false, &[("country", &["DE"])]),
        record("1.0.0", true, &[("country", &["US", "CA"])]),
        record("1.0.0", false, &[]),
        record("0.9.0", true, &[]),
    ];
    for r in &partition {
        store.put_version(r.clone());
        for (app, platform, environment) in [
            ("Wallpaper App", "ios", "production"),
            ("Wallpaper App", "android", "staging"),
            ("Wallpaper Pro", "android", "production"),
        ] {
            store.put_version(VersionRecord {
                id: VersionId::generate(),
                app_name: AppName::parse(app)?,
                platform: Platform::parse(platform)?,
                environment: Environment::parse(environment)?,
                ..r.clone()
            });
        }
    }
    Ok(store)
}
