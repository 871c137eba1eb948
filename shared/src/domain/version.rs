//! Mobile app versions and the range rules a version record may hold.
//!
//! Versions are parsed leniently because they come from app stores and build
//! tools, not from SemVer purists: `1`, `1.2`, `1.2.3` and Android
//! `versionName`s like `1.0.0.1234` (1 to 8 numeric parts, each a `u64`), a
//! leading `v`/`V`, leading zeros (`1.02` is `1.2`) and surrounding whitespace
//! are all accepted. Missing parts count as 0, so `1.2` == `1.2.0` ==
//! `1.2.0.0`. An optional pre-release (`-beta.1`) orders by SemVer 2.0
//! precedence (`1.0.0-beta` < `1.0.0`); build metadata (`+5`) is kept for
//! display but ignored by `Eq`, `Ord` and `Hash`.
//!
//! A range rule is comparators joined by `,`; a version matches when it
//! satisfies all of them:
//!
//! - `<V`, `<=V`, `>V`, `>=V`, `=V` compare with the version order above, so
//!   a partial `V` is zero-padded: `<2` is `<2.0.0`, `=1.2` is exactly
//!   `1.2.0` and `<=1.2` excludes `1.2.1` (unlike Cargo, which widens them).
//! - `^V` allows changes that keep the first non-zero written part:
//!   `^1.2.3` is `>=1.2.3, <2.0.0`, `^0.2.3` is `>=0.2.3, <0.3.0`, `^0.0.3` is
//!   `>=0.0.3, <0.0.4`; when every written part is zero the last one is
//!   bumped: `^0` is `<1.0.0`, `^0.0` is `<0.1.0`.
//! - `~V` allows changes below the minor part: `~1.2.3` is
//!   `>=1.2.3, <1.3.0`, `~1.2` is `>=1.2.0, <1.3.0`, `~1` is `>=1.0.0, <2.0.0`.
//! - Bounds are plain version comparisons, with none of npm's or Cargo's
//!   special pre-release rules: `<2.0.0` and `^1` match `2.0.0-beta` (it
//!   precedes `2.0.0`), and `>=1.0.0` does not match `1.0.0-rc.1`.
//!
//! Whitespace may surround comparators and follow operators
//! (`>= 1.0.0 , < 1.4.0`). Rejected: empty comparators, unknown operators
//! (`=>`, `!=`, `~>`), wildcards (`*`, `1.x`), `||`, comparators without an
//! operator, build metadata in a range (it would be silently ignored), more
//! than 8 comparators, and ranges whose bounds cross (`>2, <1`) since such a
//! rule is a mistake that would never match. Inputs are at most 64 characters,
//! the API's bound on `appVersion`.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use semver::{BuildMetadata, Prerelease};

/// Longest accepted version or rule, in characters (after trimming).
pub const MAX_LEN: usize = 64;
/// Most numeric release parts in a version.
pub const MAX_PARTS: usize = 8;
/// Most comparators in a range rule.
pub const MAX_COMPARATORS: usize = 8;

const OPERATORS: &str = "<, <=, >, >=, =, ^ or ~";

/// Why an `appVersion` or a request's app version was rejected; the message
/// is meant for the API's 400 body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    #[error("version is empty")]
    Empty,
    #[error("version is longer than 64 characters")]
    TooLong,
    #[error("{0}")]
    Invalid(String),
}

/// A parsed, comparable version; see the module docs for what is accepted.
#[derive(Debug, Clone)]
pub struct Version {
    // Slots past `len` stay 0, so comparing whole arrays is the zero-padded
    // comparison, with no allocation on the check hot path.
    release: [u64; MAX_PARTS],
    // The number of parts as written: Display and the caret/tilde bounds
    // depend on it, equality does not.
    len: usize,
    pre: Prerelease,
    build: BuildMetadata,
}

impl Version {
    pub fn parse(input: &str) -> Result<Version, VersionError> {
        parse_version(bounded(input)?)
    }

