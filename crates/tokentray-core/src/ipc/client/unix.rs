//! The client's Unix socket: connect, check the listener's uid, then the
//! shared exchange with the socket's own read and write timeouts.

use super::write_then_read;
use crate::error::{Error, Result};
use crate::ipc::path::our_uid;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;
use zeroize::Zeroizing;

/// One request and its answer; `Ok(None)` when nothing listens at `path`.
pub(super) fn exchange(
    path: &Path,
    frame: Zeroizing<Vec<u8>>,
    timeout: Duration,
) -> Result<Option<Zeroizing<Vec<u8>>>> {
    let stream = match UnixStream::connect(path) {
        Ok(stream) => stream,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(Error::io("cannot connect to the agent at", path, e)),
    };
    check_peer(&stream, path)?;
    stream
        .set_read_timeout(Some(timeout))
        .and_then(|()| stream.set_write_timeout(Some(timeout)))
        .map_err(|e| Error::io("cannot set up the connection to", path, e))?;
    write_then_read(&stream, &frame, path, timeout).map(Some)
}

/// S26: the process listening must run as us, or nothing is sent to it.
fn check_peer(stream: &UnixStream, path: &Path) -> Result<()> {
    let theirs = peer_uid(stream).map_err(|e| Error::io("cannot check who listens on", path, e))?;
    let ours = our_uid();
    if theirs == ours {
        return Ok(());
    }
    Err(Error::io(
        "refusing to talk to the agent at",
        path,
        std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!(
                "the process listening runs as uid {theirs}, not as us (uid {ours}); someone may be impersonating the agent"
            ),
        ),
    ))
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn peer_uid(stream: &UnixStream) -> std::io::Result<u32> {
    rustix::net::sockopt::socket_peercred(stream)
        .map(|cred| cred.uid.as_raw())
        .map_err(std::io::Error::from)
}

/// `getpeereid` on macOS and the BSDs: the uid of the process at the other
/// end of the socket, from the kernel.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
#[allow(unsafe_code)] // one C call with no safe wrapper in std or rustix
fn peer_uid(stream: &UnixStream) -> std::io::Result<u32> {
    use std::os::fd::AsRawFd;
    let mut uid: libc::uid_t = 0;
    let mut gid: libc::gid_t = 0;
    // SAFETY: a live socket descriptor and two out-parameters on our stack.
    if unsafe { libc::getpeereid(stream.as_raw_fd(), &mut uid, &mut gid) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(uid)
}
