//! The combined results: every piece of `make bench` leaves its own JSON in
//! `target/bench/`; this turns them into one table and
//! `target/bench/results.json`, each figure with its goal. A piece that did
//! not run leaves `<piece>.skipped` with the reason, shown as "not
//! measured" — never an old figure.

use std::path::Path;

use serde_json::{Map, Value, json};

pub const MIB: f64 = 1024.0 * 1024.0;
pub const FUNCTIONS: [&str; 3] = ["check", "versions", "tokens"];

/// Start-up baselines that build a DynamoDB client (`src/bin/hello-dynamodb*.rs`).
pub const FLOORS: [&str; 2] = ["hello-dynamodb", "hello-dynamodb-defaults"];

/// One row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub name: String,
    pub value: Option<f64>,
    pub unit: &'static str,
    /// An upper bound; `None` for figures shown for context.
    pub goal: Option<f64>,
    pub note: Option<String>,
}

impl Entry {
    /// `None` when there is no goal or no figure; a figure from a run with
    /// failed requests never meets its goal.
    pub fn met(&self) -> Option<bool> {
        let (value, goal) = (self.value?, self.goal?);
        Some(
            value <= goal
                && !self
                    .note
                    .as_deref()
                    .is_some_and(|n| n.starts_with("INVALID")),
        )
    }

    fn to_json(&self) -> Value {
        let mut entry = json!({
            "value": self.value,
            "goal": self.goal.map(|g| format!("<= {}", g)),
            "unit": self.unit,
            "met": self.met(),
        });
        if let Some(note) = &self.note {
            entry["note"] = json!(note);
        }
        entry
    }
}

/// A piece's JSON, or why it is missing.
fn piece(dir: &Path, name: &str) -> Result<Value, String> {
    let path = dir.join(format!("{name}.json"));
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display())),
        Err(_) => Err(std::fs::read_to_string(dir.join(format!("{name}.skipped")))
            .map(|reason| reason.trim().to_owned())
            .unwrap_or_else(|_| format!("{name}.json not produced by this run"))),
    }
}

struct Rows(Vec<Entry>);

impl Rows {
    fn add(
        &mut self,
        name: impl Into<String>,
        unit: &'static str,
        goal: Option<f64>,
        figure: Result<f64, String>,
    ) {
        let (value, note) = match figure {
            Ok(v) if v.is_finite() => (Some(v), None),
            Ok(v) => (None, Some(format!("not measured: figure is {v}"))),
            Err(reason) => (None, Some(format!("not measured: {reason}"))),
        };
        self.0.push(Entry {
            name: name.into(),
            value,
            unit,
            goal,
            note,
        });
    }

    fn note_last(&mut self, note: String) {
        if let Some(last) = self.0.last_mut() {
            last.note = Some(match last.note.take() {
                Some(old) => format!("{note}; {old}"),
                None => note,
            });
        }
    }
}

fn number(value: &Value, pointer: &str, source: &str) -> Result<f64, String> {
    value
        .pointer(pointer)
        .and_then(Value::as_f64)
        .ok_or_else(|| format!("{source} has no {pointer}"))
}

