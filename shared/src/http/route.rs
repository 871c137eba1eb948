//! A function's routes as data: each function lists its (method, path)
//! pairs in one `ROUTES` table and builds its router from that table, so
//! the contract test (`tests/openapi.rs`) can compare what the router serves
//! with `openapi.yaml`, `template.yaml` and the `cargo lambda watch` router.

use axum::handler::Handler;
use axum::routing::{MethodFilter, MethodRouter, on};

/// One (method, path) a function serves.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// Upper case, as in `openapi.yaml` and `template.yaml`.
    pub method: &'static str,
    /// An axum path template, `{param}` style as in `openapi.yaml`.
    pub path: &'static str,
    filter: MethodFilter,
}

impl Route {
    pub const fn get(path: &'static str) -> Self {
        Self::new("GET", MethodFilter::GET, path)
    }

    pub const fn post(path: &'static str) -> Self {
        Self::new("POST", MethodFilter::POST, path)
    }

    pub const fn patch(path: &'static str) -> Self {
        Self::new("PATCH", MethodFilter::PATCH, path)
    }

    pub const fn delete(path: &'static str) -> Self {
        Self::new("DELETE", MethodFilter::DELETE, path)
    }

    const fn new(method: &'static str, filter: MethodFilter, path: &'static str) -> Self {
        Self {
            method,
            path,
            filter,
        }
    }

    /// This route's method served by `handler`, for `Router::route(self.path, …)`.
    pub fn to<H, T, S>(&self, handler: H) -> MethodRouter<S>
    where
        H: Handler<T, S>,
        T: 'static,
        S: Clone + Send + Sync + 'static,
    {
        on(self.filter, handler)
    }
}
