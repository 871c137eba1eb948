//! The create request's body: JSON in, a [`CreateToken`] that cannot be
//! invalid out, with every problem reported at once.

use app_upgrade::domain::token_limits::{parse_environments, parse_projects};
use app_upgrade::domain::{
    DEFAULT_PAT_LIFETIME_DAYS, Environment, LimitListError, Name, PAT_LIFETIME_DAYS,
    RequestedProjects, Scope, Scopes,
};
use app_upgrade::error::bounded;
use app_upgrade::{ApiError, FieldErrors};
use serde_json::{Map, Value};

/// Largest body accepted: a real create body is about 100 bytes, one with
/// the most limits (50 projects, 20 environments) about 2.5 KiB.
pub const BODY_LIMIT: usize = 8 * 1024;

/// `POST /api/v1/account/tokens`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateToken {
    pub name: Name,
    pub scopes: Scopes,
    pub lifetime_days: u16,
    /// `None`: every project of the owner's teams. Whether the ids are in
    /// those teams is checked against the store.
    pub projects: Option<RequestedProjects>,
    /// `None`: every environment.
    pub environments: Option<Vec<Environment>>,
}

const FIELDS: [&str; 5] = [
    "name",
    "scopes",
    "expiresInDays",
    "projects",
    "environments",
];

impl CreateToken {
    pub fn parse(body: &Map<String, Value>) -> Result<Self, ApiError> {
        let mut errors = FieldErrors::new();
        for key in body.keys().filter(|key| !FIELDS.contains(&key.as_str())) {
            errors.add_key("", key, "is not a known field");
        }
        let name = errors.check("name", parse_name(body.get("name")));
        let scopes = errors.check("scopes", parse_scopes(body.get("scopes")));
        let lifetime_days = errors.check("expiresInDays", parse_days(body.get("expiresInDays")));
        let projects = errors.check(
            "projects",
            limit_list(body.get("projects"), "project ids", |items| {
                parse_projects(items).map_err(echoed)
            }),
        );
        let environments = errors.check(
            "environments",
            limit_list(body.get("environments"), "environment names", |items| {
                parse_environments(items).map_err(echoed)
            }),
        );
        let parsed = match (name, scopes, lifetime_days, projects, environments) {
            (Some(name), Some(scopes), Some(lifetime_days), Some(projects), Some(environments)) => {
                Some(Self {
                    name,
                    scopes,
                    lifetime_days,
                    projects,
                    environments,
                })
            }
            _ => None,
        };
        errors.finish(parsed)
    }
}

fn parse_name(value: Option<&Value>) -> Result<Name, String> {
    match value {
        None | Some(Value::Null) => Err("is required".into()),
        Some(Value::String(s)) => Name::parse(s).map_err(|e| e.0.into()),
        Some(_) => Err("must be a string".into()),
    }
}

fn parse_scopes(value: Option<&Value>) -> Result<Scopes, String> {
    let known = || {
        Scope::ALL
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let items = match value {
        None | Some(Value::Null) => return Err("is required".into()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(format!("must be an array of scopes ({})", known())),
    };
    let mut scopes = Vec::new();
    let mut unknown = Vec::new();
    for item in items {
        match item.as_str().map(Scope::parse) {
            Some(Ok(scope)) => scopes.push(scope),
            _ => unknown.push(bounded(&item.to_string()).into_owned()),
        }
    }
    if !unknown.is_empty() {
        return Err(format!(
            "has unknown scopes {}; known scopes are {}",
            unknown.join(", "),
            known()
        ));
    }
    Scopes::new(scopes).ok_or_else(|| "must name at least one scope".into())
}

/// A limit list's error, what it echoes of the input bounded.
fn echoed(err: LimitListError) -> String {
    match err {
        LimitListError::Duplicate(item) => format!("names {} more than once", bounded(&item)),
        other => other.to_string(),
    }
}

/// An optional limit list: absent or `null` is no limit; otherwise an array
/// of strings that `parse` checks.
fn limit_list<T>(
    value: Option<&Value>,
    what: &str,
    parse: impl FnOnce(Vec<&str>) -> Result<T, String>,
) -> Result<Option<T>, String> {
    let items = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(format!("must be an array of {what}, or left out for all")),
    };
    items
        .iter()
        .map(Value::as_str)
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| format!("must be an array of {what}, or left out for all"))
        .and_then(parse)
        .map(Some)
}

fn parse_days(value: Option<&Value>) -> Result<u16, String> {
    let days = match value {
        None | Some(Value::Null) => return Ok(DEFAULT_PAT_LIFETIME_DAYS),
        Some(Value::Number(n)) => whole_days(n),
        Some(_) => None,
    };
    days.filter(|d| PAT_LIFETIME_DAYS.contains(d))
        .ok_or_else(|| {
            format!(
                "must be a whole number of days from {} to {}",
                PAT_LIFETIME_DAYS.start(),
                PAT_LIFETIME_DAYS.end()
            )
        })
}

