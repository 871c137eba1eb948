//! Persistence: the traits the functions need, and their DynamoDB
//! implementation. `AttributeValue` never leaves this module.
//!
//! # Data model
//!
//! Two tables, both with a string partition key `pk` and sort key `sk`
//! (definitions in [`tables`], key formats in [`keys`]).
//!
//! **Tokens table** — credentials, keyed by the SHA-256 of the secret:
//!
//! | item | pk | sk | holds |
//! |---|---|---|---|
//! | PAT or API key | `SECRET#<sha256 hex>` | `SECRET` | kind; PAT: tokenId, owner, name, scopes, createdAt, expiresAt, lastUsedAt, lastUsedIp, and its limits (projects, environments) when it has them; API key: projectId, teamId |
//! | account's token | `ACCOUNT#<sub>` | `TOKEN#<tokenId>` | name, scopes, limits, dates, hint, the secret's hash (never returned), the last rotation's time and address, the last rotation replay's time and address |
//! | token name lock | `ACCOUNT#<sub>` | `TOKENNAME#<lower-cased name>` | tokenId, expiresAt |
//!
//! Authentication is one strongly consistent `GetItem` on the secret's hash,
//! so a revocation (deleting the item) is seen by the very next request. A
//! token's three items are written and deleted in one transaction.
//! Self-rotation keeps the token (id, name, expiry) and swaps its secret:
//! the old credential becomes a `rotated` tombstone, and presenting it again
//! is taken as theft and revokes the token (refresh-token reuse detection,
//! RFC 9700 §4.14). Revocation first marks the account entry `revoking`,
//! which every rotation is conditioned against, so a rotation racing a
//! revocation can never leave a live secret behind. The
//! account's tokens are one strongly consistent `Query` (no index lag).
//! | idempotency receipt | `IDEMPOTENCY#<sub>` | `KEY#<sha256 of Idempotency-Key>` | fingerprint, answer, expiresAt, ttl |
//! | rotation receipt | `SECRET#<old token's sha256>` | `ROTATION#<sha256 of Idempotency-Key>` | fingerprint, sealed answer, expiresAt, ttl |
//! | account event | `ACCOUNTEVENTS#<sub>` | `EVENT#<eventId>` | the event's JSON, ttl |
//!
//! Expired token items carry `ttl` so DynamoDB removes them eventually;
//! expiry itself is enforced on every request, not by TTL. Receipts (see
//! [`receipts`]) are written in the same transaction as the write they
//! record, even when that write is to the versions table.
//!
//! **Versions table** — teams, memberships, projects, versions:
//!
//! | item | pk | sk |
//! |---|---|---|
//! | team | `TEAM#<teamId>` | `TEAM` |
//! | membership | `TEAM#<teamId>` | `MEMBER#<sub>` |
//! | membership, by user | `USER#<sub>` | `MEMBEROF#<teamId>` |
//! | project | `PROJECT#<projectId>` | `PROJECT` (holds teamId) |
//! | version | `PROJECT#<projectId>` | `VERSION#<versionId>` |
//! | version identity | `PROJECT#<projectId>` | `IDENTITY#<appName>#<appVersion>#<platform>#<environment>` (holds versionId and the summary) |
//! | version, in creation order | `PROJECT#<projectId>#CREATED` | `CREATED#<createdAt ms, 15 digits>#<versionId complemented>` |
//! | project's version count | `PROJECT#<projectId>#CREATED` | `CREATED#~COUNT` (holds `versions`) |
//! | version revision | `PROJECT#<projectId>` | `REVISION#<versionId>#<revision, 20 digits>` (JSON, ttl) |
//! | project event | `PROJECT#<projectId>` | `EVENT#<eventId>` (JSON, ttl) |
//! | team event | `TEAM#<teamId>` | `EVENT#<eventId>` (JSON, ttl) |
//!
//! Every version write through the API also puts its event and its
//! revision, in its own transaction ([`activity`]): a change without its
//! record cannot exist. Both expire (`ttl`, `ACTIVITY_RETENTION_DAYS`).
//! So do the team's writes (members, invitations, projects, API keys: an
//! event in the team's partition, which a project's delete leaves alone)
//! and the account's token writes (an event in the tokens table's
//! `ACCOUNTEVENTS#` partition).
//!
//! A version, its identity item, its copy in creation order and the
//! project's count are written in one `TransactWriteItems` with
//! `attribute_not_exists` on the identity, so at most one version per
//! (project, appName, appVersion, platform, environment) exists even under
//! concurrent creates; a version carries a `revision` that updates are
//! conditioned on. Access for a PAT request (membership + project's team) is
//! one `BatchGetItem`. A cold version check is one `GetItem` on the API
//! key's hash plus one `Query` of the project's partition (its active
//! versions, all apps at once). A project's data is its two partitions:
//! deleting a project deletes both. A list page in the default order (newest
//! first) is one backward `Query` of the creation-order copies, which reads
//! the count (it sorts after them) and the newest versions as far as the
//! page; any other order or a filter reads every identity item, which also
//! holds the version's summary (the few fields filters and sorts need,
//! under one-letter names: a fraction of a version's size), then the page's
//! versions with one `BatchGetItem`. The table has no secondary index.

