//! The DynamoDB implementation of the store traits.

mod check;
mod credentials;
mod directory;
mod receipts;
mod teams;
mod tokens;
mod transact;
pub(crate) mod version_item;
mod versions;

use std::collections::HashMap;
use std::time::Duration;

use aws_config::environment::{
    EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider,
};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, KeysAndAttributes, Projection, ProjectionType, ScalarAttributeType,
    TimeToLiveSpecification,
};
use aws_smithy_http_client::Builder as HttpClientBuilder;
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

use super::StoreError;
use super::config::Config;
use super::keys::{self, Key};
use super::tables::TableDef;

pub(crate) type Item = HashMap<String, AttributeValue>;

/// Loads the AWS SDK configuration with deliberate timeouts and retries.
///
/// The budget comes from the functions' timeouts in `template.yaml` (check
/// 5 s, versions and tokens 10 s): a request must end, with a 503 and
/// `Retry-After` if DynamoDB is the problem, before Lambda kills it, or API
/// Gateway answers a bare 500/503 without our JSON body or `Retry-After`.
///
/// - Each DynamoDB call (retries included) ends within 2 s. A request stops
///   at its first failed call, so an outage — refused connections or a
///   hung endpoint — answers 503 within about 2 s on every route; the fault
///   tests (`tests/faults.rs`) measure it. When DynamoDB is slow but still
///   answering, a cold check makes at most two calls (4 s < 5 s) and a
///   version write at most four plus the 0.5 s `lastUsedAt` touch
///   (8.5 s < 10 s); `tests/faults.rs` checks these sums against the
///   template. Only rare extras (a delete's re-read after a lost race, a
///   token list spanning pages) could exceed them, and only while DynamoDB
///   is both slow and contended.
/// - One attempt may take 1 s, connecting (TLS included) too: that is
///   ~100x DynamoDB's usual latency, so a timed-out attempt means a bad
///   connection or host, and the one retry that fits goes out on a fresh
///   connection (the SDK drops a connection after a transient error).
/// - Standard retry mode, 3 attempts, full-jitter backoff from 100 ms for
///   transient errors and throttling alike (the SDK's default base, 1 s,
///   would spend the whole budget waiting): a throttled or reset call gets
///   its retries inside the 2 s, and if DynamoDB is still failing the caller
///   gets the 503 and retries after `Retry-After`. The standard mode's retry
///   quota stops retries altogether during a long outage, so a dead store
///   fails each call fast instead of multiplying the load.
///
/// A timed-out write may still have been applied: the retry of a
/// `TransactWriteItems` reuses its idempotency token (the SDK fills
/// `ClientRequestToken`), and a 503 tells the client to retry, which the
/// uniqueness and revision conditions make safe (at worst a 409).
///
/// `AWS_ENDPOINT_URL_DYNAMODB` (read by `aws_config` itself) points the
/// client at a local emulator; no code branches on it.
///
/// TLS trusts the Amazon Trust Services roots that every AWS endpoint chains
/// to (see [`https_client`]) rather than the system store.
///
/// Credentials come from the SDK's default chain (environment, profiles,
/// SSO, web identity, IMDS), which operators' tools need; the functions use
/// [`load_lambda_sdk_config`].
pub async fn load_sdk_config() -> SdkConfig {
    sdk_loader().load().await
}

/// [`load_sdk_config`] with credentials and region from the environment
/// only: Lambda puts the execution role's credentials and `AWS_REGION`
/// there, and building the default chains (the web-identity provider
/// constructs a whole STS client, the region chain an IMDS client) is a
/// large share of a function's start-up (`make bench` measures it).
pub async fn load_lambda_sdk_config() -> SdkConfig {
    sdk_loader()
        .credentials_provider(EnvironmentVariableCredentialsProvider::new())
        .region(EnvironmentVariableRegionProvider::new())
        .load()
        .await
}

fn sdk_loader() -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(Duration::from_secs(1))
                .operation_timeout(Duration::from_secs(2))
                .build(),
        )
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(100)),
        )
}

/// The Amazon Trust Services roots, embedded.
const AMAZON_TRUST_ROOTS: &str = include_str!("amazon-trust-roots.pem");

