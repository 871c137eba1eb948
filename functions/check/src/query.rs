//! The check's query string, decoded once, exactly as the official SDKs
//! encode it.
//!
//! - `application/x-www-form-urlencoded` rules: `+` is a space, `%XX` escapes
//!   are decoded (invalid UTF-8 becomes U+FFFD, never an error).
//! - `app_name`, `app_version`, `platform`, `environment` and `app_language`
//!   are the named parameters; every other parameter is a custom attribute.
//! - `key[]=a&key[]=b` is the array `key: [a, b]`. A repeated `key` without
//!   brackets is an array too (values merge, in order), so `key=a&key[]=b`
//!   is `[a, b]`; nothing the SDKs send is ever silently dropped. A repeated
//!   named parameter keeps its last value, as most web frameworks do.
//! - `""`, `null` and `undefined` (sent by old SDK releases for unset
//!   values), and blank values, mean "absent", for named parameters and
//!   attribute values alike; a parameter with an empty name is ignored.
//! - Bounds keep a hostile query from costing memory or time: at most
//!   [`MAX_PAIRS`] parameters, [`MAX_ATTRIBUTES`] distinct attributes, names
//!   of at most [`MAX_NAME_CHARS`] and values of at most [`MAX_VALUE_CHARS`]
//!   characters; beyond that the answer is a 400.
//! - `app_name`, `platform` and `environment` must be values the versions
//!   API could have stored (its own parsers decide: length, no control
//!   characters); any other names nothing, and is a 400 rather than a
//!   look-up.

use app_upgrade::domain::{AppName, Environment, Invalid, Platform};
use app_upgrade::{ApiError, FieldErrors};

use crate::matcher::Partition;

/// Most `key=value` pairs in one query string.
pub const MAX_PAIRS: usize = 100;
/// Most distinct custom attributes.
pub const MAX_ATTRIBUTES: usize = 50;
/// Longest parameter name, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Longest parameter value, in characters.
pub const MAX_VALUE_CHARS: usize = 256;

/// A decoded check request. The named values are kept as sent (after
/// decoding) because the response echoes them; `partition` is what they
/// mean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckQuery {
    pub app_name: String,
    pub app_version: String,
    pub platform: String,
    pub environment: String,
    pub app_language: Option<String>,
    pub attributes: Attributes,
    pub partition: Partition,
}

/// The request's custom attributes: name → one or more values, in the order
/// first seen. A handful at most, so a vector beats a map.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributes(Vec<(String, Vec<String>)>);

impl Attributes {
    pub fn get(&self, name: &str) -> Option<&[String]> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, values)| values.as_slice())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn push(&mut self, name: &str, value: String) -> Result<(), ApiError> {
        if let Some((_, values)) = self.0.iter_mut().find(|(n, _)| n == name) {
            values.push(value);
            return Ok(());
        }
        if self.0.len() == MAX_ATTRIBUTES {
            return Err(ApiError::bad_request(format!(
                "at most {MAX_ATTRIBUTES} custom attributes are allowed"
            )));
        }
        self.0.push((name.to_owned(), vec![value]));
        Ok(())
    }
}

impl<const N: usize> From<[(&str, &[&str]); N]> for Attributes {
    fn from(pairs: [(&str, &[&str]); N]) -> Self {
        Self(
            pairs
                .iter()
                .map(|(n, vs)| {
                    (
                        (*n).to_owned(),
                        vs.iter().map(|v| (*v).to_owned()).collect(),
                    )
                })
                .collect(),
        )
    }
}

/// Whether an SDK meant "no value".
fn is_absent(value: &str) -> bool {
    let v = value.trim();
    v.is_empty() || v == "null" || v == "undefined"
}

fn too_long(what: &str, max: usize) -> ApiError {
    ApiError::bad_request(format!(
        "query parameter {what} is longer than {max} characters"
    ))
}

