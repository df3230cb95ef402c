//! The agent's server: handed a listening endpoint, the broker, a login
//! handler and a shutdown future, it serves until the future completes
//! (mini-redis style, so tests bind their own socket). One core for every
//! transport: the Unix socket ([`unix`]) and the Windows named pipe
//! ([`pipe`]) differ only in how they accept and check a peer
//! ([`Listener`]).
//!
//! Hardening (S26, S27):
//! - every connection's peer must run as us (uid by `SO_PEERCRED` /
//!   `getpeereid`, SID by `GetNamedPipeClientProcessId` and the process
//!   token), else it is closed without a byte written;
//! - at most [`ServerConfig::max_connections`] connections are served at
//!   once; one more is told "busy" and closed at once, so the accept loop
//!   never waits and the listen backlog never fills;
//! - a frame must arrive whole within [`ServerConfig::idle_timeout`] and an
//!   answer must be written within [`ServerConfig::write_timeout`], so idle
//!   or stuck clients free their slot;
//! - a frame longer than [`MAX_FRAME`] gets an error frame and the
//!   connection is closed, with no more than the limit ever buffered; a
//!   malformed frame gets an error frame and the connection goes on;
//! - accept errors (out of file descriptors, …) are logged and the loop
//!   goes on: nothing a client sends ends the server;
//! - a token or sign-out request runs in a task of its own, so it ends
//!   (a rotated refresh token is stored) even when its client goes away;
//!   the connection stops waiting when the client disconnects or after
//!   [`ServerConfig::request_deadline`], and one profile never has more than
//!   [`ServerConfig::per_profile`] requests in progress, so a stuck profile
//!   (another process holding its lock) never fills the connection slots
//!   or delays the other profiles.
//!
//! Each token and sign-out request passes the profile's access policy first
//! ([`crate::access`], in `requests.rs`), and every decision goes to the
//! audit trail once the answer is sent.
//!
//! [`claim`] takes the endpoint for one agent and names the live owner (by
//! the pid in its `pong`) when another agent has it.

#[cfg(windows)]
mod pipe;
#[cfg(unix)]
mod unix;

#[cfg(windows)]
pub use pipe::{claim, PipeListener as Claimed};
#[cfg(unix)]
pub use unix::{bind, claim, Claimed, SocketLock};

use super::client::Client;
use super::protocol::{decode, encode, ErrorReply, Request, Response, MAX_FRAME};
use crate::access::Gate;
use crate::audit::AuditLog;
use crate::broker::{Broker, Grants};
use crate::error::Error;
use crate::login::LoginHandler;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How long connections may take to finish their request once shutdown
/// starts.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Limits of the server.
#[derive(Debug, Clone, Copy)]
pub struct ServerConfig {
    /// Connections served at once.
    pub max_connections: usize,
    /// Time allowed for a whole frame to arrive (from the moment the server
    /// waits for it); an idle connection is closed after it.
    pub idle_timeout: Duration,
    /// Time allowed to write an answer.
    pub write_timeout: Duration,
    /// Time a token or sign-out request may take before the client gets a
    /// "timeout" error (the work itself runs on to its end).
    pub request_deadline: Duration,
    /// Requests one profile may have in progress at once; more are told
    /// "busy" at once.
    pub per_profile: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            idle_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(5),
            // within the client's own timeout (30 s), past the lock wait
            request_deadline: Duration::from_secs(25),
            // a stuck profile holds at most a quarter of the connections
            per_profile: 256,
        }
    }
}

/// A connection the server reads frames from and writes answers to.
pub trait Connection: AsyncRead + AsyncWrite + Send + Unpin + 'static {
    /// Writes what the OS buffer takes now, without waiting (the "busy"
    /// answer to a connection that gets no slot).
    fn try_write_now(&self, bytes: &[u8]) -> std::io::Result<usize>;
}

/// What a listener's accept gives.
pub enum Accepted<C> {
    /// A peer that runs as us, with its pid when the OS tells it.
    Peer(C, Option<u32>),
    /// A peer that failed the check: already logged, closed unanswered.
    Refused,
}

