//! The DynamoDB implementation of the store traits.

mod activity;
mod check;
mod credentials;
mod directory;
mod errors;
mod item;
mod paging;
mod receipts;
mod sdk;
mod store;
mod table_setup;
mod teams;
mod token_item;
mod tokens;
mod transact;
pub(crate) mod version_item;
mod versions;

// The helpers every store module uses, under the names they import them by
// (`super::classify`, `super::Item`, ...).
pub(crate) use errors::{classify, internal, is_code};
pub(crate) use item::{Item, from_item, get_consistent, key_item, to_item, ttl};
pub(crate) use paging::{batch_get, batch_get_items, batch_put, prefix_query, query_all};
pub use sdk::{amazon_trust, https_client, load_lambda_sdk_config, load_sdk_config};
pub use store::DynamoStore;
