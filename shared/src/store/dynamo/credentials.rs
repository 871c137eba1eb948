//! Credentials in the tokens table: lookups by secret hash, and creation.

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use serde::{Deserialize, Serialize};

use super::{DynamoStore, classify, classify_transaction, from_item, internal, to_item};
use crate::auth::{ApiKeyRecord, PatRecord, Scopes, SecretHash};
use crate::domain::{ProjectId, TeamId, Timestamp, TokenId, UserId};
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
            } => Credential::Pat(PatRecord {
                token_id,
                owner,
                name,
                scopes,
                created_at,
                expires_at,
                last_used_at,
            }),
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
    /// Hex SHA-256 of the secret: how revocation finds the credential.
    pub secret_hash: String,
    pub ttl: i64,
}

impl AccountTokenItem {
    pub(crate) fn new(hash: &SecretHash, hint: &str, record: &PatRecord) -> Self {
        Self {
            token_id: record.token_id.clone(),
            name: record.name.clone(),
            scopes: record.scopes,
            created_at: record.created_at,
            expires_at: record.expires_at,
            hint: hint.to_owned(),
            secret_hash: hash.to_hex(),
            ttl: ttl(record.expires_at),
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

/// The three puts that store a new PAT, each conditioned so that nothing is
/// overwritten except an expired name lock.
pub(crate) fn pat_puts(
    table: &str,
    hash: &SecretHash,
    hint: &str,
    record: &PatRecord,
) -> Result<Vec<TransactWriteItem>, StoreError> {
    let owner = &record.owner;
    let secret = to_item(&keys::secret(hash), &SecretItem::pat(record))?;
    let entry = to_item(
        &keys::account_token(owner, &record.token_id),
        &AccountTokenItem::new(hash, hint, record),
    )?;
    let lock = to_item(
        &keys::token_name_lock(owner, &record.name),
        &NameLockItem {
            token_id: record.token_id.clone(),
            expires_at: record.expires_at,
            ttl: ttl(record.expires_at),
        },
    )?;
    let put = |item, condition: &str| -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression(condition)
            .build()
            .map_err(internal)?;
        Ok(TransactWriteItem::builder().put(put).build())
    };
    let lock_put = Put::builder()
        .table_name(table)
        .set_item(Some(lock))
        .condition_expression("attribute_not_exists(pk) OR expiresAt <= :now")
        .expression_attribute_values(":now", AttributeValue::S(record.created_at.to_string()));
    Ok(vec![
        put(secret, "attribute_not_exists(pk)")?,
        put(entry, "attribute_not_exists(pk)")?,
        TransactWriteItem::builder()
            .put(lock_put.build().map_err(internal)?)
            .build(),
    ])
}

impl CredentialStore for DynamoStore {
    async fn get_credential(&self, hash: &SecretHash) -> Result<Option<Credential>, StoreError> {
        let key = keys::secret(hash);
        let output = self
            .client
            .get_item()
            .table_name(&self.tokens_table)
            .key(keys::PK, AttributeValue::S(key.pk))
            .key(keys::SK, AttributeValue::S(key.sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        output
            .item
            .map(|item| from_item::<SecretItem>(item).map(SecretItem::into_credential))
            .transpose()
    }

    async fn touch_last_used(
        &self,
        hash: &SecretHash,
        now: Timestamp,
        cutoff: Timestamp,
    ) -> Result<bool, StoreError> {
        let key = keys::secret(hash);
        let result = self
            .client
            .update_item()
            .table_name(&self.tokens_table)
            .key(keys::PK, AttributeValue::S(key.pk))
            .key(keys::SK, AttributeValue::S(key.sk))
            .update_expression("SET lastUsedAt = :now")
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(lastUsedAt) OR lastUsedAt < :cutoff)",
            )
            .expression_attribute_values(":now", AttributeValue::S(now.to_string()))
            .expression_attribute_values(":cutoff", AttributeValue::S(cutoff.to_string()))
            .customize()
            .config_override(touch_budget())
            .send()
            .await;
        match result.map_err(classify) {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict(_)) => Ok(false),
            Err(err) => Err(err),
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
    async fn create_pat(
        &self,
        hash: &SecretHash,
        hint: &str,
        record: &PatRecord,
    ) -> Result<(), StoreError> {
        self.client
            .transact_write_items()
            .set_transact_items(Some(pat_puts(&self.tokens_table, hash, hint, record)?))
            .send()
            .await
            .map_err(classify_transaction)
            .map_err(|err| match err {
                StoreError::Conflict(_) => {
                    StoreError::Conflict("a live token with this name already exists".into())
                }
                other => other,
            })?;
        Ok(())
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
