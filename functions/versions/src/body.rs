//! The body of a version create or update, parsed into the fields a client
//! may set, with every problem reported at once.
//!
//! The body is parsed from a `serde_json::Value` rather than derived with
//! serde so that one pass can name each missing, mistyped, unknown,
//! read-only or out-of-bounds field instead of stopping at the first.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::{Map, Value};

use app_upgrade::domain::{
    AppName, AppVersion, CustomValue, Environment, Platform, ProjectId, Timestamp, VersionId,
    VersionRecord,
};
use app_upgrade::{ApiError, FieldErrors};

pub const MAX_MESSAGE_CHARS: usize = 1000;
pub const MAX_INTERNAL_NOTES_CHARS: usize = 2000;
pub const MAX_LOCALES: usize = 50;
pub const MAX_LANGUAGE_TAG_CHARS: usize = 35;
pub const MAX_CUSTOM_ATTRIBUTES: usize = 20;
pub const MAX_ATTRIBUTE_NAME_CHARS: usize = 64;
pub const MAX_ATTRIBUTE_VALUE_CHARS: usize = 256;
pub const MAX_ATTRIBUTE_VALUES: usize = 50;

/// Query parameters the check reads itself: a custom attribute of that name
/// could never be matched, so it is refused.
const RESERVED_ATTRIBUTES: [&str; 5] = [
    "app_name",
    "app_version",
    "platform",
    "environment",
    "app_language",
];

/// Fields only the server sets.
const READ_ONLY: [&str; 6] = ["id", "createdAt", "updatedAt", "teamId", "team", "revision"];

const KNOWN: [&str; 11] = [
    "project",
    "appName",
    "appVersion",
    "platform",
    "environment",
    "forceUpgrade",
    "message",
    "messageLocale",
    "customAttributes",
    "internalNotes",
    "active",
];

/// Which request the body belongs to: create requires `project`, update
/// merely allows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    Create,
    Update,
}

/// The client-settable fields of a version. Optional fields are `None` when
/// absent: a create then uses the default, an update keeps the stored value
/// (so a script that sends only the required set cannot wipe the custom
/// attributes that decide which apps a version matches). An explicit `null`
/// is the default, which is how an update clears a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionFields {
    pub app_name: AppName,
    pub app_version: AppVersion,
    pub platform: Platform,
    pub environment: Environment,
    pub force_upgrade: bool,
    pub message: Option<String>,
    pub message_locale: Option<BTreeMap<String, String>>,
    pub custom_attributes: Option<BTreeMap<String, CustomValue>>,
    pub internal_notes: Option<String>,
    pub active: Option<bool>,
}

impl VersionFields {
    /// Parses a request body for `project` (the path's project id).
    pub fn parse(body: &Value, intent: Intent, project: &ProjectId) -> Result<Self, ApiError> {
        let Value::Object(body) = body else {
            return Err(ApiError::bad_request("request body must be a JSON object"));
        };
        let mut p = Parser {
            body,
            errors: FieldErrors::new(),
        };
        for key in body.keys() {
            if READ_ONLY.contains(&key.as_str()) {
                p.errors.add_key("", key, "is read-only");
            } else if !KNOWN.contains(&key.as_str()) {
                p.errors.add_key("", key, "is not a known field");
            }
        }
        match (p.string("project", intent == Intent::Create), intent) {
            (Some(given), _) if given != project.as_str() => {
                p.errors
                    .add("project", "must equal the projectId in the path");
            }
            _ => {}
        }
        let app_name = p.parsed("appName", AppName::parse);
        let app_version = p.parsed("appVersion", |s| {
            AppVersion::parse(s).map_err(|e| e.to_string())
        });
        let platform = p.parsed("platform", Platform::parse);
        let environment = p.parsed("environment", Environment::parse);
        let force_upgrade = p.boolean("forceUpgrade", true).flatten();
        let message = p.text("message", MAX_MESSAGE_CHARS);
        let internal_notes = p.text("internalNotes", MAX_INTERNAL_NOTES_CHARS);
        let message_locale = p.message_locale();
        let custom_attributes = p.custom_attributes();
        let active = p.boolean("active", false);

        let fields = match (app_name, app_version, platform, environment, force_upgrade) {
            (Some(app_name), Some(app_version), Some(platform), Some(environment), Some(force)) => {
                Some(Self {
                    app_name,
                    app_version,
                    platform,
                    environment,
                    force_upgrade: force,
                    message,
                    message_locale,
                    custom_attributes,
                    internal_notes,
                    active: active.map(|a| a.unwrap_or(true)),
                })
            }
            _ => None,
        };
        p.errors.finish(fields)
    }

