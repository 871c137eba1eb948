//! Check persistence: the trait the `check` function needs.
