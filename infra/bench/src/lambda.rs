//! Running a function binary the way Lambda does: a clean environment with
//! the variables Lambda sets, `AWS_LAMBDA_RUNTIME_API` pointing at our
//! Runtime API, and events fed one at a time.

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use app_upgrade::Config;

use crate::proxy::CountingProxy;
use crate::runtime_api::{Report, RuntimeApi};
use crate::workload::Workload;

/// How long a start or an invocation may take before the run is declared
/// failed (the functions' own DynamoDB budget is 5 s).
const PATIENCE: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(20);

/// Where the process under test finds its tables and DynamoDB.
pub struct Target<'a> {
    pub tables: &'a Config,
    /// Stands in for DynamoDB, counting the calls.
    pub proxy: &'a CountingProxy,
}

/// A started function process; killed when dropped.
pub struct Instance {
    api: RuntimeApi,
    child: Child,
    started: Instant,
}

impl Instance {
    /// Spawns `binary` with a Lambda environment; `log` receives its stdout
    /// and stderr (Lambda sends both to CloudWatch).
    pub fn spawn(binary: &Path, name: &str, target: &Target, log: File) -> Result<Self, String> {
        let api = RuntimeApi::start(name).map_err(|e| format!("runtime API: {e}"))?;
        let stderr = log.try_clone().map_err(|e| e.to_string())?;
        let mut command = Command::new(binary);
        command
            .env_clear()
            .envs([
                ("AWS_LAMBDA_RUNTIME_API", api.address().as_str()),
                ("AWS_LAMBDA_FUNCTION_NAME", name),
                ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
                ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
                ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
                ("AWS_LAMBDA_LOG_GROUP_NAME", &format!("/aws/lambda/{name}")),
                (
                    "AWS_LAMBDA_LOG_STREAM_NAME",
                    "2026/11/30/[$LATEST]0123456789abcdef",
                ),
                ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023"),
                ("AWS_REGION", "us-east-1"),
                ("AWS_DEFAULT_REGION", "us-east-1"),
                ("AWS_ACCESS_KEY_ID", "bench"),
                ("AWS_SECRET_ACCESS_KEY", "bench"),
                ("AWS_SESSION_TOKEN", "bench"),
                ("LAMBDA_TASK_ROOT", "/var/task"),
                ("LAMBDA_RUNTIME_DIR", "/var/runtime"),
                ("LANG", "en_US.UTF-8"),
                ("TZ", ":UTC"),
                ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin"),
                ("RUST_LOG", "info"),
                ("VERSIONS_TABLE", &target.tables.versions_table),
                ("TOKENS_TABLE", &target.tables.tokens_table),
                ("AWS_ENDPOINT_URL_DYNAMODB", &target.proxy.endpoint()),
            ])
            // For investigations, e.g. `SSL_CERT_DIR=/nonexistent`: what
            // an environment variable changes in start-up.
            .envs(extra_env())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(stderr);
        // Taken right before the spawn: exec, dynamic loading and the
        // binary's own start-up all count.
        let started = Instant::now();
        let child = command
            .spawn()
            .map_err(|e| format!("spawning {}: {e}", binary.display()))?;
        Ok(Self {
            api,
            child,
            started,
        })
    }

    /// Time from spawn to the first `GET …/invocation/next`.
    pub fn wait_initialized(&mut self) -> Result<Duration, String> {
        match self.next_report()? {
            Report::NextRequested(at) => Ok(at.duration_since(self.started)),
            Report::InitError { body } => {
                Err(format!("init error: {}", String::from_utf8_lossy(&body)))
            }
            other => Err(format!("unexpected before init: {other:?}")),
        }
    }

    /// Feeds one event and returns what the function answered.
    pub fn invoke(&mut self, event: Arc<[u8]>) -> Result<Vec<u8>, String> {
        let id = self.api.invoke(event).map_err(|e| e.to_string())?;
        loop {
            match self.next_report()? {
                Report::NextRequested(_) => {}
                Report::Response { request_id, body } if request_id == id => return Ok(body),
                Report::Error {
                    request_id,
                    error_type,
                    body,
                } if request_id == id => {
                    return Err(format!(
                        "invocation error {error_type}: {}",
                        String::from_utf8_lossy(&body)
                    ));
                }
                other => return Err(format!("unexpected report: {other:?}")),
            }
        }
    }

