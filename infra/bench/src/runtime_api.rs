//! A minimal local Lambda Runtime API, the endpoints `lambda_runtime` 1.5
//! calls (see its `requests.rs`):
//!
//! - `GET /2018-06-01/runtime/invocation/next` blocks until the driver
//!   queues an event, then returns it with the `Lambda-Runtime-*` headers;
//! - `POST /2018-06-01/runtime/invocation/{id}/response` and `…/error`;
//! - `POST /2018-06-01/runtime/init/error`.
//!
//! Every request is reported to the driver with the instant it arrived, so
//! the first `GET …/next` marks the end of a function's initialization.
//! One server per process under test, on an ephemeral 127.0.0.1 port: a
//! handler thread still waiting for an event when its process is killed can
//! then never take an event meant for the next process.

use std::io::{self, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::http1::{self, Message};

const NEXT: &str = "/2018-06-01/runtime/invocation/next";
const INVOCATION: &str = "/2018-06-01/runtime/invocation/";
const INIT_ERROR: &str = "/2018-06-01/runtime/init/error";
/// What a function gets as its deadline: Lambda's `now + timeout`.
const TIMEOUT: Duration = Duration::from_secs(30);

/// What the driver learns from the function under test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// A `GET …/invocation/next` arrived (before any event is handed out).
    NextRequested(Instant),
    Response {
        request_id: String,
        body: Vec<u8>,
    },
    Error {
        request_id: String,
        error_type: String,
        body: Vec<u8>,
    },
    InitError {
        body: Vec<u8>,
    },
}

pub struct RuntimeApi {
    addr: SocketAddr,
    function_arn: Arc<str>,
    events: Option<Sender<Event>>,
    reports: Receiver<Report>,
    stop: Arc<AtomicBool>,
    next_id: AtomicU64,
}

struct Event {
    request_id: String,
    body: Arc<[u8]>,
}

struct Shared {
    events: Mutex<Receiver<Event>>,
    reports: Sender<Report>,
    function_arn: Arc<str>,
}

impl RuntimeApi {
    pub fn start(function_name: &str) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let (events_tx, events_rx) = mpsc::channel();
        let (reports_tx, reports_rx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let function_arn: Arc<str> =
            format!("arn:aws:lambda:us-east-1:123456789012:function:{function_name}").into();
        let shared = Arc::new(Shared {
            events: Mutex::new(events_rx),
            reports: reports_tx,
            function_arn: function_arn.clone(),
        });
        let stopping = stop.clone();
        thread::Builder::new()
            .name("runtime-api".into())
            .spawn(move || accept_loop(listener, shared, stopping))?;
        Ok(Self {
            addr,
            function_arn,
            events: Some(events_tx),
            reports: reports_rx,
            stop,
            next_id: AtomicU64::new(1),
        })
    }

    /// The value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    pub fn function_arn(&self) -> &str {
        &self.function_arn
    }

    /// Queues one event; returns its request id.
    pub fn invoke(&self, body: Arc<[u8]>) -> io::Result<String> {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        let request_id = format!("00000000-0000-4000-8000-{n:012x}");
        self.events
            .as_ref()
            .ok_or_else(|| io::Error::other("runtime API stopped"))?
            .send(Event {
                request_id: request_id.clone(),
                body,
            })
            .map_err(|_| io::Error::other("runtime API stopped"))?;
        Ok(request_id)
    }

    pub fn recv_timeout(&self, timeout: Duration) -> Result<Report, RecvTimeoutError> {
        self.reports.recv_timeout(timeout)
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Handler threads waiting for an event see the channel close.
        self.events.take();
        // Wake the accept loop so it sees `stop`; failure means it is gone.
        let _ = TcpStream::connect(self.addr);
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>, stop: Arc<AtomicBool>) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let shared = shared.clone();
        // A connection error only ends that connection: the process under
        // test is killed at the end of every run.
        let _ = thread::Builder::new()
            .name("runtime-api-conn".into())
            .spawn(move || serve(stream, &shared));
    }
}

fn serve(stream: TcpStream, shared: &Shared) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    while let Some(request) = http1::read_message(&mut reader)? {
        let arrived = Instant::now();
        if !respond(&request, arrived, shared, &mut writer)? {
            return Ok(());
        }
    }
    Ok(())
}

/// Answers one request; `false` when the server is shutting down.
fn respond(
    request: &Message,
    arrived: Instant,
    shared: &Shared,
    writer: &mut TcpStream,
) -> io::Result<bool> {
    let accepted = |writer: &mut TcpStream| {
        http1::write_response(
            writer,
            202,
            "Accepted",
            &[("content-type", "application/json")],
            br#"{"status":"OK"}"#,
        )
    };
    // A closed report channel means the driver is done with this server.
    let report = |r: Report| shared.reports.send(r).is_ok();
    match request.method_path() {
        ("GET", NEXT) => {
            if !report(Report::NextRequested(arrived)) {
                return Ok(false);
            }
            let event = {
                let events = shared
                    .events
                    .lock()
                    .map_err(|_| io::Error::other("poisoned"))?;
                events.recv()
            };
            let Ok(event) = event else { return Ok(false) };
            let deadline = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .saturating_add(TIMEOUT)
                .as_millis()
                .to_string();
            let tail = event.request_id.rsplit('-').next().unwrap_or("");
            let trace =
                format!("Root=1-00000000-000000000000{tail};Parent=0000000000000001;Sampled=0");
            http1::write_response(
                writer,
                200,
                "OK",
                &[
                    ("content-type", "application/json"),
                    ("lambda-runtime-aws-request-id", &event.request_id),
                    ("lambda-runtime-deadline-ms", &deadline),
                    ("lambda-runtime-invoked-function-arn", &shared.function_arn),
                    ("lambda-runtime-trace-id", &trace),
                ],
                &event.body,
            )?;
        }
        ("POST", INIT_ERROR) => {
            report(Report::InitError {
                body: request.body.clone(),
            });
            accepted(writer)?;
        }
        ("POST", path) if path.starts_with(INVOCATION) => {
            let rest = &path[INVOCATION.len()..];
            let reported = match rest.split_once('/') {
                Some((id, "response")) => Report::Response {
                    request_id: id.to_owned(),
                    body: request.body.clone(),
                },
                Some((id, "error")) => Report::Error {
                    request_id: id.to_owned(),
                    error_type: request
                        .header("lambda-runtime-function-error-type")
                        .unwrap_or("")
                        .to_owned(),
                    body: request.body.clone(),
                },
                _ => return not_found(writer).map(|()| true),
            };
            report(reported);
            accepted(writer)?;
        }
        _ => not_found(writer)?,
    }
    Ok(true)
}