/// `54` and `54.0` are the same JSON number (JSON Schema counts both as an
/// integer, and so does the contract's `type: integer`); `54.5` is not whole.
fn whole_days(n: &serde_json::Number) -> Option<u16> {
    match n.as_u64() {
        Some(d) => u16::try_from(d).ok(),
        None => n
            .as_f64()
            .filter(|f| f.fract() == 0.0 && (0.0..=f64::from(u16::MAX)).contains(f))
            .map(|f| f as u16),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(body: Value) -> Result<CreateToken, ApiError> {
        match body {
            Value::Object(map) => CreateToken::parse(&map),
            other => panic!("not an object: {other}"),
        }
    }

    fn fields(err: &ApiError) -> Vec<&str> {
        err.errors().iter().map(|e| e.field.as_ref()).collect()
    }

    #[test]
    fn a_full_body_parses_and_trims() {
        let t = parse(json!({"name": "  GitHub Actions production ",
                             "scopes": ["versions:read", "versions:write", "versions:read"],
                             "expiresInDays": 366}))
        .expect("valid");
        assert_eq!(t.name.as_str(), "GitHub Actions production");
        assert_eq!(
            t.scopes.to_vec(),
            vec![Scope::VersionsRead, Scope::VersionsWrite]
        );
        assert_eq!(t.lifetime_days, 366);
    }

    #[test]
    fn lifetime_defaults_to_90_days() {
        for body in [
            json!({"name": "ci", "scopes": ["versions:read"]}),
            json!({"name": "ci", "scopes": ["versions:read"], "expiresInDays": null}),
        ] {
            assert_eq!(parse(body).map(|t| t.lifetime_days), Ok(90));
        }
    }

    #[test]
    fn a_whole_number_written_with_a_fraction_is_whole() {
        let body = json!({"name": "ci", "scopes": ["versions:read"], "expiresInDays": 54.0});
        assert_eq!(parse(body).map(|t| t.lifetime_days), Ok(54));
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let err = parse(
            json!({"name": "", "scopes": ["versions:admin"], "expiresInDays": 0,
                               "owner": "someone-else"}),
        )
        .expect_err("invalid");
        assert_eq!(err.status(), http::StatusCode::BAD_REQUEST);
        assert_eq!(
            fields(&err),
            vec!["owner", "name", "scopes", "expiresInDays"]
        );
        assert!(err.errors()[2].message.contains("\"versions:admin\""));
    }

    #[test]
    fn each_rule_rejects() {
        let cases = [
            (json!({"scopes": ["versions:read"]}), "name"),
            (json!({"name": 5, "scopes": ["versions:read"]}), "name"),
            (
                json!({"name": "x".repeat(101), "scopes": ["versions:read"]}),
                "name",
            ),
            (json!({"name": "ci"}), "scopes"),
            (json!({"name": "ci", "scopes": []}), "scopes"),
            (json!({"name": "ci", "scopes": "versions:read"}), "scopes"),
            (json!({"name": "ci", "scopes": [1]}), "scopes"),
            (
                json!({"name": "ci", "scopes": ["versions:read"], "expiresInDays": 367}),
                "expiresInDays",
            ),
            (
                json!({"name": "ci", "scopes": ["versions:read"], "expiresInDays": -1}),
                "expiresInDays",
            ),
            (
                json!({"name": "ci", "scopes": ["versions:read"], "expiresInDays": 1.5}),
                "expiresInDays",
            ),
            (
                json!({"name": "ci", "scopes": ["versions:read"], "expiresInDays": "30"}),
                "expiresInDays",
            ),
            (
                json!({"name": "ci", "scopes": ["versions:read"], "expiresInDays": 70000}),
                "expiresInDays",
            ),
        ];
        for (body, field) in cases {
            let err = parse(body.clone()).expect_err(&body.to_string());
            assert_eq!(fields(&err), vec![field], "{body}");
        }
        assert!(
            parse(
                json!({"name": "x".repeat(100), "scopes": ["versions:write"], "expiresInDays": 1})
            )
            .is_ok()
        );
    }

    #[test]
    fn limits_are_optional_lists_checked_as_a_whole() {
        let t = parse(json!({"name": "ci", "scopes": ["versions:read"]})).expect("valid");
        assert_eq!((t.projects, t.environments), (None, None));
        let t = parse(json!({"name": "ci", "scopes": ["versions:read"],
                             "projects": null, "environments": null}))
        .expect("valid");
        assert_eq!((t.projects, t.environments), (None, None));

        let id = app_upgrade::domain::ProjectId::generate();
        let t = parse(json!({"name": "ci", "scopes": ["versions:read"],
                             "projects": [id.as_str(), "prj_bad"],
                             "environments": [" Staging ", "qa"]}))
        .expect("parsed: whether the ids are the owner's is the store's to say");
        let projects = t.projects.expect("limited");
        assert_eq!(projects.ids, vec![id]);
        assert_eq!(projects.malformed, vec!["prj_bad"]);
        let environments: Vec<&str> = t
            .environments
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(|e| e.as_str())
            .collect();
        assert_eq!(environments, vec!["staging", "qa"]);

        let long = "x".repeat(200);
        for (limits, field) in [
            (json!({"projects": []}), "projects"),
            (json!({"projects": "prj_x"}), "projects"),
            (json!({"projects": [1]}), "projects"),
            (json!({"projects": [long, long]}), "projects"),
            (json!({"environments": []}), "environments"),
            (json!({"environments": ["a", "A"]}), "environments"),
            (json!({"environments": [""]}), "environments"),
            (json!({"environments": [null]}), "environments"),
        ] {
            let mut body = json!({"name": "ci", "scopes": ["versions:read"]});
            if let (Value::Object(body), Value::Object(limits)) = (&mut body, limits.clone()) {
                body.extend(limits);
            }
            let err = parse(body).expect_err(&limits.to_string());
            assert_eq!(fields(&err), vec![field], "{limits}");
            // What is echoed of the input is bounded.
            assert!(err.errors()[0].message.len() < 120, "{limits}");
        }
    }
}
