//! Tests of version parsing, matching and ranges.

use super::*;
use proptest::prelude::*;
use std::collections::HashSet;
use std::hash::DefaultHasher;

fn v(s: &str) -> Version {
    Version::parse(s).unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
}

fn rule(s: &str) -> VersionRule {
    VersionRule::parse(s).unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
}

fn hash_of<T: Hash>(t: &T) -> u64 {
    let mut hasher = DefaultHasher::new();
    t.hash(&mut hasher);
    hasher.finish()
}

#[test]
fn parse_accepts_lenient_versions_and_normalizes_display() {
    let long_pre = format!("1.0.0-{}", "a".repeat(MAX_LEN - 6));
    let cases: &[(&str, &str)] = &[
        ("1", "1"),
        ("1.2", "1.2"),
        ("1.2.3", "1.2.3"),
        ("1.0.0.1234", "1.0.0.1234"),
        ("1.2.3.4.5.6.7.8", "1.2.3.4.5.6.7.8"),
        ("v1.2.3", "1.2.3"),
        ("V1.2.3", "1.2.3"),
        ("  1.2.3 \n", "1.2.3"),
        ("\tv2\t", "2"),
        ("1.02", "1.2"),
        ("007.000.01", "7.0.1"),
        ("1.0.0+5", "1.0.0+5"),
        ("1.0.0+001.exp-sha", "1.0.0+001.exp-sha"),
        ("2.1.0-beta.1", "2.1.0-beta.1"),
        ("1.0.0-beta-2", "1.0.0-beta-2"),
        ("1.0.0-rc.1+build.7", "1.0.0-rc.1+build.7"),
        ("1.2-beta", "1.2-beta"),
        ("1.0.0-0", "1.0.0-0"),
        ("18446744073709551615", "18446744073709551615"),
        (long_pre.as_str(), long_pre.as_str()),
    ];
    for (input, shown) in cases {
        assert_eq!(v(input).to_string(), *shown, "display of {input:?}");
        assert_eq!(
            input.parse::<Version>(),
            Ok(v(input)),
            "FromStr of {input:?}"
        );
    }
}

#[test]
fn parse_rejects_malformed_versions() {
    let cases = [
        ".",
        "1.",
        ".1",
        "1..2",
        "a.b",
        "1.x",
        "1.X",
        "1.*",
        "*",
        "x",
        "1 .2",
        "1.2 3",
        "1.2.3.4.5.6.7.8.9",
        "18446744073709551616",
        "1.99999999999999999999",
        "v",
        "vv1",
        "v 1",
        "-beta",
        "+5",
        "+1.2",
        "-1",
        "1.0.0-",
        "1.0.0+",
        "1.0.0-beta..1",
        "1.0.0-01",
        "1.0.0-béta",
        "1.0.0+a+b",
        "1.0.0+a..b",
        "１.２",
        "1.2.3\u{0}",
        "1_000",
        "1e3",
    ];
    for input in cases {
        let err = Version::parse(input).expect_err(input);
        assert!(
            matches!(&err, VersionError::Invalid(msg) if msg.contains("is not a version")),
            "{input:?} gave {err:?}"
        );
    }
}

#[test]
fn parse_rejects_empty_and_too_long_input() {
    assert_eq!(Version::parse(""), Err(VersionError::Empty));
    assert_eq!(Version::parse(" \t\n"), Err(VersionError::Empty));
    assert_eq!(VersionRule::parse("  "), Err(VersionError::Empty));

    let too_long = format!("1.0.0-{}", "a".repeat(MAX_LEN - 5));
    assert_eq!(too_long.chars().count(), MAX_LEN + 1);
    assert_eq!(Version::parse(&too_long), Err(VersionError::TooLong));
    assert_eq!(VersionRule::parse(&too_long), Err(VersionError::TooLong));
    // The bound is in characters, after trimming.
    let padded = format!("   {}   ", "1".repeat(MAX_LEN - 4) + ".0.0");
    assert!(Version::parse(&padded).is_err_and(|e| e != VersionError::TooLong));
    let wide = "é".repeat(MAX_LEN);
    assert!(matches!(
        Version::parse(&wide),
        Err(VersionError::Invalid(_))
    ));
}

