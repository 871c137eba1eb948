//! `aau versions …`: the version-management routes, and `upsert`, which
//! makes a version be as described whatever is stored.

use std::io::Read;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use serde_json::{Map, Value, json};
use ureq::http::Method;

use crate::failure::{Failure, exit};
use crate::http::{Client, derived_key, random_key};
use crate::say::say;

/// The fields `upsert` finds a version by: the API's uniqueness key.
const IDENTITY: [&str; 4] = ["appName", "appVersion", "platform", "environment"];
/// What a create needs besides `project`, and what every update sends.
const REQUIRED: [&str; 5] = [
    "appName",
    "appVersion",
    "platform",
    "environment",
    "forceUpgrade",
];
/// Rounds of "read, then write" an upsert tries when other writers keep
/// changing the version under it (each answered by a 409 or 404).
const UPSERT_ROUNDS: usize = 5;

/// The team and project every route is under.
#[derive(Debug)]
pub struct Project {
    pub team: String,
    pub project: String,
}

impl Project {
    fn collection(&self, query: &str) -> String {
        format!(
            "/api/v1/projects/{}/versions?teamId={}{query}",
            segment(&self.project),
            encode(&self.team)
        )
    }

    fn item(&self, id: &str) -> String {
        format!(
            "/api/v1/projects/{}/versions/{}?teamId={}",
            segment(&self.project),
            segment(id),
            encode(&self.team)
        )
    }
}

/// A version's fields, from a JSON file and/or flags (flags win).
#[derive(Debug, Args)]
pub struct Fields {
    /// A JSON object of version fields, as in the API (`-`: stdin). The
    /// flags below override its fields.
    #[arg(long, value_name = "FILE")]
    body_file: Option<PathBuf>,
    #[arg(long)]
    app_name: Option<String>,
    /// An exact version (1.2.0) or a range rule (">=1.0.0, <1.4.0").
    #[arg(long)]
    app_version: Option<String>,
    #[arg(long)]
    platform: Option<String>,
    #[arg(long)]
    environment: Option<String>,
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set)]
    force_upgrade: Option<bool>,
    #[arg(long)]
    message: Option<String>,
    /// A translated message, repeatable: --message-locale fr="Mettez à jour".
    #[arg(long, value_name = "TAG=TEXT")]
    message_locale: Vec<String>,
    /// A custom attribute, repeatable; a name given twice becomes an array:
    /// --attribute country=US --attribute country=CA.
    #[arg(long = "attribute", value_name = "NAME=VALUE")]
    attributes: Vec<String>,
    #[arg(long)]
    internal_notes: Option<String>,
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set)]
    active: Option<bool>,
}

impl Fields {
    /// The fields as a JSON object. `stdin_free`: stdin is not already the
    /// token's.
    pub fn into_body(self, stdin_free: bool) -> Result<Map<String, Value>, Failure> {
        let mut body = match &self.body_file {
            None => Map::new(),
            Some(path) => read_object(path, stdin_free)?,
        };
        let strings = [
            ("appName", self.app_name),
            ("appVersion", self.app_version),
            ("platform", self.platform),
            ("environment", self.environment),
            ("message", self.message),
            ("internalNotes", self.internal_notes),
        ];
        for (field, value) in strings {
            if let Some(value) = value {
                body.insert(field.into(), Value::String(value));
            }
        }
        for (field, value) in [
            ("forceUpgrade", self.force_upgrade),
            ("active", self.active),
        ] {
            if let Some(value) = value {
                body.insert(field.into(), Value::Bool(value));
            }
        }
        if !self.message_locale.is_empty() {
            let mut locales = Map::new();
            for pair in &self.message_locale {
                let (tag, text) = split_pair("--message-locale", pair)?;
                locales.insert(tag.into(), Value::String(text.into()));
            }
            body.insert("messageLocale".into(), Value::Object(locales));
        }
        if !self.attributes.is_empty() {
            let mut attributes = Map::new();
            for pair in &self.attributes {
                let (name, value) = split_pair("--attribute", pair)?;
                let value = Value::String(value.into());
                match attributes.get_mut(name) {
                    None => {
                        attributes.insert(name.into(), value);
                    }
                    Some(Value::Array(values)) => values.push(value),
                    Some(first) => *first = Value::Array(vec![first.take(), value]),
                }
            }
            body.insert("customAttributes".into(), Value::Object(attributes));
        }
        Ok(body)
    }
}