    /// The smallest release above every version that shares the first
    /// `idx + 1` parts, or `None` when that part is already `u64::MAX` (then
    /// nothing is above, and the bound is open).
    fn bumped_at(&self, idx: usize) -> Option<Version> {
        let mut release = [0; MAX_PARTS];
        release[..idx].copy_from_slice(&self.release[..idx]);
        release[idx] = self.release[idx].checked_add(1)?;
        Some(Version {
            release,
            len: self.len.max(idx + 1),
            pre: Prerelease::EMPTY,
            build: BuildMetadata::EMPTY,
        })
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.release == other.release && self.pre == other.pre
    }
}

impl Eq for Version {}

impl Hash for Version {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.release.hash(state);
        self.pre.hash(state);
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.release
            .cmp(&other.release)
            .then_with(|| self.pre.cmp(&other.pre))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl FromStr for Version {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Version::parse(s)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, part) in self.release[..self.len].iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{part}")?;
        }
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        if !self.build.is_empty() {
            write!(f, "+{}", self.build)?;
        }
        Ok(())
    }
}

/// What a version record's `appVersion` holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VersionRule {
    Exact(Version),
    Range(VersionRange),
}

impl VersionRule {
    /// A range if the input starts with an operator or holds a `,` or `|`,
    /// else an exact version. `!` counts as an operator so that `!=1.0`
    /// gets the "unknown operator" message rather than "not a version".
    pub fn parse(input: &str) -> Result<VersionRule, VersionError> {
        let text = bounded(input)?;
        if text.starts_with(['<', '>', '=', '^', '~', '!']) || text.contains([',', '|']) {
            parse_range(text).map(VersionRule::Range)
        } else {
            parse_version(text).map(VersionRule::Exact)
        }
    }

    pub fn matches(&self, v: &Version) -> bool {
        match self {
            VersionRule::Exact(exact) => exact == v,
            VersionRule::Range(range) => range.matches(v),
        }
    }

    pub fn is_exact(&self) -> bool {
        matches!(self, VersionRule::Exact(_))
    }

    /// Version used to order records when listing by appVersion: the exact
    /// version, or for a range its lowest lower bound if it has one, else its
    /// lowest upper bound.
    pub fn sort_version(&self) -> &Version {
        match self {
            VersionRule::Exact(exact) => exact,
            VersionRule::Range(range) => &range.sort_version,
        }
    }
}

/// By `sort_version()`, then exact before range, then between ranges
/// comparator by comparator (operator in ASCII order, then version). That last
/// step orders like the canonical Display string would, yet stays consistent
/// with `Eq`, which the string could not: `1.0.0+5` == `1.0.0` and `^1.2` ==
/// `^1.2.0` print differently.
impl Ord for VersionRule {
    fn cmp(&self, other: &Self) -> Ordering {
        self.sort_version()
            .cmp(other.sort_version())
            .then_with(|| self.kind_rank().cmp(&other.kind_rank()))
            .then_with(|| match (self, other) {
                (VersionRule::Range(a), VersionRule::Range(b)) => a.comparators.cmp(&b.comparators),
                _ => Ordering::Equal,
            })
    }
}

impl VersionRule {
    fn kind_rank(&self) -> u8 {
        match self {
            VersionRule::Exact(_) => 0,
            VersionRule::Range(_) => 1,
        }
    }
}

impl PartialOrd for VersionRule {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl FromStr for VersionRule {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        VersionRule::parse(s)
    }
}

/// Canonical form: no operator spacing, comparators joined by `", "`,
/// versions without leading zeros but with as many parts as written (the
/// precision of `^`/`~` depends on it).
impl fmt::Display for VersionRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionRule::Exact(exact) => exact.fmt(f),
            VersionRule::Range(range) => range.fmt(f),
        }
    }
}

/// Comparators that a version must all satisfy. Never empty, never
/// contradictory (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VersionRange {
    comparators: Vec<Comparator>,
    // Derived from `comparators` once, so listing sorts without recomputing.
    sort_version: Version,
}

impl VersionRange {
    pub fn matches(&self, v: &Version) -> bool {
        self.comparators.iter().all(|c| c.matches(v))
    }
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, comparator) in self.comparators.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            comparator.fmt(f)?;
        }
        Ok(())
    }
}

