//! Credentials in the tokens table: lookups by secret hash, and creation.

use std::net::IpAddr;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, TransactWriteItem};
use serde::{Deserialize, Serialize};

use super::transact::{Condition, put, transact};
use super::{DynamoStore, classify, from_item, get_consistent, to_item};
use crate::domain::{
    ApiKeyRecord, IssuedPat, PatRecord, ProjectId, Scopes, SecretHash, TeamId, Timestamp, TokenId,
    UserId,
};
use crate::store::{Credential, CredentialStore, CredentialWriter, StoreError, keys};

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
        }
    }

    fn into_credential(self) -> Credential {
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
            } => Credential::Pat(PatRecord {
                token_id,
                owner,
                name,
                scopes,
                created_at,
                expires_at,
                last_used_at,
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

/// DynamoDB TTL deletes a day after expiry; expiry itself is enforced on
/// every request, TTL only keeps the table tidy.
pub(crate) fn ttl(expires_at: Timestamp) -> i64 {
    expires_at.unix_seconds() + 86_400
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

impl CredentialStore for DynamoStore {
    async fn get_credential(&self, hash: &SecretHash) -> Result<Option<Credential>, StoreError> {
        get_consistent(&self.client, &self.tokens_table, &keys::secret(hash))
            .await?
            .map(|item| from_item::<SecretItem>(item).map(SecretItem::into_credential))
            .transpose()
    }

    async fn touch_last_used(
        &self,
        hash: &SecretHash,
        now: Timestamp,
        cutoff: Timestamp,
        source: Option<IpAddr>,
    ) -> Result<bool, StoreError> {
        let key = keys::secret(hash);
        // The address goes with its date: no older use's address stays
        // beside a newer date.
        let mut request = self.client.update_item();
        request = match source {
            Some(ip) => request
                .update_expression("SET lastUsedAt = :now, lastUsedIp = :ip REMOVE replayReceipt")
                .expression_attribute_values(":ip", AttributeValue::S(ip.to_string())),
            None => {
                request.update_expression("SET lastUsedAt = :now REMOVE lastUsedIp, replayReceipt")
            }
        };
        let result = request
            .table_name(&self.tokens_table)
            .key(keys::PK, AttributeValue::S(key.pk))
            .key(keys::SK, AttributeValue::S(key.sk))
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(lastUsedAt) OR lastUsedAt < :cutoff)",
            )
            .expression_attribute_values(":now", AttributeValue::S(now.to_string()))
            .expression_attribute_values(":cutoff", AttributeValue::S(cutoff.to_string()))
            .return_values(ReturnValue::UpdatedOld)
            .customize()
            .config_override(touch_budget())
            .send()
            .await;
        match result.map_err(classify) {
            Ok(output) => {
                let receipt = output
                    .attributes
                    .and_then(|mut old| old.remove("replayReceipt"))
                    .map(serde_dynamo::from_attribute_value::<_, ReceiptRef>);
                match receipt {
                    Some(Ok(receipt)) => self.delete_replay_receipt(receipt).await,
                    Some(Err(err)) => {
                        tracing::warn!(error = %err, "a used rotation's receipt reference is damaged");
                    }
                    None => {}
                }
                Ok(true)
            }
            Err(StoreError::Conflict(_)) => Ok(false),
            Err(err) => Err(err),
        }
    }

    async fn revoke_reused(&self, owner: &UserId, token: &TokenId) -> Result<bool, StoreError> {
        super::tokens::revoke(self, owner, token).await
    }
}

impl DynamoStore {
    /// The first use of a secret issued by a keyed rotation ends the
    /// rotation's replay: its sealed answer goes at once rather than at its
    /// TTL. Best effort, like the touch it follows: a receipt left behind
    /// is never replayed anyway (the replay path sees the secret used) and
    /// its TTL removes it.
    async fn delete_replay_receipt(&self, receipt: ReceiptRef) {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.tokens_table)
            .key(keys::PK, AttributeValue::S(receipt.pk))
            .key(keys::SK, AttributeValue::S(receipt.sk))
            .customize()
            .config_override(touch_budget())
            .send()
            .await;
        if let Err(err) = deleted {
            tracing::warn!(error = %classify(err), "a used rotation's receipt is left to its TTL");
        }
    }
}

/// The touch rides on a request that must not wait for it: one attempt, no
/// retries, a tight deadline. A lost touch only leaves `lastUsedAt` stale
/// until the token's next use.
fn touch_budget() -> aws_sdk_dynamodb::config::Builder {
    let budget = std::time::Duration::from_millis(500);
    aws_sdk_dynamodb::config::Builder::default()
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(budget)
                .operation_attempt_timeout(budget)
                .operation_timeout(budget)
                .build(),
        )
}

impl CredentialWriter for DynamoStore {
    async fn create_pat(&self, pat: &IssuedPat) -> Result<(), StoreError> {
        // A name lock left by an expired token may be taken over.
        let lock = Condition::new("attribute_not_exists(pk) OR expiresAt <= :now")
            .with_s(":now", pat.record.created_at.to_string());
        let items = pat_puts(&self.tokens_table, pat, lock)?;
        transact(&self.client, items)
            .await
            .map_err(|failed| failed.conflict_as("a live token with this name already exists"))
    }

    async fn create_api_key(
        &self,
        hash: &SecretHash,
        record: &ApiKeyRecord,
    ) -> Result<(), StoreError> {
        let item = to_item(
            &keys::secret(hash),
            &SecretItem::ApiKey {
                project_id: record.project_id.clone(),
                team_id: record.team_id.clone(),
                created_at: record.created_at,
            },
        )?;
        self.client
            .put_item()
            .table_name(&self.tokens_table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}
