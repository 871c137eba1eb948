//! Listing: `page`, `limit`, `sortBy`, `name`, `forceUpgrade`, `active`
//! over a project's versions.
//!
//! The default order (`createdAt:desc`, no filter) is the store's own: one
//! read of the project's count and its newest versions as far as the page,
//! whatever the project's size. DynamoDB cannot sort by version order,
//! filter by substring or count matches, so any other list reads every
//! version's [`VersionSummary`] (a fraction of each record), filters and
//! orders those here, and then reads only the page's records. Only the
//! summaries up to the requested page are ordered (a selection, then a sort
//! of that prefix).

use std::cmp::Ordering;

use app_upgrade::domain::record::AppVersion;
use app_upgrade::domain::{
    AppName, Environment, Platform, ProjectId, Timestamp, VersionId, VersionRecord,
};
use app_upgrade::store::{NewestPage, StoreError, VersionStore, VersionSummary};
use app_upgrade::{ApiError, FieldErrors};
use serde::Serialize;

use crate::query::Query;

pub const DEFAULT_LIMIT: u64 = 10;
pub const MAX_LIMIT: u64 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    CreatedAt,
    UpdatedAt,
    AppName,
    AppVersion,
    Platform,
    Environment,
}

impl SortField {
    const ALL: [(&'static str, SortField); 6] = [
        ("createdAt", SortField::CreatedAt),
        ("updatedAt", SortField::UpdatedAt),
        ("appName", SortField::AppName),
        ("appVersion", SortField::AppVersion),
        ("platform", SortField::Platform),
        ("environment", SortField::Environment),
    ];

    fn parse(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, field)| *field)
    }

    fn compare(self, a: &impl Listed, b: &impl Listed) -> Ordering {
        let (a, b) = (a.fields(), b.fields());
        match self {
            Self::CreatedAt => a.created_at.cmp(&b.created_at),
            Self::UpdatedAt => a.updated_at.cmp(&b.updated_at),
            // Case-insensitive first, so "beta" sorts between "Alpha" and
            // "Gamma"; then exact, so the order stays total.
            Self::AppName => {
                let (a, b) = (a.app_name.as_str(), b.app_name.as_str());
                a.chars()
                    .flat_map(char::to_lowercase)
                    .cmp(b.chars().flat_map(char::to_lowercase))
                    .then_with(|| a.cmp(b))
            }
            // Version order (1.10.0 after 1.9.0); ranges by their lower bound.
            Self::AppVersion => a
                .app_version
                .rule()
                .sort_key()
                .cmp(&b.app_version.rule().sort_key())
                .then_with(|| a.app_version.as_str().cmp(b.app_version.as_str())),
            Self::Platform => a.platform.cmp(b.platform),
            Self::Environment => a.environment.cmp(b.environment),
        }
    }
}

/// What listing reads of a version, borrowed from a record or a summary.
pub struct Fields<'a> {
    id: &'a VersionId,
    app_name: &'a AppName,
    app_version: &'a AppVersion,
    platform: &'a Platform,
    environment: &'a Environment,
    force_upgrade: bool,
    active: bool,
    created_at: Timestamp,
    updated_at: Timestamp,
}

/// A version as listing filters and orders it.
pub trait Listed {
    fn fields(&self) -> Fields<'_>;
}

macro_rules! listed {
    ($type:ty) => {
        impl Listed for $type {
            fn fields(&self) -> Fields<'_> {
                Fields {
                    id: &self.id,
                    app_name: &self.app_name,
                    app_version: &self.app_version,
                    platform: &self.platform,
                    environment: &self.environment,
                    force_upgrade: self.force_upgrade,
                    active: self.active,
                    created_at: self.created_at,
                    updated_at: self.updated_at,
                }
            }
        }
    };
}
listed!(VersionRecord);
listed!(VersionSummary);

/// One `field:direction` of `sortBy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    pub field: SortField,
    pub descending: bool,
}

/// Validated list parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListParams {
    pub page: u64,
    pub limit: u64,
    pub sort: Vec<SortKey>,
    /// Lower-cased.
    pub name: Option<String>,
    pub force_upgrade: Option<bool>,
    pub active: Option<bool>,
    /// The caller's own environments, for a PAT limited to some: never
    /// from the query. Totals and pages count only these.
    pub environments: Option<Vec<Environment>>,
}

