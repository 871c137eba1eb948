//! Request bodies: JSON objects in, values that cannot be invalid out, with
//! every problem reported at once (unknown fields included), as the version
//! routes do.

use app_upgrade::domain::{Description, Email, Invalid, Name, Role};
use app_upgrade::{ApiError, FieldErrors};
use serde_json::{Map, Value};

/// Largest body accepted: the largest valid one (a 1000-character
/// description) is a few kilobytes.
pub const BODY_LIMIT: usize = 8 * 1024;

/// A body's fields, checked against the ones a route knows.
pub struct Fields {
    body: Map<String, Value>,
    pub errors: FieldErrors,
}

impl Fields {
    pub fn new(body: Map<String, Value>, known: &[&str]) -> Self {
        let mut errors = FieldErrors::new();
        for key in body.keys().filter(|key| !known.contains(&key.as_str())) {
            errors.add_key("", key, "is not a known field");
        }
        Self { body, errors }
    }

    /// A string field parsed by `parse`; `None` (and an error) when it is
    /// required and absent, or invalid. `Ok(None)` for an absent optional.
    fn string<T>(
        &mut self,
        name: &'static str,
        required: bool,
        parse: impl Fn(&str) -> Result<T, Invalid>,
    ) -> Option<Option<T>> {
        let parsed = match self.body.get(name) {
            None | Some(Value::Null) if required => Err("is required".to_owned()),
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => parse(s).map(Some).map_err(|e| e.0.to_owned()),
            Some(_) => Err("must be a string".to_owned()),
        };
        self.errors.check(name, parsed)
    }

    /// A required string field.
    pub fn required<T>(
        &mut self,
        name: &'static str,
        parse: impl Fn(&str) -> Result<T, Invalid>,
    ) -> Option<T> {
        self.string(name, true, parse).flatten()
    }

    /// An optional string field: `Some(None)` when absent.
    pub fn optional<T>(
        &mut self,
        name: &'static str,
        parse: impl Fn(&str) -> Result<T, Invalid>,
    ) -> Option<Option<T>> {
        self.string(name, false, parse)
    }

    pub fn finish<T>(self, value: Option<T>) -> Result<T, ApiError> {
        self.errors.finish(value)
    }
}

/// `{"name"}`: a team or an API key.
pub fn named(body: Map<String, Value>) -> Result<Name, ApiError> {
    let mut fields = Fields::new(body, &["name"]);
    let name = fields.required("name", Name::parse);
    fields.finish(name)
}

/// `{"role"}`.
pub fn role(body: Map<String, Value>) -> Result<Role, ApiError> {
    let mut fields = Fields::new(body, &["role"]);
    let role = fields.required("role", Role::parse);
    fields.finish(role)
}

/// `{"email", "role"}`; the role defaults to `member`.
pub fn invitation(body: Map<String, Value>) -> Result<(Email, Role), ApiError> {
    let mut fields = Fields::new(body, &["email", "role"]);
    let email = fields.required("email", Email::parse);
    let role = fields.optional("role", Role::parse);
    let parsed = email
        .zip(role)
        .map(|(email, role)| (email, role.unwrap_or(Role::Member)));
    fields.finish(parsed)
}

/// A project's fields: on create `name` is required; on update each is
/// optional but at least one must be given.
#[derive(Debug)]
pub struct ProjectFields {
    pub name: Option<Name>,
    pub description: Option<Description>,
}

pub fn project(body: Map<String, Value>, create: bool) -> Result<ProjectFields, ApiError> {
    let mut fields = Fields::new(body, &["name", "description"]);
    let name = if create {
        fields.required("name", Name::parse).map(Some)
    } else {
        fields.optional("name", Name::parse)
    };
    let description = fields.optional("description", Description::parse);
    if !create && matches!((&name, &description), (Some(None), Some(None))) {
        fields
            .errors
            .add("name", "give a name or a description to change");
    }
    let parsed = name
        .zip(description)
        .map(|(name, description)| ProjectFields { name, description });
    fields.finish(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    fn fields(err: &ApiError) -> Vec<&str> {
        err.errors().iter().map(|e| e.field.as_ref()).collect()
    }

    #[test]
    fn every_problem_is_listed_at_once() {
        let err = invitation(object(
            json!({"email": "not-an-email", "role": "admin", "x": 1}),
        ))
        .expect_err("invalid");
        assert_eq!(err.status(), http::StatusCode::BAD_REQUEST);
        let mut named = fields(&err);
        named.sort_unstable();
        assert_eq!(named, ["email", "role", "x"]);
    }

    #[test]
    fn invitations_default_to_member() {
        let (email, role) =
            invitation(object(json!({"email": " Ana@Example.com "}))).expect("valid");
        assert_eq!(email.as_str(), "ana@example.com");
        assert_eq!(role, Role::Member);
    }

    #[test]
    fn names_are_required_and_bounded() {
        assert!(named(object(json!({}))).is_err());
        assert!(named(object(json!({"name": "  "}))).is_err());
        assert!(named(object(json!({"name": "x".repeat(101)}))).is_err());
        assert!(named(object(json!({"name": 5}))).is_err());
        assert_eq!(
            named(object(json!({"name": " Mobile "}))).map(|n| n.as_str().to_owned()),
            Ok("Mobile".into())
        );
    }

    #[test]
    fn a_project_update_changes_something() {
        assert!(project(object(json!({})), false).is_err());
        let only_description =
            project(object(json!({"description": "iOS and Android"})), false).expect("valid");
        assert!(only_description.name.is_none());
        assert!(project(object(json!({"description": "x"})), true).is_err());
        let err = project(
            object(json!({"name": "", "description": "d".repeat(1001)})),
            true,
        )
        .expect_err("invalid");
        assert_eq!(fields(&err).len(), 2);
    }
}
