//! A version record: what the versions API manages and the check matches.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::version::{VersionError, VersionRule};
use super::{AppName, Environment, Platform, ProjectId, Timestamp, VersionId};

/// A record's `appVersion`: the text as the client wrote it (trimmed), which
/// is what the API returns and what uniqueness is about, plus its parsed rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppVersion {
    text: String,
    rule: VersionRule,
}

impl AppVersion {
    pub fn parse(input: &str) -> Result<Self, VersionError> {
        let text = input.trim();
        Ok(Self {
            rule: VersionRule::parse(text)?,
            text: text.to_owned(),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn rule(&self) -> &VersionRule {
        &self.rule
    }
}

impl fmt::Display for AppVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for AppVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for AppVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A custom attribute's value: one string, or any of several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CustomValue {
    One(String),
    Many(Vec<String>),
}

impl CustomValue {
    pub fn values(&self) -> &[String] {
        match self {
            Self::One(v) => std::slice::from_ref(v),
            Self::Many(vs) => vs,
        }
    }
}

/// A version record as the API shows it (camelCase JSON). `revision` is the
/// optimistic-concurrency counter; it is not part of the wire contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionRecord {
    pub id: VersionId,
    pub project: ProjectId,
    pub app_name: AppName,
    pub app_version: AppVersion,
    pub platform: Platform,
    pub environment: Environment,
    pub force_upgrade: bool,
    pub message: String,
    pub message_locale: BTreeMap<String, String>,
    pub custom_attributes: BTreeMap<String, CustomValue>,
    pub internal_notes: String,
    pub active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(skip)]
    pub revision: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_version_keeps_the_text_and_parses_the_rule() {
        let exact = AppVersion::parse(" 1.0.0+5 ").expect("valid");
        assert_eq!(exact.as_str(), "1.0.0+5");
        assert!(exact.rule().is_exact());
        let range = AppVersion::parse(">=1.0.0, <1.4.0").expect("valid");
        assert!(!range.rule().is_exact());
        assert!(AppVersion::parse("not a version").is_err());
    }

    #[test]
    fn custom_values_are_a_string_or_a_list() {
        let attrs: BTreeMap<String, CustomValue> =
            serde_json::from_str(r#"{"country": ["US", "CA"], "os_version": "12"}"#)
                .expect("valid");
        assert_eq!(attrs["country"].values(), ["US", "CA"]);
        assert_eq!(attrs["os_version"].values(), ["12"]);
        assert!(serde_json::from_str::<CustomValue>("12").is_err());
    }
}
