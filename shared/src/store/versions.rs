//! Versions persistence: the trait the `versions` function needs.

use std::future::Future;

use super::StoreError;
use crate::domain::activity::Provenance;
use crate::domain::record::AppVersion;
use crate::domain::{
    AppName, Environment, Platform, ProjectId, Receipt, Timestamp, VersionId, VersionRecord,
};

/// What listing filters and sorts on, of one version: read for every
/// version of a project when a filter or sort needs them all, at a fraction
/// of the records' size (stored on the version's identity item).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionSummary {
    pub id: VersionId,
    pub app_name: AppName,
    pub app_version: AppVersion,
    pub platform: Platform,
    pub environment: Environment,
    pub force_upgrade: bool,
    pub active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&VersionRecord> for VersionSummary {
    fn from(r: &VersionRecord) -> Self {
        Self {
            id: r.id.clone(),
            app_name: r.app_name.clone(),
            app_version: r.app_version.clone(),
            platform: r.platform.clone(),
            environment: r.environment.clone(),
            force_upgrade: r.force_upgrade,
            active: r.active,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// One page of a project's versions and how many the project holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewestPage {
    pub records: Vec<VersionRecord>,
    pub total: u64,
}

/// What [`VersionStore::update_version`] stores for `next` over `current`:
/// identity, project and creation kept, the revision advanced. Public so a
/// handler can build the answer (and its receipt) before the write.
pub fn next_revision(current: &VersionRecord, next: &VersionRecord) -> VersionRecord {
    VersionRecord {
        id: current.id.clone(),
        project: current.project.clone(),
        created_at: current.created_at,
        revision: current.revision + 1,
        ..next.clone()
    }
}

/// A project's version records, each written together with its identity item
/// so that (project, appName, appVersion, platform, environment) stays unique.
///
/// Each write takes an optional idempotency [`Receipt`], stored in the same
/// transaction: the receipt exists exactly when the write happened. A
/// receipt lost to a concurrent same-key request is a `Conflict`. A write
/// made `by` someone through the API also stores its activity event and the
/// version's revision in that transaction (see [`super::activity`]):
/// there is no change without its record, nor a record without its change.
pub trait VersionStore: Send + Sync {
    /// Stores a new record. `Conflict` when its identity is taken, including
    /// by a concurrent create.
    fn create_version(
        &self,
        record: &VersionRecord,
        receipt: Option<&Receipt>,
        by: Option<&Provenance>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Strongly consistent, so an update reads the revision it conditions on.
    fn get_version(
        &self,
        project: &ProjectId,
        id: &VersionId,
    ) -> impl Future<Output = Result<Option<VersionRecord>, StoreError>> + Send;

    /// Replaces `current` (as read by [`get_version`](Self::get_version)) with
    /// `next`, moving the identity item when the identity changed, and
    /// returns what was stored: [`next_revision`]. `Conflict`
    /// when the new identity is taken or `current` is no longer the stored
    /// revision (a concurrent update or delete won).
    fn update_version(
        &self,
        current: &VersionRecord,
        next: &VersionRecord,
        receipt: Option<&Receipt>,
        by: Option<&Provenance>,
    ) -> impl Future<Output = Result<VersionRecord, StoreError>> + Send;

    /// Deletes `current` and its identity item. `Ok(false)` when it is gone
    /// already; `Conflict` when it changed since it was read.
    fn delete_version(
        &self,
        current: &VersionRecord,
        receipt: Option<&Receipt>,
        by: Option<&Provenance>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Every record of `project`, in no particular order.
    fn list_versions(
        &self,
        project: &ProjectId,
    ) -> impl Future<Output = Result<Vec<VersionRecord>, StoreError>> + Send;

    /// The `limit` versions after the `skip` newest (`createdAt` descending,
    /// ties by ascending id), and the project's exact version count, in one
    /// read of the `skip + limit` newest versions, whatever the project's
    /// size. `None` when the project has no count yet (all its versions
    /// predate counts, see `aau-admin versions backfill`).
    fn newest_versions(
        &self,
        project: &ProjectId,
        skip: u64,
        limit: u64,
    ) -> impl Future<Output = Result<Option<NewestPage>, StoreError>> + Send;

    /// The [`VersionSummary`] of every version of `project`, in no
    /// particular order: what a filtered or otherwise sorted list page is
    /// cut from, before [`get_versions`](Self::get_versions) reads the page.
    /// `None` when a version predates summaries.
    fn version_summaries(
        &self,
        project: &ProjectId,
    ) -> impl Future<Output = Result<Option<Vec<VersionSummary>>, StoreError>> + Send;

    /// The records `ids` of `project`, strongly consistent, in the order of
    /// `ids`; one deleted meanwhile is left out.
    fn get_versions(
        &self,
        project: &ProjectId,
        ids: &[VersionId],
    ) -> impl Future<Output = Result<Vec<VersionRecord>, StoreError>> + Send;
}
