//! Where the agent listens, on every platform: a Unix socket path
//! ([`super::path`]) or a Windows named pipe, `\\.\pipe\tokentray-<SID>`.
//! `$TOKENTRAY_SOCKET` overrides either (on Windows it must name a pipe).
//! An agent serves [`own`]; a client looks for an agent with [`from_env`],
//! which on Unix also finds one forwarded over SSH.
//!
//! ## Finding an agent forwarded over SSH (Unix)
//!
//! `tokentray ssh HOST` runs `ssh -R REMOTE:LOCAL HOST`, so the remote
//! sshd listens on a socket whose connections reach this machine's agent.
//! The CLI on the remote side must find that socket with no flag and no
//! variable set by hand. What was weighed:
//!
//! - *A variable in the remote session* (`TOKENTRAY_SOCKET=…`): ssh sends
//!   one only where the server's `AcceptEnv` lets it in (a change to
//!   sshd_config), and a variable goes stale in a tmux or screen that
//!   outlives the session it came from.
//! - *One fixed path*: the local side knows neither the remote uid (for
//!   `/run/user/UID`) nor the home (sshd binds a relative path relative to
//!   `/`, not the home, and expands no `~`). And sshd leaves the socket
//!   file behind when the session ends and refuses to bind over it unless
//!   its own `StreamLocalBindUnlink` is on (the client's option of that
//!   name only applies to `-L`): a fixed name works once per host.
//!
//! So each connection gets a fresh name in `/tmp`
//! ([`super::path::new_forward_path`]: `/tmp/tokentray-ssh-<128 random
//! bits>.sock`; `/tmp` is everywhere and sticky, and a random name cannot
//! be taken first), and a client finds it by this rule:
//!
//! 1. `$TOKENTRAY_SOCKET` when set;
//! 2. outside an SSH session (no `$SSH_CONNECTION`, which sshd sets in
//!    every session): the usual socket, with no probe and no scan, so the
//!    desktop's path costs nothing more;
//! 3. inside one: the usual socket when an agent answers there (an agent
//!    of the remote machine's own wins); else the newest
//!    `/tmp/tokentray-ssh-*.sock` that is a socket, ours, `0600` (sshd's
//!    default `StreamLocalBindMask`), and answers; dead ones older than a
//!    minute are removed on the way; else the usual socket (so "no agent"
//!    and the direct fallback are as before).
//!
//! The newest live forward serves: after a reconnect, a shell in a tmux
//! of the old session finds the new one. Two desktops forwarding to one
//! user at once: the newest wins; `TOKENTRAY_SOCKET` picks another. The
//! client still checks the listener's uid before sending (S26): the sshd
//! session process runs as us. Whoever is root on the remote machine can
//! use a forwarded socket, as with ssh-agent forwarding.
//!
//! The Windows rules are plain functions here — the pipe's name from the
//! user's SID, the security descriptor that lets only that user open it,
//! the decision on a peer's owner — so they are tested on every platform;
//! the calls into Windows that feed them live in `win32`.

use crate::error::{Error, Result};
use std::path::PathBuf;

/// Environment variable that overrides the agent's endpoint.
pub const ENDPOINT_ENV: &str = "TOKENTRAY_SOCKET";

/// The prefix of every local named pipe.
pub const PIPE_PREFIX: &str = r"\\.\pipe\";

/// Where a client finds the agent, from the environment: the socket path
/// on Unix (in an SSH session possibly one forwarded by `tokentray ssh`:
/// the rule is in this module's documentation), the pipe name on Windows.
pub fn from_env() -> Result<PathBuf> {
    #[cfg(unix)]
    {
        super::path::discover()
    }
    #[cfg(windows)]
    {
        own()
    }
}

/// The endpoint an agent of this user serves, from the environment
/// (`$TOKENTRAY_SOCKET`, else the runtime directory's socket or the
/// user's pipe): never a forwarded one.
pub fn own() -> Result<PathBuf> {
    #[cfg(unix)]
    {
        super::path::socket_path()
    }
    #[cfg(windows)]
    {
        let sid = crate::win32::current_user_sid()
            .map_err(|e| Error::io("cannot read the user's SID for", "the agent pipe", e))?;
        pipe_from(std::env::var(ENDPOINT_ENV).ok(), &sid).map(PathBuf::from)
    }
}

/// The pipe's name: `$TOKENTRAY_SOCKET` when set (it must be a local pipe,
/// `\\.\pipe\NAME`), else `\\.\pipe\tokentray-<SID>`, one per user, so two
/// users of one machine never meet.
pub fn pipe_from(overridden: Option<String>, sid: &str) -> Result<String> {
    if let Some(name) = overridden.filter(|n| !n.is_empty()) {
        let rest = name.strip_prefix(PIPE_PREFIX).unwrap_or_default();
        if rest.is_empty() || rest.contains('\\') || name.len() > 256 {
            return Err(Error::InvalidInput(format!(
                r"{ENDPOINT_ENV}={name} is not a local pipe name (`\\.\pipe\NAME`, at most 256 characters)"
            )));
        }
        return Ok(name);
    }
    checked_sid(sid)?;
    Ok(format!("{PIPE_PREFIX}tokentray-{sid}"))
}

