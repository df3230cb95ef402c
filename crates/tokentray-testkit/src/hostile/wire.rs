//! Just enough HTTP/1.1 for the hostile provider: read one request (head and
//! `Content-Length` body), write one answer and close. Every answer is
//! `Connection: close`, so there is no keep-alive state to get wrong.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Largest request the server reads (head plus body).
const MAX_REQUEST: usize = 64 * 1024;

/// One request: path, query and form body (the method does not matter).
#[derive(Debug, Default)]
pub struct Request {
    pub path: String,
    pub query: String,
    pub body: Vec<u8>,
}

impl Request {
    /// A parameter of the form body (first value wins).
    pub fn form(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(&self.body)
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    }
}

/// What to send back.
#[derive(Debug)]
pub enum Answer {
    /// A status and a JSON (or any) body with its `Content-Length`.
    Body { status: u16, body: Vec<u8> },
    /// `302 Found` to `location`.
    Redirect { location: String },
    /// `size` bytes of JSON-looking filler with no `Content-Length`: the
    /// client can only stop reading by giving up.
    Endless { size: usize },
    /// Nothing at all until the server stops.
    Hang,
    /// A `200` head promising a body, then one byte every 100 ms until the
    /// server stops (a slow-loris answer).
    Trickle,
}

/// Reads one request; `None` when the peer sent garbage or too much.
pub fn read_request(stream: &mut TcpStream) -> io::Result<Option<Request>> {
    let mut data = Vec::with_capacity(2048);
    let mut buffer = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        if data.len() > MAX_REQUEST {
            return Ok(None);
        }
        let n = stream.read(&mut buffer)?;
        if n == 0 {
            return Ok(None);
        }
        data.extend_from_slice(&buffer[..n]);
    };
    let Ok(head) = std::str::from_utf8(&data[..head_end]) else {
        return Ok(None);
    };
    let mut lines = head.lines();
    let mut first = lines.next().unwrap_or("").split(' ');
    let (Some(_method), Some(target)) = (first.next(), first.next()) else {
        return Ok(None);
    };
    let length = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    if length > MAX_REQUEST {
        return Ok(None);
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut request = Request {
        path: path.to_owned(),
        query: query.to_owned(),
        body: data[head_end..].to_vec(),
    };
    while request.body.len() < length {
        let n = stream.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        request.body.extend_from_slice(&buffer[..n]);
    }
    request.body.truncate(length);
    Ok(Some(request))
}

/// Writes `answer`. A hang lasts until `stop` is set (checked every 20 ms)
/// or `max_hang` passed.
pub fn write_answer(
    stream: &mut TcpStream,
    answer: Answer,
    stop: &AtomicBool,
    max_hang: Duration,
) -> io::Result<()> {
    match answer {
        Answer::Body { status, body } => {
            let head = format!(
                "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Cache-Control: no-store\r\nConnection: close\r\n\r\n",
                reason(status),
                body.len()
            );
            stream.write_all(head.as_bytes())?;
            stream.write_all(&body)?;
        }
        Answer::Redirect { location } => {
            let head = format!(
                "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\
                 Connection: close\r\n\r\n"
            );
            stream.write_all(head.as_bytes())?;
        }
        Answer::Endless { size } => {
            stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"access_token\":\"",
            )?;
            let chunk = vec![b'A'; 64 * 1024];
            let mut left = size;
            while left > 0 && !stop.load(Ordering::SeqCst) {
                let n = left.min(chunk.len());
                // An error here is the client hanging up: what it should do.
                stream.write_all(&chunk[..n])?;
                left -= n;
            }
        }
        Answer::Trickle => {
            stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\
                  Connection: close\r\n\r\n",
            )?;
            let until = Instant::now() + max_hang;
            while !stop.load(Ordering::SeqCst) && Instant::now() < until {
                stream.write_all(b" ")?;
                stream.flush()?;
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        Answer::Hang => {
            let until = Instant::now() + max_hang;
            while !stop.load(Ordering::SeqCst) && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
    stream.flush()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}
