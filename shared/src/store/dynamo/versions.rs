//! DynamoDB implementation of the versions store.
//!
//! A version item and its identity item (which names the version holding the
//! identity) change together in one `TransactWriteItems`: `attribute_not_exists`
//! on the identity makes duplicates impossible even under concurrent creates,
//! and every update or delete is conditioned on the revision it read, so two
//! concurrent writers can never both win.

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use serde::Serialize;

use super::receipts::{IN_FLIGHT, receipt_in_flight, with_receipt};
use super::transact::{Condition, Failed, delete, put, transact};
use super::version_item::{from_version_item, to_version_item};
use super::{DynamoStore, classify, get_consistent, query_all, to_item};
use crate::domain::activity::Provenance;
use crate::domain::{ProjectId, Receipt, VersionId, VersionRecord};
use crate::store::keys::{self, Key};
use crate::store::versions::next_revision;
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
    fn put_identity(&self, record: &VersionRecord) -> Result<TransactWriteItem, StoreError> {
        let item = to_item(
            &identity_key(record),
            &IdentityItem {
                version_id: &record.id,
            },
        )?;
        put(&self.versions_table, item, Condition::absent())
    }

    /// Deletes the identity item of `record`, only while it still names it.
    fn delete_identity(&self, record: &VersionRecord) -> Result<TransactWriteItem, StoreError> {
        let names_it = Condition::new("versionId = :id").with_s(":id", record.id.to_string());
        delete(&self.versions_table, &identity_key(record), Some(names_it))
    }
}

/// The version item must still be at the `revision` that was read.
fn at_revision(revision: u64) -> Condition {
    Condition::new("revision = :revision")
        .with(":revision", AttributeValue::N(revision.to_string()))
}

/// A lost receipt race is "in flight"; anything else is `otherwise`'s.
fn settle(
    failed: Failed,
    receipt: Option<usize>,
    otherwise: impl FnOnce(Failed) -> StoreError,
) -> StoreError {
    if receipt_in_flight(&failed, receipt) {
        failed.conflict_as(IN_FLIGHT)
    } else {
        otherwise(failed)
    }
}

impl VersionStore for DynamoStore {
    async fn create_version(
        &self,
        record: &VersionRecord,
        receipt: Option<&Receipt>,
        by: Option<&Provenance>,
    ) -> Result<(), StoreError> {
        let mut items = vec![
            self.put_identity(record)?,
            put(
                &self.versions_table,
                to_version_item(record)?,
                Condition::absent(),
            )?,
        ];
        self.with_version_record(&mut items, by, None, Some(record))?;
        let at = with_receipt(&self.tokens_table, &mut items, receipt)?;
        // A lost race between concurrent creates of one identity surfaces as
        // either a failed condition or a transaction conflict: both mean the
        // identity is (being) taken.
        transact(&self.client, items)
            .await
            .map_err(|failed| settle(failed, at, |failed| failed.conflict_as(IDENTITY_TAKEN)))
    }

    async fn get_version(
        &self,
        project: &ProjectId,
        id: &VersionId,
    ) -> Result<Option<VersionRecord>, StoreError> {
        get_consistent(
            &self.client,
            &self.versions_table,
            &keys::version(project, id),
        )
        .await?
        .map(from_version_item)
        .transpose()
    }

    async fn update_version(
        &self,
        current: &VersionRecord,
        next: &VersionRecord,
        receipt: Option<&Receipt>,
        by: Option<&Provenance>,
    ) -> Result<VersionRecord, StoreError> {
        let stored = next_revision(current, next);
        let mut items = vec![put(
            &self.versions_table,
            to_version_item(&stored)?,
            at_revision(current.revision),
        )?];
        if identity_key(current) != identity_key(&stored) {
            items.push(self.delete_identity(current)?);
            items.push(self.put_identity(&stored)?);
        }
        self.with_version_record(&mut items, by, Some(current), Some(&stored))?;
        let at = with_receipt(&self.tokens_table, &mut items, receipt)?;
        transact(&self.client, items).await.map_err(|failed| {
            if receipt_in_flight(&failed, at) {
                failed.conflict_as(IN_FLIGHT)
            } else if !failed.condition_failed(0)
                && !failed.condition_failed(1)
                && failed.condition_failed(2)
            {
                failed.conflict_as(IDENTITY_TAKEN)
            } else {
                failed.conflict_as(CHANGED_CONCURRENTLY)
            }
        })?;
        Ok(stored)
    }

    async fn delete_version(
        &self,
        current: &VersionRecord,
        receipt: Option<&Receipt>,
        by: Option<&Provenance>,
    ) -> Result<bool, StoreError> {
        let mut items = vec![
            delete(
                &self.versions_table,
                &keys::version(&current.project, &current.id),
                Some(at_revision(current.revision)),
            )?,
            self.delete_identity(current)?,
        ];
        self.with_version_record(&mut items, by, Some(current), None)?;
        let at = with_receipt(&self.tokens_table, &mut items, receipt)?;
        match transact(&self.client, items).await.map_err(|failed| {
            settle(failed, at, |failed| {
                failed.conflict_as(CHANGED_CONCURRENTLY)
            })
        }) {
            Ok(()) => Ok(true),
            // Tell "deleted concurrently" (404) from "changed concurrently"
            // (409); this extra read happens only on a lost race.
            Err(StoreError::Conflict(message)) if message != IN_FLIGHT => {
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

#[cfg(feature = "test-util")]
impl DynamoStore {
    /// Writes records and their identity items with `BatchWriteItem`, 25
    /// items a call, without the uniqueness transaction: for seeding
    /// benchmarks and tests with many versions, where the records are known
    /// to be distinct.
    pub async fn seed_versions(&self, records: &[VersionRecord]) -> Result<(), StoreError> {
        use super::internal;
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