    /// A new record of `project` from a create body.
    pub fn into_new_record(self, project: ProjectId, now: Timestamp) -> VersionRecord {
        VersionRecord {
            id: VersionId::generate(),
            project,
            app_name: self.app_name,
            app_version: self.app_version,
            platform: self.platform,
            environment: self.environment,
            force_upgrade: self.force_upgrade,
            message: self.message.unwrap_or_default(),
            message_locale: self.message_locale.unwrap_or_default(),
            custom_attributes: self.custom_attributes.unwrap_or_default(),
            internal_notes: self.internal_notes.unwrap_or_default(),
            active: self.active.unwrap_or(true),
            created_at: now,
            updated_at: now,
            revision: 0,
        }
    }

    /// `current` updated with this body; the store assigns the revision.
    pub fn apply_to(self, current: &VersionRecord, now: Timestamp) -> VersionRecord {
        VersionRecord {
            id: current.id.clone(),
            project: current.project.clone(),
            app_name: self.app_name,
            app_version: self.app_version,
            platform: self.platform,
            environment: self.environment,
            force_upgrade: self.force_upgrade,
            message: self.message.unwrap_or_else(|| current.message.clone()),
            message_locale: self
                .message_locale
                .unwrap_or_else(|| current.message_locale.clone()),
            custom_attributes: self
                .custom_attributes
                .unwrap_or_else(|| current.custom_attributes.clone()),
            internal_notes: self
                .internal_notes
                .unwrap_or_else(|| current.internal_notes.clone()),
            active: self.active.unwrap_or(current.active),
            created_at: current.created_at,
            // Never before the creation, even if this instance's clock lags.
            updated_at: now.max(current.created_at),
            revision: current.revision,
        }
    }
}

fn too_long(max: usize) -> String {
    format!("must be at most {max} characters")
}

struct Parser<'a> {
    body: &'a Map<String, Value>,
    errors: FieldErrors,
}

impl<'a> Parser<'a> {
    /// A string field; `None` (with an error if `required`) when absent or
    /// null, `None` with an error when not a string.
    fn string(&mut self, field: &'static str, required: bool) -> Option<&'a str> {
        match self.body.get(field) {
            None | Some(Value::Null) => {
                if required {
                    self.errors.add(field, "is required");
                }
                None
            }
            Some(Value::String(s)) => Some(s),
            Some(_) => {
                self.errors.add(field, "must be a string");
                None
            }
        }
    }

    /// A required string parsed into a domain type.
    fn parsed<T, E: ToString>(
        &mut self,
        field: &'static str,
        parse: impl Fn(&str) -> Result<T, E>,
    ) -> Option<T> {
        let s = self.string(field, true)?;
        self.errors
            .check(field, parse(s).map_err(|e| e.to_string()))
    }

    /// `None` when absent, `Some(None)` when null.
    fn boolean(&mut self, field: &'static str, required: bool) -> Option<Option<bool>> {
        match self.body.get(field) {
            None | Some(Value::Null) if required => {
                self.errors.add(field, "is required");
                None
            }
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::Bool(b)) => Some(Some(*b)),
            Some(_) => {
                self.errors.add(field, "must be true or false");
                None
            }
        }
    }

