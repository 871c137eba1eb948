//! `openapi.yaml` against the code: its operations are exactly the routes
//! the functions serve (each function's `ROUTES`, the table its axum router
//! is built from), and the `cargo lambda watch` router sends each of their
//! paths to the function that serves it. `tests/template.rs` ties
//! `template.yaml`'s events to the same file; Schemathesis (`make contract`)
//! ties the answers to it.

use std::collections::{BTreeMap, BTreeSet};

use app_upgrade::http::Route;
use integration_tests::repo::{openapi_routes, watch_router};

/// Function package → its route table.
fn function_routes() -> Vec<(&'static str, &'static [Route])> {
    vec![
        ("check", &check::ROUTES[..]),
        ("versions", &versions::ROUTES[..]),
        ("tokens", &tokens::ROUTES[..]),
        ("tokens", &tokens::PAGE_ROUTES[..]),
        ("teams", &teams::ROUTES[..]),
    ]
}

fn key(route: &Route) -> String {
    format!("{} {}", route.method, route.path)
}

#[test]
fn openapi_operations_are_exactly_the_routes_the_functions_serve() {
    let tables = function_routes();
    let served: Vec<String> = tables.iter().flat_map(|(_, r)| r.iter()).map(key).collect();
    let unique: BTreeSet<String> = served.iter().cloned().collect();
    assert_eq!(
        unique.len(),
        served.len(),
        "a route is served twice: {served:?}"
    );
    let documented = openapi_routes();
    assert!(
        documented.len() >= 10,
        "openapi.yaml operations: {documented:?}"
    );
    assert_eq!(
        documented, unique,
        "openapi.yaml operations (left) = the functions' ROUTES (right)"
    );
}

#[test]
fn the_local_router_sends_each_path_to_the_function_that_serves_it() {
    let want: BTreeMap<String, String> = function_routes()
        .into_iter()
        .flat_map(|(function, routes)| {
            routes
                .iter()
                .map(move |r| (r.path.to_owned(), function.to_owned()))
        })
        .collect();
    let mut router = watch_router();
    // The catch-all sends every other path to a function's JSON 404 (`/`
    // is the dashboard's).
    assert!(router.remove("/{*path}").is_some(), "/{{*path}} is routed");
    assert_eq!(
        router, want,
        "watch router (left) = the functions' paths (right)"
    );
    let documented: BTreeSet<String> = openapi_routes()
        .iter()
        .map(|k| k.split_once(' ').expect("METHOD path").1.to_owned())
        .collect();
    assert_eq!(
        documented,
        want.into_keys().collect(),
        "openapi.yaml paths = watch router paths"
    );
}
