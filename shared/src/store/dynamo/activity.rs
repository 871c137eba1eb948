//! Events and revisions in the versions table.
//!
//! A write's event and revision ride in the write's own
//! `TransactWriteItems`, the way an idempotency receipt does
//! ([`DynamoStore::with_version_record`]): both or neither. Both live in
//! the project's partition, so deleting a project deletes them. Each is one
//! item holding its JSON (a version's free-form maps nest deeper than is
//! worth mapping attribute by attribute) and a `ttl`.

use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use serde::{Deserialize, Serialize};

use super::transact::{Condition, put};
use super::{
    DynamoStore, Item, batch_put, classify, from_item, internal, key_item, query_all, to_item,
};
use std::collections::BTreeMap;

use crate::domain::activity::{
    Action, Change, Cursor, Event, EventPage, Provenance, Revision, Target,
};
use crate::domain::{EventId, ProjectId, Timestamp, VersionId, VersionRecord};
use crate::store::StoreError;
use crate::store::activity::{ActivityStore, Feed, MAX_PAGE};
use crate::store::keys;

#[derive(Serialize, Deserialize)]
struct EventItem {
    event: String,
    /// Epoch seconds for DynamoDB TTL.
    ttl: i64,
}

#[derive(Serialize, Deserialize)]
struct RevisionItem {
    revision: String,
    ttl: i64,
}

fn json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(internal)
}

fn parse_event(item: Item) -> Result<Event, StoreError> {
    let item: EventItem = from_item(item)?;
    serde_json::from_str(&item.event).map_err(internal)
}

fn parse_revision(item: Item) -> Result<Revision, StoreError> {
    let item: RevisionItem = from_item(item)?;
    let mut revision: Revision = serde_json::from_str(&item.revision).map_err(internal)?;
    // The record's own counter is not part of its JSON.
    revision.version.revision = match revision.deleted {
        true => revision.revision.saturating_sub(1),
        false => revision.revision,
    };
    Ok(revision)
}

impl DynamoStore {
    /// The table and partition of `feed`'s events.
    fn feed_at(&self, feed: &Feed) -> (&str, String) {
        match feed {
            Feed::Project(project) => (&self.versions_table, keys::project_activity_pk(project)),
            Feed::Team(team) => (&self.versions_table, keys::team_activity_pk(team)),
            Feed::Account(owner) => (&self.tokens_table, keys::account_activity_pk(owner)),
        }
    }

    fn expires(&self, at: Timestamp) -> i64 {
        at.plus_days(i64::from(self.retention_days)).unix_seconds()
    }

    /// Appends to `items` the put of `event` into `feed`, a new item that
    /// expires after the retention period: the one way every write records
    /// itself, in its own transaction.
    pub(crate) fn with_event(
        &self,
        items: &mut Vec<TransactWriteItem>,
        feed: &Feed,
        event: &Event,
    ) -> Result<(), StoreError> {
        let (table, pk) = self.feed_at(feed);
        items.push(put(
            table,
            to_item(
                &keys::event(&pk, &event.id),
                &EventItem {
                    event: json(event)?,
                    ttl: self.expires(event.at),
                },
            )?,
            Condition::absent(),
        )?);
        Ok(())
    }

    /// [`Self::with_event`] of the event `by` makes `action` on `target`
    /// (nothing without `by`: the operator CLI, seeding, store tests).
    pub(crate) fn with_recorded(
        &self,
        items: &mut Vec<TransactWriteItem>,
        feed: &Feed,
        by: Option<&Provenance>,
        action: Action,
        target: Target,
        changes: BTreeMap<String, Change>,
    ) -> Result<(), StoreError> {
        match by {
            Some(by) => self.with_event(items, feed, &by.event(action, target, changes)),
            None => Ok(()),
        }
    }

    /// Appends to `items` the event and the revision of a version write
    /// from `before` to `after` made `by` someone (nothing without `by`:
    /// seeding and store-level tests).
    pub(crate) fn with_version_record(
        &self,
        items: &mut Vec<TransactWriteItem>,
        by: Option<&Provenance>,
        before: Option<&VersionRecord>,
        after: Option<&VersionRecord>,
    ) -> Result<(), StoreError> {
        let Some(by) = by else {
            return Ok(());
        };
        let Some(event) = by.version_event(before, after) else {
            return Ok(());
        };
        let Some(revision) = Revision::of(&event, before, after) else {
            return Ok(());
        };
        let ttl = self.expires(by.at);
        let project = &revision.version.project;
        self.with_event(items, &Feed::Project(project.clone()), &event)?;
        // Absent: two writers can never both claim one revision.
        let revision_key = keys::revision(project, &revision.version.id, revision.revision);
        items.push(put(
            &self.versions_table,
            to_item(
                &revision_key,
                &RevisionItem {
                    revision: json(&revision)?,
                    ttl,
                },
            )?,
            Condition::absent(),
        )?);
        Ok(())
    }
}

impl ActivityStore for DynamoStore {
    async fn activity(
        &self,
        feed: &Feed,
        after: Option<&Cursor>,
        limit: u16,
    ) -> Result<EventPage, StoreError> {
        let (table, pk) = self.feed_at(feed);
        let start = after.map(|cursor| key_item(&keys::event(&pk, &cursor.0)));
        let output = self
            .client
            .query()
            .table_name(table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", AttributeValue::S(pk.clone()))
            .expression_attribute_values(
                ":prefix",
                AttributeValue::S(keys::EVENT_PREFIX.to_owned()),
            )
            .scan_index_forward(false)
            .limit(i32::from(limit.clamp(1, MAX_PAGE)))
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(classify)?;
        let events = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(parse_event)
            .collect::<Result<Vec<_>, _>>()?;
        // DynamoDB may name a last key even when nothing follows; the next
        // page is then empty. The cursor is the last event's id either way.
        let next = output
            .last_evaluated_key
            .and_then(|key| key.get(keys::SK)?.as_s().ok().cloned())
            .and_then(|sk| {
                EventId::parse(sk.strip_prefix(keys::EVENT_PREFIX)?)
                    .ok()
                    .map(Cursor)
            });
        Ok(EventPage { events, next })
    }

    async fn history(
        &self,
        project: &ProjectId,
        version: &VersionId,
    ) -> Result<Vec<Revision>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.versions_table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", AttributeValue::S(keys::project_pk(project)))
            .expression_attribute_values(
                ":prefix",
                AttributeValue::S(keys::revision_prefix(version)),
            )
            .consistent_read(true);
        query_all(query, parse_revision).await
    }
}

#[cfg(feature = "test-util")]
impl DynamoStore {
    /// Writes events of a project's feed with `BatchWriteItem`, 25 a call,
    /// without the writes they would record: for tests of paging over long
    /// histories.
    pub async fn seed_events(
        &self,
        project: &ProjectId,
        events: &[Event],
    ) -> Result<(), StoreError> {
        self.seed_feed(&Feed::Project(project.clone()), events)
            .await
    }

    /// [`Self::seed_events`] into any feed.
    pub async fn seed_feed(&self, feed: &Feed, events: &[Event]) -> Result<(), StoreError> {
        let (table, pk) = self.feed_at(feed);
        let items = events
            .iter()
            .map(|event| {
                to_item(
                    &keys::event(&pk, &event.id),
                    &EventItem {
                        event: json(event)?,
                        ttl: self.expires(event.at),
                    },
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        batch_put(&self.client, table, items).await?;
        Ok(())
    }
}
