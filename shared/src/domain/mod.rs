//! Domain types that can only hold valid values: parse, don't validate.

pub mod activity;
pub mod credential;
pub mod idempotency;
pub mod record;
pub mod scope;
pub mod secret;
pub mod team;
pub mod token_limits;
pub mod version;

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub use credential::{
    ApiKeyRecord, DEFAULT_PAT_LIFETIME_DAYS, IssuedPat, PAT_LIFETIME_DAYS, PatRecord, issue_pat,
    reissue_pat,
};
pub use idempotency::{Answer, Fingerprint, IdempotencyKey, Receipt, ReceiptScope, Recorded};
pub use record::{AppVersion, CustomValue, VersionRecord};
pub use scope::{Scope, Scopes, UnknownScope, authorize};
pub use secret::{MalformedSecret, PlainSecret, SecretHash, SecretKind};
pub use team::{Description, Email, INVITATION_LIFETIME_DAYS, MAX_API_KEYS_PER_PROJECT, Role};
pub use token_limits::{
    LimitListError, MAX_LIMIT_ENVIRONMENTS, MAX_LIMIT_PROJECTS, RequestedProjects, TokenLimits,
};
pub use version::{Version, VersionError, VersionRule};

/// Why an input was rejected; the message is safe to show the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub &'static str);

