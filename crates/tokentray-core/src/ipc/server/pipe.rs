//! The agent's Windows named pipe: [`claim`] creates the first instance
//! (`FILE_FLAG_FIRST_PIPE_INSTANCE`, so a process that took the name
//! first makes the agent fail loudly, naming a live agent by its pid), with
//! a security descriptor that lets only our SID open it and remote clients
//! refused; the listener keeps one instance waiting and checks each
//! client's process owner before the server sees the connection.

use super::{live_owner, Accepted, Connection, Listener};
use crate::error::{Error, Result};
use crate::ipc::endpoint::{check_owner, pipe_security};
use crate::win32::{
    create_pipe_instance, current_user_sid, pipe_client_pid, process_user_sid, PipeSecurity,
};
use std::os::windows::io::AsRawHandle;
use std::path::{Path, PathBuf};
use tokio::net::windows::named_pipe::NamedPipeServer;

impl Connection for NamedPipeServer {
    fn try_write_now(&self, bytes: &[u8]) -> std::io::Result<usize> {
        self.try_write(bytes)
    }
}

/// The agent's pipe, claimed: the instance waiting for the next client.
pub struct PipeListener {
    name: PathBuf,
    sid: String,
    security: PipeSecurity,
    next: NamedPipeServer,
}

/// Creates the agent pipe `name` for this process. Must be called within
/// a Tokio runtime; it may block for up to a second while it asks an
/// agent that has the name who it is.
pub fn claim(name: &Path) -> Result<PipeListener> {
    // An agent that answers is named first. (FILE_FLAG_FIRST_PIPE_INSTANCE
    // is what stops any other process that holds the name, agent or not;
    // Wine 8 does not enforce it, so under Wine this is the check.)
    if let Some(error) = live_owner(name) {
        return Err(error);
    }
    let sid = current_user_sid().map_err(|e| Error::io("cannot read our SID for", name, e))?;
    let security = PipeSecurity::from_sddl(&pipe_security(&sid)?)
        .map_err(|e| Error::io("cannot build the security descriptor of", name, e))?;
    let next = create_pipe_instance(name, &security, true).map_err(|e| {
        if e.kind() == std::io::ErrorKind::PermissionDenied {
            live_owner(name).unwrap_or_else(|| Error::AlreadyExists {
                what: format!(
                    "another process (not answering as a Tokentray agent) owning the pipe {}",
                    name.display()
                ),
            })
        } else {
            Error::io("cannot create the agent pipe", name, e)
        }
    })?;
    Ok(PipeListener {
        name: name.to_path_buf(),
        sid,
        security,
        next,
    })
}

impl Listener for PipeListener {
    type Conn = NamedPipeServer;

    async fn accept(&mut self) -> std::io::Result<Accepted<NamedPipeServer>> {
        let connected = self.next.connect().await;
        // A fresh instance waits for the next client before this one is
        // served, so clients find the pipe at all times.
        let fresh = create_pipe_instance(&self.name, &self.security, false)?;
        let served = std::mem::replace(&mut self.next, fresh);
        // A client that left before it was connected: its instance goes.
        connected?;
        let pid = pipe_client_pid(served.as_raw_handle());
        let theirs = match &pid {
            Ok(pid) => process_user_sid(*pid),
            Err(e) => Err(std::io::Error::new(e.kind(), e.to_string())),
        };
        Ok(match check_owner("client", &self.sid, theirs) {
            Ok(()) => Accepted::Peer(served, pid.ok()),
            Err(reason) => {
                tracing::warn!(%reason, "agent pipe: refused a connection (S26)");
                Accepted::Refused
            }
        })
    }
}
