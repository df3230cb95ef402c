//! The system-browser user agent (RFC 8252): a loopback listener on
//! `127.0.0.1:0` for one sign-in (S2), strict about what it accepts (S3),
//! and the default way to open the browser.

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use url::Url;

use super::code::{callback_params, state_matches};
use super::{OAuth, TokenSet};
use crate::error::{Error, Result};
use crate::profile::Profile;
use crate::secret::CsrfState;

/// The only path the listener answers.
pub(super) const CALLBACK_PATH: &str = "/callback";
/// Largest request head read from the browser.
const MAX_REQUEST: usize = 16 * 1024;
/// Time a connection gets to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

const DONE_PAGE: &str =
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Tokentray</title></head>\
<body><p>Tokentray received the sign-in response. You can close this tab.</p></body></html>";
const BAD_PAGE: &str =
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Tokentray</title></head>\
<body><p>This is not a valid sign-in response for Tokentray.</p></body></html>";

impl OAuth {
    /// Signs in through the system browser: listens on `127.0.0.1:0`,
    /// redirect URI `http://127.0.0.1:PORT/callback`, calls `open` with the
    /// authorize URL (use [`open_in_browser`]), accepts exactly one callback
    /// with the right `state` (other paths get 404, a wrong `state` 400 and
    /// the wait goes on), and closes the listener after it or after
    /// `timeout` ([`Error::Cancelled`]).
    pub async fn sign_in_with_browser<F>(
        &self,
        profile: &Profile,
        open: F,
        timeout: Duration,
    ) -> Result<TokenSet>
    where
        F: FnOnce(&Url) -> Result<()>,
    {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(|err| Error::Network(format!("cannot listen on 127.0.0.1: {err}")))?;
        let port = listener
            .local_addr()
            .map_err(|err| Error::Network(format!("cannot listen on 127.0.0.1: {err}")))?
            .port();
        let redirect_uri = format!("http://127.0.0.1:{port}{CALLBACK_PATH}");
        let pending = self.begin_sign_in(profile, &redirect_uri).await?;
        open(pending.authorize_url())?;
        let params = wait_for_callback(listener, pending.state().clone(), timeout).await?;
        self.finish_with_params(&pending, &params).await
    }
}

/// Serves the listener until one request to [`CALLBACK_PATH`] carries the
/// expected `state`, or until `timeout`. The listener is dropped (closed) on
/// return.
pub(super) async fn wait_for_callback(
    listener: TcpListener,
    state: CsrfState,
    timeout: Duration,
) -> Result<Vec<(String, String)>> {
    let deadline = tokio::time::Instant::now() + timeout;
    let (found_tx, mut found_rx) = mpsc::channel(1);
    let claimed = Arc::new(AtomicBool::new(false));
    let state = Arc::new(state);
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => {
                return Err(Error::Cancelled {
                    reason: format!("no sign-in response from the browser within {} s", timeout.as_secs()),
                });
            }
            Some(params) = found_rx.recv() => return Ok(params),
            accepted = listener.accept() => {
                // A failed accept (e.g. the peer reset) is not fatal.
                if let Ok((stream, _)) = accepted {
                    let (state, claimed, found) = (Arc::clone(&state), Arc::clone(&claimed), found_tx.clone());
                    tokio::spawn(async move {
                        // Ignored: a connection that fails just goes away.
                        let _ = serve_one(stream, &state, &claimed, &found).await;
                    });
                }
            }
        }
    }
}

/// What the listener makes of one request.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// 404: not our path.
    NotFound,
    /// 400: not a GET, malformed, or wrong/missing/duplicate `state`.
    Bad,
    /// 200: the callback, with its parameters.
    Callback(Vec<(String, String)>),
}

/// Judges a request head (S3): exact path, `state` compared in constant
/// time. Whether it is the first valid one is decided by the caller.
pub(super) fn judge(head: &str, state: &CsrfState) -> Verdict {
    let Some(line) = head.lines().next() else {
        return Verdict::Bad;
    };
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Verdict::Bad;
    };
    if !version.starts_with("HTTP/1.") || parts.next().is_some() {
        return Verdict::Bad;
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path != CALLBACK_PATH {
        return Verdict::NotFound;
    }
    if method != "GET" {
        return Verdict::Bad;
    }
    match callback_params(query) {
        Ok(params) if state_matches(&params, state) => Verdict::Callback(params),
        _ => Verdict::Bad,
    }
}

async fn serve_one(
    mut stream: TcpStream,
    state: &CsrfState,
    claimed: &AtomicBool,
    found: &mpsc::Sender<Vec<(String, String)>>,
) -> std::io::Result<()> {
    let head = tokio::time::timeout(REQUEST_TIMEOUT, read_head(&mut stream))
        .await
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
    let verdict = match String::from_utf8(head) {
        Ok(head) => judge(&head, state),
        Err(_) => Verdict::Bad,
    };
    match verdict {
        Verdict::NotFound => respond(&mut stream, "404 Not Found", BAD_PAGE).await,
        Verdict::Bad => respond(&mut stream, "400 Bad Request", BAD_PAGE).await,
        // Single use: only the first valid callback is taken.
        Verdict::Callback(_) if claimed.swap(true, Ordering::SeqCst) => {
            respond(&mut stream, "400 Bad Request", BAD_PAGE).await
        }
        Verdict::Callback(params) => {
            let answered = respond(&mut stream, "200 OK", DONE_PAGE).await;
            // Ignored: the flow may have timed out meanwhile.
            let _ = found.send(params).await;
            answered
        }
    }
}

