//! The `make bench` harness: a local Lambda Runtime API, a counting
//! DynamoDB proxy, the workloads, and the combined report. The `aau-bench`
//! binary drives them; `infra/scripts/bench.sh` runs every piece.

pub mod http1;
pub mod lambda;
pub mod proxy;
pub mod report;
pub mod runtime_api;
pub mod workload;
