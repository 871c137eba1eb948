//! DynamoDB implementation of the tokens store: an account's token list,
//! revocation and rotation, on the items [`super::credentials`] writes.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, KeysAndAttributes, Put, TransactWriteItem};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use serde::Deserialize;

use super::credentials::{AccountTokenItem, NameLockItem, SecretItem, ttl};
use super::{
    DynamoStore, Item, cancellation_reasons, classify, classify_transaction, from_item, internal,
    key_item, query_all, to_item,
};
use crate::auth::{PatRecord, SecretHash};
use crate::domain::{Timestamp, TokenId, UserId};
use crate::store::keys::{self, Key};
use crate::store::{Replacement, StoreError, TokenStore, TokenSummary};

/// `BatchGetItem` takes at most 100 keys per call.
const BATCH_GET_LIMIT: usize = 100;
/// Rounds of re-sending `UnprocessedKeys` before calling the store throttled.
const BATCH_GET_ROUNDS: usize = 5;

/// The slice of a credential item the token list needs.
#[derive(Deserialize)]
struct LastUsed {
    pk: String,
    #[serde(rename = "lastUsedAt", default)]
    last_used_at: Option<Timestamp>,
}

type TransactError = SdkError<TransactWriteItemsError, HttpResponse>;

/// A transaction item's condition expression and its `:values`.
#[derive(Clone, Copy)]
struct Condition<'a>(&'a str, &'a [(&'a str, &'a str)]);

fn values(condition: Condition<'_>) -> Option<HashMap<String, AttributeValue>> {
    let Condition(_, values) = condition;
    (!values.is_empty()).then(|| {
        values
            .iter()
            .map(|(name, value)| ((*name).to_owned(), AttributeValue::S((*value).to_owned())))
            .collect()
    })
}

fn delete(
    table: &str,
    key: &Key,
    condition: Option<Condition<'_>>,
) -> Result<TransactWriteItem, StoreError> {
    let delete = Delete::builder()
        .table_name(table)
        .set_key(Some(key_item(key)))
        .set_condition_expression(condition.map(|c| c.0.to_owned()))
        .set_expression_attribute_values(condition.and_then(values))
        .build()
        .map_err(internal)?;
    Ok(TransactWriteItem::builder().delete(delete).build())
}

fn put(table: &str, item: Item, condition: Condition<'_>) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(condition.0)
        .set_expression_attribute_values(values(condition))
        .build()
        .map_err(internal)?;
    Ok(TransactWriteItem::builder().put(put).build())
}

// Free functions rather than inherent methods: every store area extends
// `DynamoStore`, and inherent method names would collide across modules.
async fn transact(store: &DynamoStore, items: Vec<TransactWriteItem>) -> Result<(), TransactError> {
    store
        .client
        .transact_write_items()
        .set_transact_items(Some(items))
        .send()
        .await
        .map(|_| ())
}

/// `lastUsedAt` of each credential, by credential `pk`. Strongly
/// consistent, like the auth path that writes it.
async fn last_used(
    store: &DynamoStore,
    hashes: &[SecretHash],
) -> Result<HashMap<String, Timestamp>, StoreError> {
    let mut found = HashMap::new();
    for chunk in hashes.chunks(BATCH_GET_LIMIT) {
        let keys: Vec<Item> = chunk.iter().map(|h| key_item(&keys::secret(h))).collect();
        let mut pending = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .projection_expression("pk, lastUsedAt")
                .build()
                .map_err(internal)?,
        );
        let mut rounds = 0;
        while let Some(request) = pending.take() {
            rounds += 1;
            if rounds > BATCH_GET_ROUNDS {
                return Err(StoreError::Unavailable(
                    "BatchGetItem kept returning unprocessed keys".into(),
                ));
            }
            let output = store
                .client
                .batch_get_item()
                .request_items(&store.tokens_table, request)
                .send()
                .await
                .map_err(classify)?;
            let items = output
                .responses
                .and_then(|mut r| r.remove(&store.tokens_table))
                .unwrap_or_default();
            for item in items {
                let row: LastUsed = from_item(item)?;
                if let Some(at) = row.last_used_at {
                    found.insert(row.pk, at);
                }
            }
            pending = output
                .unprocessed_keys
                .and_then(|mut u| u.remove(&store.tokens_table))
                .filter(|k| !k.keys.is_empty());
        }
    }
    Ok(found)
}

fn entry_hash(entry: &AccountTokenItem) -> Result<SecretHash, StoreError> {
    SecretHash::from_hex(&entry.secret_hash)
        .ok_or_else(|| StoreError::Internal(format!("token {} has a bad hash", entry.token_id)))
}

const CONDITION_FAILED: &str = "ConditionalCheckFailed";

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
        let id = token.to_string();
        let credential = delete(table, &keys::secret(&hash), None)?;
        let entry_delete = delete(
            table,
            &entry_key,
            Some(Condition("attribute_exists(pk)", &[])),
        )?;
        let lock = delete(
            table,
            &keys::token_name_lock(owner, &entry.name),
            Some(Condition("tokenId = :id", &[(":id", &id)])),
        )?;
        let attempt = transact(self, vec![credential.clone(), entry_delete.clone(), lock]).await;
        let Err(err) = attempt else {
            return Ok(true);
        };
        let reasons = cancellation_reasons(&err);
        match reasons.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            [_, CONDITION_FAILED, _] => Ok(false),
            // Only the lock belongs to someone else now: revoke without it.
            ["None", "None", CONDITION_FAILED] => {
                match transact(self, vec![credential, entry_delete]).await {
                    Ok(()) => Ok(true),
                    Err(err)
                        if cancellation_reasons(&err).get(1).map(String::as_str)
                            == Some(CONDITION_FAILED) =>
                    {
                        Ok(false)
                    }
                    Err(err) => Err(classify_transaction(err)),
                }
            }
            _ => Err(classify_transaction(err)),
        }
    }

    async fn rotate_token(
        &self,
        old_hash: &SecretHash,
        old: &PatRecord,
        new: Replacement<'_>,
    ) -> Result<(), StoreError> {
        let table = &self.tokens_table;
        let record = new.record;
        let owner = &record.owner;
        let old_id = old.token_id.to_string();
        let lock = NameLockItem {
            token_id: record.token_id.clone(),
            expires_at: record.expires_at,
            ttl: ttl(record.expires_at),
        };
        let items = vec![
            // Exists-condition: of two concurrent rotations (or a rotation
            // and a revocation) exactly one wins.
            delete(
                table,
                &keys::secret(old_hash),
                Some(Condition("attribute_exists(pk)", &[])),
            )?,
            delete(table, &keys::account_token(&old.owner, &old.token_id), None)?,
            put(
                table,
                to_item(&keys::secret(new.hash), &SecretItem::pat(record))?,
                Condition("attribute_not_exists(pk)", &[]),
            )?,
            put(
                table,
                to_item(
                    &keys::account_token(owner, &record.token_id),
                    &AccountTokenItem::new(new.hash, new.hint, record),
                )?,
                Condition("attribute_not_exists(pk)", &[]),
            )?,
            // The name passes from the old token to the new one.
            put(
                table,
                to_item(&keys::token_name_lock(owner, &record.name), &lock)?,
                Condition(
                    "attribute_not_exists(pk) OR tokenId = :old",
                    &[(":old", &old_id)],
                ),
            )?,
        ];
        transact(self, items)
            .await
            .map_err(classify_transaction)
            .map_err(|err| match err {
                StoreError::Conflict(_) => {
                    StoreError::Conflict("the token was revoked or rotated concurrently".into())
                }
                other => other,
            })
    }
}