/// A transport's listening end: accepts connections and checks each
/// peer's identity before any byte is read or written.
pub trait Listener: Send + 'static {
    /// The connections it accepts.
    type Conn: Connection;

    /// The next connection, checked.
    fn accept(&mut self) -> impl Future<Output = std::io::Result<Accepted<Self::Conn>>> + Send;

    /// What to do once the server stops accepting, decided when it starts
    /// (the Unix socket removes its file only if it is still the one it
    /// bound).
    fn on_close(&self) -> Box<dyn FnOnce() + Send> {
        Box::new(|| {})
    }
}

/// What the server hands every request to besides the broker: the face's
/// sign-in handler, the access decision and the audit trail.
pub struct Faces {
    /// What a `login` request does.
    pub login: Arc<dyn LoginHandler>,
    /// Who may take which token ([`crate::access`]).
    pub gate: Gate,
    /// Where every decision is recorded, when anywhere.
    pub audit: Option<AuditLog>,
}

impl Faces {
    /// What the headless agent has: no display to sign in on, nobody to
    /// ask, no audit trail (tests).
    pub fn headless(profiles: crate::profile::ProfileStore) -> Faces {
        Faces {
            login: Arc::new(crate::login::HeadlessLogin),
            gate: Gate::new(profiles, Arc::new(crate::access::NoConsent)),
            audit: None,
        }
    }
}

/// Serves `listener` with the default [`ServerConfig`] until `shutdown`
/// completes; then stops accepting, removes the socket file (if it is
/// still ours), lets connections finish their request (a few seconds at
/// most) and returns.
pub async fn run<L: Listener, G: Grants>(
    listener: L,
    broker: Broker<G>,
    faces: Faces,
    shutdown: impl Future,
) {
    run_with(listener, broker, faces, shutdown, ServerConfig::default()).await;
}