fn read_object(path: &PathBuf, stdin_free: bool) -> Result<Map<String, Value>, Failure> {
    let mut text = String::new();
    let read = if path.as_os_str() == "-" {
        if !stdin_free {
            return Err(Failure::usage(
                "--body-file - and --token-stdin both want stdin; put the body in a file",
            ));
        }
        std::io::stdin().read_to_string(&mut text)
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_string(&mut text))
    };
    read.map_err(|e| Failure::usage(format!("--body-file {}: {e}", path.display())))?;
    match serde_json::from_str(&text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Failure::usage(format!(
            "--body-file {}: not a JSON object",
            path.display()
        ))),
        Err(e) => Err(Failure::usage(format!(
            "--body-file {}: not JSON: {e}",
            path.display()
        ))),
    }
}

fn split_pair<'a>(flag: &str, pair: &'a str) -> Result<(&'a str, &'a str), Failure> {
    pair.split_once('=')
        .ok_or_else(|| Failure::usage(format!("{flag} takes KEY=VALUE, got {pair:?}")))
}

/// `versions list`'s filters and paging, passed to the API as they are.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[arg(long)]
    page: Option<u32>,
    /// 1–100 (the API's default: 10; with --all: 100).
    #[arg(long)]
    limit: Option<u32>,
    /// field:asc|desc, comma-separated, e.g. createdAt:desc.
    #[arg(long)]
    sort_by: Option<String>,
    /// appName contains this (case-insensitive).
    #[arg(long)]
    name: Option<String>,
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set)]
    force_upgrade: Option<bool>,
    #[arg(long, value_name = "BOOL", action = clap::ArgAction::Set)]
    active: Option<bool>,
    /// Every page from --page on, as one {"results", "totalResults"}.
    #[arg(long)]
    all: bool,
}

pub fn list(client: &Client, p: &Project, args: &ListArgs) -> Result<Value, Failure> {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(sort_by) = &args.sort_by {
        query.append_pair("sortBy", sort_by);
    }
    if let Some(name) = &args.name {
        query.append_pair("name", name);
    }
    for (key, value) in [
        ("forceUpgrade", args.force_upgrade),
        ("active", args.active),
    ] {
        if let Some(value) = value {
            query.append_pair(key, if value { "true" } else { "false" });
        }
    }
    let filters = query.finish();
    let limit = args.limit.or(args.all.then_some(100));
    let page_query = |page: Option<u32>| {
        let mut q = String::new();
        for (key, value) in [("page", page), ("limit", limit)] {
            if let Some(value) = value {
                q.push_str(&format!("&{key}={value}"));
            }
        }
        if !filters.is_empty() {
            q.push('&');
            q.push_str(&filters);
        }
        q
    };
    if !args.all {
        return client
            .send(
                Method::GET,
                &p.collection(&page_query(args.page)),
                None,
                None,
            )?
            .expect("list versions", &[200]);
    }
    let mut results = Vec::new();
    each_page(
        client,
        &p.collection(&page_query(None)),
        args.page,
        |page| {
            results.extend(page.iter().cloned());
        },
    )?;
    Ok(json!({"totalResults": results.len(), "results": results}))
}

