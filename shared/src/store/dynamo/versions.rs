//! DynamoDB implementation of the versions store.
//!
//! A version item and its identity item (which names the version holding the
//! identity) change together in one `TransactWriteItems`: `attribute_not_exists`
//! on the identity makes duplicates impossible even under concurrent creates,
//! and every update or delete is conditioned on the revision it read, so two
//! concurrent writers can never both win.
//!
//! The same transactions keep the version's copy in creation order
//! (`CREATED#…`), the summary on its identity item (what listing filters
//! and sorts on) and the project's version count, so a list page reads the
//! page and not the project. Every create (a restore
//! of a deleted version would be one) adds 1, every delete subtracts 1, and
//! an idempotent replay answers from its receipt without a transaction, so
//! the count is exact; a table restored from a backup restores the count
//! with the versions it counts.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use serde::Deserialize;

use super::receipts::{IN_FLIGHT, receipt_in_flight, with_receipt};
use super::transact::{Condition, Failed, add, check, delete, put, transact};
use super::version_item::{
    from_identity_item, from_version_item, identity_key, listing_key, to_identity_item,
    to_listing_copy, to_version_item,
};
use super::{
    DynamoStore, Item, batch_get_items, batch_put, classify, from_item, get_consistent, internal,
    key_item, prefix_query, query_all,
};
use crate::domain::activity::Provenance;
use crate::domain::{ProjectId, Receipt, VersionId, VersionRecord};
use crate::store::keys;
use crate::store::versions::{NewestPage, VersionSummary, next_revision};
use crate::store::{StoreError, VersionStore};

/// Where a create's transaction checks that its project is live.
const PROJECT_LIVE: usize = 4;
/// A create refused because its project's delete has begun.
const PROJECT_GOING: &str = "the project is being deleted";

/// The count item's attribute.
const COUNT: &str = "versions";
/// Index of the count's `ADD` in a create's or delete's transaction.
const COUNT_AT: usize = 3;
/// Tries of a transaction that lost only a race on the project's count.
const COUNT_TRIES: u32 = 3;

#[derive(Deserialize)]
struct CountItem {
    #[serde(default)]
    versions: i64,
}

/// What the client is told when another version holds the identity.
const IDENTITY_TAKEN: &str = "a version with this appName, appVersion, platform and environment \
                              already exists in this project";
/// What the client is told when a concurrent write changed the version first.
const CHANGED_CONCURRENTLY: &str =
    "the version was changed by a concurrent request; read it again and retry";

/// The identity item must still name `record`.
fn names(record: &VersionRecord) -> Condition {
    Condition::new("versionId = :id").with_s(":id", record.id.to_string())
}

impl DynamoStore {
    /// Puts `record`'s identity item (with its summary) where `condition`
    /// holds: absent for a new identity, naming `record` for a kept one.
    fn put_identity(
        &self,
        record: &VersionRecord,
        condition: Condition,
    ) -> Result<TransactWriteItem, StoreError> {
        put(&self.versions_table, to_identity_item(record)?, condition)
    }

    /// Deletes the identity item of `record`, only while it still names it.
    fn delete_identity(&self, record: &VersionRecord) -> Result<TransactWriteItem, StoreError> {
        delete(
            &self.versions_table,
            &identity_key(record),
            Some(names(record)),
        )
    }
}

impl DynamoStore {
    fn count(&self, project: &ProjectId, delta: i64) -> Result<TransactWriteItem, StoreError> {
        add(
            &self.versions_table,
            &keys::version_count(project),
            COUNT,
            delta,
        )
    }

    /// Runs a create's or delete's transaction. Concurrent writes of one
    /// project meet on its count, and DynamoDB cancels all but one with
    /// `TransactionConflict`: such a transaction wrote nothing, and sent
    /// again it meets the same conditions, so it is retried after a short
    /// random pause (unless its receipt is the one in flight).
    async fn transact_counted(
        &self,
        items: Vec<TransactWriteItem>,
        receipt: Option<usize>,
    ) -> Result<(), Failed> {
        let mut tries = 1;
        loop {
            match transact(&self.client, items.clone()).await {
                Err(failed)
                    if tries < COUNT_TRIES
                        && failed.raced()
                        && failed.conflicted(COUNT_AT)
                        && !receipt_in_flight(&failed, receipt) =>
                {
                    tries += 1;
                    tokio::time::sleep(pause(tries)).await;
                }
                done => return done,
            }
        }
    }

