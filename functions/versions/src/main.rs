use app_upgrade::Config;
use app_upgrade::store::DynamoStore;
use app_upgrade::store::activity::retention_days_from_env;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    app_upgrade::http::init_tracing();
    let config = Config::from_env()?;
    let store = DynamoStore::from_env(&config)
        .await
        .with_retention_days(retention_days_from_env()?);
    app_upgrade::http::run(versions::app(store)).await
}
