//! Real account sessions from the emulator's Cognito: an app client on a
//! [`Pool`] (support/teams.rs) and the RS256 access tokens its
//! `InitiateAuth` issues, as the Access Tokens page gets them, for the
//! routes that verify sessions in the function.

use std::process::Command;

use app_upgrade::auth::jwt::JwtVerifier;
use app_upgrade::domain::UserId;
use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, ExplicitAuthFlowsType};

use crate::repo::ROOT;
use crate::teams::Pool;

/// A fresh user pool with the dashboard's public app client.
pub struct SignIn {
    pub pool: Pool,
    pub app_client: String,
    /// The `iss` of its tokens: AWS's form, as moto issues them.
    pub issuer: String,
}

/// An account of a [`SignIn`]'s pool and an access token it signed in with.
pub struct Session {
    pub user: UserId,
    pub access_token: String,
}

impl SignIn {
    pub async fn new() -> Self {
        let pool = Pool::new().await;
        let app_client = pool
            .client
            .create_user_pool_client()
            .user_pool_id(&pool.id)
            .client_name("dashboard")
            .generate_secret(false)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
            .send()
            .await
            .expect("an app client")
            .user_pool_client
            .and_then(|c| c.client_id)
            .expect("a client id");
        let region = pool
            .client
            .config()
            .region()
            .map_or("us-east-1", |r| r.as_ref())
            .to_owned();
        Self {
            issuer: format!("https://cognito-idp.{region}.amazonaws.com/{}", pool.id),
            pool,
            app_client,
        }
    }

    /// Where the emulator serves the pool's keys (not at the issuer, which
    /// names AWS).
    pub fn jwks_url(&self) -> String {
        let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").expect("the emulator's URL");
        format!(
            "{}/{}/.well-known/jwks.json",
            endpoint.trim_end_matches('/'),
            self.pool.id
        )
    }

    /// The pool's session verifier, as a function configured for it has.
    pub fn verifier(&self) -> JwtVerifier {
        JwtVerifier::new(&self.issuer, &[&self.app_client], &self.jwks_url())
            .expect("a valid verifier")
    }

    /// A new account, signed in.
    pub async fn session(&self) -> Session {
        let person = self.pool.person("member", true).await;
        let password = format!("Pw-{}-9a", ulid::Ulid::new());
        self.pool
            .client
            .admin_set_user_password()
            .user_pool_id(&self.pool.id)
            .username(&person.username)
            .password(&password)
            .permanent(true)
            .send()
            .await
            .expect("a password");
        let auth = self
            .pool
            .client
            .initiate_auth()
            .client_id(&self.app_client)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", &person.email)
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
            user: UserId::parse(&person.sub).expect("a valid sub"),
            access_token,
        }
    }
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
