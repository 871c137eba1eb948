//! DynamoDB implementation of the check store.

use aws_sdk_dynamodb::types::AttributeValue;

use super::version_item::from_version_item;
use super::{DynamoStore, query_all};
use crate::domain::{ProjectId, VersionRecord};
use crate::store::check::CheckStore;
use crate::store::{StoreError, keys};

impl CheckStore for DynamoStore {
    async fn active_versions(&self, project: &ProjectId) -> Result<Vec<VersionRecord>, StoreError> {
        // The partition also holds the project item and the versions'
        // identity items: the sort key prefix leaves them out. Inactive
        // versions are read (a filter does not save capacity) but not sent.
        // Eventually consistent: half the cost, and a write shows up within
        // a moment, well inside the check cache's TTL.
        let query = self
            .client
            .query()
            .table_name(&self.versions_table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :version)")
            .filter_expression("#active = :true")
            .expression_attribute_names("#pk", keys::PK)
            .expression_attribute_names("#sk", keys::SK)
            .expression_attribute_names("#active", "active")
            .expression_attribute_values(":pk", AttributeValue::S(keys::project_pk(project)))
            .expression_attribute_values(
                ":version",
                AttributeValue::S(keys::VERSION_PREFIX.to_owned()),
            )
            .expression_attribute_values(":true", AttributeValue::Bool(true));
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
