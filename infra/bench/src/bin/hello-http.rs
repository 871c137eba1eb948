//! Baseline: the smallest `lambda_http` function, a constant "hello".

use lambda_http::{Error, Request, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    lambda_http::run(service_fn(|_req: Request| async {
        Ok::<_, Error>("hello")
    }))
    .await
}
