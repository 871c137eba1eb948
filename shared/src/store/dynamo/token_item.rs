//! The stored forms of tokens and API keys in the tokens table, shared by
//! the credential lookups, the token store and the rotation receipts.

use aws_sdk_dynamodb::types::TransactWriteItem;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::transact::{Condition, put};
use super::{to_item, ttl};
use crate::domain::{
    ApiKeyRecord, Environment, IssuedPat, PatRecord, ProjectId, Scopes, TeamId, Timestamp, TokenId,
    TokenLimits, UserId,
};
use crate::store::{Credential, StoreError, keys};

/// The item keyed by a secret's hash.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind")]
pub(crate) enum SecretItem {
    #[serde(rename = "pat", rename_all = "camelCase")]
    Pat {
        token_id: TokenId,
        owner: UserId,
        name: String,
        scopes: Scopes,
        created_at: Timestamp,
        expires_at: Timestamp,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_used_at: Option<Timestamp>,
        ttl: i64,
        /// Where a rotation keyed by an `Idempotency-Key` keeps its sealed
        /// answer (this secret): deleted at this secret's first use, from
        /// when the answer may no longer be given again.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        replay_receipt: Option<ReceiptRef>,
        /// The token's limits, read with the credential (no extra read);
        /// absent on an unlimited token.
        #[serde(flatten)]
        limits: LimitsItem,
    },
    /// What a PAT's old secret becomes when the token is rotated: kept
    /// until the token expires, so its reuse can be recognised.
    #[serde(rename = "rotated", rename_all = "camelCase")]
    Rotated {
        token_id: TokenId,
        owner: UserId,
        ttl: i64,
    },
    #[serde(rename = "apiKey", rename_all = "camelCase")]
    ApiKey {
        project_id: ProjectId,
        team_id: TeamId,
        created_at: Timestamp,
    },
}

impl SecretItem {
    pub(crate) fn pat(record: &PatRecord) -> Self {
        Self::Pat {
            token_id: record.token_id.clone(),
            owner: record.owner.clone(),
            name: record.name.clone(),
            scopes: record.scopes,
            created_at: record.created_at,
            expires_at: record.expires_at,
            last_used_at: record.last_used_at,
            ttl: ttl(record.expires_at),
            replay_receipt: None,
            limits: LimitsItem::new(&record.limits),
        }
    }

    pub(crate) fn into_credential(self) -> Credential {
        match self {
            Self::Pat {
                token_id,
                owner,
                name,
                scopes,
                created_at,
                expires_at,
                last_used_at,
                ttl: _,
                replay_receipt: _,
                limits,
            } => Credential::Pat(PatRecord {
                token_id,
                owner,
                name,
                scopes,
                created_at,
                expires_at,
                last_used_at,
                limits: limits.into_limits(),
            }),
            Self::Rotated {
                token_id, owner, ..
            } => Credential::Rotated { token_id, owner },
            Self::ApiKey {
                project_id,
                team_id,
                created_at,
            } => Credential::ApiKey(ApiKeyRecord {
                project_id,
                team_id,
                created_at,
            }),
        }
    }
}

/// A token's limits as the credential and the account entry store them:
/// `projects` and `environments`, each absent when unlimited.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LimitsItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projects: Option<Vec<ProjectId>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environments: Option<Vec<Environment>>,
}

impl LimitsItem {
    pub(crate) fn new(limits: &TokenLimits) -> Self {
        Self {
            projects: limits.projects().map(<[_]>::to_vec),
            environments: limits.environments().map(<[_]>::to_vec),
        }
    }

    pub(crate) fn into_limits(self) -> TokenLimits {
        TokenLimits::new(self.projects, self.environments)
    }
}

/// The key of a rotation's idempotency receipt, on the new secret's
/// credential.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ReceiptRef {
    pub pk: String,
    pub sk: String,
}

impl From<keys::Key> for ReceiptRef {
    fn from(key: keys::Key) -> Self {
        Self {
            pk: key.pk,
            sk: key.sk,
        }
    }
}

/// An account's view of one of its tokens.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AccountTokenItem {
    pub token_id: TokenId,
    pub name: String,
    pub scopes: Scopes,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub hint: String,
    /// Hex SHA-256 of the current secret: how revocation finds the
    /// credential. Rotation changes it only while `revoking` is unset.
    pub secret_hash: String,
    pub ttl: i64,
    /// Set by a revocation before it reads `secret_hash`: from then on no
    /// rotation can commit, so the hash it read is the last one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoking: Option<Timestamp>,
    /// When the secret was last rotated: a use of the token that the new
    /// secret's credential does not record (see `rotation_items`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated_at: Option<Timestamp>,
    /// Where that rotation came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated_ip: Option<IpAddr>,
    /// When, and to where, a rotation's stored answer was last replayed
    /// (see `TokenStore::record_replay`). Rotations update the entry rather
    /// than replace it, so this survives them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_replay_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_replay_ip: Option<IpAddr>,
    /// The token's limits, for the list (rotations leave them as they are).
    #[serde(flatten)]
    pub limits: LimitsItem,
}

impl AccountTokenItem {
    pub(crate) fn new(pat: &IssuedPat) -> Self {
        let record = &pat.record;
        Self {
            token_id: record.token_id.clone(),
            name: record.name.clone(),
            scopes: record.scopes,
            created_at: record.created_at,
            expires_at: record.expires_at,
            hint: pat.hint.clone(),
            secret_hash: pat.hash.to_hex(),
            ttl: ttl(record.expires_at),
            revoking: None,
            rotated_at: None,
            rotated_ip: None,
            last_replay_at: None,
            last_replay_ip: None,
            limits: LimitsItem::new(&record.limits),
        }
    }
}

/// Reserves a token name for its owner while the token lives.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NameLockItem {
    pub token_id: TokenId,
    pub expires_at: Timestamp,
    pub ttl: i64,
}

/// The three puts that store an issued PAT, each conditioned so that nothing
/// is overwritten except the name lock that `lock` allows.
pub(crate) fn pat_puts(
    table: &str,
    pat: &IssuedPat,
    lock: Condition,
) -> Result<Vec<TransactWriteItem>, StoreError> {
    let record = &pat.record;
    let owner = &record.owner;
    let secret = to_item(&keys::secret(&pat.hash), &SecretItem::pat(record))?;
    let entry = to_item(
        &keys::account_token(owner, &record.token_id),
        &AccountTokenItem::new(pat),
    )?;
    let lock_item = to_item(
        &keys::token_name_lock(owner, &record.name),
        &NameLockItem {
            token_id: record.token_id.clone(),
            expires_at: record.expires_at,
            ttl: ttl(record.expires_at),
        },
    )?;
    Ok(vec![
        put(table, secret, Condition::absent())?,
        put(table, entry, Condition::absent())?,
        put(table, lock_item, lock)?,
    ])
}