/// All rows, goals first, in the issue's order.
pub fn entries(dir: &Path) -> Vec<Entry> {
    let mut rows = Rows(Vec::new());
    let check = piece(dir, "check");
    let runtime = piece(dir, "runtime");
    let list = piece(dir, "versions_list");
    let bootstrap = piece(dir, "bootstrap");

    rows.add(
        "check_instructions_ratio",
        "x",
        Some(3.0),
        check
            .clone()
            .and_then(|c| number(&c, "/ratio_check_to_hello_lambda_http", "check.json")),
    );

    let init_median = |name: &str| {
        runtime.clone().and_then(|r| {
            r.pointer(&format!("/init/{name}/error"))
                .and_then(Value::as_str)
                .map_or(Ok(()), |e| Err(format!("{name}: {e}")))?;
            number(&r, &format!("/init/{name}/median_ms"), "runtime.json")
        })
    };
    let init_ratio =
        |name: &str| init_median(name).and_then(|f| Ok(f / init_median("hello-runtime")?));
    for function in FUNCTIONS {
        rows.add(
            format!("init_ratio_{function}"),
            "x",
            Some(1.5),
            init_ratio(function),
        );
    }

    let load = |name: &str| {
        runtime.clone().and_then(|r| {
            let load = r
                .pointer(&format!("/load/{name}"))
                .cloned()
                .ok_or_else(|| format!("runtime.json has no load of {name}"))?;
            match load.get("error").and_then(Value::as_str) {
                Some(e) => Err(format!("{name}: {e}")),
                None => Ok(load),
            }
        })
    };
    let check_load = load("check");
    rows.add(
        "check_ddb_calls_warm",
        "calls",
        Some(0.0),
        check_load
            .clone()
            .and_then(|l| number(&l, "/ddb_calls_later", "check load")),
    );
    if let Ok(l) = &check_load {
        let served = l["served"].as_u64().unwrap_or(0);
        rows.note_last(format!("total over requests 2..{served}"));
    }
    rows.add(
        "check_ddb_calls_cold",
        "calls",
        Some(2.0),
        check_load.clone().and_then(|l| {
            l["ddb_calls_first"]
                .as_array()
                .map(|a| a.len() as f64)
                .ok_or_else(|| "check load has no ddb_calls_first".to_owned())
        }),
    );
    if let Ok(ops) = check_load
        .as_ref()
        .map(|l| l["ddb_calls_first"].to_string())
    {
        rows.note_last(format!("first request: {ops}"));
    }

    rows.add(
        "list_10k_ratio",
        "x",
        Some(2.0),
        list.clone()
            .and_then(|l| number(&l, "/ratio", "versions_list.json")),
    );
    if let Ok(l) = &list {
        rows.note_last(format!(
            "{} versions, page 1 {} ms vs raw Query {} ms (medians of {})",
            l["versions"], l["list_handler_median_ms"], l["raw_query_median_ms"], l["iterations"]
        ));
    }

    // Page 1 of a 10-version and of a large project: the default order
    // (goal: a page costs about the same at any size) and a `name` filter.
    for (prefix, which, goal) in [
        ("list_page1", "default", Some(1.5)),
        ("list_name_page1", "name_filter", None),
    ] {
        let figure = |key: &str| {
            list.clone()
                .and_then(|l| number(&l, &format!("/growth/{which}/{key}"), "versions_list.json"))
        };
        rows.add(
            format!("{prefix}_ms_10"),
            "ms",
            None,
            figure("page1_median_ms_small"),
        );
        rows.add(
            format!("{prefix}_ms_10k"),
            "ms",
            None,
            figure("page1_median_ms_large"),
        );
        rows.add(format!("{prefix}_growth"), "x", goal, figure("growth"));
        if let Ok(l) = &list {
            rows.note_last(format!(
                "page 1 of {} versions / of {}",
                l["versions"], l["growth"]["small_versions"]
            ));
        }
    }
    rows.add(
        "list_name_bytes_per_version",
        "bytes",
        None,
        list.clone().and_then(|l| {
            number(
                &l,
                "/growth/name_filter/bytes_per_version",
                "versions_list.json",
            )
        }),
    );
    if let Ok(l) = &list {
        rows.note_last(format!(
            "DynamoDB's answers to one filtered page 1, {} bytes over {} versions",
            l["growth"]["name_filter"]["bytes_answered_large"], l["versions"]
        ));
    }

    for function in FUNCTIONS {
        rows.add(
            format!("bootstrap_bytes_{function}"),
            "bytes",
            Some(8.0 * MIB),
            bootstrap
                .clone()
                .and_then(|b| number(&b, &format!("/{function}"), "bootstrap.json")),
        );
    }

    for name in FUNCTIONS.iter().chain(&["hello-runtime", "hello-http"]) {
        let goal = FUNCTIONS.contains(name).then_some(32.0 * MIB);
        let l = load(name);
        rows.add(
            format!("peak_rss_{name}"),
            "bytes",
            goal,
            l.clone()
                .and_then(|l| number(&l, "/peak_rss_bytes", "load")),
        );
        if let Ok(l) = l {
            let (served, failed) = (
                l["served"].as_u64().unwrap_or(0),
                l["failed"].as_u64().unwrap_or(0),
            );
            let mut note = format!(
                "{served} requests in {:.1} s",
                l["seconds"].as_f64().unwrap_or(f64::NAN)
            );
            if l["truncated"] == true {
                note = format!(
                    "{note}, stopped at the time budget (asked {})",
                    l["requested"]
                );
            }
            if failed > 0 {
                note = format!(
                    "INVALID: {failed} of {served} answers wrong ({}); {note}",
                    l["first_failure"]
                );
            }
            rows.note_last(note);
        }
    }

    // Context: the floor under the init ratios, a hello-world that only
    // builds a DynamoDB client, with the functions' SDK configuration and
    // with the SDK's defaults.
    for floor in FLOORS {
        rows.add(format!("init_ratio_{floor}"), "x", None, init_ratio(floor));
    }
    // The figures behind the ratios.
    for name in FUNCTIONS
        .iter()
        .chain(&["hello-runtime", "hello-http"])
        .chain(&FLOORS)
    {
        rows.add(
            format!("init_median_ms_{name}"),
            "ms",
            None,
            init_median(name),
        );
        if let Ok(r) = &runtime
            && let Some(p90) = r.pointer(&format!("/init/{name}/p90_ms"))
        {
            rows.note_last(format!("p90 {p90} ms, {} starts", r["starts"]));
        }
    }
    if let Ok(c) = &check {
        for (label, key) in [
            ("check", "check"),
            ("hello_lambda_http", "hello_lambda_http"),
        ] {
            rows.add(
                format!("instructions_per_request_{label}"),
                "instructions",
                None,
                number(c, &format!("/instructions_per_request/{key}"), "check.json"),
            );
        }
    }
    rows.0
}

