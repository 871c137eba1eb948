//! A private App Upgrade stack for the CLI tests: the three functions'
//! routers served over real HTTP on 127.0.0.1 (routed as `make run`'s
//! `cargo lambda watch` routes them, see the root Cargo.toml), on fresh
//! tables of the local DynamoDB emulator with a seeded team, project, API
//! key and tokens; and `aau` run as a pipeline runs it. Each request
//! carries the API Gateway context a deployed function gets, with the
//! caller's address as `sourceIp`.
//!
//! Like every integration test, it needs the emulator `make test` starts
//! (AWS_ENDPOINT_URL_DYNAMODB) and fails loudly without it.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Body;
use http_body_util::BodyExt;
use integration_tests::Fixture;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::request::RequestContext;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;

pub struct Stack {
    pub fixture: Fixture,
    pub url: String,
    faults: Faults,
    // Serves until the test ends.
    _runtime: tokio::runtime::Runtime,
}

/// What the stack does to the answer of a request it has served (the
/// function ran, its write is stored): the network failing on the way back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The connection closes without an answer.
    Lose,
    /// No answer, and the connection stays open (a hung gateway), until the
    /// client gives up or is killed.
    Hold,
}

/// Faults armed for the next matching requests, and how many struck.
#[derive(Clone, Default)]
struct Faults(Arc<Mutex<(Vec<Armed>, usize)>>);

struct Armed {
    method: String,
    path: String,
    /// Matching requests to let through first.
    skip: usize,
    fault: Fault,
}

impl Faults {
    /// The fault for this request, used up, if one is armed for it.
    fn take(&self, method: &str, path: &str) -> Option<Fault> {
        let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let at = state
            .0
            .iter()
            .position(|a| a.method == method && path.contains(a.path.as_str()))?;
        if state.0[at].skip > 0 {
            state.0[at].skip -= 1;
            return None;
        }
        let armed = state.0.remove(at);
        state.1 += 1;
        Some(armed.fault)
    }
}

#[derive(Clone)]
struct Functions {
    versions: Router,
    tokens: Router,
    check: Router,
}

impl Functions {
    fn route(&self, path: &str) -> &Router {
        if path.starts_with("/api/v1/projects/") {
            &self.versions
        } else if path.starts_with("/api/v1/account/tokens") {
            &self.tokens
        } else {
            &self.check
        }
    }
}

impl Stack {
    pub fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let fixture = runtime.block_on(Fixture::new());
        let functions = Functions {
            versions: versions::app(fixture.store.clone()),
            tokens: tokens::app(fixture.store.clone()),
            check: check::app(fixture.store.clone()),
        };
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let faults = Faults::default();
        let armed = faults.clone();
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let functions = functions.clone();
                let faults = armed.clone();
                tokio::spawn(async move {
                    // A client that hangs up early is its own business.
                    let _ = serve_one(stream, &functions, &faults).await;
                });
            }
        });
        Self {
            fixture,
            url,
            faults,
            _runtime: runtime,
        }
    }

    /// Applies `fault` to the answer of the next `method` request whose
    /// path contains `path`.
    pub fn fault_next(&self, method: &str, path: &str, fault: Fault) {
        self.fault_after(method, path, 0, fault);
    }

    /// [`Self::fault_next`], after `skip` such requests went through (not
    /// counting those an earlier armed fault took).
    pub fn fault_after(&self, method: &str, path: &str, skip: usize, fault: Fault) {
        let mut state = self.faults.0.lock().unwrap_or_else(PoisonError::into_inner);
        state.0.push(Armed {
            method: method.to_owned(),
            path: path.to_owned(),
            skip,
            fault,
        });
    }

    /// How many armed faults have struck.
    pub fn faults_struck(&self) -> usize {
        self.faults
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .1
    }

    /// `aau ARGS` with the seeded read-write token, team, project and API
    /// key in the environment, as a pipeline's secrets would be.
    pub fn aau(&self, args: &[&str]) -> Run {
        self.aau_with(args, &[], None)
    }

    /// `aau ARGS` with `env` set over the defaults (an empty value unsets)
    /// and `stdin` piped in.
    pub fn aau_with(&self, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Run {
        let f = &self.fixture;
        let mut command = Command::new(env!("CARGO_BIN_EXE_aau"));
        command
            .args(args)
            .env("APP_UPGRADE_URL", &self.url)
            .env("APP_UPGRADE_TOKEN", f.rw_token.expose())
            .env("APP_UPGRADE_TEAM_ID", f.team.as_str())
            .env("APP_UPGRADE_PROJECT_ID", f.project.as_str())
            .env("APP_UPGRADE_API_KEY", f.api_key.expose())
            .env("APP_UPGRADE_RETRY_MAX_SECONDS", "10")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("run aau");
        let mut input = child.stdin.take().expect("stdin");
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).expect("write stdin");
        }
        drop(input);
        let out = child.wait_with_output().expect("aau ran");
        let run = Run {
            status: out.status.code().expect("exited"),
            stdout: String::from_utf8(out.stdout).expect("utf-8"),
            stderr: String::from_utf8(out.stderr).expect("utf-8"),
        };
        // Whatever happened, no secret it was given is in its messages.
        let secrets = [
            f.rw_token.expose(),
            f.read_token.expose(),
            f.api_key.expose(),
        ];
        for secret in secrets.into_iter().chain(env.iter().map(|(_, v)| *v)) {
            if secret.starts_with("aau_") || secret == f.api_key.expose() {
                assert!(!run.stderr.contains(secret), "a secret in stderr: {run:?}");
            }
        }
        run
    }
}

