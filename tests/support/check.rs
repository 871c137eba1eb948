//! Test support for the `check` store: version records to seed.

use app_upgrade::domain::{AppName, Environment, Platform, ProjectId, VersionRecord};

/// An active version of `project` with no message, locales or attributes;
/// tests adjust the fields they care about.
pub fn version_record(
    project: &ProjectId,
    app_name: &str,
    app_version: &str,
    platform: &str,
    environment: &str,
) -> VersionRecord {
    VersionRecord {
        app_name: AppName::parse(app_name).expect("valid app name"),
        platform: Platform::parse(platform).expect("valid platform"),
        environment: Environment::parse(environment).expect("valid environment"),
        ..app_upgrade::test_util::version_record(project, app_version)
    }
}
