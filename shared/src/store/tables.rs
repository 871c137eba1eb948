//! The physical shape of the two DynamoDB tables, in one place.
//!
//! `aau-admin tables create` builds local tables from these definitions, and
//! a test compares them with `template.yaml`, so the deployed tables and the
//! code can never disagree about a key name or an index.

/// A table's key schema, its global secondary indexes and its TTL attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableDef {
    /// Logical id of the `AWS::DynamoDB::Table` resource in `template.yaml`.
    pub logical_id: &'static str,
    /// Environment variable that carries the deployed table name.
    pub env_var: &'static str,
    pub hash_key: &'static str,
    pub range_key: &'static str,
    pub indexes: &'static [IndexDef],
    /// Attribute holding an epoch-seconds expiry that DynamoDB TTL deletes on.
    pub ttl_attribute: Option<&'static str>,
}

/// A global secondary index; every key attribute is a string and every
/// index projects all attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexDef {
    pub name: &'static str,
    pub hash_key: &'static str,
    pub range_key: Option<&'static str>,
}

/// Teams, memberships, projects, versions and version-identity items, and
/// the activity events and version revisions that expire (`ttl`).
pub const VERSIONS: TableDef = TableDef {
    logical_id: "VersionsTable",
    env_var: "VERSIONS_TABLE",
    hash_key: "pk",
    range_key: "sk",
    // Every read is a key lookup or a Query of one partition (a project's
    // versions, listing entries, a team's members, a user's teams).
    indexes: &[],
    // Events and revisions expire (ACTIVITY_RETENTION_DAYS); so do invitations.
    ttl_attribute: Some("ttl"),
};

/// Credentials keyed by the SHA-256 of their secret (PATs and project API
/// keys), plus each account's token list and name locks.
pub const TOKENS: TableDef = TableDef {
    logical_id: "TokensTable",
    env_var: "TOKENS_TABLE",
    hash_key: "pk",
    range_key: "sk",
    indexes: &[],
    ttl_attribute: Some("ttl"),
};

pub const ALL: [TableDef; 2] = [VERSIONS, TOKENS];
