//! `TransactWriteItems`, the one way: conditional puts, updates and deletes as
//! transaction items, and a cancelled transaction's reasons matched by code.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem, Update,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use super::{Item, classify, internal, is_code, key_item};
use crate::store::StoreError;
use crate::store::keys::Key;

/// A condition expression and its `:values`.
#[derive(Debug, Clone)]
pub(crate) struct Condition {
    expression: &'static str,
    values: Vec<(&'static str, AttributeValue)>,
    /// `#name` placeholders, for attributes whose names DynamoDB reserves
    /// (`name`, `role`).
    names: Vec<(&'static str, &'static str)>,
}

impl Condition {
    pub(crate) fn new(expression: &'static str) -> Self {
        Self {
            expression,
            values: Vec::new(),
            names: Vec::new(),
        }
    }

    /// The item must not exist yet.
    pub(crate) fn absent() -> Self {
        Self::new("attribute_not_exists(pk)")
    }

    /// No condition: the put overwrites whatever is there.
    pub(crate) fn any() -> Self {
        Self::new("attribute_exists(pk) OR attribute_not_exists(pk)")
    }

    /// The item must exist.
    pub(crate) fn present() -> Self {
        Self::new("attribute_exists(pk)")
    }

    pub(crate) fn with(mut self, name: &'static str, value: AttributeValue) -> Self {
        self.values.push((name, value));
        self
    }

    pub(crate) fn with_s(self, name: &'static str, value: impl Into<String>) -> Self {
        self.with(name, AttributeValue::S(value.into()))
    }

    /// `placeholder` (`#role`) stands for the attribute `name` (`role`).
    pub(crate) fn named(mut self, placeholder: &'static str, name: &'static str) -> Self {
        self.names.push((placeholder, name));
        self
    }
}

/// A put of `item` into `table`, applied only if `condition` holds.
pub(crate) fn put(
    table: &str,
    item: Item,
    condition: Condition,
) -> Result<TransactWriteItem, StoreError> {
    let mut put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(condition.expression);
    for (name, value) in condition.values {
        put = put.expression_attribute_values(name, value);
    }
    for (placeholder, name) in condition.names {
        put = put.expression_attribute_names(placeholder, name);
    }
    Ok(TransactWriteItem::builder()
        .put(put.build().map_err(internal)?)
        .build())
}

/// A delete of `key` from `table`, unconditional when `condition` is `None`.
pub(crate) fn delete(
    table: &str,
    key: &Key,
    condition: Option<Condition>,
) -> Result<TransactWriteItem, StoreError> {
    let mut delete = Delete::builder()
        .table_name(table)
        .set_key(Some(key_item(key)));
    if let Some(condition) = condition {
        delete = delete.condition_expression(condition.expression);
        for (name, value) in condition.values {
            delete = delete.expression_attribute_values(name, value);
        }
        for (placeholder, name) in condition.names {
            delete = delete.expression_attribute_names(placeholder, name);
        }
    }
    Ok(TransactWriteItem::builder()
        .delete(delete.build().map_err(internal)?)
        .build())
}

/// Adds `delta` to the number `attribute` of the item at `key` (an absent
/// item or attribute counts from 0).
pub(crate) fn add(
    table: &str,
    key: &Key,
    attribute: &'static str,
    delta: i64,
) -> Result<TransactWriteItem, StoreError> {
    update(
        table,
        key,
        "ADD #n :delta",
        Condition::any()
            .with(":delta", AttributeValue::N(delta.to_string()))
            .named("#n", attribute),
    )
}

/// An `UpdateItem` of `key` in `table`: `set` (an update expression whose
/// `:values` are `condition`'s too), applied only if `condition` holds.
pub(crate) fn update(
    table: &str,
    key: &Key,
    set: &'static str,
    condition: Condition,
) -> Result<TransactWriteItem, StoreError> {
    let mut update = Update::builder()
        .table_name(table)
        .set_key(Some(key_item(key)))
        .update_expression(set)
        .condition_expression(condition.expression);
    for (name, value) in condition.values {
        update = update.expression_attribute_values(name, value);
    }
    for (placeholder, name) in condition.names {
        update = update.expression_attribute_names(placeholder, name);
    }
    Ok(TransactWriteItem::builder()
        .update(update.build().map_err(internal)?)
        .build())
}

/// A condition on `key` that writes nothing: the transaction commits only
/// if it holds at that moment.
pub(crate) fn check(
    table: &str,
    key: &Key,
    condition: Condition,
) -> Result<TransactWriteItem, StoreError> {
    let mut check = ConditionCheck::builder()
        .table_name(table)
        .set_key(Some(key_item(key)))
        .condition_expression(condition.expression);
    for (name, value) in condition.values {
        check = check.expression_attribute_values(name, value);
    }
    for (placeholder, name) in condition.names {
        check = check.expression_attribute_names(placeholder, name);
    }
    Ok(TransactWriteItem::builder()
        .condition_check(check.build().map_err(internal)?)
        .build())
}

/// Why one item of a cancelled transaction failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    /// This item did not fail.
    None,
    /// Its condition did not hold.
    ConditionFailed,
    /// Another transaction was changing it at the same time.
    Conflict,
    /// Throttled.
    Throttled,
    Other,
}

