use app_upgrade::Config;
use app_upgrade::store::DynamoStore;
use app_upgrade::store::accounts::CognitoAccounts;
use app_upgrade::store::activity::retention_days_from_env;
use app_upgrade::store::dynamo::load_lambda_sdk_config;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    app_upgrade::http::init_tracing();
    let config = Config::from_env()?;
    let sdk = load_lambda_sdk_config().await;
    let store =
        DynamoStore::from_sdk(&sdk, &config).with_retention_days(retention_days_from_env()?);
    let accounts = CognitoAccounts::from_sdk(&sdk)?;
    let app = teams::app(store, accounts);
    // `make run` only: no API Gateway authorizer in front of the function.
    #[cfg(feature = "local-jwt")]
    let app = {
        use app_upgrade::auth::local_jwt::{JwtVerifier, with_local_jwt};
        with_local_jwt(app, JwtVerifier::from_env()?)
    };
    app_upgrade::http::run(app).await
}
