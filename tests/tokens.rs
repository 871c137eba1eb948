//! Integration tests of the `tokens` function against the local DynamoDB.
