//! The agent's Unix socket: [`bind`] claims the path for one agent (an
//! exclusive lock next to the socket, the live owner named, a stale socket
//! file replaced), and the listener checks each peer's uid before the
//! server sees the connection.

use super::{live_owner, Accepted, Connection, Listener};
use crate::error::{Error, Result};
use crate::ipc::path::{ensure_private_dir, our_uid, restrict_socket, SOCKET_ENV};
use std::fs::File;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use tokio::net::{UnixListener, UnixStream};

impl Connection for UnixStream {
    fn try_write_now(&self, bytes: &[u8]) -> std::io::Result<usize> {
        self.try_write(bytes)
    }
}

impl Listener for UnixListener {
    type Conn = UnixStream;

    async fn accept(&mut self) -> std::io::Result<Accepted<UnixStream>> {
        let (stream, _) = UnixListener::accept(self).await?;
        Ok(match stream.peer_cred() {
            Ok(peer) if peer.uid() == our_uid() => {
                let pid = peer.pid().and_then(|p| u32::try_from(p).ok());
                Accepted::Peer(stream, pid)
            }
            Ok(peer) => {
                tracing::warn!(
                    peer_uid = peer.uid(),
                    peer_pid = peer.pid(),
                    "agent socket: refused a connection from another user (S26)"
                );
                Accepted::Refused
            }
            Err(error) => {
                tracing::warn!(%error, "agent socket: cannot read the peer's credentials; refused");
                Accepted::Refused
            }
        })
    }

    fn on_close(&self) -> Box<dyn FnOnce() + Send> {
        let socket = self
            .local_addr()
            .ok()
            .and_then(|a| a.as_pathname().map(Path::to_path_buf));
        let Some((path, id)) = socket.and_then(|p| file_id(&p).map(|id| (p, id))) else {
            return Box::new(|| {});
        };
        Box::new(move || {
            // Another agent may have taken the path over since: remove only ours.
            if file_id(&path) == Some(id) {
                if let Err(error) = std::fs::remove_file(&path) {
                    tracing::warn!(%error, path = %path.display(), "cannot remove the agent socket");
                }
            }
        })
    }
}

fn file_id(path: &Path) -> Option<(u64, u64)> {
    std::fs::symlink_metadata(path)
        .ok()
        .map(|m| (m.dev(), m.ino()))
}

/// The agent's socket, bound, with its claim held for as long as it
/// serves.
pub struct Claimed {
    listener: UnixListener,
    _lock: SocketLock,
}

impl Listener for Claimed {
    type Conn = UnixStream;

    async fn accept(&mut self) -> std::io::Result<Accepted<UnixStream>> {
        Listener::accept(&mut self.listener).await
    }

    fn on_close(&self) -> Box<dyn FnOnce() + Send> {
        self.listener.on_close()
    }
}

/// Claims and binds the agent socket at `path` ([`bind`]), as one value.
pub fn claim(path: &Path) -> Result<Claimed> {
    let (listener, lock) = bind(path)?;
    Ok(Claimed {
        listener,
        _lock: lock,
    })
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
    let lock = take_lock(path)?;
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
                SOCKET_ENV
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

fn take_lock(path: &Path) -> Result<SocketLock> {
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