    /// An optional free text, trimmed; null is "".
    fn text(&mut self, field: &'static str, max: usize) -> Option<String> {
        match self.body.get(field)? {
            Value::Null => Some(String::new()),
            Value::String(s) => {
                let s = s.trim();
                if s.chars().count() > max {
                    self.errors.add(field, too_long(max));
                    None
                } else {
                    Some(s.to_owned())
                }
            }
            _ => {
                self.errors.add(field, "must be a string");
                None
            }
        }
    }

    /// An optional object: `None` when absent or invalid (more than `max`
    /// entries, or not an object), `Some(None)` when null.
    fn object(
        &mut self,
        field: &'static str,
        max: usize,
    ) -> Option<Option<&'a Map<String, Value>>> {
        match self.body.get(field)? {
            Value::Null => Some(None),
            Value::Object(map) if map.len() > max => {
                self.errors
                    .add(field, format!("must have at most {max} entries"));
                None
            }
            Value::Object(map) => Some(Some(map)),
            _ => {
                self.errors.add(field, "must be an object");
                None
            }
        }
    }

    fn message_locale(&mut self) -> Option<BTreeMap<String, String>> {
        let Some(map) = self.object("messageLocale", MAX_LOCALES)? else {
            return Some(BTreeMap::new());
        };
        let mut locales = BTreeMap::new();
        let errors_before = self.errors.len();
        for (tag, value) in map {
            let tag = tag.trim();
            let mut error =
                |message: Cow<'static, str>| self.errors.add_key("messageLocale.", tag, message);
            if !is_language_tag(tag) {
                error("is not a language tag such as fr or pt-BR".into());
                continue;
            }
            if locales
                .keys()
                .any(|known: &String| known.eq_ignore_ascii_case(tag))
            {
                error("duplicates another language tag".into());
                continue;
            }
            match value {
                Value::String(s) if s.trim().is_empty() => error("must not be empty".into()),
                Value::String(s) if s.trim().chars().count() > MAX_MESSAGE_CHARS => {
                    error(too_long(MAX_MESSAGE_CHARS).into());
                }
                Value::String(s) => {
                    locales.insert(tag.to_owned(), s.trim().to_owned());
                }
                _ => error("must be a string".into()),
            }
        }
        (self.errors.len() == errors_before).then_some(locales)
    }

    fn custom_attributes(&mut self) -> Option<BTreeMap<String, CustomValue>> {
        let Some(map) = self.object("customAttributes", MAX_CUSTOM_ATTRIBUTES)? else {
            return Some(BTreeMap::new());
        };
        let mut attributes = BTreeMap::new();
        let errors_before = self.errors.len();
        for (name, value) in map {
            let name = name.trim();
            let mut error = |message: Cow<'static, str>| {
                self.errors.add_key("customAttributes.", name, message)
            };
            if let Err(message) = check_attribute_name(name) {
                error(message.into());
                continue;
            }
            if attributes.contains_key(name) {
                error("duplicates another attribute".into());
                continue;
            }
            let parsed = match value {
                Value::String(s) => attribute_value(s).map(CustomValue::One),
                Value::Array(items) if items.is_empty() => Err("must not be an empty array".into()),
                Value::Array(items) if items.len() > MAX_ATTRIBUTE_VALUES => {
                    Err(format!("must have at most {MAX_ATTRIBUTE_VALUES} values"))
                }
                Value::Array(items) => items
                    .iter()
                    .map(|item| match item {
                        Value::String(s) => attribute_value(s),
                        _ => Err("must be a string or an array of strings".into()),
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(CustomValue::Many),
                _ => Err("must be a string or an array of strings".into()),
            };
            match parsed {
                Ok(value) => {
                    attributes.insert(name.to_owned(), value);
                }
                Err(message) => error(message.into()),
            }
        }
        (self.errors.len() == errors_before).then_some(attributes)
    }
}

