//! Running an axum app on Lambda: what `lambda_http::run` does, with every
//! event checked first.
//!
//! `lambda_http` (1.3) turns an API Gateway v2 event into a request with
//! `unwrap`/`expect` on what the client controls: it parses
//! `{X-Forwarded-Proto}://{Host}{stage}{rawPath}` with `Url::parse(…).unwrap()`,
//! appends `rawQueryString` and builds an `http::Uri` (at most 64 KiB) with
//! `expect`, and decodes a body marked base64 with `expect`. Any of those is
//! a panic, which with `panic = "abort"` kills the instance: a 5xx for the
//! caller, a cold start for the next one. API Gateway rewrites some of these
//! headers, but a CloudFront or Function URL front door may pass them
//! through. [`admit`] makes every event one that converts, or refuses it with
//! a JSON 4xx.

use std::convert::Infallible;
use std::fmt::Write as _;

use axum::Router;
use axum::response::IntoResponse;
use base64::Engine as _;
use http::header::HOST;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use lambda_http::request::LambdaRequest;
use lambda_http::tower::{Service, ServiceExt, service_fn};
use lambda_http::{Adapter, Body, LambdaEvent};
use serde::Serialize;

use crate::error::ApiError;

/// `http::Uri`'s length limit: `lambda_http` panics building a longer URI.
pub const MAX_URI_BYTES: usize = u16::MAX as usize - 1;

const X_FORWARDED_PROTO: &str = "x-forwarded-proto";

/// Serves `app` on Lambda through [`handler`].
pub async fn run(app: Router) -> Result<(), lambda_http::Error> {
    lambda_http::lambda_runtime::run(handler(app)).await
}

/// What the Lambda runtime calls with each event: [`admit`], then `app`
/// through `lambda_http`'s adapter, or the refusal. Tests drive raw events
/// through it, the same path as on Lambda.
pub fn handler(
    app: Router,
) -> impl Service<LambdaEvent<LambdaRequest>, Response = Answer<impl Serialize>, Error = Infallible>
+ Clone {
    service_fn(move |mut event: LambdaEvent<LambdaRequest>| {
        let admitted = admit(&mut event.payload);
        // A router clone is a reference count.
        let app = app.clone();
        async move {
            match admitted {
                Ok(()) => Adapter::from(app).oneshot(event).await.map(Answer::Routed),
                Err(refusal) => Ok(Answer::Refused(Box::new(refuse(refusal)))),
            }
        }
    })
}

/// The answer to one event: the app's, as `lambda_http` shapes it (a type
/// it does not export), or a refusal in the same API Gateway v2 shape.
#[derive(Serialize)]
#[serde(untagged)]
pub enum Answer<R> {
    Routed(R),
    Refused(Box<ApiGatewayV2httpResponse>),
}

/// Repairs or refuses what would make `lambda_http` panic:
///
/// - a query with bytes a URI may not hold raw is percent-encoded
///   ([`make_query_valid`]);
/// - an `X-Forwarded-Proto` other than `http`/`https` is dropped (the
///   functions never read the scheme; `https` is assumed);
/// - a `Host` (or, without one, `requestContext.domainName`) that is not a
///   plain `host[:port]` is a 400, as HTTP requires;
/// - a path not starting with `/` is a 400 (it would be read as part of the
///   host);
/// - a URI that could exceed [`MAX_URI_BYTES`] once encoded is a 414;
/// - a body marked base64 that does not decode is a 400.
///
/// Error messages never quote the input.
pub fn admit(event: &mut LambdaRequest) -> Result<(), ApiError> {
    make_query_valid(event);
    // The only variant with the features we build lambda_http with.
    #[allow(irrefutable_let_patterns)]
    let LambdaRequest::ApiGatewayV2(request) = event else {
        return Ok(());
    };

    let proto_ok = request.headers.get(X_FORWARDED_PROTO).is_none_or(|proto| {
        proto.as_bytes().eq_ignore_ascii_case(b"https")
            || proto.as_bytes().eq_ignore_ascii_case(b"http")
    });
    if !proto_ok {
        request.headers.remove(X_FORWARDED_PROTO);
    }

    let path = request.raw_path.as_deref().unwrap_or_default();
    if !(path.is_empty() || path.starts_with('/')) {
        return Err(ApiError::bad_request("the request path must start with /"));
    }

    // The host lambda_http picks: a UTF-8 `Host`, else the domain name.
    let host = request
        .headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .or(request.request_context.domain_name.as_deref());
    let origin_len = match host {
        Some(host) => origin_len(host)
            .ok_or_else(|| ApiError::bad_request("the Host header is not a valid host name"))?,
        None => "http://localhost".len(),
    };

    // Percent-encoding at most triples the path (and the stage lambda_http
    // may put in front of it); the query is already encoded.
    let stage = request.request_context.stage.as_deref().unwrap_or_default();
    let query = request.raw_query_string.as_deref().unwrap_or_default();
    let longest = origin_len + 3 * (1 + stage.len() + path.len()) + 1 + query.len();
    if longest > MAX_URI_BYTES {
        return Err(ApiError::new(
            http::StatusCode::URI_TOO_LONG,
            "the request path and query are too long",
        ));
    }

    if request.is_base64_encoded
        && let Some(body) = &request.body
        && base64::engine::general_purpose::STANDARD
            .decode(body)
            .is_err()
    {
        return Err(ApiError::bad_request(
            "the request body is marked base64 but is not valid base64",
        ));
    }
    Ok(())
}

