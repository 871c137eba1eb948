//! DynamoDB implementation of the check store.

use aws_sdk_dynamodb::types::AttributeValue;

use super::version_item::from_version_item;
use super::{DynamoStore, query_all};
use crate::domain::{Environment, Platform, ProjectId, VersionRecord};
use crate::store::check::CheckStore;
use crate::store::{StoreError, keys, tables};

impl CheckStore for DynamoStore {
    async fn candidates(
        &self,
        project: &ProjectId,
        app_name: &str,
        platform: &Platform,
        environment: &Environment,
    ) -> Result<Vec<VersionRecord>, StoreError> {
        let check_key = keys::check_key(project, app_name, platform, environment);
        // One partition rarely exceeds a page (1 MB); read it whole anyway
        // rather than silently cut it.
        let query = self
            .client
            .query()
            .table_name(&self.versions_table)
            .index_name(tables::CHECK_INDEX.name)
            .key_condition_expression("#ck = :ck")
            .expression_attribute_names("#ck", keys::CHECK_KEY)
            .expression_attribute_values(":ck", AttributeValue::S(check_key));
        query_all(query, from_version_item).await
    }
}

#[cfg(feature = "test-util")]
impl DynamoStore {
    /// Writes a version's item as the versions store would, without its
    /// identity item: lets the check's tests seed versions without depending
    /// on the versions function.
    pub async fn put_version_for_tests(&self, record: &VersionRecord) -> Result<(), StoreError> {
        use super::classify;
        use super::version_item::to_version_item;

        self.client
            .put_item()
            .table_name(&self.versions_table)
            .set_item(Some(to_version_item(record)?))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}
