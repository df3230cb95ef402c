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
//!   goes on: nothing a client sends ends the server.
//!
//! [`bind`] claims the socket path for one agent: it takes an exclusive
//! lock next to the socket, names the live owner (by the pid in its `pong`)
//! when there is one, and replaces a stale socket file otherwise.

use super::client::Client;
use super::path::{ensure_private_dir, our_uid, restrict_socket};
use super::protocol::{decode, encode, ErrorReply, Request, Response, TokenReply, MAX_FRAME};
use crate::broker::{Broker, Event, Grants, TokenRequest};
use crate::error::{Error, Result};
use crate::profile::LoginMode;
use std::collections::HashMap;
use std::fs::File;
use std::future::Future;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{broadcast, OwnedSemaphorePermit, Semaphore};
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
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            idle_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(5),
        }
    }
}

/// What a face does with a `login` request.
pub trait LoginHandler: Send + Sync + 'static {
    /// Runs an interactive sign-in for `profile` (with `mode`, or the
    /// profile's own) and stores it through the broker; returns when it is
    /// done, failed or was cancelled.
    fn login<'a>(
        &'a self,
        profile: &'a str,
        mode: Option<LoginMode>,
    ) -> Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>>;
}

/// The headless agent's login handler: there is no display to sign in on,
/// so it says where to do it instead.
#[derive(Debug, Clone, Copy, Default)]
pub struct HeadlessLogin;

impl LoginHandler for HeadlessLogin {
    fn login<'a>(
        &'a self,
        profile: &'a str,
        _mode: Option<LoginMode>,
    ) -> Pin<Box<dyn Future<Output = Result<()>> + Send + 'a>> {
        Box::pin(async move {
            Err(Error::SignInRequired {
                profile: profile.to_string(),
                reason: format!(
                    "this agent has no display: run `tokentray login {profile}` in a terminal"
                ),
            })
        })
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
        labels: Labels::new(&broker),
        broker,
        login,
        config,
        stop: CancellationToken::new(),
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
    labels: Labels,
    config: ServerConfig,
    stop: CancellationToken,
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
                Ok(request) => (shared.handle(request).await, true),
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

impl<G: Grants> Shared<G> {
    async fn handle(&self, request: Request) -> Response {
        let outcome = match request {
            Request::Ping {} => Ok(Response::Pong(super::protocol::Pong {
                version: env!("CARGO_PKG_VERSION").to_string(),
                pid: std::process::id(),
            })),
            Request::Token(params) => {
                let request = TokenRequest {
                    profile: params.profile,
                    scopes: params.scopes,
                    min_valid: params.min_valid.map(Duration::from_secs),
                    force_refresh: params.force_refresh,
                };
                self.broker.token(&request).await.map(|token| {
                    let account = self.labels.get(&self.broker, &request.profile);
                    Response::Token(TokenReply::new(token, &request.profile, account))
                })
            }
            Request::Status {} => {
                crate::status::collect(self.broker.profiles(), self.broker.accounts())
                    .map(Response::Status)
            }
            Request::Login { profile, mode } => tokio::select! {
                done = self.login.login(&profile, mode) => done.map(|()| Response::Ok {}),
                _ = self.stop.cancelled() => Err(Error::Cancelled {
                    reason: "the agent is shutting down".into(),
                }),
            },
            Request::Logout { profile } => self
                .broker
                .sign_out(&profile)
                .await
                .map(|_| Response::Ok {}),
        };
        outcome.unwrap_or_else(|error| Response::Error(ErrorReply::from(&error)))
    }
}

/// Account labels by profile, so that a warm `token` answer reads nothing
/// from the vault; forgotten whenever the broker says accounts changed.
struct Labels {
    inner: Mutex<LabelCache>,
}

/// The broker's events, read to know when to forget, and the labels.
type LabelCache = (broadcast::Receiver<Event>, HashMap<String, Option<String>>);

impl Labels {
    fn new<G: Grants>(broker: &Broker<G>) -> Self {
        Self {
            inner: Mutex::new((broker.subscribe(), HashMap::new())),
        }
    }

    fn get<G: Grants>(&self, broker: &Broker<G>, profile: &str) -> Option<String> {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (events, labels) = &mut *guard;
        loop {
            match events.try_recv() {
                Ok(Event::AccountsChanged | Event::SignInRequired { .. })
                | Err(broadcast::error::TryRecvError::Lagged(_)) => labels.clear(),
                Ok(_) => {}
                Err(_) => break,
            }
        }
        if let Some(label) = labels.get(profile) {
            return label.clone();
        }
        let label = match broker.accounts().for_profile(profile) {
            Ok(account) => account.map(|a| a.label().to_string()),
            // The token is good; a label is a nicety: try again next time.
            Err(_) => return None,
        };
        labels.insert(profile.to_string(), label.clone());
        label
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
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
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