#[test]
fn error_messages_name_the_problem() {
    let cases = [
        (
            "1.x",
            "`1.x` is not a version: wildcard `x` is not supported",
        ),
        ("a.b", "`a.b` is not a version: `a` is not a number"),
        (
            "1..2",
            "`1..2` is not a version: it has an empty numeric part",
        ),
        ("1 2", "`1 2` is not a version: it contains whitespace"),
        (
            "99999999999999999999",
            "`99999999999999999999` is too large",
        ),
        ("1.2.3.4.5.6.7.8.9", "more than 8 numeric parts"),
        ("1.0.0-01", "pre-release `01`"),
        (
            "=>1.0",
            "unknown operator `=>`; use <, <=, >, >=, =, ^ or ~",
        ),
        ("!=1.0", "unknown operator `!=`"),
        ("~>1.2", "unknown operator `~>`"),
        (">2, <1", "range `>2, <1` matches no version"),
        (">=1.0.0,,<2", "it has an empty comparator"),
        ("1 || 2", "`||` (either-or) is not supported"),
        (">=1.0.0 <2.0.0", "separate comparators with `,`"),
        ("1.0.0, 1.2.0", "`1.0.0` has no operator"),
        ("<2.0.0+5", "build metadata `+5` is ignored"),
        (">=", "`>=` is not followed by a version"),
        ("1.2\n3", "`1.2\\n3` is not a version"),
    ];
    for (input, expected) in cases {
        let err = VersionRule::parse(input).expect_err(input);
        let message = err.to_string();
        assert!(
            message.contains(expected),
            "{input:?}: {message:?} lacks {expected:?}"
        );
    }
    assert_eq!(VersionError::Empty.to_string(), "version is empty");
    assert_eq!(
        VersionError::TooLong.to_string(),
        "version is longer than 64 characters"
    );
}

#[test]
fn numeric_parts_order_numerically_and_pad_with_zeros() {
    assert!(v("1.10.0") > v("1.9.0"));
    assert!(v("1.0.10") > v("1.0.9"));
    assert!(v("10") > v("9.99.99"));
    assert!(v("1.0.0.1234") > v("1.0.0"));
    assert!(v("1.0.0.1234") < v("1.0.1"));
    assert!(v("1.0.0.1234") > v("1.0.0.999"));
    assert_eq!(v("1.2"), v("1.2.0"));
    assert_eq!(v("1.2"), v("1.2.0.0.0.0.0.0"));
    assert_eq!(v("v1.02"), v("1.2"));
    assert_ne!(v("1.2"), v("1.2.0.0.0.0.0.1"));
}

#[test]
fn pre_release_orders_by_semver_precedence() {
    let ascending = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.0.1-alpha",
        "1.0.0.1",
    ];
    for pair in ascending.windows(2) {
        assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
    }
    assert_eq!(v("1.0-beta"), v("1.0.0-beta"));
}

#[test]
fn build_metadata_is_ignored_by_eq_ord_and_hash() {
    let variants = ["1.0.0", "1.0.0+5", "1.0+build.9", "v1.0.0.0+x", "1"];
    let mut set = HashSet::new();
    for a in variants {
        for b in variants {
            assert_eq!(v(a), v(b));
            assert_eq!(v(a).cmp(&v(b)), Ordering::Equal);
            assert_eq!(hash_of(&v(a)), hash_of(&v(b)));
        }
        set.insert(v(a));
    }
    assert_eq!(set.len(), 1);
    assert_ne!(hash_of(&v("1.0.0-beta")), hash_of(&v("1.0.0")));
}