impl ListParams {
    /// Every bad parameter is reported, each by name.
    pub fn parse(query: &Query) -> Result<Self, ApiError> {
        let mut errors = FieldErrors::new();
        let mut take = |name: &'static str| {
            let value = query.get(name).map_err(|e| e.message);
            errors.check(name, value).flatten()
        };
        let (page, limit, sort_by, name, force, active) = (
            take("page"),
            take("limit"),
            take("sortBy"),
            take("name"),
            take("forceUpgrade"),
            take("active"),
        );
        let params = Self {
            page: number(page, "page", 1, u64::MAX, 1, &mut errors),
            limit: number(limit, "limit", 1, MAX_LIMIT, DEFAULT_LIMIT, &mut errors),
            sort: sort_by.map_or_else(
                || {
                    vec![SortKey {
                        field: SortField::CreatedAt,
                        descending: true,
                    }]
                },
                |s| parse_sort(s, &mut errors),
            ),
            name: name.filter(|n| !n.is_empty()).map(str::to_lowercase),
            force_upgrade: boolean(force, "forceUpgrade", &mut errors),
            active: boolean(active, "active", &mut errors),
            environments: None,
        };
        errors.finish(Some(params))
    }

    /// Only the versions of `environments` (a limited token's).
    pub fn within(self, environments: Option<&[Environment]>) -> Self {
        Self {
            environments: environments.map(<[_]>::to_vec),
            ..self
        }
    }

    /// The store's own order, unfiltered: `createdAt:desc` alone.
    fn newest_first(&self) -> bool {
        self.environments.is_none()
            && self.name.is_none()
            && self.force_upgrade.is_none()
            && self.active.is_none()
            && self.sort
                == [SortKey {
                    field: SortField::CreatedAt,
                    descending: true,
                }]
    }

    fn skip(&self) -> u64 {
        self.page.saturating_sub(1).saturating_mul(self.limit)
    }

    fn keeps(&self, record: &impl Listed) -> bool {
        let record = record.fields();
        self.force_upgrade.is_none_or(|f| record.force_upgrade == f)
            && self.active.is_none_or(|a| record.active == a)
            && self
                .environments
                .as_ref()
                .is_none_or(|own| own.contains(record.environment))
            && self
                .name
                .as_deref()
                .is_none_or(|needle| record.app_name.as_str().to_lowercase().contains(needle))
    }

    /// By each sort key in turn, then by id so equal keys still come back
    /// in one order on every request.
    fn compare(&self, a: &impl Listed, b: &impl Listed) -> Ordering {
        self.sort
            .iter()
            .map(|key| {
                let order = key.field.compare(a, b);
                if key.descending {
                    order.reverse()
                } else {
                    order
                }
            })
            .find(|o| o.is_ne())
            .unwrap_or_else(|| a.fields().id.cmp(b.fields().id))
    }
}

fn number(
    value: Option<&str>,
    name: &'static str,
    min: u64,
    max: u64,
    default: u64,
    errors: &mut FieldErrors,
) -> u64 {
    let Some(value) = value else { return default };
    match value.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => n,
        _ => {
            errors.add(
                name,
                if max == u64::MAX {
                    format!("must be an integer of at least {min}")
                } else {
                    format!("must be an integer from {min} to {max}")
                },
            );
            default
        }
    }
}

fn boolean(value: Option<&str>, name: &'static str, errors: &mut FieldErrors) -> Option<bool> {
    match value? {
        "true" => Some(true),
        "false" => Some(false),
        _ => {
            errors.add(name, "must be true or false");
            None
        }
    }
}

