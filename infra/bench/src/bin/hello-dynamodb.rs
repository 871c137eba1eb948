//! Start-up floor of any function that talks to DynamoDB: the hello-world
//! echo plus the one thing every such function does at init, building the
//! SDK client, with the functions' own SDK configuration. The functions'
//! start-up minus this binary's is what their own code costs.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = app_upgrade::store::dynamo::load_lambda_sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        // Held by the handler, as a function's store is.
        let _client = &client;
        async { Ok::<_, Error>(event.payload) }
    }))
    .await
}
