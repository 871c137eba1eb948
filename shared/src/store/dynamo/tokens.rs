//! DynamoDB implementation of the tokens store: an account's token list,
//! revocation and rotation, on the items [`super::credentials`] writes.

use std::collections::HashMap;

use serde::Deserialize;

use super::credentials::{AccountTokenItem, pat_puts};
use super::receipts::{IN_FLIGHT, receipt_in_flight, with_receipt};
use super::transact::{Condition, delete, transact};
use super::{DynamoStore, batch_get, classify, from_item, key_item, query_all};
use crate::domain::{IssuedPat, PatRecord, Receipt, SecretHash, Timestamp, TokenId, UserId};
use crate::store::keys;
use crate::store::{StoreError, TokenStore, TokenSummary};
use aws_sdk_dynamodb::types::AttributeValue;

/// The slice of a credential item the token list needs.
#[derive(Deserialize)]
struct LastUsed {
    pk: String,
    #[serde(rename = "lastUsedAt", default)]
    last_used_at: Option<Timestamp>,
}

/// `lastUsedAt` of each credential, by credential `pk`. Strongly
/// consistent, like the auth path that writes it.
async fn last_used(
    store: &DynamoStore,
    hashes: &[SecretHash],
) -> Result<HashMap<String, Timestamp>, StoreError> {
    let keys: Vec<_> = hashes.iter().map(|h| key_item(&keys::secret(h))).collect();
    let mut found = HashMap::new();
    for item in batch_get(&store.client, &store.tokens_table, &keys, "pk, lastUsedAt").await? {
        let row: LastUsed = from_item(item)?;
        if let Some(at) = row.last_used_at {
            found.insert(row.pk, at);
        }
    }
    Ok(found)
}

fn entry_hash(entry: &AccountTokenItem) -> Result<SecretHash, StoreError> {
    SecretHash::from_hex(&entry.secret_hash)
        .ok_or_else(|| StoreError::Internal(format!("token {} has a bad hash", entry.token_id)))
}

impl TokenStore for DynamoStore {
    async fn list_tokens(&self, owner: &UserId) -> Result<Vec<TokenSummary>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.tokens_table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", AttributeValue::S(keys::account_pk(owner)))
            .expression_attribute_values(
                ":prefix",
                AttributeValue::S(keys::ACCOUNT_TOKEN_PREFIX.to_owned()),
            )
            .consistent_read(true)
            // Token ids are ULIDs: descending sort keys are newest first.
            .scan_index_forward(false);
        let entries = query_all(query, from_item::<AccountTokenItem>).await?;
        let hashes = entries
            .iter()
            .map(entry_hash)
            .collect::<Result<Vec<_>, _>>()?;
        let last_used = last_used(self, &hashes).await?;
        Ok(entries
            .into_iter()
            .zip(&hashes)
            .map(|(entry, hash)| TokenSummary {
                last_used_at: last_used.get(&keys::secret(hash).pk).copied(),
                token_id: entry.token_id,
                name: entry.name,
                scopes: entry.scopes,
                created_at: entry.created_at,
                expires_at: entry.expires_at,
                hint: entry.hint,
            })
            .collect())
    }

    async fn revoke_token(&self, owner: &UserId, token: &TokenId) -> Result<bool, StoreError> {
        let entry_key = keys::account_token(owner, token);
        let output = self
            .client
            .get_item()
            .table_name(&self.tokens_table)
            .set_key(Some(key_item(&entry_key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        let Some(item) = output.item else {
            return Ok(false);
        };
        let entry: AccountTokenItem = from_item(item)?;
        let hash = entry_hash(&entry)?;

        // The credential may be gone already (TTL); deleting it is
        // unconditional. The entry's condition makes a concurrent revocation
        // lose cleanly. The name lock goes only if it is still this token's:
        // once a token expires its name may belong to a newer token.
        let table = &self.tokens_table;
        let credential = delete(table, &keys::secret(&hash), None)?;
        let entry_delete = delete(table, &entry_key, Some(Condition::present()))?;
        let lock = delete(
            table,
            &keys::token_name_lock(owner, &entry.name),
            Some(Condition::new("tokenId = :id").with_s(":id", token.to_string())),
        )?;
        let items = vec![credential.clone(), entry_delete.clone(), lock];
        match transact(&self.client, items).await {
            Ok(()) => Ok(true),
            Err(failed) if failed.condition_failed(1) => Ok(false),
            // Only the lock belongs to someone else now: revoke without it.
            Err(failed) if failed.only_condition_failed(2) => {
                match transact(&self.client, vec![credential, entry_delete]).await {
                    Ok(()) => Ok(true),
                    Err(failed) if failed.condition_failed(1) => Ok(false),
                    Err(failed) => Err(failed.into()),
                }
            }
            Err(failed) => Err(failed.into()),
        }
    }

    async fn rotate_token(
        &self,
        old_hash: &SecretHash,
        old: &PatRecord,
        new: &IssuedPat,
        receipt: Option<&Receipt>,
    ) -> Result<(), StoreError> {
        let table = &self.tokens_table;
        let mut items = vec![
            // Exists-condition: of two concurrent rotations (or a rotation
            // and a revocation) exactly one wins.
            delete(table, &keys::secret(old_hash), Some(Condition::present()))?,
            delete(table, &keys::account_token(&old.owner, &old.token_id), None)?,
        ];
        // The name passes from the old token to the new one.
        let lock = Condition::new("attribute_not_exists(pk) OR tokenId = :old")
            .with_s(":old", old.token_id.to_string());
        items.extend(pat_puts(table, new, lock)?);
        let at = with_receipt(table, &mut items, receipt)?;
        transact(&self.client, items).await.map_err(|failed| {
            if receipt_in_flight(&failed, at) {
                return failed.conflict_as(IN_FLIGHT);
            }
            failed.conflict_as("the token was revoked or rotated concurrently")
        })
    }
}
