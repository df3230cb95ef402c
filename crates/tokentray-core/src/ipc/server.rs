//! The agent's socket server: handed a bound listener, the broker, a login
//! handler and a shutdown future, it serves until the future completes
//! (mini-redis style, so tests bind their own socket).
//!
//! Hardening (S26, S27):
//! - every connection's peer uid (`SO_PEERCRED`) must equal ours, else it
//!   is closed without a byte written;
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
//! [`bind`] claims the socket path for one agent: it takes an exclusive
//! lock next to the socket, names the live owner (by the pid in its `pong`)
//! when there is one, and replaces a stale socket file otherwise.

use super::client::Client;
use super::path::{ensure_private_dir, our_uid, restrict_socket};
use super::protocol::{decode, encode, ErrorReply, Request, Response, MAX_FRAME};
use crate::broker::{Broker, Grants};
use crate::error::{Error, Result};
use crate::login::LoginHandler;
use std::collections::HashMap;
use std::fs::File;
use std::future::Future;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
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

/// Serves `listener` with the default [`ServerConfig`] until `shutdown`
/// completes; then stops accepting, removes the socket file (if it is still
/// ours), lets connections finish their request (a few seconds at most)
/// and returns.
pub async fn run<G: Grants>(
    listener: UnixListener,
    broker: Broker<G>,
    login: Arc<dyn LoginHandler>,
    shutdown: impl Future,
) {
    run_with(listener, broker, login, shutdown, ServerConfig::default()).await;
}

/// [`run`] with explicit limits.
pub async fn run_with<G: Grants>(
    listener: UnixListener,
    broker: Broker<G>,
    login: Arc<dyn LoginHandler>,
    shutdown: impl Future,
    config: ServerConfig,
) {
    let socket = listener
        .local_addr()
        .ok()
        .and_then(|a| a.as_pathname().map(Path::to_path_buf));
    let socket_id = socket.as_deref().and_then(file_id);
    let shared = Arc::new(Shared {
        broker,
        login,
        config,
        stop: CancellationToken::new(),
        per_profile: Mutex::new(HashMap::new()),
    });
    let uid = our_uid();
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
                Ok((stream, _)) => admit(stream, uid, &slots, &shared, &mut connections),
                Err(error) => {
                    // EMFILE and friends: wait a little, never give up.
                    tracing::warn!(%error, "agent socket: accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    drop(listener);
    if let (Some(path), Some(id)) = (&socket, socket_id) {
        // Another agent may have taken the path over since: remove only ours.
        if file_id(path) == Some(id) {
            if let Err(error) = std::fs::remove_file(path) {
                tracing::warn!(%error, path = %path.display(), "cannot remove the agent socket");
            }
        }
    }
    shared.stop.cancel();
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        connections.shutdown().await;
    }
}

fn file_id(path: &Path) -> Option<(u64, u64)> {
    std::fs::symlink_metadata(path)
        .ok()
        .map(|m| (m.dev(), m.ino()))
}

/// Checks the peer, then serves it in its own task or tells it the agent
/// is busy. Never waits.
fn admit<G: Grants>(
    stream: UnixStream,
    uid: u32,
    slots: &Arc<Semaphore>,
    shared: &Arc<Shared<G>>,
    connections: &mut JoinSet<()>,
) {
    match stream.peer_cred() {
        Ok(peer) if peer.uid() == uid => {}
        Ok(peer) => {
            tracing::warn!(
                peer_uid = peer.uid(),
                peer_pid = peer.pid(),
                "agent socket: refused a connection from another user (S26)"
            );
            return;
        }
        Err(error) => {
            tracing::warn!(%error, "agent socket: cannot read the peer's credentials; refused");
            return;
        }
    }
    match Arc::clone(slots).try_acquire_owned() {
        Ok(permit) => {
            connections.spawn(serve(stream, Arc::clone(shared), permit));
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
                // A fresh socket's buffer takes a small frame whole; if not,
                // the client goes without the explanation.
                let _ = stream.try_write(&frame);
            }
        }
    }
}

struct Shared<G> {
    broker: Broker<G>,
    login: Arc<dyn LoginHandler>,
    config: ServerConfig,
    stop: CancellationToken,
    /// Requests in progress per profile (see [`ServerConfig::per_profile`]).
    per_profile: Mutex<HashMap<String, Arc<Semaphore>>>,
}

enum Frame {
    Line,
    TooLarge,
    Eof,
}

#[cfg(test)]
#[path = "server_properties.rs"]
mod properties;

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