#[test]
fn matches_truth_table() {
    let cases: &[(&str, &str, bool)] = &[
        ("<2.0.0", "1.9.9", true),
        ("<2.0.0", "2.0.0", false),
        ("<2.0.0", "2.0.0.1", false),
        // Plain precedence: a pre-release of 2.0.0 comes before it.
        ("<2.0.0", "2.0.0-beta", true),
        ("<2", "1.99", true),
        ("<2", "2.0.0", false),
        ("<=2", "2.0.0", true),
        ("<=2", "2.0.0+5", true),
        ("<=2", "2.0.0.1", false),
        ("<=1.2", "1.2.1", false),
        (">1.0", "1.0.0", false),
        (">1.0", "1.0.0.1", true),
        (">1.0", "1.0.1", true),
        (">1.0", "1.0.0-beta", false),
        (">=1.0.0", "1.0.0", true),
        (">=1.0.0", "1.0.0-rc.1", false),
        (">=1.0.0", "0.9", false),
        (">=v1.0.0-rc.1", "1.0.0-rc.2", true),
        ("=1.2", "1.2.0", true),
        ("=1.2", "1.2.0+5", true),
        ("=1.2", "1.2.0.1", false),
        ("=1.2", "1.2.0-beta", false),
        ("^1.2.3", "1.2.3", true),
        ("^1.2.3", "1.9.9", true),
        ("^1.2.3", "1.2.2", false),
        ("^1.2.3", "2.0.0", false),
        ("^1.2.3", "2.0.0-beta", true),
        ("^0.2.3", "0.2.3", true),
        ("^0.2.3", "0.2.9", true),
        ("^0.2.3", "0.3.0", false),
        ("^0.2.3", "0.2.2", false),
        ("^0.0.3", "0.0.3", true),
        ("^0.0.3", "0.0.3.1", true),
        ("^0.0.3", "0.0.4", false),
        ("^1.2", "1.2.0", true),
        ("^1.2", "1.9", true),
        ("^1.2", "1.1.9", false),
        ("^1.2", "2", false),
        ("^1", "1.0.0", true),
        ("^1", "1.99.99", true),
        ("^1", "0.9", false),
        ("^1", "2.0.0", false),
        ("^0", "0.0.0", true),
        ("^0", "0.99", true),
        ("^0", "1.0.0", false),
        ("^0.0", "0.0.9", true),
        ("^0.0", "0.1.0", false),
        ("^0.0.0", "0.0.0", true),
        ("^0.0.0", "0.0.0.5", true),
        ("^0.0.0", "0.0.1", false),
        ("^0.0.0.5", "0.0.0.5.1", true),
        ("^0.0.0.5", "0.0.0.6", false),
        ("^1.2.3-beta.1", "1.2.3-beta.2", true),
        ("^1.2.3-beta.1", "1.2.3-alpha", false),
        ("^18446744073709551615", "18446744073709551615.5", true),
        ("^18446744073709551615", "18446744073709551614", false),
        ("~1.2.3", "1.2.3", true),
        ("~1.2.3", "1.2.99", true),
        ("~1.2.3", "1.2.2", false),
        ("~1.2.3", "1.3.0", false),
        ("~1.2", "1.2.0", true),
        ("~1.2", "1.2.9", true),
        ("~1.2", "1.3", false),
        ("~1", "1.0", true),
        ("~1", "1.9", true),
        ("~1", "2", false),
        ("~0", "0.5", true),
        ("~0", "1", false),
        ("~1.2.3.4", "1.2.3.4", true),
        ("~1.2.3.4", "1.2.3.3", false),
        ("~1.2.3.4", "1.2.99", true),
        ("~1.2.3.4", "1.3", false),
        (">=1.0.0, <1.4.0", "1.0.0", true),
        (">=1.0.0, <1.4.0", "1.3.99", true),
        (">=1.0.0, <1.4.0", "1.4.0", false),
        (">=1.0.0, <1.4.0", "0.9", false),
        (" >= 1.0.0 , < 1.4.0 ", "1.2", true),
        (" >= 1.0.0 , < 1.4.0 ", "1.4", false),
        (">1, <=1.5, ^1.2", "1.2.0", true),
        (">1, <=1.5, ^1.2", "1.5", true),
        (">1, <=1.5, ^1.2", "1.5.0.1", false),
        (">1, <=1.5, ^1.2", "1.1.9", false),
        (">=1, <=1", "1.0.0", true),
        (">=1, <=1", "1.0.0.1", false),
        ("1.2", "1.2.0", true),
        ("1.2", "1.2.0+9", true),
        ("1.2", "1.2.1", false),
        ("1.0.0.1234", "1.0.0.1234", true),
        ("1.0.0.1234", "1.0.0", false),
        ("2.1.0-beta.1", "2.1.0-beta.1", true),
        ("2.1.0-beta.1", "2.1.0", false),
    ];
    for (rule_text, version, expected) in cases {
        assert_eq!(
            rule(rule_text).matches(&v(version)),
            *expected,
            "{rule_text:?} matches {version:?}"
        );
    }
}

