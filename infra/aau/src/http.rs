//! The one way `aau` talks to the API: a blocking client that sends the
//! credential, JSON and `Idempotency-Key`, and retries what is safe to retry
//! (see [`Client::send`]).

use std::cell::Cell;
use std::fmt;
use std::io::BufRead;
use std::thread::sleep;
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};
use ureq::Agent;
use ureq::http::{Method, Request};

use crate::backoff::{Backoff, parse_retry_after};
use crate::expiry;
use crate::failure::Failure;
use crate::say::{say, warn};

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

    pub(crate) fn parse(what: &str, value: String) -> Result<Self, Failure> {
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
    /// `Idempotent-Replayed: true`: the answer of an earlier request with
    /// the same `Idempotency-Key`, not of this one.
    pub replayed: bool,
    /// Whether this answer came to the first attempt (no retry was made).
    pub first_attempt: bool,
    retry_after: Option<Duration>,
}

impl Answer {
    /// The body when the status is one of `ok`, else the server's error as
    /// a [`Failure`] (`what` names the request in the message).
    pub fn expect(self, what: &str, ok: &[u16]) -> Result<Value, Failure> {
        if ok.contains(&self.status) {
            Ok(self.body)
        } else {
            Err(Failure::from_answer(
                what,
                self.status,
                &self.body,
                &self.raw,
            ))
        }
    }
}

