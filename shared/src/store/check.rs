//! Check persistence: the trait the `check` function needs.

use std::future::Future;

use super::StoreError;
use crate::domain::{ProjectId, VersionRecord};

/// The versions a check may match.
pub trait CheckStore: Send + Sync {
    /// The active versions of `project`, all apps, platforms and
    /// environments at once: one paginated `Query` of the project's own
    /// partition. The check caches the whole project, so what a caller puts
    /// in a check's query (any number of distinct app names or platforms)
    /// never costs a read of its own; only the project's data does.
    fn active_versions(
        &self,
        project: &ProjectId,
    ) -> impl Future<Output = Result<Vec<VersionRecord>, StoreError>> + Send;
}