#[test]
fn rule_kind_follows_the_leading_character() {
    let cases = [
        ("1.2", true),
        ("v1.2.3+5", true),
        ("=1.2", false),
        ("<2", false),
        ("^1", false),
        ("~1", false),
        (">=1, <2", false),
    ];
    for (input, exact) in cases {
        assert_eq!(rule(input).is_exact(), exact, "{input:?}");
    }
    assert_eq!(rule(" 1.02 "), VersionRule::Exact(v("1.2")));
}

#[test]
fn range_parse_rejects_malformed_rules() {
    let nine = [">=1"; MAX_COMPARATORS + 1].join(",");
    let eight = [">=1"; MAX_COMPARATORS].join(",");
    assert!(VersionRule::parse(&eight).is_ok());
    let cases = [
        ">=1.0.0,,<2",
        ">=1.0.0,",
        ",>=1",
        ",",
        "=>1.0",
        "!=1.0",
        "!1.0",
        "~>1.2",
        "<>1",
        "==1",
        ">=1.x",
        "^*",
        "1.0.0 || 2.0.0",
        ">1 || <0.5",
        "1 | 2",
        ">=1.0.0 <2.0.0",
        "<",
        ">= ",
        "1.0.0, 1.2.0",
        "*, <2",
        "<2.0.0+5",
        "^1+build",
        ">2, <1",
        ">=1, <1",
        ">1, <=1",
        "=1, =2",
        "^1, >=2",
        "~1.2, <1.2",
        ">=1.0.0 , < 1.x",
        nine.as_str(),
    ];
    for input in cases {
        let err = VersionRule::parse(input).expect_err(input);
        assert!(
            matches!(err, VersionError::Invalid(_)),
            "{input:?}: {err:?}"
        );
    }
}

#[test]
fn range_display_is_canonical_and_reparses() {
    let cases = [
        (">= 1.0.0 , < 1.4.0", ">=1.0.0, <1.4.0"),
        ("^v01.2", "^1.2"),
        ("~1", "~1"),
        ("~ 1.0.0", "~1.0.0"),
        ("=1.2,<=3", "=1.2, <=3"),
        (">1.0.0-rc.1", ">1.0.0-rc.1"),
        ("v1.02.3+5", "1.2.3+5"),
    ];
    for (input, canonical) in cases {
        let parsed = rule(input);
        assert_eq!(parsed.to_string(), canonical);
        assert_eq!(rule(canonical), parsed);
        assert_eq!(VersionRule::parse(canonical), Ok(parsed));
    }
}

#[test]
fn caret_and_tilde_equality_follows_their_bounds() {
    assert_eq!(rule("^1.2"), rule("^1.2.0"));
    assert_eq!(rule("~1.2"), rule("~1.2.0"));
    assert_ne!(rule("~1"), rule("~1.0.0"));
    assert_ne!(rule("^0.0"), rule("^0.0.0"));
    assert_ne!(rule("=1.2"), rule("1.2"));
}

#[test]
fn sort_version_is_lowest_lower_bound_else_lowest_upper_bound() {
    let cases = [
        ("1.2.3+5", "1.2.3"),
        (">=1.0.0, <1.4.0", "1.0.0"),
        ("<1.4.0, >1.0.0", "1.0.0"),
        ("<2.0.0", "2.0.0"),
        ("<3, <=2", "2"),
        ("^1.2", "1.2"),
        ("~0.5", "0.5"),
        ("=1.7", "1.7"),
        (">=1.5, >=1.2", "1.2"),
    ];
    for (input, expected) in cases {
        assert_eq!(rule(input).sort_version(), &v(expected), "{input:?}");
    }
}