/// [`run`] with explicit limits.
pub async fn run_with<L: Listener, G: Grants>(
    mut listener: L,
    broker: Broker<G>,
    faces: Faces,
    shutdown: impl Future,
    config: ServerConfig,
) {
    let Faces { login, gate, audit } = faces;
    let close = listener.on_close();
    let shared = Arc::new(Shared {
        broker,
        login,
        gate,
        config,
        stop: CancellationToken::new(),
        per_profile: Mutex::new(HashMap::new()),
        seen: Mutex::new(audit.as_ref().map(served_before).unwrap_or_default()),
        audit,
    });
    let slots = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            biased;
            _ = &mut shutdown => break,
            Some(done) = connections.join_next() => {
                if let Err(error) = done {
                    tracing::warn!(%error, "an agent connection task failed");
                }
            }
            accepted = listener.accept() => match accepted {
                Ok(Accepted::Peer(stream, pid)) => admit(stream, pid, &slots, &shared, &mut connections),
                Ok(Accepted::Refused) => {}
                Err(error) => {
                    // EMFILE and friends: wait a little, never give up.
                    tracing::warn!(%error, "agent endpoint: accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    drop(listener);
    close();
    shared.stop.cancel();
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        connections.shutdown().await;
    }
}

/// Serves a checked peer in its own task, or tells it the agent is busy.
/// Never waits.
fn admit<C: Connection, G: Grants>(
    stream: C,
    pid: Option<u32>,
    slots: &Arc<Semaphore>,
    shared: &Arc<Shared<G>>,
    connections: &mut JoinSet<()>,
) {
    match Arc::clone(slots).try_acquire_owned() {
        Ok(permit) => {
            connections.spawn(serve(stream, pid, Arc::clone(shared), permit));
        }
        Err(_) => {
            let busy = Response::Error(ErrorReply {
                kind: crate::ErrorKind::Busy,
                message: format!(
                    "the agent is serving {} connections already; try again",
                    shared.config.max_connections
                ),
            });
            if let Ok(frame) = encode(&busy) {
                // A fresh connection's buffer takes a small frame whole; if
                // not, the client goes without the explanation.
                let _ = stream.try_write_now(&frame);
            }
        }
    }
}

struct Shared<G> {
    broker: Broker<G>,
    login: Arc<dyn LoginHandler>,
    gate: Gate,
    config: ServerConfig,
    stop: CancellationToken,
    /// Requests in progress per profile (see [`ServerConfig::per_profile`]).
    per_profile: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// (profile, program) pairs served before: read from the audit trail
    /// at the start, then added to.
    seen: Mutex<HashSet<(String, String)>>,
    /// Where every token handed out and every sign-out is recorded.
    audit: Option<AuditLog>,
}

/// How many (profile, program) pairs are remembered.
pub(super) const MAX_SEEN: usize = 4096;

/// The (profile, program) pairs the audit trail has seen served.
fn served_before(audit: &AuditLog) -> HashSet<(String, String)> {
    crate::audit::read(audit.path())
        .unwrap_or_default()
        .into_iter()
        .filter(|entry| entry.decision.served())
        .map(|entry| (entry.profile, entry.program))
        .take(MAX_SEEN)
        .collect()
}

enum Frame {
    Line,
    TooLarge,
    Eof,
}

#[cfg(test)]
mod properties;
mod requests;

use requests::Peer;

/// Reads one frame into `frame` (cleared first), buffering at most
/// [`MAX_FRAME`] bytes of it.
async fn read_frame<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    frame: &mut Vec<u8>,
) -> std::io::Result<Frame> {
    frame.clear();
    let limit = u64::try_from(MAX_FRAME).unwrap_or(u64::MAX);
    let n = (&mut *reader).take(limit).read_until(b'\n', frame).await?;
    Ok(if n == 0 {
        Frame::Eof
    } else if frame.last() == Some(&b'\n') || frame.len() < MAX_FRAME {
        // A last frame without its newline, before end of stream, is a frame.
        Frame::Line
    } else {
        Frame::TooLarge
    })
}

async fn serve<C: Connection, G: Grants>(
    stream: C,
    pid: Option<u32>,
    shared: Arc<Shared<G>>,
    _slot: OwnedSemaphorePermit,
) {
    let mut peer = Peer::new(pid);
    let (read, mut write) = tokio::io::split(stream);
    let mut reader = BufReader::new(read);
    let mut frame = Vec::new();
    loop {
        let read = tokio::select! {
            _ = shared.stop.cancelled() => break,
            read = tokio::time::timeout(shared.config.idle_timeout, read_frame(&mut reader, &mut frame)) => read,
        };
        let (response, go_on) = match read {
            // Idle too long, or the client went away.
            Err(_) | Ok(Err(_)) | Ok(Ok(Frame::Eof)) => break,
            Ok(Ok(Frame::TooLarge)) => (
                Response::Error(ErrorReply {
                    kind: crate::ErrorKind::InvalidInput,
                    message: format!(
                        "bad frame: longer than {MAX_FRAME} bytes without a newline; closing the connection"
                    ),
                }),
                false,
            ),
            Ok(Ok(Frame::Line)) => match decode::<Request>(&frame) {
                Ok(request) => tokio::select! {
                    response = shared.handle(request, &mut peer) => (response, true),
                    // The client went away: stop waiting for its answer
                    // (the work itself, a refresh, runs to its end).
                    () = closed(&mut reader) => break,
                },
                Err(error) => (Response::Error(ErrorReply::from(&error)), true),
            },
        };
        let sent = send(&mut write, &response, shared.config.write_timeout).await;
        shared.after_answer(&mut peer);
        if !sent || !go_on {
            break;
        }
    }
}

/// Writes one frame; false when the connection is done for.
async fn send<W: AsyncWriteExt + Unpin>(
    write: &mut W,
    response: &Response,
    limit: Duration,
) -> bool {
    let frame = match encode(response) {
        Ok(frame) => frame,
        Err(error) => match encode(&Response::Error(ErrorReply::from(&error))) {
            Ok(frame) => frame,
            Err(_) => return false,
        },
    };
    matches!(
        tokio::time::timeout(limit, async {
            write.write_all(&frame).await?;
            write.flush().await
        })
        .await,
        Ok(Ok(()))
    )
}

/// Completes when the client closes its end (or the connection breaks);
/// never while it is only sending more.
async fn closed<R: AsyncBufRead + Unpin>(reader: &mut R) {
    match reader.fill_buf().await {
        Ok(buffer) if !buffer.is_empty() => std::future::pending().await,
        _ => {}
    }
}

/// The refusal to give when an agent answers on `path`.
fn live_owner(path: &Path) -> Option<Error> {
    let pong = Client::new(path)
        .timeout(Duration::from_secs(1))
        .ping()
        .ok()
        .flatten()?;
    Some(Error::AlreadyExists {
        what: format!(
            "another Tokentray agent (pid {}, version {}) owning {}",
            pong.pid,
            pong.version,
            path.display()
        ),
    })
}