pub fn to_json(entries: &[Entry]) -> Value {
    let map: Map<String, Value> = entries
        .iter()
        .map(|e| (e.name.clone(), e.to_json()))
        .collect();
    Value::Object(map)
}

fn show_value(e: &Entry) -> String {
    match (e.value, e.unit) {
        (None, _) => "not measured".into(),
        (Some(v), "bytes") if v >= MIB => format!("{v:.0} ({:.1} MiB)", v / MIB),
        (Some(v), "x") => format!("{v:.2}"),
        (Some(v), _) if v.fract() == 0.0 => format!("{v:.0}"),
        (Some(v), _) => format!("{v:.2}"),
    }
}

fn show_goal(e: &Entry) -> String {
    match (e.goal, e.unit) {
        (None, _) => "-".into(),
        (Some(g), "bytes") => format!("<= {:.0} MiB", g / MIB),
        (Some(g), unit) => format!("<= {g} {unit}"),
    }
}

pub fn table(entries: &[Entry]) -> String {
    let mut out = format!(
        "{:<42} {:>24}  {:<12} {:<5} {}\n",
        "figure", "value", "goal", "met", "note"
    );
    for e in entries {
        let met = match e.met() {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "-",
        };
        out.push_str(&format!(
            "{:<42} {:>24}  {:<12} {:<5} {}\n",
            e.name,
            show_value(e),
            show_goal(e),
            met,
            e.note.as_deref().unwrap_or("")
        ));
    }
    let goals: Vec<_> = entries.iter().filter(|e| e.goal.is_some()).collect();
    let met = goals.iter().filter(|e| e.met() == Some(true)).count();
    out.push_str(&format!("{met} of {} goals met\n", goals.len()));
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a panic is the test failing
mod tests {
    use super::*;

    fn dir_with(files: &[(&str, &str)]) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("aau-bench-report-{}", ulid::Ulid::new()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        dir
    }

    fn find<'a>(entries: &'a [Entry], name: &str) -> &'a Entry {
        entries.iter().find(|e| e.name == name).unwrap()
    }

    #[test]
    fn ratios_goals_and_missing_pieces() {
        let runtime = json!({
            "starts": 20,
            "init": {
                "hello-runtime": {"median_ms": 2.0, "p90_ms": 3.0},
                "check": {"median_ms": 2.5, "p90_ms": 3.0},
                "versions": {"median_ms": 4.0, "p90_ms": 5.0},
                "tokens": {"error": "the function exited: 1"},
                "hello-dynamodb": {"median_ms": 2.8, "p90_ms": 3.0},
            },
            "load": {
                "check": {"served": 10000, "failed": 0, "seconds": 1.0, "peak_rss_bytes": 10.0 * MIB,
                          "ddb_calls_first": ["GetItem", "Query"], "ddb_calls_later": 0},
                "versions": {"served": 10000, "failed": 3, "seconds": 9.0, "peak_rss_bytes": 9.0 * MIB,
                             "first_failure": "status 500", "ddb_calls_first": [], "ddb_calls_later": 0},
            }
        });
        let dir = dir_with(&[
            ("runtime.json", &runtime.to_string()),
            (
                "check.json",
                r#"{"ratio_check_to_hello_lambda_http": 3.5, "instructions_per_request": {"check": 7, "hello_lambda_http": 2}}"#,
            ),
            ("versions_list.skipped", "skipped by BENCH_SKIP\n"),
        ]);
        let entries = entries(&dir);

        let check_ratio = find(&entries, "init_ratio_check");
        assert_eq!(
            (check_ratio.value, check_ratio.met()),
            (Some(1.25), Some(true))
        );
        let versions_ratio = find(&entries, "init_ratio_versions");
        assert_eq!(
            (versions_ratio.value, versions_ratio.met()),
            (Some(2.0), Some(false))
        );
        // A floor is context: a ratio, no goal.
        let floor = find(&entries, "init_ratio_hello-dynamodb");
        assert_eq!((floor.value, floor.met()), (Some(1.4), None));
        let tokens_ratio = find(&entries, "init_ratio_tokens");
        assert_eq!(tokens_ratio.value, None);
        assert!(tokens_ratio.note.as_deref().unwrap().contains("exited"));

        assert_eq!(
            find(&entries, "check_instructions_ratio").met(),
            Some(false)
        );
        assert_eq!(find(&entries, "check_ddb_calls_cold").value, Some(2.0));
        assert_eq!(find(&entries, "check_ddb_calls_warm").met(), Some(true));
        let list = find(&entries, "list_10k_ratio");
        assert_eq!(
            list.note.as_deref(),
            Some("not measured: skipped by BENCH_SKIP")
        );
        assert!(
            find(&entries, "bootstrap_bytes_check")
                .note
                .as_deref()
                .unwrap()
                .contains("not produced")
        );

        assert_eq!(find(&entries, "peak_rss_check").met(), Some(true));
        // Under the goal, but answers were wrong: not met.
        assert_eq!(find(&entries, "peak_rss_versions").met(), Some(false));
        assert_eq!(find(&entries, "peak_rss_hello-runtime").met(), None);

        let json = to_json(&entries);
        assert_eq!(json["init_ratio_check"]["goal"], "<= 1.5");
        assert_eq!(json["init_ratio_check"]["met"], true);
        assert_eq!(json["list_10k_ratio"]["value"], Value::Null);
        let text = table(&entries);
        assert!(text.contains("not measured"));
        assert!(text.ends_with("goals met\n"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