/// The pipe's security descriptor in SDDL: a protected DACL (nothing
/// inherited) with one entry, full access for the user's SID. No
/// `Everyone`, no `Authenticated Users`, no administrators.
pub fn pipe_security(sid: &str) -> Result<String> {
    checked_sid(sid)?;
    Ok(format!("D:P(A;;GA;;;{sid})"))
}

/// A SID in its string form (`S-1-5-21-…`): anything else is refused, so
/// nothing odd reaches a pipe name or a security descriptor.
fn checked_sid(sid: &str) -> Result<&str> {
    let mut parts = sid.split('-');
    let well_formed = parts.next() == Some("S")
        && parts.clone().count() >= 2
        && parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if well_formed {
        Ok(sid)
    } else {
        Err(Error::internal(format!(
            "Windows named the user by {sid:?}, which is not a SID"
        )))
    }
}

/// Who the other end of a connection runs as, against who we are: the
/// peer checks in both directions (S26). `theirs` is an error when the OS
/// would not tell; that refuses too (fail closed). `Err` carries the
/// reason to log or show.
pub fn check_owner(
    role: &str,
    ours: &str,
    theirs: std::io::Result<String>,
) -> std::result::Result<(), String> {
    match theirs {
        Ok(theirs) if theirs == ours => Ok(()),
        Ok(theirs) => Err(format!(
            "the {role} runs as {theirs}, not as us ({ours}); someone may be impersonating it"
        )),
        Err(error) => Err(format!("cannot tell who the {role} runs as: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SID: &str = "S-1-5-21-1004336348-1177238915-682003330-1000";

    // S25: one endpoint per user
    #[test]
    fn the_pipe_is_named_after_the_users_sid() {
        assert_eq!(
            pipe_from(None, SID).unwrap(),
            r"\\.\pipe\tokentray-S-1-5-21-1004336348-1177238915-682003330-1000"
        );
        assert_eq!(
            pipe_from(Some(String::new()), SID).unwrap(),
            pipe_from(None, SID).unwrap()
        );
    }

    #[test]
    fn an_override_must_be_a_local_pipe() {
        assert_eq!(
            pipe_from(Some(r"\\.\pipe\tt-test".into()), SID).unwrap(),
            r"\\.\pipe\tt-test"
        );
        for bad in [
            r"C:\tmp\agent.sock",
            r"\\server\pipe\tokentray",
            r"\\.\pipe\",
            r"\\.\pipe\a\b",
            "tokentray",
        ] {
            assert!(pipe_from(Some(bad.into()), SID).is_err(), "{bad} was taken");
        }
        let long = format!(r"\\.\pipe\{}", "x".repeat(250));
        assert!(pipe_from(Some(long), SID).is_err());
    }

    // S26: only the user may open the pipe
    #[test]
    fn the_descriptor_grants_the_user_alone_and_inherits_nothing() {
        assert_eq!(pipe_security(SID).unwrap(), format!("D:P(A;;GA;;;{SID})"));
        assert_eq!(pipe_security("S-1-5-18").unwrap(), "D:P(A;;GA;;;S-1-5-18)");
    }

    #[test]
    fn what_is_not_a_sid_reaches_no_name_or_descriptor() {
        for bad in [
            "",
            "S-1",
            "S-1-5-)(A;;GA;;;WD",
            "WD",
            "S-1-5-21-x",
            "s-1-5-18",
            "S-1--5",
        ] {
            assert!(pipe_security(bad).is_err(), "{bad:?} was taken");
            assert!(pipe_from(None, bad).is_err(), "{bad:?} was taken");
        }
    }

    // S26: peer checks
    #[test]
    fn only_the_same_sid_passes_and_an_unknown_owner_is_refused() {
        assert!(check_owner("agent", SID, Ok(SID.into())).is_ok());
        let other = check_owner("agent", SID, Ok("S-1-5-21-1-2-3-1001".into())).unwrap_err();
        assert!(
            other.contains("S-1-5-21-1-2-3-1001") && other.contains("impersonating"),
            "{other}"
        );
        let system = check_owner("client", SID, Ok("S-1-5-18".into())).unwrap_err();
        assert!(system.contains("S-1-5-18"), "{system}");
        let unknown = check_owner(
            "agent",
            SID,
            Err(std::io::Error::from(std::io::ErrorKind::PermissionDenied)),
        )
        .unwrap_err();
        assert!(unknown.contains("cannot tell"), "{unknown}");
    }
}