    /// The process's peak resident set (`VmHWM`), in bytes.
    pub fn peak_rss_bytes(&self) -> Result<u64, String> {
        let path = format!("/proc/{}/status", self.child.id());
        let status = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
        vm_hwm_bytes(&status).ok_or_else(|| format!("no VmHWM in {path}"))
    }

    fn next_report(&mut self) -> Result<Report, String> {
        let waited = Instant::now();
        loop {
            match self.api.recv_timeout(POLL) {
                Ok(report) => return Ok(report),
                Err(RecvTimeoutError::Disconnected) => return Err("runtime API stopped".into()),
                Err(RecvTimeoutError::Timeout) => {
                    if let Ok(Some(status)) = self.child.try_wait() {
                        return Err(format!("the function exited: {status}"));
                    }
                    if waited.elapsed() > PATIENCE {
                        return Err(format!("no answer within {PATIENCE:?}"));
                    }
                }
            }
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // Like Lambda freezing and reaping an execution environment; the
        // process may have exited already.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `BENCH_EXTRA_ENV="NAME=value NAME2=value2"`, added to every process.
fn extra_env() -> Vec<(String, String)> {
    std::env::var("BENCH_EXTRA_ENV")
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|pair| pair.split_once('='))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect()
}

/// `VmHWM:    12345 kB` → bytes.
fn vm_hwm_bytes(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// What a run of `requests` invocations measured.
#[derive(Debug, Clone, Default)]
pub struct Load {
    pub served: usize,
    pub failed: usize,
    pub first_failure: Option<String>,
    pub seconds: f64,
    pub peak_rss_bytes: u64,
    /// DynamoDB calls during the first invocation (cold caches).
    pub first_calls: Vec<String>,
    /// DynamoDB calls during all later invocations.
    pub later_calls: usize,
    /// Stopped at the time budget before `requests`.
    pub truncated: bool,
}

/// Starts `binary`, sends `requests` copies of the workload's event one at a
/// time (each waits for its answer, like Lambda), checks every answer, then
/// reads the peak RSS. Stops early, and says so, past `budget`.
pub fn run_load(
    binary: &Path,
    name: &str,
    target: &Target,
    workload: &Workload,
    requests: usize,
    budget: Duration,
    log: File,
) -> Result<Load, String> {
    let mut instance = Instance::spawn(binary, name, target, log)?;
    instance.wait_initialized()?;
    let mut load = Load::default();
    let started = Instant::now();
    for i in 0..requests {
        let before = target.proxy.count();
        // A lost process or protocol error ends the run; a wrong answer is
        // counted and the run goes on.
        let answer = instance
            .invoke(workload.event.clone())
            .map_err(|e| format!("request {}: {e}", i + 1))?;
        load.served += 1;
        if let Err(problem) = workload.expect.verify(&workload.event, &answer) {
            load.failed += 1;
            load.first_failure.get_or_insert(problem);
        }
        if i == 0 {
            load.first_calls = target.proxy.operations_since(before);
        } else {
            load.later_calls += target.proxy.count() - before;
        }
        if started.elapsed() > budget && i + 1 < requests {
            load.truncated = true;
            break;
        }
    }
    load.seconds = started.elapsed().as_secs_f64();
    load.peak_rss_bytes = instance.peak_rss_bytes()?;
    Ok(load)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a panic is the test failing
mod tests {
    use super::*;

    #[test]
    fn reads_vm_hwm_in_bytes() {
        let status = "Name:\tcheck\nVmPeak:\t  20000 kB\nVmHWM:\t    9876 kB\nVmRSS:\t 9000 kB\n";
        assert_eq!(vm_hwm_bytes(status), Some(9876 * 1024));
        assert_eq!(vm_hwm_bytes("Name:\tx\n"), None);
    }
}
