//! The blocking client the `tokentray` CLI uses: std I/O only, no async
//! runtime, so a fresh process gets its token in a millisecond or two.
//!
//! One connection per call: connect, check that the process listening runs
//! as us before sending a byte (S26: its uid by `SO_PEERCRED` or
//! `getpeereid` on Unix ([`unix`]), its SID by `GetNamedPipeServerProcessId`
//! on Windows ([`pipe`])), send one frame, read one frame of at most
//! [`MAX_FRAME`] bytes within the timeout. When no agent listens, calls
//! return `Ok(None)` so the CLI can use the core directly.

#[cfg(windows)]
mod pipe;
#[cfg(unix)]
mod unix;

#[cfg(windows)]
use pipe::exchange;
#[cfg(unix)]
use unix::exchange;

use super::protocol::{
    decode, encode, ErrorReply, Pong, Request, Response, StatusReply, TokenParams, TokenReply,
    MAX_FRAME,
};
use crate::error::{Error, ErrorKind, Result};
use crate::profile::LoginMode;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;
use zeroize::Zeroizing;

/// Default time allowed for the agent's answer. A token request may wait
/// for a refresh at the provider, so this is generous.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Least time allowed for the answer to a token or sign-out request: the
/// agent may be asking the user first ([`crate::access::consent::TIMEOUT`]).
pub const CONSENT_TIMEOUT: Duration = Duration::from_secs(90);

/// A failed call: the agent's own error answer, or a local failure to talk
/// to it.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The agent answered with an error.
    #[error("{0}")]
    Agent(ErrorReply),
    /// Talking to the agent failed.
    #[error(transparent)]
    Local(#[from] Error),
}

impl ClientError {
    /// The stable error kind: the agent's, or [`Error::kind`].
    pub fn kind(&self) -> ErrorKind {
        match self {
            ClientError::Agent(reply) => reply.kind,
            ClientError::Local(error) => error.kind(),
        }
    }
}

/// A client for the agent at one socket path.
#[derive(Debug, Clone)]
pub struct Client {
    path: PathBuf,
    timeout: Duration,
}

impl Client {
    /// A client for the socket at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// A client for the endpoint named by the environment
    /// ([`super::endpoint::from_env`]).
    pub fn from_env() -> Result<Self> {
        Ok(Self::new(super::endpoint::from_env()?))
    }

    /// Sets the time allowed for each read and write.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// This client, waiting long enough for the user to be asked.
    fn for_consent(&self) -> Client {
        self.clone().timeout(self.timeout.max(CONSENT_TIMEOUT))
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether an agent answers, and who it is.
    pub fn ping(&self) -> Result<Option<Pong>, ClientError> {
        self.expect(&Request::Ping {}, |r| match r {
            Response::Pong(pong) => Ok(pong),
            other => Err(other),
        })
    }

    /// An access token from the agent.
    pub fn token(&self, params: TokenParams) -> Result<Option<TokenReply>, ClientError> {
        self.for_consent()
            .expect(&Request::Token(params), |r| match r {
                Response::Token(token) => Ok(token),
                other => Err(other),
            })
    }

    /// Every profile's state.
    pub fn status(&self) -> Result<Option<StatusReply>, ClientError> {
        self.expect(&Request::Status {}, |r| match r {
            Response::Status(status) => Ok(status),
            other => Err(other),
        })
    }

    /// Asks the agent's face to run an interactive sign-in (give the client
    /// a long timeout: it returns when the user is done).
    pub fn login(&self, profile: &str, mode: Option<LoginMode>) -> Result<Option<()>, ClientError> {
        let request = Request::Login {
            profile: profile.to_string(),
            mode,
        };
        self.expect(&request, ok)
    }

    /// Signs out of a profile's account.
    pub fn logout(&self, profile: &str) -> Result<Option<()>, ClientError> {
        let request = Request::Logout {
            profile: profile.to_string(),
        };
        self.for_consent().expect(&request, ok)
    }

    fn expect<T>(
        &self,
        request: &Request,
        pick: impl FnOnce(Response) -> std::result::Result<T, Response>,
    ) -> Result<Option<T>, ClientError> {
        let Some(response) = self.call(request)? else {
            return Ok(None);
        };
        match pick(response) {
            Ok(value) => Ok(Some(value)),
            Err(Response::Error(reply)) => Err(ClientError::Agent(reply)),
            Err(_) => Err(ClientError::Local(Error::InvalidInput(format!(
                "the agent at {} answered a different request",
                self.path.display()
            )))),
        }
    }

    /// Sends one request and reads its answer; `Ok(None)` when no agent
    /// listens on the path.
    pub fn call(&self, request: &Request) -> Result<Option<Response>> {
        let path = &self.path;
        let frame = encode(request)?;
        let timeout = self.timeout.max(Duration::from_millis(1));
        let Some(answer) = exchange(path, frame, timeout)? else {
            return Ok(None);
        };
        if answer.last() != Some(&b'\n') {
            return Err(Error::InvalidInput(format!(
                "the agent at {} sent an incomplete or oversized answer",
                path.display()
            )));
        }
        decode::<Response>(&answer).map(Some).map_err(|e| {
            Error::InvalidInput(format!(
                "the agent at {} sent an answer this client cannot read: {e}",
                path.display()
            ))
        })
    }
}

/// Writes `frame` to a connected, checked stream and reads one answer
/// line of at most [`MAX_FRAME`] bytes (the transports' shared half).
fn write_then_read<S: Read + Write>(
    mut stream: S,
    frame: &[u8],
    path: &Path,
    timeout: Duration,
) -> Result<Zeroizing<Vec<u8>>> {
    // An agent may answer without reading (a busy agent says so and
    // closes), so a failed write still reads what came back.
    let sent = stream.write_all(frame);
    let mut answer = Zeroizing::new(Vec::with_capacity(1024));
    let limit = u64::try_from(MAX_FRAME).unwrap_or(u64::MAX);
    let read = BufReader::new(&mut stream)
        .take(limit)
        .read_until(b'\n', &mut answer);
    match (sent, read) {
        (_, Ok(n)) if n > 0 => Ok(answer),
        (Err(e), _) => Err(Error::io("cannot send a request to the agent at", path, e)),
        (Ok(()), Ok(_)) => Err(Error::io(
            "no answer from the agent at",
            path,
            std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "it closed the connection",
            ),
        )),
        (Ok(()), Err(e))
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            Err(timed_out(path, timeout))
        }
        (Ok(()), Err(e)) => Err(Error::io("cannot read the agent's answer from", path, e)),
    }
}

fn timed_out(path: &Path, timeout: Duration) -> Error {
    Error::io(
        "no answer in time from the agent at",
        path,
        std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("nothing within {timeout:?}"),
        ),
    )
}

fn ok(response: Response) -> std::result::Result<(), Response> {
    match response {
        Response::Ok {} => Ok(()),
        other => Err(other),
    }
}
