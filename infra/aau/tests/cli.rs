//! `aau` run as a pipeline runs it, against a private stack (see `stack`):
//! the real functions over HTTP on the local DynamoDB.

mod stack;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use serde_json::{Value, json};
use stack::{Fault, Stack};

const UPSERT: &[&str] = &[
    "versions",
    "upsert",
    "--app-name",
    "Demo App",
    "--app-version",
    "2.0.0",
    "--platform",
    "android",
    "--environment",
    "production",
    "--force-upgrade",
    "false",
];

fn with<'a>(base: &[&'a str], more: &[&'a str]) -> Vec<&'a str> {
    base.iter().chain(more).copied().collect()
}

fn all_versions(stack: &Stack) -> Vec<Value> {
    let listed = stack.aau(&["versions", "list", "--all"]).ok();
    let mut versions = listed["results"].as_array().expect("results").clone();
    versions.sort_by_key(|v| v["id"].as_str().map(str::to_owned));
    versions
}

#[test]
fn upsert_creates_then_leaves_unchanged_then_updates() {
    let stack = Stack::start();
    let created = stack
        .aau(&with(UPSERT, &["--message", "Version 2 is out."]))
        .ok();
    assert_eq!(created["action"], "created");
    let id = created["version"]["id"].as_str().expect("id").to_owned();

    // The same fields, written differently (case, spaces) as the API
    // normalizes them: nothing to do.
    let same = [
        "versions",
        "upsert",
        "--app-name",
        " Demo App",
        "--app-version",
        "2.0.0",
        "--platform",
        "Android",
        "--environment",
        "PRODUCTION",
        "--force-upgrade",
        "false",
        "--message",
        "Version 2 is out. ",
    ];
    let unchanged = stack.aau(&same).ok();
    assert_eq!(unchanged["action"], "unchanged");
    assert_eq!(
        unchanged["version"], created["version"],
        "not written again"
    );

    let updated = stack
        .aau(&with(UPSERT, &["--message", "Please update to 2.0."]))
        .ok();
    assert_eq!(updated["action"], "updated");
    assert_eq!(updated["version"]["id"], id.as_str());
    let stored = stack.aau(&["versions", "get", &id]).ok();
    assert_eq!(stored["message"], "Please update to 2.0.");
    assert_eq!(all_versions(&stack).len(), 1);
}

#[test]
fn upsert_if_exists_skip_leaves_it_and_fail_exits_3() {
    let stack = Stack::start();
    let created = stack.aau(&with(UPSERT, &["--message", "one"])).ok();

    let skipped = stack
        .aau(&with(UPSERT, &["--message", "two", "--if-exists", "skip"]))
        .ok();
    assert_eq!(skipped["action"], "unchanged");
    assert_eq!(skipped["version"], created["version"]);

    let failed = stack.aau(&with(UPSERT, &["--message", "two", "--if-exists", "fail"]));
    assert_eq!(failed.status, 3, "{failed:?}");
    assert!(failed.stdout.is_empty(), "{failed:?}");
    let id = created["version"]["id"].as_str().expect("id");
    assert!(failed.stderr.contains(id), "{failed:?}");
    assert_eq!(stack.aau(&["versions", "get", id]).ok()["message"], "one");
}

#[test]
fn upsert_takes_a_body_file_and_keeps_fields_it_leaves_out() {
    let stack = Stack::start();
    let dir = std::env::temp_dir().join(format!("aau-body-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("version.json");
    let body = json!({
        "appName": "Demo App", "appVersion": ">=1.0.0, <2.0.0", "platform": "ios",
        "environment": "production", "forceUpgrade": true,
        "messageLocale": {"fr": "Mettez à jour"}, "customAttributes": {"country": ["US", "CA"]}
    });
    std::fs::write(&file, body.to_string()).expect("write");
    let path = file.to_str().expect("utf-8");
    let created = stack.aau(&["versions", "upsert", "--body-file", path]).ok();
    assert_eq!(created["action"], "created");
    assert_eq!(
        created["version"]["customAttributes"],
        json!({"country": ["US", "CA"]})
    );

    // The flags override the file; fields neither gives stay as stored.
    let updated = stack
        .aau(&[
            "versions",
            "upsert",
            "--body-file",
            path,
            "--force-upgrade",
            "false",
        ])
        .ok();
    assert_eq!(updated["action"], "updated");
    assert_eq!(updated["version"]["forceUpgrade"], false);
    assert_eq!(
        updated["version"]["messageLocale"],
        json!({"fr": "Mettez à jour"})
    );

    // From stdin too.
    let again = stack.aau_with(
        &[
            "versions",
            "upsert",
            "--body-file",
            "-",
            "--force-upgrade",
            "false",
        ],
        &[],
        Some(&body.to_string()),
    );
    assert_eq!(again.ok()["action"], "unchanged");
    std::fs::remove_dir_all(&dir).expect("clean up");
}

/// The README's release step, twice: the second run changes nothing and
/// exits 0.
#[test]
fn a_release_script_run_twice_ends_in_the_same_state() {
    let stack = Stack::start();
    let script = r#"
set -euo pipefail
# "created android": the upsert's action (jq would do; python3 is at hand).
action() { python3 -c 'import json, sys; print(json.load(sys.stdin)["action"], sys.argv[1])' "$1"; }
for platform in android ios; do
  aau versions upsert --app-name "Demo App" --app-version "$RELEASE" \
    --platform "$platform" --environment production --force-upgrade false \
    --message "Version $RELEASE is out." | action "$platform"
done
aau versions upsert --app-name "Demo App" --app-version "<$RELEASE" --platform android \
  --environment production --force-upgrade true --message "Please update to $RELEASE." \
  --message-locale fr="Mettez à jour vers $RELEASE." | action range
aau check --app-name "Demo App" --app-version 1.9.0 --platform android \
  --environment production --expect force >/dev/null
"#;
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_aau"))
        .parent()
        .expect("dir")
        .to_str()
        .expect("utf-8")
        .to_owned();
    let path = format!("{bin}:{}", std::env::var("PATH").unwrap_or_default());
    let run = |n| {
        let out = std::process::Command::new("bash")
            .args(["-c", script])
            .env("PATH", &path)
            .env("RELEASE", "2.0.0")
            .env("APP_UPGRADE_URL", &stack.url)
            .env("APP_UPGRADE_TOKEN", stack.fixture.rw_token.expose())
            .env("APP_UPGRADE_TEAM_ID", stack.fixture.team.as_str())
            .env("APP_UPGRADE_PROJECT_ID", stack.fixture.project.as_str())
            .env("APP_UPGRADE_API_KEY", stack.fixture.api_key.expose())
            .output()
            .expect("bash");
        let stdout = String::from_utf8(out.stdout).expect("utf-8");
        let stderr = String::from_utf8(out.stderr).expect("utf-8");
        assert!(out.status.success(), "run {n}: {stdout}{stderr}");
        assert!(!stderr.contains(stack.fixture.rw_token.expose()));
        stdout
    };
    assert_eq!(run(1), "created android\ncreated ios\ncreated range\n");
    let after_first = all_versions(&stack);
    assert_eq!(
        run(2),
        "unchanged android\nunchanged ios\nunchanged range\n"
    );
    assert_eq!(
        all_versions(&stack),
        after_first,
        "same versions, same updatedAt"
    );
}

#[test]
fn http_errors_map_to_exit_statuses_with_the_servers_message() {
    let stack = Stack::start();
    let create = with(UPSERT, &[])
        .into_iter()
        .map(|a| if a == "upsert" { "create" } else { a })
        .collect::<Vec<_>>();
    stack.aau(&create).ok();

    // 409: the same version again.
    let conflict = stack.aau(&create);
    assert_eq!(conflict.status, 3, "{conflict:?}");
    assert!(conflict.stderr.contains("HTTP 409: "), "{conflict:?}");
    assert!(conflict.stdout.is_empty());

    // 400: the server's message and field errors, as is.
    let invalid = stack.aau(&[
        "versions",
        "create",
        "--app-name",
        "Demo App",
        "--platform",
        "android",
    ]);
    assert_eq!(invalid.status, 2, "{invalid:?}");
    assert!(invalid.stderr.contains("HTTP 400: "), "{invalid:?}");
    for field in ["appVersion", "environment", "forceUpgrade"] {
        assert!(
            invalid.stderr.contains(&format!("  {field}: ")),
            "{invalid:?}"
        );
    }

    // 401: a well-formed token the server does not know.
    let stranger = "aau_00000000000000000000000000000000000000";
    let unknown = stack.aau_with(
        &["versions", "list"],
        &[("APP_UPGRADE_TOKEN", stranger)],
        None,
    );
    assert_eq!(unknown.status, 4, "{unknown:?}");
    assert!(unknown.stderr.contains("HTTP 401: "), "{unknown:?}");

    // 403: a read-only token writing.
    let read_only = stack.fixture.read_token.expose().to_owned();
    let forbidden = stack.aau_with(&create, &[("APP_UPGRADE_TOKEN", &read_only)], None);
    assert_eq!(forbidden.status, 4, "{forbidden:?}");
    assert!(forbidden.stderr.contains("HTTP 403: "), "{forbidden:?}");

    // 404: an unknown version, and a project of no team of the token's.
    let missing = stack.aau(&["versions", "get", "ver_01JDQ00000000000000000000"]);
    assert_eq!(missing.status, 5, "{missing:?}");
    assert!(missing.stderr.contains("HTTP 404: "), "{missing:?}");
    let elsewhere = stack.aau_with(
        &["versions", "list"],
        &[("APP_UPGRADE_PROJECT_ID", "prj_nope")],
        None,
    );
    assert_eq!(elsewhere.status, 5, "{elsewhere:?}");

    // Usage: no token, and a bad flag.
    let no_token = stack.aau_with(&["versions", "list"], &[("APP_UPGRADE_TOKEN", "")], None);
    assert_eq!(no_token.status, 2, "{no_token:?}");
    assert_eq!(
        stack.aau(&["versions", "list", "--limit", "many"]).status,
        2
    );
}

#[test]
fn list_filters_pages_and_all() {
    let stack = Stack::start();
    for (version, force) in [("1.0.0", "true"), ("1.1.0", "false"), ("1.2.0", "false")] {
        stack
            .aau(&[
                "versions",
                "create",
                "--app-name",
                "Paged App",
                "--app-version",
                version,
                "--platform",
                "android",
                "--environment",
                "production",
                "--force-upgrade",
                force,
            ])
            .ok();
    }
    let page = stack
        .aau(&[
            "versions",
            "list",
            "--limit",
            "2",
            "--page",
            "2",
            "--sort-by",
            "appVersion:asc",
        ])
        .ok();
    assert_eq!(
        (page["totalResults"].as_u64(), page["totalPages"].as_u64()),
        (Some(3), Some(2))
    );
    assert_eq!(page["results"][0]["appVersion"], "1.2.0");
    let forced = stack
        .aau(&["versions", "list", "--force-upgrade", "true"])
        .ok();
    assert_eq!(forced["totalResults"], 1);
    let named = stack
        .aau(&[
            "versions", "list", "--name", "paged", "--all", "--limit", "1",
        ])
        .ok();
    assert_eq!(named["totalResults"], 3);
    assert_eq!(named["results"].as_array().map(Vec::len), Some(3));
    assert_eq!(
        stack.aau(&["versions", "list", "--name", "nope"]).ok()["totalResults"],
        0
    );
}

#[test]
fn update_keeps_what_it_is_not_given_and_delete_removes() {
    let stack = Stack::start();
    let created = stack.aau(&with(UPSERT, &["--message", "one"])).ok();
    let id = created["version"]["id"].as_str().expect("id");
    let updated = stack
        .aau(&["versions", "update", id, "--force-upgrade", "true"])
        .ok();
    assert_eq!(updated["forceUpgrade"], true);
    assert_eq!(updated["message"], "one");
    assert_eq!(updated["appVersion"], "2.0.0");

    assert_eq!(
        stack.aau(&["versions", "delete", id]).ok(),
        json!({"id": id, "deleted": true})
    );
    assert_eq!(stack.aau(&["versions", "get", id]).status, 5);
    assert_eq!(stack.aau(&["versions", "delete", id]).status, 5);
}

#[test]
fn check_answers_as_an_app_sees_it_and_expect_sets_the_exit_status() {
    let stack = Stack::start();
    let forced: Vec<&str> = UPSERT
        .iter()
        .map(|a| if *a == "false" { "true" } else { a })
        .collect();
    stack.aau(&with(&forced, &["--message", "Update!"])).ok();
    let args = [
        "check",
        "--app-name",
        "Demo App",
        "--app-version",
        "2.0.0",
        "--platform",
        "android",
        "--environment",
        "production",
    ];
    let seen = stack.aau(&with(&args, &["--expect", "force"])).ok();
    assert_eq!(
        (&seen["found"], &seen["message"]),
        (&json!(true), &json!("Update!"))
    );

    let wrong = stack.aau(&with(&args, &["--expect", "not-found"]));
    assert_eq!(wrong.status, 6, "{wrong:?}");
    assert_eq!(wrong.json()["found"], true, "the answer is still printed");

    let other = [
        "check",
        "--app-name",
        "Demo App",
        "--app-version",
        "9.9.9",
        "--platform",
        "android",
        "--environment",
        "production",
        "--expect",
        "not-found",
    ];
    assert_eq!(stack.aau(&other).ok()["found"], false);

    let no_key = stack.aau_with(&args, &[("APP_UPGRADE_API_KEY", "aak_wrong")], None);
    assert_eq!(no_key.status, 4, "{no_key:?}");
}

#[test]
fn rotate_writes_the_new_token_to_a_0600_file_and_the_old_one_is_refused() {
    let stack = Stack::start();
    let dir = std::env::temp_dir().join(format!("aau-rotate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let out = dir.join("token");
    let rotated = stack.aau(&["token", "rotate", "--out", out.to_str().expect("utf-8")]);
    let metadata = rotated.ok();
    assert!(
        metadata.get("token").is_none(),
        "the secret only in the file: {rotated:?}"
    );
    assert!(metadata["id"].is_string(), "{rotated:?}");

    let new_token = std::fs::read_to_string(&out).expect("token file");
    let new_token = new_token.trim_end();
    assert!(
        new_token.starts_with("aau_") && new_token.len() == 42,
        "{new_token:?}"
    );
    let mode = std::fs::metadata(&out).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(!rotated.stderr.contains(new_token) && !rotated.stdout.contains(new_token));
    assert_eq!(
        std::fs::read_dir(&dir).expect("dir").count(),
        1,
        "no temporary file left"
    );

    let new = stack.aau_with(
        &["versions", "list"],
        &[("APP_UPGRADE_TOKEN", new_token)],
        None,
    );
    assert_eq!(new.status, 0, "{new:?}");

    // --token-stdin, and `--out -` for a pipe.
    let again = stack.aau_with(
        &["token", "rotate", "--out", "-", "--token-stdin"],
        &[("APP_UPGRADE_TOKEN", "")],
        Some(&format!("{new_token}\n")),
    );
    assert_eq!(again.status, 0, "{again:?}");
    let newest = again.stdout.lines().next().expect("the token first");
    assert!(newest.starts_with("aau_") && newest != new_token);
    assert!(!again.stderr.contains(newest));

    // The first secret, rotated away, is refused; presenting it is taken as
    // theft and revokes the token, so the newest secret is refused too.
    let old = stack.aau(&["versions", "list"]);
    assert_eq!(old.status, 4, "the old secret is revoked: {old:?}");
    let newest = stack.aau_with(
        &["versions", "list"],
        &[("APP_UPGRADE_TOKEN", newest)],
        None,
    );
    assert_eq!(
        newest.status, 4,
        "reuse revoked the whole token: {newest:?}"
    );
    std::fs::remove_dir_all(&dir).expect("clean up");
}

/// The server honours `Idempotency-Key`: each write whose answer is lost on
/// the way back is retried by aau with the same key and answered with the
/// first answer, so the command succeeds as if nothing had happened and the
/// write is done once. (Without the server's half the retries meet their own
/// first attempts: a create's 409, a delete's 404, a rotation's 401.)
#[test]
fn writes_whose_answers_are_lost_succeed_once_on_retry() {
    let stack = Stack::start();
    let versions = "/versions";

    stack.fault_next("POST", versions, Fault::Lose);
    let created = stack.aau(&with(UPSERT, &["--message", "one"]));
    let created_json = created.ok();
    assert_eq!(created_json["action"], "created", "{created:?}");
    assert!(created.stderr.contains("retrying"), "{created:?}");
    assert_eq!(stack.faults_struck(), 1);
    assert_eq!(all_versions(&stack).len(), 1, "created once");
    let id = created_json["version"]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    stack.fault_next("PATCH", versions, Fault::Lose);
    let updated = stack
        .aau(&["versions", "update", &id, "--force-upgrade", "true"])
        .ok();
    assert_eq!(updated["forceUpgrade"], true);
    assert_eq!(stack.faults_struck(), 2);
    let stored = stack.aau(&["versions", "get", &id]).ok();
    assert_eq!(stored["updatedAt"], updated["updatedAt"], "updated once");

    stack.fault_next("DELETE", versions, Fault::Lose);
    assert_eq!(
        stack.aau(&["versions", "delete", &id]).ok(),
        json!({"id": id, "deleted": true})
    );
    assert_eq!(stack.faults_struck(), 3);
    assert!(all_versions(&stack).is_empty());
}

#[test]
fn a_rotation_whose_answer_is_lost_still_delivers_the_new_token() {
    let stack = Stack::start();
    let dir = std::env::temp_dir().join(format!("aau-lost-rotate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let out = dir.join("token");
    stack.fault_next("POST", "/self/rotate", Fault::Lose);
    let rotated = stack.aau(&[
        "token",
        "rotate",
        "--out",
        out.to_str().expect("utf-8"),
        "--idempotency-key",
        "rotate-run-7",
    ]);
    assert_eq!(rotated.status, 0, "{rotated:?}");
    assert_eq!(stack.faults_struck(), 1, "the first answer was lost");
    let new_token = std::fs::read_to_string(&out).expect("token file");
    let new_token = new_token.trim_end();
    assert!(!rotated.stderr.contains(new_token));

    // A re-run of the same pipeline step (same key, old token) gets the
    // same new token, not a 401.
    let rerun = stack.aau(&[
        "token",
        "rotate",
        "--out",
        "-",
        "--idempotency-key",
        "rotate-run-7",
    ]);
    assert_eq!(rerun.status, 0, "{rerun:?}");
    assert_eq!(rerun.stdout.lines().next(), Some(new_token));

    let with_new = || {
        stack.aau_with(
            &["versions", "list"],
            &[("APP_UPGRADE_TOKEN", new_token)],
            None,
        )
    };
    let new = with_new();
    assert_eq!(new.status, 0, "{new:?}");
    // Any other use of the rotated-away secret is taken as theft: 401, and
    // the whole token, its new secret included, is revoked.
    assert_eq!(
        stack.aau(&["versions", "list"]).status,
        4,
        "old token refused"
    );
    assert_eq!(with_new().status, 4, "the reuse revoked the token");
    std::fs::remove_dir_all(&dir).expect("clean up");
}

/// A pipeline killed in the middle of its release script (its write done,
/// the answer never seen) and run again ends where an uninterrupted run
/// ends, with exit 0; and a further run changes nothing.
#[test]
fn a_release_script_killed_mid_write_and_re_run_ends_in_the_same_state() {
    use std::os::unix::process::CommandExt;

    let stack = Stack::start();
    let script = r#"
set -euo pipefail
for platform in android ios; do
  aau versions upsert --app-name "Demo App" --app-version "$RELEASE" \
    --platform "$platform" --environment production --force-upgrade false \
    --message "Version $RELEASE is out." >/dev/null
done
aau versions upsert --app-name "Demo App" --app-version "<$RELEASE" --platform android \
  --environment production --force-upgrade true --message "Please update to $RELEASE." >/dev/null
"#;
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_aau"))
        .parent()
        .expect("dir")
        .to_str()
        .expect("utf-8")
        .to_owned();
    let path = format!("{bin}:{}", std::env::var("PATH").unwrap_or_default());
    let command = || {
        let mut c = std::process::Command::new("bash");
        c.args(["-c", script])
            .env("PATH", &path)
            .env("RELEASE", "3.0.0")
            .env("APP_UPGRADE_URL", &stack.url)
            .env("APP_UPGRADE_TOKEN", stack.fixture.rw_token.expose())
            .env("APP_UPGRADE_TEAM_ID", stack.fixture.team.as_str())
            .env("APP_UPGRADE_PROJECT_ID", stack.fixture.project.as_str())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            // Its own process group, so the kill takes aau with it.
            .process_group(0);
        c
    };

    // The android create's answer is lost (aau's retry with the same key
    // is answered); the ios create is stored and its answer never comes:
    // the run is killed there. (The first fault takes the android create;
    // the second lets its retry through and takes the next.)
    stack.fault_next("POST", "/versions", Fault::Lose);
    stack.fault_after("POST", "/versions", 1, Fault::Hold);
    let mut first = command().spawn().expect("bash");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while stack.faults_struck() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the run never reached ios"
        );
        assert!(
            first.try_wait().expect("wait").is_none(),
            "the run ended early"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let group = format!("-{}", first.id());
    let killed = std::process::Command::new("kill")
        .args(["-KILL", "--", &group])
        .status()
        .expect("kill");
    assert!(killed.success());
    assert!(!first.wait().expect("wait").success(), "killed");
    assert_eq!(
        all_versions(&stack).len(),
        2,
        "android, and ios written unanswered"
    );

    let rerun = command().status().expect("bash");
    assert!(rerun.success(), "the re-run exits 0");
    let after_rerun = all_versions(&stack);
    let identities: Vec<_> = after_rerun
        .iter()
        .map(|v| {
            format!(
                "{} {} {}",
                v["appVersion"], v["platform"], v["forceUpgrade"]
            )
        })
        .collect();
    assert_eq!(identities.len(), 3, "{identities:?}");
    for want in [
        "\"3.0.0\" \"android\" false",
        "\"3.0.0\" \"ios\" false",
        "\"<3.0.0\" \"android\" true",
    ] {
        assert!(
            identities.iter().any(|i| i == want),
            "{want} in {identities:?}"
        );
    }
    assert!(command().status().expect("bash").success());
    assert_eq!(
        all_versions(&stack),
        after_rerun,
        "a further run changes nothing"
    );
}

/// A server on 127.0.0.1 that answers every request with `head` (status
/// line and headers) and `body`: what a hostile or broken server (or
/// something in the middle) could send. Returns its base URL.
fn canned(head: &'static str, body: &'static str) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim_end().is_empty() {
                    break;
                }
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("content-length")
                {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut request_body = vec![0; length];
            let _ = reader.read_exact(&mut request_body);
            let mut stream = stream;
            let _ = write!(
                stream,
                "{head}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

/// Every stderr line is aau's own (`aau: …`), and none holds a character or
/// sequence that a terminal or a CI runner would act on.
fn assert_harmless(stderr: &str) {
    for line in stderr.lines() {
        assert!(
            line.starts_with("aau: "),
            "a line aau did not start: {line:?}"
        );
        assert!(
            !line.trim_start().starts_with("::"),
            "a workflow command: {line:?}"
        );
        assert!(
            !line.contains("##["),
            "an old-style workflow command: {line:?}"
        );
        assert!(
            !line
                .chars()
                .any(|c| c.is_control() || ('\u{202A}'..='\u{202E}').contains(&c)),
            "a control character: {line:?}"
        );
    }
}

/// Finding 3: an error message holding a newline and `::warning::…` became a
/// GitHub Actions workflow command, and escape sequences reached the
/// terminal. The server's text is shown, cleaned; every line is aau's.
#[test]
fn server_text_cannot_command_the_ci_log_or_the_terminal() {
    let hostile = [
        canned(
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json",
            r###"{"code": 400, "message": "bad\n::warning::pwned\u001b[2J\u202Eevil", "errors": [{"field": "x\n::error::y", "message": "##[add-mask]z\r\n::add-mask::q"}]}"###,
        ),
        canned(
            "HTTP/1.1 502 Bad Gateway",
            "\u{1b}]0;pwned\u{7}::warning::gateway\n::error::second line",
        ),
        canned(
            "HTTP/1.1 404 Not Found\r\ncontent-type: application/json",
            r#"{"code": 404, "message": "\u0085::warning::after NEL"}"#,
        ),
    ];
    for url in &hostile {
        let run = Command::new(env!("CARGO_BIN_EXE_aau"))
            .args(["versions", "get", "ver_1", "--retry-max-seconds", "0"])
            .env("APP_UPGRADE_URL", url)
            .env("APP_UPGRADE_TOKEN", "aau_anything")
            .env("APP_UPGRADE_TEAM_ID", "team_1")
            .env("APP_UPGRADE_PROJECT_ID", "prj_1")
            .output()
            .expect("ran");
        let stderr = String::from_utf8(run.stderr).expect("utf-8");
        assert_ne!(run.status.code(), Some(0), "{stderr}");
        assert!(
            stderr.contains("HTTP "),
            "the server's answer is still shown: {stderr}"
        );
        assert_harmless(&stderr);
    }
}

/// Finding 3: a rotated token is written only if it has the format the
/// server issues, checksum included.
#[test]
fn a_rotated_token_of_the_wrong_format_is_never_written() {
    let bodies = [
        r#"{"id": "tok_1", "token": "aau_short\n::warning::x"}"#,
        // Right length and alphabet, wrong checksum.
        r#"{"id": "tok_1", "token": "aau_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa000000"}"#,
        r#"{"id": "tok_1", "token": 42}"#,
    ];
    let dir = std::env::temp_dir().join(format!("aau-badtoken-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    for body in bodies {
        let url = canned(
            "HTTP/1.1 201 Created\r\ncontent-type: application/json",
            body,
        );
        let out = dir.join("token");
        for target in [out.to_str().expect("utf-8"), "-"] {
            let run = Command::new(env!("CARGO_BIN_EXE_aau"))
                .args(["token", "rotate", "--out", target])
                .env("APP_UPGRADE_URL", &url)
                .env("APP_UPGRADE_TOKEN", "aau_anything")
                .output()
                .expect("ran");
            let stderr = String::from_utf8(run.stderr).expect("utf-8");
            assert_eq!(run.status.code(), Some(1), "{body}: {stderr}");
            assert!(run.stdout.is_empty(), "{body}: nothing on stdout");
            assert!(!out.exists(), "{body}: no file");
            assert_harmless(&stderr);
        }
        assert_eq!(
            std::fs::read_dir(&dir).expect("dir").count(),
            0,
            "no temporary file left"
        );
    }
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn plain_http_to_another_host_is_warned_about() {
    let stack = Stack::start();
    let local = stack.aau(&["versions", "list"]);
    local.ok();
    assert!(!local.stderr.contains("http://"), "{local:?}");
    // 0.0.0.0 reaches this machine too, but is no loopback name: as a
    // remote host would be, it is warned about, and the command still runs.
    let remote = stack.url.replace("127.0.0.1", "0.0.0.0");
    let run = stack.aau_with(&["versions", "list"], &[("APP_UPGRADE_URL", &remote)], None);
    run.ok();
    let host = remote
        .trim_start_matches("http://")
        .split(':')
        .next()
        .expect("host");
    assert_eq!(
        run.stderr,
        format!(
            "aau: warning: APP_UPGRADE_URL is plain http:// to {host}: the credential crosses \
             the network unencrypted; use https://\n"
        ),
        "{run:?}"
    );
}

/// Finding 3: `aau … | head -c1` made aau panic on the closed pipe.
#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    let stack = Stack::start();
    stack.aau(&with(UPSERT, &["--message", "one"])).ok();
    let f = &stack.fixture;
    let mut child = Command::new(env!("CARGO_BIN_EXE_aau"))
        .args(["versions", "list", "--all"])
        .env("APP_UPGRADE_URL", &stack.url)
        .env("APP_UPGRADE_TOKEN", f.rw_token.expose())
        .env("APP_UPGRADE_TEAM_ID", f.team.as_str())
        .env("APP_UPGRADE_PROJECT_ID", f.project.as_str())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run aau");
    // The reader goes away before aau writes, as `head -c1` does after one byte.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("exited");
    let stderr = String::from_utf8(out.stderr).expect("utf-8");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr, "", "quiet");
}

/// Expiry a pipeline sees coming: a token with 13 days left gets one line on
/// stderr (success or error, exit status unchanged); 15 days, nothing.
#[test]
fn a_token_expiring_within_two_weeks_is_warned_about_once() {
    let stack = Stack::start();
    let f = &stack.fixture;
    let token = |days: u16| {
        let store = f.store.clone();
        let user = f.user.clone();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            integration_tests::tokens::stored_token(
                &store,
                &user,
                &format!("expires in {days} days"),
                &[app_upgrade::domain::Scope::VersionsRead],
                days,
                app_upgrade::domain::Timestamp::now(),
            )
            .await
        })
    };
    let soon = token(13);
    let later = token(15);

    let listed = stack.aau_with(
        &["versions", "list"],
        &[("APP_UPGRADE_TOKEN", soon.secret.expose())],
        None,
    );
    listed.ok();
    assert!(
        listed
            .stderr
            .starts_with("aau: warning: the token expires in 13 days (")
            && listed
                .stderr
                .ends_with("): create its replacement and update this pipeline's secret\n"),
        "{listed:?}"
    );
    assert_eq!(listed.stderr.lines().count(), 1, "one line: {listed:?}");

    // On an error answer too, and the exit status is the error's.
    let missing = stack.aau_with(
        &["versions", "get", "ver_01JDQ0000000000000000000AA"],
        &[("APP_UPGRADE_TOKEN", soon.secret.expose())],
        None,
    );
    assert_eq!(missing.status, 5, "{missing:?}");
    assert!(
        missing
            .stderr
            .starts_with("aau: warning: the token expires in 13 days"),
        "{missing:?}"
    );

    let fine = stack.aau_with(
        &["versions", "list"],
        &[("APP_UPGRADE_TOKEN", later.secret.expose())],
        None,
    );
    fine.ok();
    assert_eq!(fine.stderr, "", "{fine:?}");
}

const ROTATION_SECRET: &str = "9f1c2b7e4a6d8c0e3b5a7f9d1c3e5b7a9f1c2b7e4a6d8c0e3b5a7f9d1c3e5b7a";

/// Finding 1. The documented recipe used `rotate-$GITHUB_RUN_ID`, and run
/// ids of public repositories are public: a thief holding the old secret
/// rotated first and CI was handed the thief-minted secret as a "replay",
/// or the thief replayed CI's rotation and both kept working. With the key
/// derived from a second CI secret (`--run-id` + APP_UPGRADE_ROTATION_SECRET),
/// the public run id is worth nothing to the thief: any request of theirs
/// with the old secret is a reuse, which revokes the token.
#[test]
fn a_thief_with_the_old_secret_and_the_run_id_cannot_follow_the_rotation() {
    let run_id = "4242";
    let dir = std::env::temp_dir().join(format!("aau-thief-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let out = dir.join("token");
    let out = out.to_str().expect("utf-8");
    let ci = ["token", "rotate", "--out", out, "--run-id", run_id];
    let ci_env = [("APP_UPGRADE_ROTATION_SECRET", ROTATION_SECRET)];
    let guesses: [&[&str]; 2] = [
        &[
            "token",
            "rotate",
            "--out",
            "-",
            "--idempotency-key",
            "rotate-4242",
        ],
        &["token", "rotate", "--out", "-", "--run-id", run_id],
    ];
    let thief_env = [(
        "APP_UPGRADE_ROTATION_SECRET",
        "0000000000000000000000000000000000000000000000000000000000000000",
    )];

    // The thief rotates first, with the key the docs used to recommend.
    let stack = Stack::start();
    let stolen = stack.aau_with(guesses[0], &[], None);
    assert_eq!(stolen.status, 0, "the thief holds a live token: {stolen:?}");
    let thiefs = stolen
        .stdout
        .lines()
        .next()
        .expect("the token first")
        .to_owned();
    let rotated = stack.aau_with(&ci, &ci_env, None);
    assert_eq!(
        rotated.status, 4,
        "CI is not handed the thief's secret: {rotated:?}"
    );
    assert!(!std::path::Path::new(out).exists());
    assert!(!rotated.stderr.contains(ROTATION_SECRET));
    let dead = stack.aau_with(
        &["versions", "list"],
        &[("APP_UPGRADE_TOKEN", &thiefs)],
        None,
    );
    assert_eq!(
        dead.status, 4,
        "the reuse revoked the thief's secret: {dead:?}"
    );

    // CI rotates first: whatever key the thief guesses, no new secret.
    for guess in guesses {
        let stack = Stack::start();
        let rotated = stack.aau_with(&ci, &ci_env, None);
        rotated.ok();
        let ci_token = std::fs::read_to_string(out).expect("written");
        std::fs::remove_file(out).expect("clean up");
        let followed = stack.aau_with(guess, &thief_env, None);
        assert_eq!(followed.status, 4, "{guess:?}: {followed:?}");
        assert!(
            followed.stdout.is_empty(),
            "no secret for the thief: {followed:?}"
        );
        // The owner sees it: the reuse revoked the token, CI's new secret
        // included, and no replay was given.
        let revoked = stack.aau_with(
            &["versions", "list"],
            &[("APP_UPGRADE_TOKEN", ci_token.trim())],
            None,
        );
        assert_eq!(revoked.status, 4, "{revoked:?}");
    }
    std::fs::remove_dir_all(&dir).expect("clean up");
}

/// A re-run of the same CI run gets the same new secret (the derived key is
/// the same), its first attempt is answered as a replay and aau says so;
/// the owner sees the replay, with its address, in the token list. A retry
/// within one run (the first answer lost) is no surprise and says nothing.
#[test]
fn a_replayed_rotation_is_warned_about_and_shown_to_the_owner() {
    let stack = Stack::start();
    let dir = std::env::temp_dir().join(format!("aau-rerun-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let out = dir.join("token");
    let out = out.to_str().expect("utf-8");
    let ci = ["token", "rotate", "--out", out, "--run-id", "77"];
    let env = [("APP_UPGRADE_ROTATION_SECRET", ROTATION_SECRET)];

    stack.fault_next("POST", "/self/rotate", Fault::Lose);
    let first = stack.aau_with(&ci, &env, None);
    first.ok();
    assert!(
        !first.stderr.contains("replay"),
        "a retry's replay is expected: {first:?}"
    );
    let token = std::fs::read_to_string(out).expect("written");

    let rerun = stack.aau_with(&ci, &env, None);
    rerun.ok();
    assert_eq!(
        std::fs::read_to_string(out).expect("written"),
        token,
        "the same secret"
    );
    let warnings: Vec<&str> = rerun
        .stderr
        .lines()
        .filter(|l| l.starts_with("aau: warning: "))
        .collect();
    assert_eq!(warnings.len(), 1, "{rerun:?}");
    assert!(warnings[0].contains("answered as a replay"), "{rerun:?}");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let listed = runtime
        .block_on(app_upgrade::store::TokenStore::list_tokens(
            &stack.fixture.store,
            &stack.fixture.user,
        ))
        .expect("list");
    let rw = listed.iter().find(|t| t.name == "rw").expect("rw");
    assert!(rw.last_replay_at.is_some(), "{rw:?}");
    assert_eq!(rw.last_replay_ip, Some("127.0.0.1".parse().expect("ip")));
    std::fs::remove_dir_all(&dir).expect("clean up");
}
