//! How much an account may hold, from the environment.

/// Live tokens an account may hold when `MAX_TOKENS_PER_ACCOUNT` is unset.
pub const DEFAULT_MAX_TOKENS_PER_ACCOUNT: usize = 50;

/// Bounds on what one account can store: without them anyone able to sign
/// in (an external identity provider may allow sign-up) could fill the
/// tokens table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Live (unexpired) tokens per account; creating one more is a 409.
    pub max_tokens_per_account: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_tokens_per_account: DEFAULT_MAX_TOKENS_PER_ACCOUNT,
        }
    }
}

impl Limits {
    pub fn from_env() -> Result<Self, String> {
        Self::from_value(std::env::var("MAX_TOKENS_PER_ACCOUNT").ok().as_deref())
    }

    /// Testable core of [`Limits::from_env`]: unset or empty means the
    /// default; anything but a positive whole number is a start-up error.
    pub fn from_value(value: Option<&str>) -> Result<Self, String> {
        match value.map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(Self::default()),
            Some(v) => match v.parse::<usize>() {
                Ok(max) if max > 0 => Ok(Self {
                    max_tokens_per_account: max,
                }),
                _ => Err(format!(
                    "MAX_TOKENS_PER_ACCOUNT must be a positive whole number, not {v:?}"
                )),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_defaults_to_50_and_must_be_positive() {
        assert_eq!(Limits::from_value(None), Ok(Limits::default()));
        assert_eq!(Limits::from_value(Some(" ")), Ok(Limits::default()));
        assert_eq!(
            Limits::from_value(Some("7")).map(|l| l.max_tokens_per_account),
            Ok(7)
        );
        for bad in ["0", "-1", "many", "1.5"] {
            assert!(Limits::from_value(Some(bad)).is_err(), "{bad}");
        }
    }
}
