//! `make run` only: the account routes' JWT check that API Gateway's JWT
//! authorizer does in AWS. `cargo lambda watch` has no authorizer, so without
//! this a local account session could only be a hand-made Lambda event.
//!
//! Like the authorizer it checks the RS256 signature against the issuer's
//! JWKS, the issuer, `exp`/`nbf`/`iat`, the audience (`aud`, or Cognito's
//! `client_id`), and the token use, then hands the function the token's
//! claims in the request context where [`super::session::Account`] reads them. It
//! always replaces whatever authorizer context a request arrived with, so
//! only a verified signature can name the account.
//!
//! Stricter than the authorizer in one way: only Cognito access tokens
//! (`token_use: access`) pass, the token the page sends. An id token would
//! pass the authorizer too; a page that works locally works in AWS.

// The deployed functions rely on API Gateway; verifying in the function as
// well would be a second, differently-configured check (and a JWKS fetch at
// every cold start). `make build` and `make bench` build release binaries:
// this makes including the feature there impossible, not just unlikely.
#[cfg(not(debug_assertions))]
compile_error!("the `local-jwt` feature is for `make run` (debug builds) only");

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use http::header;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use lambda_http::request::RequestContext;
use serde_json::{Map, Value};

/// The token use the page sends.
const TOKEN_USE: &str = "access";

/// What an account JWT must be to pass.
pub struct JwtVerifier {
    issuer: String,
    audiences: Vec<String>,
    keys: HashMap<String, DecodingKey>,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("issuer", &self.issuer)
            .field("audiences", &self.audiences)
            .field("kids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl JwtVerifier {
    /// `issuer`: the exact `iss`; `audiences`: accepted `aud`/`client_id`
    /// values; `jwks`: the issuer's JSON Web Key Set document.
    pub fn new(issuer: &str, audiences: &[&str], jwks: &str) -> Result<Self, String> {
        let set: JwkSet =
            serde_json::from_str(jwks).map_err(|e| format!("the JWKS is not a key set: {e}"))?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let kid = jwk.common.key_id.clone().ok_or("a JWKS key has no kid")?;
            let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("JWKS key {kid}: {e}"))?;
            keys.insert(kid, key);
        }
        let audiences: Vec<String> = audiences
            .iter()
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty())
            .collect();
        if issuer.is_empty() || audiences.is_empty() || keys.is_empty() {
            return Err("an issuer, an audience and at least one key are required".into());
        }
        Ok(Self {
            issuer: issuer.to_owned(),
            audiences,
            keys,
        })
    }

    /// From `ACCOUNT_JWT_ISSUER`, `ACCOUNT_JWT_AUDIENCE` (comma-separated)
    /// and `ACCOUNT_JWKS` (the key set itself, which infra/scripts/run.sh
    /// fetches from the local Cognito's `/{poolId}/.well-known/jwks.json`).
    pub fn from_env() -> Result<Self, String> {
        let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
        let audience = var("ACCOUNT_JWT_AUDIENCE")?;
        let audiences: Vec<&str> = audience.split(',').collect();
        Self::new(
            &var("ACCOUNT_JWT_ISSUER")?,
            &audiences,
            &var("ACCOUNT_JWKS")?,
        )
    }

    /// The claims of a token that passes every check, as the authorizer
    /// passes them on: each a string (other JSON values as their JSON text).
    pub fn verify(&self, token: &str) -> Option<HashMap<String, String>> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::RS256 {
            return None;
        }
        let key = self.keys.get(header.kid.as_deref()?)?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.validate_nbf = true;
        // Same machine, same clock: no skew to allow for.
        validation.leeway = 0;
        // Cognito access tokens carry `client_id`, not `aud`: checked below.
        validation.validate_aud = false;
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation)
            .ok()?
            .claims;
        let now = jsonwebtoken::get_current_timestamp();
        let issued_in_future = claims
            .get("iat")
            .is_some_and(|iat| iat.as_u64().is_none_or(|iat| iat > now));
        let audience = claims.get("aud").or_else(|| claims.get("client_id"));
        let audience_ok = match audience {
            Some(Value::String(a)) => self.audiences.contains(a),
            Some(Value::Array(list)) => list.iter().any(|a| {
                a.as_str()
                    .is_some_and(|a| self.audiences.iter().any(|x| x == a))
            }),
            _ => false,
        };
        let token_use_ok = claims.get("token_use").and_then(Value::as_str) == Some(TOKEN_USE);
        if issued_in_future || !audience_ok || !token_use_ok {
            return None;
        }
        Some(
            claims
                .into_iter()
                .map(|(name, value)| match value {
                    Value::String(s) => (name, s),
                    other => (name, other.to_string()),
                })
                .collect(),
        )
    }
}

/// `app` with every request's authorizer context replaced by the claims of
/// its verified `Authorization: Bearer` JWT, or by none.
pub fn with_local_jwt(app: Router, verifier: JwtVerifier) -> Router {
    app.layer(middleware::from_fn_with_state(
        Arc::new(verifier),
        authorize,
    ))
}

async fn authorize(
    State(verifier): State<Arc<JwtVerifier>>,
    mut request: Request,
    next: Next,
) -> Response {
    let claims = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .and_then(|token| verifier.verify(token.trim()));
    if let Some(RequestContext::ApiGatewayV2(ctx)) = request.extensions_mut().get_mut() {
        ctx.authorizer = claims.and_then(|claims| {
            // The authorizer types are non-exhaustive: built as API Gateway
            // sends them.
            serde_json::from_value(serde_json::json!({"jwt": {"claims": claims}})).ok()
        });
    }
    next.run(request).await
}

