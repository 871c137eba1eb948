//! `aau-bench runtime` measures start-up, peak RSS and the check's DynamoDB
//! calls of the release binaries next to `target/release/aau-bench`, and
//! writes `target/bench/runtime.json`; `aau-bench report` merges every
//! piece into `target/bench/results.json` and prints the table.
//!
//! Tuning (environment): `BENCH_STARTS` (starts per binary, default 101),
//! `BENCH_REQUESTS` (invocations per load run, default 10000; 0 times the
//! starts only),
//! `BENCH_LOAD_BUDGET_SECONDS` (per load run, default 180: the versions and
//! tokens loads hit the emulator on every request).

use std::fs::{File, OpenOptions};
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use aau_bench::lambda::{Instance, Target, run_load};
use aau_bench::proxy::CountingProxy;
use aau_bench::report::{self, FLOORS};
use aau_bench::workload::{Error, Seeded};
use aau_bench::{list, round2};
use serde_json::{Value, json};

/// Baselines first: they anchor the ratios.
const BINARIES: [&str; 5] = ["hello-runtime", "hello-http", "check", "versions", "tokens"];

/// Every binary whose start is timed: [`BINARIES`], then the [`FLOORS`]
/// (timed only, no load run).
fn timed() -> impl Iterator<Item = &'static str> {
    BINARIES.into_iter().chain(FLOORS)
}

fn main() -> ExitCode {
    let result = match std::env::args().nth(1).as_deref() {
        Some("runtime") => runtime(),
        Some("report") => report(),
        Some("list") => list(),
        _ => Err("usage: aau-bench runtime|list [VERSIONS [ITERATIONS]]|report".into()),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("aau-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn env_number(name: &str, default: usize) -> Result<usize, Error> {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .map_err(|_| format!("{name}: not a number: {v}").into()),
        Err(_) => Ok(default),
    }
}

/// `target/release` (where this binary and the measured ones live) and
/// `target/bench`.
fn dirs() -> Result<(PathBuf, PathBuf), Error> {
    let exe = std::env::current_exe()?;
    let bin_dir = exe.parent().ok_or("no binary directory")?.to_path_buf();
    let target = bin_dir.parent().ok_or("no target directory")?;
    Ok((bin_dir.clone(), target.join("bench")))
}

/// `aau-bench list [VERSIONS [ITERATIONS]]` (10000 5): writes
/// `target/bench/versions_list.json` and prints it.
fn list() -> Result<bool, Error> {
    let (_, bench_dir) = dirs()?;
    let mut args = std::env::args().skip(2);
    let versions: usize = args.next().map_or(Ok(10_000), |a| a.parse())?;
    let iterations: usize = args.next().map_or(Ok(5), |a| a.parse())?;
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let figures = tokio.block_on(list::run(versions, iterations, upstream()?))?;
    let text = serde_json::to_string_pretty(&figures)?;
    println!("{text}");
    std::fs::create_dir_all(&bench_dir)?;
    std::fs::write(bench_dir.join("versions_list.json"), format!("{text}\n"))?;
    Ok(true)
}

fn report() -> Result<bool, Error> {
    let (_, bench_dir) = dirs()?;
    let entries = report::entries(&bench_dir);
    let json = serde_json::to_string_pretty(&report::to_json(&entries))?;
    std::fs::write(bench_dir.join("results.json"), format!("{json}\n"))?;
    print!("{}", report::table(&entries));
    println!("(written to {})", bench_dir.join("results.json").display());
    Ok(true)
}

fn upstream() -> Result<SocketAddr, Error> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB")
        .map_err(|_| "AWS_ENDPOINT_URL_DYNAMODB is not set: . infra/scripts/local-env.sh")?;
    let host = endpoint
        .strip_prefix("http://")
        .ok_or("AWS_ENDPOINT_URL_DYNAMODB must be http://host:port")?
        .trim_end_matches('/');
    host.to_socket_addrs()?
        .next()
        .ok_or_else(|| format!("cannot resolve {host}").into())
}

fn log_file(dir: &Path, name: &str) -> Result<File, Error> {
    Ok(OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(format!("{name}.log")))?)
}

fn median_p90(samples: &mut [f64]) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples.get(i).copied().unwrap_or(f64::NAN)
    };
    (at(0.5), at(0.9))
}

