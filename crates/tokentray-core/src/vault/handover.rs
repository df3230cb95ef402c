//! Hands `TOKENTRAY_PASSPHRASE` over to a fresh image of this program, so
//! that the environment block the kernel shows (`/proc/PID/environ`) no
//! longer holds it.
//!
//! `std::env::remove_var` only edits libc's copy of the environment: the
//! block the process was started with stays in its memory and readable by
//! other processes of the same user. Only `exec` replaces it. So, before
//! anything else runs, [`reexec_without`] puts the passphrase into one
//! datagram of a Unix socket pair, together with the caller's stdin
//! (`SCM_RIGHTS`), makes the other end stdin, and `exec`s the same binary
//! with the same arguments, without the variable and with
//! [`HANDOVER_ENV`] set. The new image calls [`receive_on_stdin`]: one
//! non-blocking `recvmsg` gives the passphrase and the original stdin,
//! which is put back on fd 0 (same open file, same offset). No descriptor is
//! left over: the hand-over travels on fd 0 because claiming any other
//! inherited descriptor by number would need `unsafe`.

use std::io::{IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;

use rustix::net::{
    AddressFamily, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags, SocketFlags, SocketType,
};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::secret::Secret;

/// Set (to `1`) in the environment of the re-executed image: its stdin is
/// the hand-over socket.
pub const HANDOVER_ENV: &str = "TOKENTRAY_PASSPHRASE_HANDOVER";

/// The longest passphrase handed over, in bytes.
const MAX_LEN: usize = 64 * 1024;

/// Re-executes this program without `variable` in its environment, the
/// passphrase travelling on stdin as described in the module docs. Returns
/// only when that failed; stdin is then the caller's again.
pub fn reexec_without(variable: &str, passphrase: &Secret) -> Error {
    match prepare_and_exec(variable, passphrase) {
        Ok(never) => match never {},
        Err(error) => error,
    }
}

fn prepare_and_exec(variable: &str, passphrase: &Secret) -> Result<std::convert::Infallible> {
    let (ours, theirs) = rustix::net::socketpair(
        AddressFamily::UNIX,
        SocketType::DGRAM,
        SocketFlags::CLOEXEC,
        None,
    )
    .map_err(|e| handover_io("cannot create", SOCKET, e))?;
    // A closed stdin is handed over as none; the new image gets /dev/null.
    let stdin = match rustix::io::fcntl_dupfd_cloexec(rustix::stdio::stdin(), 3) {
        Ok(stdin) => Some(stdin),
        Err(rustix::io::Errno::BADF) => None,
        Err(e) => return Err(handover_io("cannot duplicate stdin for", SOCKET, e)),
    };
    send(&ours, passphrase, stdin.as_ref().map(AsFd::as_fd))?;
    drop(ours);
    rustix::stdio::dup2_stdin(&theirs)
        .map_err(|e| handover_io("cannot put on stdin", SOCKET, e))?;
    drop(theirs);

    let exe = own_executable();
    let mut args = std::env::args_os();
    let arg0 = args.next().unwrap_or_else(|| exe.clone().into_os_string());
    let error = Command::new(&exe)
        .arg0(arg0)
        .args(args)
        .env_remove(variable)
        .env(HANDOVER_ENV, "1")
        .exec();

    // Still here: put stdin back (the datagram and the descriptor in it go
    // with the socket).
    restore_stdin(stdin)?;
    Err(Error::io(
        "cannot re-execute (to drop TOKENTRAY_PASSPHRASE from the environment)",
        exe,
        error,
    ))
}

/// The file `exec` starts: the running binary itself (on Linux even if its
/// path was replaced since).
fn own_executable() -> PathBuf {
    if cfg!(target_os = "linux") {
        PathBuf::from("/proc/self/exe")
    } else {
        std::env::current_exe()
            .unwrap_or_else(|_| std::env::args_os().next().unwrap_or_default().into())
    }
}

/// Makes `stdin` fd 0 again (`None`: /dev/null, as there was none).
fn restore_stdin(stdin: Option<OwnedFd>) -> Result<()> {
    let stdin = match stdin {
        Some(stdin) => stdin,
        None => std::fs::File::open("/dev/null")
            .map_err(|e| Error::io("cannot open", "/dev/null", e))?
            .into(),
    };
    rustix::stdio::dup2_stdin(&stdin)
        .map_err(|e| handover_io("cannot restore stdin after", HANDOVER, e))
}

/// In the re-executed image: the handed-over passphrase; the original stdin
/// is back on fd 0.
pub fn receive_on_stdin() -> Result<Secret> {
    let (passphrase, stdin) = receive(rustix::stdio::stdin())?;
    restore_stdin(stdin)?;
    Ok(passphrase)
}

/// Queues one datagram on `socket`: the passphrase, and `stdin` as
/// `SCM_RIGHTS` when there is one.
fn send(socket: &OwnedFd, passphrase: &Secret, stdin: Option<BorrowedFd<'_>>) -> Result<()> {
    let bytes = passphrase.expose().as_bytes();
    if bytes.len() > MAX_LEN {
        return Err(Error::InvalidInput(format!(
            "TOKENTRAY_PASSPHRASE is longer than {MAX_LEN} bytes"
        )));
    }
    let fds: Vec<BorrowedFd<'_>> = stdin.into_iter().collect();
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    if !fds.is_empty() && !control.push(SendAncillaryMessage::ScmRights(&fds)) {
        return Err(Error::InvalidInput(
            "no room to hand stdin over with the passphrase".into(),
        ));
    }
    let sent = rustix::net::sendmsg(
        socket,
        &[IoSlice::new(bytes)],
        &mut control,
        SendFlags::empty(),
    )
    .map_err(|e| handover_io("cannot send the passphrase on", SOCKET, e))?;
    if sent != bytes.len() {
        return Err(Error::InvalidInput(
            "the passphrase was handed over incompletely".into(),
        ));
    }
    Ok(())
}

/// Takes the one datagram [`send`] queued on `socket`, without waiting: the
/// passphrase and the descriptor that came with it.
fn receive(socket: BorrowedFd<'_>) -> Result<(Secret, Option<OwnedFd>)> {
    let mut buffer = Zeroizing::new(vec![0u8; MAX_LEN + 1]);
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let message = rustix::net::recvmsg(
        socket,
        &mut [IoSliceMut::new(&mut buffer)],
        &mut control,
        RecvFlags::DONTWAIT | RecvFlags::CMSG_CLOEXEC,
    )
    .map_err(|e| handover_io("cannot receive the passphrase from", SOCKET, e))?;
    let mut fds = Vec::new();
    for ancillary in control.drain() {
        if let RecvAncillaryMessage::ScmRights(received) = ancillary {
            fds.extend(received);
        }
    }
    if message.bytes == 0 || message.bytes > MAX_LEN || fds.len() > 1 {
        return Err(Error::InvalidInput(
            "the passphrase hand-over on stdin is malformed".into(),
        ));
    }
    buffer.truncate(message.bytes);
    let text = std::str::from_utf8(&buffer)
        .map_err(|_| Error::InvalidInput("TOKENTRAY_PASSPHRASE is not valid UTF-8".into()))?;
    Ok((Secret::new(text), fds.pop()))
}

/// What the errors name: the socket, and the hand-over as a whole.
const SOCKET: &str = "the passphrase hand-over socket";
const HANDOVER: &str = "the passphrase hand-over";

fn handover_io(action: &'static str, what: &str, error: rustix::io::Errno) -> Error {
    Error::io(action, what, error.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn pair() -> (OwnedFd, OwnedFd) {
        rustix::net::socketpair(
            AddressFamily::UNIX,
            SocketType::DGRAM,
            SocketFlags::CLOEXEC,
            None,
        )
        .unwrap()
    }

    #[test]
    fn the_passphrase_and_stdin_arrive_together_and_nothing_is_left_queued() {
        let (ours, theirs) = pair();
        let (fake_stdin, mut writer) = std::io::pipe().unwrap();
        writer.write_all(b"what the user piped").unwrap();
        drop(writer);
        send(
            &ours,
            &Secret::new("correct horse"),
            Some(fake_stdin.as_fd()),
        )
        .unwrap();
        // the sender's copy may go: the datagram holds its own reference
        drop(fake_stdin);
        drop(ours);

        let (passphrase, stdin) = receive(theirs.as_fd()).unwrap();
        assert_eq!(passphrase.expose(), "correct horse");
        let mut piped = String::new();
        std::fs::File::from(stdin.unwrap())
            .read_to_string(&mut piped)
            .unwrap();
        assert_eq!(piped, "what the user piped");
        // read once: a second receive finds nothing and does not wait
        assert!(receive(theirs.as_fd()).is_err());
    }

    #[test]
    fn a_closed_stdin_is_handed_over_as_none() {
        let (ours, theirs) = pair();
        send(&ours, &Secret::new("p"), None).unwrap();
        let (passphrase, stdin) = receive(theirs.as_fd()).unwrap();
        assert_eq!(passphrase.expose(), "p");
        assert!(stdin.is_none());
    }

    #[test]
    fn a_stdin_that_is_no_hand_over_socket_is_an_error_not_a_wait() {
        let (reader, _writer) = std::io::pipe().unwrap();
        let error = receive(reader.as_fd()).unwrap_err();
        assert!(error.to_string().contains("hand"), "{error}");
        let (_ours, theirs) = pair();
        // an empty socket: nothing queued, so no hang
        assert!(receive(theirs.as_fd()).is_err());
    }

    #[test]
    fn an_oversized_passphrase_is_refused_before_anything_is_sent() {
        let (ours, theirs) = pair();
        let error = send(&ours, &Secret::new("x".repeat(MAX_LEN + 1)), None).unwrap_err();
        assert!(error.to_string().contains("longer"), "{error}");
        assert!(receive(theirs.as_fd()).is_err());
    }
}
