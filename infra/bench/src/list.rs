//! `aau-bench list VERSIONS ITERATIONS`: listing cost against the project's
//! size. Page 1 (limit 10, sorted by appVersion) of a project holding
//! VERSIONS versions, through the whole versions function (auth, access,
//! the paginated Query, parsing, sorting, JSON), next to the raw paginated
//! Query of that partition alone. Needs the local emulator.

use std::time::{Duration, Instant};

use app_upgrade::domain::{ProjectId, Timestamp};
use app_upgrade::store::{DynamoStore, keys};
use aws_sdk_dynamodb::types::AttributeValue;
use http::Request;
use serde_json::{Value, json};
use tower::ServiceExt;
use versions::body::{Intent, VersionFields};

use crate::round2;
use crate::workload::{Error, Tenant, drop_tables, fresh_tables, require_local_emulator};

const SEED_CONCURRENCY: usize = 4;

/// Seeds fresh tables, measures, drops the tables and returns the figures.
pub async fn run(versions: usize, iterations: usize) -> Result<Value, Error> {
    require_local_emulator()?;
    // The functions' 5 s operation budget is for DynamoDB; the emulator
    // needs longer for a 1 MB page. Both measurements share this client.
    let sdk = app_upgrade::store::dynamo::load_sdk_config().await;
    let client = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk)
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .operation_timeout(Duration::from_secs(120))
                    .operation_attempt_timeout(Duration::from_secs(120))
                    .build(),
            )
            .build(),
    );
    let store = DynamoStore::new(client, &fresh_tables());
    let Tenant {
        team, project, pat, ..
    } = Tenant::seed(&store, Timestamp::now()).await?;

    // BatchWriteItem of version and identity items, as the store writes
    // them: the emulator copies a whole table per transaction, so seeding
    // through `create_version` would take quadratic time.
    let seeding = Instant::now();
    let mut records = Vec::with_capacity(versions);
    for i in 0..versions {
        let body = json!({
            "project": project.as_str(),
            "appName": format!("App {}", i % 7),
            "appVersion": format!("{}.{}.{}", i % 13, i % 101, i),
            "platform": if i % 2 == 0 { "android" } else { "ios" },
            "environment": "production",
            "forceUpgrade": i % 3 == 0,
            "message": "A new version is available.",
            "messageLocale": {"fr": "Une nouvelle version est disponible."},
            "customAttributes": {"country": ["US", "CA"]},
        });
        records.push(
            VersionFields::parse(&body, Intent::Create, &project)?
                .into_new_record(project.clone(), Timestamp::now()),
        );
    }
    let mut tasks = tokio::task::JoinSet::new();
    for chunk in records.chunks(versions.div_ceil(SEED_CONCURRENCY).max(1)) {
        let (store, chunk) = (store.clone(), chunk.to_vec());
        tasks.spawn(async move { store.seed_versions(&chunk).await });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    let seed_secs = seeding.elapsed().as_secs_f64();
    eprintln!("seeded {versions} versions in {seed_secs:.1} s");

    let app = versions::app(store.clone());
    let uri = format!(
        "/api/v1/projects/{project}/versions?teamId={team}&page=1&limit=10&sortBy=appVersion:asc"
    );
    let bearer = format!("Bearer {}", pat.secret.expose());

    let mut raw = Vec::new();
    let mut listed = Vec::new();
    // Interleaved, after one warm-up each, so drift in the emulator hits
    // both measurements alike.
    for i in 0..=iterations {
        let started = Instant::now();
        let items = raw_query(&store, &project).await?;
        let raw_time = started.elapsed();
        if items != versions {
            return Err(format!("raw query read {items} items, expected {versions}").into());
        }

        let request = Request::get(&uri)
            .header("authorization", &bearer)
            .body(axum::body::Body::empty())?;
        let started = Instant::now();
        let response = app.clone().oneshot(request).await?;
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
        let list_time = started.elapsed();
        let page: Value = serde_json::from_slice(&body)?;
        if page["totalResults"] != versions || page["results"].as_array().map(Vec::len) != Some(10)
        {
            return Err(format!("unexpected page: {}", truncate(&page.to_string())).into());
        }
        if i > 0 {
            raw.push(raw_time);
            listed.push(list_time);
        }
    }

    let (raw_ms, list_ms) = (median_ms(&mut raw), median_ms(&mut listed));
    drop_tables(&store).await?;
    Ok(json!({
        "benchmark": "versions_list_page1_limit10_sortBy_appVersion",
        "versions": versions,
        "iterations": iterations,
        "seed_seconds": round2(seed_secs),
        "raw_query_median_ms": round2(raw_ms),
        "list_handler_median_ms": round2(list_ms),
        "ratio": round2(list_ms / raw_ms),
        "raw_query_ms": raw.iter().map(|d| round2(ms(*d))).collect::<Vec<_>>(),
        "list_handler_ms": listed.iter().map(|d| round2(ms(*d))).collect::<Vec<_>>(),
    }))
}

/// The partition's version items, every page, with nothing done to them.
async fn raw_query(store: &DynamoStore, project: &ProjectId) -> Result<usize, Error> {
    let mut count = 0;
    let mut start = None;
    loop {
        let page = store
            .client()
            .query()
            .table_name(store.versions_table())
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", AttributeValue::S(keys::project_pk(project)))
            .expression_attribute_values(":prefix", AttributeValue::S(keys::VERSION_PREFIX.into()))
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await?;
        count += page.items.map_or(0, |items| items.len());
        start = page.last_evaluated_key;
        if start.is_none() {
            return Ok(count);
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median_ms(samples: &mut [Duration]) -> f64 {
    samples.sort_unstable();
    samples.get(samples.len() / 2).map_or(f64::NAN, |d| ms(*d))
}

fn truncate(s: &str) -> &str {
    s.get(..200).unwrap_or(s)
}
