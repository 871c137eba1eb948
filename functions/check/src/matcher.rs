//! Which version record answers a check, and in which language.
//!
//! A project's active versions are prepared once, when they enter the cache:
//! grouped by (app name, platform, environment), locale keys normalized,
//! and each group sorted best-first by the spec's precedence. A check then
//! finds its group (one hash look-up by app name, then a scan of that app's
//! few platform/environment pairs), walks the slice and answers with the
//! first record that matches, comparing pre-parsed versions; nothing is
//! parsed or allocated per record.
//!
//! A record matches a request when it is active, has the same app name
//! (exact), platform and environment (case-insensitive: both sides are
//! lower-cased), its `appVersion` equals the request's version or its range
//! contains it, and every custom attribute of the record is matched by the
//! request (string equality; an array on either side matches if any value is
//! shared). Request attributes the record does not mention do not matter.
//!
//! A request version that does not parse (SDKs send what the app reports)
//! is not an error: it matches no record (every record's text parses, so no
//! record can equal it).
//!
//! Precedence: an exact version beats a range rule; then more custom
//! attributes (all of which matched) beat fewer; then `forceUpgrade: true`
//! beats `false`; then the most recently updated; then, so the answer is
//! deterministic, the greater (younger) version id.

use std::cmp::Reverse;
use std::collections::HashMap;

use app_upgrade::domain::{
    AppName, Environment, Platform, ProjectId, Timestamp, Version, VersionId, VersionRecord,
    VersionRule,
};

use crate::query::Attributes;

/// Which versions a check is about, parsed by the same rules the versions
/// API stores them by (not to be confused with a PAT's
/// [`app_upgrade::domain::Scope`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    pub app_name: AppName,
    pub platform: Platform,
    pub environment: Environment,
}

/// One app's partitions: an app has a handful of (platform, environment)
/// pairs, so a scan beats a second map.
type AppPartitions = Box<[(Platform, Environment, Candidates)]>;

/// One project's check data: its active versions, prepared and grouped.
#[derive(Debug, Default)]
pub struct ProjectChecks {
    /// App name → its partitions.
    apps: HashMap<Box<str>, AppPartitions>,
    len: usize,
    weight: usize,
}

impl ProjectChecks {
    /// Keeps the records a check of `project` may see (the query already
    /// guarantees it; checking again is cheap and keeps the matcher honest
    /// on its own), grouped by partition, each group sorted by precedence.
    pub fn prepare(project: &ProjectId, records: Vec<VersionRecord>) -> Self {
        type Groups = HashMap<Box<str>, Vec<(Platform, Environment, Vec<VersionRecord>)>>;
        let mut groups = Groups::new();
        let mut len = 0;
        for record in records {
            if !record.active || record.project != *project {
                continue;
            }
            len += 1;
            let app = groups.entry(record.app_name.as_str().into()).or_default();
            match app
                .iter_mut()
                .find(|(p, e, _)| *p == record.platform && *e == record.environment)
            {
                Some((_, _, records)) => records.push(record),
                None => app.push((
                    record.platform.clone(),
                    record.environment.clone(),
                    vec![record],
                )),
            }
        }
        let mut weight = size_of::<Self>();
        let apps = groups
            .into_iter()
            .map(|(name, partitions)| {
                weight += name.len() + size_of::<(Box<str>, AppPartitions)>();
                let partitions = partitions
                    .into_iter()
                    .map(|(p, e, records)| {
                        let candidates = Candidates::prepare(records);
                        weight += size_of::<(Platform, Environment, Candidates)>()
                            + p.as_str().len()
                            + e.as_str().len()
                            + candidates.0.iter().map(Candidate::weight).sum::<usize>();
                        (p, e, candidates)
                    })
                    .collect();
                (name, partitions)
            })
            .collect();
        Self { apps, len, weight }
    }

    /// The candidates of one partition; `None` when the project has none.
    pub fn candidates(&self, partition: &Partition) -> Option<&Candidates> {
        self.apps
            .get(partition.app_name.as_str())?
            .iter()
            .find(|(p, e, _)| *p == partition.platform && *e == partition.environment)
            .map(|(_, _, candidates)| candidates)
    }