async fn serve<G: Grants>(stream: UnixStream, shared: Arc<Shared<G>>, _slot: OwnedSemaphorePermit) {
    let (read, mut write) = stream.into_split();
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
                    response = shared.handle(request) => (response, true),
                    // The client went away: stop waiting for its answer
                    // (the work itself, a refresh, runs to its end).
                    () = closed(&mut reader) => break,
                },
                Err(error) => (Response::Error(ErrorReply::from(&error)), true),
            },
        };
        if !send(&mut write, &response, shared.config.write_timeout).await || !go_on {
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

impl<G: Grants> Shared<G> {
    async fn handle(&self, request: Request) -> Response {
        let outcome = match request {
            Request::Ping {} => Ok(Response::Pong(super::protocol::Pong {
                version: env!("CARGO_PKG_VERSION").to_string(),
                pid: std::process::id(),
            })),
            Request::Token(params) => {
                let what = format!("the token request for profile `{}`", params.profile);
                match self.slot(&params.profile) {
                    Err(busy) => Err(busy),
                    Ok(slot) => {
                        let broker = self.broker.clone();
                        self.detached(what, async move {
                            let _slot = slot;
                            broker.token(&params.into()).await
                        })
                        .await
                        .map(|served| Response::Token(served.into()))
                    }
                }
            }
            Request::Status {} => crate::status::collect(&self.broker).map(Response::Status),
            Request::Login { profile, mode } => tokio::select! {
                done = self.login.login(&profile, mode) => done.map(|()| Response::Ok {}),
                _ = self.stop.cancelled() => Err(Error::Cancelled {
                    reason: "the agent is shutting down".into(),
                }),
            },
            Request::Logout { profile } => {
                let broker = self.broker.clone();
                let what = format!("signing out of profile `{profile}`");
                self.detached(what, async move { broker.sign_out(&profile).await })
                    .await
                    .map(|_| Response::Ok {})
            }
        };
        outcome.unwrap_or_else(|error| Response::Error(ErrorReply::from(&error)))
    }

    /// Runs `work` in a task of its own, so that it finishes (a refresh
    /// stores the rotated token) even when the client goes away or the
    /// deadline passes; the answer waits at most the request deadline.
    async fn detached<T: Send + 'static>(
        &self,
        what: String,
        work: impl Future<Output = Result<T>> + Send + 'static,
    ) -> Result<T> {
        let deadline = self.config.request_deadline;
        match tokio::time::timeout(deadline, tokio::spawn(work)).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(join)) => Err(Error::internal(format!(
                "{what} failed inside the agent ({join})"
            ))),
            Err(_) => Err(Error::DeadlineExceeded {
                what,
                secs: deadline.as_secs(),
            }),
        }
    }

    /// A place among the profile's requests in progress, or "busy" when a
    /// stuck profile already has [`ServerConfig::per_profile`] of them (so
    /// it never fills the agent's connection slots).
    fn slot(&self, profile: &str) -> Result<OwnedSemaphorePermit> {
        let limit = self.config.per_profile.max(1);
        let semaphore = {
            let mut map = self.per_profile.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(
                map.entry(profile.to_string())
                    .or_insert_with(|| Arc::new(Semaphore::new(limit))),
            )
        };
        semaphore
            .try_acquire_owned()
            .map_err(|_| Error::DeadlineExceeded {
                what: format!("profile `{profile}` has {limit} requests waiting already; this one"),
                secs: 0,
            })
    }
}

/// An agent's claim on its socket path: an exclusive lock on
/// `<socket>.lock`, held until dropped. Keep it for as long as the server
/// runs.
#[derive(Debug)]
pub struct SocketLock {
    _file: File,
    path: PathBuf,
}

impl SocketLock {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Binds the agent socket at `path` for this process: makes sure its
/// directory is private (S25), refuses when another agent owns the path
/// (naming its pid), replaces a stale socket file, binds and sets the
/// socket to `0600`. Must be called within a Tokio runtime; it may block
/// for up to a second while it asks a previous owner who it is.
pub fn bind(path: &Path) -> Result<(UnixListener, SocketLock)> {
    ensure_private_dir(path)?;
    let lock = claim(path)?;
    match std::fs::symlink_metadata(path) {
        Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound) => {}
        Err(e) => return Err(Error::io("cannot inspect", path, e)),
        Ok(meta) if meta.file_type().is_socket() => {
            // No agent holds the lock; one of an older build might still
            // answer on the socket.
            if let Some(error) = live_owner(path) {
                return Err(error);
            }
            std::fs::remove_file(path)
                .map_err(|e| Error::io("cannot remove the stale agent socket", path, e))?;
            tracing::info!(path = %path.display(), "replaced a stale agent socket");
        }
        Ok(_) => {
            return Err(Error::InvalidInput(format!(
                "{} exists and is not a socket; remove it or set {} to another path",
                path.display(),
                super::path::SOCKET_ENV
            )))
        }
    }
    let listener = std::os::unix::net::UnixListener::bind(path)
        .map_err(|e| Error::io("cannot bind the agent socket", path, e))?;
    restrict_socket(path)?;
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::io("cannot set up the agent socket", path, e))?;
    let listener = UnixListener::from_std(listener)
        .map_err(|e| Error::io("cannot set up the agent socket", path, e))?;
    Ok((listener, lock))
}

fn claim(path: &Path) -> Result<SocketLock> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    let lock_path = path.with_file_name(name);
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    crate::private_dir::private_file_options(&mut options);
    let file = options
        .open(&lock_path)
        .map_err(|e| Error::io("cannot open the agent lock file", &lock_path, e))?;
    match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(SocketLock {
            _file: file,
            path: lock_path,
        }),
        Err(rustix::io::Errno::WOULDBLOCK) => {
            Err(live_owner(path).unwrap_or_else(|| Error::AlreadyExists {
                what: format!(
                    "another Tokentray agent (holding {}, not answering ping) owning {}",
                    lock_path.display(),
                    path.display()
                ),
            }))
        }
        Err(e) => Err(Error::io(
            "cannot lock",
            &lock_path,
            std::io::Error::from_raw_os_error(e.raw_os_error()),
        )),
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
