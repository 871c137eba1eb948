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
#[derive(Debug, Clone, PartialEq, Eq)]
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

    /// How listing orders rules: by [`Self::sort_version`], an exact version
    /// before a range at the same version.
    pub fn sort_key(&self) -> (&Version, bool) {
        (self.sort_version(), !self.is_exact())
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
#[derive(Debug, Clone, PartialEq, Eq)]
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

// Caret and tilde keep their computed upper bound: it makes `matches`
// branch-only and makes `~1` != `~1.0.0`.
#[derive(Debug, Clone, PartialEq, Eq)]
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
mod tests;
