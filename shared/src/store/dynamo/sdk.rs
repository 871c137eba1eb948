//! The AWS SDK set-up the functions and tools share: timeouts and retries
//! sized to the functions' budgets, and TLS that trusts the Amazon roots.

use std::time::Duration;

use aws_config::environment::{
    EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider,
};
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_smithy_http_client::Builder as HttpClientBuilder;
use aws_smithy_http_client::tls::rustls_provider::CryptoMode;
use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

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

/// The SDK's HTTPS client (rustls with aws-lc, as its default), trusting
/// [`amazon_trust`].
///
/// The default client reads the whole system store at start-up, a large
/// part of a Lambda cold start's init (`make bench` measures init). Trusting only the CAs that DynamoDB's
/// certificates chain to is also the narrower trust.
pub fn https_client() -> SharedHttpClient {
    HttpClientBuilder::new()
        .tls_provider(Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(amazon_trust())
        .build_https()
}

/// TLS trusting the embedded Amazon roots plus any PEM bundle named by
/// `AWS_CA_BUNDLE` (the AWS tools' variable for a TLS-inspecting proxy or a
/// private endpoint): what every AWS endpoint, Cognito's JWKS included,
/// chains to.
pub fn amazon_trust() -> TlsContext {
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
    TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .unwrap_or_else(|err| {
            // Only an invalid extra server name fails this; there is none.
            tracing::error!(error = %err, "TLS context rejected; using the SDK's defaults");
            TlsContext::default()
        })
}
