//! `aau`: App Upgrade for pipelines. Manages versions over the HTTP API
//! with a Personal Access Token; JSON on stdout, messages on stderr, exit
//! statuses a script can branch on.

mod backoff;
mod check;
mod expiry;
mod failure;
mod http;
mod say;
mod token;
mod versions;

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use serde_json::Value;

use crate::backoff::Backoff;
use crate::check::CheckArgs;
use crate::failure::Failure;
use crate::http::{Client, Credential, Secret};
use crate::say::{say, warn};
use crate::token::RotationKey;
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
        /// Derive the Idempotency-Key from this CI run's id and the second
        /// secret in APP_UPGRADE_ROTATION_SECRET, e.g. --run-id
        /// "$GITHUB_RUN_ID": a re-run of the same run whose rotation answer
        /// was lost gets the same new secret, and nobody holding only the
        /// token (run ids of public repositories are public) can.
        #[arg(long, value_name = "ID")]
        run_id: Option<String>,
        /// Send this key instead (default: a fresh random one). Whoever
        /// holds the old secret and this key can get the new secret: it
        /// must be as secret as the token.
        #[arg(long)]
        idempotency_key: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (output, status) = match run(cli) {
        Ok(output) => (Some(output), failure::exit::OK),
        Err(failure) => {
            say(&failure.message);
            (failure.output, failure.exit)
        }
    };
    if let Some(output) = output {
        print(&output);
    }
    ExitCode::from(status)
}

/// The result on stdout, as pretty JSON. A reader that stopped reading
/// (`aau versions list | head -c1`) took what it wanted: that is no error,
/// and the exit status stays the command's own.
fn print(output: &Value) {
    let text = match serde_json::to_string_pretty(output) {
        Ok(text) => text,
        Err(e) => return say(&format!("could not print the result: {e}")),
    };
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            say(&format!("could not print the result: {e}"));
        }
        _ => {}
    }
}

/// Whether `url` sends the token in clear text over a network: `http://`
/// to anything but this machine.
fn plain_http_host(url: &str) -> Option<String> {
    let uri: ureq::http::Uri = url.parse().ok()?;
    if !uri.scheme_str()?.eq_ignore_ascii_case("http") {
        return None;
    }
    let host = uri.host()?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let local = bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    (!local).then(|| host.to_owned())
}

fn run(cli: Cli) -> Result<Value, Failure> {
    let url = cli
        .url
        .filter(|u| !u.trim().is_empty())
        .ok_or_else(|| Failure::usage("set APP_UPGRADE_URL (or --url) to the API's base URL"))?;
    if let Some(host) = plain_http_host(url.trim()) {
        warn(&format!(
            "APP_UPGRADE_URL is plain http:// to {host}: the credential crosses the network \
             unencrypted; use https://"
        ));
    }
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
                    run_id,
                    idempotency_key,
                },
        } => {
            let key = RotationKey::from_args(idempotency_key, run_id)?;
            token::rotate(&client(pat()?), &out, key)
        }
    }
}

fn required(value: Option<String>, env: &str, flag: &str) -> Result<String, Failure> {
    value
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Failure::usage(format!("set {env} (or {flag})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_flagged_unless_it_stays_on_this_machine() {
        for local in [
            "http://localhost:9000",
            "http://LOCALHOST",
            "http://127.0.0.1:9000/",
            "http://127.0.0.2",
            "http://[::1]:9000",
            "https://upgrade.example.com",
            "HTTPS://upgrade.example.com",
        ] {
            assert_eq!(plain_http_host(local), None, "{local}");
        }
        for remote in [
            "http://upgrade.example.com",
            "HTTP://upgrade.example.com:8080/api",
            "http://10.0.0.5",
            "http://[2001:db8::1]:80",
            "http://localhost.example.com",
            "http://0.0.0.0:9000",
        ] {
            assert!(plain_http_host(remote).is_some(), "{remote}");
        }
    }
}
