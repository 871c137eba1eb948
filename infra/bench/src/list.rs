//! `aau-bench list VERSIONS ITERATIONS`: listing cost against the project's
//! size, through the whole versions function (auth, access, the store's
//! reads, parsing, sorting, JSON). Needs the local emulator.
//!
//! - **ratio**: page 1 (limit 10, sorted by appVersion) of a project holding
//!   VERSIONS versions, next to the raw paginated Query of that partition.
//! - **growth**: page 1 in the default order (`createdAt:desc`) and page 1
//!   with a `name` filter, of a 10-version project and of the VERSIONS one;
//!   the growth is their ratio (1 when a page costs the same at any size).
//! - **bytes per version**: what DynamoDB answers (counted by a proxy in
//!   front of the emulator, [`CountingProxy`]) for one filtered page 1 of
//!   the large project, divided by its versions.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use app_upgrade::domain::{ProjectId, Timestamp};
use app_upgrade::store::{DirectoryStore, DynamoStore, Project, keys};
use aws_sdk_dynamodb::types::AttributeValue;
use axum::Router;
use http::Request;
use serde_json::{Value, json};
use tower::ServiceExt;
use versions::body::{Intent, VersionFields};

use crate::proxy::CountingProxy;
use crate::round2;
use crate::workload::{Error, Tenant, drop_tables, fresh_tables, require_local_emulator};

const SEED_CONCURRENCY: usize = 4;
/// The small project of the growth figures.
const SMALL: usize = 10;
/// Matches one app name in 7 (`App 3`), case-insensitively.
const NAME_FILTER: &str = "name=app+3";

/// Seeds fresh tables, measures, drops the tables and returns the figures.
pub async fn run(versions: usize, iterations: usize, upstream: SocketAddr) -> Result<Value, Error> {
    require_local_emulator()?;
    let proxy = CountingProxy::start(upstream)?;
    // The functions' 5 s operation budget is for DynamoDB; the emulator
    // needs longer for a 1 MB page. Every measurement shares this client.
    let sdk = app_upgrade::store::dynamo::load_sdk_config().await;
    let client = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk)
            .endpoint_url(proxy.endpoint())
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
    let small = ProjectId::generate();
    store
        .create_project(
            &Project::new(
                small.clone(),
                team.clone(),
                app_upgrade::domain::Name::parse("Small bench project")?,
                Timestamp::now(),
            ),
            None,
        )
        .await?;

    let seeding = Instant::now();
    seed(&store, &project, versions).await?;
    seed(&store, &small, SMALL).await?;
    let seed_secs = seeding.elapsed().as_secs_f64();
    eprintln!("seeded {versions} + {SMALL} versions in {seed_secs:.1} s");

    let app = versions::app(store.clone());
    let bearer = format!("Bearer {}", pat.secret.expose());
    let list = |project: &ProjectId, query: &str| Lister {
        app: app.clone(),
        uri: format!("/api/v1/projects/{project}/versions?teamId={team}&page=1&limit=10{query}"),
        bearer: bearer.clone(),
    };
    let by_version = list(&project, "&sortBy=appVersion:asc");
    let default_small = list(&small, "");
    let default_large = list(&project, "");
    let filtered_small = list(&small, &format!("&{NAME_FILTER}"));
    let filtered_large = list(&project, &format!("&{NAME_FILTER}"));
    let filtered_total = |n: usize| (0..n).filter(|i| i % 7 == 3).count();

    let mut raw = Vec::new();
    let mut listed = Vec::new();
    let [mut d10, mut d10k, mut f10, mut f10k] = [(); 4].map(|()| Vec::new());
    let mut filtered_bytes = 0;
    let mut default_bytes = 0;
    // Interleaved, after one warm-up each, so drift in the emulator hits
    // every measurement alike.
    for i in 0..=iterations {
        let started = Instant::now();
        let items = raw_query(&store, &project).await?;
        let raw_time = started.elapsed();
        if items != versions {
            return Err(format!("raw query read {items} items, expected {versions}").into());
        }
        let list_time = by_version.page1(versions, 10).await?;
        let times = [
            default_small.page1(SMALL, SMALL.min(10)).await?,
            {
                let before = proxy.bytes_answered();
                let t = default_large.page1(versions, 10).await?;
                default_bytes = proxy.bytes_answered() - before;
                t
            },
            filtered_small
                .page1(filtered_total(SMALL), filtered_total(SMALL).min(10))
                .await?,
            {
                let before = proxy.bytes_answered();
                let t = filtered_large
                    .page1(filtered_total(versions), filtered_total(versions).min(10))
                    .await?;
                filtered_bytes = proxy.bytes_answered() - before;
                t
            },
        ];
        if i > 0 {
            raw.push(raw_time);
            listed.push(list_time);
            for (samples, t) in [&mut d10, &mut d10k, &mut f10, &mut f10k]
                .into_iter()
                .zip(times)
            {
                samples.push(t);
            }
        }
    }

    let (raw_ms, list_ms) = (median_ms(&mut raw), median_ms(&mut listed));
    let (d10_ms, d10k_ms) = (median_ms(&mut d10), median_ms(&mut d10k));
    let (f10_ms, f10k_ms) = (median_ms(&mut f10), median_ms(&mut f10k));
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
        "growth": {
            "small_versions": SMALL,
            "default": {
                "page1_median_ms_small": round2(d10_ms),
                "page1_median_ms_large": round2(d10k_ms),
                "growth": round2(d10k_ms / d10_ms),
                "bytes_answered_large": default_bytes,
            },
            "name_filter": {
                "query": NAME_FILTER,
                "page1_median_ms_small": round2(f10_ms),
                "page1_median_ms_large": round2(f10k_ms),
                "growth": round2(f10k_ms / f10_ms),
                "bytes_answered_large": filtered_bytes,
                "bytes_per_version": round2(filtered_bytes as f64 / versions as f64),
            },
        },
    }))
}

/// Versions seeded the way the store's `seed_versions` writes them
/// (`BatchWriteItem`: the emulator copies a whole table per transaction, so
/// seeding through `create_version` would take quadratic time).
async fn seed(store: &DynamoStore, project: &ProjectId, versions: usize) -> Result<(), Error> {
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
            VersionFields::parse(&body, Intent::Create, project)?
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
    Ok(())
}

/// One list request, sent whole through the versions function.
struct Lister {
    app: Router,
    uri: String,
    bearer: String,
}

impl Lister {
    /// Lists page 1 and checks it holds `results` of `total`; returns the time.
    async fn page1(&self, total: usize, results: usize) -> Result<Duration, Error> {
        let request = Request::get(&self.uri)
            .header("authorization", &self.bearer)
            .body(axum::body::Body::empty())?;
        let started = Instant::now();
        let response = self.app.clone().oneshot(request).await?;
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
        let time = started.elapsed();
        let page: Value = serde_json::from_slice(&body)?;
        if page["totalResults"] != total
            || page["results"].as_array().map(Vec::len) != Some(results)
        {
            return Err(format!(
                "{}: unexpected page: {}",
                self.uri,
                truncate(&page.to_string())
            )
            .into());
        }
        Ok(time)
    }
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
