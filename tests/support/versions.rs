//! Test support for the `versions` store (e.g. counting wrappers).
