//! Teams as data: roles, the invited email, and the rules that keep a team
//! governable (an owner always remains).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Invalid;

/// What a person may do in a team. Both roles manage projects, versions and
/// API keys and may invite; only an owner renames the team, removes someone
/// else, changes a role or invites an owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Member,
}

impl Role {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        match input {
            "owner" => Ok(Self::Owner),
            "member" => Ok(Self::Member),
            _ => Err(Invalid("must be \"owner\" or \"member\"")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Member => "member",
        }
    }

    pub fn is_owner(self) -> bool {
        self == Self::Owner
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An email address as an invitation names it: trimmed, lower-cased, one
/// `@` between a non-empty local part (≤ 64) and a dotted domain, ≤ 254 in
/// all (RFC 5321's limits), no spaces or control characters. Comparison is
/// by this form, so `Ana@Example.com` is invited and accepts as the same
/// person; Cognito lower-cases email usernames the same way.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub const MAX_CHARS: usize = 254;

    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let email = input.trim().to_lowercase();
        if email.is_empty() {
            return Err(Invalid("must not be empty"));
        }
        if email.chars().count() > Self::MAX_CHARS {
            return Err(Invalid("must be at most 254 characters"));
        }
        let (local, domain) = email
            .split_once('@')
            .ok_or(Invalid("must be an email address (name@example.com)"))?;
        let labels_ok = domain.split('.').count() >= 2
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        let local_ok = !local.is_empty()
            && local.chars().count() <= 64
            && local
                .chars()
                .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..");
        if !local_ok || !labels_ok {
            return Err(Invalid("must be an email address (name@example.com)"));
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A project's description: trimmed, at most 1000 characters, may be empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Description(String);

impl Description {
    pub const MAX_CHARS: usize = 1000;

    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let trimmed = input.trim();
        if trimmed.chars().count() > Self::MAX_CHARS {
            return Err(Invalid("must be at most 1000 characters"));
        }
        // Line breaks are text here; other control characters are not.
        if trimmed
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            return Err(Invalid("must not contain control characters"));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Description {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// How long an invitation can be accepted.
pub const INVITATION_LIFETIME_DAYS: i64 = 7;

/// Live API keys a project may hold: enough for one per app and
/// environment plus a rotation, and few enough that deleting a project
/// revokes them all in one transaction.
pub const MAX_API_KEYS_PER_PROJECT: usize = 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_exactly() {
        assert_eq!(Role::parse("owner"), Ok(Role::Owner));
        assert_eq!(Role::parse("member"), Ok(Role::Member));
        for bad in ["Owner", "admin", "", " member"] {
            assert!(Role::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_are_normalized_and_bounded() {
        assert_eq!(
            Email::parse("  Ana.Silva+ci@Example.COM ").map(|e| e.0),
            Ok("ana.silva+ci@example.com".into())
        );
        assert!(Email::parse("ünï@exämple.de").is_ok());
        for bad in [
            "",
            "ana",
            "@example.com",
            "ana@",
            "ana@example",
            "ana@@example.com",
            "ana@exa mple.com",
            "a na@example.com",
            ".ana@example.com",
            "ana..b@example.com",
            "ana@-example.com",
            "ana@example..com",
            "ana\n@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(Email::parse(&long_local).is_err());
        let long = format!("a@{}.com", "b".repeat(250));
        assert!(Email::parse(&long).is_err());
    }

    #[test]
    fn descriptions_may_be_empty_but_are_bounded() {
        assert_eq!(Description::parse("  ").map(|d| d.0), Ok(String::new()));
        assert!(Description::parse("line one\nline two").is_ok());
        assert!(Description::parse(&"x".repeat(1001)).is_err());
        assert!(Description::parse("bell\u{7}").is_err());
    }
}