#[test]
fn rules_sort_by_version_then_exact_first_then_text() {
    let mut rules: Vec<VersionRule> = [
        "2.0.0",
        "<2.0.0",
        "1.10.0",
        "1.9.0",
        ">=1.0.0, <1.4.0",
        "1.0.0",
        "^1.9",
        ">1.9.0",
        ">=1.9.0",
        "<1.0.0",
        "0.9",
    ]
    .iter()
    .map(|s| rule(s))
    .collect();
    rules.sort_by(|a, b| {
        a.sort_key()
            .cmp(&b.sort_key())
            .then_with(|| a.to_string().cmp(&b.to_string()))
    });
    let sorted: Vec<String> = rules.iter().map(ToString::to_string).collect();
    assert_eq!(
        sorted,
        [
            "0.9",
            "1.0.0",
            "<1.0.0",
            ">=1.0.0, <1.4.0",
            "1.9.0",
            ">1.9.0",
            ">=1.9.0",
            "^1.9",
            "1.10.0",
            "2.0.0",
            "<2.0.0",
        ]
    );
    assert_eq!(rule("1.0.0+5").sort_key(), rule("1.0").sort_key());
    assert!(rule("1.0.0").sort_key() < rule("=1.0.0").sort_key());
}

fn version_text() -> impl Strategy<Value = String> {
    (
        prop::option::of("[vV]"),
        prop::collection::vec((0u64..30, prop::bool::weighted(0.1)), 1..=MAX_PARTS),
        prop::option::of("[0-9a-zA-Z-]{1,4}(\\.[0-9a-zA-Z-]{1,4}){0,2}"),
        prop::option::of("[0-9a-zA-Z-]{1,4}(\\.[0-9a-zA-Z-]{1,4}){0,1}"),
    )
        .prop_map(|(prefix, parts, pre, build)| {
            let release: Vec<String> = parts
                .iter()
                .map(|(n, zero)| {
                    if *zero {
                        format!("0{n}")
                    } else {
                        n.to_string()
                    }
                })
                .collect();
            let mut text = prefix.unwrap_or_default() + &release.join(".");
            if let Some(pre) = pre {
                text = text + "-" + &pre;
            }
            if let Some(build) = build {
                text = text + "+" + &build;
            }
            text
        })
}

fn valid_version() -> impl Strategy<Value = Version> {
    version_text().prop_filter_map("pre-release with a leading zero", |s| {
        Version::parse(&s).ok()
    })
}

fn plain_version_text() -> impl Strategy<Value = String> {
    "[0-3](\\.[0-3]){0,3}(-[a-c0-2]{1,2})?".prop_filter("pre-release with a leading zero", |s| {
        Version::parse(s).is_ok()
    })
}

fn valid_rule() -> impl Strategy<Value = VersionRule> {
    let comparator = (
        prop::sample::select(vec!["", "<", "<=", ">", ">=", "=", "^", "~"]),
        "[0-3](\\.[0-3]){0,3}(-[a-c0-2]{1,2})?",
    )
        .prop_map(|(op, ver)| format!("{op}{ver}"));
    prop::collection::vec(comparator, 1..=3).prop_filter_map("not a valid rule", |parts| {
        VersionRule::parse(&parts.join(", ")).ok()
    })
}

