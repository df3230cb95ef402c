//! `tokentray ssh SSH_ARGS…`: OpenSSH's `ssh` with the agent forwarded, so
//! that `tokentray token` on the remote machine is served by the agent
//! here. It checks that an agent answers, then becomes
//! `ssh -R REMOTE:LOCAL SSH_ARGS…` (`exec`: signals, the terminal and the
//! exit code are ssh's own):
//!
//! - LOCAL is the agent's socket as a client here finds it
//!   ([`tokentray_core::ipc::endpoint::from_env`]; inside an SSH session
//!   that may itself be a forwarded one, so forwarding hops on);
//! - REMOTE is a fresh `/tmp/tokentray-ssh-<random>.sock`
//!   ([`tokentray_core::ipc::path::new_forward_path`]), which the remote
//!   CLI finds by itself (the rule is in `ipc::endpoint`). A fresh name per
//!   connection, because sshd leaves the file behind after the session and
//!   only binds over it when its own `StreamLocalBindUnlink` is on (the
//!   client's `-o StreamLocalBindUnlink=yes` applies to `-L` only, so it is
//!   not passed). sshd creates it `0600` (`StreamLocalBindMask` 0177 by
//!   default).
//!
//! No `ExitOnForwardFailure`: ssh takes the first value given for an
//! option, so the user's own `-o ExitOnForwardFailure=yes` still decides;
//! without it a server that refuses the forward prints ssh's warning and
//! the session goes on. The agent sees each forwarded request come from
//! this `ssh` process and names its destination
//! ([`tokentray_core::caller::Caller::forwarded`]).

use crate::cli::SshArgs;
use crate::output::Failure;
use std::process::ExitCode;

#[cfg(unix)]
pub fn run(args: &SshArgs) -> Result<ExitCode, Failure> {
    unix::run(args)
}

#[cfg(not(unix))]
pub fn run(_args: &SshArgs) -> Result<ExitCode, Failure> {
    Err(tokentray_core::Error::InvalidInput(
        "`tokentray ssh` forwards the agent's Unix socket with OpenSSH's `-R`, and the agent here listens on a named pipe, which ssh cannot forward; run `tokentray ssh` from a Unix machine (macOS, Linux, WSL with its own agent)".into(),
    )
    .into())
}

#[cfg(unix)]
mod unix {
    use super::*;
    use crate::exit;
    use std::os::unix::process::CommandExt;
    use std::path::Path;
    use std::time::Duration;
    use tokentray_core::ipc::client::Client;
    use tokentray_core::ipc::{endpoint, path};
    use tokentray_core::Error;

    /// How long the agent may take to answer the ping.
    const PING_TIMEOUT: Duration = Duration::from_secs(5);

    pub(super) fn run(args: &SshArgs) -> Result<ExitCode, Failure> {
        let local = endpoint::from_env()?;
        if Client::new(&local).timeout(PING_TIMEOUT).ping()?.is_none() {
            eprintln!(
                "error: no Tokentray agent runs here (nothing answers on {}): start the tray app or `tokentray agent`, then `tokentray ssh` again",
                local.display()
            );
            return Ok(ExitCode::from(exit::FAILURE));
        }
        let remote = path::new_forward_path();
        let spec = forward_spec(&remote, &local)?;
        tracing::info!(remote = %remote.display(), local = %local.display(), "tokentray ssh: forwarding the agent");
        let mut command = tokentray_core::hardening::child_command("ssh");
        command.arg("-R").arg(spec).args(&args.args);
        let error = command.exec();
        eprintln!("error: cannot run ssh: {error}");
        Ok(ExitCode::from(
            if matches!(error.kind(), std::io::ErrorKind::NotFound) {
                127
            } else {
                126
            },
        ))
    }

    /// `REMOTE:LOCAL` for `ssh -R`. ssh splits the spec at `:`, expands
    /// `%` tokens and `${VAR}` in it: a `%` is doubled, a path with `:` or
    /// `${` is refused, naming the fix.
    pub(super) fn forward_spec(remote: &Path, local: &Path) -> Result<String, Error> {
        let part = |path: &Path| {
            let text = path
                .to_str()
                .filter(|t| !t.contains(':') && !t.contains("${"));
            text.map(|t| t.replace('%', "%%")).ok_or_else(|| {
                Error::InvalidInput(format!(
                    "ssh cannot forward the socket {}: its path has a `:`, a `${{` or is not UTF-8; set {} to a plain path and start the agent with it",
                    path.display(),
                    path::SOCKET_ENV
                ))
            })
        };
        Ok(format!("{}:{}", part(remote)?, part(local)?))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_forward_spec_survives_ssh_expansion() {
            assert_eq!(
                forward_spec(
                    Path::new("/tmp/tokentray-ssh-ab.sock"),
                    Path::new("/run/user/1000/tokentray/agent.sock")
                )
                .unwrap(),
                "/tmp/tokentray-ssh-ab.sock:/run/user/1000/tokentray/agent.sock"
            );
            assert_eq!(
                forward_spec(
                    Path::new("/tmp/r.sock"),
                    Path::new("/home/a/100%/agent.sock")
                )
                .unwrap(),
                "/tmp/r.sock:/home/a/100%%/agent.sock"
            );
            for bad in ["/home/a:b/agent.sock", "/home/${USER}/agent.sock"] {
                let error = forward_spec(Path::new("/tmp/r.sock"), Path::new(bad)).unwrap_err();
                assert!(error.to_string().contains("TOKENTRAY_SOCKET"), "{error}");
            }
        }
    }
}