impl CheckQuery {
    /// Decodes the raw query string (without `?`); `None` is an empty query.
    /// A 400 names every missing required parameter at once.
    pub fn parse(raw: Option<&str>) -> Result<Self, ApiError> {
        let mut app_name = None;
        let mut app_version = None;
        let mut platform = None;
        let mut environment = None;
        let mut app_language = None;
        let mut attributes = Attributes::default();

        for (index, (name, value)) in
            form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).enumerate()
        {
            if index == MAX_PAIRS {
                return Err(ApiError::bad_request(format!(
                    "at most {MAX_PAIRS} query parameters are allowed"
                )));
            }
            // Byte length bounds the char count from above: count chars only
            // for the rare long value.
            if name.len() > MAX_NAME_CHARS && name.chars().count() > MAX_NAME_CHARS {
                return Err(too_long("names", MAX_NAME_CHARS));
            }
            if value.len() > MAX_VALUE_CHARS && value.chars().count() > MAX_VALUE_CHARS {
                return Err(too_long(&name, MAX_VALUE_CHARS));
            }
            if is_absent(&value) {
                continue;
            }
            let slot = match &*name {
                "app_name" => &mut app_name,
                "app_version" => &mut app_version,
                "platform" => &mut platform,
                "environment" => &mut environment,
                "app_language" => &mut app_language,
                _ => {
                    let attribute = name.strip_suffix("[]").unwrap_or(&name);
                    if !attribute.is_empty() {
                        attributes.push(attribute, value.into_owned())?;
                    }
                    continue;
                }
            };
            *slot = Some(value.into_owned());
        }

        let mut errors = FieldErrors::new();
        let mut required = |value: Option<String>, field: &'static str| {
            errors.check(field, value.ok_or("is required"))
        };
        let app_name = required(app_name, "app_name");
        let app_version = required(app_version, "app_version");
        let platform = required(platform, "platform");
        let environment = required(environment, "environment");
        let partition = (
            stored_as(&mut errors, "app_name", &app_name, AppName::parse),
            stored_as(&mut errors, "platform", &platform, Platform::parse),
            stored_as(&mut errors, "environment", &environment, Environment::parse),
        );
        let query = match (app_name, app_version, platform, environment, partition) {
            (
                Some(app_name),
                Some(app_version),
                Some(platform),
                Some(environment),
                (Some(parsed_name), Some(parsed_platform), Some(parsed_environment)),
            ) => Some(Self {
                app_name,
                app_version,
                platform,
                environment,
                app_language,
                attributes,
                partition: Partition {
                    app_name: parsed_name,
                    platform: parsed_platform,
                    environment: parsed_environment,
                },
            }),
            _ => None,
        };
        errors.finish(query)
    }
}