// Variant order mirrors the ASCII order of the operators so that ranges sort
// as their canonical strings would. Caret and tilde keep their computed upper
// bound: it makes `matches` branch-only and makes `~1` != `~1.0.0`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Comparator {
    Less(Version),
    LessEq(Version),
    Exact(Version),
    Greater(Version),
    GreaterEq(Version),
    Caret {
        lower: Version,
        upper: Option<Version>,
    },
    Tilde {
        lower: Version,
        upper: Option<Version>,
    },
}

/// A bound: the version and whether it is inclusive.
type Bound<'a> = (&'a Version, bool);

impl Comparator {
    fn caret(lower: Version) -> Comparator {
        let idx = lower.release[..lower.len]
            .iter()
            .position(|&part| part != 0)
            .unwrap_or(lower.len - 1);
        let upper = lower.bumped_at(idx);
        Comparator::Caret { lower, upper }
    }

    fn tilde(lower: Version) -> Comparator {
        let idx = if lower.len == 1 { 0 } else { 1 };
        let upper = lower.bumped_at(idx);
        Comparator::Tilde { lower, upper }
    }

    fn matches(&self, v: &Version) -> bool {
        match self {
            Comparator::Less(b) => v < b,
            Comparator::LessEq(b) => v <= b,
            Comparator::Exact(b) => v == b,
            Comparator::Greater(b) => v > b,
            Comparator::GreaterEq(b) => v >= b,
            Comparator::Caret { lower, upper } | Comparator::Tilde { lower, upper } => {
                v >= lower && upper.as_ref().is_none_or(|u| v < u)
            }
        }
    }

    fn lower(&self) -> Option<Bound<'_>> {
        match self {
            Comparator::Less(_) | Comparator::LessEq(_) => None,
            Comparator::Greater(b) => Some((b, false)),
            Comparator::Exact(b) | Comparator::GreaterEq(b) => Some((b, true)),
            Comparator::Caret { lower, .. } | Comparator::Tilde { lower, .. } => {
                Some((lower, true))
            }
        }
    }

    fn upper(&self) -> Option<Bound<'_>> {
        match self {
            Comparator::Greater(_) | Comparator::GreaterEq(_) => None,
            Comparator::Less(b) => Some((b, false)),
            Comparator::Exact(b) | Comparator::LessEq(b) => Some((b, true)),
            Comparator::Caret { upper, .. } | Comparator::Tilde { upper, .. } => {
                upper.as_ref().map(|u| (u, false))
            }
        }
    }
}

impl fmt::Display for Comparator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (op, v) = match self {
            Comparator::Less(v) => ("<", v),
            Comparator::LessEq(v) => ("<=", v),
            Comparator::Exact(v) => ("=", v),
            Comparator::Greater(v) => (">", v),
            Comparator::GreaterEq(v) => (">=", v),
            Comparator::Caret { lower, .. } => ("^", lower),
            Comparator::Tilde { lower, .. } => ("~", lower),
        };
        write!(f, "{op}{v}")
    }
}

/// Trims and bounds the input. Bytes are checked first so that only a long
/// non-ASCII input pays for counting characters.
fn bounded(input: &str) -> Result<&str, VersionError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(VersionError::Empty);
    }
    if text.len() > MAX_LEN && text.chars().count() > MAX_LEN {
        return Err(VersionError::TooLong);
    }
    Ok(text)
}

// Inputs are echoed in messages, escaped so that control characters cannot
// garble a log line or an error body.
fn not_a_version(text: &str, reason: impl fmt::Display) -> VersionError {
    VersionError::Invalid(format!(
        "`{}` is not a version: {reason}",
        text.escape_debug()
    ))
}

fn invalid_range(range: &str, reason: impl fmt::Display) -> VersionError {
    VersionError::Invalid(format!(
        "`{}` is not a valid range: {reason}",
        range.escape_debug()
    ))
}