/// `field[:asc|desc]`, comma-separated; a missing direction is ascending.
fn parse_sort(value: &str, errors: &mut FieldErrors) -> Vec<SortKey> {
    let mut keys = Vec::new();
    for part in value.split(',') {
        let (field, direction) = match part.split_once(':') {
            Some((field, direction)) => (field.trim(), direction.trim()),
            None => (part.trim(), "asc"),
        };
        let descending = match direction {
            "asc" => false,
            "desc" => true,
            _ => {
                errors.add("sortBy", "directions are asc or desc, as in createdAt:desc");
                return keys;
            }
        };
        let Some(field) = SortField::parse(field) else {
            errors.add(
                "sortBy",
                "fields are createdAt, updatedAt, appName, appVersion, platform and environment",
            );
            return keys;
        };
        if keys.iter().all(|k: &SortKey| k.field != field) {
            keys.push(SortKey { field, descending });
        }
    }
    keys
}

/// The list envelope of the contract.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T = VersionRecord> {
    pub results: Vec<T>,
    pub page: u64,
    pub limit: u64,
    pub total_pages: u64,
    pub total_results: u64,
}

impl<T> Page<T> {
    fn of(results: Vec<T>, params: &ListParams, total: u64) -> Self {
        Self {
            results,
            page: params.page,
            limit: params.limit,
            total_pages: total.div_ceil(params.limit),
            total_results: total,
        }
    }
}

/// The page `params` ask for of `project`'s versions. A project whose
/// versions predate counts and summaries (until `aau-admin versions
/// backfill`) is read whole, as before them.
pub async fn list(
    store: &impl VersionStore,
    project: &ProjectId,
    params: &ListParams,
) -> Result<Page, StoreError> {
    if params.newest_first() {
        if let Some(NewestPage { records, total }) = store
            .newest_versions(project, params.skip(), params.limit)
            .await?
        {
            return Ok(Page::of(records, params, total));
        }
    } else if let Some(summaries) = store.version_summaries(project).await? {
        let summaries = cut(summaries, params);
        let ids: Vec<VersionId> = summaries.results.iter().map(|s| s.id.clone()).collect();
        let records = store.get_versions(project, &ids).await?;
        return Ok(Page::of(records, params, summaries.total_results));
    }
    Ok(page(store.list_versions(project).await?, params))
}

/// Filters, orders and cuts one page of `records`. A page past the end is
/// empty, with the true totals.
pub fn page(records: Vec<VersionRecord>, params: &ListParams) -> Page {
    cut(records, params)
}

/// [`page`], of records or summaries.
fn cut<T: Listed>(mut records: Vec<T>, params: &ListParams) -> Page<T> {
    records.retain(|r| params.keeps(r));
    let total = records.len() as u64;
    let skip = params.skip();
    let results = if skip >= total {
        Vec::new()
    } else {
        // `end` ≤ total, which came from a usize.
        let end =
            usize::try_from(skip.saturating_add(params.limit).min(total)).unwrap_or(records.len());
        let skip = usize::try_from(skip).unwrap_or(end);
        if end < records.len() {
            records.select_nth_unstable_by(end - 1, |a, b| params.compare(a, b));
            records.truncate(end);
        }
        records.sort_unstable_by(|a, b| params.compare(a, b));
        records.drain(skip..).collect()
    };
    Page::of(results, params, total)
}

#[cfg(test)]
mod tests {
    use app_upgrade::domain::{AppName, ProjectId, Timestamp, VersionId};
    use app_upgrade::test_util::version_record;

    use super::*;

    fn record(app: &str, version: &str, created: i64, force: bool, active: bool) -> VersionRecord {
        VersionRecord {
            app_name: AppName::parse(app).expect("valid"),
            force_upgrade: force,
            active,
            created_at: Timestamp::from_unix_millis(created),
            updated_at: Timestamp::from_unix_millis(created),
            revision: 0,
            ..version_record(&ProjectId::generate(), version)
        }
    }

    fn params(q: &str) -> Result<ListParams, Vec<String>> {
        ListParams::parse(&Query::parse(Some(q)))
            .map_err(|e| e.errors().iter().map(|f| f.field.to_string()).collect())
    }

    fn versions(page: &Page) -> Vec<&str> {
        page.results
            .iter()
            .map(|r| r.app_version.as_str())
            .collect()
    }

