//! DynamoDB implementation of the tokens store.
