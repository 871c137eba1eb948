//! When to try a request again: exponential backoff with jitter, at least
//! what the server's `Retry-After` asks, within a total time budget.

use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// The first wait (before jitter).
    pub base: Duration,
    /// No single wait grows past this (before `Retry-After`).
    pub cap: Duration,
    /// No retry starts later than this after the first attempt began.
    pub budget: Duration,
}

impl Backoff {
    pub fn new(budget: Duration) -> Self {
        Self {
            base: Duration::from_millis(250),
            cap: Duration::from_secs(8),
            budget,
        }
    }

    /// The wait before retry number `retry` (0 for the first), or `None`
    /// when retrying would start past the budget. `jitter` in [0, 1) picks
    /// the wait within [half, all] of the exponential step ("equal jitter":
    /// clients that failed together spread out, and none retries at once);
    /// `retry_after` is a floor, never shortened by the jitter.
    pub fn wait(
        &self,
        retry: u32,
        elapsed: Duration,
        retry_after: Option<Duration>,
        jitter: f64,
    ) -> Option<Duration> {
        let step = self
            .base
            .saturating_mul(1u32 << retry.min(16))
            .min(self.cap);
        let jittered = step.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0));
        let wait = jittered.max(retry_after.unwrap_or_default());
        (elapsed.saturating_add(wait) <= self.budget).then_some(wait)
    }
}

/// A `Retry-After` header's delay. Only the delay-seconds form: the API
/// sends it, and an HTTP-date would need a clock we cannot trust in CI.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn steps_double_up_to_the_cap_and_jitter_stays_within_half_and_all() {
        let b = Backoff::new(S(3600));
        let ms = |retry, jitter| {
            b.wait(retry, Duration::ZERO, None, jitter)
                .expect("within budget")
                .as_millis()
        };
        assert_eq!(
            [ms(0, 1.0), ms(1, 1.0), ms(2, 1.0), ms(3, 1.0)],
            [250, 500, 1000, 2000]
        );
        assert_eq!([ms(0, 0.0), ms(3, 0.0)], [125, 1000]);
        assert_eq!([ms(5, 1.0), ms(40, 1.0)], [8000, 8000], "capped");
    }

    #[test]
    fn retry_after_is_a_floor() {
        let b = Backoff::new(S(60));
        assert_eq!(b.wait(0, Duration::ZERO, Some(S(3)), 0.5), Some(S(3)));
        let long_step = b.wait(6, Duration::ZERO, Some(S(1)), 1.0);
        assert_eq!(long_step, Some(S(8)), "the backoff when it is longer");
    }

    #[test]
    fn no_retry_past_the_budget() {
        let b = Backoff::new(S(10));
        assert_eq!(b.wait(0, S(9), Some(S(1)), 0.0), Some(S(1)));
        assert_eq!(b.wait(0, S(9), Some(S(2)), 0.0), None);
        assert_eq!(
            Backoff::new(Duration::ZERO).wait(0, Duration::ZERO, None, 0.0),
            None
        );
    }

    #[test]
    fn retry_after_takes_seconds_only() {
        assert_eq!(parse_retry_after(" 2 "), Some(S(2)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }
}