    /// Gives a project's versions written before listing copies and
    /// summaries existed their copies and summaries, and sets its count
    /// (`aau-admin versions backfill`, once after upgrading a deployment).
    /// Idempotent; a version written while it runs may leave the count off
    /// by one, which running it again corrects. Returns the count.
    pub async fn backfill_version_listing(&self, project: &ProjectId) -> Result<u64, StoreError> {
        let records = self.list_versions(project).await?;
        let mut items = Vec::with_capacity(records.len() * 2);
        for record in &records {
            items.push(to_listing_copy(record)?);
            items.push(to_identity_item(record)?);
        }
        batch_put(&self.client, &self.versions_table, items).await?;
        let total = records.len() as u64;
        let mut count = key_item(&keys::version_count(project));
        count.insert(COUNT.to_owned(), AttributeValue::N(total.to_string()));
        self.client
            .put_item()
            .table_name(&self.versions_table)
            .set_item(Some(count))
            .send()
            .await
            .map_err(classify)?;
        Ok(total)
    }

    /// [`backfill_version_listing`](Self::backfill_version_listing) of every
    /// project (a scan for project items). Returns the projects and
    /// versions counted.
    pub async fn backfill_version_listings(&self) -> Result<(u64, u64), StoreError> {
        let (mut projects, mut versions) = (0, 0);
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.versions_table)
                .filter_expression("sk = :project")
                .expression_attribute_values(":project", AttributeValue::S(keys::PROJECT_SK.into()))
                .projection_expression("projectId")
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(classify)?;
            for item in page.items.unwrap_or_default() {
                #[derive(Deserialize)]
                #[serde(rename_all = "camelCase")]
                struct ProjectItem {
                    project_id: ProjectId,
                }
                let project = from_item::<ProjectItem>(item)?.project_id;
                versions += self.backfill_version_listing(&project).await?;
                projects += 1;
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok((projects, versions));
            }
        }
    }
}

