//! DynamoDB implementation of the versions store.
//!
//! A version item and its identity item (which names the version holding the
//! identity) change together in one `TransactWriteItems`: `attribute_not_exists`
//! on the identity makes duplicates impossible even under concurrent creates,
//! and every update or delete is conditioned on the revision it read, so two
//! concurrent writers can never both win.

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem};
use serde::Serialize;

use super::version_item::{from_version_item, to_version_item};
use super::{
    DynamoStore, Item, cancellation_reasons, classify, classify_transaction, internal, key_item,
    query_all, to_item,
};
use crate::domain::{ProjectId, VersionId, VersionRecord};
use crate::store::keys::{self, Key};
use crate::store::{StoreError, VersionStore};

/// What the client is told when another version holds the identity.
const IDENTITY_TAKEN: &str = "a version with this appName, appVersion, platform and environment \
                              already exists in this project";
/// What the client is told when a concurrent write changed the version first.
const CHANGED_CONCURRENTLY: &str =
    "the version was changed by a concurrent request; read it again and retry";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IdentityItem<'a> {
    version_id: &'a VersionId,
}

fn identity_key(record: &VersionRecord) -> Key {
    keys::version_identity(
        &record.project,
        &record.app_name,
        record.app_version.as_str(),
        &record.platform,
        &record.environment,
    )
}

impl DynamoStore {
    fn put_fresh(&self, item: Item) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.versions_table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(internal)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// Replaces a version only while it is still at `revision`.
    fn put_over(&self, item: Item, revision: u64) -> Result<TransactWriteItem, StoreError> {
        let put = Put::builder()
            .table_name(&self.versions_table)
            .set_item(Some(item))
            .condition_expression("revision = :revision")
            .expression_attribute_values(":revision", AttributeValue::N(revision.to_string()))
            .build()
            .map_err(internal)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn put_identity(&self, record: &VersionRecord) -> Result<TransactWriteItem, StoreError> {
        let item = to_item(
            &identity_key(record),
            &IdentityItem {
                version_id: &record.id,
            },
        )?;
        self.put_fresh(item)
    }

    /// Deletes the identity item of `record`, only while it still names it.
    fn delete_identity(&self, record: &VersionRecord) -> Result<TransactWriteItem, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.versions_table)
            .set_key(Some(key_item(&identity_key(record))))
            .condition_expression("versionId = :id")
            .expression_attribute_values(":id", AttributeValue::S(record.id.to_string()))
            .build()
            .map_err(internal)?;
        Ok(TransactWriteItem::builder().delete(delete).build())
    }

    async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
        explain: impl Fn(&[String]) -> Option<&'static str>,
    ) -> Result<(), StoreError> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err) => {
                let reasons = cancellation_reasons(&err);
                match classify_transaction(err) {
                    StoreError::Conflict(_) => Err(StoreError::Conflict(
                        explain(&reasons).unwrap_or(CHANGED_CONCURRENTLY).to_owned(),
                    )),
                    other => Err(other),
                }
            }
        }
    }
}

fn failed(reasons: &[String], index: usize) -> bool {
    reasons
        .get(index)
        .is_some_and(|r| r == "ConditionalCheckFailed")
}

impl VersionStore for DynamoStore {
    async fn create_version(&self, record: &VersionRecord) -> Result<(), StoreError> {
        let items = vec![
            self.put_identity(record)?,
            self.put_fresh(to_version_item(record)?)?,
        ];
        // A lost race between concurrent creates of one identity surfaces as
        // either a failed condition or a transaction conflict: both mean the
        // identity is (being) taken.
        self.transact(items, |_| Some(IDENTITY_TAKEN)).await
    }

    async fn get_version(
        &self,
        project: &ProjectId,
        id: &VersionId,
    ) -> Result<Option<VersionRecord>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.versions_table)
            .set_key(Some(key_item(&keys::version(project, id))))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        output.item.map(from_version_item).transpose()
    }

    async fn update_version(
        &self,
        current: &VersionRecord,
        next: &VersionRecord,
    ) -> Result<VersionRecord, StoreError> {
        let stored = VersionRecord {
            id: current.id.clone(),
            project: current.project.clone(),
            created_at: current.created_at,
            revision: current.revision + 1,
            ..next.clone()
        };
        let mut items = vec![self.put_over(to_version_item(&stored)?, current.revision)?];
        if identity_key(current) != identity_key(&stored) {
            items.push(self.delete_identity(current)?);
            items.push(self.put_identity(&stored)?);
        }
        self.transact(items, |reasons| {
            if failed(reasons, 0) || failed(reasons, 1) {
                Some(CHANGED_CONCURRENTLY)
            } else if failed(reasons, 2) {
                Some(IDENTITY_TAKEN)
            } else {
                None
            }
        })
        .await?;
        Ok(stored)
    }

    async fn delete_version(&self, current: &VersionRecord) -> Result<bool, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.versions_table)
            .set_key(Some(key_item(&keys::version(
                &current.project,
                &current.id,
            ))))
            .condition_expression("revision = :revision")
            .expression_attribute_values(
                ":revision",
                AttributeValue::N(current.revision.to_string()),
            )
            .build()
            .map_err(internal)?;
        let items = vec![
            TransactWriteItem::builder().delete(delete).build(),
            self.delete_identity(current)?,
        ];
        match self.transact(items, |_| None).await {
            Ok(()) => Ok(true),
            // Tell "deleted concurrently" (404) from "changed concurrently"
            // (409); this extra read happens only on a lost race.
            Err(StoreError::Conflict(message)) => {
                match self.get_version(&current.project, &current.id).await? {
                    None => Ok(false),
                    Some(_) => Err(StoreError::Conflict(message)),
                }
            }
            Err(err) => Err(err),
        }
    }

    async fn list_versions(&self, project: &ProjectId) -> Result<Vec<VersionRecord>, StoreError> {
        // Sorting and filtering need every record of the project.
        let query = self
            .client
            .query()
            .table_name(&self.versions_table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", AttributeValue::S(keys::project_pk(project)))
            .expression_attribute_values(
                ":prefix",
                AttributeValue::S(keys::VERSION_PREFIX.to_owned()),
            )
            .consistent_read(true);
        query_all(query, from_version_item).await
    }
}

impl DynamoStore {
    /// Writes records and their identity items with `BatchWriteItem`, 25
    /// items a call, without the uniqueness transaction: for seeding
    /// benchmarks and tests with many versions, where the records are known
    /// to be distinct. Never used on a request path.
    #[doc(hidden)]
    pub async fn seed_versions(&self, records: &[VersionRecord]) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};

        let mut requests = Vec::with_capacity(records.len() * 2);
        for record in records {
            for item in [
                to_version_item(record)?,
                to_item(
                    &identity_key(record),
                    &IdentityItem {
                        version_id: &record.id,
                    },
                )?,
            ] {
                let put = PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .map_err(internal)?;
                requests.push(WriteRequest::builder().put_request(put).build());
            }
        }
        for chunk in requests.chunks(25) {
            let mut pending = chunk.to_vec();
            // Unprocessed items (throttling) are retried a bounded number of times.
            for _ in 0..5 {
                let output = self
                    .client
                    .batch_write_item()
                    .request_items(&self.versions_table, pending)
                    .send()
                    .await
                    .map_err(classify)?;
                pending = output
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&self.versions_table))
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
}
