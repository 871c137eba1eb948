//! `aau`: App Upgrade for pipelines. Manages versions over the HTTP API
//! with a Personal Access Token; JSON on stdout, messages on stderr, exit
//! statuses a script can branch on.

mod backoff;
mod check;
mod failure;
mod http;
mod token;
mod versions;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use serde_json::Value;

use crate::backoff::Backoff;
use crate::check::CheckArgs;
use crate::failure::Failure;
use crate::http::{Client, Credential, Secret};
use crate::versions::{Fields, IfExists, ListArgs, Project};

const AFTER_HELP: &str = "\
Credentials come from the environment: APP_UPGRADE_TOKEN (a Personal Access
Token) or, for `check`, APP_UPGRADE_API_KEY; --token-stdin / --api-key-stdin
read them from stdin instead. They are never taken as flag values.

Exit status:
  0  done
  1  error: network, server error after the retries, any other failure
  2  usage: bad arguments, or the server rejected the input (400)
  3  exists: the version exists (409, or upsert --if-exists fail)
  4  unauthorized or forbidden (401, 403)
  5  not found (404): team, project or version
  6  check: the answer is not the one --expect asked for";

#[derive(Debug, Parser)]
#[command(name = "aau", version, about, after_help = AFTER_HELP)]
struct Cli {
    /// The API's base URL, e.g. https://upgrade.example.com.
    #[arg(long, env = "APP_UPGRADE_URL", global = true)]
    url: Option<String>,
    /// Read the Personal Access Token from the first line of stdin instead
    /// of APP_UPGRADE_TOKEN.
    #[arg(long, global = true)]
    token_stdin: bool,
    /// Retry 429, 502-504 and connection errors until this many seconds
    /// after the first attempt (0: never retry).
    #[arg(
        long,
        env = "APP_UPGRADE_RETRY_MAX_SECONDS",
        default_value_t = 60,
        global = true,
        value_name = "SECONDS"
    )]
    retry_max_seconds: u64,
    /// Give up on one attempt after this many seconds.
    #[arg(
        long,
        env = "APP_UPGRADE_TIMEOUT_SECONDS",
        default_value_t = 30,
        global = true,
        value_name = "SECONDS"
    )]
    timeout_seconds: u64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Manage a project's versions (Personal Access Token).
    Versions {
        #[arg(long, env = "APP_UPGRADE_TEAM_ID", global = true)]
        team_id: Option<String>,
        #[arg(long, env = "APP_UPGRADE_PROJECT_ID", global = true)]
        project_id: Option<String>,
        #[command(subcommand)]
        command: VersionsCommand,
    },
    /// Ask what an app would be told (project API key).
    Check(CheckArgs),
    /// The Personal Access Token in use.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Debug, Subcommand)]
enum VersionsCommand {
    /// One page of versions (or --all), with the API's filters.
    List(ListArgs),
    /// One version by id.
    Get { id: String },
    /// A new version (409, exit 3, if it exists).
    Create {
        #[command(flatten)]
        fields: Fields,
        /// Instead of a fresh random one.
        #[arg(long)]
        idempotency_key: Option<String>,
    },
    /// Change a version; required fields not given keep their stored value.
    Update {
        id: String,
        #[command(flatten)]
        fields: Fields,
        #[arg(long)]
        idempotency_key: Option<String>,
    },
    /// Delete a version.
    Delete {
        id: String,
        #[arg(long)]
        idempotency_key: Option<String>,
    },
    /// Create the version, or make the existing one (same appName,
    /// appVersion, platform, environment) match; prints {"action":
    /// "created|updated|unchanged", "version": …}. Re-runnable.
    Upsert {
        #[command(flatten)]
        fields: Fields,
        #[arg(long, value_enum, default_value_t = IfExists::Update)]
        if_exists: IfExists,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Replace the token's secret (the old one is revoked at once).
    Rotate {
        /// Where the new secret goes: a file, created 0600 (replaced if it
        /// exists), or `-` for stdout. Nothing else prints it.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Reuse a key so that a retry of a lost rotation (made with the old
        /// secret) is answered with the same new secret, e.g.
        /// rotate-$GITHUB_RUN_ID.
        #[arg(long)]
        idempotency_key: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (output, status) = match run(cli) {
        Ok(output) => (Some(output), failure::exit::OK),
        Err(failure) => {
            eprintln!("aau: {}", failure.message);
            (failure.output, failure.exit)
        }
    };
    if let Some(output) = output {
        match serde_json::to_string_pretty(&output) {
            Ok(text) => println!("{text}"),
            Err(e) => eprintln!("aau: could not print the result: {e}"),
        }
    }
    ExitCode::from(status)
}

fn run(cli: Cli) -> Result<Value, Failure> {
    let url = cli
        .url
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| Failure::usage("set APP_UPGRADE_URL (or --url) to the API's base URL"))?;
    let client = |credential| {
        Client::new(
            url.trim(),
            credential,
            Duration::from_secs(cli.timeout_seconds),
            Backoff::new(Duration::from_secs(cli.retry_max_seconds)),
        )
    };
    let pat = || match cli.token_stdin {
        true => Secret::from_stdin("token").map(Credential::Pat),
        false => Secret::from_env("APP_UPGRADE_TOKEN")?
            .map(Credential::Pat)
            .ok_or_else(|| Failure::usage("set APP_UPGRADE_TOKEN, or pass --token-stdin")),
    };
    match cli.command {
        Command::Versions {
            team_id,
            project_id,
            command,
        } => {
            let project = Project {
                team: required(team_id, "APP_UPGRADE_TEAM_ID", "--team-id")?,
                project: required(project_id, "APP_UPGRADE_PROJECT_ID", "--project-id")?,
            };
            let stdin_free = !cli.token_stdin;
            let client = client(pat()?);
            match command {
                VersionsCommand::List(args) => versions::list(&client, &project, &args),
                VersionsCommand::Get { id } => versions::get(&client, &project, &id),
                VersionsCommand::Create {
                    fields,
                    idempotency_key,
                } => versions::create(
                    &client,
                    &project,
                    fields.into_body(stdin_free)?,
                    idempotency_key,
                ),
                VersionsCommand::Update {
                    id,
                    fields,
                    idempotency_key,
                } => versions::update(
                    &client,
                    &project,
                    &id,
                    fields.into_body(stdin_free)?,
                    idempotency_key,
                ),
                VersionsCommand::Delete {
                    id,
                    idempotency_key,
                } => versions::delete(&client, &project, &id, idempotency_key),
                VersionsCommand::Upsert { fields, if_exists } => {
                    versions::upsert(&client, &project, fields.into_body(stdin_free)?, if_exists)
                }
            }
        }
        Command::Check(args) => {
            let key = match args.api_key_stdin {
                true => Secret::from_stdin("API key")?,
                false => Secret::from_env("APP_UPGRADE_API_KEY")?.ok_or_else(|| {
                    Failure::usage("set APP_UPGRADE_API_KEY, or pass --api-key-stdin")
                })?,
            };
            check::check(&client(Credential::ApiKey(key)), &args)
        }
        Command::Token {
            command:
                TokenCommand::Rotate {
                    out,
                    idempotency_key,
                },
        } => token::rotate(&client(pat()?), &out, idempotency_key),
    }
}

fn required(value: Option<String>, env: &str, flag: &str) -> Result<String, Failure> {
    value
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Failure::usage(format!("set {env} (or {flag})")))
}
