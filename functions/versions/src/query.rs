//! The query string: [`app_upgrade::http::query`], shared with the team function.

pub use app_upgrade::http::query::Query;