#[derive(Debug)]
pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout as JSON; the run must have succeeded.
    pub fn ok(&self) -> Value {
        assert_eq!(self.status, 0, "{self:?}");
        self.json()
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout not JSON ({e}): {self:?}"))
    }
}

/// One HTTP/1.1 exchange, then the connection closes (the `connection:
/// close` answer tells the client not to reuse it).
async fn serve_one(
    stream: TcpStream,
    functions: &Functions,
    faults: &Faults,
) -> std::io::Result<()> {
    let peer = stream.peer_addr()?.ip();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).await?;
    let mut parts = line.split_whitespace();
    let (Some(method), Some(uri)) = (parts.next(), parts.next()) else {
        return Ok(());
    };
    let mut request = http::Request::builder().method(method).uri(uri);
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).await?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
            request = request.header(name.trim(), value.trim());
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await?;
    let mut request = request.body(Body::from(body)).expect("a request");
    // As API Gateway hands it over: the caller's address in the context.
    let context: ApiGatewayV2httpRequestContext = serde_json::from_value(serde_json::json!({
        "http": {"method": method, "path": request.uri().path(), "protocol": "HTTP/1.1",
                 "sourceIp": peer.to_string(), "userAgent": "aau"}
    }))
    .expect("a request context");
    request
        .extensions_mut()
        .insert(RequestContext::ApiGatewayV2(context));
    let path = request.uri().path().to_owned();
    let method = request.method().to_string();
    let response = functions
        .route(&path)
        .clone()
        .oneshot(request)
        .await
        .expect("infallible");
    match faults.take(&method, &path) {
        Some(Fault::Lose) => return Ok(()),
        Some(Fault::Hold) => {
            let _open = reader;
            std::future::pending::<()>().await;
            return Ok(());
        }
        None => {}
    }
    let (head, body) = response.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    let mut out = format!(
        "HTTP/1.1 {} {}\r\n",
        head.status.as_u16(),
        head.status.canonical_reason().unwrap_or("")
    );
    for (name, value) in &head.headers {
        if name != http::header::CONTENT_LENGTH && name != http::header::CONNECTION {
            out.push_str(&format!("{name}: {}\r\n", value.to_str().unwrap_or("")));
        }
    }
    out.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    let mut stream = reader.into_inner();
    stream.write_all(out.as_bytes()).await?;
    stream.write_all(&body).await?;
    stream.shutdown().await
}
