//! Many items at once: a `Query` to its last page, `BatchGetItem` of any
//! number of keys, and `BatchWriteItem` puts.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, PutRequest, WriteRequest};

use super::errors::{classify, internal};
use super::item::Item;
use crate::store::StoreError;

/// A strongly consistent `Query` of partition `pk`'s items whose sort key
/// starts with `prefix` (a list kept beside its owner: a team's members, a
/// user's teams, a project's keys), for [`query_all`].
pub(crate) fn prefix_query(
    client: &Client,
    table: &str,
    pk: String,
    prefix: &str,
) -> QueryFluentBuilder {
    client
        .query()
        .table_name(table)
        .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
        .expression_attribute_values(":pk", AttributeValue::S(pk))
        .expression_attribute_values(":prefix", AttributeValue::S(prefix.to_owned()))
        .consistent_read(true)
}

/// Runs `query` to its last page and parses every item with `parse`. A page
/// holds at most 1 MB; callers that need the whole result (sorting, the
/// check's candidates, an account's tokens) must not stop at the first.
pub(crate) async fn query_all<T>(
    query: QueryFluentBuilder,
    parse: impl Fn(Item) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut results = Vec::new();
    let mut start = None;
    loop {
        let page = query
            .clone()
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(classify)?;
        let items = page.items.unwrap_or_default();
        results.reserve(items.len());
        for item in items {
            results.push(parse(item)?);
        }
        start = page.last_evaluated_key;
        if start.is_none() {
            return Ok(results);
        }
    }
}

/// `BatchGetItem` takes at most 100 keys per call.
const BATCH_GET_LIMIT: usize = 100;
/// Calls per chunk before keys DynamoDB keeps returning unprocessed
/// (throttling) make the store unavailable.
const BATCH_GET_ROUNDS: u32 = 5;
/// Wait before re-sending unprocessed keys, doubled each round: they mean
/// throttling, and resending at once would meet the same limit.
const BATCH_GET_BACKOFF: Duration = Duration::from_millis(25);

/// Strongly consistent `BatchGetItem` of `keys` in `table` (any number,
/// 100 a call), reading `projection`; unprocessed keys are re-sent with
/// backoff. Items come back in no particular order; missing ones are absent.
pub(crate) async fn batch_get(
    client: &Client,
    table: &str,
    keys: &[Item],
    projection: &str,
) -> Result<Vec<Item>, StoreError> {
    batch_get_items(client, table, keys, Some(projection)).await
}

/// [`batch_get`], reading whole items when `projection` is `None`.
pub(crate) async fn batch_get_items(
    client: &Client,
    table: &str,
    keys: &[Item],
    projection: Option<&str>,
) -> Result<Vec<Item>, StoreError> {
    let mut found = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(BATCH_GET_LIMIT) {
        let mut pending = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(chunk.to_vec()))
                .consistent_read(true)
                .set_projection_expression(projection.map(str::to_owned))
                .build()
                .map_err(internal)?,
        );
        let mut round = 0;
        while let Some(request) = pending.take() {
            if round == BATCH_GET_ROUNDS {
                return Err(StoreError::Unavailable(
                    "BatchGetItem kept returning unprocessed keys".into(),
                ));
            }
            if round > 0 {
                tokio::time::sleep(BATCH_GET_BACKOFF * 2u32.pow(round - 1)).await;
            }
            round += 1;
            let output = client
                .batch_get_item()
                .request_items(table, request)
                .send()
                .await
                .map_err(classify)?;
            found.extend(
                output
                    .responses
                    .and_then(|mut r| r.remove(table))
                    .unwrap_or_default(),
            );
            pending = output
                .unprocessed_keys
                .and_then(|mut u| u.remove(table))
                .filter(|k| !k.keys.is_empty());
        }
    }
    Ok(found)
}

/// Writes `items` with `BatchWriteItem`, 25 a call, unprocessed ones
/// (throttling) re-sent a bounded number of times.
pub(crate) async fn batch_put(
    client: &Client,
    table: &str,
    items: Vec<Item>,
) -> Result<(), StoreError> {
    let mut requests = Vec::with_capacity(items.len());
    for item in items {
        let put = PutRequest::builder()
            .set_item(Some(item))
            .build()
            .map_err(internal)?;
        requests.push(WriteRequest::builder().put_request(put).build());
    }
    for chunk in requests.chunks(25) {
        let mut pending = chunk.to_vec();
        for round in 0..5 {
            if round > 0 {
                tokio::time::sleep(Duration::from_millis(25 << round)).await;
            }
            let output = client
                .batch_write_item()
                .request_items(table, pending)
                .send()
                .await
                .map_err(classify)?;
            pending = output
                .unprocessed_items
                .and_then(|mut u| u.remove(table))
                .unwrap_or_default();
            if pending.is_empty() {
                break;
            }
        }
        if !pending.is_empty() {
            return Err(StoreError::Unavailable(
                "BatchWriteItem left items unprocessed".into(),
            ));
        }
    }
    Ok(())
}
