//! Baseline: the smallest `lambda_runtime` function, an echo. Same runtime
//! flavour and tracing set-up as the real functions, so start-up and memory
//! ratios measure what the functions add.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| async {
        Ok::<_, Error>(event.payload)
    }))
    .await
}
