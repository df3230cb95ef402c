//! The one HTTP client every provider request goes through, so that the
//! transport rules hold everywhere: `https` only (plain `http` to loopback
//! for tests and local development, S7), normal certificate checks against
//! the system roots plus an optional extra CA, no automatic redirects,
//! timeouts, and a cap on response bodies read incrementally.
//!
//! Nothing here logs a body, an `Authorization` header or a full URL: errors
//! name the host and what we were doing, never the query or the payload.

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use url::Url;
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::secret::{AccessTokenSecret, ClientSecret};

/// Environment variable naming an extra CA certificate file (PEM) trusted in
/// addition to the system roots.
pub const CA_FILE_ENV: &str = "TOKENTRAY_CA_FILE";
/// Time allowed to open a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed for a whole request, body included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest response body accepted (1 MiB).
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

/// How to build an [`HttpClient`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpOptions {
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Total timeout of one request.
    pub timeout: Duration,
    /// Largest response body, in bytes; a larger one is an error.
    pub max_body: usize,
    /// An extra CA certificate file (PEM, may hold several certificates).
    /// `None` falls back to `$TOKENTRAY_CA_FILE`, if set.
    pub ca_file: Option<PathBuf>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            max_body: DEFAULT_MAX_BODY,
            ca_file: None,
        }
    }
}

/// A response whose body was read whole (within the cap). The body is
/// zeroized on drop: token responses carry secrets.
pub struct Reply {
    /// HTTP status code.
    pub status: u16,
    /// The body.
    pub body: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reply")
            .field("status", &self.status)
            .field("body", &format_args!("[{} bytes]", self.body.len()))
            .finish()
    }
}

impl Reply {
    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// The shared HTTP client. Cheap to clone.
#[derive(Clone, Debug)]
pub struct HttpClient {
    client: reqwest::Client,
    max_body: usize,
}

impl HttpClient {
    /// Builds the client. Fails if the CA file cannot be read or holds no
    /// certificate.
    pub fn new(options: HttpOptions) -> Result<Self> {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .https_only(false) // checked per request by `check_url`: http to loopback is allowed
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(options.connect_timeout)
            .timeout(options.timeout)
            .user_agent(concat!("tokentray/", env!("CARGO_PKG_VERSION")));
        let ca_file = options
            .ca_file
            .clone()
            .or_else(|| std::env::var_os(CA_FILE_ENV).map(PathBuf::from));
        if let Some(path) = ca_file {
            for certificate in read_ca_file(&path)? {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let client = builder.build().map_err(|err| {
            Error::Network(format!("cannot set up the HTTP client: {}", chain(&err)))
        })?;
        Ok(Self {
            client,
            max_body: options.max_body,
        })
    }

    /// A client with the default options.
    pub fn with_defaults() -> Result<Self> {
        Self::new(HttpOptions::default())
    }

    /// GET `url` asking for JSON. `what` names the request in errors
    /// ("discovery", "JWKS").
    pub async fn get_json(&self, url: &Url, what: &str) -> Result<Reply> {
        check_url(url)?;
        let request = self
            .client
            .get(url.clone())
            .header(ACCEPT, "application/json");
        self.send(request, url, what).await
    }

    /// GET `url` asking for JSON, with `Authorization: Bearer` (userinfo).
    pub async fn get_json_bearer(
        &self,
        url: &Url,
        token: &AccessTokenSecret,
        what: &str,
    ) -> Result<Reply> {
        check_url(url)?;
        let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
            .map_err(|_| Error::InvalidInput("the access token cannot go in a header".into()))?;
        value.set_sensitive(true);
        let request = self
            .client
            .get(url.clone())
            .header(ACCEPT, "application/json")
            .header(AUTHORIZATION, value);
        self.send(request, url, what).await
    }

    /// POST a form to `url` asking for JSON, with HTTP Basic client
    /// authentication (RFC 6749 §2.3.1: id and secret form-encoded first)
    /// when `basic` is given.
    pub async fn post_form(
        &self,
        url: &Url,
        form: &[(&str, &str)],
        basic: Option<(&str, &ClientSecret)>,
        what: &str,
    ) -> Result<Reply> {
        check_url(url)?;
        let body = Zeroizing::new(
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form)
                .finish(),
        );
        let mut request = self
            .client
            .post(url.clone())
            .header(ACCEPT, "application/json")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body.as_bytes().to_vec());
        if let Some((id, secret)) = basic {
            request = request.header(AUTHORIZATION, basic_auth(id, secret)?);
        }
        self.send(request, url, what).await
    }

