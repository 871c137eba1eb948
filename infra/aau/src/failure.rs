//! Why a command failed, and the exit status a script branches on.

use std::fmt;

use serde_json::Value;

use crate::say::clean;

/// The exit statuses, documented in the README (`aau` section) and in
/// `aau --help`.
pub mod exit {
    pub const OK: u8 = 0;
    /// Anything not listed below: network, 5xx after the retries, 413, 422…
    pub const ERROR: u8 = 1;
    /// Bad arguments, or input the server rejected as invalid (400).
    pub const USAGE: u8 = 2;
    /// The version exists: a 409 conflict, or `upsert --if-exists fail`.
    pub const EXISTS: u8 = 3;
    /// 401 or 403: missing, unknown, revoked or under-scoped credential.
    pub const DENIED: u8 = 4;
    /// 404: unknown team, project or version (or one the token may not see).
    pub const NOT_FOUND: u8 = 5;
    /// `check --expect`: the answer was not the expected one.
    pub const UNEXPECTED: u8 = 6;
}

/// A failed command: the message for stderr and the exit status.
#[derive(Debug)]
pub struct Failure {
    pub exit: u8,
    pub message: String,
    /// JSON for stdout all the same (e.g. the check's answer that was not
    /// the expected one).
    pub output: Option<Value>,
}

impl Failure {
    pub fn new(exit: u8, message: impl Into<String>) -> Self {
        Self {
            exit,
            message: message.into(),
            output: None,
        }
    }

    pub fn with_output(mut self, output: Value) -> Self {
        self.output = Some(output);
        self
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(exit::USAGE, message)
    }

    pub fn error(message: impl Into<String>) -> Self {
        Self::new(exit::ERROR, message)
    }

    /// An answer the command did not want: the server's own message (and
    /// field errors, one a line), [cleaned](clean) of anything that could
    /// act on a terminal or a CI log, under the exit status its status maps
    /// to.
    pub fn from_answer(what: &str, status: u16, body: &Value, raw: &str) -> Self {
        let exit = match status {
            400 => exit::USAGE,
            401 | 403 => exit::DENIED,
            404 => exit::NOT_FOUND,
            409 => exit::EXISTS,
            _ => exit::ERROR,
        };
        let mut message = match body["message"].as_str() {
            Some(server) => format!("{what}: HTTP {status}: {}", clean(server)),
            // Not our JSON (a proxy's or gateway's page): its first line.
            None => format!(
                "{what}: HTTP {status}: {}",
                clean(
                    &raw.lines()
                        .next()
                        .unwrap_or("")
                        .chars()
                        .take(200)
                        .collect::<String>()
                )
            ),
        };
        for error in body["errors"].as_array().into_iter().flatten() {
            let field = clean(error["field"].as_str().unwrap_or("?"));
            let text = clean(error["message"].as_str().unwrap_or("?"));
            message.push_str(&format!("\n  {field}: {text}"));
        }
        Self::new(exit, message)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