impl Reason {
    fn from_code(code: Option<&str>) -> Self {
        match code {
            None | Some("None") => Self::None,
            Some("ConditionalCheckFailed") => Self::ConditionFailed,
            Some("TransactionConflict") => Self::Conflict,
            Some("ThrottlingError" | "ProvisionedThroughputExceeded") => Self::Throttled,
            Some(_) => Self::Other,
        }
    }
}

/// A failed `TransactWriteItems`, with one [`Reason`] per item when it was
/// a cancellation (none otherwise).
#[derive(Debug)]
pub(crate) struct Failed {
    err: SdkError<TransactWriteItemsError, HttpResponse>,
    reasons: Vec<Reason>,
}

impl Failed {
    /// Whether item `index`'s condition did not hold.
    pub(crate) fn condition_failed(&self, index: usize) -> bool {
        self.reasons.get(index) == Some(&Reason::ConditionFailed)
    }

    /// Whether item `index` lost to another transaction changing it.
    pub(crate) fn conflicted(&self, index: usize) -> bool {
        self.reasons.get(index) == Some(&Reason::Conflict)
    }

    /// Whether item `index`'s condition, and nothing else, failed.
    pub(crate) fn only_condition_failed(&self, index: usize) -> bool {
        self.condition_failed(index)
            && self
                .reasons
                .iter()
                .enumerate()
                .all(|(i, r)| i == index || *r == Reason::None)
    }

    /// Whether it lost a race with another transaction on the same items
    /// (no condition failed): trying again may succeed.
    pub(crate) fn raced(&self) -> bool {
        self.reasons.contains(&Reason::Conflict) && !self.reasons.contains(&Reason::ConditionFailed)
    }

    /// A lost condition or a race with another transaction on the same
    /// items is a conflict; throttling is an outage.
    pub(crate) fn into_store_error(self) -> StoreError {
        let has = |reason| self.reasons.contains(&reason);
        if has(Reason::ConditionFailed) || has(Reason::Conflict) {
            StoreError::Conflict("a conditional write failed".into())
        } else if has(Reason::Throttled) || is_code(&self.err, "TransactionInProgressException") {
            StoreError::Unavailable(DisplayErrorContext(&self.err).to_string())
        } else {
            classify(self.err)
        }
    }

    /// [`Self::into_store_error`], with `message` for a conflict.
    pub(crate) fn conflict_as(self, message: &str) -> StoreError {
        match self.into_store_error() {
            StoreError::Conflict(_) => StoreError::Conflict(message.to_owned()),
            other => other,
        }
    }
}

impl From<Failed> for StoreError {
    fn from(failed: Failed) -> Self {
        failed.into_store_error()
    }
}

/// Runs `items` as one transaction: all or nothing.
pub(crate) async fn transact(client: &Client, items: Vec<TransactWriteItem>) -> Result<(), Failed> {
    match client
        .transact_write_items()
        .set_transact_items(Some(items))
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(err) => {
            let reasons = match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(e)) => e
                    .cancellation_reasons()
                    .iter()
                    .map(|r| Reason::from_code(r.code()))
                    .collect(),
                _ => Vec::new(),
            };
            Err(Failed { err, reasons })
        }
    }
}
