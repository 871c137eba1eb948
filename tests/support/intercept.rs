//! SDK interceptors the record's tests share: a store whose client carries
//! one (and makes one attempt per call, since a retry would hide a fault),
//! a transaction that never reaches DynamoDB, and a count of the items
//! transactions carry.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use app_upgrade::store::DynamoStore;
use aws_sdk_dynamodb::config::interceptors::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextMut,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsInput;

/// A store on the same tables whose client carries `interceptor`, with one
/// attempt per call.
pub fn with_interceptor(store: &DynamoStore, interceptor: impl Intercept + 'static) -> DynamoStore {
    let config = store
        .client()
        .config()
        .to_builder()
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
        .interceptor(interceptor)
        .build();
    let tables = app_upgrade::Config {
        versions_table: store.versions_table().to_owned(),
        tokens_table: store.tokens_table().to_owned(),
    };
    DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(config), &tables)
}

/// Every `TransactWriteItems` fails before it is sent: DynamoDB never sees
/// it.
#[derive(Debug)]
pub struct NeverSent;

impl Intercept for NeverSent {
    fn name(&self) -> &'static str {
        "NeverSent"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let transaction = context
            .request()
            .headers()
            .get("x-amz-target")
            .is_some_and(|t| t.ends_with(".TransactWriteItems"));
        if transaction {
            return Err("the connection was refused".into());
        }
        Ok(())
    }
}

/// Counts the items the `TransactWriteItems` calls carry.
#[derive(Debug, Clone, Default)]
pub struct TransactItems(pub Arc<AtomicUsize>);

impl Intercept for TransactItems {
    fn name(&self) -> &'static str {
        "TransactItems"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(input) = context.input().downcast_ref::<TransactWriteItemsInput>() {
            self.0
                .fetch_add(input.transact_items().len(), Ordering::SeqCst);
        }
        Ok(())
    }
}
