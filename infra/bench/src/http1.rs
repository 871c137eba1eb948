//! Just enough HTTP/1.1 for the two local servers of the bench: whole
//! messages with `Content-Length` or chunked bodies, keep-alive, no TLS.
//! Both peers (the `lambda_runtime` client and the AWS SDK's hyper client)
//! are well-behaved, so anything unexpected is an error, not a recovery.

use std::io::{self, BufRead, Write};

/// One request as read from the wire, with its exact bytes for forwarding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The request line, e.g. `GET /path HTTP/1.1`, without CRLF.
    pub start: String,
    pub headers: Vec<(String, String)>,
    /// The decoded body (chunked framing removed).
    pub body: Vec<u8>,
    /// Every byte of the message as received.
    pub raw: Vec<u8>,
}

impl Message {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Method and path of a request line.
    pub fn method_path(&self) -> (&str, &str) {
        let mut parts = self.start.split(' ');
        (parts.next().unwrap_or(""), parts.next().unwrap_or(""))
    }
}

fn invalid(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

/// Reads one line (through `\n`) into `raw`; returns it without CRLF.
fn read_line<R: BufRead>(reader: &mut R, raw: &mut Vec<u8>) -> io::Result<Option<String>> {
    let start = raw.len();
    if reader.read_until(b'\n', raw)? == 0 {
        return Ok(None);
    }
    let line = &raw[start..];
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    String::from_utf8(line.to_vec())
        .map(Some)
        .map_err(|_| invalid("header line is not UTF-8"))
}

fn read_exact_into<R: BufRead>(reader: &mut R, n: usize, raw: &mut Vec<u8>) -> io::Result<()> {
    let start = raw.len();
    raw.resize(start + n, 0);
    reader.read_exact(&mut raw[start..])
}

/// The next message, or `None` when the peer closed the connection between
/// messages.
pub fn read_message<R: BufRead>(reader: &mut R) -> io::Result<Option<Message>> {
    let mut raw = Vec::new();
    let start = loop {
        match read_line(reader, &mut raw)? {
            None => return Ok(None),
            // Tolerated between messages (RFC 9112 §2.2).
            Some(line) if line.is_empty() => raw.clear(),
            Some(line) => break line,
        }
    };
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader, &mut raw)?.ok_or_else(|| invalid("truncated headers"))?;
        if line.is_empty() {
            break;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| invalid(format!("malformed header line: {line}")))?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let mut message = Message {
        start,
        headers,
        body: Vec::new(),
        raw,
    };
    let chunked = message
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    if chunked {
        read_chunked(reader, &mut message)?;
    } else if let Some(length) = message.header("content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| invalid(format!("bad content-length: {length}")))?;
        let at = message.raw.len();
        read_exact_into(reader, length, &mut message.raw)?;
        message.body = message.raw[at..].to_vec();
    }
    Ok(Some(message))
}

fn read_chunked<R: BufRead>(reader: &mut R, message: &mut Message) -> io::Result<()> {
    loop {
        let line =
            read_line(reader, &mut message.raw)?.ok_or_else(|| invalid("truncated chunk"))?;
        let size = line.split(';').next().unwrap_or("").trim();
        let size =
            usize::from_str_radix(size, 16).map_err(|_| invalid(format!("bad chunk: {line}")))?;
        if size == 0 {
            // Trailers, then the empty line.
            while !read_line(reader, &mut message.raw)?
                .ok_or_else(|| invalid("truncated trailers"))?
                .is_empty()
            {}
            return Ok(());
        }
        let at = message.raw.len();
        read_exact_into(reader, size, &mut message.raw)?;
        message.body.extend_from_slice(&message.raw[at..at + size]);
        let crlf = read_line(reader, &mut message.raw)?;
        if crlf.as_deref() != Some("") {
            return Err(invalid("chunk not followed by CRLF"));
        }
    }
}

/// Writes a complete response with a `Content-Length` body.
pub fn write_response<W: Write>(
    writer: &mut W,
    status: u16,
    reason: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {reason}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    writer.write_all(head.as_bytes())?;
    writer.write_all(body)?;
    writer.flush()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a panic is the test failing
mod tests {
    use super::*;

    #[test]
    fn reads_keep_alive_messages_with_length_and_chunked_bodies() {
        let wire = b"POST /a HTTP/1.1\r\nContent-Length: 5\r\nX-Amz-Target: T.GetItem\r\n\r\nhello\
POST /b HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n\
GET /c HTTP/1.1\r\nHost: x\r\n\r\n";
        let mut reader = io::BufReader::new(&wire[..]);
        let a = read_message(&mut reader).unwrap().unwrap();
        assert_eq!(a.method_path(), ("POST", "/a"));
        assert_eq!(a.header("x-amz-target"), Some("T.GetItem"));
        assert_eq!(a.body, b"hello");
        let b = read_message(&mut reader).unwrap().unwrap();
        assert_eq!(b.body, b"abcde");
        let c = read_message(&mut reader).unwrap().unwrap();
        assert_eq!(c.method_path(), ("GET", "/c"));
        assert!(c.body.is_empty());
        // The raw bytes of all three are exactly the wire.
        assert_eq!([a.raw, b.raw, c.raw].concat(), wire.to_vec());
        assert_eq!(read_message(&mut reader).unwrap(), None);
    }

    #[test]
    fn rejects_truncated_and_malformed_messages() {
        for wire in [
            &b"GET / HTTP/1.1\r\nHost"[..],
            b"GET / HTTP/1.1\r\nno colon\r\n\r\n",
            b"POST / HTTP/1.1\r\ncontent-length: 10\r\n\r\nshort",
            b"POST / HTTP/1.1\r\ncontent-length: x\r\n\r\n",
            b"POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
        ] {
            let mut reader = io::BufReader::new(wire);
            assert!(read_message(&mut reader).is_err(), "{wire:?}");
        }
    }

    #[test]
    fn writes_a_response_with_its_length() {
        let mut out = Vec::new();
        write_response(&mut out, 202, "Accepted", &[("content-type", "a/b")], b"{}").unwrap();
        assert_eq!(
            out,
            b"HTTP/1.1 202 Accepted\r\ncontent-type: a/b\r\ncontent-length: 2\r\n\r\n{}"
        );
    }
}
