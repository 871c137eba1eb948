//! Items: a record's serialized form with its key, and single-item reads.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use super::errors::{classify, internal};
use crate::domain::Timestamp;
use crate::store::StoreError;
use crate::store::keys::{self, Key};

pub(crate) type Item = HashMap<String, AttributeValue>;

/// The key attributes of an item.
pub(crate) fn key_item(key: &Key) -> Item {
    HashMap::from([
        (keys::PK.to_owned(), AttributeValue::S(key.pk.clone())),
        (keys::SK.to_owned(), AttributeValue::S(key.sk.clone())),
    ])
}

/// Serializes a record and adds its key.
pub(crate) fn to_item<T: serde::Serialize>(key: &Key, record: &T) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(record).map_err(internal)?;
    item.extend(key_item(key));
    Ok(item)
}

pub(crate) fn from_item<T: serde::de::DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(internal)
}

/// The item at `key`, strongly consistent: what every single-item read
/// here needs (a credential, a receipt, a version, a project).
pub(crate) async fn get_consistent(
    client: &Client,
    table: &str,
    key: &Key,
) -> Result<Option<Item>, StoreError> {
    let output = client
        .get_item()
        .table_name(table)
        .set_key(Some(key_item(key)))
        .consistent_read(true)
        .send()
        .await
        .map_err(classify)?;
    Ok(output.item)
}

/// DynamoDB TTL deletes a day after expiry; expiry itself is enforced on
/// every request, TTL only keeps the table tidy.
pub(crate) fn ttl(expires_at: Timestamp) -> i64 {
    expires_at.unix_seconds() + 86_400
}