pub mod accounts;
pub mod activity;
pub mod check;
pub mod config;
pub mod dynamo;
pub mod keys;
pub mod receipts;
pub mod tables;
pub mod teams;
pub mod tokens;
pub mod unknown;
pub mod versions;

use std::future::Future;
use std::net::IpAddr;

use crate::domain::{
    ApiKeyRecord, Description, Email, IssuedPat, Name, PatRecord, ProjectId, SecretHash, TeamId,
    Timestamp, TokenId, UserId,
};

pub use activity::{ActivityStore, Feed};
pub use check::CheckStore;
pub use config::Config;
pub use dynamo::DynamoStore;
pub use receipts::ReceiptStore;
pub use teams::{ApiKeyEntry, Invitation, Membership, TeamRefusal, TeamStore};
pub use tokens::{TokenStore, TokenSummary};
pub use versions::{NewestPage, VersionStore, VersionSummary};

/// Failures of the backing store, already classified for the HTTP layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A conditional write lost (uniqueness, optimistic concurrency).
    #[error("conflict: {0}")]
    Conflict(String),
    /// DynamoDB unreachable, timing out or throttling: retry later.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or a misconfiguration.
    #[error("store error: {0}")]
    Internal(String),
}

/// What a secret's hash resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Pat(PatRecord),
    ApiKey(ApiKeyRecord),
    /// A PAT secret that self-rotation replaced: only a thief (or a client
    /// that lost the rotation's answer) still presents it.
    Rotated {
        token_id: TokenId,
        owner: UserId,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub id: TeamId,
    pub name: Name,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: ProjectId,
    pub team_id: TeamId,
    pub name: Name,
    pub description: Description,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Project {
    /// A new project with no description.
    pub fn new(id: ProjectId, team_id: TeamId, name: Name, now: Timestamp) -> Self {
        Self {
            id,
            team_id,
            name,
            description: Description::default(),
            created_at: now,
            updated_at: now,
        }
    }
}

/// Whether `user` may reach `project` through `team`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub is_member: bool,
    pub project_in_team: bool,
    /// The member's address as the membership records it (absent on
    /// memberships older than invitations): what an activity event names.
    pub email: Option<Email>,
}

impl Access {
    pub fn allowed(&self) -> bool {
        self.is_member && self.project_in_team
    }
}

/// Secret lookups: the first read of every authenticated request.
pub trait CredentialStore: Send + Sync {
    /// Strongly consistent: a revoked secret is gone for the next request.
    fn get_credential(
        &self,
        hash: &SecretHash,
    ) -> impl Future<Output = Result<Option<Credential>, StoreError>> + Send;

