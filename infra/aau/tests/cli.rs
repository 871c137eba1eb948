//! `aau` run as a pipeline runs it, against a private stack (see `stack`):
//! the real functions over HTTP on the local DynamoDB.

mod stack;

use std::os::unix::fs::PermissionsExt;

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