#[derive(Debug)]
pub struct Client {
    agent: Agent,
    base: String,
    credential: Credential,
    backoff: Backoff,
    /// Whether the token's coming expiry was warned about (once a run).
    expiry_warned: Cell<bool>,
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
            expiry_warned: Cell::new(false),
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
            let outcome = self
                .attempt(&method, path, payload.as_deref(), idempotency_key)
                .map(|answer| Answer {
                    first_attempt: retry == 0,
                    ..answer
                });
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
                say(&format!(
                    "{what}: {why}; no more retries after {} attempts",
                    retry + 1
                ));
                return outcome.map_err(|e| Failure::error(format!("{what}: {e}")));
            };
            say(&format!(
                "{what}: {why}; retrying in {:.1}s (attempt {})",
                wait.as_secs_f64(),
                retry + 2
            ));
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
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v: &ureq::http::HeaderValue| v.to_str().ok())
        };
        let retry_after = header("retry-after").and_then(parse_retry_after);
        let replayed = header("idempotent-replayed") == Some("true");
        if let Some(expires_at) = header(expiry::HEADER) {
            self.warn_of_expiry(expires_at);
        }
        let raw = response.into_body().read_to_string()?;
        let body = serde_json::from_str(&raw).unwrap_or(Value::Null);
        Ok(Answer {
            status,
            body,
            raw,
            replayed,
            first_attempt: true,
            retry_after,
        })
    }

    /// One line on stderr, once a run, when the token expires within two
    /// weeks; the command goes on as if nothing were said.
    fn warn_of_expiry(&self, expires_at: &str) {
        if self.expiry_warned.get() {
            return;
        }
        let now = time::OffsetDateTime::now_utc();
        if let Some(warning) = expiry::warning(expires_at, now) {
            self.expiry_warned.set(true);
            warn(&warning);
        }
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

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::mpsc;

    use serde_json::json;

    use super::*;

    /// What the server saw of one request.
    #[derive(Debug)]
    struct Seen {
        request_line: String,
        idempotency_key: Option<String>,
        body: String,
    }

    /// A one-thread HTTP/1.1 server on 127.0.0.1 answering its requests
    /// with `answers` in turn (raw status line and headers, then a body),
    /// each on its own connection. `None` drops the connection without an
    /// answer. Returns its base URL and what it saw.
    fn serve(answers: Vec<Option<(&'static str, &'static str)>>) -> (String, mpsc::Receiver<Seen>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for answer in answers {
                let (stream, _) = listener.accept().expect("accept");
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut request_line = String::new();
                reader.read_line(&mut request_line).expect("request line");
                let (mut length, mut key) = (0, None);
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).expect("header");
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    let (name, value) = line.split_once(':').expect("header line");
                    match name.to_ascii_lowercase().as_str() {
                        "content-length" => length = value.trim().parse().expect("length"),
                        "idempotency-key" => key = Some(value.trim().to_owned()),
                        _ => {}
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).expect("body");
                tx.send(Seen {
                    request_line: request_line.trim_end().to_owned(),
                    idempotency_key: key,
                    body: String::from_utf8(body).expect("utf-8"),
                })
                .expect("send");
                let Some((head, body)) = answer else {
                    continue; // dropped: the client sees the connection close
                };
                let mut stream = stream;
                write!(
                    stream,
                    "{head}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                )
                .expect("answer");
            }
        });
        (url, rx)
    }

    fn client(url: &str, budget_secs: u64) -> Client {
        let token = Secret::parse("test", "aau_test".into()).expect("valid");
        let mut backoff = Backoff::new(Duration::from_secs(budget_secs));
        backoff.base = Duration::from_millis(20);
        Client::new(url, Credential::Pat(token), Duration::from_secs(5), backoff)
    }

    const CREATED: (&str, &str) = ("HTTP/1.1 201 Created", r#"{"id": "v1"}"#);
    const UNAVAILABLE: (&str, &str) = (
        "HTTP/1.1 503 Service Unavailable\r\nretry-after: 0",
        r#"{"code": 503, "message": "try again"}"#,
    );

    #[test]
    fn a_503_then_a_201_is_one_write_sent_twice_with_the_same_key() {
        let (url, seen) = serve(vec![Some(UNAVAILABLE), Some(CREATED)]);
        let body = json!({"appName": "A"});
        let answer = client(&url, 10)
            .send(Method::POST, "/things?x=1", Some(&body), Some("key-1"))
            .expect("answered");
        assert_eq!((answer.status, answer.body), (201, json!({"id": "v1"})));
        let seen: Vec<Seen> = seen.try_iter().collect();
        assert_eq!(seen.len(), 2);
        for s in &seen {
            assert_eq!(s.request_line, "POST /things?x=1 HTTP/1.1");
            assert_eq!(s.idempotency_key.as_deref(), Some("key-1"));
            assert_eq!(s.body, r#"{"appName":"A"}"#);
        }
    }

    #[test]
    fn a_dropped_connection_and_a_429_are_retried() {
        let throttled = ("HTTP/1.1 429 Too Many Requests", "{}");
        let (url, seen) = serve(vec![None, Some(throttled), Some(CREATED)]);
        let answer = client(&url, 10)
            .send(Method::DELETE, "/things/1", None, Some("key-2"))
            .expect("answered");
        assert_eq!(answer.status, 201);
        assert_eq!(seen.try_iter().count(), 3);
    }

    #[test]
    fn retry_after_is_waited_for() {
        let slow = ("HTTP/1.1 503 Service Unavailable\r\nretry-after: 1", "{}");
        let (url, _seen) = serve(vec![Some(slow), Some(CREATED)]);
        let started = Instant::now();
        let answer = client(&url, 10)
            .send(Method::GET, "/things", None, None)
            .expect("answered");
        assert_eq!(answer.status, 201);
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn the_budget_ends_the_retries_with_the_last_answer() {
        // Retry-After 5 s cannot fit in a 2 s budget: one attempt only.
        let slow = ("HTTP/1.1 503 Service Unavailable\r\nretry-after: 5", "{}");
        let (url, seen) = serve(vec![Some(slow)]);
        let started = Instant::now();
        let answer = client(&url, 2)
            .send(Method::POST, "/things", None, Some("k"))
            .expect("answered");
        assert_eq!(answer.status, 503);
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(seen.try_iter().count(), 1);
    }

    #[test]
    fn other_errors_are_not_retried() {
        let bad = (
            "HTTP/1.1 400 Bad Request",
            r#"{"code": 400, "message": "appName: is required"}"#,
        );
        let (url, seen) = serve(vec![Some(bad), Some(CREATED)]);
        let failure = client(&url, 10)
            .send(Method::POST, "/things", None, Some("k"))
            .expect("answered")
            .expect("create", &[201])
            .expect_err("a 400");
        assert_eq!(failure.exit, crate::failure::exit::USAGE);
        assert_eq!(failure.message, "create: HTTP 400: appName: is required");
        assert_eq!(seen.try_iter().count(), 1);
    }

    #[test]
    fn keys_are_random_or_derived_from_their_parts() {
        let (a, b) = (random_key().expect("random"), random_key().expect("random"));
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert_eq!(derived_key(&["a", "b"]), derived_key(&["a", "b"]));
        assert_ne!(derived_key(&["ab", "c"]), derived_key(&["a", "bc"]));
    }

    #[test]
    fn a_secret_never_shows_in_debug() {
        let secret = Secret::parse("test", "aau_secret".into()).expect("valid");
        assert_eq!(format!("{secret:?}"), "Secret(…)");
        let error = Secret::parse("APP_UPGRADE_TOKEN", "aau_ secret".into()).expect_err("space");
        assert!(!error.message.contains("secret"), "{}", error.message);
    }
}
