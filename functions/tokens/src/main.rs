use app_upgrade::Config;
use app_upgrade::store::DynamoStore;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    app_upgrade::http::init_tracing();
    let config = Config::from_env()?;
    let store = DynamoStore::from_env(&config).await;
    app_upgrade::http::run(tokens::app(store)).await
}