/// The length of `https://{host}/` when `host` is exactly a host and an
/// optional port to both of lambda_http's parsers: `url`, which must see no
/// user, path, query or fragment smuggled in, then `http`, which refuses
/// some hosts `url` keeps (a backtick).
fn origin_len(host: &str) -> Option<usize> {
    let url = url::Url::parse(&format!("https://{host}/")).ok()?;
    let plain = url.username().is_empty()
        && url.password().is_none()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && http::Uri::try_from(url.as_str()).is_ok();
    plain.then(|| url.as_str().len())
}

/// Percent-encodes the bytes of an API Gateway event's `rawQueryString`
/// that a URI query may not hold raw (controls, space, `"`, `#`, `<`, `>`,
/// DEL). `lambda_http` builds the request URI from it verbatim and panics on
/// such a byte (`?q="x"`). Everything else, escapes included, is kept, so a
/// well-formed query is unchanged.
pub fn make_query_valid(event: &mut LambdaRequest) {
    // The only variant with the features we build lambda_http with.
    #[allow(irrefutable_let_patterns)]
    let LambdaRequest::ApiGatewayV2(request) = event else {
        return;
    };
    let Some(query) = &mut request.raw_query_string else {
        return;
    };
    let refused = |b: u8| b <= b' ' || matches!(b, b'"' | b'#' | b'<' | b'>' | 0x7f);
    if !query.bytes().any(refused) {
        return;
    }
    let mut encoded = String::with_capacity(query.len() + 16);
    for c in query.chars() {
        match u8::try_from(c) {
            Ok(b) if refused(b) => {
                let _ = write!(encoded, "%{b:02X}");
            }
            _ => encoded.push(c),
        }
    }
    *query = encoded;
}

/// A refused event's answer.
fn refuse(refusal: ApiError) -> ApiGatewayV2httpResponse {
    // The reason, never the input: a header could carry anything.
    tracing::info!(
        status = refusal.status().as_u16(),
        reason = refusal.message(),
        "request refused before routing"
    );
    let body = String::from_utf8_lossy(&refusal.body()).into_owned();
    let status = refusal.status().as_u16();
    let (parts, _) = refusal.into_response().into_parts();
    let mut response = ApiGatewayV2httpResponse::default();
    response.status_code = status.into();
    response.headers = parts.headers;
    response.body = Some(Body::Text(body));
    response
}

#[cfg(test)]
mod tests {
    use std::panic::{AssertUnwindSafe, catch_unwind};

    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;

    struct Parts<'a> {
        proto: Option<&'a str>,
        host: Option<&'a str>,
        domain: Option<&'a str>,
        stage: &'a str,
        path: &'a str,
        query: &'a str,
        body: Option<(&'a str, bool)>,
    }

