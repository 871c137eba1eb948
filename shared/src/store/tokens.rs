//! Tokens persistence: the trait the `tokens` function needs.
