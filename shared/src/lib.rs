//! App Upgrade: the domain, authentication and DynamoDB store shared by the
//! `versions`, `check` and `tokens` Lambda functions and the `aau-admin` CLI.
//!
//! Layers point one way, each using only those before it:
//! `domain` (pure data and rules) ← `store` (traits, DynamoDB, config) ←
//! `auth` (headers → verified principal) ← `error`, `http` ← the functions.
//!
//! The data model is documented in [`store`].

pub mod auth;
pub mod domain;
pub mod error;
pub mod http;
pub mod store;
#[cfg(any(test, feature = "test-util"))]
pub mod test_util;

pub use error::{ApiError, FieldError, FieldErrors};
pub use store::Config;