/// The SDK's HTTPS client (rustls with aws-lc, as its default), trusting the
/// embedded Amazon roots plus any PEM bundle named by `AWS_CA_BUNDLE` (the
/// AWS tools' variable for a TLS-inspecting proxy or a private endpoint).
///
/// The default client reads the whole system store at start-up, a large
/// part of a Lambda cold start's init (`make bench` measures init). Trusting only the CAs that DynamoDB's
/// certificates chain to is also the narrower trust.
pub fn https_client() -> SharedHttpClient {
    let mut trust = TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(AMAZON_TRUST_ROOTS.as_bytes());
    if let Some(path) = std::env::var_os("AWS_CA_BUNDLE") {
        match std::fs::read(&path) {
            Ok(pem) => {
                trust.add_pem_certificate(pem);
            }
            Err(err) => tracing::error!(
                path = %path.to_string_lossy(),
                error = %err,
                "AWS_CA_BUNDLE is unreadable; trusting only the Amazon roots"
            ),
        }
    }
    let builder = HttpClientBuilder::new().tls_provider(Provider::Rustls(CryptoMode::AwsLc));
    match TlsContext::builder().with_trust_store(trust).build() {
        Ok(context) => builder.tls_context(context).build_https(),
        // Only an invalid extra server name fails this; there is none.
        Err(err) => {
            tracing::error!(error = %err, "TLS context rejected; using the SDK's defaults");
            builder.build_https()
        }
    }
}

/// Both tables behind one client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    versions_table: String,
    tokens_table: String,
}

impl DynamoStore {
    pub fn new(client: Client, config: &Config) -> Self {
        Self {
            client,
            versions_table: config.versions_table.clone(),
            tokens_table: config.tokens_table.clone(),
        }
    }

    /// From the process environment, credentials included: the one
    /// `aws_config` load a function does at start-up.
    pub async fn from_env(config: &Config) -> Self {
        Self::from_sdk(&load_lambda_sdk_config().await, config)
    }

    /// With a loaded SDK configuration, when a function also builds other
    /// clients from it.
    pub fn from_sdk(sdk: &SdkConfig, config: &Config) -> Self {
        Self::new(Client::new(sdk), config)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn versions_table(&self) -> &str {
        &self.versions_table
    }

    pub fn tokens_table(&self) -> &str {
        &self.tokens_table
    }

    /// Creates both tables if missing (local runs and tests; deployments get
    /// them from `template.yaml`). Returns the names it created.
    pub async fn create_tables(&self) -> Result<Vec<String>, StoreError> {
        let mut created = Vec::new();
        for (def, name) in [
            (&super::tables::VERSIONS, &self.versions_table),
            (&super::tables::TOKENS, &self.tokens_table),
        ] {
            if create_table(&self.client, def, name).await? {
                created.push(name.clone());
            }
        }
        Ok(created)
    }
}

async fn create_table(client: &Client, def: &TableDef, name: &str) -> Result<bool, StoreError> {
    let mut attributes = vec![def.hash_key, def.range_key];
    for index in def.indexes {
        attributes.push(index.hash_key);
        attributes.extend(index.range_key);
    }
    attributes.sort_unstable();
    attributes.dedup();

    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key_element(def.hash_key, KeyType::Hash)?)
        .key_schema(key_element(def.range_key, KeyType::Range)?);
    for attribute in attributes {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attribute)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(internal)?,
        );
    }
    for index in def.indexes {
        let mut gsi = GlobalSecondaryIndex::builder()
            .index_name(index.name)
            .key_schema(key_element(index.hash_key, KeyType::Hash)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            );
        if let Some(range) = index.range_key {
            gsi = gsi.key_schema(key_element(range, KeyType::Range)?);
        }
        request = request.global_secondary_indexes(gsi.build().map_err(internal)?);
    }
    match request.send().await {
        Ok(_) => {}
        Err(err) if is_code(&err, "ResourceInUseException") => return Ok(false),
        Err(err) => return Err(classify(err)),
    }
    if let Some(ttl) = def.ttl_attribute {
        client
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(ttl)
                    .enabled(true)
                    .build()
                    .map_err(internal)?,
            )
            .send()
            .await
            .map_err(classify)?;
    }
    Ok(true)
}

fn key_element(name: &str, key_type: KeyType) -> Result<KeySchemaElement, StoreError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .map_err(internal)
}

pub(crate) fn internal(err: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(err.to_string())
}

/// The key attributes of an item.
pub(crate) fn key_item(key: &Key) -> Item {
    HashMap::from([
        (keys::PK.to_owned(), AttributeValue::S(key.pk.clone())),
        (keys::SK.to_owned(), AttributeValue::S(key.sk.clone())),
    ])
}

