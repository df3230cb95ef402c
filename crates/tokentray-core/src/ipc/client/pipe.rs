//! The client's Windows named pipe: open it (waiting while every instance
//! is busy), check that the process that created it runs as our SID before
//! a byte is sent, then the shared exchange on a thread of its own, since
//! a pipe opened by std has no read timeout.

use super::{timed_out, write_then_read};
use crate::error::{Error, Result};
use crate::ipc::endpoint::check_owner;
use crate::win32::{current_user_sid, pipe_server_pid, process_user_sid, wait_for_pipe};
use std::fs::{File, OpenOptions};
use std::os::windows::fs::OpenOptionsExt;
use std::os::windows::io::AsRawHandle;
use std::path::Path;
use std::time::{Duration, Instant};
use windows_sys::Win32::Foundation::ERROR_PIPE_BUSY;
use windows_sys::Win32::Storage::FileSystem::{SECURITY_IDENTIFICATION, SECURITY_SQOS_PRESENT};
use zeroize::Zeroizing;

/// One request and its answer; `Ok(None)` when no agent has the pipe.
pub(super) fn exchange(
    path: &Path,
    frame: Zeroizing<Vec<u8>>,
    timeout: Duration,
) -> Result<Option<Zeroizing<Vec<u8>>>> {
    let Some(pipe) = open(path, timeout)? else {
        return Ok(None);
    };
    check_server(&pipe, path)?;
    let (sender, answer) = std::sync::mpsc::channel();
    let owned = path.to_path_buf();
    // The thread ends with the connection; after a timeout it is left to
    // the agent closing its end (or this process ending).
    std::thread::Builder::new()
        .name("tokentray-pipe".into())
        .spawn(move || {
            let _ = sender.send(write_then_read(&pipe, &frame, &owned, timeout));
        })
        .map_err(|e| Error::io("cannot start the pipe reader for", path, e))?;
    match answer.recv_timeout(timeout) {
        Ok(outcome) => outcome.map(Some),
        Err(_) => Err(timed_out(path, timeout)),
    }
}

/// Opens the pipe for reading and writing, as an identification-only
/// client (the agent may learn who we are, never act as us).
fn open(path: &Path, timeout: Duration) -> Result<Option<File>> {
    let deadline = Instant::now() + timeout;
    loop {
        let opened = OpenOptions::new()
            .read(true)
            .write(true)
            .security_qos_flags(SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION)
            .open(path);
        match opened {
            Ok(pipe) => return Ok(Some(pipe)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) if e.raw_os_error() == i32::try_from(ERROR_PIPE_BUSY).ok() => {
                // every instance is serving: wait for one, within the timeout
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(timed_out(path, timeout));
                }
                wait_for_pipe(path, left.min(Duration::from_millis(500)));
            }
            Err(e) => return Err(Error::io("cannot open the agent pipe", path, e)),
        }
    }
}

/// S26: the process that created the pipe must run as us, or nothing is
/// sent to it.
fn check_server(pipe: &File, path: &Path) -> Result<()> {
    let ours =
        current_user_sid().map_err(|e| Error::io("cannot read our SID to check", path, e))?;
    let theirs = pipe_server_pid(pipe.as_raw_handle()).and_then(process_user_sid);
    check_owner("process serving the agent pipe", &ours, theirs).map_err(|reason| {
        Error::io(
            "refusing to talk to the agent at",
            path,
            std::io::Error::new(std::io::ErrorKind::PermissionDenied, reason),
        )
    })
}