    /// Candidates held, all partitions together.
    pub fn len(&self) -> usize {
        self.len
    }

    /// An estimate of the bytes held, computed once by [`Self::prepare`]:
    /// what the cache bounds. The texts count whole (a version may carry
    /// fifty translated messages); the rule's own allocations are guessed.
    pub fn weight(&self) -> usize {
        self.weight
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// One record, ready to be matched.
#[allow(clippy::type_complexity)] // boxed slices: the cache holds many, and they never grow
#[derive(Debug, Clone)]
pub struct Candidate {
    rule: VersionRule,
    /// Attribute name → the values any of which the request must send.
    attributes: Box<[(Box<str>, Box<[String]>)]>,
    force_upgrade: bool,
    message: Box<str>,
    /// Normalized language tag → message, sorted by tag.
    locales: Box<[(Box<str>, Box<str>)]>,
    updated_at: Timestamp,
    id: VersionId,
}

impl Candidate {
    fn new(record: VersionRecord) -> Self {
        let mut locales: Vec<(Box<str>, Box<str>)> = record
            .message_locale
            .into_iter()
            // An empty translation would hide the default message.
            .filter(|(_, message)| !message.is_empty())
            .map(|(tag, message)| (LanguageTag::normalize(&tag).into(), message.into()))
            .collect();
        locales.sort();
        // `pt_BR` and `pt-BR` normalize alike; keep one, deterministically.
        locales.dedup_by(|a, b| a.0 == b.0);
        Self {
            rule: record.app_version.rule().clone(),
            attributes: record
                .custom_attributes
                .into_iter()
                .map(|(name, value)| (name.into(), value.values().to_vec().into()))
                .collect(),
            force_upgrade: record.force_upgrade,
            message: record.message.into(),
            locales: locales.into(),
            updated_at: record.updated_at,
            id: record.id,
        }
    }

    /// See [`ProjectChecks::weight`].
    fn weight(&self) -> usize {
        // A range rule holds a few comparators on the heap.
        const RULE_ALLOWANCE: usize = 4 * size_of::<Version>();
        size_of::<Self>()
            + RULE_ALLOWANCE
            + self.message.len()
            + self
                .locales
                .iter()
                .map(|(tag, message)| size_of::<(Box<str>, Box<str>)>() + tag.len() + message.len())
                .sum::<usize>()
            + self
                .attributes
                .iter()
                .map(|(name, values)| {
                    size_of::<(Box<str>, Box<[String]>)>()
                        + name.len()
                        + values
                            .iter()
                            .map(|v| size_of::<String>() + v.len())
                            .sum::<usize>()
                })
                .sum::<usize>()
    }

    pub fn force_upgrade(&self) -> bool {
        self.force_upgrade
    }

    fn precedence(&self) -> impl Ord + use<> {
        (
            self.rule.is_exact(),
            self.attributes.len(),
            self.force_upgrade,
            self.updated_at,
            self.id.clone(),
        )
    }

    fn matches(&self, version: &Version, request: &Attributes) -> bool {
        self.rule.matches(version)
            && self.attributes.iter().all(|(name, wanted)| {
                request
                    .get(name)
                    .is_some_and(|sent| sent.iter().any(|s| wanted.contains(s)))
            })
    }

    /// `messageLocale[tag]`, else `messageLocale[primary subtag]`, else
    /// `message` (`""` when there is none).
    pub fn message(&self, language: Option<&LanguageTag>) -> &str {
        let find = |tag: &str| {
            self.locales
                .binary_search_by(|(t, _)| (**t).cmp(tag))
                .ok()
                .map(|i| &*self.locales[i].1)
        };
        language
            .and_then(|l| find(&l.full).or_else(|| l.primary().and_then(find)))
            .unwrap_or(&self.message)
    }
}

/// The candidates of one partition, best first.
#[derive(Debug, Clone, Default)]
pub struct Candidates(Box<[Candidate]>);

impl Candidates {
    /// `records`, all of one partition, sorted by precedence.
    fn prepare(records: Vec<VersionRecord>) -> Self {
        let mut candidates: Vec<Candidate> = records.into_iter().map(Candidate::new).collect();
        candidates.sort_by_cached_key(|c| Reverse(c.precedence()));
        Self(candidates.into())
    }

    /// The best record matching the request's version (parsed once by the
    /// caller; one that does not parse matches nothing) and attributes.
    pub fn best(&self, version: Option<&Version>, attributes: &Attributes) -> Option<&Candidate> {
        let version = version?;
        self.0.iter().find(|c| c.matches(version, attributes))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A request's `app_language`, normalized like the records' locale keys:
/// lower-case, `_` read as `-` (SDKs send `en_US`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanguageTag {
    full: String,
}

impl LanguageTag {
    pub fn parse(input: &str) -> Self {
        Self {
            full: Self::normalize(input),
        }
    }

    fn normalize(tag: &str) -> String {
        tag.trim()
            .chars()
            .map(|c| {
                if c == '_' {
                    '-'
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect()
    }

    /// `pt` for `pt-br`; `None` when the tag has no subtags.
    fn primary(&self) -> Option<&str> {
        self.full.split_once('-').map(|(primary, _)| primary)
    }
}

#[cfg(test)]
mod tests {
    use app_upgrade::test_util::version_record;
    use std::collections::BTreeMap;

    use app_upgrade::domain::CustomValue;

    use super::*;

    struct World {
        project: ProjectId,
        platform: Platform,
        environment: Environment,
    }

    impl World {
        fn new() -> Self {
            Self {
                project: ProjectId::generate(),
                platform: Platform::parse("android").expect("valid"),
                environment: Environment::parse("production").expect("valid"),
            }
        }

        fn partition(&self, app_name: &str) -> Partition {
            Partition {
                app_name: AppName::parse(app_name).expect("valid"),
                platform: self.platform.clone(),
                environment: self.environment.clone(),
            }
        }

        /// The candidates `records` give the request's partition.
        fn candidates(&self, records: Vec<VersionRecord>) -> Candidates {
            ProjectChecks::prepare(&self.project, records)
                .candidates(&self.partition("Wallpaper App"))
                .cloned()
                .unwrap_or_default()
        }

        fn record(&self, app_version: &str, message: &str) -> VersionRecord {
            VersionRecord {
                platform: self.platform.clone(),
                environment: self.environment.clone(),
                message: message.into(),
                created_at: Timestamp::from_unix_millis(1_000),
                updated_at: Timestamp::from_unix_millis(1_000),
                ..version_record(&self.project, app_version)
            }
        }
    }

    fn attrs(record: &mut VersionRecord, pairs: &[(&str, &[&str])]) {
        for (name, values) in pairs {
            let value = match values {
                [one] => CustomValue::One((*one).into()),
                many => CustomValue::Many(many.iter().map(|v| (*v).into()).collect()),
            };
            record.custom_attributes.insert((*name).into(), value);
        }
    }

    /// The message of the best match, or `None` when nothing matches.
    fn answer(
        world: &World,
        records: Vec<VersionRecord>,
        version: &str,
        request: &Attributes,
    ) -> Option<String> {
        let candidates = world.candidates(records);
        let parsed = Version::parse(version).ok();
        candidates
            .best(parsed.as_ref(), request)
            .map(|c| c.message(None).to_owned())
    }

    #[test]
    fn version_truth_table() {
        let w = World::new();
        let none = Attributes::default();
        let cases: &[(&str, &str, bool)] = &[
            ("1.0.0", "1.0.0", true),
            ("1.0.0", "1.0", true),
            ("1", "1.0.0", true),
            ("1.0.0+5", "1.0.0", true),
            ("1.0.0", "1.0.0+7", true),
            ("1.0.0", "1.0.1", false),
            ("2.1.0-beta.1", "2.1.0-beta.1", true),
            ("2.1.0-beta.1", "2.1.0", false),
            ("<2.0.0", "1.9.9", true),
            ("<2.0.0", "2.0.0", false),
            (">=1.0.0, <1.4.0", "1.3.9", true),
            (">=1.0.0, <1.4.0", "1.4", false),
            (">=1.0.0, <1.4.0", "0.9", false),
            ("^1.2", "1.9.0", true),
            ("~1.2", "1.3.0", false),
            ("1.0.0", "not a version", false),
        ];
        for &(rule, version, expected) in cases {
            let got = answer(&w, vec![w.record(rule, "m")], version, &none);
            assert_eq!(got.is_some(), expected, "rule {rule} vs version {version}");
        }
    }

    #[test]
    fn attribute_truth_table() {
        let w = World::new();
        type RecordAttributes<'a> = &'a [(&'a str, &'a [&'a str])];
        let cases: &[(RecordAttributes, Attributes, bool)] = &[
            (&[], Attributes::default(), true),
            (&[], Attributes::from([("country", &["US"][..])]), true),
            (&[("country", &["US"])], Attributes::default(), false),
            (
                &[("country", &["US"])],
                Attributes::from([("country", &["US"][..])]),
                true,
            ),
            (
                &[("country", &["US"])],
                Attributes::from([("country", &["us"][..])]),
                false,
            ),
            (
                &[("country", &["US"])],
                Attributes::from([("Country", &["US"][..])]),
                false,
            ),
            (
                &[("country", &["US", "CA"])],
                Attributes::from([("country", &["CA"][..])]),
                true,
            ),
            (
                &[("country", &["US"])],
                Attributes::from([("country", &["FR", "US"][..])]),
                true,
            ),
            (
                &[("country", &["US", "CA"])],
                Attributes::from([("country", &["FR", "DE"][..])]),
                false,
            ),
            (
                &[("country", &["US"]), ("os_version", &["12"])],
                Attributes::from([("country", &["US"][..])]),
                false,
            ),
            (
                &[("country", &["US"]), ("os_version", &["12"])],
                Attributes::from([
                    ("os_version", &["12"][..]),
                    ("country", &["US"][..]),
                    ("x", &["y"][..]),
                ]),
                true,
            ),
        ];
        for (record_attrs, request, expected) in cases {
            let mut r = w.record("1.0.0", "m");
            attrs(&mut r, record_attrs);
            let got = answer(&w, vec![r], "1.0.0", request);
            assert_eq!(got.is_some(), *expected, "{record_attrs:?} vs {request:?}");
        }
    }

    #[test]
    fn inactive_and_foreign_records_never_match() {
        let w = World::new();
        let none = Attributes::default();
        let mut inactive = w.record("1.0.0", "inactive");
        inactive.active = false;
        assert_eq!(answer(&w, vec![inactive], "1.0.0", &none), None);
        let mut other_project = w.record("1.0.0", "other");
        other_project.project = ProjectId::generate();
        assert_eq!(answer(&w, vec![other_project], "1.0.0", &none), None);
        let mut other_env = w.record("1.0.0", "staging");
        other_env.environment = Environment::parse("staging").expect("valid");
        assert_eq!(answer(&w, vec![other_env], "1.0.0", &none), None);
    }

    #[test]
    fn app_name_is_exact_platform_and_environment_are_case_insensitive() {
        let w = World::new();
        let request_platform = Platform::parse("Android").expect("valid");
        let request_environment = Environment::parse("PRODUCTION").expect("valid");
        let checks = ProjectChecks::prepare(&w.project, vec![w.record("1.0.0", "m")]);
        let v = Version::parse("1.0.0").ok();
        let none = Attributes::default();
        let found = |app_name| {
            let partition = Partition {
                app_name: AppName::parse(app_name).expect("valid"),
                platform: request_platform.clone(),
                environment: request_environment.clone(),
            };
            checks
                .candidates(&partition)
                .and_then(|c| c.best(v.as_ref(), &none))
                .is_some()
        };
        assert!(found("Wallpaper App"));
        assert!(!found("wallpaper app"));
        // Stored names are trimmed, and so is the request's.
        assert!(found(" Wallpaper App "));
        assert!(!found("Wallpaper  App"));
    }

    #[test]
    fn precedence_exact_then_attributes_then_force_then_recency() {
        let w = World::new();
        let request = Attributes::from([("country", &["US"][..]), ("tier", &["gold"][..])]);
        let at = |ms| Timestamp::from_unix_millis(ms);

        let range = w.record(">=1.0.0", "range");
        let exact = w.record("1.0.0", "exact");
        assert_eq!(
            answer(&w, vec![range.clone(), exact.clone()], "1.0.0", &request).as_deref(),
            Some("exact")
        );
        // A range with more attributes still loses to an exact version.
        let mut rich_range = w.record("<2", "rich range");
        attrs(
            &mut rich_range,
            &[("country", &["US"]), ("tier", &["gold"])],
        );
        rich_range.force_upgrade = true;
        assert_eq!(
            answer(
                &w,
                vec![rich_range.clone(), exact.clone()],
                "1.0.0",
                &request
            )
            .as_deref(),
            Some("exact")
        );

        let mut one_attr = w.record("1.0.0+1", "one attribute");
        attrs(&mut one_attr, &[("country", &["US"])]);
        let mut two_attrs = w.record("1.0", "two attributes");
        attrs(&mut two_attrs, &[("country", &["US"]), ("tier", &["gold"])]);
        assert_eq!(
            answer(
                &w,
                vec![exact.clone(), two_attrs.clone(), one_attr.clone()],
                "1.0.0",
                &request
            )
            .as_deref(),
            Some("two attributes")
        );

        let mut forced = w.record("1.0.0", "forced");
        forced.force_upgrade = true;
        forced.updated_at = at(1);
        let mut recent = w.record("1", "recent");
        recent.updated_at = at(9_000);
        assert_eq!(
            answer(&w, vec![recent.clone(), forced], "1.0.0", &request).as_deref(),
            Some("forced")
        );
        let mut older = w.record("1.0.0", "older");
        older.updated_at = at(500);
        assert_eq!(
            answer(&w, vec![older, recent], "1.0.0", &request).as_deref(),
            Some("recent")
        );

        // Between two ranges the same order applies.
        let mut forced_range = w.record("^1", "forced range");
        forced_range.force_upgrade = true;
        assert_eq!(
            answer(&w, vec![range, forced_range], "1.5.0", &request).as_deref(),
            Some("forced range")
        );
    }

    #[test]
    fn unparsable_request_versions_match_nothing() {
        let w = World::new();
        let none = Attributes::default();
        assert_eq!(answer(&w, vec![w.record("<9", "r")], "banana", &none), None);
        // Every record's text parses, so no unparsable request equals one.
        assert_eq!(
            answer(&w, vec![w.record("1.0.0", "e")], "1.0.0 beta", &none),
            None
        );
    }

    #[test]
    fn localized_messages() {
        let w = World::new();
        let mut r = w.record("1.0.0", "default");
        r.message_locale = BTreeMap::from([
            ("fr".into(), "français".into()),
            ("pt".into(), "português".into()),
            ("pt_BR".into(), "brasileiro".into()),
            ("de".into(), String::new()),
        ]);
        let candidates = w.candidates(vec![r]);
        let c = candidates
            .best(
                Version::parse("1.0.0").ok().as_ref(),
                &Attributes::default(),
            )
            .expect("matches");
        let cases: &[(Option<&str>, &str)] = &[
            (None, "default"),
            (Some("fr"), "français"),
            (Some("FR"), "français"),
            (Some("fr-CA"), "français"),
            (Some("fr_ca"), "français"),
            (Some("pt-BR"), "brasileiro"),
            (Some("pt_br"), "brasileiro"),
            (Some("pt-PT"), "português"),
            (Some("pt"), "português"),
            (Some("es"), "default"),
            (Some("de"), "default"),
            (Some("de-AT"), "default"),
        ];
        for &(language, expected) in cases {
            let tag = language.map(LanguageTag::parse);
            assert_eq!(c.message(tag.as_ref()), expected, "{language:?}");
        }
    }

    #[test]
    fn missing_message_is_an_empty_string() {
        let w = World::new();
        let candidates = w.candidates(vec![w.record("1.0.0", "")]);
        let c = candidates
            .best(Version::parse("1").ok().as_ref(), &Attributes::default())
            .expect("matches");
        assert_eq!(c.message(Some(&LanguageTag::parse("fr"))), "");
    }
}