/// Declares an opaque, server-assigned id: `<prefix><ULID>`.
macro_rules! ulid_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A new, time-ordered id.
            pub fn generate() -> Self {
                Self(format!("{}{}", $prefix, ulid::Ulid::new()))
            }

            pub fn parse(input: &str) -> Result<Self, Invalid> {
                input
                    .strip_prefix($prefix)
                    .filter(|rest| ulid::Ulid::from_string(rest).is_ok())
                    .map(|_| Self(input.to_owned()))
                    .ok_or(Invalid(concat!("is not a valid ", stringify!($name))))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

ulid_id!(
    /// A team: `team_01J…`.
    TeamId,
    "team_"
);
ulid_id!(
    /// A project: `prj_01J…`.
    ProjectId,
    "prj_"
);
ulid_id!(
    /// A version record: a bare ULID, `01J…`, as the hosted service's ids look.
    VersionId,
    ""
);
ulid_id!(
    /// A Personal Access Token's public id: `tok_01J…`.
    TokenId,
    "tok_"
);
ulid_id!(
    /// A pending invitation to a team: `inv_01J…`.
    InvitationId,
    "inv_"
);
ulid_id!(
    /// A project API key's public id (the key itself is a secret): `key_01J…`.
    ApiKeyId,
    "key_"
);
ulid_id!(
    /// One recorded change (see [`activity`]): `evt_01J…`, time-ordered.
    EventId,
    "evt_"
);

/// Declares a bounded, trimmed string newtype.
macro_rules! bounded_string {
    ($(#[$doc:meta])* $name:ident, max = $max:literal, lowercase = $lower:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            pub fn parse(input: &str) -> Result<Self, Invalid> {
                let trimmed = input.trim();
                if trimmed.is_empty() {
                    return Err(Invalid("must not be empty"));
                }
                if trimmed.chars().count() > $max {
                    return Err(Invalid(concat!("must be at most ", $max, " characters")));
                }
                if trimmed.chars().any(char::is_control) {
                    return Err(Invalid("must not contain control characters"));
                }
                Ok(Self(if $lower {
                    trimmed.to_lowercase()
                } else {
                    trimmed.to_owned()
                }))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

bounded_string!(
    /// An app's name, matched exactly by the check.
    AppName,
    max = 100,
    lowercase = false
);
bounded_string!(
    /// `android`, `ios`, …: stored lower-cased, matched case-insensitively.
    Platform,
    max = 32,
    lowercase = true
);
bounded_string!(
    /// `production`, `staging`, …: stored lower-cased.
    Environment,
    max = 32,
    lowercase = true
);
bounded_string!(
    /// An account: the `sub` claim of the identity provider.
    UserId,
    max = 128,
    lowercase = false
);
bounded_string!(
    /// A display name (team, project, token).
    Name,
    max = 100,
    lowercase = false
);

/// A UTC instant with millisecond precision, serialized as RFC 3339
/// (`2026-11-30T10:00:00.000Z`); the fixed width makes string order equal
/// time order, which DynamoDB sort keys and list sorting rely on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(i64);

impl Timestamp {
    pub fn now() -> Self {
        let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
        Self(i64::try_from(nanos / 1_000_000).unwrap_or(i64::MAX))
    }

    pub const fn from_unix_millis(ms: i64) -> Self {
        Self(ms)
    }

    pub const fn unix_millis(self) -> i64 {
        self.0
    }

    pub const fn unix_seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }

    pub const fn plus_days(self, days: i64) -> Self {
        Self(self.0.saturating_add(days.saturating_mul(86_400_000)))
    }

    pub const fn plus_millis(self, ms: i64) -> Self {
        Self(self.0.saturating_add(ms))
    }

    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let dt = OffsetDateTime::parse(input, &Rfc3339).map_err(|_| Invalid("is not RFC 3339"))?;
        let ms = dt.unix_timestamp_nanos() / 1_000_000;
        i64::try_from(ms)
            .map(Self)
            .map_err(|_| Invalid("is out of range"))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nanos = i128::from(self.0) * 1_000_000;
        match OffsetDateTime::from_unix_timestamp_nanos(nanos) {
            Ok(dt) => write!(
                f,
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                dt.year(),
                u8::from(dt.month()),
                dt.day(),
                dt.hour(),
                dt.minute(),
                dt.second(),
                dt.millisecond()
            ),
            Err(_) => write!(f, "@{}ms", self.0),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_garbage() {
        let p = ProjectId::generate();
        assert!(p.as_str().starts_with("prj_"));
        assert_eq!(ProjectId::parse(p.as_str()), Ok(p.clone()));
        assert!(TeamId::parse(p.as_str()).is_err());
        assert!(ProjectId::parse("prj_").is_err());
        assert!(ProjectId::parse("prj_../../etc").is_err());
        let v = VersionId::generate();
        assert_eq!(v.as_str().len(), 26);
        assert_eq!(VersionId::parse(v.as_str()), Ok(v));
        assert!(VersionId::parse("01JDQ").is_err());
    }

    #[test]
    fn strings_are_trimmed_bounded_and_cased() {
        assert_eq!(
            AppName::parse("  Wallpaper App ").map(|a| a.0),
            Ok("Wallpaper App".into())
        );
        assert_eq!(
            Platform::parse(" Android ").map(|p| p.0),
            Ok("android".into())
        );
        assert_eq!(
            Environment::parse("PRODUCTION").map(|p| p.0),
            Ok("production".into())
        );
        assert!(AppName::parse("   ").is_err());
        assert!(AppName::parse(&"a".repeat(101)).is_err());
        assert!(AppName::parse(&"é".repeat(100)).is_ok());
        assert!(Platform::parse(&"x".repeat(33)).is_err());
        assert!(AppName::parse("tab\tinside").is_err());
    }

    #[test]
    fn timestamps_are_fixed_width_rfc3339() {
        let t = Timestamp::from_unix_millis(1_796_032_800_123);
        let s = t.to_string();
        assert_eq!(s, "2026-11-30T10:00:00.123Z");
        assert_eq!(Timestamp::parse(&s), Ok(t));
        assert_eq!(
            Timestamp::parse("2026-11-30T10:00:00Z").map(|t| t.to_string()),
            Ok("2026-11-30T10:00:00.000Z".into())
        );
        assert!(Timestamp::from_unix_millis(5).to_string() < t.to_string());
        assert_eq!(t.plus_days(1).unix_millis(), t.unix_millis() + 86_400_000);
    }
}
