//! App Upgrade: the domain, authentication and DynamoDB store shared by the
//! `versions`, `check` and `tokens` Lambda functions and the `aau-admin` CLI.
//!
//! The data model is documented in [`store`].

pub mod auth;
pub mod config;
pub mod domain;
pub mod error;
pub mod http;
pub mod store;

pub use config::Config;
pub use error::{ApiError, FieldError};
