//! Test support for the `versions` function: the API Gateway v2 event
//! fixtures under `infra/events/`.

use axum::body::Body;
use http::Request;

/// An event of `infra/events/` with its `${VAR}` placeholders (the names
/// `.local/demo.env` exports, so the files also work with `envsubst` and
/// `cargo lambda invoke --data-file`) replaced, parsed the way the deployed
/// function receives it.
pub fn fixture_event(name: &str, vars: &[(&str, &str)]) -> Request<Body> {
    let path = format!("{}/../infra/events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    for (var, value) in vars {
        text = text.replace(&format!("${{{var}}}"), value);
    }
    assert!(!text.contains("${"), "{name}: a placeholder is left");
    lambda_http::request::from_str(&text)
        .expect("a valid API Gateway v2 event")
        .map(Body::new)
}
