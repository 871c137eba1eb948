//! A counting proxy in front of the DynamoDB emulator. The function under
//! test gets the proxy as `AWS_ENDPOINT_URL_DYNAMODB`, so every DynamoDB
//! call its real binary makes — retries included — is seen and named (the
//! operation from `X-Amz-Target`) without touching its code. It also counts
//! the bytes DynamoDB answers with: what a request made the store read and
//! send (headers included, a few hundred bytes per call).

use std::io::{self, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use crate::http1;

pub struct CountingProxy {
    addr: SocketAddr,
    calls: Arc<Mutex<Vec<String>>>,
    answered: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl CountingProxy {
    pub fn start(upstream: SocketAddr) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let calls = Arc::new(Mutex::new(Vec::new()));
        let answered = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (recorded, counted, stopping) = (calls.clone(), answered.clone(), stop.clone());
        thread::Builder::new()
            .name("ddb-proxy".into())
            .spawn(move || {
                for client in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(client) = client else { continue };
                    let (recorded, counted) = (recorded.clone(), counted.clone());
                    let _ = thread::Builder::new()
                        .name("ddb-proxy-conn".into())
                        .spawn(move || relay(client, upstream, &recorded, counted));
                }
            })?;
        Ok(Self {
            addr,
            calls,
            answered,
            stop,
        })
    }

    /// The value of `AWS_ENDPOINT_URL_DYNAMODB` for the process under test.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Calls seen so far.
    pub fn count(&self) -> usize {
        self.calls.lock().map_or(0, |c| c.len())
    }

    /// Bytes DynamoDB has answered with so far (every response, whole).
    pub fn bytes_answered(&self) -> u64 {
        self.answered.load(Ordering::SeqCst)
    }

    /// The operations of the calls from index `from` on, in order.
    pub fn operations_since(&self, from: usize) -> Vec<String> {
        self.calls
            .lock()
            .map(|c| c.get(from..).unwrap_or_default().to_vec())
            .unwrap_or_default()
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

/// Requests are parsed (to count them); responses are copied byte for byte.
fn relay(
    client: TcpStream,
    upstream: SocketAddr,
    calls: &Mutex<Vec<String>>,
    answered: Arc<AtomicU64>,
) -> io::Result<()> {
    let server = TcpStream::connect(upstream)?;
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    let (mut from_server, mut to_client) = (server.try_clone()?, client.try_clone()?);
    let responses = thread::Builder::new()
        .name("ddb-proxy-resp".into())
        .spawn(move || {
            let mut counting = Counting {
                inner: &mut to_client,
                count: &answered,
            };
            let _ = io::copy(&mut from_server, &mut counting);
            let _ = to_client.shutdown(Shutdown::Write);
        })?;
    let mut requests = BufReader::new(client);
    let mut to_server = server;
    while let Some(request) = http1::read_message(&mut requests)? {
        let operation = request
            .header("x-amz-target")
            .and_then(|t| t.rsplit('.').next())
            .unwrap_or("(no X-Amz-Target)")
            .to_owned();
        if let Ok(mut calls) = calls.lock() {
            calls.push(operation);
        }
        to_server.write_all(&request.raw)?;
    }
    to_server.shutdown(Shutdown::Write)?;
    let _ = responses.join();
    Ok(())
}

/// A writer that adds what it writes to `count`.
struct Counting<'a, W> {
    inner: &'a mut W,
    count: &'a AtomicU64,
}

impl<W: Write> Write for Counting<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.count.fetch_add(n as u64, Ordering::SeqCst);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a panic is the test failing
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn counts_and_names_requests_and_relays_both_ways() {
        // An upstream that answers every request with "ok" until EOF.
        let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
        let upstream_addr = upstream.local_addr().unwrap();
        thread::spawn(move || {
            let (stream, _) = upstream.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut writer = stream;
            while let Some(_request) = http1::read_message(&mut reader).unwrap() {
                http1::write_response(&mut writer, 200, "OK", &[], b"ok").unwrap();
            }
        });
        let proxy = CountingProxy::start(upstream_addr).unwrap();
        let mut client =
            TcpStream::connect(proxy.endpoint().trim_start_matches("http://")).unwrap();
        client
            .write_all(
                b"POST / HTTP/1.1\r\nx-amz-target: DynamoDB_20120810.GetItem\r\ncontent-length: 2\r\n\r\n{}\
POST / HTTP/1.1\r\nX-Amz-Target: DynamoDB_20120810.Query\r\ncontent-length: 0\r\n\r\n",
            )
            .unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut answers = String::new();
        client.read_to_string(&mut answers).unwrap();
        assert_eq!(answers.matches("HTTP/1.1 200 OK").count(), 2);
        assert_eq!(proxy.count(), 2);
        assert_eq!(proxy.operations_since(1), vec!["Query".to_owned()]);
        assert_eq!(proxy.operations_since(0), vec!["GetItem", "Query"]);
        assert_eq!(proxy.bytes_answered(), answers.len() as u64);
    }
}
