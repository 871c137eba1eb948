//! `aau-admin` run as an operator runs it, against the local DynamoDB
//! emulator (`AWS_ENDPOINT_URL_DYNAMODB`, as `make test` sets it), in tables
//! of its own.

use std::process::{Command, Output};

use app_upgrade::Config;
use app_upgrade::domain::{PlainSecret, SecretKind};
use app_upgrade::store::{Credential, CredentialStore, DynamoStore};
use serde_json::{Value, json};

struct Admin {
    versions_table: String,
    tokens_table: String,
}

impl Admin {
    fn new() -> Self {
        let run = ulid::Ulid::new().to_string().to_lowercase();
        let admin = Self {
            versions_table: format!("admin-versions-{run}"),
            tokens_table: format!("admin-tokens-{run}"),
        };
        admin.ok(&["tables", "create"]);
        admin
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_aau-admin"))
            .args(args)
            .env("VERSIONS_TABLE", &self.versions_table)
            .env("TOKENS_TABLE", &self.tokens_table)
            .output()
            .expect("aau-admin runs")
    }

    fn ok(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("JSON on stdout")
    }

    /// A failure: its stderr, with nothing on stdout.
    fn refused(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "{args:?} must fail");
        assert!(out.stdout.is_empty(), "nothing on stdout");
        String::from_utf8(out.stderr).expect("text")
    }

    fn team_with_project(&self, name: &str) -> (String, String) {
        let team = self.ok(&["team", "create", "--name", name])["teamId"]
            .as_str()
            .expect("teamId")
            .to_owned();
        let project = self.ok(&["project", "create", "--team", &team, "--name", name])["projectId"]
            .as_str()
            .expect("projectId")
            .to_owned();
        (team, project)
    }

    async fn store(&self) -> DynamoStore {
        let sdk = app_upgrade::store::dynamo::load_sdk_config().await;
        DynamoStore::new(
            aws_sdk_dynamodb::Client::new(&sdk),
            &Config {
                versions_table: self.versions_table.clone(),
                tokens_table: self.tokens_table.clone(),
            },
        )
    }
}

#[tokio::test]
async fn token_create_limits_a_token_to_projects_of_the_accounts_teams_and_to_environments() {
    let admin = Admin::new();
    let user = format!("user-{}", ulid::Ulid::new());
    let (team, mine) = admin.team_with_project("Mine");
    let (_, theirs) = admin.team_with_project("Theirs");
    admin.ok(&["member", "add", "--team", &team, "--user", &user]);

    let created = admin.ok(&[
        "token",
        "create",
        "--user",
        &user,
        "--name",
        "staging deploys",
        "--scopes",
        "versions:read,versions:write",
        "--projects",
        &mine,
        "--environments",
        "Staging, qa",
    ]);
    assert_eq!(created["projects"], json!([mine]));
    assert_eq!(created["environments"], json!(["staging", "qa"]));
    let secret = PlainSecret::parse(SecretKind::Pat, created["token"].as_str().expect("token"))
        .expect("a PAT");
    // Stored with the credential, which is what every request reads.
    match admin.store().await.get_credential(&secret.hash()).await {
        Ok(Some(Credential::Pat(record))) => {
            let projects: Vec<&str> = record
                .limits
                .projects()
                .expect("limited")
                .iter()
                .map(|p| p.as_str())
                .collect();
            assert_eq!(projects, [mine.as_str()]);
            let environments: Vec<&str> = record
                .limits
                .environments()
                .expect("limited")
                .iter()
                .map(|e| e.as_str())
                .collect();
            assert_eq!(environments, ["staging", "qa"]);
        }
        other => panic!("a stored PAT: {other:?}"),
    }

    let unlimited = admin.ok(&[
        "token",
        "create",
        "--user",
        &user,
        "--name",
        "all",
        "--scopes",
        "versions:read",
    ]);
    assert_eq!(unlimited["projects"], Value::Null);
    assert_eq!(unlimited["environments"], Value::Null);

    let base = [
        "token",
        "create",
        "--user",
        &user,
        "--scopes",
        "versions:read",
    ];
    for (name, extra, expected) in [
        (
            "foreign",
            vec!["--projects", theirs.as_str()],
            theirs.as_str(),
        ),
        ("bad id", vec!["--projects", "nope"], "nope"),
        (
            "repeated",
            vec!["--environments", "qa,QA"],
            "more than once",
        ),
        ("empty", vec!["--environments", ""], "environment"),
    ] {
        let mut args = base.to_vec();
        args.extend(["--name", name]);
        args.extend(extra);
        let stderr = admin.refused(&args);
        assert!(stderr.contains(expected), "{name}: {stderr}");
        assert!(!stderr.contains("aau_"), "no secret in errors: {stderr}");
    }
}
