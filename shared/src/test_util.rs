//! Fixtures for tests and benchmarks (feature `test-util`); never part of a
//! function's build.

use crate::domain::{
    AppName, AppVersion, Environment, Platform, ProjectId, Timestamp, VersionId, VersionRecord,
};

/// An active "Wallpaper App" version of `project` for android/production,
/// created now at revision 1, with no message, locales or attributes. Tests
/// override what they care about with struct-update syntax:
/// `VersionRecord { force_upgrade: true, ..version_record(&project, "1.0.0") }`.
///
/// # Panics
/// When `app_version` is not a valid version or range (a broken fixture).
pub fn version_record(project: &ProjectId, app_version: &str) -> VersionRecord {
    let now = Timestamp::now();
    VersionRecord {
        id: VersionId::generate(),
        project: project.clone(),
        app_name: parsed(AppName::parse("Wallpaper App")),
        app_version: parsed(AppVersion::parse(app_version)),
        platform: parsed(Platform::parse("android")),
        environment: parsed(Environment::parse("production")),
        force_upgrade: false,
        message: String::new(),
        message_locale: Default::default(),
        custom_attributes: Default::default(),
        internal_notes: String::new(),
        active: true,
        created_at: now,
        updated_at: now,
        revision: 1,
    }
}

fn parsed<T, E: std::fmt::Debug>(result: Result<T, E>) -> T {
    match result {
        Ok(value) => value,
        Err(err) => panic!("invalid fixture value: {err:?}"),
    }
}
