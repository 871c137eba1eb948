//! Credentials in the tokens table: lookups by secret hash, and creation.

use std::net::IpAddr;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::token_item::{ReceiptRef, SecretItem, pat_puts};
use super::tokens::{RevokedBy, token_fields};
use super::transact::{Condition, transact};
use super::{DynamoStore, classify, from_item, get_consistent, to_item};
use crate::domain::activity::{Action, Origin, Provenance, Target};
use crate::domain::{ApiKeyRecord, IssuedPat, SecretHash, Timestamp, TokenId, UserId};
use crate::store::Feed;
use crate::store::unknown::UnknownPats;
use crate::store::{Credential, CredentialStore, CredentialWriter, StoreError, keys};

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

    async fn revoke_reused(
        &self,
        owner: &UserId,
        token: &TokenId,
        origin: &Origin,
    ) -> Result<bool, StoreError> {
        super::tokens::revoke(self, owner, token, RevokedBy::Reuse(origin)).await
    }

    fn unknown_pats(&self) -> Option<&UnknownPats> {
        Some(&self.unknown_pats)
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
    async fn create_pat(&self, pat: &IssuedPat, by: Option<&Provenance>) -> Result<(), StoreError> {
        // A name lock left by an expired token may be taken over.
        let lock = Condition::new("attribute_not_exists(pk) OR expiresAt <= :now")
            .with_s(":now", pat.record.created_at.to_string());
        let mut items = pat_puts(&self.tokens_table, pat, lock)?;
        let record = &pat.record;
        self.with_recorded(
            &mut items,
            &Feed::Account(record.owner.clone()),
            by,
            Action::TokenCreated,
            Target::new("token", &record.token_id),
            token_fields(record),
        )?;
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
