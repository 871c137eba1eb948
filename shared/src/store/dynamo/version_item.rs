//! The stored form of a version record, shared by the versions store (which
//! writes it) and the check store (which reads it through `check-index`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Item, from_item, to_item};
use crate::domain::record::{AppVersion, CustomValue, VersionRecord};
use crate::domain::{AppName, Environment, Platform, ProjectId, Timestamp, VersionId};
use crate::store::{StoreError, keys};

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VersionItem {
    version_id: VersionId,
    project_id: ProjectId,
    app_name: AppName,
    app_version: AppVersion,
    platform: Platform,
    environment: Environment,
    force_upgrade: bool,
    message: String,
    #[serde(default)]
    message_locale: BTreeMap<String, String>,
    #[serde(default)]
    custom_attributes: BTreeMap<String, CustomValue>,
    #[serde(default)]
    internal_notes: String,
    active: bool,
    created_at: Timestamp,
    updated_at: Timestamp,
    revision: u64,
    /// Present only on active versions: inactive ones drop out of the
    /// sparse `check-index`, so the check never reads them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    check_key: Option<String>,
}

/// The full item (keys included) for `record`.
pub(crate) fn to_version_item(record: &VersionRecord) -> Result<Item, StoreError> {
    let item = VersionItem {
        version_id: record.id.clone(),
        project_id: record.project.clone(),
        app_name: record.app_name.clone(),
        app_version: record.app_version.clone(),
        platform: record.platform.clone(),
        environment: record.environment.clone(),
        force_upgrade: record.force_upgrade,
        message: record.message.clone(),
        message_locale: record.message_locale.clone(),
        custom_attributes: record.custom_attributes.clone(),
        internal_notes: record.internal_notes.clone(),
        active: record.active,
        created_at: record.created_at,
        updated_at: record.updated_at,
        revision: record.revision,
        check_key: record.active.then(|| {
            keys::check_key(
                &record.project,
                record.app_name.as_str(),
                &record.platform,
                &record.environment,
            )
        }),
    };
    to_item(&keys::version(&record.project, &record.id), &item)
}

pub(crate) fn from_version_item(item: Item) -> Result<VersionRecord, StoreError> {
    let v: VersionItem = from_item(item)?;
    Ok(VersionRecord {
        id: v.version_id,
        project: v.project_id,
        app_name: v.app_name,
        app_version: v.app_version,
        platform: v.platform,
        environment: v.environment,
        force_upgrade: v.force_upgrade,
        message: v.message,
        message_locale: v.message_locale,
        custom_attributes: v.custom_attributes,
        internal_notes: v.internal_notes,
        active: v.active,
        created_at: v.created_at,
        updated_at: v.updated_at,
        revision: v.revision,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(active: bool) -> VersionRecord {
        let range = ">=1.0.0, <1.4.0";
        VersionRecord {
            force_upgrade: true,
            message: "Please update".into(),
            message_locale: BTreeMap::from([("fr".into(), "Mettez à jour".into())]),
            custom_attributes: BTreeMap::from([
                (
                    "country".into(),
                    CustomValue::Many(vec!["US".into(), "CA".into()]),
                ),
                ("os_version".into(), CustomValue::One("12".into())),
            ]),
            active,
            revision: 3,
            ..crate::test_util::version_record(&ProjectId::generate(), range)
        }
    }

    #[test]
    fn round_trips_and_only_active_versions_carry_the_check_key() {
        for active in [true, false] {
            let r = record(active);
            let item = to_version_item(&r).expect("serializes");
            assert_eq!(item.contains_key(keys::CHECK_KEY), active);
            assert!(item.contains_key(keys::PK) && item.contains_key(keys::SK));
            assert_eq!(from_version_item(item).expect("deserializes"), r);
        }
    }
}