/// Calls `each` with the results of every page of `collection` (a list URL
/// without `page`) from `first` on.
fn each_page(
    client: &Client,
    collection: &str,
    first: Option<u32>,
    mut each: impl FnMut(&[Value]),
) -> Result<(), Failure> {
    let mut page = first.unwrap_or(1);
    loop {
        let body = client
            .send(
                Method::GET,
                &format!("{collection}&page={page}"),
                None,
                None,
            )?
            .expect("list versions", &[200])?;
        each(body["results"].as_array().map(Vec::as_slice).unwrap_or(&[]));
        if u64::from(page) >= body["totalPages"].as_u64().unwrap_or(0) {
            return Ok(());
        }
        page += 1;
    }
}

pub fn get(client: &Client, p: &Project, id: &str) -> Result<Value, Failure> {
    client
        .send(Method::GET, &p.item(id), None, None)?
        .expect("get version", &[200])
}

pub fn create(
    client: &Client,
    p: &Project,
    mut body: Map<String, Value>,
    key: Option<String>,
) -> Result<Value, Failure> {
    body.entry("project")
        .or_insert_with(|| Value::String(p.project.clone()));
    let key = key.map_or_else(random_key, Ok)?;
    client
        .send(
            Method::POST,
            &p.collection(""),
            Some(&Value::Object(body)),
            Some(&key),
        )?
        .expect("create version", &[201])
}

/// PATCH wants the whole required set: what is not given is taken from the
/// stored version (read first; a change made in between by someone else to
/// those fields is overwritten, as with any read-modify-write).
pub fn update(
    client: &Client,
    p: &Project,
    id: &str,
    changes: Map<String, Value>,
    key: Option<String>,
) -> Result<Value, Failure> {
    let current = get(client, p, id)?;
    let mut body: Map<String, Value> = REQUIRED
        .iter()
        .map(|field| ((*field).to_owned(), current[*field].clone()))
        .collect();
    body.extend(changes);
    let key = key.map_or_else(random_key, Ok)?;
    client
        .send(
            Method::PATCH,
            &p.item(id),
            Some(&Value::Object(body)),
            Some(&key),
        )?
        .expect("update version", &[200])
}

