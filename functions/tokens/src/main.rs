use app_upgrade::Config;
use app_upgrade::store::DynamoStore;
use app_upgrade::store::activity::retention_days_from_env;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    app_upgrade::http::init_tracing();
    let config = Config::from_env()?;
    let page = tokens::PageConfig::from_env()?;
    let limits = tokens::Limits::from_env()?;
    let store = DynamoStore::from_env(&config)
        .await
        .with_retention_days(retention_days_from_env()?);
    let app = tokens::app_with(store, limits).merge(tokens::page(page));
    // `make run` only: no API Gateway authorizer in front of the function.
    #[cfg(feature = "local-jwt")]
    let app = {
        use app_upgrade::auth::local_jwt::{JwtVerifier, with_local_jwt};
        with_local_jwt(app, JwtVerifier::from_env()?)
    };
    app_upgrade::http::run(app).await
}
