//! Account sessions from the emulator's Cognito (moto serves cognito-idp on
//! the DynamoDB emulator's port): a user pool per test, shaped like
//! template.yaml's, accounts in it, and the real RS256 access tokens its
//! `InitiateAuth` issues, as the Access Tokens page gets them.

use std::process::Command;

use app_upgrade::auth::jwt::JwtVerifier;
use app_upgrade::domain::UserId;
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, AuthFlowType, ExplicitAuthFlowsType, MessageActionType,
};

use crate::repo::ROOT;

/// A fresh user pool and its public app client.
pub struct Pool {
    client: Client,
    endpoint: String,
    pub id: String,
    pub app_client: String,
    /// The `iss` of its tokens: AWS's form, as moto issues them.
    pub issuer: String,
}

/// An account of a [`Pool`] and an access token it signed in with.
pub struct Session {
    pub user: UserId,
    pub access_token: String,
}

impl Pool {
    pub async fn new() -> Self {
        let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB")
            .expect("the emulator's address: run the tests with `make test`");
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .load()
            .await;
        let config = aws_sdk_cognitoidentityprovider::config::Builder::from(&sdk)
            .endpoint_url(&endpoint)
            .build();
        let client = Client::from_conf(config);
        let name = format!("test-{}", ulid::Ulid::new().to_string().to_lowercase());
        let pool = client
            .create_user_pool()
            .pool_name(&name)
            .send()
            .await
            .expect("a user pool");
        let id = pool
            .user_pool()
            .and_then(|p| p.id())
            .expect("a pool id")
            .to_owned();
        let app_client = client
            .create_user_pool_client()
            .user_pool_id(&id)
            .client_name(format!("{name}-dashboard"))
            .generate_secret(false)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
            .send()
            .await
            .expect("an app client")
            .user_pool_client()
            .and_then(|c| c.client_id())
            .expect("a client id")
            .to_owned();
        let region = sdk.region().map_or("us-east-1", |r| r.as_ref()).to_owned();
        Self {
            issuer: format!("https://cognito-idp.{region}.amazonaws.com/{id}"),
            client,
            endpoint,
            id,
            app_client,
        }
    }

    /// Where the emulator serves the pool's keys (not at the issuer, which
    /// names AWS).
    pub fn jwks_url(&self) -> String {
        format!(
            "{}/{}/.well-known/jwks.json",
            self.endpoint.trim_end_matches('/'),
            self.id
        )
    }

    /// The pool's session verifier, as a function configured for it has.
    pub fn verifier(&self) -> JwtVerifier {
        JwtVerifier::new(&self.issuer, &[&self.app_client], &self.jwks_url())
            .expect("a valid verifier")
    }

    /// A new account, signed in.
    pub async fn session(&self) -> Session {
        let email = format!(
            "{}@example.com",
            ulid::Ulid::new().to_string().to_lowercase()
        );
        let password = format!("Pw-{}-9a", ulid::Ulid::new());
        self.client
            .admin_create_user()
            .user_pool_id(&self.id)
            .username(&email)
            .user_attributes(attribute("email", &email))
            .user_attributes(attribute("email_verified", "true"))
            .message_action(MessageActionType::Suppress)
            .send()
            .await
            .expect("a user");
        self.client
            .admin_set_user_password()
            .user_pool_id(&self.id)
            .username(&email)
            .password(&password)
            .permanent(true)
            .send()
            .await
            .expect("a password");
        let user = self
            .client
            .admin_get_user()
            .user_pool_id(&self.id)
            .username(&email)
            .send()
            .await
            .expect("the user");
        let sub = user
            .user_attributes()
            .iter()
            .find(|a| a.name() == "sub")
            .and_then(AttributeType::value)
            .expect("a sub");
        let auth = self
            .client
            .initiate_auth()
            .client_id(&self.app_client)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", &email)
            .auth_parameters("PASSWORD", &password)
            .send()
            .await
            .expect("a sign-in");
        let access_token = auth
            .authentication_result()
            .and_then(|r| r.access_token())
            .expect("an access token")
            .to_owned();
        Session {
            user: UserId::parse(sub).expect("a valid sub"),
            access_token,
        }
    }
}

fn attribute(name: &str, value: &str) -> AttributeType {
    AttributeType::builder()
        .name(name)
        .value(value)
        .build()
        .expect("an attribute")
}

/// The claims of a JWT, decoded (not verified).
pub fn claims_of(token: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("three parts");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

/// `claims` signed with the emulator's own key (moto ships its private
/// half, `kid: dummy`): a token that differs from a real one in exactly
/// what the caller changed.
pub fn signed_by_the_emulator(claims: &serde_json::Value) -> String {
    const SIGN: &str = r#"
import json, sys
from joserfc import jwt
from joserfc.jwk import RSAKey
from moto.utilities.utils import load_resource
key = RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))
print(jwt.encode({"alg": "RS256", "kid": "dummy"}, json.loads(sys.argv[1]), key))
"#;
    let output = Command::new(format!("{ROOT}/.venv/bin/python"))
        .args(["-c", SIGN, &claims.to_string()])
        .output()
        .expect("the repository's Python (make test bootstraps it)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("text")
        .trim()
        .to_owned()
}
