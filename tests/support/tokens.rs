//! Test support for the `tokens` store (e.g. counting wrappers).
