//! DynamoDB implementation of the versions store.
