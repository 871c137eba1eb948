//! [`hello-dynamodb`](./hello-dynamodb.rs) with the SDK's defaults, as its
//! getting-started guide writes it (`aws_config::load_defaults`): what the
//! functions' SDK configuration saves at start-up.

use aws_config::BehaviorVersion;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = aws_config::load_defaults(BehaviorVersion::latest()).await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let _client = &client;
        async { Ok::<_, Error>(event.payload) }
    }))
    .await
}