    const PLAIN: Parts<'static> = Parts {
        proto: Some("https"),
        host: Some("api.example.com"),
        domain: Some("api.example.com"),
        stage: "$default",
        path: "/api/v1/versions/check",
        query: "a=b",
        body: None,
    };

    /// An API Gateway v2 event, or `None` when the event itself would not
    /// deserialize (a header value with a control character): the runtime
    /// answers such an event with an error before any function code runs.
    fn event(parts: &Parts<'_>) -> Option<LambdaRequest> {
        let mut headers = serde_json::Map::new();
        if let Some(proto) = parts.proto {
            headers.insert(X_FORWARDED_PROTO.into(), proto.into());
        }
        if let Some(host) = parts.host {
            headers.insert("host".into(), host.into());
        }
        let (body, base64) = parts.body.unzip();
        let event = json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": parts.path,
            "rawQueryString": parts.query,
            "headers": headers,
            "requestContext": {
                "accountId": "123456789012", "apiId": "test", "domainName": parts.domain,
                "http": {"method": "POST", "path": parts.path, "protocol": "HTTP/1.1",
                         "sourceIp": "127.0.0.1", "userAgent": "tests"},
                "requestId": "test", "routeKey": "$default", "stage": parts.stage, "timeEpoch": 0
            },
            "body": body,
            "isBase64Encoded": base64.unwrap_or(false)
        });
        serde_json::from_value(event).ok()
    }

    /// `Ok` when admitted and converted without a panic, else the refusal's
    /// status; a panic fails the test.
    fn outcome(parts: &Parts<'_>) -> Option<Result<lambda_http::Request, u16>> {
        let mut event = event(parts)?;
        if let Err(refusal) = admit(&mut event) {
            return Some(Err(refusal.status().as_u16()));
        }
        let converted = catch_unwind(AssertUnwindSafe(|| lambda_http::Request::from(event)));
        Some(Ok(converted.unwrap_or_else(|_| {
            panic!("lambda_http panicked on an admitted event")
        })))
    }

    fn status(parts: &Parts<'_>) -> Result<(), u16> {
        outcome(parts).expect("a valid event").map(drop)
    }

    #[test]
    fn the_unrepaired_events_panic_in_lambda_http() {
        let cases = [
            Parts {
                proto: Some("a b"),
                ..PLAIN
            },
            Parts {
                host: Some("a b"),
                ..PLAIN
            },
            Parts {
                host: None,
                domain: Some("a b"),
                ..PLAIN
            },
            Parts {
                path: ":99999",
                ..PLAIN
            },
            Parts {
                path: &format!("/{}", "a".repeat(MAX_URI_BYTES)),
                ..PLAIN
            },
            Parts {
                body: Some(("not base64!", true)),
                ..PLAIN
            },
        ];
        for parts in &cases {
            let event = event(parts).expect("a valid event");
            let converted = catch_unwind(AssertUnwindSafe(|| lambda_http::Request::from(event)));
            assert!(converted.is_err(), "{:?} {:?}", parts.proto, parts.host);
        }
    }

    #[test]
    fn junk_schemes_are_dropped_and_the_request_answered() {
        for proto in [
            "a b",
            "",
            "ftp",
            "file",
            "javascript",
            "HTTP",
            &"x".repeat(70),
        ] {
            let request = outcome(&Parts {
                proto: Some(proto),
                ..PLAIN
            })
            .expect("a valid event")
            .expect("admitted");
            assert_eq!(request.uri().path(), "/api/v1/versions/check", "{proto}");
            assert_eq!(request.uri().query(), Some("a=b"));
        }
    }

    #[test]
    fn junk_hosts_are_400() {
        for host in [
            "a b",
            "",
            "a/b",
            "a?b",
            "a#b",
            "u@h",
            "u:p@h",
            "h:99999",
            "h:x",
            "[::1",
            "a\\b",
            "1.2.3.999",
            "xn--a",
            "a%20b",
            "`",
        ] {
            assert_eq!(
                status(&Parts {
                    host: Some(host),
                    ..PLAIN
                }),
                Err(400),
                "{host:?}"
            );
            assert_eq!(
                status(&Parts {
                    host: None,
                    domain: Some(host),
                    ..PLAIN
                }),
                Err(400),
                "{host:?}"
            );
        }
        for host in [
            "api.example.com",
            "127.0.0.1:9000",
            "[::1]:443",
            "localhost",
            "bücher.example",
        ] {
            assert_eq!(
                status(&Parts {
                    host: Some(host),
                    ..PLAIN
                }),
                Ok(()),
                "{host:?}"
            );
        }
        assert_eq!(
            status(&Parts {
                host: None,
                domain: None,
                ..PLAIN
            }),
            Ok(())
        );
    }

    #[test]
    fn paths_must_start_with_a_slash_and_may_hold_anything_else() {
        for path in [":99999", "@evil.example/x", "x", "?"] {
            assert_eq!(status(&Parts { path, ..PLAIN }), Err(400), "{path:?}");
        }
        for path in [
            "",
            "/",
            "/a b",
            "/a\u{1}\u{7f}b",
            "/é/%zz/{}|^`\"<>\\[]",
            "//x/../y",
            "/#x?y",
        ] {
            assert_eq!(status(&Parts { path, ..PLAIN }), Ok(()), "{path:?}");
        }
    }

    #[test]
    fn uris_past_the_limit_are_414() {
        let long = format!("/{}", "a".repeat(MAX_URI_BYTES / 3));
        assert_eq!(
            status(&Parts {
                path: &long,
                ..PLAIN
            }),
            Err(414)
        );
        let query = "q".repeat(MAX_URI_BYTES);
        assert_eq!(
            status(&Parts {
                query: &query,
                ..PLAIN
            }),
            Err(414)
        );
        // Well below: answered.
        let path = format!("/{}", " ".repeat(MAX_URI_BYTES / 4));
        assert_eq!(
            status(&Parts {
                path: &path,
                ..PLAIN
            }),
            Ok(())
        );
    }

    #[test]
    fn bodies_marked_base64_must_decode() {
        assert_eq!(
            status(&Parts {
                body: Some(("e30=", true)),
                ..PLAIN
            }),
            Ok(())
        );
        assert_eq!(
            status(&Parts {
                body: Some(("not base64!", false)),
                ..PLAIN
            }),
            Ok(())
        );
        for junk in ["not base64!", "e30", "e3=0", "\u{e9}"] {
            assert_eq!(
                status(&Parts {
                    body: Some((junk, true)),
                    ..PLAIN
                }),
                Err(400),
                "{junk}"
            );
        }
    }

    fn junk() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[a-zA-Z0-9.:\\[\\]@/?#%\\\\ \t{}|^`\"<>é-]{0,24}",
            (
                prop::sample::select(vec!['a', ' ', 'é', '%', '/']),
                0usize..30_000
            )
                .prop_map(|(c, n)| c.to_string().repeat(n)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Whatever the client controls, an admitted event converts.
        #[test]
        fn admitted_events_never_panic_in_lambda_http(
            proto in proptest::option::of(junk()),
            host in proptest::option::of(junk()),
            domain in proptest::option::of(junk()),
            stage in prop_oneof![Just("$default".to_owned()), junk()],
            path in junk(),
            slash in any::<bool>(),
            query in junk(),
            body in proptest::option::of((junk(), any::<bool>())),
        ) {
            let path = if slash { format!("/{path}") } else { path };
            let parts = Parts {
                proto: proto.as_deref(),
                host: host.as_deref(),
                domain: domain.as_deref(),
                stage: &stage,
                path: &path,
                query: &query,
                body: body.as_ref().map(|(b, base64)| (b.as_str(), *base64)),
            };
            if let Some(outcome) = outcome(&parts) {
                prop_assert!(matches!(outcome, Ok(_) | Err(400 | 414)));
            }
        }
    }

    #[tokio::test]
    async fn refusals_are_json_with_no_store() {
        let mut event = event(&Parts {
            host: Some("a b"),
            ..PLAIN
        })
        .expect("a valid event");
        let refusal = admit(&mut event).expect_err("refused");
        let answer =
            serde_json::to_value(Answer::<()>::Refused(Box::new(refuse(refusal)))).expect("JSON");
        assert_eq!(answer["statusCode"], 400);
        assert_eq!(answer["headers"]["content-type"], "application/json");
        assert_eq!(answer["headers"]["cache-control"], "no-store");
        let body: Value =
            serde_json::from_str(answer["body"].as_str().expect("a body")).expect("a JSON body");
        assert_eq!(body["code"], 400);
        assert!(!body["message"].as_str().unwrap_or_default().contains("a b"));
    }
}
