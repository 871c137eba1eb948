//! What a PAT request says besides its token, and what its answer says back:
//! where the request came from (recorded with the token's use, for the
//! token list) and when its token expires (the `Aau-Token-Expires-At`
//! header, added by [`crate::http::token_expiry_header`]).

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use http::{Extensions, HeaderMap};
use lambda_http::request::RequestContext;

use super::{AuthError, Principal, authenticate_pat_from, bearer_token};
use crate::domain::Timestamp;
use crate::store::CredentialStore;

/// The caller's address as API Gateway saw it (`requestContext.http.sourceIp`);
/// `None` outside API Gateway, or when it is not an IP address. A client's
/// `X-Forwarded-For` is never trusted for it.
pub fn source_ip(extensions: &Extensions) -> Option<IpAddr> {
    match extensions.get::<RequestContext>()? {
        RequestContext::ApiGatewayV2(context) => context.http.source_ip.as_deref()?.parse().ok(),
        _ => None,
    }
}

/// Where the auth path notes when the token of a request expires, for the
/// answer's header: a request extension shared with the layer that writes
/// the header once the handler has answered, success or error.
#[derive(Debug, Clone, Default)]
pub struct TokenExpiry(Arc<OnceLock<Timestamp>>);

impl TokenExpiry {
    /// The first noted expiry wins (a request authenticates one token).
    pub fn note(&self, expires_at: Timestamp) {
        let _ = self.0.set(expires_at);
    }

    pub fn get(&self) -> Option<Timestamp> {
        self.0.get().copied()
    }

    /// Notes `expires_at` on the request whose extensions these are, if it
    /// goes through the header layer.
    pub fn note_in(extensions: &Extensions, expires_at: Timestamp) {
        if let Some(slot) = extensions.get::<Self>() {
            slot.note(expires_at);
        }
    }
}

/// [`super::authenticate_request`] for a request whose extensions are at
/// hand: the use is recorded with the caller's [`source_ip`], and the
/// token's expiry is noted for the answer's `Aau-Token-Expires-At` (every
/// answer from here on, errors included, carries it).
pub async fn authenticate_with_context<S: CredentialStore>(
    store: &S,
    headers: &HeaderMap,
    extensions: &Extensions,
    now: Timestamp,
) -> Result<Principal, AuthError> {
    let token = bearer_token(headers)?;
    let principal = authenticate_pat_from(store, &token, now, source_ip(extensions)).await?;
    TokenExpiry::note_in(extensions, principal.token.expires_at);
    Ok(principal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;

    fn with_source(ip: &str) -> Extensions {
        let context: ApiGatewayV2httpRequestContext = serde_json::from_value(serde_json::json!({
            "http": {"method": "GET", "path": "/", "protocol": "HTTP/1.1",
                     "sourceIp": ip, "userAgent": "test"}
        }))
        .expect("a valid request context");
        let mut extensions = Extensions::new();
        extensions.insert(RequestContext::ApiGatewayV2(context));
        extensions
    }

    #[test]
    fn the_source_ip_is_api_gateways_and_must_be_an_address() {
        assert_eq!(
            source_ip(&with_source("203.0.113.7")),
            Some("203.0.113.7".parse().expect("ip"))
        );
        assert_eq!(
            source_ip(&with_source("2001:db8::1")),
            Some("2001:db8::1".parse().expect("ip"))
        );
        assert_eq!(source_ip(&with_source("evil\n::warning::x")), None);
        assert_eq!(source_ip(&Extensions::new()), None);
    }

    #[test]
    fn the_first_noted_expiry_is_kept() {
        let slot = TokenExpiry::default();
        let mut extensions = Extensions::new();
        TokenExpiry::note_in(&extensions, Timestamp::from_unix_millis(1));
        extensions.insert(slot.clone());
        assert_eq!(slot.get(), None);
        TokenExpiry::note_in(&extensions, Timestamp::from_unix_millis(2));
        TokenExpiry::note_in(&extensions, Timestamp::from_unix_millis(3));
        assert_eq!(slot.get(), Some(Timestamp::from_unix_millis(2)));
    }
}