pub fn delete(
    client: &Client,
    p: &Project,
    id: &str,
    key: Option<String>,
) -> Result<Value, Failure> {
    let key = key.map_or_else(random_key, Ok)?;
    client
        .send(Method::DELETE, &p.item(id), None, Some(&key))?
        .expect("delete version", &[204])?;
    Ok(json!({"id": id, "deleted": true}))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IfExists {
    /// Make the stored version match (PATCH), or leave it when it does.
    Update,
    /// Leave the stored version as it is, even if it differs.
    Skip,
    /// Exit 3.
    Fail,
}

/// Makes the version identified by `body`'s appName, appVersion, platform
/// and environment exist as described: created when absent; when present,
/// per `if_exists`. Fields `body` leaves out are left as stored (as PATCH
/// does).
///
/// Idempotency keys: the create's is random. A derived one would be reused
/// by a re-run of the same release, and if the version had been deleted in
/// between the server would replay the first 201 without creating it; a
/// re-run needs no key of its own anyway, since it reads first and the API's
/// uniqueness turns a create that raced an earlier one into a 409 (then read
/// again). The update's is derived from the version, its `updatedAt` as read
/// and the body: the same decision on the same stored state reuses it (a
/// re-run after a lost response finds the version changed, or else the same
/// key), and any change since gives a new one, so a replayed answer never
/// stands in for a write that is still needed.
pub fn upsert(
    client: &Client,
    p: &Project,
    mut body: Map<String, Value>,
    if_exists: IfExists,
) -> Result<Value, Failure> {
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|field| body.get(*field).is_none_or(Value::is_null))
        .collect();
    if !missing.is_empty() {
        return Err(Failure::usage(format!(
            "upsert needs {} (flags or --body-file)",
            missing.join(", ")
        )));
    }
    let identity = IDENTITY
        .iter()
        .map(|field| match normalized(field, &body[*field]) {
            Some(Value::String(s)) => Ok(s),
            _ => Err(Failure::usage(format!("{field} must be a string"))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    body.entry("project")
        .or_insert_with(|| Value::String(p.project.clone()));
    let body = Value::Object(body);
    for _ in 0..UPSERT_ROUNDS {
        let Some(current) = find(client, p, &identity)? else {
            let answer = client.send(
                Method::POST,
                &p.collection(""),
                Some(&body),
                Some(&random_key()?),
            )?;
            if answer.status == 409 {
                say("the version was created concurrently; reading it again");
                continue;
            }
            let version = answer.expect("create version", &[201])?;
            return Ok(json!({"action": "created", "version": version}));
        };
        let id = current["id"].as_str().unwrap_or_default().to_owned();
        match if_exists {
            IfExists::Fail => {
                return Err(Failure::new(
                    exit::EXISTS,
                    format!("version {id} already exists (--if-exists fail)"),
                ));
            }
            IfExists::Skip => return Ok(json!({"action": "unchanged", "version": current})),
            IfExists::Update if matches(&body, &current) => {
                return Ok(json!({"action": "unchanged", "version": current}));
            }
            IfExists::Update => {}
        }
        let key = derived_key(&[
            "aau versions upsert: update",
            &p.team,
            &p.project,
            &id,
            current["updatedAt"].as_str().unwrap_or_default(),
            &canonical(&body),
        ]);
        let answer = client.send(Method::PATCH, &p.item(&id), Some(&body), Some(&key))?;
        if matches!(answer.status, 404 | 409) {
            say("the version changed concurrently; reading it again");
            continue;
        }
        let version = answer.expect("update version", &[200])?;
        return Ok(json!({"action": "updated", "version": version}));
    }
    Err(Failure::error(format!(
        "upsert: the version kept changing under {UPSERT_ROUNDS} attempts to write it"
    )))
}

/// The stored version with exactly this identity (normalized as the API
/// stores it), found through the list's `name` filter, every page.
fn find(client: &Client, p: &Project, identity: &[String]) -> Result<Option<Value>, Failure> {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("name", &identity[0])
        .append_pair("limit", "100")
        .append_pair("sortBy", "createdAt:asc")
        .finish();
    let mut found = None;
    each_page(client, &p.collection(&format!("&{query}")), None, |page| {
        found = found.take().or_else(|| {
            page.iter()
                .find(|v| {
                    IDENTITY
                        .iter()
                        .zip(identity)
                        .all(|(f, want)| v[*f] == **want)
                })
                .cloned()
        });
    })?;
    Ok(found)
}

/// Whether every field of `body` is already so in `stored`, compared as the
/// API stores it (see [`normalized`]).
fn matches(body: &Value, stored: &Value) -> bool {
    body.as_object().into_iter().flatten().all(|(field, want)| {
        field == "project"
            || normalized(field, want)
                .is_some_and(|want| normalized(field, &stored[field]) == Some(want))
    })
}

/// A field's value the way the API stores it: strings trimmed, platform and
/// environment lower-cased, `null` as the default. `None` for a field the
/// API does not take from clients, so that such a body never counts as
/// "unchanged" and the server gets to say what is wrong with it.
fn normalized(field: &str, value: &Value) -> Option<Value> {
    let trimmed = |v: &Value| match v {
        Value::String(s) => Value::String(s.trim().to_owned()),
        other => other.clone(),
    };
    let trimmed_keys = |v: &Value, each: &dyn Fn(&Value) -> Value| match v {
        Value::Null => json!({}),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.trim().to_owned(), each(v)))
                .collect(),
        ),
        other => other.clone(),
    };
    Some(match (field, value) {
        ("appName" | "appVersion", v) => trimmed(v),
        ("platform" | "environment", Value::String(s)) => Value::String(s.trim().to_lowercase()),
        ("platform" | "environment" | "forceUpgrade", v) => v.clone(),
        ("message" | "internalNotes", Value::Null) => json!(""),
        ("message" | "internalNotes", v) => trimmed(v),
        ("active", Value::Null) => json!(true),
        ("active", v) => v.clone(),
        ("messageLocale", v) => trimmed_keys(v, &trimmed),
        ("customAttributes", v) => trimmed_keys(v, &|value| match value {
            Value::Array(items) => Value::Array(items.iter().map(trimmed).collect()),
            one => trimmed(one),
        }),
        _ => return None,
    })
}

