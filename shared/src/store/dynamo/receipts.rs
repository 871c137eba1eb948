//! Idempotency receipts in the tokens table (the table with TTL).

use aws_sdk_dynamodb::types::TransactWriteItem;
use serde::{Deserialize, Serialize};

use super::transact::{Condition, Failed, put};
use super::{DynamoStore, classify, from_item, get_consistent, key_item, to_item, ttl};
use crate::domain::{
    Answer, Fingerprint, IdempotencyKey, Receipt, ReceiptScope, Recorded, Timestamp,
};
use crate::store::{ReceiptStore, StoreError, keys};

/// What a request that lost a race with its own retry is told when the
/// first one has not finished yet.
pub(crate) const IN_FLIGHT: &str =
    "a request with this Idempotency-Key is still in progress; retry later";

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReceiptItem {
    fingerprint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    answer: Option<Answer>,
    /// Hex of the sealed answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sealed: Option<String>,
    expires_at: Timestamp,
    /// Epoch seconds for DynamoDB TTL, a day after `expiresAt` as for
    /// tokens; reads ignore expired receipts before TTL gets to them.
    ttl: i64,
}

/// The transaction item that stores `receipt`: only where no live receipt
/// is, so of two writes with one key at most one commits.
pub(crate) fn put_receipt(table: &str, receipt: &Receipt) -> Result<TransactWriteItem, StoreError> {
    let (answer, sealed) = match &receipt.answer {
        Recorded::Plain(answer) => (Some(answer.clone()), None),
        Recorded::Sealed(bytes) => (None, Some(hex::encode(bytes))),
    };
    let item = to_item(
        &keys::receipt(&receipt.scope, &receipt.key),
        &ReceiptItem {
            fingerprint: receipt.fingerprint.to_hex(),
            answer,
            sealed,
            expires_at: receipt.expires_at,
            ttl: ttl(receipt.expires_at),
        },
    )?;
    // An expired receipt that TTL has not removed yet may be replaced.
    let vacant = Condition::new("attribute_not_exists(pk) OR expiresAt < :now")
        .with_s(":now", Timestamp::now().to_string());
    put(table, item, vacant)
}

/// Appends `receipt`'s put to `items`; returns its index.
pub(crate) fn with_receipt(
    table: &str,
    items: &mut Vec<TransactWriteItem>,
    receipt: Option<&Receipt>,
) -> Result<Option<usize>, StoreError> {
    let Some(receipt) = receipt else {
        return Ok(None);
    };
    items.push(put_receipt(table, receipt)?);
    Ok(Some(items.len() - 1))
}

/// Whether a cancelled transaction lost on its receipt to a concurrent
/// request with the same key that has not committed yet (its receipt would
/// have been found otherwise): the caller answers 409 "in flight".
pub(crate) fn receipt_in_flight(failed: &Failed, index: Option<usize>) -> bool {
    index.is_some_and(|i| failed.conflicted(i))
}

impl ReceiptStore for DynamoStore {
    async fn get_receipt(
        &self,
        scope: &ReceiptScope,
        key: &IdempotencyKey,
        now: Timestamp,
    ) -> Result<Option<Receipt>, StoreError> {
        let found =
            get_consistent(&self.client, &self.tokens_table, &keys::receipt(scope, key)).await?;
        let Some(item) = found else {
            return Ok(None);
        };
        let item: ReceiptItem = from_item(item)?;
        if item.expires_at <= now {
            return Ok(None);
        }
        let bad = || StoreError::Internal("a receipt is damaged".into());
        let answer = match (item.answer, item.sealed) {
            (Some(answer), None) => Recorded::Plain(answer),
            (None, Some(sealed)) => Recorded::Sealed(hex::decode(sealed).map_err(|_| bad())?),
            _ => return Err(bad()),
        };
        Ok(Some(Receipt {
            scope: scope.clone(),
            key: *key,
            fingerprint: Fingerprint::from_hex(&item.fingerprint).ok_or_else(bad)?,
            answer,
            expires_at: item.expires_at,
        }))
    }

    async fn delete_receipt(
        &self,
        scope: &ReceiptScope,
        key: &IdempotencyKey,
    ) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.tokens_table)
            .set_key(Some(key_item(&keys::receipt(scope, key))))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}
