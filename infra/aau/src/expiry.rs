//! The token's expiry, as the server states it on every answer to a PAT
//! (`Aau-Token-Expires-At`): a pipeline is warned two weeks ahead, not
//! stopped by a 401 on release day.

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

pub const HEADER: &str = "aau-token-expires-at";

/// How far ahead an expiry is worth a warning.
pub const WARN_WITHIN: Duration = Duration::days(14);

/// The one-line warning for a token expiring at `header` (RFC 3339), when
/// that is less than [`WARN_WITHIN`] after `now`; `None` otherwise, and for
/// a value that is not a timestamp (it is never echoed).
pub fn warning(header: &str, now: OffsetDateTime) -> Option<String> {
    let expires_at = OffsetDateTime::parse(header.trim(), &Rfc3339).ok()?;
    let left = expires_at - now;
    if left >= WARN_WITHIN {
        return None;
    }
    let at = expires_at.format(&Rfc3339).ok()?;
    let when = match left {
        left if left <= Duration::ZERO => "has expired".to_owned(),
        left if left < Duration::days(2) => format!("expires in {} hours", left.whole_hours()),
        // Rounded: a token created for 13 days says 13 until its last half day.
        left => format!(
            "expires in {} days",
            (left + Duration::hours(12)).whole_days()
        ),
    };
    Some(format!(
        "the token {when} ({at}): create its replacement and update this pipeline's secret"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        OffsetDateTime::parse("2026-12-06T07:00:00Z", &Rfc3339).expect("valid")
    }

    #[test]
    fn warns_within_fourteen_days_only() {
        assert_eq!(warning("2026-12-21T07:00:00.000Z", now()), None, "15 days");
        assert_eq!(warning("2026-12-20T07:00:00.000Z", now()), None, "14 days");
        assert_eq!(
            warning("2026-12-19T06:59:59.000Z", now()).as_deref(),
            Some(
                "the token expires in 13 days (2026-12-19T06:59:59Z): \
                 create its replacement and update this pipeline's secret"
            )
        );
        let soon = warning("2026-12-07T01:00:00Z", now()).expect("warned");
        assert!(soon.contains("expires in 18 hours"), "{soon}");
        let gone = warning("2026-12-01T00:00:00Z", now()).expect("warned");
        assert!(gone.contains("has expired"), "{gone}");
    }

    #[test]
    fn a_value_that_is_no_timestamp_is_ignored() {
        for bad in ["", "soon", "2026-12-07\n::warning::x", "1765000000"] {
            assert_eq!(warning(bad, now()), None, "{bad:?}");
        }
    }
}