/// Reads until the end of the request head, at most [`MAX_REQUEST`] bytes.
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(1024);
    let mut buffer = [0u8; 2048];
    loop {
        let n = stream.read(&mut buffer).await?;
        if n == 0 {
            return Ok(head);
        }
        head.extend_from_slice(&buffer[..n]);
        if head.windows(4).any(|w| w == b"\r\n\r\n") || head.len() >= MAX_REQUEST {
            head.truncate(MAX_REQUEST);
            return Ok(head);
        }
    }
}

async fn respond(stream: &mut TcpStream, status: &str, page: &str) -> std::io::Result<()> {
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\n\
         Content-Security-Policy: default-src 'none'\r\nX-Content-Type-Options: nosniff\r\n\
         Connection: close\r\n\r\n{page}",
        page.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

/// Opens `url` in the user's browser: `$BROWSER` if set (the first of its
/// `:`-separated commands; `%s` replaced by the URL, else the URL appended),
/// else `xdg-open` (Linux and BSDs), `open` (macOS), or Windows' URL handler.
/// The URL goes as one argument, never through a shell.
pub fn open_in_browser(url: &Url) -> Result<()> {
    let mut command = match std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty())
    {
        Some(browser) => {
            let first = browser.split(':').next().unwrap_or_default();
            let mut words = first.split_whitespace();
            let program = words.next().unwrap_or_default().to_owned();
            let mut args: Vec<String> = words.map(str::to_owned).collect();
            if args.iter().any(|a| a.contains("%s")) {
                for arg in &mut args {
                    *arg = arg.replace("%s", url.as_str());
                }
            } else {
                args.push(url.as_str().to_owned());
            }
            let mut command = crate::hardening::child_command(program);
            command.args(args);
            command
        }
        None if cfg!(target_os = "macos") => {
            let mut command = crate::hardening::child_command("open");
            command.arg(url.as_str());
            command
        }
        None if cfg!(windows) => {
            // `start` is a cmd built-in that would re-parse `&` in the URL;
            // the URL protocol handler takes it as one argument.
            let mut command = crate::hardening::child_command("rundll32");
            command.arg("url.dll,FileProtocolHandler").arg(url.as_str());
            command
        }
        None => {
            let mut command = crate::hardening::child_command("xdg-open");
            command.arg(url.as_str());
            command
        }
    };
    command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = command.spawn().map_err(|err| {
        Error::InvalidInput(format!("cannot open a browser: {err}; set $BROWSER"))
    })?;
    // Reap it in the background: openers usually exit at once.
    std::thread::spawn(move || {
        // Ignored: nothing to do if waiting fails.
        let _ = child.wait();
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(target: &str) -> String {
        format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    }

    // S3: strict callback
    #[test]
    fn the_listener_judges_path_method_and_state() {
        // S3
        let state = CsrfState::new("s-123");
        assert_eq!(judge(&request("/"), &state), Verdict::NotFound);
        assert_eq!(judge(&request("/favicon.ico"), &state), Verdict::NotFound);
        assert_eq!(
            judge(&request("/callback/x?state=s-123"), &state),
            Verdict::NotFound
        );
        assert_eq!(judge(&request("/callback?code=c"), &state), Verdict::Bad);
        assert_eq!(
            judge(&request("/callback?code=c&state=s-12"), &state),
            Verdict::Bad
        );
        assert_eq!(
            judge(&request("/callback?state=s-123&state=s-123"), &state),
            Verdict::Bad
        );
        assert_eq!(
            judge("POST /callback?state=s-123 HTTP/1.1\r\n\r\n", &state),
            Verdict::Bad
        );
        assert_eq!(judge("garbage", &state), Verdict::Bad);
        match judge(&request("/callback?code=c&state=s-123"), &state) {
            Verdict::Callback(params) => assert!(params.contains(&("code".into(), "c".into()))),
            other => panic!("{other:?}"),
        }
        match judge(
            &request("/callback?error=access_denied&state=s-123"),
            &state,
        ) {
            Verdict::Callback(params) => assert!(params.iter().any(|(k, _)| k == "error")),
            other => panic!("{other:?}"),
        }
    }

    // S3: strict callback
    #[test]
    fn pages_reflect_nothing() {
        // S3: fixed pages, no query value.
        assert!(!DONE_PAGE.contains('{') && !BAD_PAGE.contains('{'));
    }

    // S2: loopback listener
    #[tokio::test]
    async fn the_listener_times_out_and_closes() {
        // S2
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let address = listener.local_addr().unwrap();
        assert!(address.ip().is_loopback());
        let error = wait_for_callback(listener, CsrfState::new("s"), Duration::from_millis(200))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::Cancelled);
        assert!(
            TcpStream::connect(address).await.is_err(),
            "still listening"
        );
    }
}
