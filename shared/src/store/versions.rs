//! Versions persistence: the trait the `versions` function needs.

use std::future::Future;

use super::StoreError;
use crate::domain::activity::Provenance;
use crate::domain::{ProjectId, Receipt, VersionId, VersionRecord};

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

    /// Every record of `project`, in no particular order: listing filters,
    /// sorts and pages in memory (see the `versions` function).
    fn list_versions(
        &self,
        project: &ProjectId,
    ) -> impl Future<Output = Result<Vec<VersionRecord>, StoreError>> + Send;
}
