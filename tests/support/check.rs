//! Test support for the `check` store (e.g. counting wrappers).
