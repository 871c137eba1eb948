//! Integration tests of the `versions` function against the local DynamoDB.