/// `value` parsed as the versions API stores it; a present value it would
/// refuse is recorded as `field`'s error.
fn stored_as<T>(
    errors: &mut FieldErrors,
    field: &'static str,
    value: &Option<String>,
    parse: impl Fn(&str) -> Result<T, Invalid>,
) -> Option<T> {
    errors.check(field, parse(value.as_deref()?).map_err(|Invalid(why)| why))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;
    use proptest::prelude::*;

    fn parse(raw: &str) -> CheckQuery {
        CheckQuery::parse(Some(raw)).unwrap_or_else(|e| panic!("{raw}: {e}"))
    }

    fn missing_fields(raw: Option<&str>) -> Vec<String> {
        let err = CheckQuery::parse(raw).expect_err("must be rejected");
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        err.errors().iter().map(|e| e.field.to_string()).collect()
    }

    #[test]
    fn decodes_what_the_react_native_sdk_sends() {
        let q = parse(
            "app_name=Wallpaper+app&app_version=1.0.0%2B5&platform=android\
             &environment=production&app_language=undefined&tags%5B%5D=a&tags%5B%5D=b",
        );
        assert_eq!(q.app_name, "Wallpaper app");
        assert_eq!(q.app_version, "1.0.0+5");
        assert_eq!(q.platform, "android");
        assert_eq!(q.environment, "production");
        assert_eq!(q.app_language, None);
        assert_eq!(q.attributes, Attributes::from([("tags", &["a", "b"][..])]));
    }

    #[test]
    fn decodes_plain_attributes_percent_escapes_and_languages() {
        let q = parse(
            "app_name=Caf%C3%A9%20App&app_version=2.1.0-beta.1&platform=iOS\
             &environment=Staging&app_language=pt-BR&country=US&os_version=12",
        );
        assert_eq!(q.app_name, "Café App");
        assert_eq!(q.app_version, "2.1.0-beta.1");
        // Echoed as sent: case folding happens when matching.
        assert_eq!(q.platform, "iOS");
        assert_eq!(q.environment, "Staging");
        assert_eq!(q.app_language.as_deref(), Some("pt-BR"));
        assert_eq!(
            q.attributes,
            Attributes::from([("country", &["US"][..]), ("os_version", &["12"][..])])
        );
    }

    #[test]
    fn absent_values_are_dropped_everywhere() {
        let q = parse(
            "app_name=A&app_version=1&platform=android&environment=prod\
             &app_language=null&country=&city=undefined&tags[]=null&tags[]=x&tags[]=",
        );
        assert_eq!(q.app_language, None);
        assert_eq!(q.attributes, Attributes::from([("tags", &["x"][..])]));
        assert_eq!(q.attributes.get("country"), None);
    }

    #[test]
    fn repeated_attributes_merge_and_repeated_named_parameters_keep_the_last() {
        let q = parse(
            "app_name=A&app_name=B&app_version=1&platform=android&environment=prod\
             &country=US&country[]=CA&country=MX",
        );
        assert_eq!(q.app_name, "B");
        assert_eq!(
            q.attributes.get("country"),
            Some(&["US", "CA", "MX"].map(String::from)[..])
        );
    }

    #[test]
    fn names_every_missing_required_parameter() {
        assert_eq!(
            missing_fields(None),
            ["app_name", "app_version", "platform", "environment"]
        );
        assert_eq!(
            missing_fields(Some(
                "app_name=A&app_version=undefined&platform=null&environment=%20"
            )),
            ["app_version", "platform", "environment"]
        );
        let err = CheckQuery::parse(Some("app_name=A&platform=ios&environment=prod"))
            .expect_err("app_version missing");
        assert_eq!(err.message(), "app_version is required");
    }

    #[test]
    fn hostile_queries_are_bounded_with_a_400() {
        let base = "app_name=A&app_version=1&platform=android&environment=prod";
        let many_pairs = format!("{base}{}", "&t[]=x".repeat(MAX_PAIRS));
        let many_attributes: String = (0..=MAX_ATTRIBUTES).map(|i| format!("&a{i}=x")).collect();
        let long_value = format!("{base}&a={}", "é".repeat(MAX_VALUE_CHARS + 1));
        let long_name = format!("{base}&{}=x", "n".repeat(MAX_NAME_CHARS + 1));
        for raw in [
            many_pairs,
            format!("{base}{many_attributes}"),
            long_value,
            long_name,
        ] {
            let err = CheckQuery::parse(Some(&raw)).expect_err("bounded");
            assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        }
        // Exactly at the bounds is fine.
        let ok = format!("{base}&a={}", "é".repeat(MAX_VALUE_CHARS));
        assert!(CheckQuery::parse(Some(&ok)).is_ok());
    }

    #[test]
    fn names_the_versions_api_would_refuse_are_a_400() {
        let base = |app: &str, platform: &str| {
            format!("app_name={app}&app_version=1&platform={platform}&environment=prod")
        };
        let long_name = "n".repeat(AppName::MAX_CHARS + 1);
        let long_platform = "p".repeat(Platform::MAX_CHARS + 1);
        for (raw, field) in [
            (base(&long_name, "ios"), "app_name"),
            (base("A%01B", "ios"), "app_name"),
            (base("A", &long_platform), "platform"),
            (base("A", "i%0Aos"), "platform"),
            (
                "app_name=A&app_version=1&platform=ios&environment=%7F".to_owned(),
                "environment",
            ),
        ] {
            let err = CheckQuery::parse(Some(&raw)).expect_err(&raw);
            assert_eq!(err.status(), StatusCode::BAD_REQUEST, "{raw}");
            let fields: Vec<_> = err.errors().iter().map(|e| e.field.to_string()).collect();
            assert_eq!(fields, [field], "{raw}");
        }
        // Exactly at the bounds is a name like any other; stored names are
        // trimmed and platforms lower-cased, and so are the request's.
        let at_bounds = base(
            &format!("+{}+", "n".repeat(AppName::MAX_CHARS)),
            &"P".repeat(Platform::MAX_CHARS),
        );
        let q = parse(&at_bounds);
        assert_eq!(
            q.partition.app_name.as_str(),
            "n".repeat(AppName::MAX_CHARS)
        );
        assert_eq!(
            q.partition.platform.as_str(),
            "p".repeat(Platform::MAX_CHARS)
        );
        assert_eq!(
            q.platform,
            "P".repeat(Platform::MAX_CHARS),
            "echoed as sent"
        );
    }

    #[test]
    fn garbage_never_panics() {
        for raw in ["%", "%%%", "=&=&", "&&&", "a=%FF%FE", "[]=x", "app_name"] {
            let _ = CheckQuery::parse(Some(raw));
        }
        let q = parse("app_name=%FF&app_version=1&platform=a&environment=b&[]=x&=y");
        assert_eq!(q.app_name, "\u{FFFD}");
        assert!(q.attributes.is_empty());
    }

    /// Query-shaped text: the separators, escapes (valid, truncated and
    /// undecodable) and names the decoder treats specially, so most cases
    /// reach its interesting branches instead of being one long name.
    fn query_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("&".to_owned()),
            Just("=".to_owned()),
            Just("[]".to_owned()),
            Just("+".to_owned()),
            Just("%".to_owned()),
            Just("%00".to_owned()),
            Just("%FF".to_owned()),
            Just("%C3%A9".to_owned()),
            Just("null".to_owned()),
            Just("undefined".to_owned()),
            prop::sample::select(vec![
                "app_name",
                "app_version",
                "platform",
                "environment",
                "app_language"
            ])
            .prop_map(str::to_owned),
            "[a-c0-9]{1,3}",
            "[a-c]{60,70}",
            "[x]{250,260}",
            "\\PC{1,4}",
        ];
        prop::collection::vec(piece, 0..300).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Whatever the query, the answer is a decoded query within the
        /// bounds or a 400; never a panic.
        #[test]
        fn any_query_decodes_within_bounds_or_is_a_400(
            raw in prop_oneof![query_text(), any::<String>()]
        ) {
            match CheckQuery::parse(Some(&raw)) {
                Ok(q) => {
                    prop_assert!(q.attributes.len() <= MAX_ATTRIBUTES);
                    for (name, values) in &q.attributes.0 {
                        prop_assert!(!name.is_empty() && name.chars().count() <= MAX_NAME_CHARS);
                        prop_assert!(!values.is_empty() && values.len() <= MAX_PAIRS);
                        for value in values {
                            prop_assert!(!is_absent(value));
                            prop_assert!(value.chars().count() <= MAX_VALUE_CHARS);
                        }
                    }
                    for named in [&q.app_name, &q.app_version, &q.platform, &q.environment] {
                        prop_assert!(!is_absent(named));
                        prop_assert!(named.chars().count() <= MAX_VALUE_CHARS);
                    }
                }
                Err(err) => prop_assert_eq!(err.status(), StatusCode::BAD_REQUEST),
            }
        }

        /// The four required values always decode back to what was sent.
        #[test]
        fn required_values_round_trip(
            // Within what the versions API stores (platforms and
            // environments: 32 characters).
            values in prop::array::uniform4("[^\\p{C}]{1,32}"),
        ) {
            prop_assume!(values.iter().all(|v| !is_absent(v)));
            let raw: String = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(["app_name", "app_version", "platform", "environment"].iter().zip(&values))
                .finish();
            let q = CheckQuery::parse(Some(&raw)).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!([q.app_name, q.app_version, q.platform, q.environment], values);
        }
    }
}
