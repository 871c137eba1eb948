//! Integration tests of the `check` function against the local DynamoDB.
