//! The one way `aau` talks to the API: a blocking client that sends the
//! credential, JSON and `Idempotency-Key`, and retries what is safe to retry
//! (see [`Client::send`]).

use std::fmt;
use std::io::BufRead;
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};
use ureq::Agent;
use ureq::http::{Method, Request};

use crate::backoff::{Backoff, parse_retry_after};
use crate::failure::Failure;

/// Statuses that say "not now" rather than "no": the request may be sent
/// again (a write with the same `Idempotency-Key`). 502 and 504 are what API
/// Gateway answers when a function did not answer in time.
const RETRYABLE: [u16; 4] = [429, 502, 503, 504];

/// A credential. `Debug` prints nothing of it, and no message `aau` writes
/// contains it.
pub struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl Secret {
    /// `name`'s value from the environment, `None` when unset or empty.
    pub fn from_env(name: &str) -> Result<Option<Self>, Failure> {
        match std::env::var(name) {
            Ok(value) if value.trim().is_empty() => Ok(None),
            Ok(value) => Self::parse(name, value).map(Some),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => {
                Err(Failure::usage(format!("{name} is not valid UTF-8")))
            }
        }
    }

    /// The first line of stdin (`--token-stdin`, `--api-key-stdin`).
    pub fn from_stdin(what: &str) -> Result<Self, Failure> {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Failure::usage(format!("could not read the {what} from stdin: {e}")))?;
        Self::parse(&format!("the {what} on stdin"), line)
    }

    fn parse(what: &str, value: String) -> Result<Self, Failure> {
        let value = value.trim();
        if value.is_empty() {
            return Err(Failure::usage(format!("{what} is empty")));
        }
        // A header cannot carry them; say so without echoing the value.
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Failure::usage(format!(
                "{what} contains spaces or characters a header cannot carry"
            )));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// How requests are authenticated.
#[derive(Debug)]
pub enum Credential {
    /// `Authorization: Bearer` with a Personal Access Token.
    Pat(Secret),
    /// `x-api-key` with a project API key (the check).
    ApiKey(Secret),
}

/// What the server answered.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// The body as JSON, `Null` when empty or not JSON.
    pub body: Value,
    pub raw: String,
    retry_after: Option<Duration>,
}

impl Answer {
    /// The body when the status is one of `ok`, else the server's error as
    /// a [`Failure`] (`what` names the request in the message).
    pub fn expect(self, what: &str, ok: &[u16]) -> Result<Value, Failure> {
        if ok.contains(&self.status) {
            Ok(self.body)
        } else {
            Err(Failure::from_answer(what, self.status, &self.body, &self.raw))
        }
    }
}

#[derive(Debug)]
pub struct Client {
    agent: Agent,
    base: String,
    credential: Credential,
    backoff: Backoff,
}

impl Client {
    /// `timeout`: each attempt's whole exchange; `backoff.budget`: how long
    /// after the first attempt a retry may still start.
    pub fn new(base: &str, credential: Credential, timeout: Duration, backoff: Backoff) -> Self {
        let agent = Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            // The API never redirects; a redirect is not where the token goes.
            .max_redirects(0)
            .user_agent(concat!("aau/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Self {
            agent,
            base: base.trim_end_matches('/').to_owned(),
            credential,
            backoff,
        }
    }

    /// Sends one logical request: the first attempt, then, on a retryable
    /// status or a connection error, the same request again (same body, same
    /// `Idempotency-Key`, so the server can answer a retried write without
    /// doing it twice) after [`Backoff::wait`], until an answer that is not
    /// retryable or the budget runs out. `path` is below the base URL, with
    /// its query.
    pub fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> Result<Answer, Failure> {
        let started = Instant::now();
        let payload = body.map(Value::to_string);
        let what = format!("{method} {}", path.split('?').next().unwrap_or(path));
        let mut retry = 0;
        loop {
            let outcome = self.attempt(&method, path, payload.as_deref(), idempotency_key);
            let (retry_after, why) = match &outcome {
                Ok(answer) if RETRYABLE.contains(&answer.status) => {
                    (answer.retry_after, format!("answered {}", answer.status))
                }
                Err(e) if transient(e) => (None, e.to_string()),
                _ => return outcome.map_err(|e| Failure::error(format!("{what}: {e}"))),
            };
            let Some(wait) = self
                .backoff
                .wait(retry, started.elapsed(), retry_after, jitter())
            else {
                eprintln!("aau: {what}: {why}; no more retries after {} attempts", retry + 1);
                return outcome.map_err(|e| Failure::error(format!("{what}: {e}")));
            };
            eprintln!(
                "aau: {what}: {why}; retrying in {:.1}s (attempt {})",
                wait.as_secs_f64(),
                retry + 2
            );
            sleep(wait);
            retry += 1;
        }
    }

    fn attempt(
        &self,
        method: &Method,
        path: &str,
        payload: Option<&str>,
        idempotency_key: Option<&str>,
    ) -> Result<Answer, ureq::Error> {
        let mut request = Request::builder()
            .method(method.clone())
            .uri(format!("{}{path}", self.base))
            .header("accept", "application/json");
        request = match &self.credential {
            Credential::Pat(token) => {
                request.header("authorization", format!("Bearer {}", token.expose()))
            }
            Credential::ApiKey(key) => request.header("x-api-key", key.expose()),
        };
        if let Some(key) = idempotency_key {
            request = request.header("idempotency-key", key);
        }
        let response = match payload {
            Some(json) => self.agent.run(
                request
                    .header("content-type", "application/json")
                    .body(json.to_owned())?,
            ),
            None => self.agent.run(request.body(())?),
        }?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let raw = response.into_body().read_to_string()?;
        let body = serde_json::from_str(&raw).unwrap_or(Value::Null);
        Ok(Answer {
            status,
            body,
            raw,
            retry_after,
        })
    }
}

/// Errors after which the request may or may not have reached the server:
/// safe to retry with the same `Idempotency-Key`.
fn transient(error: &ureq::Error) -> bool {
    matches!(
        error,
        ureq::Error::Io(_)
            | ureq::Error::ConnectionFailed
            | ureq::Error::Timeout(_)
            | ureq::Error::BodyStalled
            | ureq::Error::Protocol(_)
    )
}

/// A uniform number in [0, 1) from the OS; 0.5 if it has none to give
/// (the wait is then merely less spread).
fn jitter() -> f64 {
    let mut bytes = [0u8; 8];
    match getrandom::fill(&mut bytes) {
        Ok(()) => (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64,
        Err(_) => 0.5,
    }
}

/// A fresh `Idempotency-Key`: 128 random bits, hex.
pub fn random_key() -> Result<String, Failure> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| Failure::error(format!("no randomness for an Idempotency-Key: {e}")))?;
    Ok(hex::encode(bytes))
}

/// An `Idempotency-Key` that is the same whenever `parts` are: 128 bits of
/// their SHA-256, hex.
pub fn derived_key(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.as_bytes());
        // A separator that cannot occur in a part keeps ("ab","c") and
        // ("a","bc") apart.
        hash.update([0u8]);
    }
    hex::encode(&hash.finalize()[..16])
}
