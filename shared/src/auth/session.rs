//! Who an account-session request acts for.

use std::collections::HashMap;

use axum::extract::FromRequestParts;
use http::request::Parts;
use lambda_http::request::RequestContext;

use super::AuthError;
use crate::domain::UserId;

/// The account of a request, from the claims of a verified JWT: as an
/// extractor, those API Gateway's JWT authorizer put in the request context;
/// on the version routes, those [`super::jwt::JwtVerifier`] returns. Nothing
/// the client sends (a header, the body) can choose it; without claims the
/// request is 401.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The `sub` claim: the account's stable id.
    pub user: UserId,
    /// The `username` claim (Cognito access tokens carry it; the `sub` when
    /// absent): what the user pool's admin calls name the account by.
    pub username: String,
}

impl Account {
    pub fn from_context(context: Option<&RequestContext>) -> Result<Self, AuthError> {
        let claims = match context {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx
                .authorizer
                .as_ref()
                .and_then(|authorizer| authorizer.jwt.as_ref())
                .map(|jwt| &jwt.claims),
            _ => None,
        };
        Self::from_claims(claims)
    }

    /// From a verified token's claims (an authorizer's, or
    /// [`super::jwt::JwtVerifier`]'s).
    pub fn from_claims(claims: Option<&HashMap<String, String>>) -> Result<Self, AuthError> {
        let user = claims
            .and_then(|claims| claims.get("sub"))
            .and_then(|sub| UserId::parse(sub).ok())
            .ok_or_else(|| AuthError::unauthorized("an account session is required"))?;
        let username = claims
            .and_then(|claims| claims.get("username"))
            .map(|name| name.trim())
            .filter(|name| !name.is_empty())
            .map_or_else(|| user.as_str().to_owned(), str::to_owned);
        Ok(Self { user, username })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Account {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Self::from_context(parts.extensions.get::<RequestContext>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;

    fn context(authorizer: serde_json::Value) -> RequestContext {
        let mut ctx = serde_json::json!({
            "http": {"method": "GET", "path": "/api/v1/account/tokens",
                     "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "test"}
        });
        if !authorizer.is_null() {
            ctx["authorizer"] = authorizer;
        }
        let ctx: ApiGatewayV2httpRequestContext =
            serde_json::from_value(ctx).expect("a valid request context");
        RequestContext::ApiGatewayV2(ctx)
    }

    #[test]
    fn the_sub_claim_is_the_account() {
        let ctx =
            context(serde_json::json!({"jwt": {"claims": {"sub": "user-1", "email": "a@b"}}}));
        let user = UserId::parse("user-1").expect("valid");
        assert_eq!(
            Account::from_context(Some(&ctx)),
            Ok(Account {
                user: user.clone(),
                username: "user-1".into()
            })
        );
        let ctx =
            context(serde_json::json!({"jwt": {"claims": {"sub": "user-1", "username": "u1"}}}));
        assert_eq!(
            Account::from_context(Some(&ctx)),
            Ok(Account {
                user,
                username: "u1".into()
            })
        );
    }

    #[test]
    fn no_claims_means_401() {
        let cases = [
            context(serde_json::Value::Null),
            context(serde_json::json!({"jwt": {"claims": {}}})),
            context(serde_json::json!({"jwt": {"claims": {"email": "a@b"}}})),
            context(serde_json::json!({"jwt": {"claims": {"sub": "  "}}})),
            context(serde_json::json!({"lambda": {"sub": "user-1"}})),
        ];
        for ctx in &cases {
            let err = Account::from_context(Some(ctx)).expect_err("no account");
            assert_eq!(err.status(), http::StatusCode::UNAUTHORIZED, "{ctx:?}");
        }
        assert!(Account::from_context(None).is_err());
    }
}
