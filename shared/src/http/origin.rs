//! Where a request came from, for its activity event: the source IP and
//! User-Agent that API Gateway put in the request context. The IP is never
//! taken from a header (`X-Forwarded-For` is the client's to forge); the
//! User-Agent falls back to the header, which is the same value API Gateway
//! reports.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use http::header::USER_AGENT;
use http::request::Parts;
use lambda_http::request::RequestContext;

use crate::domain::activity::Origin;

/// The request's [`Origin`], as an extractor that never rejects.
pub struct RequestOrigin(pub Origin);

impl RequestOrigin {
    pub fn of(parts: &Parts) -> Origin {
        let (ip, agent) = match parts.extensions.get::<RequestContext>() {
            Some(RequestContext::ApiGatewayV2(ctx)) => (
                ctx.http.source_ip.as_deref(),
                ctx.http.user_agent.as_deref(),
            ),
            _ => (None, None),
        };
        let header = parts
            .headers
            .get(USER_AGENT)
            .and_then(|value| value.to_str().ok());
        Origin::new(ip, agent.or(header))
    }
}

impl<S: Sync> FromRequestParts<S> for RequestOrigin {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(Self(Self::of(parts)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;

    #[test]
    fn the_ip_comes_from_the_context_only() {
        let (mut parts, ()) = http::Request::builder()
            .header("user-agent", "aau/1.0")
            .header("x-forwarded-for", "198.51.100.1")
            .body(())
            .expect("request")
            .into_parts();
        assert_eq!(
            RequestOrigin::of(&parts),
            Origin::new(None, Some("aau/1.0"))
        );
        let ctx: ApiGatewayV2httpRequestContext = serde_json::from_value(serde_json::json!({
            "accountId": "1", "apiId": "a", "domainName": "d", "domainPrefix": "d",
            "requestId": "r", "routeKey": "$default", "stage": "$default",
            "time": "t", "timeEpoch": 0,
            "http": {"method": "GET", "path": "/", "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.7", "userAgent": "curl/8.5"}
        }))
        .expect("context");
        parts.extensions.insert(RequestContext::ApiGatewayV2(ctx));
        assert_eq!(
            RequestOrigin::of(&parts),
            Origin::new(Some("203.0.113.7"), Some("curl/8.5"))
        );
    }
}
