//! Activity and version history: what the reading routes need. Events are
//! written by the stores that make the changes, in the change's own
//! transaction (see [`super::VersionStore`]'s `by` parameter); nothing here
//! writes.

use std::future::Future;

use super::StoreError;
use super::config::ConfigError;
use crate::domain::activity::{Cursor, DEFAULT_RETENTION_DAYS, EventPage, Revision};
use crate::domain::{ProjectId, TeamId, UserId, VersionId};

/// The environment variable that sets how many days events and revisions
/// are kept (DynamoDB TTL deletes them after that).
pub const RETENTION_ENV: &str = "ACTIVITY_RETENTION_DAYS";

/// The longest page an activity route serves.
pub const MAX_PAGE: u16 = 100;

/// Whose activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feed {
    /// A project's versions.
    Project(ProjectId),
    /// A team's members, invitations, projects and API keys.
    Team(TeamId),
    /// An account's own tokens.
    Account(UserId),
}

pub trait ActivityStore: Send + Sync {
    /// Up to `limit` (1–[`MAX_PAGE`]) events of `feed`, newest first,
    /// starting after `after`: one `Query`, however long the history.
    fn activity(
        &self,
        feed: &Feed,
        after: Option<&Cursor>,
        limit: u16,
    ) -> impl Future<Output = Result<EventPage, StoreError>> + Send;

    /// Every kept revision of a version, oldest first, its deletions
    /// included.
    fn history(
        &self,
        project: &ProjectId,
        version: &VersionId,
    ) -> impl Future<Output = Result<Vec<Revision>, StoreError>> + Send;
}

/// Days to keep events and revisions: `ACTIVITY_RETENTION_DAYS`, 1–3650,
/// default [`DEFAULT_RETENTION_DAYS`].
pub fn retention_days_from_env() -> Result<u16, ConfigError> {
    retention_days(std::env::var(RETENTION_ENV).ok().as_deref())
}

/// Testable core of [`retention_days_from_env`].
pub fn retention_days(value: Option<&str>) -> Result<u16, ConfigError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(DEFAULT_RETENTION_DAYS);
    };
    value
        .parse::<u16>()
        .ok()
        .filter(|days| (1..=3650).contains(days))
        .ok_or_else(|| ConfigError::Invalid {
            name: RETENTION_ENV,
            reason: "must be a whole number of days from 1 to 3650".into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_defaults_and_is_bounded() {
        assert_eq!(retention_days(None), Ok(400));
        assert_eq!(retention_days(Some(" ")), Ok(400));
        assert_eq!(retention_days(Some("30")), Ok(30));
        for bad in ["0", "3651", "-1", "1.5", "year"] {
            assert!(retention_days(Some(bad)).is_err(), "{bad}");
        }
    }
}