/// Tokens signed by test-only keys (tests/data/README.md), for this
/// module's tests and the integration tests' router checks.
#[cfg(any(test, feature = "test-util"))]
pub mod testing {
    use super::JwtVerifier;
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    use serde_json::{Value, json};

    /// The issuer's signing key; its public half is [`JWKS`].
    pub const ISSUER_KEY: &[u8] = include_bytes!("testdata/test-key-a.der");
    /// A key the issuer never published: an attacker's.
    pub const OTHER_KEY: &[u8] = include_bytes!("testdata/test-key-b.der");
    pub const KID: &str = "test-a";
    pub const JWKS: &str = include_str!("testdata/test-jwks-a.json");
    pub const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_test";
    pub const CLIENT: &str = "localclient";

    pub fn verifier() -> JwtVerifier {
        JwtVerifier::new(ISSUER, &[CLIENT], JWKS).expect("a valid verifier")
    }

    pub fn now() -> i64 {
        i64::try_from(jsonwebtoken::get_current_timestamp()).expect("a sane clock")
    }

    /// An access token for `sub` as Cognito issues it, with `changes`
    /// applied to its claims (a null removes the claim).
    pub fn access_token(sub: &str, changes: Value) -> String {
        sign(ISSUER_KEY, KID, sub, changes)
    }

    pub fn sign(key: &[u8], kid: &str, sub: &str, changes: Value) -> String {
        let mut claims = json!({
            "iss": ISSUER, "sub": sub, "client_id": CLIENT, "token_use": "access",
            "username": sub, "iat": now(), "auth_time": now(), "exp": now() + 3600,
        });
        let map = claims.as_object_mut().expect("an object");
        for (name, value) in changes.as_object().expect("an object of changes") {
            match value {
                Value::Null => map.remove(name),
                v => map.insert(name.clone(), v.clone()),
            };
        }
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.into());
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_rsa_der(key)).expect("signs")
    }

    /// One token per way a JWT must fail, with what is wrong with it.
    pub fn rejected_tokens(sub: &str) -> Vec<(&'static str, String)> {
        let token = |changes| access_token(sub, changes);
        let other_issuer = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other";
        vec![
            (
                "signed by another key",
                sign(OTHER_KEY, KID, sub, json!({})),
            ),
            ("unknown kid", sign(ISSUER_KEY, "other", sub, json!({}))),
            ("wrong issuer", token(json!({"iss": other_issuer}))),
            ("no issuer", token(json!({"iss": null}))),
            ("expired", token(json!({"exp": now() - 1}))),
            ("no expiry", token(json!({"exp": null}))),
            ("not yet valid", token(json!({"nbf": now() + 600}))),
            ("issued in the future", token(json!({"iat": now() + 600}))),
            (
                "wrong client",
                token(json!({"client_id": "someone-elses-client"})),
            ),
            ("no audience", token(json!({"client_id": null}))),
            (
                "wrong aud",
                token(json!({"client_id": null, "aud": "other"})),
            ),
            ("id token", token(json!({"token_use": "id"}))),
            ("no token use", token(json!({"token_use": null}))),
            ("no sub", token(json!({"sub": null}))),
            ("not a JWT", "aau_notajwt".to_owned()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    const SUB: &str = "3f6c2b1e-0000-4000-8000-000000000001";

    #[test]
    fn a_cognito_access_token_passes_with_its_claims() {
        let claims = verifier()
            .verify(&access_token(SUB, json!({})))
            .expect("passes");
        assert_eq!(claims["sub"], SUB);
        assert_eq!(claims["token_use"], "access");
        assert!(claims["exp"].parse::<i64>().is_ok(), "numbers as text");
        // An `aud` claim is checked instead of client_id when present.
        let with_aud = access_token(SUB, json!({"client_id": null, "aud": [CLIENT, "other"]}));
        assert!(verifier().verify(&with_aud).is_some());
    }

    #[test]
    fn every_failed_check_rejects() {
        for (why, token) in rejected_tokens(SUB) {
            assert!(verifier().verify(&token).is_none(), "{why} passed");
        }
    }

    #[test]
    fn other_algorithms_are_refused() {
        // HS256 "signed" with the public JWKS text: the classic key confusion.
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(KID.into());
        let claims = json!({"iss": ISSUER, "sub": SUB, "client_id": CLIENT,
                            "token_use": "access", "exp": now() + 3600});
        let secret = EncodingKey::from_secret(JWKS.as_bytes());
        let token = jsonwebtoken::encode(&header, &claims, &secret).expect("signs");
        assert!(verifier().verify(&token).is_none());
        // alg "none": a valid token's claims with no signature.
        let valid = access_token(SUB, json!({}));
        let claims_part = valid.split('.').nth(1).expect("three parts");
        // {"alg":"none","kid":"test-a"}
        let unsigned = format!("eyJhbGciOiJub25lIiwia2lkIjoidGVzdC1hIn0.{claims_part}.");
        assert!(verifier().verify(&unsigned).is_none());
    }

    #[test]
    fn configuration_must_be_complete() {
        assert!(JwtVerifier::new("", &[CLIENT], JWKS).is_err());
        assert!(JwtVerifier::new(ISSUER, &[" "], JWKS).is_err());
        assert!(JwtVerifier::new(ISSUER, &[CLIENT], r#"{"keys": []}"#).is_err());
        assert!(JwtVerifier::new(ISSUER, &[CLIENT], "not json").is_err());
    }
}
