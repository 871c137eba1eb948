//! Configuration from the environment, read once at start-up.

use std::time::Duration;

use super::tables;

/// What every function needs to find its tables. The DynamoDB endpoint is
/// not here: the SDK reads `AWS_ENDPOINT_URL_DYNAMODB` itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub versions_table: String,
    pub tokens_table: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set")]
    Missing(&'static str),
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Testable core of [`Config::from_env`].
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &'static str| {
            lookup(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or(ConfigError::Missing(name))
        };
        Ok(Self {
            versions_table: required(tables::VERSIONS.env_var)?,
            tokens_table: required(tables::TOKENS.env_var)?,
        })
    }
}

/// Reads an optional duration in whole seconds, e.g. `CHECK_CACHE_TTL_SECONDS`.
pub fn seconds_from_env(name: &'static str, default: Duration) -> Result<Duration, ConfigError> {
    match std::env::var(name) {
        Err(_) => Ok(default),
        Ok(v) => v
            .trim()
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|e| ConfigError::Invalid {
                name,
                reason: e.to_string(),
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_tables_and_rejects_missing_ones() {
        let env = |name: &str| match name {
            "VERSIONS_TABLE" => Some("v".to_owned()),
            "TOKENS_TABLE" => Some("t".to_owned()),
            _ => None,
        };
        assert_eq!(
            Config::from_lookup(env),
            Ok(Config {
                versions_table: "v".into(),
                tokens_table: "t".into()
            })
        );
        assert_eq!(
            Config::from_lookup(|n| (n == "VERSIONS_TABLE").then(|| "v".to_owned())),
            Err(ConfigError::Missing("TOKENS_TABLE"))
        );
        assert_eq!(
            Config::from_lookup(|_| Some(" ".to_owned())),
            Err(ConfigError::Missing("VERSIONS_TABLE"))
        );
    }
}