    async fn send(&self, request: reqwest::RequestBuilder, url: &Url, what: &str) -> Result<Reply> {
        let host = url.host_str().unwrap_or("?");
        let mut response = request
            .send()
            .await
            .map_err(|err| Error::Network(format!("{what} at {host}: {}", chain(&err))))?;
        let status = response.status().as_u16();
        if response.status().is_redirection() {
            // Never followed (S7): name where it pointed, without the path
            // or query, which may carry a code.
            let target = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|location| location.to_str().ok())
                .and_then(|location| url.join(location).ok())
                .map(|target| {
                    format!(
                        " to {}://{}",
                        target.scheme(),
                        target.host_str().unwrap_or("?")
                    )
                })
                .unwrap_or_default();
            return Err(Error::Network(format!(
                "{what} at {host}: the provider answered with a redirect (HTTP {status}){target}; \
                 redirects are never followed"
            )));
        }
        if response
            .content_length()
            .is_some_and(|length| length > self.max_body as u64)
        {
            return Err(too_large(what, host, self.max_body));
        }
        let mut body = Zeroizing::new(Vec::new());
        loop {
            let chunk = response
                .chunk()
                .await
                .map_err(|err| Error::Network(format!("{what} at {host}: {}", chain(&err))))?;
            let Some(chunk) = chunk else { break };
            if body.len() + chunk.len() > self.max_body {
                return Err(too_large(what, host, self.max_body));
            }
            body.extend_from_slice(&chunk);
        }
        tracing::debug!(what, host, status, bytes = body.len(), "provider answered");
        Ok(Reply { status, body })
    }
}

fn too_large(what: &str, host: &str, max: usize) -> Error {
    Error::Network(format!(
        "{what} at {host}: the response is larger than {max} bytes; refused"
    ))
}

/// `Authorization: Basic …` for a client id and secret, marked sensitive so
/// that no HTTP-level debug output shows it.
fn basic_auth(id: &str, secret: &ClientSecret) -> Result<HeaderValue> {
    use base64::Engine as _;
    let encode =
        |text: &str| url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>();
    let pair = Zeroizing::new(format!("{}:{}", encode(id), encode(secret.expose())));
    let value = Zeroizing::new(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair.as_bytes())
    ));
    let mut header = HeaderValue::from_str(&value)
        .map_err(|_| Error::InvalidInput("the client id or secret cannot go in a header".into()))?;
    header.set_sensitive(true);
    Ok(header)
}

fn read_ca_file(path: &Path) -> Result<Vec<reqwest::Certificate>> {
    let pem = std::fs::read(path).map_err(|err| Error::io("cannot read CA file", path, err))?;
    let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|err| {
        Error::InvalidInput(format!(
            "CA file {} is not PEM: {}",
            path.display(),
            chain(&err)
        ))
    })?;
    if certificates.is_empty() {
        return Err(Error::InvalidInput(format!(
            "CA file {} holds no certificate",
            path.display()
        )));
    }
    Ok(certificates)
}

/// The error and its causes, without the URL (which may carry a query).
fn chain(err: &reqwest::Error) -> String {
    let mut message = if err.is_timeout() {
        "timed out".to_owned()
    } else if err.is_connect() {
        "cannot connect".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.ends_with(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// Whether `url` points at a loopback host (127.0.0.0/8, ::1, `localhost`).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// S7: `https`, or `http` to a loopback host; no credentials in the URL.
pub fn check_url(url: &Url) -> Result<()> {
    let host = url.host_str().unwrap_or("");
    if host.is_empty() {
        return Err(Error::InvalidInput(format!(
            "refusing a {} URL without a host",
            url.scheme()
        )));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(url) => {}
        "http" => {
            return Err(Error::InvalidInput(format!(
                "refusing plain http to {host}: only https is allowed, except to a loopback address"
            )))
        }
        other => {
            return Err(Error::InvalidInput(format!(
                "refusing a `{other}` URL to {host}: only https is allowed"
            )))
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::InvalidInput(format!(
            "refusing a URL to {host} that carries credentials"
        )));
    }
    Ok(())
}

/// Parses a JSON body without ever echoing its content in the error
/// (serde's messages quote the offending value, which may be a token).
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(body).map_err(|err| {
        Error::Network(format!(
            "{what}: malformed response ({:?} error at line {} column {})",
            err.classify(),
            err.line(),
            err.column()
        ))
    })
}

/// An OAuth error body (`{"error": "...", "error_description": "..."}`),
/// if `body` is one.
pub fn oauth_error(body: &[u8]) -> Option<(String, Option<String>)> {
    #[derive(serde::Deserialize)]
    struct OAuthError {
        error: String,
        error_description: Option<String>,
    }
    let parsed: OAuthError = serde_json::from_slice(body).ok()?;
    Some((
        clean(&parsed.error, 64),
        parsed.error_description.map(|d| clean(&d, 300)),
    ))
}

/// A provider-supplied text made safe to show in a terminal, a menu or a
/// notification: no control characters, no bidirectional overrides (which
/// make a label read as something else), at most `max_chars` characters
/// (then `…`).
pub(crate) fn clean(text: &str, max_chars: usize) -> String {
    let mut shown = text
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c));
    let mut out: String = shown.by_ref().take(max_chars).collect();
    if shown.next().is_some() {
        out.push('…');
    }
    out
}

