use std::sync::Arc;

use app_upgrade::Config;
use app_upgrade::auth::jwt::JwtVerifier;
use app_upgrade::store::DynamoStore;
use app_upgrade::store::activity::retention_days_from_env;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    app_upgrade::http::init_tracing();
    let config = Config::from_env()?;
    // Its keys are fetched on the first session, not here.
    let sessions = JwtVerifier::from_env_if_configured()?;
    let store = DynamoStore::from_env(&config)
        .await
        .with_retention_days(retention_days_from_env()?);
    let app = match sessions {
        Some(verifier) => versions::app_with_sessions(store, Arc::new(verifier)),
        None => versions::app(store),
    };
    app_upgrade::http::run(app).await
}