fn runtime() -> Result<bool, Error> {
    let (bin_dir, bench_dir) = dirs()?;
    let starts = env_number("BENCH_STARTS", 101)?;
    let requests = env_number("BENCH_REQUESTS", 10_000)?;
    let budget = Duration::from_secs(env_number("BENCH_LOAD_BUDGET_SECONDS", 180)? as u64);
    let logs = bench_dir.join("logs");
    std::fs::create_dir_all(&logs)?;
    // Fresh logs per run.
    for name in timed() {
        for phase in ["init", "load"] {
            let _ = std::fs::remove_file(logs.join(format!("{name}-{phase}.log")));
        }
    }

    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let proxy = CountingProxy::start(upstream()?)?;
    eprintln!("bench: seeding fresh tables");
    let seeded = tokio.block_on(Seeded::new())?;
    let tables = seeded.config();
    let target = Target {
        tables: &tables,
        proxy: &proxy,
    };

    evict_from_page_cache(&bin_dir)?;
    let init = measure_init(&bin_dir, &logs, &target, starts);
    let mut load = serde_json::Map::new();
    let mut ok = init.values().all(|v| v.get("error").is_none());
    for name in BINARIES.into_iter().filter(|_| requests > 0) {
        let workload = seeded.workload(name).ok_or("no workload")?;
        if let Some(error) = init.get(name).and_then(|i| i.get("error")) {
            load.insert(name.to_owned(), json!({ "error": error }));
            continue;
        }
        eprintln!("bench: {requests} invocations of {name}");
        let measured = run_load(
            &bin_dir.join(name),
            name,
            &target,
            &workload,
            requests,
            budget,
            log_file(&logs, &format!("{name}-load"))?,
        );
        let entry = match measured {
            Ok(l) => {
                ok &= l.failed == 0;
                eprintln!(
                    "bench:   {} served, {} wrong, {:.1} s, peak RSS {:.1} MiB{}",
                    l.served,
                    l.failed,
                    l.seconds,
                    l.peak_rss_bytes as f64 / report::MIB,
                    if l.truncated {
                        " (stopped at the time budget)"
                    } else {
                        ""
                    }
                );
                json!({
                    "requested": requests,
                    "served": l.served,
                    "failed": l.failed,
                    "first_failure": l.first_failure,
                    "truncated": l.truncated,
                    "seconds": round2(l.seconds),
                    "peak_rss_bytes": l.peak_rss_bytes,
                    "ddb_calls_first": l.first_calls,
                    "ddb_calls_later": l.later_calls,
                })
            }
            Err(e) => {
                ok = false;
                eprintln!(
                    "bench:   {name} failed: {e} (log: {})",
                    logs.join(format!("{name}-load.log")).display()
                );
                json!({"error": e})
            }
        };
        load.insert(name.to_owned(), entry);
    }
    if let Err(e) = tokio.block_on(seeded.drop_tables()) {
        eprintln!("bench: could not drop the bench tables: {e}");
    }

    let figures = json!({
        "starts": starts,
        "init": init,
        "load": load,
        "binaries": bin_dir.display().to_string(),
    });
    let text = serde_json::to_string_pretty(&figures)?;
    std::fs::write(bench_dir.join("runtime.json"), format!("{text}\n"))?;
    eprintln!("bench: wrote {}", bench_dir.join("runtime.json").display());
    Ok(ok)
}

/// Drops the measured binaries from the page cache, so that the untimed
/// first start of each reads it back from disk.
///
/// How a file's pages came into the page cache changes how fast it
/// starts: identical copies of the hello-world binary started measurably
/// faster or slower depending on when their files had been written, and the
/// start-up ratios moved with it, depending on which binaries
/// the last build relinked. Evicting every binary, baselines included, puts
/// them all in one state, and it is a cold Lambda sandbox's: a Firecracker
/// microVM reads its bootstrap from a block device.
fn evict_from_page_cache(dir: &Path) -> Result<(), Error> {
    for name in timed() {
        let path = dir.join(name);
        if !path.is_file() {
            continue; // reported by measure_init
        }
        let file = File::open(&path)?;
        // Dirty pages (a binary the linker just wrote) cannot be dropped.
        file.sync_all()?;
        rustix::fs::fadvise(&file, 0, None, rustix::fs::Advice::DontNeed)
            .map_err(|e| format!("{}: fadvise: {e}", path.display()))?;
    }
    Ok(())
}

/// `starts` timed starts of every binary, interleaved so that drift in the
/// machine's load hits all of them alike, after one untimed start each that
/// reads the binary back into the page cache (the timed starts leave out
/// disk reads, which depend on the machine's storage, not on the binary).
fn measure_init(
    bin_dir: &Path,
    logs: &Path,
    target: &Target,
    starts: usize,
) -> serde_json::Map<String, Value> {
    let mut samples: Vec<Result<Vec<f64>, String>> = timed().map(|_| Ok(Vec::new())).collect();
    for round in 0..=starts {
        for (name, samples) in timed().zip(samples.iter_mut()) {
            let Ok(taken) = samples else { continue };
            let binary = bin_dir.join(name);
            if !binary.is_file() {
                *samples = Err(format!("{} was not built", binary.display()));
                continue;
            }
            let started = log_file(logs, &format!("{name}-init"))
                .map_err(|e| e.to_string())
                .and_then(|log| Instance::spawn(&binary, name, target, log))
                .and_then(|mut instance| instance.wait_initialized());
            match started {
                Ok(took) if round > 0 => taken.push(took.as_secs_f64() * 1000.0),
                Ok(_) => {}
                Err(e) => *samples = Err(e),
            }
        }
        if round == 0 {
            eprintln!("bench: timing {starts} starts of each binary");
        }
    }
    timed()
        .zip(samples)
        .map(|(name, samples)| {
            let figures = match samples {
                Ok(mut ms) => {
                    let (median, p90) = median_p90(&mut ms);
                    eprintln!("bench:   {name:<23} init median {median:.2} ms, p90 {p90:.2} ms");
                    json!({
                        "median_ms": round2(median),
                        "p90_ms": round2(p90),
                        "samples_ms": ms.iter().map(|m| round2(*m)).collect::<Vec<_>>(),
                    })
                }
                Err(e) => {
                    eprintln!("bench:   {name} did not start: {e}");
                    json!({"error": e})
                }
            };
            (name.to_owned(), figures)
        })
        .collect()
}