    /// Sets a PAT's `lastUsedAt` to `now` and `lastUsedIp` to `source`
    /// (removed when `None`) unless `lastUsedAt` is already at or after
    /// `cutoff`: one conditional write, so a token is touched at most once
    /// per throttle window however many requests it makes. `Ok(false)` when
    /// nothing was written (touched recently, or the token is gone).
    fn touch_last_used(
        &self,
        hash: &SecretHash,
        now: Timestamp,
        cutoff: Timestamp,
        source: Option<IpAddr>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Revokes `owner`'s token `token` because a rotated-away secret of it
    /// was presented: the whole token goes, whatever its current secret.
    /// `Ok(false)` when it is gone already.
    /// The revocation is recorded in the account's activity as
    /// `token.reuseDetected`, from `origin`, in its own transaction.
    fn revoke_reused(
        &self,
        owner: &UserId,
        token: &TokenId,
        origin: &crate::domain::activity::Origin,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The hashes recently found to name no credential, which the auth
    /// path consults before a read; `None` remembers nothing.
    fn unknown_pats(&self) -> Option<&unknown::UnknownPats> {
        None
    }
}

/// Creating credentials (the operator CLI and the token admin function).
pub trait CredentialWriter: Send + Sync {
    /// Stores a new PAT's credential, account entry and name lock (and,
    /// made `by` someone, its `token.created` event in the account's
    /// activity) in one transaction. `Conflict` when the owner has a live
    /// token of that name.
    fn create_pat(
        &self,
        pat: &IssuedPat,
        by: Option<&crate::domain::activity::Provenance>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn create_api_key(
        &self,
        hash: &SecretHash,
        record: &ApiKeyRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Teams, memberships and projects.
pub trait DirectoryStore: Send + Sync {
    fn create_team(&self, team: &Team) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Adds `user` as an owner (the operator's provisioning; the team
    /// function adds members through invitations). `Ok(false)` when the
    /// team does not exist. Idempotent.
    fn add_member(
        &self,
        team: &TeamId,
        user: &UserId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// `Ok(false)` when the user was not a member. The operator's removal:
    /// unlike the team API's, it may remove the last owner.
    fn remove_member(
        &self,
        team: &TeamId,
        user: &UserId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The teams `user` is in, with the address each membership records
    /// (the teams' own view of the person: what an activity event names);
    /// the same single query as [`DirectoryStore::teams_of`].
    fn memberships_of(
        &self,
        user: &UserId,
    ) -> impl Future<Output = Result<Vec<(TeamId, Option<Email>)>, StoreError>> + Send;

    /// The teams `user` belongs to, from the by-user membership items that
    /// `add_member` writes (strongly consistent).
    fn teams_of(
        &self,
        user: &UserId,
    ) -> impl Future<Output = Result<Vec<TeamId>, StoreError>> + Send;

    /// The project and its entry in the team's list, and (made `by`
    /// someone) its event in the team's activity, in one transaction.
    /// `Ok(false)` when the team does not exist.
    fn create_project(
        &self,
        project: &Project,
        by: Option<&crate::domain::activity::Provenance>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// `None` also while a delete of the project is under way.
    fn get_project(
        &self,
        id: &ProjectId,
    ) -> impl Future<Output = Result<Option<Project>, StoreError>> + Send;

    /// Membership and project ownership in one round trip. A project being
    /// deleted is in no team.
    fn access(
        &self,
        team: &TeamId,
        user: &UserId,
        project: &ProjectId,
    ) -> impl Future<Output = Result<Access, StoreError>> + Send;

    /// The team of each of `projects` that exists and is not being
    /// deleted, in one strongly consistent `BatchGetItem` (per 100 ids);
    /// unknown ids are left out.
    fn teams_of_projects(
        &self,
        projects: &[ProjectId],
    ) -> impl Future<Output = Result<Vec<(ProjectId, TeamId)>, StoreError>> + Send;
}
