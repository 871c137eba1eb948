//! Check persistence: the trait the `check` function needs.

use std::future::Future;

use super::StoreError;
use crate::domain::{Environment, Platform, ProjectId, VersionRecord};

/// The versions a check may match, read in one round trip.
pub trait CheckStore: Send + Sync {
    /// The active versions of `project` for one app name, platform and
    /// environment: one `Query` on the sparse `check-index` (inactive
    /// versions carry no check key, so they never come back). `app_name` is
    /// the request's, compared exactly; it need not be a valid `AppName`.
    ///
    /// The index is eventually consistent: a write shows up within a moment,
    /// well inside the check cache's TTL.
    fn candidates(
        &self,
        project: &ProjectId,
        app_name: &str,
        platform: &Platform,
        environment: &Environment,
    ) -> impl Future<Output = Result<Vec<VersionRecord>, StoreError>> + Send;
}