proptest! {
    #[test]
    fn parse_never_panics_on_arbitrary_text(s in any::<String>()) {
        let version = Version::parse(&s);
        let parsed_rule = VersionRule::parse(&s);
        // Whatever parses as a version parses as the same exact rule,
        // unless it looks like a range.
        if let (Ok(version), Ok(VersionRule::Exact(exact))) = (version, parsed_rule) {
            prop_assert_eq!(version, exact);
        }
    }

    #[test]
    fn parse_never_panics_on_version_like_text(
        s in "[ 0-9vVxX*.+\\-a-c<>=!^~,|é]{0,70}"
    ) {
        if let Ok(parsed) = VersionRule::parse(&s) {
            prop_assert_eq!(VersionRule::parse(&parsed.to_string()), Ok(parsed));
        }
        if let Ok(parsed) = Version::parse(&s) {
            prop_assert!(parsed.len >= 1 && parsed.len <= MAX_PARTS);
        }
    }

    #[test]
    fn display_reparses_to_an_equal_version(version in valid_version()) {
        let shown = version.to_string();
        let reparsed = Version::parse(&shown);
        prop_assert_eq!(reparsed.as_ref(), Ok(&version));
        prop_assert_eq!(reparsed.map(|r| r.to_string()), Ok(shown));
    }

    #[test]
    fn trailing_zero_parts_do_not_change_a_version(
        parts in prop::collection::vec(0u64..1000, 1..MAX_PARTS)
    ) {
        let text = parts.iter().map(u64::to_string).collect::<Vec<_>>().join(".");
        let padded = format!("{text}.0");
        prop_assert_eq!(v(&text).cmp(&v(&padded)), Ordering::Equal);
        prop_assert_eq!(hash_of(&v(&text)), hash_of(&v(&padded)));
    }

    #[test]
    fn version_ord_is_consistent_with_eq_and_hash(
        a in valid_version(),
        b in valid_version(),
        c in valid_version(),
    ) {
        prop_assert_eq!(a.cmp(&b) == Ordering::Equal, a == b);
        prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
        prop_assert_eq!(a.partial_cmp(&b), Some(a.cmp(&b)));
        if a == b {
            prop_assert_eq!(hash_of(&a), hash_of(&b));
        }
        if a <= b && b <= c {
            prop_assert!(a <= c);
        }
    }

    #[test]
    fn three_part_order_agrees_with_semver(
        a in (0u64..5, 0u64..5, 0u64..5, prop::option::of("[a-c0-2]{1,2}(\\.[a-c0-2]{1,2})?")),
        b in (0u64..5, 0u64..5, 0u64..5, prop::option::of("[a-c0-2]{1,2}(\\.[a-c0-2]{1,2})?")),
    ) {
        let text = |(x, y, z, pre): &(u64, u64, u64, Option<String>)| match pre {
            Some(pre) => format!("{x}.{y}.{z}-{pre}"),
            None => format!("{x}.{y}.{z}"),
        };
        let (a, b) = (text(&a), text(&b));
        if let (Ok(ours_a), Ok(ours_b), Ok(theirs_a), Ok(theirs_b)) = (
            Version::parse(&a),
            Version::parse(&b),
            semver::Version::parse(&a),
            semver::Version::parse(&b),
        ) {
            prop_assert_eq!(ours_a.cmp(&ours_b), theirs_a.cmp_precedence(&theirs_b));
        }
    }

    #[test]
    fn caret_tilde_and_full_bounds_agree_with_semver(
        op in prop::sample::select(vec!["^", "~", "<", "<=", ">", ">="]),
        bound in prop::collection::vec(0u64..3, 1..=3),
        candidate in (0u64..4, 0u64..4, 0u64..4),
    ) {
        // Cargo widens partial `<=`, `>` and `=`; ours zero-pad, so only
        // full versions are comparable for those.
        prop_assume!(matches!(op, "^" | "~" | "<" | ">=") || bound.len() == 3);
        let bound = bound.iter().map(u64::to_string).collect::<Vec<_>>().join(".");
        let candidate = format!("{}.{}.{}", candidate.0, candidate.1, candidate.2);
        let req = format!("{op}{bound}");
        let theirs = semver::VersionReq::parse(&req)
            .map(|r| r.matches(&semver::Version::parse(&candidate).unwrap_or_else(|e| panic!("{e}"))));
        prop_assert_eq!(Ok(rule(&req).matches(&v(&candidate))), theirs.map_err(|_| ()));
    }

    #[test]
    fn rule_display_parses_back_to_the_same_rule(a in valid_rule()) {
        prop_assert_eq!(VersionRule::parse(&a.to_string()), Ok(a.clone()));
    }

    #[test]
    fn a_bounded_range_is_accepted_exactly_when_something_fits(
        a in plain_version_text(),
        b in plain_version_text(),
    ) {
        let (low, high) = (v(&a), v(&b));
        let half_open = VersionRule::parse(&format!(">={a}, <{b}"));
        prop_assert_eq!(half_open.is_ok(), low < high);
        if let Ok(half_open) = half_open {
            prop_assert!(half_open.matches(&low));
            prop_assert!(!half_open.matches(&high));
            prop_assert_eq!(half_open.sort_version(), &low);
        }
        let closed = VersionRule::parse(&format!(">={a}, <={b}"));
        prop_assert_eq!(closed.is_ok(), low <= high);
        if let Ok(closed) = closed {
            prop_assert!(closed.matches(&low) && closed.matches(&high));
        }
        let exact = rule(&format!("={a}"));
        prop_assert_eq!(exact.matches(&high), low == high);
    }
}