/// Parses an already trimmed and bounded version.
fn parse_version(text: &str) -> Result<Version, VersionError> {
    let body = text.strip_prefix(['v', 'V']).unwrap_or(text);
    if body.contains(char::is_whitespace) {
        return Err(not_a_version(text, "it contains whitespace"));
    }
    let (body, build) = match body.split_once('+') {
        Some((body, build)) => (body, Some(build)),
        None => (body, None),
    };
    let (release_text, pre) = match body.split_once('-') {
        Some((release, pre)) => (release, Some(pre)),
        None => (body, None),
    };
    if release_text.is_empty() {
        return Err(not_a_version(text, "it does not start with a number"));
    }

    let mut release = [0; MAX_PARTS];
    let mut len = 0;
    for part in release_text.split('.') {
        if len == MAX_PARTS {
            return Err(not_a_version(
                text,
                format_args!("it has more than {MAX_PARTS} numeric parts"),
            ));
        }
        release[len] = parse_part(text, part)?;
        len += 1;
    }

    let pre = match pre {
        None => Prerelease::EMPTY,
        Some("") => return Err(not_a_version(text, "the pre-release after `-` is empty")),
        Some(pre) => Prerelease::new(pre).map_err(|e| {
            not_a_version(
                text,
                format_args!("pre-release `{}`: {e}", pre.escape_debug()),
            )
        })?,
    };
    let build = match build {
        None => BuildMetadata::EMPTY,
        Some("") => {
            return Err(not_a_version(text, "the build metadata after `+` is empty"));
        }
        Some(build) => BuildMetadata::new(build).map_err(|e| {
            not_a_version(
                text,
                format_args!("build metadata `{}`: {e}", build.escape_debug()),
            )
        })?,
    };

    Ok(Version {
        release,
        len,
        pre,
        build,
    })
}

fn parse_part(text: &str, part: &str) -> Result<u64, VersionError> {
    if part.is_empty() {
        return Err(not_a_version(text, "it has an empty numeric part"));
    }
    if matches!(part, "x" | "X" | "*") {
        return Err(not_a_version(
            text,
            format_args!(
                "wildcard `{part}` is not supported; write a range such as `^1` or `>=1.0.0, <2.0.0`"
            ),
        ));
    }
    // Hand-rolled rather than `u64::from_str`, which would accept a `+` sign.
    let mut value: u64 = 0;
    for byte in part.bytes() {
        if !byte.is_ascii_digit() {
            return Err(not_a_version(
                text,
                format_args!("`{}` is not a number", part.escape_debug()),
            ));
        }
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(byte - b'0')))
            .ok_or_else(|| not_a_version(text, format_args!("`{part}` is too large")))?;
    }
    Ok(value)
}

/// Parses an already trimmed and bounded range rule.
fn parse_range(text: &str) -> Result<VersionRange, VersionError> {
    if text.contains('|') {
        return Err(invalid_range(
            text,
            "`||` (either-or) is not supported; create one record per range",
        ));
    }
    let mut comparators = Vec::with_capacity(2);
    for piece in text.split(',') {
        let piece = piece.trim();
        if piece.is_empty() {
            return Err(invalid_range(text, "it has an empty comparator"));
        }
        if comparators.len() == MAX_COMPARATORS {
            return Err(invalid_range(
                text,
                format_args!("it has more than {MAX_COMPARATORS} comparators"),
            ));
        }
        comparators.push(parse_comparator(text, piece)?);
    }

    if crossed(&comparators) {
        return Err(VersionError::Invalid(format!(
            "range `{}` matches no version",
            text.escape_debug()
        )));
    }
    let sort_version = comparators
        .iter()
        .filter_map(Comparator::lower)
        .map(|(v, _)| v)
        .min()
        .or_else(|| {
            comparators
                .iter()
                .filter_map(Comparator::upper)
                .map(|(v, _)| v)
                .min()
        })
        .cloned()
        // Unreachable: every comparator has a lower bound except `<`/`<=`,
        // which have an upper one. An error beats a panic all the same.
        .ok_or_else(|| invalid_range(text, "it has no bound"))?;

    Ok(VersionRange {
        comparators,
        sort_version,
    })
}

