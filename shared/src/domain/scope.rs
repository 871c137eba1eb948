//! PAT scopes: a closed set, and authorization as one pure function.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What a Personal Access Token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    /// List versions and get one.
    #[serde(rename = "versions:read")]
    VersionsRead,
    /// Create, update and delete versions.
    #[serde(rename = "versions:write")]
    VersionsWrite,
}

impl Scope {
    pub const ALL: [Scope; 2] = [Scope::VersionsRead, Scope::VersionsWrite];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::VersionsRead => "versions:read",
            Self::VersionsWrite => "versions:write",
        }
    }

    pub fn parse(input: &str) -> Result<Self, UnknownScope> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == input.trim())
            .ok_or(UnknownScope)
    }

    const fn bit(self) -> u8 {
        match self {
            Self::VersionsRead => 1,
            Self::VersionsWrite => 2,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope; known scopes are versions:read and versions:write")]
pub struct UnknownScope;

/// A non-empty set of scopes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scopes(u8);

impl Scopes {
    /// `None` when empty: a token must be able to do something.
    pub fn new(scopes: impl IntoIterator<Item = Scope>) -> Option<Self> {
        let bits = scopes.into_iter().fold(0, |acc, s| acc | s.bit());
        (bits != 0).then_some(Self(bits))
    }

    /// Parses `versions:read,versions:write` (the CLI's form).
    pub fn parse_list(input: &str) -> Result<Self, UnknownScope> {
        let scopes = input
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(Scope::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(scopes).ok_or(UnknownScope)
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    pub fn to_vec(self) -> Vec<Scope> {
        self.iter().collect()
    }
}

impl fmt::Debug for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl Serialize for Scopes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Scopes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let scopes = Vec::<Scope>::deserialize(deserializer)?;
        Self::new(scopes).ok_or_else(|| serde::de::Error::custom("scopes must not be empty"))
    }
}

/// The authorization decision for a route that needs `required`.
pub fn authorize(granted: Scopes, required: Scope) -> Result<(), Scope> {
    if granted.contains(required) {
        Ok(())
    } else {
        Err(required)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Scope::*;

    #[test]
    fn authorization_truth_table() {
        let read = Scopes::new([VersionsRead]).expect("non-empty");
        let write = Scopes::new([VersionsWrite]).expect("non-empty");
        let both = Scopes::new([VersionsRead, VersionsWrite]).expect("non-empty");
        let table = [
            (read, VersionsRead, true),
            (read, VersionsWrite, false),
            (write, VersionsRead, false),
            (write, VersionsWrite, true),
            (both, VersionsRead, true),
            (both, VersionsWrite, true),
        ];
        for (granted, required, allowed) in table {
            assert_eq!(
                authorize(granted, required).is_ok(),
                allowed,
                "{granted:?} needs {required}"
            );
        }
    }

    #[test]
    fn empty_scope_sets_do_not_exist() {
        assert_eq!(Scopes::new([]), None);
        assert_eq!(Scopes::parse_list(""), Err(UnknownScope));
        assert!(serde_json::from_str::<Scopes>("[]").is_err());
    }

    #[test]
    fn parses_and_serializes_the_wire_names() {
        let s = Scopes::parse_list("versions:read, versions:write").expect("valid");
        assert_eq!(s.to_vec(), vec![VersionsRead, VersionsWrite]);
        assert_eq!(
            serde_json::to_string(&s).expect("serializes"),
            r#"["versions:read","versions:write"]"#
        );
        assert_eq!(Scopes::parse_list("versions:admin"), Err(UnknownScope));
        assert!(serde_json::from_str::<Scopes>(r#"["versions:delete"]"#).is_err());
        let dup: Scopes = serde_json::from_str(r#"["versions:read","versions:read"]"#).expect("ok");
        assert_eq!(dup.to_vec(), vec![VersionsRead]);
    }
}
