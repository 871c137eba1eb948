//! DynamoDB implementation of the check store.