/// Unicode's explicit directional formatting characters (UAX #9).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    // S7: transport
    #[test]
    fn https_anywhere_http_only_to_loopback() {
        // S7
        for ok in [
            "https://login.example.com/x",
            "http://127.0.0.1:8080/token",
            "http://127.5.6.7/token",
            "http://[::1]:9/token",
            "http://localhost:3000/token",
        ] {
            assert!(check_url(&url(ok)).is_ok(), "{ok}");
        }
        for bad in [
            "http://login.example.com/token",
            "http://10.0.0.1/token",
            "http://[::2]/token",
            "http://localhost.example.com/token",
            "ftp://127.0.0.1/x",
            "file:///etc/passwd",
            "https://user:pw@login.example.com/",
        ] {
            let error = check_url(&url(bad)).unwrap_err();
            assert_eq!(error.kind(), crate::ErrorKind::InvalidInput, "{bad}");
        }
    }

    #[test]
    fn oauth_errors_are_recognised_and_cleaned() {
        let (code, description) =
            oauth_error(br#"{"error":"invalid_grant","error_description":"gone\n\u0007x"}"#)
                .unwrap();
        assert_eq!(code, "invalid_grant");
        assert_eq!(description.as_deref(), Some("gonex"));
        let (code, _) = oauth_error("{\"error\":\"a\u{202E}b\u{2066}c\"}".as_bytes()).unwrap();
        assert_eq!(code, "abc", "bidi overrides dropped");
        assert_eq!(clean("abc\n", 3), "abc", "no ellipsis for what was dropped");
        assert_eq!(clean("abcd", 3), "abc…");
        assert!(oauth_error(br#"{"access_token":"x"}"#).is_none());
        assert!(oauth_error(b"<html>").is_none());
    }

    // S33: redaction
    #[test]
    fn malformed_json_errors_do_not_quote_the_body() {
        // S33: serde would quote the offending value.
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct T {
            expires_in: u64,
        }
        let error = parse_json::<T>(br#"{"expires_in":"canary-secret-123"}"#, "token").unwrap_err();
        assert!(!error.to_string().contains("canary"), "{error}");
    }

    // S33: redaction
    #[test]
    fn basic_auth_form_encodes_then_base64s_and_is_sensitive() {
        let header = basic_auth("my client", &ClientSecret::new("p@ss:w")).unwrap();
        assert!(header.is_sensitive());
        assert_eq!(
            header.to_str().unwrap(),
            "Basic bXkrY2xpZW50OnAlNDBzcyUzQXc="
        );
    }

    /// A one-shot server that answers with `body_len` bytes, with or without
    /// a Content-Length header.
    async fn serve(body_len: usize, with_length: bool) -> Url {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buffer = [0u8; 4096];
            let _ = tokio::io::AsyncReadExt::read(&mut stream, &mut buffer).await;
            let head = if with_length {
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {body_len}\r\nconnection: close\r\n\r\n"
                )
            } else {
                "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n".to_owned()
            };
            let _ = stream.write_all(head.as_bytes()).await;
            let chunk = vec![b'x'; 64 * 1024];
            let mut left = body_len;
            while left > 0 {
                let n = left.min(chunk.len());
                if stream.write_all(&chunk[..n]).await.is_err() {
                    return; // the client hung up: what the cap should do
                }
                left -= n;
            }
        });
        url(&format!("http://127.0.0.1:{port}/big"))
    }

    // S35: negative suite
    #[tokio::test]
    async fn bodies_over_the_cap_are_refused_without_buffering() {
        let client = HttpClient::new(HttpOptions {
            max_body: 1000,
            ..HttpOptions::default()
        })
        .unwrap();
        let small = client
            .get_json(&serve(1000, true).await, "t")
            .await
            .unwrap();
        assert_eq!(small.body.len(), 1000);
        for with_length in [true, false] {
            let error = client
                .get_json(&serve(50 * 1024 * 1024, with_length).await, "t")
                .await
                .unwrap_err();
            assert_eq!(error.kind(), crate::ErrorKind::Network);
            assert!(
                error.to_string().contains("larger than 1000 bytes"),
                "{error}"
            );
        }
    }

    // S33: redaction
    #[tokio::test]
    async fn transport_errors_name_the_host_not_the_query() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let client = HttpClient::with_defaults().unwrap();
        let target = url(&format!("http://127.0.0.1:{port}/cb?code=canary-code"));
        let error = client.get_json(&target, "discovery").await.unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::Network);
        let shown = error.to_string();
        assert!(shown.contains("discovery at 127.0.0.1"), "{shown}");
        assert!(!shown.contains("canary"), "{shown}");
    }

    // S7: transport
    #[test]
    fn a_missing_or_empty_ca_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = HttpClient::new(HttpOptions {
            ca_file: Some(dir.path().join("nope.pem")),
            ..HttpOptions::default()
        })
        .unwrap_err();
        assert_eq!(missing.kind(), crate::ErrorKind::Io);
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate").unwrap();
        let error = HttpClient::new(HttpOptions {
            ca_file: Some(empty),
            ..HttpOptions::default()
        })
        .unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::InvalidInput);
    }
}
