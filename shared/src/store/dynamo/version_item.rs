//! The stored forms of a version record, shared by the versions store (which
//! writes them) and the check store (which reads the version items): the
//! version item, its copy in creation order for listing, and its identity
//! item, which doubles as the version's summary for filtered listing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Item, from_item, key_item, to_item};
use crate::domain::record::{AppVersion, CustomValue, VersionRecord};
use crate::domain::{AppName, Environment, Platform, ProjectId, Timestamp, VersionId};
use crate::store::versions::VersionSummary;
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

/// The version's copy in creation order (`CREATED#…`): what a list page in
/// the default order reads.
pub(crate) fn to_listing_copy(record: &VersionRecord) -> Result<Item, StoreError> {
    let mut item = to_version_item(record)?;
    item.extend(key_item(&listing_key(record)));
    Ok(item)
}

pub(crate) fn listing_key(record: &VersionRecord) -> keys::Key {
    keys::version_listing(&record.project, record.created_at, &record.id)
}

pub(crate) fn identity_key(record: &VersionRecord) -> keys::Key {
    keys::version_identity(
        &record.project,
        &record.app_name,
        record.app_version.as_str(),
        &record.platform,
        &record.environment,
    )
}

/// The identity item: which version holds the identity, and what listing
/// filters and sorts on, under one-letter names (a fraction of the
/// version's size). Items written before summaries existed hold only
/// `versionId` until `aau-admin versions backfill` rewrites them.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdentityItem {
    version_id: VersionId,
    #[serde(flatten)]
    summary: Option<Summary>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Summary {
    n: AppName,
    v: AppVersion,
    p: Platform,
    e: Environment,
    f: bool,
    a: bool,
    /// Epoch milliseconds.
    c: i64,
    u: i64,
}

/// The identity item (keys included) for `record`.
pub(crate) fn to_identity_item(record: &VersionRecord) -> Result<Item, StoreError> {
    let item = IdentityItem {
        version_id: record.id.clone(),
        summary: Some(Summary {
            n: record.app_name.clone(),
            v: record.app_version.clone(),
            p: record.platform.clone(),
            e: record.environment.clone(),
            f: record.force_upgrade,
            a: record.active,
            c: record.created_at.unix_millis(),
            u: record.updated_at.unix_millis(),
        }),
    };
    to_item(&identity_key(record), &item)
}

/// The summary an identity item holds, `None` for one written before
/// summaries existed.
pub(crate) fn from_identity_item(item: Item) -> Result<Option<VersionSummary>, StoreError> {
    let i: IdentityItem = from_item(item)?;
    Ok(i.summary.map(|s| VersionSummary {
        id: i.version_id,
        app_name: s.n,
        app_version: s.v,
        platform: s.p,
        environment: s.e,
        force_upgrade: s.f,
        active: s.a,
        created_at: Timestamp::from_unix_millis(s.c),
        updated_at: Timestamp::from_unix_millis(s.u),
    }))
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
    fn round_trips_and_no_item_carries_the_retired_check_key() {
        for active in [true, false] {
            let r = record(active);
            let item = to_version_item(&r).expect("serializes");
            assert!(!item.contains_key("checkKey"));
            assert!(item.contains_key(keys::PK) && item.contains_key(keys::SK));
            assert_eq!(from_version_item(item).expect("deserializes"), r);
        }
    }

    #[test]
    fn the_identity_item_is_the_summary_and_a_fraction_of_the_item() {
        let r = record(true);
        let identity = to_identity_item(&r).expect("serializes");
        assert_eq!(identity[keys::SK].as_s().ok(), Some(&identity_key(&r).sk));
        assert_eq!(identity["versionId"].as_s().ok(), Some(&r.id.to_string()));
        let size = |item: &Item| format!("{item:?}").len();
        let full = to_version_item(&r).expect("item");
        assert!(size(&identity) * 3 < size(&full) * 2, "{identity:?}");
        assert_eq!(
            from_identity_item(identity).expect("deserializes"),
            Some(VersionSummary::from(&r))
        );
        // As written before summaries existed.
        let mut old = key_item(&identity_key(&r));
        old.insert(
            "versionId".to_owned(),
            aws_sdk_dynamodb::types::AttributeValue::S(r.id.to_string()),
        );
        assert_eq!(from_identity_item(old).expect("deserializes"), None);

        let copy = to_listing_copy(&r).expect("copy");
        assert_eq!(copy[keys::SK].as_s().ok(), Some(&listing_key(&r).sk));
        assert_eq!(from_version_item(copy).expect("deserializes"), r);
    }
}