/// JSON with object keys sorted at every level, whatever order the map
/// keeps them in: the same body always hashes the same.
fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut fields: Vec<_> = map.iter().collect();
            fields.sort_by(|a, b| a.0.cmp(b.0));
            let inner: Vec<String> = fields
                .iter()
                .map(|(k, v)| format!("{}:{}", Value::String((*k).clone()), canonical(v)))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => {
            format!(
                "[{}]",
                items.iter().map(canonical).collect::<Vec<_>>().join(",")
            )
        }
        other => other.to_string(),
    }
}

/// A path segment, percent-encoded.
fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A query value, percent-encoded.
fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored() -> Value {
        json!({
            "id": "v1", "project": "prj_1", "appName": "Demo App", "appVersion": "1.0.0",
            "platform": "android", "environment": "production", "forceUpgrade": false,
            "message": "Update", "messageLocale": {"fr": "Mettez à jour"},
            "customAttributes": {"country": ["US", "CA"]}, "internalNotes": "",
            "active": true, "createdAt": "t", "updatedAt": "t"
        })
    }

    #[test]
    fn the_same_fields_as_the_api_stores_them_match() {
        let body = json!({
            "project": "prj_1", "appName": " Demo App ", "appVersion": "1.0.0 ",
            "platform": "Android", "environment": "PRODUCTION", "forceUpgrade": false,
            "message": " Update", "messageLocale": {" fr": "Mettez à jour "},
            "customAttributes": {"country": ["US", " CA"]}, "internalNotes": null, "active": null
        });
        assert!(matches(&body, &stored()));
        let required_only = json!({"appName": "Demo App", "appVersion": "1.0.0",
            "platform": "android", "environment": "production", "forceUpgrade": false});
        assert!(
            matches(&required_only, &stored()),
            "absent fields are left as stored"
        );
    }

    #[test]
    fn any_difference_or_unknown_field_does_not_match() {
        let changes = [
            json!({"message": "Update now"}),
            json!({"forceUpgrade": true}),
            json!({"forceUpgrade": "false"}),
            json!({"active": false}),
            json!({"messageLocale": null}),
            json!({"customAttributes": {"country": "US"}}),
            json!({"id": "v1"}),
            json!({"colour": "red"}),
        ];
        for change in changes {
            assert!(!matches(&change, &stored()), "{change}");
        }
    }

    #[test]
    fn canonical_json_ignores_key_order() {
        let a: Value =
            serde_json::from_str(r#"{"b": 1, "a": {"y": [1, {"q": 2, "p": 3}], "x": "s"}}"#)
                .expect("json");
        let b: Value =
            serde_json::from_str(r#"{"a": {"x": "s", "y": [1, {"p": 3, "q": 2}]}, "b": 1}"#)
                .expect("json");
        assert_eq!(canonical(&a), canonical(&b));
        assert_eq!(
            canonical(&a),
            r#"{"a":{"x":"s","y":[1,{"p":3,"q":2}]},"b":1}"#
        );
    }

    #[test]
    fn ids_are_encoded_in_paths_and_queries() {
        let p = Project {
            team: "team 1&x".into(),
            project: "prj/1".into(),
        };
        assert_eq!(
            p.item("v?1"),
            "/api/v1/projects/prj%2F1/versions/v%3F1?teamId=team+1%26x"
        );
    }
}