fn parse_comparator(range: &str, piece: &str) -> Result<Comparator, VersionError> {
    let op_len = piece
        .find(|c: char| !matches!(c, '<' | '>' | '=' | '!' | '^' | '~'))
        .unwrap_or(piece.len());
    let (op, rest) = piece.split_at(op_len);
    let known = matches!(op, "" | "<" | "<=" | ">" | ">=" | "=" | "^" | "~");
    if !known {
        return Err(invalid_range(
            range,
            format_args!("unknown operator `{op}`; use {OPERATORS}"),
        ));
    }
    let rest = rest.trim_start();
    if rest.is_empty() {
        return Err(invalid_range(
            range,
            format_args!("`{op}` is not followed by a version"),
        ));
    }
    // npm separates comparators with spaces; say what to write instead.
    if rest.contains(char::is_whitespace) && rest.contains(['<', '>', '=', '^', '~']) {
        return Err(invalid_range(
            range,
            "separate comparators with `,`, as in `>=1.0.0, <2.0.0`",
        ));
    }
    let version = parse_version(rest)?;
    if !version.build.is_empty() {
        return Err(invalid_range(
            range,
            format_args!(
                "build metadata `+{}` is ignored when comparing versions, so it cannot bound a range",
                version.build
            ),
        ));
    }
    Ok(match op {
        "<" => Comparator::Less(version),
        "<=" => Comparator::LessEq(version),
        "=" => Comparator::Exact(version),
        ">" => Comparator::Greater(version),
        ">=" => Comparator::GreaterEq(version),
        "^" => Comparator::caret(version),
        "~" => Comparator::tilde(version),
        _ => {
            return Err(invalid_range(
                range,
                format_args!(
                    "`{}` has no operator; use {OPERATORS}",
                    piece.escape_debug()
                ),
            ));
        }
    })
}

/// Whether the tightest lower bound lies above the tightest upper bound (or
/// meets it with either side exclusive). Versions are dense enough (a fourth
/// part or a pre-release fits between any two releases) that this is exactly
/// "matches nothing" except for pathological pre-release gaps such as
/// `>1.0.0-a, <1.0.0-a.0`, which are accepted and match nothing.
fn crossed(comparators: &[Comparator]) -> bool {
    let lower = tightest(
        comparators.iter().filter_map(Comparator::lower),
        Ordering::Greater,
    );
    let upper = tightest(
        comparators.iter().filter_map(Comparator::upper),
        Ordering::Less,
    );
    match (lower, upper) {
        (Some((lo, lo_inclusive)), Some((hi, hi_inclusive))) => match lo.cmp(hi) {
            Ordering::Greater => true,
            Ordering::Equal => !(lo_inclusive && hi_inclusive),
            Ordering::Less => false,
        },
        _ => false,
    }
}

/// The bound furthest in the `keep` direction; at equal versions, the
/// exclusive one is tighter.
fn tightest<'a>(bounds: impl Iterator<Item = Bound<'a>>, keep: Ordering) -> Option<Bound<'a>> {
    bounds.reduce(|best, b| match b.0.cmp(best.0) {
        Ordering::Equal => (b.0, b.1 && best.1),
        ord if ord == keep => b,
        _ => best,
    })
}

#[cfg(test)]
mod tests {
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
            assert_eq!(canonical.parse::<VersionRule>(), Ok(parsed));
        }
    }

    #[test]
    fn caret_and_tilde_equality_follows_their_bounds() {
        assert_eq!(rule("^1.2"), rule("^1.2.0"));
        assert_eq!(rule("~1.2"), rule("~1.2.0"));
        assert_ne!(rule("~1"), rule("~1.0.0"));
        assert_ne!(rule("^0.0"), rule("^0.0.0"));
        assert_ne!(rule("=1.2"), rule("1.2"));
        assert_eq!(hash_of(&rule("^1.2")), hash_of(&rule("^1.2.0")));
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
    fn rules_sort_by_version_then_exact_first_then_comparators() {
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
        rules.sort();
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
        assert_eq!(rule("1.0.0+5").cmp(&rule("1.0")), Ordering::Equal);
        assert!(rule("1.0.0") < rule("=1.0.0"));
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
        "[0-3](\\.[0-3]){0,3}(-[a-c0-2]{1,2})?"
            .prop_filter("pre-release with a leading zero", |s| {
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
        fn rule_ord_is_consistent_with_eq_and_hash(
            a in valid_rule(),
            b in valid_rule(),
            c in valid_rule(),
        ) {
            prop_assert_eq!(a.cmp(&b) == Ordering::Equal, a == b);
            prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
            if a == b {
                prop_assert_eq!(hash_of(&a), hash_of(&b));
            }
            if a <= b && b <= c {
                prop_assert!(a <= c);
            }
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
}
