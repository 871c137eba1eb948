//! Versions persistence: the trait the `versions` function needs.
