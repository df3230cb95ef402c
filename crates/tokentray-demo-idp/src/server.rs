//! HTTP/1.1 on hyper for the demo provider: accepts connections on the
//! loopback listener until told to stop, turns each request into a
//! [`Request`] (query and form parameters, a body of at most 64 KiB, a Host
//! that names this listener) and answers with what
//! [`Provider::handle`](crate::endpoints::Provider::handle) returns.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;

use crate::endpoints::Provider;

/// Largest request body read (forms are far smaller).
const MAX_BODY: usize = 64 * 1024;
/// No script, nothing loaded, never framed.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

pub type Reply = Response<Full<Bytes>>;

/// A request, parsed.
#[derive(Debug)]
pub struct Request {
    pub method: Method,
    pub path: String,
    /// Query parameters (GET) or form parameters (POST).
    pub params: Vec<(String, String)>,
    /// The `Authorization: Bearer` token, if any.
    pub bearer: Option<String>,
}

impl Request {
    /// The parameter `name`, if given (repeats are refused earlier).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The parameter `name`, or "" when it is missing.
    pub fn text(&self, name: &str) -> &str {
        self.param(name).unwrap_or("")
    }
}

/// Serves until `stop` fires (or its sender is gone).
pub async fn serve(
    listener: std::net::TcpListener,
    provider: Provider,
    mut stop: oneshot::Receiver<()>,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let provider = Arc::new(provider);
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => return Ok(()),
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(error) => {
                // e.g. out of file descriptors: wait a little, then go on
                tracing::debug!("demo provider: accept failed: {error}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let provider = Arc::clone(&provider);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let provider = Arc::clone(&provider);
                async move { Ok::<_, Infallible>(answer(&provider, request).await) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            if let Err(error) = connection.await {
                tracing::debug!("demo provider: connection ended: {error}");
            }
        });
    }
}

async fn answer(provider: &Provider, request: hyper::Request<Incoming>) -> Reply {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .unwrap_or("");
    if !provider.is_own_host(host) {
        // a DNS rebinding page must not reach the login forms
        return text(StatusCode::MISDIRECTED_REQUEST, "wrong Host");
    }
    match parse(request).await {
        Ok(request) => {
            tracing::debug!(method = %request.method, path = %request.path, "demo provider request");
            provider.handle(&request)
        }
        Err(why) => text(StatusCode::BAD_REQUEST, why),
    }
}

async fn parse(request: hyper::Request<Incoming>) -> Result<Request, &'static str> {
    let (parts, body) = request.into_parts();
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(|token| token.trim().to_owned());
    let encoded = if parts.method == Method::POST {
        let form = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
        if !form {
            return Err("a POST must be an application/x-www-form-urlencoded form");
        }
        let body = Limited::new(body, MAX_BODY)
            .collect()
            .await
            .map_err(|_| "the body is too large or broken")?;
        body.to_bytes().to_vec()
    } else {
        parts.uri.query().unwrap_or("").as_bytes().to_vec()
    };
    let mut params: Vec<(String, String)> = Vec::new();
    for (key, value) in url::form_urlencoded::parse(&encoded) {
        // RFC 6749 §3.1: no parameter more than once
        if params.iter().any(|(seen, _)| *seen == key) {
            return Err("a parameter is given more than once");
        }
        params.push((key.into_owned(), value.into_owned()));
    }
    Ok(Request {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        params,
        bearer,
    })
}

fn reply(status: StatusCode, content_type: &'static str, body: String) -> Reply {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// A JSON answer.
pub fn json(status: StatusCode, value: &serde_json::Value) -> Reply {
    reply(status, "application/json", value.to_string())
}

/// An HTML page, under the CSP.
pub fn html(status: StatusCode, page: String) -> Reply {
    let mut response = reply(status, "text/html; charset=utf-8", page);
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    response
}

/// A plain-text answer.
pub fn text(status: StatusCode, message: &str) -> Reply {
    reply(status, "text/plain; charset=utf-8", format!("{message}\n"))
}

/// 303 to `location` (after a form POST the user agent GETs it).
pub fn redirect(location: &str) -> Reply {
    let mut response = reply(
        StatusCode::SEE_OTHER,
        "text/plain; charset=utf-8",
        String::new(),
    );
    match HeaderValue::from_str(location) {
        Ok(value) => {
            response.headers_mut().insert(header::LOCATION, value);
            response
        }
        Err(_) => text(StatusCode::INTERNAL_SERVER_ERROR, "bad redirect"),
    }
}
