//! The store: both tables behind one client.

use std::sync::Arc;

use aws_sdk_dynamodb::Client;

use super::sdk::load_lambda_sdk_config;
use crate::store::config::Config;
use crate::store::unknown::{MAX_UNKNOWN_PATS, UnknownPats};

/// Both tables behind one client, and the memory of unknown PAT hashes
/// (one per store, built with it: in a function's `main`, with the rest of
/// its state). Cheap to clone; clones share the client and the memory.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    pub(super) client: Client,
    pub(super) versions_table: String,
    pub(super) tokens_table: String,
    pub(super) unknown_pats: Arc<UnknownPats>,
    /// How long events and revisions are kept (see [`super::activity`]).
    pub(super) retention_days: u16,
}

impl DynamoStore {
    pub fn new(client: Client, config: &Config) -> Self {
        Self {
            client,
            versions_table: config.versions_table.clone(),
            tokens_table: config.tokens_table.clone(),
            unknown_pats: Arc::new(UnknownPats::new(MAX_UNKNOWN_PATS)),
            retention_days: crate::domain::activity::DEFAULT_RETENTION_DAYS,
        }
    }

    /// The same store, keeping events and revisions `days` days.
    pub fn with_retention_days(self, days: u16) -> Self {
        Self {
            retention_days: days,
            ..self
        }
    }

    /// From the process environment, credentials included: the one
    /// `aws_config` load a function does at start-up.
    pub async fn from_env(config: &Config) -> Self {
        Self::from_sdk(&load_lambda_sdk_config().await, config)
    }

    /// With a loaded SDK configuration, when a function also builds other
    /// clients from it.
    pub fn from_sdk(sdk: &aws_config::SdkConfig, config: &Config) -> Self {
        Self::new(Client::new(sdk), config)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn versions_table(&self) -> &str {
        &self.versions_table
    }

    pub fn tokens_table(&self) -> &str {
        &self.tokens_table
    }
}
