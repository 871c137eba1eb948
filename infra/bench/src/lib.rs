//! The `make bench` harness: a local Lambda Runtime API, a counting
//! DynamoDB proxy, the workloads, the listing bench and the combined
//! report. The `aau-bench`
//! binary drives them; `infra/scripts/bench.sh` runs every piece.

pub mod http1;
pub mod lambda;
pub mod list;
pub mod proxy;
pub mod report;
pub mod runtime_api;
pub mod workload;

/// Figures are kept to two decimals.
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
