//! Test support for the `check` store: counting its calls, and version
//! records to seed.

use std::collections::BTreeMap;

use app_upgrade::domain::{
    AppName, AppVersion, Environment, Platform, ProjectId, Timestamp, VersionId, VersionRecord,
};
use app_upgrade::store::{CheckStore, StoreError};

use crate::Counting;

impl<S: CheckStore> CheckStore for Counting<S> {
    async fn candidates(
        &self,
        project: &ProjectId,
        app_name: &str,
        platform: &Platform,
        environment: &Environment,
    ) -> Result<Vec<VersionRecord>, StoreError> {
        self.count();
        self.inner
            .candidates(project, app_name, platform, environment)
            .await
    }
}

/// An active version of `project` with no message, locales or attributes;
/// tests adjust the fields they care about.
pub fn version_record(
    project: &ProjectId,
    app_name: &str,
    app_version: &str,
    platform: &str,
    environment: &str,
) -> VersionRecord {
    let now = Timestamp::now();
    VersionRecord {
        id: VersionId::generate(),
        project: project.clone(),
        app_name: AppName::parse(app_name).expect("valid app name"),
        app_version: AppVersion::parse(app_version).expect("valid app version"),
        platform: Platform::parse(platform).expect("valid platform"),
        environment: Environment::parse(environment).expect("valid environment"),
        force_upgrade: false,
        message: String::new(),
        message_locale: BTreeMap::new(),
        custom_attributes: BTreeMap::new(),
        internal_notes: String::new(),
        active: true,
        created_at: now,
        updated_at: now,
        revision: 1,
    }
}
