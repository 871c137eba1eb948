//! Route tables read from the repository's own files (and nothing outside
//! it): `openapi.yaml`, the description of the API, and the
//! `cargo lambda watch` router in the workspace manifest.

use std::collections::{BTreeMap, BTreeSet};

/// The repository root.
pub const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Every operation of `openapi.yaml` as `"METHOD /path"`.
pub fn openapi_routes() -> BTreeSet<String> {
    openapi_operations().into_keys().collect()
}

/// The operations of `openapi.yaml` that require the security scheme
/// `scheme` (e.g. `AccountJwt`), as `"METHOD /path"`.
pub fn openapi_routes_secured_by(scheme: &str) -> BTreeSet<String> {
    openapi_operations()
        .into_iter()
        .filter(|(_, op)| {
            op["security"].as_sequence().is_some_and(|requirements| {
                requirements
                    .iter()
                    .any(|r| r.as_mapping().is_some_and(|r| r.contains_key(scheme)))
            })
        })
        .map(|(key, _)| key)
        .collect()
}

/// `"METHOD /path"` → the operation object.
fn openapi_operations() -> BTreeMap<String, serde_norway::Value> {
    let text =
        std::fs::read_to_string(format!("{ROOT}/openapi.yaml")).expect("openapi.yaml is readable");
    let spec: serde_norway::Value = serde_norway::from_str(&text).expect("openapi.yaml is YAML");
    assert_eq!(spec["openapi"].as_str(), Some("3.1.0"));
    let paths = spec["paths"].as_mapping().expect("paths");
    let mut operations = BTreeMap::new();
    for (path, item) in paths {
        let path = path.as_str().expect("a path is a string");
        let item = item.as_mapping().expect("a path item");
        for (key, operation) in item {
            let key = key.as_str().expect("a path item key is a string");
            if METHODS.contains(&key) {
                operations.insert(format!("{} {path}", key.to_uppercase()), operation.clone());
            }
        }
    }
    operations
}

/// Path → function name, from the `cargo lambda watch` router in the
/// workspace manifest: the mapping the local API runs with.
pub fn watch_router() -> BTreeMap<String, String> {
    let manifest =
        std::fs::read_to_string(format!("{ROOT}/Cargo.toml")).expect("Cargo.toml is readable");
    manifest
        .lines()
        .skip_while(|l| l.trim() != "[workspace.metadata.lambda.watch.router]")
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('['))
        .filter_map(|l| {
            let (path, function) = l.split_once('=')?;
            Some((
                path.trim().trim_matches('"').to_owned(),
                function.trim().trim_matches('"').to_owned(),
            ))
        })
        .collect()
}