/// A BCP 47-shaped tag: a 2–3 letter language, then `-`-separated subtags of
/// 1–8 letters or digits (`fr`, `pt-BR`, `zh-Hant-TW`).
fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let language_ok = parts
        .next()
        .is_some_and(|l| (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_alphabetic()));
    language_ok
        && tag.len() <= MAX_LANGUAGE_TAG_CHARS
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

fn check_attribute_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("attribute names must not be empty".into());
    }
    if name.chars().count() > MAX_ATTRIBUTE_NAME_CHARS {
        return Err(format!(
            "attribute names must be at most {MAX_ATTRIBUTE_NAME_CHARS} characters"
        ));
    }
    if name.chars().any(|c| c.is_control() || c == '[' || c == ']') {
        return Err("attribute names must not contain control characters or brackets".into());
    }
    if RESERVED_ATTRIBUTES.contains(&name) {
        return Err("is a parameter the check reads itself, not a custom attribute".into());
    }
    Ok(())
}

fn attribute_value(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        Err("values must not be empty".into())
    } else if value.chars().count() > MAX_ATTRIBUTE_VALUE_CHARS {
        Err(format!(
            "values must be at most {MAX_ATTRIBUTE_VALUE_CHARS} characters"
        ))
    } else {
        Ok(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn project() -> ProjectId {
        ProjectId::generate()
    }

    fn create_body(project: &ProjectId) -> Value {
        json!({
            "project": project.as_str(),
            "appName": "  Wallpaper App ",
            "appVersion": " >=1.0.0, <1.4.0 ",
            "platform": "Android",
            "environment": "PRODUCTION",
            "forceUpgrade": false,
            "message": " A new version is available. ",
            "messageLocale": {"fr": "Une nouvelle version est disponible.", "pt-BR": "Nova versão"},
            "customAttributes": {"country": ["US", " CA "], "os_version": "12"},
            "internalNotes": "never sent to apps",
            "active": true
        })
    }

    fn fields_of(err: &ApiError) -> Vec<String> {
        err.errors().iter().map(|e| e.field.to_string()).collect()
    }

    #[test]
    fn a_full_create_body_is_trimmed_and_cased() {
        let p = project();
        let f = VersionFields::parse(&create_body(&p), Intent::Create, &p).expect("valid");
        assert_eq!(f.app_name.as_str(), "Wallpaper App");
        assert_eq!(f.app_version.as_str(), ">=1.0.0, <1.4.0");
        assert_eq!(f.platform.as_str(), "android");
        assert_eq!(f.environment.as_str(), "production");
        assert_eq!(f.message.as_deref(), Some("A new version is available."));
        let attrs = f.custom_attributes.clone().expect("given");
        assert_eq!(attrs["country"].values(), ["US", "CA"]);
        let now = Timestamp::now();
        let record = f.into_new_record(p.clone(), now);
        assert_eq!(record.project, p);
        assert_eq!((record.created_at, record.updated_at), (now, now));
        assert!(record.active);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let p = project();
        let body = json!({
            "appName": "",
            "appVersion": "not a version",
            "platform": 3,
            "forceUpgrade": "yes",
            "message": "x".repeat(1001),
            "id": "01JDQ",
            "createdAt": "2026-01-01T00:00:00Z",
            "teamId": "team_x",
            "colour": "blue",
            "messageLocale": {"not a tag": "x", "de": ""},
            "customAttributes": {"platform": "x", "ok": [], "n": [1]},
        });
        let err = VersionFields::parse(&body, Intent::Create, &p).expect_err("invalid");
        assert_eq!(err.status(), http::StatusCode::BAD_REQUEST);
        let fields = fields_of(&err);
        for expected in [
            "project",
            "appName",
            "appVersion",
            "platform",
            "environment",
            "forceUpgrade",
            "message",
            "id",
            "createdAt",
            "teamId",
            "colour",
            "messageLocale.not a tag",
            "messageLocale.de",
            "customAttributes.platform",
            "customAttributes.ok",
            "customAttributes.n",
        ] {
            assert!(
                fields.contains(&expected.to_owned()),
                "{expected} in {fields:?}"
            );
        }
        assert_eq!(fields.len(), 16, "{fields:?}");
    }

    #[test]
    fn project_is_required_on_create_only_and_must_match() {
        let p = project();
        let mut body = create_body(&p);
        let other = project();
        body["project"] = json!(other.as_str());
        for intent in [Intent::Create, Intent::Update] {
            let err = VersionFields::parse(&body, intent, &p).expect_err("mismatch");
            assert_eq!(fields_of(&err), ["project"]);
        }
        if let Value::Object(map) = &mut body {
            map.remove("project");
        }
        assert!(VersionFields::parse(&body, Intent::Update, &p).is_ok());
        let err = VersionFields::parse(&body, Intent::Create, &p).expect_err("missing");
        assert_eq!(err.errors()[0].message, "is required");
    }

    #[test]
    fn a_partial_update_is_rejected() {
        let p = project();
        let err = VersionFields::parse(&json!({"forceUpgrade": true}), Intent::Update, &p)
            .expect_err("partial");
        assert_eq!(
            fields_of(&err),
            ["appName", "appVersion", "platform", "environment"]
        );
    }

    #[test]
    fn non_objects_and_bounds() {
        let p = project();
        for body in [json!([]), json!("x"), json!(null), json!(1)] {
            let err = VersionFields::parse(&body, Intent::Create, &p).expect_err("not an object");
            assert_eq!(err.message(), "request body must be a JSON object");
        }
        let mut body = create_body(&p);
        body["appName"] = json!("a".repeat(101));
        body["appVersion"] = json!("1.".repeat(40));
        body["platform"] = json!("p".repeat(33));
        body["internalNotes"] = json!("n".repeat(2001));
        body["messageLocale"] = Value::Object(
            (b'a'..=b'z')
                .flat_map(|a| [format!("{}a", char::from(a)), format!("{}b", char::from(a))])
                .take(51)
                .map(|tag| (tag, json!("x")))
                .collect(),
        );
        body["customAttributes"] =
            Value::Object((0..21).map(|i| (format!("a{i}"), json!("x"))).collect());
        let err = VersionFields::parse(&body, Intent::Create, &p).expect_err("too big");
        assert_eq!(
            fields_of(&err),
            [
                "appName",
                "appVersion",
                "platform",
                "internalNotes",
                "messageLocale",
                "customAttributes"
            ]
        );
    }

    #[test]
    fn update_keeps_absent_optionals_and_null_clears_them() {
        let p = project();
        let current = VersionFields::parse(&create_body(&p), Intent::Create, &p)
            .expect("valid")
            .into_new_record(p.clone(), Timestamp::from_unix_millis(1000));
        let mut update = create_body(&p);
        if let Value::Object(map) = &mut update {
            map.remove("customAttributes");
            map.remove("active");
            map.insert("messageLocale".into(), Value::Null);
            map.insert("forceUpgrade".into(), json!(true));
        }
        let next = VersionFields::parse(&update, Intent::Update, &p)
            .expect("valid")
            .apply_to(&current, Timestamp::from_unix_millis(2000));
        assert_eq!(next.custom_attributes, current.custom_attributes);
        assert!(next.message_locale.is_empty());
        assert!(next.force_upgrade && next.active);
        assert_eq!(next.id, current.id);
        assert_eq!(next.created_at.unix_millis(), 1000);
        assert_eq!(next.updated_at.unix_millis(), 2000);
    }

    /// Any JSON, biased towards the shapes the parser looks at.
    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "\\PC{0,8}".prop_map(Value::from),
            "[0-9.<>=^~, ]{0,12}".prop_map(Value::from),
            "[a-z]{990,1010}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::from),
                prop::collection::btree_map(field_key(), inner, 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Known, read-only, reserved, language-tag-like and arbitrary keys.
    fn field_key() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(KNOWN.to_vec()).prop_map(str::to_owned),
            prop::sample::select(READ_ONLY.to_vec()).prop_map(str::to_owned),
            prop::sample::select(RESERVED_ATTRIBUTES.to_vec()).prop_map(str::to_owned),
            "[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,9}){0,2}",
            "\\PC{0,80}",
        ]
    }

    /// The bounds an accepted body must respect.
    fn assert_within_bounds(f: &VersionFields) -> Result<(), TestCaseError> {
        let chars = |s: &str| s.chars().count();
        prop_assert!(
            f.message
                .as_deref()
                .is_none_or(|m| chars(m) <= MAX_MESSAGE_CHARS)
        );
        prop_assert!(
            f.internal_notes
                .as_deref()
                .is_none_or(|n| chars(n) <= MAX_INTERNAL_NOTES_CHARS)
        );
        let locales = f.message_locale.clone().unwrap_or_default();
        prop_assert!(locales.len() <= MAX_LOCALES);
        for (tag, message) in &locales {
            prop_assert!(is_language_tag(tag));
            prop_assert!(!message.is_empty() && chars(message) <= MAX_MESSAGE_CHARS);
        }
        let attributes = f.custom_attributes.clone().unwrap_or_default();
        prop_assert!(attributes.len() <= MAX_CUSTOM_ATTRIBUTES);
        for (name, value) in &attributes {
            prop_assert!(check_attribute_name(name).is_ok());
            let values = value.values();
            prop_assert!(!values.is_empty() && values.len() <= MAX_ATTRIBUTE_VALUES);
            for v in values {
                prop_assert!(!v.is_empty() && chars(v) <= MAX_ATTRIBUTE_VALUE_CHARS);
            }
        }
        Ok(())
    }

    fn check_parse(body: &Value, intent: Intent, p: &ProjectId) -> Result<(), TestCaseError> {
        match VersionFields::parse(body, intent, p) {
            Ok(fields) => assert_within_bounds(&fields),
            Err(err) => {
                prop_assert_eq!(err.status(), http::StatusCode::BAD_REQUEST);
                // Every echoed field name is bounded, whatever the key sent.
                for e in err.errors() {
                    prop_assert!(e.field.chars().count() <= 64 + "customAttributes.…".len());
                }
                Ok(())
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Arbitrary JSON: a version within every bound, or a 400.
        #[test]
        fn any_json_is_a_bounded_version_or_a_400(body in any_json(), update in any::<bool>()) {
            let p = project();
            let intent = if update { Intent::Update } else { Intent::Create };
            check_parse(&body, intent, &p)?;
        }

        /// A valid body with some fields replaced by arbitrary JSON, or
        /// extra keys: gets past the first checks far more often.
        #[test]
        fn a_damaged_valid_body_is_a_bounded_version_or_a_400(
            changes in prop::collection::vec((field_key(), any_json()), 1..4),
            removals in prop::collection::vec(prop::sample::select(KNOWN.to_vec()), 0..3),
        ) {
            let p = project();
            let mut body = create_body(&p);
            if let Value::Object(map) = &mut body {
                for (key, value) in changes {
                    map.insert(key, value);
                }
                for key in removals {
                    map.remove(key);
                }
            }
            check_parse(&body, Intent::Create, &p)?;
            check_parse(&body, Intent::Update, &p)?;
        }
    }

    #[test]
    fn language_tags() {
        for ok in ["fr", "pt-BR", "zh-Hant-TW", "es-419"] {
            assert!(is_language_tag(ok), "{ok}");
        }
        for bad in ["", "f", "french", "pt_BR", "pt-", "-BR", "fr-toolongsubtag"] {
            assert!(!is_language_tag(bad), "{bad}");
        }
    }
}
