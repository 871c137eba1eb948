//! The user pool as invitations use it (`app_upgrade::store::accounts`),
//! against the local emulator's Cognito (served on the DynamoDB emulator's
//! port): an address the pool refuses is bad input (a 400 on `email` at the
//! API), not an outage or a bug; an accepted one gets one account, however
//! often it is invited.

use app_upgrade::domain::Email;
use app_upgrade::store::accounts::{AccountDirectory, AccountError, CognitoAccounts};
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::types::UsernameAttributeType;

/// A fresh pool shaped like template.yaml's (email usernames).
async fn fresh_pool() -> (Client, String) {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap_or_default();
    assert!(
        endpoint.starts_with("http://127.0.0.1") || endpoint.starts_with("http://localhost"),
        "run with the local emulator (make test); AWS_ENDPOINT_URL_DYNAMODB={endpoint:?}"
    );
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let config = aws_sdk_cognitoidentityprovider::config::Builder::from(&sdk)
        .endpoint_url(endpoint)
        .build();
    let client = Client::from_conf(config);
    let pool = client
        .create_user_pool()
        .pool_name(format!("test-{}", ulid::Ulid::new()))
        .username_attributes(UsernameAttributeType::Email)
        .send()
        .await
        .expect("a user pool");
    let id = pool.user_pool.and_then(|p| p.id).expect("the pool's id");
    (client, id)
}

#[tokio::test]
async fn an_address_the_pool_refuses_is_bad_input_and_an_accepted_one_gets_one_account() {
    let (client, pool) = fresh_pool().await;
    let accounts = CognitoAccounts::new(client, pool);

    // Valid for the API's rule (RFC 5321 characters), refused by the pool.
    let refused = Email::parse("o'neil@example.com").expect("valid for the API");
    let err = accounts
        .ensure_account(&refused)
        .await
        .expect_err("the pool refuses it");
    assert!(matches!(err, AccountError::EmailRefused), "{err:?}");
    let api = app_upgrade::ApiError::from(err);
    assert_eq!(api.status(), http::StatusCode::BAD_REQUEST);

    let email = Email::parse(&format!("ana-{}@example.com", ulid::Ulid::new())).expect("valid");
    let first = accounts.ensure_account(&email).await.expect("an account");
    assert!(first.created);
    let again = accounts
        .ensure_account(&email)
        .await
        .expect("the same account");
    assert!(!again.created);
    assert_eq!(again.user, first.user);
}