fn not_found(writer: &mut TcpStream) -> io::Result<()> {
    http1::write_response(
        writer,
        404,
        "Not Found",
        &[("content-type", "application/json")],
        br#"{"errorMessage":"unknown path","errorType":"InvalidRequestException"}"#,
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a panic is the test failing
mod tests {
    use std::io::{BufRead, Read, Write};

    use super::*;

    fn send(stream: &mut TcpStream, request: &str) {
        stream.write_all(request.as_bytes()).unwrap();
    }

    /// Reads one response: status, headers (lower-cased names), body.
    fn response(reader: &mut BufReader<TcpStream>) -> (u16, Vec<(String, String)>, String) {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let status = line.split(' ').nth(1).unwrap().parse().unwrap();
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (n, v) = line.split_once(": ").unwrap();
            headers.push((n.to_ascii_lowercase(), v.to_owned()));
        }
        let length: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .unwrap()
            .1
            .parse()
            .unwrap();
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        (status, headers, String::from_utf8(body).unwrap())
    }

    #[test]
    fn hands_out_events_and_reports_next_response_and_errors() {
        let api = RuntimeApi::start("fn").unwrap();
        let mut stream = TcpStream::connect(api.address()).unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let id = api.invoke(Arc::from(&b"{\"a\":1}"[..])).unwrap();

        send(
            &mut stream,
            &format!("GET {NEXT} HTTP/1.1\r\nhost: x\r\n\r\n"),
        );
        assert!(matches!(
            api.recv_timeout(Duration::from_secs(5)),
            Ok(Report::NextRequested(_))
        ));
        let (status, headers, body) = response(&mut reader);
        assert_eq!((status, body.as_str()), (200, "{\"a\":1}"));
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(header("lambda-runtime-aws-request-id"), Some(id.clone()));
        assert_eq!(
            header("lambda-runtime-invoked-function-arn").as_deref(),
            Some(api.function_arn())
        );
        let deadline: u128 = header("lambda-runtime-deadline-ms")
            .unwrap()
            .parse()
            .unwrap();
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        assert!(deadline > now.as_millis());
        assert!(
            header("lambda-runtime-trace-id")
                .unwrap()
                .starts_with("Root=1-")
        );

        // The same keep-alive connection posts the response, then an error.
        send(
            &mut stream,
            &format!("POST {INVOCATION}{id}/response HTTP/1.1\r\ncontent-length: 2\r\n\r\nok"),
        );
        assert_eq!(response(&mut reader).0, 202);
        assert_eq!(
            api.recv_timeout(Duration::from_secs(5)),
            Ok(Report::Response {
                request_id: id.clone(),
                body: b"ok".to_vec()
            })
        );
        send(
            &mut stream,
            &format!(
                "POST {INVOCATION}{id}/error HTTP/1.1\r\nlambda-runtime-function-error-type: unhandled\r\ntransfer-encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n"
            ),
        );
        assert_eq!(response(&mut reader).0, 202);
        assert_eq!(
            api.recv_timeout(Duration::from_secs(5)),
            Ok(Report::Error {
                request_id: id,
                error_type: "unhandled".into(),
                body: b"x".to_vec()
            })
        );
        send(
            &mut stream,
            &format!("POST {INIT_ERROR} HTTP/1.1\r\ncontent-length: 1\r\n\r\ny"),
        );
        assert_eq!(response(&mut reader).0, 202);
        assert_eq!(
            api.recv_timeout(Duration::from_secs(5)),
            Ok(Report::InitError {
                body: b"y".to_vec()
            })
        );
        send(&mut stream, "GET /nope HTTP/1.1\r\n\r\n");
        assert_eq!(response(&mut reader).0, 404);
    }

    #[test]
    fn a_waiting_next_ends_when_the_server_is_dropped() {
        let api = RuntimeApi::start("fn").unwrap();
        let mut stream = TcpStream::connect(api.address()).unwrap();
        send(&mut stream, &format!("GET {NEXT} HTTP/1.1\r\n\r\n"));
        assert!(matches!(
            api.recv_timeout(Duration::from_secs(5)),
            Ok(Report::NextRequested(_))
        ));
        drop(api);
        // The handler thread closes the connection instead of answering.
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut rest = Vec::new();
        assert_eq!(stream.read_to_end(&mut rest).unwrap(), 0);
    }
}