    #[test]
    fn defaults_and_errors_name_the_parameter() {
        let p = params("").expect("defaults");
        assert_eq!((p.page, p.limit), (1, 10));
        assert_eq!(
            p.sort,
            [SortKey {
                field: SortField::CreatedAt,
                descending: true
            }]
        );
        for (q, field) in [
            ("page=0", "page"),
            ("page=-1", "page"),
            ("page=abc", "page"),
            ("page=", "page"),
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("limit=1.5", "limit"),
            ("sortBy=size:asc", "sortBy"),
            ("sortBy=appName:up", "sortBy"),
            ("sortBy=", "sortBy"),
            ("forceUpgrade=yes", "forceUpgrade"),
            ("active=1", "active"),
            ("limit=5&limit=6", "limit"),
        ] {
            assert_eq!(params(q), Err(vec![field.to_owned()]), "{q}");
        }
        assert_eq!(
            params("page=0&limit=500&active=maybe"),
            Err(vec!["page".into(), "limit".into(), "active".into()])
        );
        let p = params("limit=100&page=99999999999&sortBy=appVersion:desc,appName").expect("valid");
        assert_eq!(p.sort.len(), 2);
        assert!(p.sort[0].descending && !p.sort[1].descending);
    }

    #[test]
    fn app_version_sorts_in_version_order() {
        let records = ["1.10.0", "1.9.0", "<1.5", "2.0.0-beta.1", "2.0.0", "1.2"]
            .iter()
            .enumerate()
            .map(|(i, v)| record("App", v, i as i64, false, true))
            .collect::<Vec<_>>();
        let asc = page(
            records.clone(),
            &params("sortBy=appVersion:asc").expect("ok"),
        );
        assert_eq!(
            versions(&asc),
            ["1.2", "<1.5", "1.9.0", "1.10.0", "2.0.0-beta.1", "2.0.0"]
        );
        let desc = page(
            records,
            &params("sortBy=appVersion:desc&limit=2").expect("ok"),
        );
        assert_eq!(versions(&desc), ["2.0.0", "2.0.0-beta.1"]);
    }

    #[test]
    fn filters_and_pages() {
        let mut records = Vec::new();
        for i in 0..27 {
            let app = if i % 3 == 0 { "Wallpaper App" } else { "Other" };
            records.push(record(app, &format!("1.{i}"), i, i % 2 == 0, i % 5 != 0));
        }
        let p = page(records.clone(), &params("limit=10&page=3").expect("ok"));
        assert_eq!((p.total_results, p.total_pages), (27, 3));
        assert_eq!(
            versions(&p),
            ["1.6", "1.5", "1.4", "1.3", "1.2", "1.1", "1.0"]
        );
        let past = page(records.clone(), &params("page=4").expect("ok"));
        assert!(past.results.is_empty());
        assert_eq!(
            (past.total_results, past.total_pages, past.page),
            (27, 3, 4)
        );

        let wall = page(records.clone(), &params("name=WALL&limit=100").expect("ok"));
        assert_eq!(wall.total_results, 9);
        assert!(
            wall.results
                .iter()
                .all(|r| r.app_name.as_str() == "Wallpaper App")
        );
        let forced = page(
            records.clone(),
            &params("forceUpgrade=true&active=false&limit=100").expect("ok"),
        );
        // i even and i % 5 == 0: 0, 10, 20.
        assert_eq!(versions(&forced), ["1.20", "1.10", "1.0"]);

        let empty = page(Vec::new(), &params("").expect("ok"));
        assert_eq!((empty.total_results, empty.total_pages), (0, 0));
    }

    #[test]
    fn ties_break_by_later_keys_then_id() {
        let mut records = vec![
            record("beta", "1.0", 5, false, true),
            record("Alpha", "2.0", 5, false, true),
            record("alpha", "1.0", 5, false, true),
        ];
        records.push(records[0].clone());
        records[3].id = VersionId::generate();
        let p = page(
            records.clone(),
            &params("sortBy=appName:asc,appVersion:desc").expect("ok"),
        );
        let names: Vec<_> = p.results.iter().map(|r| r.app_name.as_str()).collect();
        assert_eq!(names, ["Alpha", "alpha", "beta", "beta"]);
        assert!(p.results[2].id < p.results[3].id);
        let again = page(
            records,
            &params("sortBy=appName:asc,appVersion:desc").expect("ok"),
        );
        assert_eq!(p.results, again.results);
    }
}