/// 10-40 ms, more for later tries: enough for the winner to commit.
fn pause(tries: u32) -> Duration {
    let jitter = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() % 20);
    Duration::from_millis(u64::from(10 * tries + jitter))
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
            self.put_identity(record, Condition::absent())?,
            put(
                &self.versions_table,
                to_version_item(record)?,
                Condition::absent(),
            )?,
            put(
                &self.versions_table,
                to_listing_copy(record)?,
                Condition::absent(),
            )?,
            self.count(&record.project, 1)?,
            // The project is live at commit time: a create racing the first
            // step of the project's delete (which marks it `deleting`, then
            // sweeps its partitions) either lands before the mark, and is
            // swept with the rest, or is refused, never left behind.
            check(
                &self.versions_table,
                &keys::project(&record.project),
                Condition::new("attribute_exists(pk) AND attribute_not_exists(deleting)"),
            )?,
        ];
        self.with_version_record(&mut items, by, None, Some(record))?;
        let at = with_receipt(&self.tokens_table, &mut items, receipt)?;
        // A lost race between concurrent creates of one identity surfaces as
        // either a failed condition or a transaction conflict: both mean the
        // identity is (being) taken.
        self.transact_counted(items, at).await.map_err(|failed| {
            settle(failed, at, |failed| {
                if failed.condition_failed(PROJECT_LIVE) {
                    StoreError::Conflict(PROJECT_GOING.to_owned())
                } else {
                    failed.conflict_as(IDENTITY_TAKEN)
                }
            })
        })
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
            items.push(self.put_identity(&stored, Condition::absent())?);
        } else {
            // Its summary changes (`updatedAt` at least).
            items.push(self.put_identity(&stored, names(current))?);
        }
        // Same key (the creation time stays), new fields.
        items.push(put(
            &self.versions_table,
            to_listing_copy(&stored)?,
            Condition::any(),
        )?);
        self.with_version_record(&mut items, by, Some(current), Some(&stored))?;
        let at = with_receipt(&self.tokens_table, &mut items, receipt)?;
        transact(&self.client, items).await.map_err(|failed| {
            if receipt_in_flight(&failed, at) {
                failed.conflict_as(IN_FLIGHT)
            } else if identity_key(current) != identity_key(&stored)
                && !failed.condition_failed(0)
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
            delete(&self.versions_table, &listing_key(current), None)?,
            self.count(&current.project, -1)?,
        ];
        self.with_version_record(&mut items, by, Some(current), None)?;
        let at = with_receipt(&self.tokens_table, &mut items, receipt)?;
        match self.transact_counted(items, at).await.map_err(|failed| {
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
        let query = prefix_query(
            &self.client,
            &self.versions_table,
            keys::project_pk(project),
            keys::VERSION_PREFIX,
        );
        query_all(query, from_version_item).await
    }

    async fn newest_versions(
        &self,
        project: &ProjectId,
        skip: u64,
        limit: u64,
    ) -> Result<Option<NewestPage>, StoreError> {
        // Backwards from the count, which sorts after every copy: the
        // count, then the newest `skip + limit` copies.
        let count_sk = keys::version_count(project).sk;
        let wanted = skip.saturating_add(limit).saturating_add(1);
        let (mut total, mut read, mut records) = (None, 0u64, Vec::new());
        let mut start = None;
        while read < wanted {
            let page = self
                .listing_query(project)
                .scan_index_forward(false)
                .limit(i32::try_from(wanted - read).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(classify)?;
            for item in page.items.unwrap_or_default() {
                read += 1;
                let is_count = item
                    .get(keys::SK)
                    .and_then(|sk| sk.as_s().ok())
                    .is_some_and(|sk| *sk == count_sk);
                if is_count {
                    total =
                        Some(u64::try_from(from_item::<CountItem>(item)?.versions).unwrap_or(0));
                } else if total.is_none() {
                    // No count: the project predates counts.
                    return Ok(None);
                } else if read > skip.saturating_add(1) {
                    records.push(from_version_item(item)?);
                }
            }
            start = page.last_evaluated_key;
            if start.is_none() || total.is_some_and(|t| skip >= t) {
                break;
            }
        }
        Ok(total.map(|total| NewestPage { records, total }))
    }

    async fn version_summaries(
        &self,
        project: &ProjectId,
    ) -> Result<Option<Vec<VersionSummary>>, StoreError> {
        let query = prefix_query(
            &self.client,
            &self.versions_table,
            keys::project_pk(project),
            keys::VERSION_IDENTITY_PREFIX,
        );
        let summaries = query_all(query, from_identity_item).await?;
        Ok(summaries.into_iter().collect())
    }

    async fn get_versions(
        &self,
        project: &ProjectId,
        ids: &[VersionId],
    ) -> Result<Vec<VersionRecord>, StoreError> {
        let keys: Vec<Item> = ids
            .iter()
            .map(|id| key_item(&keys::version(project, id)))
            .collect();
        let mut by_id = HashMap::with_capacity(ids.len());
        for item in batch_get_items(&self.client, &self.versions_table, &keys, None).await? {
            let record = from_version_item(item)?;
            by_id.insert(record.id.clone(), record);
        }
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }
}

impl DynamoStore {
    /// The project's copies in creation order and its count, strongly
    /// consistent, oldest first.
    fn listing_query(
        &self,
        project: &ProjectId,
    ) -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.versions_table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", AttributeValue::S(keys::listing_pk(project)))
            .expression_attribute_values(
                ":prefix",
                AttributeValue::S(keys::VERSION_LISTING_PREFIX.to_owned()),
            )
            .consistent_read(true)
    }
}

#[cfg(feature = "test-util")]
impl DynamoStore {
    /// Writes records of one project with their identity items and listing
    /// copies with `BatchWriteItem`, 25 items a call, without the
    /// uniqueness transaction, then adds them to the project's count: for
    /// seeding benchmarks and tests with many versions, where the records
    /// are known to be distinct.
    pub async fn seed_versions(&self, records: &[VersionRecord]) -> Result<(), StoreError> {
        let mut items = Vec::with_capacity(records.len() * 3);
        for record in records {
            items.push(to_version_item(record)?);
            items.push(to_listing_copy(record)?);
            items.push(to_identity_item(record)?);
        }
        batch_put(&self.client, &self.versions_table, items).await?;
        let Some(first) = records.first() else {
            return Ok(());
        };
        // One project's records, counted at once.
        let counted = i64::try_from(records.len()).map_err(internal)?;
        self.client
            .update_item()
            .table_name(&self.versions_table)
            .set_key(Some(key_item(&keys::version_count(&first.project))))
            .update_expression("ADD #n :delta")
            .expression_attribute_names("#n", COUNT)
            .expression_attribute_values(":delta", AttributeValue::N(counted.to_string()))
            .send()
            .await
            .map_err(classify)?;
        Ok(())
    }
}