/// The item at `key`, strongly consistent: what every single-item read
/// here needs (a credential, a receipt, a version, a project).
pub(crate) async fn get_consistent(
    client: &Client,
    table: &str,
    key: &Key,
) -> Result<Option<Item>, StoreError> {
    let output = client
        .get_item()
        .table_name(table)
        .set_key(Some(key_item(key)))
        .consistent_read(true)
        .send()
        .await
        .map_err(classify)?;
    Ok(output.item)
}

/// Serializes a record and adds its key.
pub(crate) fn to_item<T: serde::Serialize>(key: &Key, record: &T) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(record).map_err(internal)?;
    item.extend(key_item(key));
    Ok(item)
}

/// Runs `query` to its last page and parses every item with `parse`. A page
/// holds at most 1 MB; callers that need the whole result (sorting, the
/// check's candidates, an account's tokens) must not stop at the first.
pub(crate) async fn query_all<T>(
    query: QueryFluentBuilder,
    parse: impl Fn(Item) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut results = Vec::new();
    let mut start = None;
    loop {
        let page = query
            .clone()
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(classify)?;
        let items = page.items.unwrap_or_default();
        results.reserve(items.len());
        for item in items {
            results.push(parse(item)?);
        }
        start = page.last_evaluated_key;
        if start.is_none() {
            return Ok(results);
        }
    }
}

/// `BatchGetItem` takes at most 100 keys per call.
const BATCH_GET_LIMIT: usize = 100;
/// Calls per chunk before keys DynamoDB keeps returning unprocessed
/// (throttling) make the store unavailable.
const BATCH_GET_ROUNDS: u32 = 5;
/// Wait before re-sending unprocessed keys, doubled each round: they mean
/// throttling, and resending at once would meet the same limit.
const BATCH_GET_BACKOFF: Duration = Duration::from_millis(25);

/// Strongly consistent `BatchGetItem` of `keys` in `table` (any number,
/// 100 a call), reading `projection` (whole items when `None`); unprocessed keys are re-sent with
/// backoff. Items come back in no particular order; missing ones are absent.
pub(crate) async fn batch_get(
    client: &Client,
    table: &str,
    keys: &[Item],
    projection: Option<&str>,
) -> Result<Vec<Item>, StoreError> {
    let mut found = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(BATCH_GET_LIMIT) {
        let mut pending = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(chunk.to_vec()))
                .consistent_read(true)
                .set_projection_expression(projection.map(str::to_owned))
                .build()
                .map_err(internal)?,
        );
        let mut round = 0;
        while let Some(request) = pending.take() {
            if round == BATCH_GET_ROUNDS {
                return Err(StoreError::Unavailable(
                    "BatchGetItem kept returning unprocessed keys".into(),
                ));
            }
            if round > 0 {
                tokio::time::sleep(BATCH_GET_BACKOFF * 2u32.pow(round - 1)).await;
            }
            round += 1;
            let output = client
                .batch_get_item()
                .request_items(table, request)
                .send()
                .await
                .map_err(classify)?;
            found.extend(
                output
                    .responses
                    .and_then(|mut r| r.remove(table))
                    .unwrap_or_default(),
            );
            pending = output
                .unprocessed_keys
                .and_then(|mut u| u.remove(table))
                .filter(|k| !k.keys.is_empty());
        }
    }
    Ok(found)
}

pub(crate) fn from_item<T: serde::de::DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(internal)
}

pub(crate) fn is_code<E: ProvideErrorMetadata, R>(err: &SdkError<E, R>, code: &str) -> bool {
    err.as_service_error().and_then(ProvideErrorMetadata::code) == Some(code)
}

const UNAVAILABLE_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "LimitExceededException",
];

/// Classifies an SDK failure: lost conditions are conflicts, network,
/// timeout and throttling failures are outages, the rest is internal.
pub(crate) fn classify<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let detail = DisplayErrorContext(&err).to_string();
    match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            StoreError::Unavailable(detail)
        }
        SdkError::ServiceError(ctx) => match ctx.err().code() {
            Some("ConditionalCheckFailedException") => {
                StoreError::Conflict("a conditional write failed".into())
            }
            Some(code) if UNAVAILABLE_CODES.contains(&code) => StoreError::Unavailable(detail),
            _ => StoreError::Internal(detail),
        },
        _ => StoreError::Internal(detail),
    }
}
