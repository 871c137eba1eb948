//! `aau check`: what an app sees at launch, for a smoke test after a
//! release.

use std::thread::sleep;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use serde_json::Value;
use ureq::http::Method;

use crate::failure::{Failure, exit};
use crate::http::Client;

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[arg(long)]
    app_name: String,
    #[arg(long)]
    app_version: String,
    #[arg(long)]
    platform: String,
    #[arg(long)]
    environment: String,
    /// The app's language (app_language), e.g. fr or pt-BR.
    #[arg(long)]
    language: Option<String>,
    /// A custom attribute the app sends, repeatable: --attribute country=US.
    #[arg(long = "attribute", value_name = "NAME=VALUE")]
    attributes: Vec<String>,
    /// The answer to expect; any other exits 6 (after --wait).
    #[arg(long, value_enum, default_value_t = Expect::Any)]
    expect: Expect,
    /// Ask again, every 2 seconds, for up to this many seconds until the
    /// answer is the expected one (checks are cached for up to the
    /// deployment's CHECK_CACHE_TTL_SECONDS, 30 by default).
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    wait: u64,
    /// Read the API key from the first line of stdin instead of
    /// APP_UPGRADE_API_KEY.
    #[arg(long)]
    pub api_key_stdin: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Expect {
    /// Any answer (exit 0 whenever the check answers 200).
    Any,
    /// A version matched.
    Found,
    /// No version matched.
    NotFound,
    /// A version matched and forces the upgrade.
    Force,
    /// A version matched and does not force the upgrade.
    NoForce,
}

impl Expect {
    fn met(self, answer: &Value) -> bool {
        let found = answer["found"] == Value::Bool(true);
        let force = answer["forceUpgrade"] == Value::Bool(true);
        match self {
            Expect::Any => true,
            Expect::Found => found,
            Expect::NotFound => !found,
            Expect::Force => found && force,
            Expect::NoForce => found && !force,
        }
    }
}

pub fn check(client: &Client, args: &CheckArgs) -> Result<Value, Failure> {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("app_name", &args.app_name)
        .append_pair("app_version", &args.app_version)
        .append_pair("platform", &args.platform)
        .append_pair("environment", &args.environment);
    if let Some(language) = &args.language {
        query.append_pair("app_language", language);
    }
    // As the SDKs send them: one value plain, several as name[]=….
    for pair in &args.attributes {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| Failure::usage(format!("--attribute takes NAME=VALUE, got {pair:?}")))?;
        let repeated = args
            .attributes
            .iter()
            .filter(|p| p.split_once('=').is_some_and(|(n, _)| n == name))
            .count();
        if repeated > 1 {
            query.append_pair(&format!("{name}[]"), value);
        } else {
            query.append_pair(name, value);
        }
    }
    let path = format!("/api/v1/versions/check?{}", query.finish());
    let deadline = Instant::now() + Duration::from_secs(args.wait);
    loop {
        let answer = client
            .send(Method::GET, &path, None, None)?
            .expect("check", &[200])?;
        if args.expect.met(&answer) {
            return Ok(answer);
        }
        if Instant::now() + Duration::from_secs(2) > deadline {
            return Err(Failure::new(
                exit::UNEXPECTED,
                format!("check: the answer is not the expected {:?}", args.expect),
            )
            .with_output(answer));
        }
        sleep(Duration::from_secs(2));
    }
}
